//! Golden snapshots: the exact bytes sibsim writes for a few small runs.
//!
//! A change that moves any byte of a result file shows up here as a diff
//! (`cargo insta review` to inspect, accept only when the change is meant and
//! its commit says why). Text files are stored whole; pictures are stored as
//! SHA-256 digests so the snapshot stays readable while still catching every
//! changed byte.

mod common;

use sha2::{Digest, Sha256};
use std::path::Path;

fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Replaces every inline `<svg …</svg>` with its digest, so the report's
/// text stays readable in the snapshot.
fn report_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("</svg>")
            .map(|at| start + at + 6)
            .expect("closed svg");
        out.push_str(&format!("<svg sha256={}/>", digest(&rest.as_bytes()[start..end])));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Every file of a results folder: text whole, pictures by digest.
fn folder_snapshot(folder: &Path) -> Vec<(String, String)> {
    let mut names: Vec<_> = std::fs::read_dir(folder)
        .expect("results folder")
        .map(|entry| entry.expect("entry").file_name().into_string().expect("utf-8 name"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(folder.join(&name)).expect("read result file");
            let shown = if name.ends_with(".svg") {
                format!("sha256 {}", digest(&bytes))
            } else if name.ends_with(".html") {
                report_text(std::str::from_utf8(&bytes).expect("utf-8 report"))
            } else {
                String::from_utf8(bytes).expect("utf-8 text")
            };
            (name, shown)
        })
        .collect()
}

fn check_run(scenario: &str, args: &[&str], label: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = common::bundled(scenario);
    let mut all = vec!["run", path.to_str().unwrap(), "--out", "out"];
    all.extend_from_slice(args);
    let output = common::run_in(dir.path(), &all);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let name = scenario.trim_end_matches(".toml");
    for (file, text) in folder_snapshot(&dir.path().join("out").join(name)) {
        insta::assert_snapshot!(format!("{label}__{file}"), text);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    insta::assert_snapshot!(format!("{label}__stdout"), without_times(&stdout));
}

/// The terminal line "…, 0.01 s -> out/…" carries a wall time: mask it.
fn without_times(text: &str) -> String {
    text.lines()
        .map(|line| match (line.rfind(", "), line.find(" s -> ")) {
            (Some(start), Some(end)) if start < end => format!("{}, [time]{}", &line[..start], &line[end..]),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn single_contract_with_uncertainty() {
    check_run(
        "hameenlinna-icehearts.toml",
        &[
            "--replications",
            "150",
            "--seed",
            "11",
            "--keep-replications",
            "--threads",
            "2",
        ],
        "hameenlinna",
    );
}

#[test]
fn portfolio_of_contracts() {
    check_run("lapset-sib.toml", &["--replications", "120", "--seed", "5"], "lapset");
}

#[test]
fn price_sweep() {
    check_run(
        "hameenlinna-icehearts.toml",
        &[
            "--replications",
            "60",
            "--seed",
            "3",
            "--sweep",
            "contract.payments[0].price=30000,45000",
            "--quiet",
        ],
        "sweep",
    );
}

#[test]
fn exact_expectation() {
    let output = common::sibsim()
        .args([
            "expected",
            common::bundled("vantaa-perhekumppani.toml").to_str().unwrap(),
        ])
        .output()
        .expect("sibsim runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    insta::assert_snapshot!("expected_vantaa", String::from_utf8_lossy(&output.stdout));
}
