//! The aggregate path (multinomial draws of the counts in each joint
//! baseline/intervention state) against the exact expectation and against
//! the per-child path, by the same 5-SE tests, with fixed seeds.

mod common;

use sibsim::model::expected::Expected;
use sibsim::sim::engine::Engine;
use sibsim::sim::parallel::RunOptions;
use sibsim::sim::record::RunResults;
use sibsim::stats::Summary;

/// Two waves (one entering later), age bands, ageing out inside the horizon,
/// waning effects and one metric of each kind the aggregate path supports.
fn scenario(sampler: &str, children: u64, relative_risk: f64) -> String {
    format!(
        r#"name = "aggregate"
[time]
cycle_years = 1.0
horizon = 8
[run]
sampler = "{sampler}"
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
children = {children}
age = 12
initial = {{ home = 0.7, open = 0.3 }}
[[cohort.waves]]
cycle = 2
children = {half}
age = 13.5
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
ages = [15, 18]
matrix = [
  [0.80, 0.10, 0.05, 0.05, 0.0],
  [0.15, 0.55, 0.15, 0.15, 0.0],
  [0.05, 0.05, 0.75, 0.15, 0.0],
  [0.05, 0.05, 0.10, 0.80, 0.0],
  [0.0,  0.0,  0.0,  0.0,  1.0],
]
[intervention]
duration = 3
cost_per_child_cycle = 2000.0
payer = "payer"
[[intervention.effects]]
relative_risk = {relative_risk}
targets = ["foster", "inst"]
from = ["home", "open"]
waning_cycles = 2
[[intervention.effects]]
relative_risk = {relative_risk}
targets = ["open"]
waning_cycles = 1
[discounting]
payer_rate = 0.04
[[metrics]]
name = "placement_years"
kind = "state_cycles"
states = ["foster", "inst"]
[[metrics]]
name = "cost"
kind = "cost"
[[metrics]]
name = "placed_at_5"
kind = "occupancy_at"
states = ["foster", "inst"]
at = 5
"#,
        half = children / 2
    )
}

fn engine(text: &str) -> Engine {
    Engine::new(sibsim::scenario::parse(text, "aggregate.toml").expect("valid scenario"))
}

fn summary(results: &RunResults, name: &str) -> Summary {
    Summary::of(results.column(name).expect("column")).expect("values")
}

/// Every arm metric, every true impact, and the payer's savings.
fn compared_names(engine: &Engine) -> Vec<String> {
    let mut names: Vec<String> = engine.expected().named().into_iter().map(|(n, _)| n).collect();
    for m in &engine.scenario.metrics {
        names.push(format!("true.{}.impact", m.name));
    }
    names
}

#[test]
fn aggregate_means_match_the_exact_expectation() {
    let engine = engine(&scenario("aggregate", 3000, 0.5));
    assert!(engine.aggregate);
    let exact: Expected = engine.expected();
    let results = engine.run(&RunOptions::new(21, 2000)).expect("runs");
    for (name, want) in exact.named() {
        let s = summary(&results, &name);
        common::within_five_se(&name, s.mean, s.se, want);
    }
}

/// Same distribution as one draw per child: the means agree and so do the
/// spreads — the spread of the true impact (the difference of the arms)
/// depends on how the arms are coupled, so it checks the common random
/// numbers too.
#[test]
fn aggregate_and_per_child_agree_in_mean_and_spread() {
    let replications = 3000;
    let aggregate = engine(&scenario("aggregate", 400, 0.5));
    let per_child = engine(&scenario("per_child", 400, 0.5));
    assert!(aggregate.aggregate && !per_child.aggregate);
    let a = aggregate.run(&RunOptions::new(31, replications)).expect("runs");
    let p = per_child.run(&RunOptions::new(32, replications)).expect("runs");
    let n = replications as f64;
    for name in compared_names(&aggregate) {
        let (sa, sp) = (summary(&a, &name), summary(&p, &name));
        let se = (sa.se * sa.se + sp.se * sp.se).sqrt();
        assert!(
            (sa.mean - sp.mean).abs() <= 5.0 * se + 1e-9,
            "{name}: aggregate mean {} vs per-child {} ({} SE apart)",
            sa.mean,
            sp.mean,
            (sa.mean - sp.mean).abs() / se
        );
        // Standard error of a standard deviation, near-normal values: sd / √(2(n − 1)).
        let se_sd = ((sa.sd * sa.sd + sp.sd * sp.sd) / (2.0 * (n - 1.0))).sqrt();
        assert!(
            (sa.sd - sp.sd).abs() <= 5.0 * se_sd + 1e-9,
            "{name}: aggregate sd {} vs per-child sd {} ({} SE apart)",
            sa.sd,
            sp.sd,
            (sa.sd - sp.sd).abs() / se_sd
        );
    }
}

/// With no effect both arms are the same children with the same draws: the
/// joint counts never leave the diagonal, so the impact is exactly zero.
#[test]
fn no_effect_means_zero_impact_in_every_replication() {
    let engine = engine(&scenario("aggregate", 3000, 1.0));
    let results = engine.run(&RunOptions::new(3, 200)).expect("runs");
    // (The cost metric differs by the programme's cost, which the payer bears here.)
    for name in [
        "true.placement_years.impact",
        "true.placed_at_5.impact",
        "payer.true_savings",
    ] {
        let column = results.column(name).expect("column");
        assert!(column.iter().all(|&x| x == 0.0), "{name}: {column:?}");
    }
}

#[test]
fn aggregate_results_do_not_depend_on_threads() {
    let engine = engine(&scenario("aggregate", 3000, 0.5));
    let one = engine
        .run(&RunOptions {
            threads: Some(1),
            ..RunOptions::new(9, 300)
        })
        .expect("runs");
    let two = engine
        .run(&RunOptions {
            threads: Some(2),
            ..RunOptions::new(9, 300)
        })
        .expect("runs");
    // Bit patterns, since undefined statistics (no fund: IRR) are NaN.
    let bits = |r: &RunResults| -> Vec<Vec<u64>> {
        r.columns
            .iter()
            .map(|c| c.iter().map(|x| x.to_bits()).collect())
            .collect()
    };
    assert_eq!(bits(&one), bits(&two));
    assert_eq!(one.events, two.events);
}

#[test]
fn auto_picks_the_aggregate_path_for_large_cohorts_without_entries() {
    // 5 states: 25 joint states, so 500 children a wave is the line.
    assert!(engine(&scenario("auto", 2000, 0.5)).aggregate);
    assert!(!engine(&scenario("auto", 100, 0.5)).aggregate);
    let with_entries = scenario("auto", 2000, 0.5)
        + "[[metrics]]\nname = \"placements\"\nkind = \"entries\"\nstates = [\"foster\", \"inst\"]\n";
    assert!(!engine(&with_entries).aggregate);
}

#[test]
fn aggregate_with_an_entries_metric_is_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = scenario("aggregate", 2000, 0.5)
        + "[[metrics]]\nname = \"placements\"\nkind = \"entries\"\nstates = [\"foster\", \"inst\"]\n";
    let path = common::write(dir.path(), "s.toml", &text);
    let out = common::run_in(dir.path(), &["validate", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("run.sampler") && err.contains("entries") && err.contains(":6:"),
        "{err}"
    );
    let path = common::write(dir.path(), "t.toml", &scenario("multinomial", 2000, 0.5));
    let out = common::run_in(dir.path(), &["validate", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("per_child") && err.contains("aggregate"), "{err}");
}
