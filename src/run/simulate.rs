//! `run`: simulate scenario files and write their results folders (or, with
//! a shard spec, their mergeable shard folders).
//!
//! In two steps, so a caller can show estimates and progress between them:
//! [`RunRequest::plan`] loads every file and makes every check before
//! anything runs (one bad file means nothing runs); [`Plan::run`] runs one
//! planned file and writes its folder atomically.

use super::estimate::{available_memory, job_rate, Estimate};
use super::job::Job;
use crate::cluster::shard::{self, ShardMeta};
use crate::error::{InputError, Result};
use crate::files::{check_target, write_folder_with, Scratch};
use crate::report::{result_files, ENGINE_VERSION};
use crate::sim::parallel::RunOptions;
use crate::stats::{RunState, RunSummary};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// What to run and where to write it.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// Scenario or portfolio files, run in this order.
    pub scenarios: Vec<PathBuf>,
    /// `--set` overrides `(key path, value)`, applied to every file.
    pub sets: Vec<(String, String)>,
    /// Replications (default: each file's `[run] replications`).
    pub replications: Option<u64>,
    /// Master seed (default: each file's `[run] seed`).
    pub seed: Option<u64>,
    /// Worker threads; None = all cores. Results do not depend on it.
    pub threads: Option<usize>,
    /// The folder that receives `<name>/` (or the shard folders).
    pub out: PathBuf,
    /// Run only shard `(index, count)` of the replications.
    pub shard: Option<(u64, u64)>,
    /// Also write `replications.csv`.
    pub keep_replications: bool,
    /// Run even when the estimate is absurdly large.
    pub force: bool,
}

/// One planned file: its job, replication range and estimate.
pub struct Planned {
    /// The loaded scenario or portfolio.
    pub job: Job,
    /// The file it came from.
    pub path: PathBuf,
    /// Replications of the whole run (all shards).
    pub total: u64,
    /// First replication index of this run.
    pub first: u64,
    /// One past the last replication index of this run.
    pub end: u64,
    /// Master seed.
    pub seed: u64,
    /// Time and memory this run should take.
    pub estimate: Estimate,
}

/// Every file of a request, checked and ready to run.
pub struct Plan {
    /// The request.
    pub request: RunRequest,
    /// One entry per file, in request order.
    pub runs: Vec<Planned>,
}

/// Where a finished run was written.
pub enum Written {
    /// A full run: its results folder and its summary.
    Results {
        /// `<out>/<name>`.
        folder: PathBuf,
        /// The summary written there.
        report: Box<RunSummary>,
    },
    /// A shard: its folder, mergeable with the others.
    Shard {
        /// `<out>/<name>.shard-I-of-N`.
        folder: PathBuf,
    },
}

/// One finished file.
pub struct Finished {
    /// Seconds the replications took (writing excluded).
    pub seconds: f64,
    /// What the results suggest is wrong with the inputs (a fund that runs
    /// out of capital), one line each.
    pub warnings: Vec<String>,
    /// What was written.
    pub written: Written,
}

impl RunRequest {
    /// Loads every file and checks, before anything runs, that names are
    /// distinct, every shard spec fits its run, every results folder can be
    /// replaced, and no run is absurdly large (unless `force`).
    ///
    /// # Errors
    /// The first input error, with its file and key path.
    pub fn plan(self) -> Result<Plan> {
        let jobs = self
            .scenarios
            .iter()
            .map(|p| Job::load(p, &self.sets))
            .collect::<Result<Vec<_>>>()?;
        let mut names = std::collections::HashSet::new();
        for (job, path) in jobs.iter().zip(&self.scenarios) {
            if !names.insert(job.name().to_string()) {
                return Err(InputError::new(
                    path.display().to_string(),
                    "name",
                    format!(
                        "`{}` is also the name of another scenario in this run; their results would overwrite each other",
                        job.name()
                    ),
                )
                .into());
            }
        }
        let available = available_memory();
        let worker_threads = self.threads.unwrap_or_else(rayon::current_num_threads);
        let mut runs = Vec::with_capacity(jobs.len());
        for (job, path) in jobs.into_iter().zip(&self.scenarios) {
            let (default_replications, default_seed) = job.defaults();
            let total = self.replications.unwrap_or(default_replications);
            let (first, end) = match self.shard {
                Some((i, n)) => {
                    shard::check_spec(i, n, total)?;
                    check_target(&self.out, &shard::folder_name(job.name(), i, n))?;
                    shard::range(i, n, total)
                }
                None => {
                    check_target(&self.out, job.name())?;
                    (0, total)
                }
            };
            // Kept replications are streamed to disk, not held.
            let estimate = Estimate::of(&job, end - first, 1, worker_threads, job_rate(&job), false);
            estimate.check(&path.display().to_string(), available, self.force)?;
            runs.push(Planned {
                job,
                path: path.clone(),
                total,
                first,
                end,
                seed: self.seed.unwrap_or(default_seed),
                estimate,
            });
        }
        Ok(Plan { request: self, runs })
    }
}

impl Plan {
    /// Runs planned file `k` and writes its folder; `progress` is called with
    /// the replications just finished, `cancel` stops the run (nothing is
    /// then written).
    ///
    /// # Errors
    /// [`crate::error::Error::Interrupted`] when cancelled; I/O failures.
    pub fn run(
        &self,
        k: usize,
        progress: Option<&(dyn Fn(u64) + Sync)>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Finished> {
        let planned = &self.runs[k];
        let request = &self.request;
        let started = std::time::Instant::now();
        let options = RunOptions {
            seed: planned.seed,
            first: planned.first,
            replications: planned.end - planned.first,
            threads: request.threads,
            progress,
            cancel,
        };
        // Each replication is folded into the run's state as it finishes;
        // kept replications' rows are streamed to a scratch folder.
        let folder = match request.shard {
            Some((index, count)) => shard::folder_name(planned.job.name(), index, count),
            None => planned.job.name().to_string(),
        };
        let scratch = request
            .keep_replications
            .then(|| Scratch::new(&request.out, &folder))
            .transpose()?;
        let (state, rows) = planned
            .job
            .run_state_spooled(&options, scratch.as_ref().map(Scratch::path))?;
        let seconds = started.elapsed().as_secs_f64();
        let overcommitted = state
            .event_names
            .iter()
            .position(|n| n == crate::model::names::OVERCOMMITTED)
            .map_or(0.0, |k| state.events[k] as f64 / state.replications.max(1) as f64);
        let warnings = crate::scenario::plausible::overcommitted(planned.job.name(), overcommitted)
            .into_iter()
            .collect();
        let written = match request.shard {
            Some((index, count)) => {
                let meta = self.shard_meta(planned, index, count, &state);
                Written::Shard {
                    folder: shard::write(&request.out, &meta, &state, rows)?,
                }
            }
            None => {
                let report = RunSummary::from_state(&state, &planned.job.expected());
                let job = &planned.job;
                let files = result_files(&report, &state, None, &job.about());
                let more = |folder: &Path| match rows {
                    Some(rows) => rows.assemble(&state.names, &state.event_names, &folder.join("replications.csv")),
                    None => Ok(()),
                };
                Written::Results {
                    folder: write_folder_with(&request.out, job.name(), &files, more)?,
                    report: Box::new(report),
                }
            }
        };
        Ok(Finished {
            seconds,
            warnings,
            written,
        })
    }

    /// Everything `merge` needs to check and rebuild a shard's run.
    fn shard_meta(&self, planned: &Planned, index: u64, count: u64, state: &RunState) -> ShardMeta {
        let job = &planned.job;
        ShardMeta {
            format: shard::FORMAT.to_string(),
            scenario: job.name().to_string(),
            scenario_path: planned.path.display().to_string(),
            scenario_digest: format!("{:016x}", job.digest()),
            seed: planned.seed,
            engine_version: ENGINE_VERSION.to_string(),
            replications: planned.total,
            index,
            count,
            first: planned.first,
            end: planned.end,
            names: state.names.clone(),
            event_names: state.event_names.clone(),
            horizon: state.investor_paths.len(),
            start_year: state.start_year,
            cycle_years: state.cycle_years,
            expected: job.expected(),
            keep_replications: self.request.keep_replications,
            sets: self.request.sets.clone(),
            description: job.description().to_string(),
            currency: job.currency().to_string(),
            investor_rate: job.about().investor_rate,
            terms: job.terms(),
            state_bytes: 0,
            digest: String::new(),
            rows_bytes: 0,
            rows_digest: String::new(),
        }
    }
}
