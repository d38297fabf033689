//! Replications in parallel, results in replication order.

use super::replication::{simulate_treated, EntriesSpec, Workspace};
use super::rng::{stream, Purpose};
use crate::error::{Error, Result};
use crate::model::expected::{expected_with, Expected};
use crate::model::ledger::{Ledger, Measure, BASELINE, INTERVENTION};
use crate::model::schedule::Schedule;
use crate::model::Scenario;
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

/// A scenario compiled for simulation.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The scenario.
    pub scenario: Scenario,
    /// Central transition schedule.
    pub schedule: Schedule,
    /// Linear accounts.
    pub ledger: Ledger,
    entries: Vec<EntriesSpec>,
    /// Names of the per-replication statistics, in record order.
    pub statistic_names: Vec<String>,
}

/// Everything a run produced, in replication order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResults {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// First replication index.
    pub first: u64,
    /// Statistic names.
    pub names: Vec<String>,
    /// `columns[k][r]`: statistic k in replication `first + r`.
    pub columns: Vec<Vec<f64>>,
}

impl RunResults {
    /// Number of replications.
    pub fn replications(&self) -> u64 {
        self.columns.first().map_or(0, |c| c.len() as u64)
    }

    /// The column of a statistic by name.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.columns[i].as_slice())
    }
}

impl Engine {
    /// Compiles a scenario.
    pub fn new(scenario: Scenario) -> Engine {
        let schedule = Schedule::new(&scenario);
        let ledger = Ledger::new(&scenario);
        let entries = ledger
            .metrics
            .iter()
            .filter_map(|m| match m {
                Measure::Entries { states, window } => Some(EntriesSpec {
                    mask: states
                        .iter()
                        .enumerate()
                        .filter(|(_, &b)| b)
                        .fold(0u64, |acc, (s, _)| acc | 1 << s),
                    window: *window,
                }),
                Measure::Linear(_) => None,
            })
            .collect();
        let mut statistic_names = Vec::new();
        for arm in ["baseline", "intervention"] {
            for m in &scenario.metrics {
                statistic_names.push(format!("arm.{arm}.{}", m.name));
            }
        }
        for m in &scenario.metrics {
            statistic_names.push(format!("true.{}.impact", m.name));
        }
        statistic_names.push("payer.true_savings".to_string());
        Engine {
            scenario,
            schedule,
            ledger,
            entries,
            statistic_names,
        }
    }

    /// The exact expectation from the central parameters.
    pub fn expected(&self) -> Expected {
        expected_with(&self.scenario, &self.schedule, &self.ledger)
    }

    /// Fresh per-thread scratch space.
    pub fn workspace(&self) -> Workspace {
        Workspace::new(self.ledger.layout, self.entries.len())
    }

    /// One replication: its statistics in [`Engine::statistic_names`] order.
    pub fn replicate(
        &self,
        seed: u64,
        replication: u64,
        workspace: &mut Workspace,
        record: &mut Vec<f64>,
    ) {
        let mut rng = stream(seed, replication, Purpose::Trajectories);
        simulate_treated(
            &self.schedule,
            self.ledger.layout,
            &self.entries,
            &mut rng,
            workspace,
        );
        record.clear();
        let mut metric_values = Vec::with_capacity(self.ledger.metrics.len());
        let mut entries = workspace.entries.iter();
        for measure in &self.ledger.metrics {
            let v = match measure {
                Measure::Linear(l) => {
                    [BASELINE, INTERVENTION].map(|arm| l[arm].of_counts(&workspace.occupancy[arm]))
                }
                Measure::Entries { .. } => entries.next().map_or([0.0; 2], |e| e.map(|x| x as f64)),
            };
            metric_values.push(v);
        }
        for arm in [BASELINE, INTERVENTION] {
            record.extend(metric_values.iter().map(|v| v[arm]));
        }
        record.extend(metric_values.iter().map(|v| v[BASELINE] - v[INTERVENTION]));
        let cost = [BASELINE, INTERVENTION]
            .map(|arm| self.ledger.payer_cost[arm].of_counts(&workspace.occupancy[arm]));
        record.push(cost[BASELINE] - cost[INTERVENTION]);
    }

    /// Runs replications `first .. first + replications` in parallel.
    ///
    /// # Errors
    /// [`Error::Interrupted`] when cancelled; [`Error::Runtime`] when the
    /// thread pool cannot be built.
    pub fn run(&self, options: &RunOptions) -> Result<RunResults> {
        let work = || -> Result<Vec<Vec<f64>>> {
            let records: Vec<Option<Vec<f64>>> = (options.first
                ..options.first + options.replications)
                .into_par_iter()
                .map_init(
                    || self.workspace(),
                    |workspace, r| {
                        if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                            return None;
                        }
                        let mut record = Vec::with_capacity(self.statistic_names.len());
                        self.replicate(options.seed, r, workspace, &mut record);
                        if let Some(progress) = options.progress {
                            progress(1);
                        }
                        Some(record)
                    },
                )
                .collect();
            records
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .ok_or(Error::Interrupted)
        };
        let records = match options.threads {
            None => work()?,
            Some(threads) => rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| Error::Runtime(format!("cannot start {threads} threads: {e}")))?
                .install(work)?,
        };
        let mut columns = vec![Vec::with_capacity(records.len()); self.statistic_names.len()];
        for record in &records {
            for (column, &v) in columns.iter_mut().zip(record) {
                column.push(v);
            }
        }
        Ok(RunResults {
            scenario: self.scenario.name.clone(),
            seed: options.seed,
            first: options.first,
            names: self.statistic_names.clone(),
            columns,
        })
    }
}
