//! The exact expectation against published reference values.

mod common;

use sibsim::model::expected::expected;

fn relative_error(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs()
}

/// Briggs, Claxton & Sculpher (2006) ex. 2.5 (Chancellor 1997): published
/// per-patient costs and life years, rounded to the digits published.
#[test]
fn hiv_model_reproduces_published_table() {
    let scenario = sibsim::scenario::load(&common::bundled("hiv-chancellor.toml")).expect("loads");
    let e = expected(&scenario);
    let value = |name: &str, arm: usize| e.metrics.iter().find(|(n, _)| n == name).expect("metric").1[arm];
    // Published figures carry 2 (cost) and 4 (life years) decimals, so the
    // comparison is to 1e-6 relative after rounding to those digits.
    let round = |x: f64, digits: i32| (x * 10f64.powi(digits)).round() / 10f64.powi(digits);
    assert!(relative_error(round(value("cost", 0), 2), 44_663.45) < 1e-6);
    assert!(relative_error(round(value("cost", 1), 2), 50_601.65) < 1e-6);
    assert!(relative_error(round(value("life_years", 0), 4), 7.9912) < 1e-6);
    assert!(relative_error(round(value("life_years", 1), 4), 8.9374) < 1e-6);
    // Unrounded, too: the published figures are within half a unit of the last digit.
    assert!((value("cost", 0) - 44_663.45).abs() < 0.005);
    assert!((value("life_years", 1) - 8.9374).abs() < 0.00005);
    // ICER 6,275.96 per life year gained.
    let icer = (value("cost", 1) - value("cost", 0)) / (value("life_years", 1) - value("life_years", 0));
    assert!((icer - 6_275.96).abs() < 0.01, "ICER {icer}");
}

#[test]
fn expected_command_prints_the_table_as_json() {
    let out = common::sibsim()
        .args(["expected"])
        .arg(common::bundled("hiv-chancellor.toml"))
        .output()
        .expect("runs");
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let e = &json["expected"];
    assert!((e["arm.baseline.cost"].as_f64().expect("number") - 44_663.45).abs() < 0.005);
    assert!((e["arm.intervention.cost"].as_f64().expect("number") - 50_601.65).abs() < 0.005);
    assert!((e["arm.baseline.life_years"].as_f64().expect("number") - 7.9912).abs() < 0.00005);
    assert!((e["arm.intervention.life_years"].as_f64().expect("number") - 8.9374).abs() < 0.00005);
    // True savings are the difference of state costs (model.md §9); the
    // lamivudine the payer buys is its programme cost. Together they give
    // the published cost difference of −5,938.20.
    let savings = e["payer.true_savings"].as_f64().expect("number");
    let programme = e["payer.programme_costs"].as_f64().expect("number");
    assert!(programme > 0.0);
    assert!((savings - programme + 5_938.20).abs() < 0.01, "{savings} − {programme}");
}

/// A two-state chain with a closed form: p(care at t) for a child starting at
/// home with moves a (home→care) and b (care→home) is
/// π + (0 − π)(1 − a − b)^t with π = a / (a + b).
#[test]
fn two_state_chain_matches_closed_form() {
    let text = common::BASE
        .replace("exit_age = 18\nexit_state = \"out\"\n", "")
        .replace("initial = { home = 0.9, care = 0.1 }", "initial = { home = 1.0 }")
        .replace("[0.9, 0.1, 0.0]", "[0.8, 0.2, 0.0]");
    let scenario = sibsim::scenario::parse(&text, "chain.toml").expect("valid");
    let e = expected(&scenario);
    let (a, b) = (0.2f64, 0.3f64);
    let pi = a / (a + b);
    let want: f64 = (0..6).map(|t| pi - pi * (1.0 - a - b).powi(t)).sum::<f64>() * 20.0;
    assert!(
        (e.metrics[0].1[0] - want).abs() < 1e-9,
        "{} vs {want}",
        e.metrics[0].1[0]
    );
}
