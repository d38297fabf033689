//! `calibrate --targets`: a Bayesian fit of a baseline to aggregate
//! targets, checked on a synthetic truth (targets computed exactly from a
//! known matrix), for reproducibility, and for clear errors.

mod common;

use sibsim::model::targets::{coverage, predict, AggregateTarget, TargetKind};
use sibsim::model::Scenario;
use sibsim::run::fit::{fit_targets, FitRequest};
use sibsim::stats::fit::FitOptions;
use std::path::Path;

/// A national cohort from birth: home, care, left (absorbing), with an age
/// band [0, 7) of its own. `{default}` and `{young}` are the matrices.
fn scenario(default: &str, young: &str) -> String {
    format!(
        r#"name = "national"
[time]
cycle_years = 1.0
horizon = 18
start_year = 2020
[[states]]
name = "home"
[[states]]
name = "care"
cost = 1.0
[[states]]
name = "left"
absorbing = true
[cohort]
[[cohort.waves]]
children = 1000
age = 0
initial = {{ home = 1.0 }}
[baseline]
matrix = {default}
[[baseline.bands]]
ages = [0.0, 7.0]
matrix = {young}
[intervention]
duration = 1
"#
    )
}

const TRUE_DEFAULT: &str = "[[0.95, 0.04, 0.01], [0.3, 0.65, 0.05], [0.0, 0.0, 1.0]]";
const TRUE_YOUNG: &str = "[[0.97, 0.03, 0.0], [0.4, 0.6, 0.0], [0.0, 0.0, 1.0]]";
// The file's (wrong) guess the fit starts from and centres its prior on.
const GUESS_DEFAULT: &str = "[[0.9, 0.08, 0.02], [0.4, 0.55, 0.05], [0.0, 0.0, 1.0]]";
const GUESS_YOUNG: &str = "[[0.95, 0.05, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]";

/// The targets the fit sees (values filled in from the truth).
const TARGETS: [(&str, &str, f64, f64, f64); 8] = [
    ("prevalence", "care", 0.0, 18.0, 0.004),
    ("ever", "care", 0.0, 18.0, 0.006),
    ("mean_cycles", "care", 0.0, 18.0, 0.05),
    ("prevalence", "left", 10.0, 18.0, 0.006),
    ("ever", "care", 0.0, 7.0, 0.005),
    ("prevalence", "care", 0.0, 7.0, 0.004),
    ("prevalence", "care", 13.0, 18.0, 0.005),
    ("mean_cycles", "care", 7.0, 13.0, 0.05),
];

/// Writes the guess scenario and targets computed exactly from the truth.
fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let truth_path = common::write(dir, "truth.toml", &scenario(TRUE_DEFAULT, TRUE_YOUNG));
    let scenario_path = common::write(dir, "guess.toml", &scenario(GUESS_DEFAULT, GUESS_YOUNG));
    let sibsim::scenario::Loaded::Single(truth) = sibsim::scenario::load_any(&truth_path).expect("truth") else {
        panic!("single")
    };
    let header = "kind,states,age_from,age_to,value,se,source\n";
    let placeholder: String = TARGETS
        .iter()
        .map(|(k, s, a, b, se)| format!("{k},{s},{a},{b},0.5,{se},synthetic\n"))
        .collect();
    let parsed = sibsim::scenario::targets::parse_targets(&format!("{header}{placeholder}"), "t.csv", &truth)
        .expect("targets parse");
    let values = predict(&truth, &parsed);
    let text: String = TARGETS
        .iter()
        .zip(&values)
        .map(|((k, s, a, b, se), v)| format!("{k},{s},{a},{b},{v:?},{se},synthetic\n"))
        .collect();
    let targets_path = common::write(dir, "targets.csv", &format!("{header}{text}"));
    (scenario_path, targets_path)
}

fn request(scenario: &Path, targets: &Path, seed: u64) -> FitRequest {
    FitRequest {
        targets: targets.to_path_buf(),
        scenario: scenario.to_path_buf(),
        sets: Vec::new(),
        options: FitOptions::new(1000, seed),
    }
}

#[test]
fn a_synthetic_truth_is_recovered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (scenario_path, targets_path) = setup(dir.path());
    let fitted = fit_targets(&request(&scenario_path, &targets_path, 7)).expect("fits");
    // Every target within 2 se.
    for f in &fitted.fits {
        assert!(f.z().abs() < 2.0, "{}: z {}", f.label(), f.z());
    }
    // The true entries inside their 95 % posterior intervals, in the large majority.
    let truth = [
        ("default", [[0.95, 0.04, 0.01], [0.3, 0.65, 0.05]]),
        ("band0", [[0.97, 0.03, 0.0], [0.4, 0.6, 0.0]]),
    ];
    let names = ["home", "care", "left"];
    let csv = fitted.posterior_csv();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let (mut inside, mut total) = (0, 0);
    for (k, column) in rows[0].iter().enumerate() {
        let parts: Vec<&str> = column.split('/').collect();
        let matrix = truth.iter().find(|(m, _)| *m == parts[0]).expect("a matrix").1;
        let from = names.iter().position(|n| *n == parts[1]).expect("from");
        let to = names.iter().position(|n| *n == parts[2]).expect("to");
        let mut values: Vec<f64> = rows[1..].iter().map(|r| r[k].parse().expect("number")).collect();
        values.sort_by(f64::total_cmp);
        let (low, high) = (
            sibsim::stats::summary::quantile_sorted(&values, 0.025),
            sibsim::stats::summary::quantile_sorted(&values, 0.975),
        );
        total += 1;
        if (low..=high).contains(&matrix[from][to]) {
            inside += 1;
        }
    }
    assert!(total >= 10, "{total} free entries");
    assert!(
        inside * 10 >= total * 8,
        "{inside} of {total} true entries inside their 95 % intervals"
    );
    assert!(fitted.posterior.ess > 100.0, "ess {}", fitted.posterior.ess);
    // The printed [baseline] loads as is and reproduces the targets.
    let guess = std::fs::read_to_string(&scenario_path).expect("guess");
    let base = guess.split("[baseline]").next().expect("head");
    let tail = guess.split("[intervention]").nth(1).expect("tail");
    let fitted_text = format!("{base}{}\n[intervention]{tail}", fitted.toml);
    let reloaded =
        sibsim::scenario::parse(&fitted_text, "fitted.toml").unwrap_or_else(|e| panic!("{e}\n{fitted_text}"));
    let targets: Vec<_> = fitted.fits.iter().map(|f| f.target.clone()).collect();
    for (f, value) in fitted.fits.iter().zip(predict(&reloaded, &targets)) {
        assert!(
            (value - f.target.value).abs() < 2.5 * f.target.se,
            "{}: {value}",
            f.label()
        );
    }
}

#[test]
fn the_sampler_is_seed_reproducible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (scenario_path, targets_path) = setup(dir.path());
    let mut short = request(&scenario_path, &targets_path, 3);
    short.options.draws = 50;
    short.options.burn_in = 1000;
    let a = fit_targets(&short).expect("fits");
    let b = fit_targets(&short).expect("fits");
    let bits = |f: &sibsim::run::fit::Fitted| -> Vec<u64> {
        f.posterior.draws.iter().flatten().map(|x| x.to_bits()).collect()
    };
    assert_eq!(bits(&a), bits(&b));
    short.options.seed = 4;
    assert_ne!(bits(&a), bits(&fit_targets(&short).expect("fits")));
}

#[test]
fn the_command_writes_the_fit_and_prints_a_baseline() {
    let dir = tempfile::tempdir().expect("tempdir");
    setup(dir.path());
    let out = common::run_in(
        dir.path(),
        &[
            "calibrate",
            "--targets",
            "targets.csv",
            "--scenario",
            "guess.toml",
            "--draws",
            "200",
            "--out",
            "out",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("[baseline]") && stdout.contains("[[baseline.bands]]"),
        "{stdout}"
    );
    assert!(
        stderr.contains("effective sample size") && stderr.contains("acceptance"),
        "{stderr}"
    );
    for file in ["posterior.csv", "fit.csv", "fit.svg", "fit.html", "baseline.toml"] {
        assert!(dir.path().join("out/national-fit").join(file).exists(), "{file}");
    }
}

#[test]
fn bad_targets_name_their_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    setup(dir.path());
    let header = "kind,states,age_from,age_to,value,se\n";
    let good = "prevalence,care,0,18,0.08,0.01\n";
    for (row, words) in [
        ("share,care,0,18,0.1,0.01", "unknown kind"),
        ("prevalence,prison,0,18,0.1,0.01", "unknown state"),
        ("prevalence,care,0,30,0.1,0.01", "covers ages"),
        ("prevalence,care,0,18,0.1,-0.01", "standard error"),
        ("ever,care,0,18,1.5,0.01", "not a share"),
        ("prevalence,care,9,3,0.1,0.01", "not a range"),
    ] {
        common::write(dir.path(), "bad.csv", &format!("{header}{good}{row}\n"));
        let out = common::run_in(
            dir.path(),
            &[
                "calibrate",
                "--targets",
                "bad.csv",
                "--scenario",
                "guess.toml",
                "--out",
                "out",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{row}: {stderr}");
        assert!(stderr.contains("bad.csv: line 3"), "{row}: {stderr}");
        assert!(stderr.contains(words), "{row}: {stderr}");
    }
    common::write(dir.path(), "bad.csv", "kind,value\nprevalence,0.1\n");
    let out = common::run_in(
        dir.path(),
        &["calibrate", "--targets", "bad.csv", "--scenario", "guess.toml"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("header"));
}

// The forward model against closed forms.

fn chain(matrix: &str, cycle_years: f64, horizon: usize) -> Scenario {
    let text = format!(
        r#"name = "t"
[time]
cycle_years = {cycle_years}
horizon = {horizon}
[[states]]
name = "home"
[[states]]
name = "care"
cost = 1.0
[cohort]
[[cohort.waves]]
children = 10
age = 0
initial = {{ home = 1.0 }}
[baseline]
matrix = {matrix}
[intervention]
duration = 1
"#
    );
    sibsim::scenario::parse(&text, "t.toml").expect("valid")
}

fn target(kind: TargetKind, ages: (f64, f64)) -> AggregateTarget {
    AggregateTarget {
        line: 2,
        kind,
        states: vec![false, true],
        label: "care".to_string(),
        ages,
        value: 0.0,
        se: 1.0,
    }
}

#[test]
fn targets_match_the_closed_form_of_a_two_state_chain() {
    // Home → care with probability 0.1 a year, care absorbing: the share
    // in care after k years is 1 − 0.9^k.
    let s = chain("[[0.9, 0.1], [0.0, 1.0]]", 1.0, 20);
    let in_care = |k: i32| 1.0 - 0.9f64.powi(k);
    let got = predict(
        &s,
        &[
            target(TargetKind::Prevalence, (0.0, 18.0)),
            target(TargetKind::Ever, (0.0, 18.0)),
            target(TargetKind::MeanCycles, (5.0, 10.0)),
        ],
    );
    let prevalence = (0..18).map(in_care).sum::<f64>() / 18.0;
    assert!((got[0] - prevalence).abs() < 1e-12, "{} {prevalence}", got[0]);
    // Ever by the slot at age 17 (absorbing: the same as in care then).
    assert!((got[1] - in_care(17)).abs() < 1e-12, "{}", got[1]);
    let cycles = (5..10).map(in_care).sum::<f64>();
    assert!((got[2] - cycles).abs() < 1e-12, "{}", got[2]);
}

#[test]
fn ages_outside_the_cohort_are_not_covered() {
    let s = chain("[[0.9, 0.1], [0.0, 1.0]]", 1.0, 10);
    assert!(coverage(&s, (0.0, 11.0)).len() == 1);
    assert!(coverage(&s, (0.0, 12.0)).is_empty());
    let half = chain("[[0.9, 0.1], [0.0, 1.0]]", 0.5, 10);
    assert_eq!(coverage(&half, (1.0, 3.0)), vec![(0, 2, 6)]);
}

// `[uncertainty] baseline_posterior`: each replication takes one draw.

/// A posterior of one draw is that matrix in every replication: a run
/// equals, bit for bit, the run of a file whose baseline is that draw.
#[test]
fn a_one_draw_posterior_is_that_baseline_in_every_replication() {
    let dir = tempfile::tempdir().expect("tempdir");
    let guess = scenario(GUESS_DEFAULT, GUESS_YOUNG)
        + "[[metrics]]\nname = \"care_years\"\nkind = \"state_cycles\"\nstates = [\"care\"]\n";
    let truth = scenario(TRUE_DEFAULT, TRUE_YOUNG)
        + "[[metrics]]\nname = \"care_years\"\nkind = \"state_cycles\"\nstates = [\"care\"]\n";
    common::write(
        dir.path(),
        "posterior.csv",
        "default/home/home,default/home/care,default/home/left,default/care/home,default/care/care,default/care/left,band0/home/home,band0/home/care,band0/care/home,band0/care/care\n\
         0.95,0.04,0.01,0.3,0.65,0.05,0.97,0.03,0.4,0.6\n",
    );
    let with_posterior = common::write(
        dir.path(),
        "posterior.toml",
        &format!("{guess}[uncertainty]\nbaseline_posterior = \"posterior.csv\"\n"),
    );
    let plain = common::write(dir.path(), "truth.toml", &truth);
    let run = |path: &Path, threads: usize| {
        let sibsim::scenario::Loaded::Single(s) = sibsim::scenario::load_any(path).expect("valid") else {
            panic!("single")
        };
        let options = sibsim::sim::parallel::RunOptions {
            threads: Some(threads),
            ..sibsim::sim::parallel::RunOptions::new(5, 60)
        };
        sibsim::sim::engine::Engine::new(*s).run(&options).expect("runs")
    };
    let (a, b) = (run(&with_posterior, 1), run(&plain, 1));
    let column = |r: &sibsim::sim::record::RunResults| -> Vec<u64> {
        r.column("arm.baseline.care_years")
            .expect("metric")
            .iter()
            .map(|x| x.to_bits())
            .collect()
    };
    assert_eq!(column(&a), column(&b));
    assert_eq!(column(&a), column(&run(&with_posterior, 3)), "any number of threads");
}

/// Scenarios that name the same posterior file share one reading of it
/// (a portfolio's contracts do), and a file whose draws change is read
/// again: its values and the scenario's digest follow the file.
#[test]
fn a_posterior_file_is_read_once_until_it_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let guess = scenario(GUESS_DEFAULT, GUESS_YOUNG);
    let header = "default/home/home,default/home/care\n";
    common::write(dir.path(), "posterior.csv", &format!("{header}0.9,0.1\n0.8,0.2\n"));
    let path = common::write(
        dir.path(),
        "s.toml",
        &format!("{guess}[uncertainty]\nbaseline_posterior = \"posterior.csv\"\n"),
    );
    let load = || {
        let sibsim::scenario::Loaded::Single(s) = sibsim::scenario::load_any(&path).expect("valid") else {
            panic!("single")
        };
        let posterior = s
            .uncertainty
            .as_ref()
            .and_then(|u| u.baseline_posterior.clone())
            .expect("a posterior");
        (posterior, s.digest)
    };
    let (first, digest) = load();
    let (again, digest_again) = load();
    assert!(std::sync::Arc::ptr_eq(&first, &again), "read once");
    assert_eq!(digest, digest_again);
    assert_eq!(first.draws, 2);
    common::write(dir.path(), "posterior.csv", &format!("{header}0.9,0.1\n0.7,0.3\n"));
    let (changed, digest_changed) = load();
    assert!(!std::sync::Arc::ptr_eq(&first, &changed), "read again");
    assert_eq!(changed.draw(1)[..2], [0.7, 0.3]);
    assert_ne!(digest, digest_changed);
    common::write(dir.path(), "posterior.csv", &format!("{header}0.9,0.1\n0.7,0.6\n"));
    assert!(
        sibsim::scenario::load_any(&path).is_err(),
        "a bad file is refused every time"
    );
    assert!(sibsim::scenario::load_any(&path).is_err());
}

#[test]
fn a_missing_or_mismatched_posterior_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let guess = scenario(GUESS_DEFAULT, GUESS_YOUNG);
    common::write(
        dir.path(),
        "s.toml",
        &format!("{guess}[uncertainty]\nbaseline_posterior = \"posterior.csv\"\n"),
    );
    let check = |words: &str| {
        let out = common::run_in(dir.path(), &["validate", "s.toml"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(words), "{words}: {stderr}");
    };
    check("uncertainty.baseline_posterior");
    common::write(dir.path(), "posterior.csv", "default/home/prison\n1.0\n");
    check("does not match this scenario");
    common::write(
        dir.path(),
        "posterior.csv",
        "band3/home/home,band3/home/care\n0.5,0.5\n",
    );
    check("does not match this scenario");
    common::write(
        dir.path(),
        "posterior.csv",
        "default/left/home,default/left/left\n0.5,0.5\n",
    );
    check("absorbing");
    common::write(
        dir.path(),
        "posterior.csv",
        "default/home/home,default/home/home,default/home/care\n0.5,0.9,0.1\n",
    );
    check("appears twice (columns 1 and 2)");
    common::write(
        dir.path(),
        "posterior.csv",
        "default/home/home,default/home/care\n0.9,0.1\n0.9,0.3\n",
    );
    check("line 3");
    common::write(
        dir.path(),
        "posterior.csv",
        "default/home/home,default/home/care\n0.9,0.1\n",
    );
    let out = common::run_in(dir.path(), &["validate", "s.toml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The shipped Finnish targets fit the shipped national scenario: every
/// target within 2 se and an effective sample size of at least 200.
#[test]
fn the_shipped_finnish_targets_fit_the_national_scenario() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let request = FitRequest {
        targets: root.join("data/finland-targets.csv"),
        scenario: root.join("scenarios/finland-national.toml"),
        sets: Vec::new(),
        options: FitOptions::new(1000, 1),
    };
    let fitted = fit_targets(&request).expect("fits");
    assert_eq!(fitted.fits.len(), 6);
    for f in &fitted.fits {
        assert!(f.z().abs() < 2.0, "{}: z {}", f.label(), f.z());
    }
    assert!(fitted.posterior.ess >= 200.0, "ess {}", fitted.posterior.ess);
    assert!(fitted.warnings.is_empty(), "{:?}", fitted.warnings);

    // The shipped posterior is this fit's, byte for byte, and every Lapset
    // contract re-based on it carries its posterior mean as the population
    // matrices (so neither can drift from the command that makes them).
    let shipped = std::fs::read_to_string(root.join("data/finland-posterior.csv")).expect("shipped posterior");
    assert!(
        shipped == fitted.posterior_csv(),
        "data/finland-posterior.csv is not what the fit writes today"
    );
    let matrices = &fitted.toml[fitted.toml.find("matrix = [").expect("a matrix")..];
    for name in [
        "hameenlinna-icehearts",
        "vantaa-perhekumppani",
        "helsinki",
        "lohja",
        "jyvaskyla",
        "ptky-karviainen",
    ] {
        let path = root.join(format!("scenarios/{name}.toml"));
        let text = std::fs::read_to_string(&path).expect("scenario");
        assert!(
            text.contains(matrices.trim_end()),
            "{name}: its [baseline] is not the national fit's mean"
        );
        let scenario = sibsim::scenario::load(&path).expect("loads");
        assert!(scenario.baseline_risk.is_some(), "{name}: no risk multiplier");
        let u = scenario.uncertainty.as_ref().expect("uncertainty");
        assert_eq!(u.baseline_posterior.as_ref().map(|p| p.draws), Some(1000), "{name}");
        assert!(u.risk_sd_log > 0.0, "{name}");
    }
}
