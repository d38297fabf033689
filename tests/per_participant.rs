//! Per-participant contracts, volume risk, reviews and payment lag
//! (model.md §12), on hand-computable cohorts.
//!
//! States home, risk, care. Wave A (5 children) starts at home and stays
//! there in both arms; wave B (5 children) starts at risk: without the
//! programme it moves to care at the end of cycle 0, with it back home. So
//! `kept_home` (never entered care) counts 10 children in the programme arm
//! and 5 in the baseline arm, the same 5 (wave A): half of every outcome
//! payment is deadweight. Payer discounting is 10 % a year.

mod common;

use sibsim::sim::engine::Engine;
use sibsim::sim::parallel::RunOptions;
use sibsim::sim::record::RunResults;

const HORIZON: usize = 5;

fn scenario(waves: &str, intervention: &str, contract: &str, extra: &str) -> String {
    format!(
        r#"name = "per-participant"
[time]
cycle_years = 1.0
horizon = {HORIZON}
[[states]]
name = "home"
[[states]]
name = "risk"
[[states]]
name = "care"
cost = 1000.0
[cohort]
{waves}
[baseline]
matrix = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
[intervention]
duration = 4
cost_per_child_cycle = 100.0
payer = "fund"
{intervention}
[discounting]
payer_rate = 0.1
[[metrics]]
name = "kept_home"
kind = "never_entered"
states = ["care"]
{contract}
{extra}
"#
    )
}

const TWO_WAVES: &str = r#"[[cohort.waves]]
children = 5
age = 5
initial = { home = 1.0 }
[[cohort.waves]]
children = 5
age = 5
initial = { risk = 1.0 }"#;

const WORKS: &str = "matrix = [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]";
const NIL: &str = "matrix = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]";

const EX_POST: &str = r#"[contract]
[[contract.payments]]
metric = "kept_home"
measurement = "ex_post"
rule = "rate_card"
price = 100.0
at = [3]"#;

fn run_text(text: &str, replications: u64) -> RunResults {
    let scenario = sibsim::scenario::parse(text, "hand.toml").unwrap_or_else(|e| panic!("{e}"));
    Engine::new(scenario)
        .run(&RunOptions::new(1, replications))
        .expect("runs")
}

fn run(waves: &str, intervention: &str, contract: &str, extra: &str) -> RunResults {
    run_text(&scenario(waves, intervention, contract, extra), 3)
}

use common::constant as value;

fn probability(results: &RunResults, name: &str) -> f64 {
    let events = results.event(name).unwrap_or_else(|| panic!("no event {name}"));
    events.iter().filter(|&&e| e).count() as f64 / events.len() as f64
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

/// Discount factor at the end of cycle t (10 % a year).
fn at_end_of(t: usize) -> f64 {
    1.1f64.powf(-((t + 1) as f64))
}

#[test]
fn never_entered_counts_the_children_kept_out_and_improves_upwards() {
    let r = run(TWO_WAVES, WORKS, "", "");
    close(value(&r, "arm.baseline.kept_home"), 5.0, "baseline kept home");
    close(value(&r, "arm.intervention.kept_home"), 10.0, "programme kept home");
    close(value(&r, "true.kept_home.impact"), 5.0, "more kept home is better");
}

#[test]
fn ex_post_pays_per_counted_outcome_and_half_of_it_is_deadweight() {
    let r = run(TWO_WAVES, WORKS, EX_POST, "");
    close(value(&r, "payer.payments"), 1000.0 * at_end_of(3), "10 outcomes × 100");
    close(value(&r, "measured.kept_home.impact"), 10.0, "ex post counts outcomes");
    close(value(&r, "payer.deadweight"), 500.0 * at_end_of(3), "wave A's outcomes");
    close(value(&r, "payer.deadweight_share"), 0.5, "deadweight share");
}

#[test]
fn deadweight_is_everything_when_the_programme_does_nothing() {
    let r = run(TWO_WAVES, NIL, EX_POST, "");
    close(value(&r, "payer.payments"), 500.0 * at_end_of(3), "wave A only");
    close(value(&r, "payer.deadweight_share"), 1.0, "all deadweight");
    assert_eq!(probability(&r, "payer.paid_without_impact"), 1.0);
}

#[test]
fn deadweight_is_nothing_when_no_baseline_child_reaches_the_outcome() {
    let only_b = r#"[[cohort.waves]]
children = 5
age = 5
initial = { risk = 1.0 }"#;
    let r = run(only_b, WORKS, EX_POST, "");
    close(value(&r, "payer.payments"), 500.0 * at_end_of(3), "wave B's outcomes");
    close(value(&r, "payer.deadweight"), 0.0, "no deadweight");
    close(value(&r, "payer.deadweight_share"), 0.0, "share");
}

#[test]
fn max_per_child_caps_enrolment_and_outcome_payments_together() {
    let contract = r#"[contract]
max_per_child = 120.0
[[contract.payments]]
rule = "per_enrolment"
price = 50.0
[[contract.payments]]
metric = "kept_home"
measurement = "ex_post"
rule = "rate_card"
price = 100.0
at = [3]"#;
    // Each child: 50 at entry (cycle 0), then 100 capped to 70 at cycle 3.
    let r = run(TWO_WAVES, WORKS, contract, "");
    close(
        value(&r, "payer.payments"),
        500.0 * at_end_of(0) + 700.0 * at_end_of(3),
        "capped payments",
    );
    // Deadweight counts outcome payments only: wave A's 5 × 70 of 700.
    close(value(&r, "payer.deadweight"), 350.0 * at_end_of(3), "deadweight");
    close(value(&r, "payer.deadweight_share"), 0.5, "share of outcome payments");
}

#[test]
fn a_lag_beyond_the_horizon_pays_at_its_end() {
    let lagged = EX_POST.replace("[contract]", "[contract]\nlag_cycles = 1");
    let r = run(TWO_WAVES, WORKS, &lagged, "");
    close(value(&r, "payer.payments"), 1000.0 * at_end_of(4), "one cycle later");
    let lagged = EX_POST.replace("[contract]", "[contract]\nlag_cycles = 3");
    let r = run(TWO_WAVES, WORKS, &lagged, "");
    close(
        value(&r, "payer.payments"),
        1000.0 * at_end_of(HORIZON - 1),
        "at the horizon's end",
    );
    close(
        value(&r, "payer.deadweight"),
        500.0 * at_end_of(HORIZON - 1),
        "deadweight paid then too",
    );
}

const STAGGERED: &str = r#"[[cohort.waves]]
cycle = 0
children = 5
age = 5
initial = { risk = 1.0 }
[[cohort.waves]]
cycle = 1
children = 6
age = 5
initial = { risk = 1.0 }
[[cohort.waves]]
cycle = 2
children = 7
age = 5
initial = { risk = 1.0 }"#;

#[test]
fn stop_enrolment_cuts_exactly_the_later_waves() {
    let contract = format!("{EX_POST}\n[[contract.reviews]]\nat = 1\nprobability = 1.0\naction = \"stop_enrolment\"");
    let r = run(STAGGERED, WORKS, &contract, "");
    close(value(&r, "cohort.enrolled"), 11.0, "waves entering at 0 and 1");
    close(
        value(&r, "payer.payments"),
        1100.0 * at_end_of(3),
        "their outcomes only",
    );
    assert_eq!(probability(&r, "contract.enrolment_stopped"), 1.0);
    assert_eq!(probability(&r, "contract.terminated"), 0.0);
}

/// Fixed programme costs run only while a wave that started is enrolled,
/// in the `cost` metric as in the payer's programme costs: stopping
/// enrolment at cycle 0 leaves the first wave alone in the programme
/// (cycles 0–3), so cycle 4 carries no fixed cost.
#[test]
fn a_cancelled_wave_takes_its_fixed_costs_with_it() {
    let contract = format!("{EX_POST}\n[[contract.reviews]]\nat = 0\nprobability = 1.0\naction = \"stop_enrolment\"");
    let spend = "[[metrics]]\nname = \"spend\"\nkind = \"cost\"\ndiscounted = false";
    let with_fixed = |fixed: f64| {
        let text = scenario(STAGGERED, WORKS, &contract, spend).replace(
            "payer = \"fund\"",
            &format!("payer = \"payer\"\nfixed_cost_per_cycle = {fixed}"),
        );
        run_text(&text, 3)
    };
    let (with, without) = (with_fixed(1000.0), with_fixed(0.0));
    close(value(&with, "cohort.enrolled"), 5.0, "the first wave only");
    close(
        value(&with, "arm.intervention.spend") - value(&without, "arm.intervention.spend"),
        4000.0,
        "four cycles of fixed costs in the metric",
    );
    let discounted: f64 = (0..4).map(|t| 1000.0 * 1.1f64.powi(-t)).sum();
    close(
        value(&with, "payer.programme_costs") - value(&without, "payer.programme_costs"),
        discounted,
        "and in the payer's programme costs",
    );
}

#[test]
fn a_review_acts_on_the_measured_effect() {
    // Ex post, the relative effect is the outcome rate among the children
    // started by the review: 11 of 11 when the programme works; without it
    // the first wave (5) has entered care by the end of cycle 1 and the
    // second (6) not yet: 6 of 11, below 0.6.
    let review = "[[contract.reviews]]\nat = 1\nmetric = \"kept_home\"\nbelow = 0.6\naction = \"stop_enrolment\"";
    let contract = format!("{EX_POST}\n{review}");
    let works = run(STAGGERED, WORKS, &contract, "");
    assert_eq!(probability(&works, "contract.enrolment_stopped"), 0.0);
    close(value(&works, "cohort.enrolled"), 18.0, "everyone");
    let nil = run(STAGGERED, NIL, &contract, "");
    assert_eq!(probability(&nil, "contract.enrolment_stopped"), 1.0);
    close(value(&nil, "cohort.enrolled"), 11.0, "stopped");
}

#[test]
fn termination_stops_later_payments_and_pays_its_share_of_capital_called() {
    let contract = format!(
        "{EX_POST}\n[[contract.reviews]]\nat = 1\nprobability = 1.0\naction = \"terminate\"\ntermination_payment = 0.5"
    );
    let fund = "[fund]\ncapital = 100000.0";
    let r = run(TWO_WAVES, WORKS, &contract, fund);
    // Spending in cycles 0 and 1: 10 children × 100 each; half of it back.
    close(value(&r, "fund.contributions"), 2000.0, "capital called to date");
    close(
        value(&r, "payer.payments"),
        1000.0 * at_end_of(1),
        "termination payment only",
    );
    close(value(&r, "fund.distributions"), 1000.0, "distributed at once");
    assert_eq!(probability(&r, "contract.terminated"), 1.0);
}

#[test]
fn switching_the_new_features_off_reproduces_a_run_bitwise() {
    let plain = run_text(&scenario(STAGGERED, WORKS, EX_POST, ""), 20);
    let idle_review = format!(
        "{EX_POST}\n[[contract.reviews]]\nat = 2\nmetric = \"kept_home\"\nbelow = -1.0\naction = \"terminate\""
    );
    let full_enrolment = "[uncertainty]\n[uncertainty.enrolment]\nmean = 1.0";
    for (contract, extra) in [(idle_review.as_str(), ""), (EX_POST, full_enrolment)] {
        let other = run_text(&scenario(STAGGERED, WORKS, contract, extra), 20);
        for (name, column) in plain.names.iter().zip(&plain.columns) {
            let same = other.column(name).expect("the same statistics");
            assert!(
                column.iter().zip(same).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name} moved"
            );
        }
    }
}

#[test]
fn enrolment_follows_the_beta_binomial_within_five_standard_errors() {
    let (n, mean, sd) = (50.0, 0.6, 0.15);
    let wave = "[[cohort.waves]]\nchildren = 50\nage = 5\ninitial = { home = 1.0 }";
    let extra = format!("[uncertainty]\n[uncertainty.enrolment]\nmean = {mean}\nsd = {sd}");
    let results = run_text(&scenario(wave, WORKS, EX_POST, &extra), 4000);
    let enrolled = results.column("cohort.enrolled").expect("reported under volume risk");
    let count = enrolled.len() as f64;
    let sample_mean = enrolled.iter().sum::<f64>() / count;
    let moment = |k: i32| enrolled.iter().map(|x| (x - sample_mean).powi(k)).sum::<f64>() / count;
    let variance = moment(2) * count / (count - 1.0);
    // Beta-binomial: E = nμ, Var = nμ(1−μ) + n(n−1)σ².
    let want_mean = n * mean;
    let want_variance = n * mean * (1.0 - mean) + n * (n - 1.0) * sd * sd;
    let se_mean = (variance / count).sqrt();
    let se_variance = ((moment(4) - moment(2).powi(2)) / count).sqrt();
    assert!(
        (sample_mean - want_mean).abs() < 5.0 * se_mean,
        "mean {sample_mean} vs {want_mean} ± {se_mean}"
    );
    assert!(
        (variance - want_variance).abs() < 5.0 * se_variance,
        "variance {variance} vs {want_variance} ± {se_variance}"
    );
    // Outcome payments follow the enrolled children (wave at home: all kept home).
    let payments = results.column("payer.payments").expect("payments");
    for (paid, children) in payments.iter().zip(enrolled) {
        close(*paid, 100.0 * children * at_end_of(3), "per enrolled child");
    }
}

#[test]
fn expected_payments_are_exact_for_ex_post_enrolment_lag_and_volume() {
    let waves = r#"[[cohort.waves]]
cycle = 0
children = 40
age = 5
initial = { home = 0.5, risk = 0.5 }
[[cohort.waves]]
cycle = 2
children = 30
age = 5
initial = { home = 0.3, risk = 0.7 }"#;
    let random = r#"[baseline]
matrix = [[0.8, 0.15, 0.05], [0.3, 0.4, 0.3], [0.1, 0.0, 0.9]]"#;
    let contract = r#"[contract]
lag_cycles = 1
[[contract.payments]]
rule = "per_enrolment"
price = 50.0
[[contract.payments]]
metric = "kept_home"
measurement = "ex_post"
rule = "rate_card"
price = 100.0
at = [1, 3]
[[contract.payments]]
metric = "entered_risk"
measurement = "ex_post"
rule = "rate_card"
price = 30.0
at = [2, 4]
[[metrics]]
name = "entered_risk"
kind = "entries"
states = ["risk"]
[uncertainty]
[uncertainty.enrolment]
mean = 0.7
sd = 0.1"#;
    let text = scenario(
        waves,
        "matrix = [[0.9, 0.08, 0.02], [0.5, 0.4, 0.1], [0.2, 0.0, 0.8]]",
        contract,
        "",
    )
    .replace(
        "[baseline]\nmatrix = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]",
        random,
    );
    let scenario = sibsim::scenario::parse(&text, "expected.toml").unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(scenario);
    let expected = engine.expected();
    let want = expected.payments.expect("analytic");
    let results = engine.run(&RunOptions::new(3, 4000)).expect("runs");
    let check = |name: &str, want: f64| {
        let column = results.column(name).expect(name);
        let summary = sibsim::stats::Summary::of(column).expect("values");
        assert!(
            (summary.mean - want).abs() < 5.0 * summary.se,
            "{name}: {} ± {} vs exact {want}",
            summary.mean,
            summary.se
        );
    };
    check("payer.payments", want);
    for (name, [baseline, intervention]) in &expected.metrics {
        check(&format!("arm.baseline.{name}"), *baseline);
        check(&format!("arm.intervention.{name}"), *intervention);
    }
}

/// The key path of the error a scenario text gives.
fn error_path(text: &str) -> String {
    match sibsim::scenario::parse(text, "bad.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.contains("bad.toml"), "names the file: {shown}");
            e.key_path
        }
    }
}

#[test]
fn bad_per_participant_terms_name_their_key() {
    let with = |contract: &str, extra: &str| scenario(TWO_WAVES, WORKS, contract, extra);
    let state_cycles = "[[metrics]]\nname = \"care_years\"\nkind = \"state_cycles\"\nstates = [\"care\"]";
    let on_care_years = EX_POST.replace("metric = \"kept_home\"", "metric = \"care_years\"");
    assert_eq!(
        error_path(&with(&on_care_years, state_cycles)),
        "contract.payments[0].measurement"
    );
    let review = |body: &str| format!("{EX_POST}\n[[contract.reviews]]\n{body}");
    assert_eq!(
        error_path(&with(
            &review("at = 9\nprobability = 0.5\naction = \"stop_enrolment\""),
            ""
        )),
        "contract.reviews[0].at"
    );
    assert_eq!(
        error_path(&with(
            &review("at = 4\nprobability = 0.5\naction = \"stop_enrolment\""),
            ""
        )),
        "contract.reviews[0].at",
        "after the last payment date (3)"
    );
    assert_eq!(
        error_path(&with(
            &review("at = 1\nprobability = 0.5\naction = \"terminate\"\ntermination_payment = 1.5"),
            ""
        )),
        "contract.reviews[0].termination_payment"
    );
    let enrolment = |body: &str| format!("[uncertainty]\n[uncertainty.enrolment]\n{body}");
    assert_eq!(
        error_path(&with(EX_POST, &enrolment("mean = 0.0"))),
        "uncertainty.enrolment.mean"
    );
    assert_eq!(
        error_path(&with(EX_POST, &enrolment("mean = 1.2"))),
        "uncertainty.enrolment.mean"
    );
    assert_eq!(
        error_path(&with(EX_POST, &enrolment("mean = 0.9\nsd = 0.3"))),
        "uncertainty.enrolment.sd"
    );
    let contract_key = |key: &str| EX_POST.replace("[contract]", &format!("[contract]\n{key}"));
    assert_eq!(
        error_path(&with(&contract_key("max_per_child = 0.0"), "")),
        "contract.max_per_child"
    );
    assert_eq!(
        error_path(&with(&contract_key("lag_cycles = -1"), "")),
        "contract.lag_cycles"
    );
    let aggregate = with(EX_POST, "").replace("[cohort]", "[run]\nsampler = \"aggregate\"\n[cohort]");
    assert_eq!(error_path(&aggregate), "run.sampler");
}

fn summary(dir: &std::path::Path, out: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(out).join("per-participant/summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("json")
}

fn mean(summary: &serde_json::Value, name: &str) -> f64 {
    summary["statistics"][name]["mean"]
        .as_f64()
        .unwrap_or_else(|| panic!("no {name}"))
}

/// Every new key works through `--set` (tables that do not exist yet are
/// created) and `--sweep`, with the same meaning as in a file.
#[test]
fn the_new_keys_work_through_set_and_sweep() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Stopping enrolment after cycle 2 cancels no wave of STAGGERED.
    let idle_review = "[[contract.reviews]]\nat = 2\nprobability = 1.0\naction = \"stop_enrolment\"";
    let text = scenario(
        STAGGERED,
        WORKS,
        &format!("{EX_POST}\n{idle_review}"),
        "[fund]\ncapital = 100000.0",
    );
    common::write(dir.path(), "s.toml", &text);
    let run = |out: &str, flags: &[&str]| {
        let mut args = vec!["run", "s.toml", "--replications", "40", "--quiet", "--out", out];
        args.extend_from_slice(flags);
        let done = common::run_in(dir.path(), &args);
        assert!(
            done.status.success(),
            "{flags:?}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
    };
    run(
        "set",
        &[
            "--set",
            "contract.max_per_child=60",
            "--set",
            "contract.lag_cycles=1",
            "--set",
            "contract.reviews[0].at=1",
            "--set",
            "uncertainty.enrolment.mean=0.5",
            "--set",
            "uncertainty.enrolment.sd=0.2",
        ],
    );
    let s = summary(dir.path(), "set");
    // Stopped at cycle 1: the waves entering at 0 and 1 (11 planned), about half enrolled.
    assert_eq!(
        s["probabilities"]["contract.enrolment_stopped"]["p"].as_f64(),
        Some(1.0)
    );
    let enrolled = mean(&s, "cohort.enrolled");
    assert!(enrolled > 0.0 && enrolled < 11.0, "enrolled {enrolled}");
    // Every enrolled child is kept home and paid 60 (capped), one cycle late.
    close(
        mean(&s, "payer.payments"),
        60.0 * enrolled * at_end_of(4),
        "capped and lagged",
    );

    run(
        "sweep",
        &[
            "--sweep",
            "contract.max_per_child=25,50",
            "--sweep",
            "contract.payments[0].measurement=ex_post",
        ],
    );
    let csv = std::fs::read_to_string(dir.path().join("sweep/per-participant/sweep.csv")).expect("sweep.csv");
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let column = header
        .iter()
        .position(|h| *h == "payer.payments.mean")
        .expect("payments column");
    let paid: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|row| row.split(',').nth(column).expect("cell").parse().expect("number"))
        .collect();
    // 18 children, all kept home, each paid its cap at cycle 3.
    assert_eq!(paid.len(), 2);
    close(paid[0], 25.0 * 18.0 * at_end_of(3), "cap 25");
    close(paid[1], 50.0 * 18.0 * at_end_of(3), "cap 50");
}
