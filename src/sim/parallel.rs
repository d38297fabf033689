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
/// each worker holds one chunk's state, so this sets memory a thread. At
/// 2,000, 16 workers' states grew with the chunks from 10⁵ replications
/// (781 a chunk, for 8 a thread) to 2.6·10⁵, and `hameenlinna-icehearts`
/// on 16 threads took 1.47× the memory at 10⁷ as at 10⁵; at 500 the
/// chunks are the same size from 6.4·10⁴ replications on (1 % more
/// instructions on one thread, for the extra merges).
const CHUNK_REPLICATIONS: u64 = 500;

/// The most chunks a fold splits its replications into by size: past
/// 500 × 2²⁴ ≈ 8·10⁹ replications in one run, chunks grow again.
const MOST_CHUNKS: u64 = 1 << 24;

/// Chunks merged into a stripe's recent part before it joins the rest.
const RECENT_CHUNKS: u32 = 8;

/// The most stripes a fold's total is split into (one a thread below).
const MOST_STRIPES: usize = 64;

/// One of the stripes a fold's total is split into, each under a lock of
/// its own: a state's parts (its statistics, say) are dealt out to the
/// stripes, so workers that finish chunks at once merge different parts
/// side by side instead of queueing for one lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stripe {
    /// This stripe, `0..count`.
    pub index: usize,
    /// Stripes in all.
    pub count: usize,
}

impl Stripe {
    /// The whole state as one stripe.
    pub const WHOLE: Stripe = Stripe { index: 0, count: 1 };

    /// Whether part `part` lies in this stripe.
    pub fn holds(self, part: usize) -> bool {
        part % self.count == self.index
    }

    /// Whether this is the stripe that also carries what is not dealt out
    /// (replication and event counts, say): the first.
    pub fn is_first(self) -> bool {
        self.index == 0
    }
}

/// What [`replicate_fold`] folds replications into, and how such states
/// merge. Merges must be exact and order-free (as `stats::RunState`'s
/// are): chunks merge in whatever order they end, stripe by stripe.
pub trait Fold: Sync + Send {
    /// The state.
    type State: Send;
    /// An empty state.
    fn empty(&self) -> Self::State;
    /// Adds replication `replication`'s record.
    fn add(&self, state: &mut Self::State, replication: u64, record: &Record);
    /// Makes a finished chunk's state ready to merge (outside any lock;
    /// binning what waits, say).
    fn seal(&self, _chunk: &mut Self::State) {}
    /// Adds `stripe`'s parts of `chunk` into `total` (called under the
    /// stripe's lock, once for each stripe). It may rearrange `chunk`'s
    /// parts (keeping the values they hold), which are merged or reset next.
    fn merge(&self, total: &mut Self::State, chunk: &mut Self::State, stripe: Stripe);
    /// Empties a state whose every stripe has been merged, keeping what it
    /// allocated for the next chunk.
    fn reset(&self, state: &mut Self::State);
    /// Takes in a worker's state once the run has ended (its last chunk
    /// merged and reset): what it carried from chunk to chunk outside the
    /// merges (an open file, say). Nothing by default.
    fn retire(&self, _total: &mut Self::State, _worker: Self::State) {}
}

/// A thread's worker between chunks: its scratch space, state and record.
type Slot<S, A> = Mutex<Option<(S, A, Record)>>;

/// A stripe of a fold's total, in two exact parts: chunks merge into
/// `recent`, and `recent` into `settled` every [`RECENT_CHUNKS`] merges, so
/// a merge under the lock mostly walks a few chunks' bins, not the whole
/// run's.
struct Total<A> {
    settled: A,
    recent: A,
    merges: u32,
}

/// A fold's total as stripes, one lock each.
struct StripedTotal<A> {
    stripes: Vec<Mutex<Total<A>>>,
}

impl<A> StripedTotal<A> {
    /// `count` empty stripes (at least one).
    fn new<D: Fold<State = A>>(fold: &D, count: usize) -> StripedTotal<A> {
        let stripes = (0..count.max(1))
            .map(|_| {
                Mutex::new(Total {
                    settled: fold.empty(),
                    recent: fold.empty(),
                    merges: 0,
                })
            })
            .collect();
        StripedTotal { stripes }
    }

    fn stripe(&self, index: usize) -> Stripe {
        Stripe {
            index,
            count: self.stripes.len(),
        }
    }

    /// Merges a sealed chunk stripe by stripe, from stripe `first` on, so
    /// that workers finishing together take different locks. Exact states:
    /// the order and grouping of merges do not matter.
    fn merge_chunk<D: Fold<State = A>>(&self, fold: &D, chunk: &mut A, first: usize) {
        let count = self.stripes.len();
        for step in 0..count {
            let index = (first + step) % count;
            let stripe = self.stripe(index);
            let mut total = self.stripes[index].lock().unwrap_or_else(PoisonError::into_inner);
            let total = &mut *total;
            fold.merge(&mut total.recent, chunk, stripe);
            total.merges += 1;
            if total.merges.is_multiple_of(RECENT_CHUNKS) {
                fold.merge(&mut total.settled, &mut total.recent, stripe);
                fold.reset(&mut total.recent);
            }
        }
    }

    /// The whole total: each stripe holds only its own parts, which join
    /// the first stripe's.
    fn into_whole<D: Fold<State = A>>(self, fold: &D) -> A {
        let mut whole = None;
        let count = self.stripes.len();
        for (index, total) in self.stripes.into_iter().enumerate() {
            let Total {
                mut settled,
                mut recent,
                ..
            } = total.into_inner().unwrap_or_else(PoisonError::into_inner);
            let stripe = Stripe { index, count };
            fold.merge(&mut settled, &mut recent, stripe);
            match whole.as_mut() {
                None => whole = Some(settled),
                Some(whole) => fold.merge(whole, &mut settled, stripe),
            }
        }
        whole.unwrap_or_else(|| fold.empty())
    }
}

/// Runs every replication like [`replicate_all`], but folds each record
/// (with its replication's index) into a state as soon as it is made (its
/// worker's, merged into the total at the end of each chunk of the work)
/// instead of keeping it: memory does not grow with replications, and
/// grows with threads by one chunk's state each. A worker reuses its
/// workspace, record and state from chunk to chunk, so a run allocates
/// them once a worker, not once a chunk. The total is split into stripes
/// (see [`Stripe`]), one a thread, each under its own lock.
/// With exact, order-free states (`stats::RunState`), the result is the
/// same on any number of threads.
///
/// # Errors
/// [`Error::Interrupted`] when cancelled; [`Error::Runtime`] when the
/// thread pool cannot be built.
pub fn replicate_fold<S, I, F, D>(options: &RunOptions, init: I, replicate: F, fold: &D) -> Result<D::State>
where
    S: Send,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, u64, &mut Record) + Sync + Send,
    D: Fold,
{
    let stopped = AtomicBool::new(false);
    let cancelled = || options.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let work = || -> D::State {
        // A few long chunks a thread, each folded into its worker's state
        // and merged into the total as soon as it ends: besides the total,
        // only the workers (one a thread) hold a state, and each of those
        // only its chunk's share of the histogram bins.
        // At least 8 chunks a thread (load balance), and chunks of at most
        // 500 replications up to 2²⁴ chunks: a running chunk's state holds
        // only the bins its own replications touch.
        let threads = rayon::current_num_threads();
        let by_size = options.replications.div_ceil(CHUNK_REPLICATIONS).min(MOST_CHUNKS);
        let chunks = (8 * threads as u64).max(by_size).clamp(1, options.replications.max(1));
        // In u128: replications × chunks may not fit in a u64.
        let bounds =
            |k: u64| options.first + (u128::from(options.replications) * u128::from(k) / u128::from(chunks)) as u64;
        // Merging a chunk walks the total's bins: measured on one thread at
        // about 5 % of a run's work, so 16 threads queueing for one lock
        // would spend most of their time waiting.
        let total = StripedTotal::new(fold, threads.clamp(1, MOST_STRIPES));
        // One worker a thread for the whole run, kept between chunks in its
        // thread's slot: rayon's `for_each_init` made one a split, which on
        // 16 threads was one a chunk (125 of 128), each compiling its own
        // drawn engine on its first replication.
        let slots: Vec<Slot<S, D::State>> = (0..threads).map(|_| Mutex::new(None)).collect();
        let thread = || rayon::current_thread_index().unwrap_or(0);
        let slot = || &slots[thread() % slots.len()];
        (0..chunks).into_par_iter().for_each(|k| {
            let held = slot().lock().unwrap_or_else(PoisonError::into_inner).take();
            let mut worker = held.unwrap_or_else(|| (init(), fold.empty(), Record::default()));
            {
                let (scratch, state, record) = &mut worker;
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
                    fold.add(state, r, record);
                    if let Some(progress) = options.progress {
                        progress(1);
                    }
                }
                fold.seal(state);
                total.merge_chunk(fold, state, thread());
                fold.reset(state);
            }
            *slot().lock().unwrap_or_else(PoisonError::into_inner) = Some(worker);
        });
        let mut whole = total.into_whole(fold);
        for slot in slots {
            if let Some((_, state, _)) = slot.into_inner().unwrap_or_else(PoisonError::into_inner) {
                fold.retire(&mut whole, state);
            }
        }
        whole
    };
    let folded = on_threads(options.threads, work)?;
    if stopped.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    Ok(folded)
}
