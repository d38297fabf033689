//! Replications spread over threads, results in replication order: the same
//! records on any number of threads, because each replication's random
//! numbers depend only on its index.

use super::record::Record;
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

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
    match options.threads {
        None => work(),
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Runtime(format!("cannot start {threads} threads: {e}")))?
            .install(work),
    }
}
