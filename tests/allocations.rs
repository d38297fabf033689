//! A replication allocates nothing once its thread's buffers have their
//! sizes: the trajectories, parameter draws, shock path, contract, fund and
//! every statistic of the record are written into reused space. Counted by
//! a global allocator that counts this thread's allocations (so the test
//! harness's other threads do not disturb the count). Not timed.

use sibsim::run::job::Job;
use sibsim::sim::record::Record;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // A thread being torn down has no counter left; it is not ours.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

/// Replications run before counting: a thread's buffers take their sizes.
const WARM_UP: u64 = 20;
/// Replications counted.
const COUNTED: u64 = 300;

/// Allocations in each counted replication of `job` (seed 7) that a review
/// did not terminate (a termination recompiles the programme's end, rare
/// and allowed to allocate), and how many replications were counted.
fn allocations_per_replication(job: &Job, fixed_shock: Option<f64>) -> (Vec<(u64, u64)>, u64) {
    let mut record = Record::default();
    let mut allocating = Vec::new();
    let mut counted = 0;
    match job {
        Job::Single(engine) => {
            let mut engine = engine.as_ref().clone();
            engine.fixed_shock = fixed_shock;
            let terminated = engine.event_names.iter().position(|n| n == "contract.terminated");
            let mut workspaces = engine.workspace();
            for r in 0..WARM_UP + COUNTED {
                let before = allocations();
                engine.replicate_in(7, 0, r, None, &mut workspaces, &mut record, None);
                let made = allocations() - before;
                if r < WARM_UP || terminated.is_some_and(|k| record.events[k]) {
                    continue;
                }
                counted += 1;
                if made > 0 {
                    allocating.push((r, made));
                }
            }
        }
        Job::Portfolio(portfolio) => {
            let mut portfolio = portfolio.as_ref().clone();
            portfolio.fixed_shock = fixed_shock;
            let mut workspace = portfolio.workspace();
            for r in 0..WARM_UP + COUNTED {
                let before = allocations();
                portfolio.replicate(7, r, &mut workspace, &mut record, None);
                let made = allocations() - before;
                if r < WARM_UP {
                    continue;
                }
                counted += 1;
                if made > 0 {
                    allocating.push((r, made));
                }
            }
        }
    }
    (allocating, counted)
}

#[test]
fn no_bundled_scenario_allocates_in_a_replication() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("scenarios folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the bundled scenarios: {files:?}");
    let before = allocations();
    let _ = vec![0u8; 16];
    assert_eq!(
        allocations() - before,
        1,
        "the counter counts this thread's allocations"
    );
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == "finland-national.toml" || name == "bench-6x1000x20.toml" {
            // Large (the national cohort, the synthetic bench): the same
            // engine paths as the others, too slow for 320 replications in
            // a debug build.
            continue;
        }
        let job = Job::load(&file, &[]).expect("a bundled scenario loads");
        for shock in [None, Some(0.3)] {
            let (allocating, counted) = allocations_per_replication(&job, shock);
            assert!(counted > COUNTED / 2, "{name}: only {counted} replications counted");
            assert!(
                allocating.is_empty(),
                "{name}, shock {shock:?}: {} of {counted} replications allocate; the first (replication, allocations): {:?}",
                allocating.len(),
                &allocating[..allocating.len().min(5)]
            );
        }
    }
}
