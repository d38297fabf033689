//! --set and --sweep: overrides by key path, sweeps on common random numbers.

mod common;

use sibsim::scenario::{load_any_with, Loaded};
use sibsim::sim::engine::Engine;
use sibsim::sim::parallel::RunOptions;

const CONTRACT: &str = "[contract]\n[[contract.payments]]\nmetric = \"care_years\"\nbaseline = \"expected\"\nrule = \"rate_card\"\nprice = 1000.0\nat = [2, 5]\n[fund]\ncapital = 50000.0\n";

fn payments(dir: &std::path::Path, price: &str) -> Vec<f64> {
    let sets = vec![("contract.payments[0].price".to_string(), price.to_string())];
    let Loaded::Single(s) = load_any_with(&dir.join("s.toml"), &sets).expect("valid") else {
        panic!("single")
    };
    let r = Engine::new(*s).run(&RunOptions::new(17, 400)).expect("runs");
    r.column("payer.payments").expect("payments").to_vec()
}

#[test]
fn a_price_sweep_gives_payments_proportional_to_the_price_in_every_replication() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("s.toml"), format!("{}{CONTRACT}", common::BASE)).expect("write");
    let base = payments(dir.path(), "1000");
    assert!(base.iter().any(|&p| p > 0.0), "something is paid");
    for factor in [2.0, 3.0, 0.5] {
        let scaled = payments(dir.path(), &format!("{}", 1000.0 * factor));
        for (a, b) in base.iter().zip(&scaled) {
            assert!(
                (b - factor * a).abs() <= 1e-12 * (factor * a).abs(),
                "{b} vs {factor} × {a}"
            );
        }
    }
}

#[test]
fn sweep_writes_one_row_per_value_and_pictures() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("s.toml"), format!("{}{CONTRACT}", common::BASE)).expect("write");
    let out = common::run_in(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--replications",
            "100",
            "--quiet",
            "--out",
            "out",
            "--sweep",
            "contract.payments[0].price=500,1000,2000",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = std::fs::read_to_string(dir.path().join("out/base/sweep.csv")).expect("sweep.csv");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[0].starts_with("contract.payments[0].price,payer.true_savings.mean"));
    // Same random numbers at every point: true savings identical across rows.
    let savings: Vec<&str> = rows[1..].iter().map(|r| r.split(',').nth(1).expect("cell")).collect();
    assert!(savings.windows(2).all(|w| w[0] == w[1]), "{savings:?}");
    assert!(dir.path().join("out/base/sweep_payer.payments.svg").exists());
    // Two sweeps make a grid.
    let grid = common::run_in(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--replications",
            "50",
            "--quiet",
            "--out",
            "grid",
            "--sweep",
            "contract.payments[0].price=500,1000",
            "--sweep",
            "fund.management_fee=0,0.02",
        ],
    );
    assert!(grid.status.success(), "{}", String::from_utf8_lossy(&grid.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("grid/base/sweep.csv"))
            .expect("csv")
            .lines()
            .count(),
        5
    );
}

#[test]
fn wrong_overrides_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("s.toml"), format!("{}{CONTRACT}", common::BASE)).expect("write");
    for (set, words) in [
        ("contract.payments[4].price=1", "out of range"),
        ("contract.payments[0].price=cheap", "expected a number"),
        ("fund.capitl=5", "unknown key"),
        ("nonsense", "KEY=VALUE"),
        ("contract.payments[0].price=-5", "negative"),
    ] {
        let out = common::run_in(dir.path(), &["run", "s.toml", "--quiet", "--out", "out", "--set", set]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{set}: {stderr}");
        assert!(stderr.contains(words), "{set}: {stderr}");
        assert!(!dir.path().join("out").exists());
    }
}

/// `validate` and `expected` take the same `--set` as `run`: an override
/// is checked as bad input, and the exact expectation of the overridden
/// file is that of the file edited by hand.
#[test]
fn validate_and_expected_take_overrides() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = format!("{}{CONTRACT}", common::BASE);
    std::fs::write(dir.path().join("s.toml"), &base).expect("write");
    assert!(base.contains("relative_risk = 0.5"), "the edit below must apply");
    std::fs::write(
        dir.path().join("edited.toml"),
        base.replacen("relative_risk = 0.5", "relative_risk = 0.8", 1),
    )
    .expect("write");
    let expected = |args: &[&str]| {
        let out = common::run_in(dir.path(), &[&["expected"], args].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        json["expected"].clone()
    };
    let plain = expected(&["s.toml"]);
    let overridden = expected(&["s.toml", "--set", "intervention.effects[0].relative_risk=0.8"]);
    assert_eq!(overridden, expected(&["edited.toml"]));
    assert_ne!(overridden, plain, "the override changes the intervention arm");
    let ok = common::run_in(dir.path(), &["validate", "s.toml", "--set", "fund.capital=60000"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    for command in ["validate", "expected"] {
        let out = common::run_in(dir.path(), &[command, "s.toml", "--set", "fund.capitl=5"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("fund.capitl") && stderr.contains("unknown key"),
            "{stderr}"
        );
    }
}

/// In a portfolio, `contracts.<name>.<key>` changes that contract only.
#[test]
fn a_portfolio_override_reaches_the_named_contract_only() {
    let portfolio = common::bundled("lapset-sib.toml");
    let load = |sets: &[(String, String)]| {
        let Loaded::Portfolio(p) = load_any_with(&portfolio, sets).expect("valid") else {
            panic!("portfolio")
        };
        p
    };
    let plain = load(&[]);
    let changed = load(&[
        (
            "contracts.helsinki.contract.payments[0].price".to_string(),
            "61000".to_string(),
        ),
        ("fund.management_fee".to_string(), "0.02".to_string()),
    ]);
    let price = |p: &sibsim::model::portfolio::Portfolio, name: &str| {
        let c = p.contracts.iter().find(|c| c.name == name).expect("contract");
        format!("{:?}", c.contract)
    };
    assert!(
        price(&changed, "helsinki").contains("61000"),
        "{}",
        price(&changed, "helsinki")
    );
    assert!(!price(&plain, "helsinki").contains("61000"));
    assert_eq!(price(&changed, "lohja"), price(&plain, "lohja"));
    assert!((changed.fund.management_fee - 0.02).abs() < 1e-15);
    assert_ne!(changed.digest, plain.digest, "shards of the two must not merge");

    let dir = tempfile::tempdir().expect("tempdir");
    let path = portfolio.to_str().expect("utf-8");
    let out = common::run_in(
        dir.path(),
        &[
            "run",
            path,
            "--replications",
            "1",
            "--set",
            "contracts.nope.contract.max_total=1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no contract named `nope`") && err.contains("helsinki"),
        "{err}"
    );
}

/// An override's error names the flag as typed; an error elsewhere in the
/// changed file points at the user's own line and says which overrides
/// were applied (the file keeps its layout: toml_edit, not re-serialised).
#[test]
fn override_errors_point_at_the_flag_or_the_users_own_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!("{}{CONTRACT}", common::BASE);
    std::fs::write(dir.path().join("s.toml"), &text).expect("write");
    let stderr = |flags: &[&str]| {
        let mut args = vec!["run", "s.toml", "--quiet", "--out", "out"];
        args.extend_from_slice(flags);
        let out = common::run_in(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let own = stderr(&["--set", "contract.payments[0].price=-5"]);
    assert!(
        own.starts_with("error: --set contract.payments[0].price=-5: contract.payments[0].price: "),
        "{own}"
    );
    let swept = stderr(&["--sweep", "contract.payments[0].price=5,-5"]);
    assert!(
        swept.starts_with("error: --sweep contract.payments[0].price=-5: contract.payments[0].price: "),
        "{swept}"
    );
    // A horizon of 3 leaves the payment at cycle 5 outside it: the error is
    // at the file's own `at = [2, 5]` line.
    let line = text
        .lines()
        .position(|l| l.starts_with("at = [2, 5]"))
        .expect("the dates")
        + 1;
    let elsewhere = stderr(&["--set", "time.horizon=3"]);
    assert!(
        elsewhere.starts_with(&format!("error: s.toml:{line}:")),
        "line {line}: {elsewhere}"
    );
    assert!(elsewhere.contains("(with --set time.horizon=3)"), "{elsewhere}");
}

/// A portfolio's sweep.csv has each contract's columns beside the pooled
/// ones: sweeping one contract's price moves its payments only.
#[test]
fn a_portfolio_sweep_has_per_contract_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let portfolio = common::bundled("lapset-sib.toml");
    let out = common::run_in(
        dir.path(),
        &[
            "run",
            portfolio.to_str().expect("utf-8"),
            "--replications",
            "40",
            "--quiet",
            "--out",
            "out",
            "--sweep",
            "contracts.helsinki.contract.payments[0].price=50000,60000",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = std::fs::read_to_string(dir.path().join("out/lapset-sib/sweep.csv")).expect("sweep.csv");
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let column = |name: &str| {
        let k = rows[0]
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        rows[1..]
            .iter()
            .map(|r| r[k].parse::<f64>().expect("number"))
            .collect::<Vec<_>>()
    };
    let helsinki = column("contracts.helsinki.payer.payments.mean");
    assert!(helsinki[1] > helsinki[0], "{helsinki:?}");
    let lohja = column("contracts.lohja.payer.payments.mean");
    assert_eq!(
        lohja[0].to_bits(),
        lohja[1].to_bits(),
        "another contract's payments stay"
    );
    assert!(column("P(contracts.lohja.investor.loss)")
        .iter()
        .all(|p| (0.0..=1.0).contains(p)));
    assert!(rows.iter().all(|r| r.len() == rows[0].len()));
}
