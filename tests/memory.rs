//! Memory does not grow with replications: a run keeps its statistics'
//! state, not their values. Alone in its test binary, so that the peak it
//! reads (`VmHWM`, Linux) is this test's. Not timed.

mod common;

use sibsim::run::job::Job;
use sibsim::sim::parallel::RunOptions;

/// Peak resident memory of this process so far, in bytes.
fn peak() -> Option<u64> {
    sibsim::run::bench::peak_resident_bytes()
}

#[test]
fn a_hundred_times_the_replications_take_about_the_same_memory() {
    if peak().is_none() {
        eprintln!("skipped: this system does not report peak memory");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = common::write(
        dir.path(),
        "tiny.toml",
        &common::BASE.replace("children = 20", "children = 4"),
    );
    let job = Job::load(&file, &[]).expect("loads");
    let small = job.run_state(&RunOptions::new(3, 10_000)).expect("runs");
    let after_small = peak().expect("peak");
    let large = job.run_state(&RunOptions::new(3, 1_000_000)).expect("runs");
    let after_large = peak().expect("peak");
    assert_eq!((small.replications, large.replications), (10_000, 1_000_000));
    assert!(
        (after_large as f64) < 1.3 * after_small as f64,
        "peak {after_small} bytes after 10^4 replications, {after_large} after 10^6"
    );

    // Kept replications are streamed to disk, not held: holding these
    // 2·10^5 would take tens of MB.
    let rows = tempfile::tempdir().expect("tempdir");
    let replications = 200_000;
    let mut options = RunOptions::new(3, replications);
    options.threads = Some(2);
    let (kept, spool) = job.run_state_spooled(&options, Some(rows.path())).expect("runs");
    let csv = rows.path().join("replications.csv");
    spool
        .expect("a spool")
        .assemble(&kept.names, &kept.event_names, &csv)
        .expect("assembles");
    let after_kept = peak().expect("peak");
    let values = replications as f64 * (kept.names.len() as f64 * 8.0);
    assert!(
        (after_kept as f64) < after_small as f64 + values / 2.0,
        "peak {after_kept} bytes after keeping {replications} replications ({values} bytes of values), {after_small} after 10^4"
    );
    let text = std::fs::read_to_string(&csv).expect("reads");
    let indices: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().and_then(|i| i.parse().ok()).expect("an index"))
        .collect();
    assert_eq!(
        indices,
        (0..replications).collect::<Vec<u64>>(),
        "one row per replication, in order"
    );
}
