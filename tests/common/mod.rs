//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The built `sibsim` binary.
pub fn sibsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sibsim"))
}

/// Runs `sibsim` with arguments in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    sibsim().current_dir(dir).args(args).output().expect("sibsim runs")
}

/// Path of a bundled scenario.
pub fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write scenario");
    path
}

/// A small valid scenario that every error test starts from.
pub const BASE: &str = r#"name = "base"
[time]
cycle_years = 1.0
horizon = 6
[[states]]
name = "home"
cost = 0.0
[[states]]
name = "care"
cost = 40000.0
[[states]]
name = "out"
absorbing = true
[cohort]
exit_age = 18
exit_state = "out"
[[cohort.waves]]
cycle = 0
children = 20
age = 14
initial = { home = 0.9, care = 0.1 }
[baseline]
matrix = [
  [0.9, 0.1, 0.0],
  [0.3, 0.7, 0.0],
  [0.0, 0.0, 1.0],
]
[intervention]
duration = 3
cost_per_child_cycle = 1000.0
[[intervention.effects]]
relative_risk = 0.5
targets = ["care"]
[discounting]
payer_rate = 0.03
[[metrics]]
name = "care_years"
kind = "state_cycles"
states = ["care"]
"#;

/// |mean − exact| ≤ 5 SE (plus a hair for values with no spread).
pub fn within_five_se(name: &str, mean: f64, se: f64, exact: f64) {
    let tolerance = 5.0 * se + 1e-9 * exact.abs().max(1.0);
    assert!(
        (mean - exact).abs() <= tolerance,
        "{name}: Monte Carlo mean {mean} is {} SE from the exact {exact} (se {se})",
        (mean - exact).abs() / se
    );
}

/// Sends `signal` to a running sibsim after `wait` and expects it to stop
/// within 15 s with exit 1 and nothing under `out`.
pub fn stops_on(signal: &str, args: &[&str], wait: Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = sibsim()
        .current_dir(dir.path())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    std::thread::sleep(wait);
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("{signal} did not stop the run within 15 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1), "{signal}: interrupted runs exit 1");
    let out = dir.path().join("out");
    let left = std::fs::read_dir(&out).map_or(0, |d| d.count());
    assert_eq!(left, 0, "{signal}: nothing left in the results folder");
}

/// The value of a statistic of a hand-computable run, which must be the
/// same in every replication.
pub fn constant(results: &sibsim::sim::record::RunResults, name: &str) -> f64 {
    let column = results.column(name).unwrap_or_else(|| panic!("no statistic {name}"));
    assert!(
        column
            .windows(2)
            .all(|w| w[0] == w[1] || (w[0].is_nan() && w[1].is_nan())),
        "{name} varies: {column:?}"
    );
    column[0]
}
