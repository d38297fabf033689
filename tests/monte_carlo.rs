//! Monte Carlo means against the exact expectation, within 5 standard errors,
//! on scenarios that exercise every feature of the engine. Fixed seeds.

mod common;

use sibsim::model::expected::Expected;
use sibsim::sim::engine::Engine;
use sibsim::sim::parallel::RunOptions;
use sibsim::stats::Summary;

/// A scenario with two waves (the second entering later), bands by cycles
/// and by ages, ageing out inside the horizon, waning effects, programme
/// costs borne by the payer, and one metric of every kind.
fn rich(counting: &str, cycle_years: f64, horizon: usize, intervention: &str) -> String {
    format!(
        r#"name = "rich"
[time]
cycle_years = {cycle_years}
horizon = {horizon}
[[states]]
name = "home"
[[states]]
name = "open"
cost = 5000.0
[[states]]
name = "foster"
cost = 43000.0
[[states]]
name = "inst"
cost = 128000.0
[[states]]
name = "out"
absorbing = true
[cohort]
exit_age = 18
exit_state = "out"
[[cohort.waves]]
cycle = 0
children = 120
age = 14
initial = {{ home = 0.7, open = 0.3 }}
[[cohort.waves]]
cycle = 2
children = 80
age = 15.5
initial = {{ home = 0.5, open = 0.3, foster = 0.2 }}
[baseline]
matrix = [
  [0.85, 0.10, 0.03, 0.02, 0.0],
  [0.20, 0.60, 0.12, 0.08, 0.0],
  [0.05, 0.05, 0.80, 0.10, 0.0],
  [0.05, 0.05, 0.20, 0.70, 0.0],
  [0.0,  0.0,  0.0,  0.0,  1.0],
]
[[baseline.bands]]
cycles = [0, 3]
matrix = [
  [0.70, 0.20, 0.05, 0.05, 0.0],
  [0.10, 0.60, 0.20, 0.10, 0.0],
  [0.05, 0.05, 0.80, 0.10, 0.0],
  [0.05, 0.05, 0.20, 0.70, 0.0],
  [0.0,  0.0,  0.0,  0.0,  1.0],
]
[[baseline.bands]]
ages = [16, 18]
counts = [
  [40, 5, 3, 2, 0],
  [10, 30, 5, 5, 0],
  [2, 3, 40, 5, 0],
  [3, 2, 5, 40, 0],
  [0, 0, 0, 0, 0],
]
prior = 0.5
{intervention}
[counting]
occupancy = "{counting}"
[discounting]
payer_rate = 0.04
payer_outcomes_rate = 0.02
[[metrics]]
name = "placement_years"
kind = "state_cycles"
states = ["foster", "inst"]
[[metrics]]
name = "open_years_undiscounted"
kind = "state_cycles"
states = ["open"]
discounted = false
window = [1, {horizon}]
[[metrics]]
name = "placements"
kind = "entries"
states = ["foster", "inst"]
window = [1, {horizon}]
[[metrics]]
name = "cost"
kind = "cost"
[[metrics]]
name = "placed_at_3"
kind = "occupancy_at"
states = ["foster", "inst"]
at = 3
"#
    )
}

const EFFECTS: &str = r#"[intervention]
duration = 3
cost_per_child_cycle = 2000.0
fixed_cost_per_cycle = 10000.0
payer = "payer"
[[intervention.effects]]
relative_risk = 0.5
targets = ["foster", "inst"]
from = ["home", "open"]
waning_cycles = 3
[[intervention.effects]]
relative_risk = 0.8
targets = ["open"]
waning_cycles = 1
"#;

const FULL_MATRIX: &str = r#"[intervention]
duration = 4
cost_per_child_cycle = 1500.0
payer = "payer"
matrix = [
  [0.92, 0.05, 0.02, 0.01, 0.0],
  [0.30, 0.60, 0.06, 0.04, 0.0],
  [0.10, 0.05, 0.80, 0.05, 0.0],
  [0.05, 0.05, 0.30, 0.60, 0.0],
  [0.0,  0.0,  0.0,  0.0,  1.0],
]
[[intervention.bands]]
ages = [17, 18]
counts = [[9, 1, 0, 0, 0], [3, 7, 0, 0, 0], [1, 0, 8, 1, 0], [0, 1, 2, 7, 0], [0, 0, 0, 0, 0]]
prior = 0.0
"#;

fn check(text: &str, replications: u64, seed: u64) {
    let scenario = sibsim::scenario::parse(text, "rich.toml").expect("valid scenario");
    let engine = Engine::new(scenario);
    let exact: Expected = engine.expected();
    let results = engine.run(&RunOptions::new(seed, replications)).expect("runs");
    let mut checked = 0;
    for (name, want) in exact.named() {
        let s = Summary::of(results.column(&name).expect("column")).expect("values");
        common::within_five_se(&name, s.mean, s.se, want);
        checked += 1;
    }
    assert_eq!(checked, 2 * engine.scenario.metrics.len() + 2);
}

#[test]
fn annual_start_counting_with_effects() {
    check(&rich("start", 1.0, 6, EFFECTS), 2000, 11);
}

#[test]
fn annual_end_counting_with_effects() {
    check(&rich("end", 1.0, 6, EFFECTS), 2000, 12);
}

#[test]
fn annual_half_cycle_counting_with_effects() {
    check(&rich("half_cycle", 1.0, 6, EFFECTS), 2000, 13);
}

#[test]
fn quarterly_cycles_age_out_inside_the_horizon() {
    check(&rich("half_cycle", 0.25, 20, EFFECTS), 1000, 14);
}

#[test]
fn full_matrix_intervention_with_bands_and_counts() {
    check(&rich("end", 1.0, 6, FULL_MATRIX), 2000, 15);
}

/// The exact expectation is the limit of the Monte Carlo: with many more
/// replications the standard error shrinks and the mean stays within 5 SE.
#[test]
fn standard_error_shrinks_with_replications() {
    let text = rich("start", 1.0, 6, EFFECTS);
    let engine = Engine::new(sibsim::scenario::parse(&text, "rich.toml").expect("valid"));
    let se = |r: u64| {
        let results = engine.run(&RunOptions::new(5, r)).expect("runs");
        Summary::of(results.column("payer.true_savings").expect("column"))
            .expect("values")
            .se
    };
    let ratio = se(400) / se(6400);
    assert!((ratio - 4.0).abs() < 0.6, "se ratio {ratio}, expected about √16 = 4");
}

/// Common random numbers: with RR = 1 the arms are the same children with
/// the same draws, so the true impact is exactly zero in every replication.
#[test]
fn no_effect_means_zero_impact_in_every_replication() {
    let text = rich("start", 1.0, 6, EFFECTS)
        .replace("relative_risk = 0.5", "relative_risk = 1.0")
        .replace("relative_risk = 0.8", "relative_risk = 1.0")
        .replace("payer = \"payer\"", "payer = \"fund\"");
    let engine = Engine::new(sibsim::scenario::parse(&text, "rich.toml").expect("valid"));
    let results = engine.run(&RunOptions::new(3, 200)).expect("runs");
    for name in [
        "true.placement_years.impact",
        "true.placements.impact",
        "payer.true_savings",
    ] {
        assert!(
            results.column(name).expect("column").iter().all(|&v| v == 0.0),
            "{name}"
        );
    }
}
