//! Valid but implausible inputs run, with a warning on stderr that says
//! what looks wrong.

mod common;

fn stderr_of(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = common::run_in(dir.path(), args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The stderr of `command` (`run`, 20 replications, or `validate`) on the
/// bundled scenario `file`, with each of `sets` as a `--set`.
fn warned(command: &str, file: &str, sets: &[&str]) -> String {
    let scenario = common::bundled(file);
    let mut args = vec![command, scenario.to_str().unwrap()];
    if command == "run" {
        args.extend(["--replications", "20", "--quiet"]);
    }
    for set in sets {
        args.extend(["--set", set]);
    }
    stderr_of(&args)
}

#[test]
fn a_rate_typed_as_a_percentage_is_flagged_but_runs() {
    let stderr = warned("run", "hameenlinna-icehearts.toml", &["discounting.payer_rate=3"]);
    assert!(
        stderr.contains("warning:") && stderr.contains("discounting.payer_rate = 3 is 300 %"),
        "{stderr}"
    );
    let stderr = warned("run", "hameenlinna-icehearts.toml", &[]);
    assert!(!stderr.contains("warning:"), "{stderr}");
}

#[test]
fn a_fund_that_overruns_its_commitment_is_flagged() {
    let stderr = warned("run", "hameenlinna-icehearts.toml", &["fund.capital=1000"]);
    assert!(
        stderr.contains("calls more than its committed capital in 100.0 %"),
        "{stderr}"
    );
}

#[test]
fn an_effect_on_moves_that_never_happen_is_flagged() {
    // tampere's baseline never moves a youth from no_degree_idle straight
    // to degree_active, so an effect on that move alone changes nothing.
    let only_that_move = "intervention.effects[1].targets=[\"degree_active\"]";
    let stderr = warned("run", "tampere.toml", &[only_that_move]);
    assert!(
        stderr.contains("intervention.effects[1] changes nothing") && stderr.contains("no_degree_idle → degree_active"),
        "{stderr}"
    );
    // `validate` says it too, and still passes the file.
    let stderr = warned("validate", "tampere.toml", &[only_that_move]);
    assert!(
        stderr.contains("warning:") && stderr.contains("changes nothing"),
        "{stderr}"
    );
    // One named move with mass is enough: no warning.
    let stderr = warned(
        "run",
        "tampere.toml",
        &["intervention.effects[1].targets=[\"degree_active\", \"studying\"]"],
    );
    assert!(!stderr.contains("changes nothing"), "{stderr}");
}
