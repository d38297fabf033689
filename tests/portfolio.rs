//! Portfolios: pooled figures are the sum of the contracts', and a shared
//! shock makes the contracts' payments move together.

mod common;

use sibsim::scenario::{load_any, Loaded};
use sibsim::sim::parallel::RunOptions;
use sibsim::sim::portfolio::PortfolioEngine;
use sibsim::stats::run::correlation;
use std::path::Path;

const CONTRACT: &str = "[contract]\n[[contract.payments]]\nmetric = \"care_years\"\nbaseline = \"expected\"\nrule = \"rate_card\"\nprice = 1000.0\nat = [5]\n[fund]\ncapital = 100000.0\n";

fn setup(dir: &Path, shock: &str) -> PortfolioEngine {
    for name in ["north", "south"] {
        let text = format!(
            "{}{CONTRACT}",
            common::BASE
                .replace("name = \"base\"", &format!("name = \"{name}\""))
                .replace("children = 20", "children = 60")
        );
        std::fs::write(dir.join(format!("{name}.toml")), text).expect("write");
    }
    let portfolio = format!("name = \"pool\"\n[portfolio]\ncontracts = [\"north.toml\", \"south.toml\"]\n[fund]\ncapital = 200000.0\nmanagement_fee = 0.01\n{shock}");
    std::fs::write(dir.join("pool.toml"), portfolio).expect("write");
    match load_any(&dir.join("pool.toml")).expect("valid portfolio") {
        Loaded::Portfolio(p) => PortfolioEngine::new(*p),
        Loaded::Single(_) => panic!("a portfolio"),
    }
}

#[test]
fn pooled_payments_are_the_sum_of_the_contracts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = setup(dir.path(), "");
    let r = engine.run(&RunOptions::new(8, 200)).expect("runs");
    let pooled = r.column("payer.payments").expect("pooled");
    let north = r.column("contracts.north.payer.payments").expect("north");
    let south = r.column("contracts.south.payer.payments").expect("south");
    for i in 0..pooled.len() {
        assert!((pooled[i] - north[i] - south[i]).abs() < 1e-6, "replication {i}");
    }
    let savings = r.column("payer.true_savings").expect("pooled");
    let parts = r
        .column("contracts.north.payer.true_savings")
        .expect("north")
        .iter()
        .zip(r.column("contracts.south.payer.true_savings").expect("south"));
    for (s, (a, b)) in savings.iter().zip(parts) {
        assert!((s - a - b).abs() < 1e-6);
    }
}

#[test]
fn a_shared_shock_correlates_the_contracts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let payments = |shock: &str| {
        let engine = setup(dir.path(), shock);
        let r = engine.run(&RunOptions::new(8, 1500)).expect("runs");
        correlation(
            r.column("contracts.north.payer.payments").expect("north"),
            r.column("contracts.south.payer.payments").expect("south"),
        )
    };
    let independent = payments("");
    let shocked = payments("[uncertainty.shock]\nsd = 0.8\nautocorrelation = 0.7\n");
    // Independent streams: correlation ~ N(0, 1/√1500 ≈ 0.026).
    assert!(
        independent.abs() < 0.13,
        "independent contracts correlate at {independent}"
    );
    assert!(
        shocked > independent + 0.25,
        "shock: {shocked} vs independent {independent}"
    );
}

#[test]
fn the_portfolio_command_writes_per_contract_figures_and_correlations() {
    let dir = tempfile::tempdir().expect("tempdir");
    setup(dir.path(), "[uncertainty.shock]\nsd = 0.5\nautocorrelation = 0.5\n");
    let out = common::run_in(
        dir.path(),
        &["run", "pool.toml", "--replications", "300", "--quiet", "--out", "out"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/pool/summary.json")).expect("summary"))
            .expect("json");
    assert!(json["statistics"]["investor.irr"].is_object() || json["statistics"]["investor.irr"].is_null());
    assert!(json["statistics"]["contracts.north.payer.payments"]["mean"].is_number());
    assert_eq!(json["payment_correlation"]["contracts"][1], "south");
    assert_eq!(json["payment_correlation"]["matrix"][0][0], 1.0);
}
