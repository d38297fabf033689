//! Hand-computable contracts: 0/1 transition matrices make every figure known.
//!
//! Ten children start at home. Without the programme all move to care at the
//! end of cycle 0 and stay; with it they stay home for the two programme
//! cycles, then move. Cumulative care years to the end of cycle d: baseline
//! 10·d, intervention 10·max(0, d − 2). At dates [1, 2, 4]: impact 10, 20, 20;
//! relative effect 1, 1, 0.5. Care costs 1000 a year; the programme 100 per
//! child per programme cycle (1000 in cycles 0 and 1), paid by the fund.

mod common;

use sibsim::sim::engine::Engine;
use sibsim::sim::parallel::RunOptions;
use sibsim::sim::record::RunResults;

fn scenario(contract: &str, fund: &str) -> String {
    format!(
        r#"name = "hand"
[time]
cycle_years = 1.0
horizon = 5
[[states]]
name = "home"
[[states]]
name = "care"
cost = 1000.0
[cohort]
[[cohort.waves]]
children = 10
age = 5
initial = {{ home = 1.0 }}
[baseline]
matrix = [[0.0, 1.0], [0.0, 1.0]]
[intervention]
duration = 2
cost_per_child_cycle = 100.0
payer = "fund"
matrix = [[1.0, 0.0], [0.0, 1.0]]
[[metrics]]
name = "care_years"
kind = "state_cycles"
states = ["care"]
[[metrics]]
name = "cost"
kind = "cost"
{contract}
{fund}
"#
    )
}

fn run(contract: &str, fund: &str) -> RunResults {
    let text = scenario(contract, fund);
    let engine = Engine::new(sibsim::scenario::parse(&text, "hand.toml").unwrap_or_else(|e| panic!("{e}")));
    engine.run(&RunOptions::new(1, 3)).expect("runs")
}

use common::constant as value;

fn event(results: &RunResults, name: &str) -> bool {
    results.event(name).unwrap_or_else(|| panic!("no event {name}"))[0]
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

const FUND: &str = "[fund]\ncapital = 10000.0\nmanagement_fee = 0.01\ndistribute = \"at_end\"";

fn rate_card(extra: &str, contract_extra: &str) -> String {
    format!("[contract]\n{contract_extra}\n[[contract.payments]]\nmetric = \"care_years\"\nbaseline = \"expected\"\nrule = \"rate_card\"\nprice = 100.0\nat = [1, 2, 4]\n{extra}")
}

/// Payments are read back from the payer's undiscounted total (rate 0).
fn payments(results: &RunResults) -> f64 {
    value(results, "payer.payments")
}

#[test]
fn the_world_is_as_described() {
    let r = run(&rate_card("", ""), FUND);
    close(value(&r, "arm.baseline.care_years"), 40.0, "baseline care years");
    close(
        value(&r, "arm.intervention.care_years"),
        20.0,
        "intervention care years",
    );
    close(
        value(&r, "measured.care_years.impact"),
        20.0,
        "measured impact at the last date",
    );
    close(value(&r, "payer.true_savings"), 20_000.0, "true savings");
}

#[test]
fn rate_card_pays_cumulative_minus_paid() {
    // Entitlements 1000, 2000, 2000 → payments 1000, 1000, 0.
    close(payments(&run(&rate_card("", ""), FUND)), 2000.0, "rate card");
}

#[test]
fn stated_baselines_per_date() {
    let c = rate_card("", "").replace("baseline = \"expected\"", "baseline = [15.0, 25.0, 40.0]");
    // Impacts 15, 25, 20 → entitlements 1500, 2500, 2000 → paid 1500 + 1000.
    close(payments(&run(&c, FUND)), 2500.0, "stated list");
    let single = rate_card("", "")
        .replace("baseline = \"expected\"", "baseline = 50.0")
        .replace("at = [1, 2, 4]", "at = [4]");
    // One date: impact 50 − 20 = 30.
    close(payments(&run(&single, FUND)), 3000.0, "single number");
}

#[test]
fn threshold_and_clawback() {
    // Date 4's effect 0.5 is below 0.6: nothing more is due; with clawback the 2000 paid comes back.
    close(
        payments(&run(&rate_card("threshold = 0.6", ""), FUND)),
        2000.0,
        "threshold, no clawback",
    );
    close(
        payments(&run(&rate_card("threshold = 0.6", "clawback = true"), FUND)),
        0.0,
        "threshold with clawback",
    );
    close(
        payments(&run(&rate_card("threshold = 1.0", ""), FUND)),
        2000.0,
        "threshold reached exactly",
    );
}

#[test]
fn caps() {
    close(
        payments(&run(&rate_card("cap = 1500.0", ""), FUND)),
        1500.0,
        "component cap",
    );
    // 600 a date: 600, 600, 600 (what was not paid carries forward).
    close(
        payments(&run(&rate_card("cap_per_date = 600.0", ""), FUND)),
        1800.0,
        "cap per date",
    );
    close(
        payments(&run(&rate_card("", "max_total = 1200.0"), FUND)),
        1200.0,
        "total cap",
    );
    close(
        payments(&run(&rate_card("", "cap_per_date = 700.0"), FUND)),
        2000.0,
        "contract cap per date: 700, 700, 600",
    );
}

#[test]
fn savings_share_of_a_cost_metric() {
    let c = "[contract]\n[[contract.payments]]\nmetric = \"cost\"\nbaseline = \"expected\"\nrule = \"savings_share\"\nshare = 0.5\nat = [1, 2, 4]";
    // Cost impact 10000, 20000, 20000 → half: 5000, 10000, 10000 → paid 10000.
    close(payments(&run(c, FUND)), 10_000.0, "savings share");
}

#[test]
fn tiers_step_and_linear() {
    let tiers = |interpolate: &str, clawback: &str| {
        format!("[contract]\n{clawback}\n[[contract.payments]]\nmetric = \"care_years\"\nbaseline = \"expected\"\nrule = \"tiers\"\ntiers = [[0.4, 100.0], [0.8, 300.0]]\ninterpolate = \"{interpolate}\"\nat = [1, 2, 4]")
    };
    // Effects 1, 1, 0.5: step 300, 300, 100; linear 300, 300, 150.
    close(payments(&run(&tiers("step", ""), FUND)), 300.0, "step");
    close(
        payments(&run(&tiers("step", "clawback = true"), FUND)),
        100.0,
        "step with clawback",
    );
    close(
        payments(&run(&tiers("linear", "clawback = true"), FUND)),
        150.0,
        "linear with clawback",
    );
}

/// An independent NPV and bisection for checking the engine's IRR.
fn reference_irr(flows: &[(f64, f64)]) -> f64 {
    let npv = |r: f64| flows.iter().map(|&(t, f)| f / (1.0 + r).powf(t)).sum::<f64>();
    let (mut lo, mut hi) = (-0.99, 10.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if (npv(mid) > 0.0) == (npv(lo) > 0.0) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn fund_at_end_with_fees() {
    // Calls: 1100 at t=0 and t=1 (programme 1000 + fee 100); receipts of
    // 1000 at t=2 and t=3 pay the later fees; 1700 goes back at t=5.
    let r = run(&rate_card("", ""), FUND);
    close(value(&r, "fund.contributions"), 2200.0, "contributions");
    close(value(&r, "fund.distributions"), 1700.0, "distributions");
    close(value(&r, "fund.fees"), 500.0, "fees");
    close(value(&r, "investor.multiple"), 1700.0 / 2200.0, "multiple");
    close(
        value(&r, "investor.irr"),
        reference_irr(&[(0.0, -1100.0), (1.0, -1100.0), (5.0, 1700.0)]),
        "irr",
    );
    close(value(&r, "investor.npv"), -2200.0 + 1700.0, "npv at 0 %");
    assert!(event(&r, "investor.loss"));
    assert!(!event(&r, "fund.overcommitted"));
}

#[test]
fn fund_on_receipt() {
    let r = run(&rate_card("", ""), &FUND.replace("at_end", "on_receipt"));
    close(value(&r, "fund.contributions"), 2500.0, "contributions");
    close(value(&r, "fund.distributions"), 2000.0, "distributions");
    // Flows −1100, −1100, +900, +900, −100 change sign twice and have two
    // IRRs (about −8 % and −89 %): the engine says so instead of picking one.
    let npv = |r: f64| {
        [-1100.0, -1100.0, 900.0, 900.0, -100.0]
            .iter()
            .enumerate()
            .map(|(k, f)| f / (1.0 + r).powi(k as i32))
            .sum::<f64>()
    };
    assert!(
        npv(0.0) < 0.0 && npv(-0.2) > 0.0 && npv(-0.95) < 0.0,
        "two roots, as claimed"
    );
    assert!(value(&r, "investor.irr").is_nan());
    assert!(event(&r, "investor.irr_undefined"));
}

#[test]
fn investor_npv_at_the_investor_rate() {
    let text = format!("{}\n[discounting]\ninvestor_rate = 0.05", rate_card("", ""));
    let r = run(&text, FUND);
    close(
        value(&r, "investor.npv"),
        -1100.0 - 1100.0 / 1.05 + 1700.0 / 1.05f64.powi(5),
        "npv at 5 %",
    );
}

#[test]
fn tranches_and_guarantee() {
    let fund = format!("{FUND}\n[fund.guarantee]\nfirst_loss = 0.5\n[[fund.tranches]]\nname = \"senior\"\nshare = 0.6\ncoupon = 0.1\n[[fund.tranches]]\nname = \"junior\"\nshare = 0.4");
    let r = run(&rate_card("", ""), &fund);
    // Senior owed 660·1.1⁵ + 660·1.1⁴ = 2029.24 > 1700: it takes all 1700.
    close(value(&r, "tranche.senior.distributions"), 1700.0, "senior");
    // Junior put in 880, got nothing: the guarantor covers half.
    close(value(&r, "tranche.junior.distributions"), 440.0, "junior");
    close(value(&r, "fund.guarantee"), 440.0, "guarantee");
    close(value(&r, "tranche.junior.multiple"), 0.5, "junior multiple");
    assert!(!event(&r, "tranche.senior.loss"));
    assert!(event(&r, "tranche.junior.loss"));
}

#[test]
fn total_loss_is_minus_one_hundred_percent() {
    let r = run(&rate_card("", "max_total = 0.0"), FUND);
    close(value(&r, "investor.irr"), -1.0, "irr");
    close(value(&r, "investor.multiple"), 0.0, "multiple");
}

#[test]
fn return_cap_refunds_the_payer() {
    let c = rate_card("", "").replace("price = 100.0", "price = 10000.0");
    let fund = format!("{FUND}\nreturn_cap_multiple = 1.5");
    let r = run(&c, &fund);
    close(value(&r, "fund.distributions"), 3300.0, "capped at 1.5 × 2200");
    // Paid 200000; received back everything investors could not take.
    // 200000 paid; the fund holds 200000 − 300 of later fees; investors
    // take 3300 and the rest, 196400, goes back to the payer.
    close(
        value(&r, "payer.payments"),
        200_000.0 - (200_000.0 - 300.0 - 3300.0),
        "net of the refund",
    );
}

#[test]
fn overcall_is_reported() {
    let r = run(
        &rate_card("", ""),
        &FUND.replace("capital = 10000.0", "capital = 1500.0"),
    );
    // The fee is 1 % of the smaller commitment: calls 1015 + 1015.
    close(value(&r, "fund.overcall"), 2030.0 - 1500.0, "overcall");
    assert!(event(&r, "fund.overcommitted"));
}
