//! Control-group measurement: unbiased, with a spread that shrinks like
//! 1/√size, and able to pay for impact that never happened.

mod common;

use sibsim::sim::engine::Engine;
use sibsim::sim::parallel::RunOptions;
use sibsim::stats::Summary;

fn scenario(control_size: u64, relative_risk: f64) -> String {
    format!(
        r#"name = "control"
[time]
cycle_years = 1.0
horizon = 6
[[states]]
name = "home"
[[states]]
name = "care"
cost = 40000.0
[cohort]
[[cohort.waves]]
cycle = 0
children = 60
age = 8
initial = {{ home = 1.0 }}
[[cohort.waves]]
cycle = 1
children = 40
age = 9
initial = {{ home = 0.8, care = 0.2 }}
[baseline]
matrix = [[0.85, 0.15], [0.3, 0.7]]
[intervention]
duration = 6
[[intervention.effects]]
relative_risk = {relative_risk}
targets = ["care"]
[[metrics]]
name = "care_years"
kind = "state_cycles"
states = ["care"]
[contract]
measurement = "control_group"
control_size = {control_size}
[[contract.payments]]
metric = "care_years"
rule = "rate_card"
price = 1000.0
at = [5]
"#
    )
}

fn run(control_size: u64, relative_risk: f64, replications: u64) -> sibsim::sim::record::RunResults {
    let engine =
        Engine::new(sibsim::scenario::parse(&scenario(control_size, relative_risk), "control.toml").expect("valid"));
    engine.run(&RunOptions::new(2024, replications)).expect("runs")
}

#[test]
fn measured_impact_is_unbiased() {
    let r = run(300, 0.6, 4000);
    let measured = Summary::of(r.column("measured.care_years.impact").expect("column")).expect("values");
    let exact = Engine::new(sibsim::scenario::parse(&scenario(300, 0.6), "control.toml").expect("valid")).expected();
    let want = exact.metrics[0].1[0] - exact.metrics[0].1[1];
    common::within_five_se("measured impact", measured.mean, measured.se, want);
}

#[test]
fn control_noise_shrinks_like_one_over_root_size() {
    // The measured counterfactual = measured impact + observed treated value:
    // its spread comes from the comparison group alone.
    let spread = |size: u64| {
        let r = run(size, 0.6, 3000);
        let measured = r.column("measured.care_years.impact").expect("column");
        let observed = r.column("arm.intervention.care_years").expect("column");
        let counterfactual: Vec<f64> = measured.iter().zip(observed).map(|(m, o)| m + o).collect();
        Summary::of(&counterfactual).expect("values").sd
    };
    let ratio = spread(100) / spread(1600);
    // √(1600/100) = 4; the sd of an sd estimate from 3000 draws is ~1.3 %.
    assert!((ratio - 4.0).abs() < 0.25, "sd ratio {ratio}, expected about 4");
}

#[test]
fn a_noisy_control_group_pays_for_impact_that_did_not_happen() {
    // No effect at all (RR = 1): the true impact is 0 in every replication,
    // yet a small comparison group sometimes looks worse than the treated.
    let r = run(20, 1.0, 2000);
    assert!(r
        .column("true.care_years.impact")
        .expect("column")
        .iter()
        .all(|&v| v == 0.0));
    let paid_without = r.event("payer.paid_without_impact").expect("event");
    let p = paid_without.iter().filter(|&&x| x).count() as f64 / paid_without.len() as f64;
    assert!(p > 0.2, "paid without impact in {p} of replications");
    // And a fixed baseline equal to the truth never does.
    let fixed = scenario(20, 1.0)
        .replace(
            "measurement = \"control_group\"\ncontrol_size = 20",
            "measurement = \"fixed_baseline\"",
        )
        .replace(
            "rule = \"rate_card\"",
            "rule = \"rate_card\"\nbaseline = \"expected\"\nthreshold = 1.0",
        );
    let engine = Engine::new(sibsim::scenario::parse(&fixed, "fixed.toml").expect("valid"));
    let r = engine.run(&RunOptions::new(2024, 500)).expect("runs");
    assert!(r.event("payer.paid_without_impact").expect("event").iter().all(|&x| !x));
}
