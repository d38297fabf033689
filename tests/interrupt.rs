//! Ctrl-C stops a run promptly and leaves no results folder.

mod common;

use std::time::Duration;

#[test]
fn sigint_stops_the_run_and_writes_nothing() {
    let scenario = common::bundled("bench-6x1000x20.toml");
    common::stops_on(
        "-INT",
        &[
            "run",
            scenario.to_str().expect("utf-8"),
            "--replications",
            "2000000",
            "--quiet",
            "--out",
            "out",
        ],
        Duration::from_millis(700),
    );
}
