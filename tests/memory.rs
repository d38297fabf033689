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
}
