//! Valid but implausible inputs run, with a warning on stderr that says
//! what looks wrong.

mod common;

fn stderr_of(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = common::run_in(dir.path(), args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_rate_typed_as_a_percentage_is_flagged_but_runs() {
    let scenario = common::bundled("hameenlinna-icehearts.toml");
    let file = scenario.to_str().unwrap();
    let stderr = stderr_of(&[
        "run",
        file,
        "--replications",
        "20",
        "--quiet",
        "--set",
        "discounting.payer_rate=3",
    ]);
    assert!(
        stderr.contains("warning:") && stderr.contains("discounting.payer_rate = 3 is 300 %"),
        "{stderr}"
    );
    let stderr = stderr_of(&["run", file, "--replications", "20", "--quiet"]);
    assert!(!stderr.contains("warning:"), "{stderr}");
}

#[test]
fn a_fund_that_overruns_its_commitment_is_flagged() {
    let scenario = common::bundled("hameenlinna-icehearts.toml");
    let args = [
        "run",
        scenario.to_str().unwrap(),
        "--replications",
        "20",
        "--quiet",
        "--set",
        "fund.capital=1000",
    ];
    let stderr = stderr_of(&args);
    assert!(
        stderr.contains("calls more than its committed capital in 100.0 %"),
        "{stderr}"
    );
}
