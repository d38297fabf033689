//! Memory stays flat in replications on many threads too: each worker holds
//! one chunk's state, so chunks that grew with the replications (they did,
//! up to 2.6·10⁵ replications on 16 threads) or an allocator that keeps an
//! arena a thread (each holding its own free pieces of the total's bins)
//! made a run's peak grow by 1.4× between 10⁵ and 10⁶ replications of
//! `hameenlinna-icehearts` on 16 threads. Runs the command line, whose
//! `bench` reports its own peak resident memory. Not timed.

use std::path::Path;
use std::process::Command;

/// `sibsim bench`'s peak resident memory for `replications` of `scenario`
/// on 16 threads (one timed run, no warm-up); `None` where the system does
/// not report it.
fn peak_on_16_threads(scenario: &Path, replications: u64) -> Option<u64> {
    let output = Command::new(env!("CARGO_BIN_EXE_sibsim"))
        .arg("bench")
        .arg(scenario)
        .args(["--threads", "16", "--runs", "1", "--warmup", "0", "--json"])
        .args(["--replications", &replications.to_string()])
        .output()
        .expect("sibsim bench starts");
    assert!(
        output.status.success(),
        "sibsim bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("bench --json prints JSON");
    report["peak_resident_bytes"].as_u64()
}

#[test]
fn sixteen_workers_take_about_the_same_memory_for_ten_times_the_replications() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hameenlinna-icehearts.toml");
    let Some(small) = peak_on_16_threads(&scenario, 100_000) else {
        eprintln!("skipped: this system does not report peak memory");
        return;
    };
    let large = peak_on_16_threads(&scenario, 1_000_000).expect("peak reported once, so again");
    assert!(
        (large as f64) < 1.2 * small as f64,
        "16 threads: peak {small} bytes for 10^5 replications, {large} for 10^6 ({:.2}x)",
        large as f64 / small as f64
    );
}
