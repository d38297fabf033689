//! Ctrl-C stops a run promptly and leaves no results folder.

mod common;

use std::time::{Duration, Instant};

#[test]
fn sigint_stops_the_run_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = common::bundled("bench-6x1000x20.toml");
    let mut child = common::sibsim()
        .current_dir(dir.path())
        .args([
            "run",
            scenario.to_str().expect("utf-8"),
            "--replications",
            "2000000",
            "--quiet",
            "--out",
            "out",
        ])
        .spawn()
        .expect("starts");
    std::thread::sleep(Duration::from_millis(700));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "did not stop within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1), "interrupted runs exit 1");
    assert!(!dir.path().join("out/bench-6x1000x20").exists(), "no results folder");
    let leftovers = std::fs::read_dir(dir.path()).expect("list").count();
    assert!(
        leftovers == 0
            || !dir.path().join("out").exists()
            || std::fs::read_dir(dir.path().join("out")).expect("out").count() == 0
    );
}
