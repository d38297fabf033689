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

#[test]
fn an_effect_on_moves_that_never_happen_is_flagged() {
    let scenario = common::bundled("tampere.toml");
    let file = scenario.to_str().unwrap();
    // tampere's baseline never moves a youth from no_degree_idle straight
    // to degree_active, so an effect on that move alone changes nothing.
    let stderr = stderr_of(&[
        "run",
        file,
        "--replications",
        "20",
        "--quiet",
        "--set",
        "intervention.effects[1].targets=[\"degree_active\"]",
    ]);
    assert!(
        stderr.contains("intervention.effects[1] changes nothing") && stderr.contains("no_degree_idle → degree_active"),
        "{stderr}"
    );
    // `validate` says it too, and still passes the file.
    let stderr = stderr_of(&[
        "validate",
        file,
        "--set",
        "intervention.effects[1].targets=[\"degree_active\"]",
    ]);
    assert!(
        stderr.contains("warning:") && stderr.contains("changes nothing"),
        "{stderr}"
    );
    // One named move with mass is enough: no warning.
    let stderr = stderr_of(&[
        "run",
        file,
        "--replications",
        "20",
        "--quiet",
        "--set",
        "intervention.effects[1].targets=[\"degree_active\", \"studying\"]",
    ]);
    assert!(!stderr.contains("changes nothing"), "{stderr}");
}
