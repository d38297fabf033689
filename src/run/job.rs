//! A scenario or a portfolio behind one interface: what the command line,
//! the findings and any other caller run.

use crate::error::Result;
use crate::report::replications::RowSpool;
use crate::report::terms::key_terms;
use crate::scenario::Loaded;
use crate::sim::engine::Engine;
use crate::sim::parallel::{Fold, RunOptions, Stripe};
use crate::sim::portfolio::PortfolioEngine;
use crate::sim::record::{Record, RunResults};
use crate::stats::{PendingRows, RunState};
use std::path::Path;

/// A single contract or a portfolio, ready to run.
pub enum Job {
    /// One contract.
    Single(Box<Engine>),
    /// Several contracts with a pooled fund.
    Portfolio(Box<PortfolioEngine>),
}

impl Job {
    /// Loads a scenario or portfolio file, with `--set`-style overrides.
    ///
    /// # Errors
    /// The file's input errors.
    pub fn load(path: &Path, sets: &[(String, String)]) -> Result<Job> {
        Ok(Job::from_loaded(crate::scenario::load_any_with(path, sets)?))
    }

    /// Compiles a loaded scenario or portfolio.
    pub fn from_loaded(loaded: Loaded) -> Job {
        match loaded {
            Loaded::Single(s) => Job::Single(Box::new(Engine::new(*s))),
            Loaded::Portfolio(p) => Job::Portfolio(Box::new(PortfolioEngine::new(*p))),
        }
    }

    /// Scenario or portfolio name.
    pub fn name(&self) -> &str {
        match self {
            Job::Single(e) => &e.scenario.name,
            Job::Portfolio(p) => &p.portfolio.name,
        }
    }

    /// One-line description.
    pub fn description(&self) -> &str {
        match self {
            Job::Single(e) => &e.scenario.description,
            Job::Portfolio(p) => &p.portfolio.description,
        }
    }

    /// Inputs that are valid but probably not meant, one line each.
    pub fn warnings(&self) -> Vec<String> {
        use crate::scenario::plausible;
        match self {
            Job::Single(e) => plausible::of_contracts([&e.scenario], None),
            Job::Portfolio(p) => plausible::of_contracts(
                p.engines.iter().map(|e| &e.scenario),
                Some((&p.portfolio.source, &p.portfolio.fund)),
            ),
        }
    }

    /// What the run is about, for the files people read.
    pub fn about(&self) -> crate::report::About {
        crate::report::About {
            description: self.description().to_string(),
            terms: self.terms(),
            currency: self.currency().to_string(),
            investor_rate: Some(match self {
                Job::Single(e) => e.scenario.discounting.investor_rate,
                Job::Portfolio(p) => p.portfolio.investor_rate,
            }),
        }
    }

    /// The currency of every amount.
    pub fn currency(&self) -> &str {
        match self {
            Job::Single(e) => &e.scenario.currency,
            Job::Portfolio(p) => &p.portfolio.currency,
        }
    }

    /// Digest of the validated input (shards must agree on it).
    pub fn digest(&self) -> u64 {
        match self {
            Job::Single(e) => e.scenario.digest,
            Job::Portfolio(p) => p.portfolio.digest,
        }
    }

    /// The file's `[run]` defaults: (replications, seed).
    pub fn defaults(&self) -> (u64, u64) {
        match self {
            Job::Single(e) => (e.scenario.run.replications, e.scenario.run.seed),
            Job::Portfolio(p) => (p.portfolio.run.replications, p.portfolio.run.seed),
        }
    }

    /// Exact expectations from the central parameters.
    pub fn expected(&self) -> Vec<(String, f64)> {
        match self {
            Job::Single(e) => e.expected().named(),
            Job::Portfolio(p) => p.expected(),
        }
    }

    /// The figures with no exact expectation, and why (`*`: every figure).
    pub fn not_analytic(&self) -> Vec<(String, String)> {
        match self {
            Job::Single(e) => e.expected().not_analytic,
            Job::Portfolio(p) => p
                .engines
                .iter()
                .flat_map(|e| {
                    e.expected()
                        .not_analytic
                        .into_iter()
                        .map(|(n, why)| (crate::model::names::contract(&e.scenario.name, &n), why))
                })
                .collect(),
        }
    }

    /// The key terms shown in the report.
    pub fn terms(&self) -> Vec<(String, String)> {
        match self {
            Job::Single(e) => key_terms(&e.scenario),
            Job::Portfolio(p) => {
                let mut terms = vec![(
                    "contracts".to_string(),
                    p.engines
                        .iter()
                        .map(|e| e.scenario.name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                )];
                let f = &p.portfolio.fund;
                terms.push((
                    "pooled fund".to_string(),
                    format!(
                        "capital {}, fee {} a year",
                        crate::report::format::money(f.capital, &p.portfolio.currency),
                        crate::report::format::percent(f.management_fee)
                    ),
                ));
                if let Some(s) = &p.portfolio.shock {
                    terms.push((
                        "shared shock".to_string(),
                        format!("AR(1), sd {}, autocorrelation {}", s.sd, s.autocorrelation),
                    ));
                }
                for e in &p.engines {
                    for (k, v) in key_terms(&e.scenario) {
                        terms.push((format!("{}: {k}", e.scenario.name), v));
                    }
                }
                terms
            }
        }
    }

    /// Runs the replications `options` asks for.
    ///
    /// # Errors
    /// Runtime failures, or [`crate::error::Error::Interrupted`] when cancelled.
    pub fn run(&self, options: &RunOptions) -> Result<RunResults> {
        match self {
            Job::Single(e) => e.run(options),
            Job::Portfolio(p) => p.run(options),
        }
    }

    /// Runs the replications `options` asks for into a [`RunState`],
    /// keeping no replication: memory is set by the statistics, not by the
    /// number of replications. The state equals `RunState::of` the
    /// results of [`Job::run`] bit for bit.
    ///
    /// # Errors
    /// As for [`Job::run`].
    pub fn run_state(&self, options: &RunOptions) -> Result<RunState> {
        Ok(self.run_state_spooled(options, None)?.0)
    }

    /// Like [`Job::run_state`], and with `rows`, each replication's row of
    /// `replications.csv` is written to part files in that folder as it
    /// finishes (see [`RowSpool`]).
    ///
    /// # Errors
    /// As for [`Job::run`].
    pub fn run_state_spooled(&self, options: &RunOptions, rows: Option<&Path>) -> Result<(RunState, Option<RowSpool>)> {
        let fold = StateFold {
            job: self,
            rows,
            seed: options.seed,
        };
        let (mut state, mut pending, spool) = match self {
            Job::Single(e) => e.run_fold(options, &fold),
            Job::Portfolio(p) => p.run_fold(options, &fold),
        }?;
        // Every chunk's rows were added when it was sealed: none are left.
        state.add_rows(&mut pending);
        state.flush();
        Ok((state, spool))
    }
}

/// How [`Job::run_state_spooled`] folds replications: into a [`RunState`]
/// of the job's statistics, and with `rows`, each replication's row into
/// a [`RowSpool`]'s part files.
struct StateFold<'a> {
    job: &'a Job,
    rows: Option<&'a Path>,
    seed: u64,
}

impl Fold for StateFold<'_> {
    type State = (RunState, PendingRows, Option<RowSpool>);

    fn empty(&self) -> Self::State {
        let (names, event_names, horizon, start_year, cycle_years) = match self.job {
            Job::Single(e) => (
                e.statistic_names.to_vec(),
                e.event_names.to_vec(),
                e.scenario.time.horizon,
                e.scenario.time.start_year,
                e.scenario.time.cycle_years,
            ),
            Job::Portfolio(p) => (
                p.statistic_names.clone(),
                p.event_names.clone(),
                p.horizon,
                p.portfolio.start_year,
                p.portfolio.cycle_years,
            ),
        };
        let state = RunState::new(
            self.job.name(),
            self.seed,
            names,
            event_names,
            horizon,
            start_year,
            cycle_years,
        );
        (state, PendingRows::new(), self.rows.map(RowSpool::new))
    }

    fn add(&self, (state, rows, spool): &mut Self::State, replication: u64, r: &Record) {
        state.add_deferred(rows, &r.values, &r.events, &r.investor_path, &r.payer_path);
        if let Some(spool) = spool {
            spool.write(replication, &r.values, &r.events);
        }
    }

    /// Binned while small and outside the lock: the total's bins are then
    /// walked once a chunk.
    fn seal(&self, (chunk, rows, _): &mut Self::State) {
        chunk.add_rows(rows);
        chunk.flush();
    }

    /// A chunk's rows stay in its worker's spool, which goes on writing the
    /// same part while the worker's chunks follow one another (one part a
    /// chunk made 2,000 files for 10⁶ replications).
    fn merge(&self, (total, ..): &mut Self::State, (chunk, ..): &mut Self::State, stripe: Stripe) {
        total.merge_stripe_from(chunk, stripe);
    }

    fn reset(&self, (state, ..): &mut Self::State) {
        state.clear();
    }

    /// The worker's spool closes its part, and its failure is kept.
    fn retire(&self, (.., spool): &mut Self::State, (.., worker_spool): Self::State) {
        if let (Some(spool), Some(finished)) = (spool, worker_spool) {
            spool.absorb(finished);
        }
    }
}
