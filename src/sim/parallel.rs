//! Replications spread over threads, results in replication order: the same
//! records on any number of threads, because each replication's random
//! numbers depend only on its index.

use super::record::Record;
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

/// How to run.
#[derive(Clone, Copy)]
pub struct RunOptions<'a> {
    /// Master seed.
    pub seed: u64,
    /// First replication index (shards start later).
    pub first: u64,
    /// Number of replications.
    pub replications: u64,
    /// Worker threads; None = all cores.
    pub threads: Option<usize>,
    /// Called with the number of replications just finished.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// Set to stop early; the run then fails with [`Error::Interrupted`].
    pub cancel: Option<&'a AtomicBool>,
}

impl RunOptions<'_> {
    /// Options for `replications` replications from index 0.
    pub fn new(seed: u64, replications: u64) -> RunOptions<'static> {
        RunOptions {
            seed,
            first: 0,
            replications,
            threads: None,
            progress: None,
            cancel: None,
        }
    }
}

/// Runs `replicate` for every replication index of `options` on rayon's
/// pool (or one of `options.threads`), with per-thread scratch from `init`,
/// and returns the records in replication order.
///
/// # Errors
/// [`Error::Interrupted`] when cancelled; [`Error::Runtime`] when the
/// thread pool cannot be built.
pub fn replicate_all<S, I, F>(options: &RunOptions, init: I, replicate: F) -> Result<Vec<Record>>
where
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, u64, &mut Record) + Sync + Send,
{
    let work = || -> Result<Vec<Record>> {
        // Collecting into Option<Vec> stops every worker at the first None
        // (a cancelled run), instead of walking the remaining indices.
        (options.first..options.first + options.replications)
            .into_par_iter()
            .map_init(&init, |scratch, r| {
                if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return None;
                }
                let mut record = Record::default();
                replicate(scratch, r, &mut record);
                // A replication cut short by cancellation is incomplete.
                if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return None;
                }
                if let Some(progress) = options.progress {
                    progress(1);
                }
                Some(record)
            })
            .collect::<Option<Vec<Record>>>()
            .ok_or(Error::Interrupted)
    };
    on_threads(options.threads, work)?
}

/// Runs `work` on rayon's pool, or on a pool of `threads` threads.
fn on_threads<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> Result<T> {
    match threads {
        None => Ok(work()),
        Some(threads) => Ok(rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Runtime(format!("cannot start {threads} threads: {e}")))?
            .install(work)),
    }
}

/// Replications a fold's chunk holds at most, below [`MOST_CHUNKS`] chunks:
/// each worker holds one chunk's state, so this sets memory a thread.
const CHUNK_REPLICATIONS: u64 = 2_000;

/// The most chunks a fold splits its replications into by size.
const MOST_CHUNKS: u64 = 1 << 16;

/// Chunks merged into the total's recent part before it joins the rest.
const RECENT_CHUNKS: u32 = 8;

/// A fold's total, in two exact parts: chunks merge into `recent`, and
/// `recent` into `settled` every [`RECENT_CHUNKS`] merges, so a merge under
/// the lock mostly walks a few chunks' bins, not the whole run's.
struct Total<A> {
    settled: A,
    recent: A,
    merges: u32,
}

/// Runs every replication like [`replicate_all`], but folds each record
/// (with its replication's index) into an accumulator as soon as it is
/// made (its worker's, merged into the total at the end of each chunk of
/// the work) instead of keeping it: memory does not grow with
/// replications, and grows with threads by one chunk's state each.
/// `merge` adds its second accumulator into the first and leaves the
/// second as `empty` makes one, keeping what it allocated: a worker reuses
/// its workspace, record and accumulator from chunk to chunk, so a run
/// allocates them once a worker, not once a chunk.
/// With exact, order-free accumulators (`stats::RunState`), the result is
/// the same on any number of threads.
///
/// # Errors
/// [`Error::Interrupted`] when cancelled; [`Error::Runtime`] when the
/// thread pool cannot be built.
pub fn replicate_fold<S, I, F, A, N, G, M>(
    options: &RunOptions,
    init: I,
    replicate: F,
    empty: N,
    add: G,
    merge: M,
) -> Result<A>
where
    S: Send,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, u64, &mut Record) + Sync + Send,
    A: Send,
    N: Fn() -> A + Sync + Send,
    G: Fn(&mut A, u64, &Record) + Sync + Send,
    M: Fn(&mut A, &mut A) + Sync + Send,
{
    let stopped = AtomicBool::new(false);
    let cancelled = || options.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let work = || -> A {
        // A few long chunks a thread, each folded into its worker's
        // accumulator and merged into the total as soon as it ends: besides
        // the total, only the workers (one a thread) hold a state, and each
        // of those only its chunk's share of the histogram bins.
        // At least 8 chunks a thread (load balance), and chunks of at most
        // 2,000 replications up to 65,536 chunks: a running chunk's state
        // holds only the bins its own replications touch.
        let by_size = options.replications.div_ceil(CHUNK_REPLICATIONS).min(MOST_CHUNKS);
        let chunks = (8 * rayon::current_num_threads() as u64)
            .max(by_size)
            .clamp(1, options.replications.max(1));
        // In u128: replications × chunks may not fit in a u64.
        let bounds =
            |k: u64| options.first + (u128::from(options.replications) * u128::from(k) / u128::from(chunks)) as u64;
        let total = Mutex::new(Total {
            settled: empty(),
            recent: empty(),
            merges: 0,
        });
        // One worker a thread for the whole run, kept between chunks in its
        // thread's slot: rayon's `for_each_init` made one a split, which on
        // 16 threads was one a chunk (125 of 128), each compiling its own
        // drawn engine on its first replication.
        let slots: Vec<Mutex<Option<(S, A, Record)>>> =
            (0..rayon::current_num_threads()).map(|_| Mutex::new(None)).collect();
        let slot = || &slots[rayon::current_thread_index().unwrap_or(0) % slots.len()];
        (0..chunks).into_par_iter().for_each(|k| {
            let held = slot().lock().unwrap_or_else(PoisonError::into_inner).take();
            let mut worker = held.unwrap_or_else(|| (init(), empty(), Record::default()));
            {
                let (scratch, accumulator, record) = &mut worker;
                for r in bounds(k)..bounds(k + 1) {
                    if stopped.load(Ordering::Relaxed) || cancelled() {
                        stopped.store(true, Ordering::Relaxed);
                        break;
                    }
                    replicate(scratch, r, record);
                    // A replication cut short by cancellation is incomplete.
                    if cancelled() {
                        stopped.store(true, Ordering::Relaxed);
                        break;
                    }
                    add(accumulator, r, record);
                    if let Some(progress) = options.progress {
                        progress(1);
                    }
                }
                // Exact accumulators: the order and grouping of merges do
                // not matter.
                let mut total = total.lock().unwrap_or_else(PoisonError::into_inner);
                let total = &mut *total;
                merge(&mut total.recent, accumulator);
                total.merges += 1;
                if total.merges % RECENT_CHUNKS == 0 {
                    merge(&mut total.settled, &mut total.recent);
                }
            }
            *slot().lock().unwrap_or_else(PoisonError::into_inner) = Some(worker);
        });
        let Total {
            mut settled,
            mut recent,
            ..
        } = total.into_inner().unwrap_or_else(PoisonError::into_inner);
        merge(&mut settled, &mut recent);
        settled
    };
    let folded = on_threads(options.threads, work)?;
    if stopped.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    Ok(folded)
}
