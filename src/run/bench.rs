//! `bench`: throughput and thread scaling in child-cycle pairs per second.

use crate::error::Result;
use crate::model::Scenario;
use crate::sim::engine::Engine;
use crate::sim::parallel::RunOptions;
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;

/// The benchmark scenario, built in so that `bench` runs anywhere.
pub const BENCH_SCENARIO: &str = include_str!("../../scenarios/bench-6x1000x20.toml");

/// One timed thread count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchRow {
    /// Worker threads.
    pub threads: u64,
    /// Best of three wall times, seconds.
    pub seconds: f64,
    /// Child-cycle pairs per second.
    pub pairs_per_second: f64,
}

/// A finished benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Bench {
    /// Scenario name.
    pub scenario: String,
    /// `"aggregate"` or `"per-child"`.
    pub sampler: &'static str,
    /// Replications per timing.
    pub replications: u64,
    /// Child-cycle pairs per replication.
    pub pairs: u64,
    /// Cores this machine offers.
    pub cores: u64,
    /// One row per thread count, in the order asked.
    pub rows: Vec<BenchRow>,
}

/// The thread counts timed when none are given: 1, 2, 4, … below the
/// number of cores, then the number of cores.
pub fn default_threads(cores: u64) -> Vec<u64> {
    let mut threads: Vec<u64> = std::iter::successors(Some(1u64), |&t| Some(t * 2))
        .take_while(|&t| t < cores)
        .collect();
    threads.push(cores);
    threads
}

/// The built-in benchmark scenario.
///
/// # Errors
/// None in practice: the file is part of the project and tested.
pub fn built_in() -> Result<Scenario> {
    Ok(crate::scenario::parse(
        BENCH_SCENARIO,
        "bench-6x1000x20.toml (built in)",
    )?)
}

/// Times `replications` replications of `scenario` on each thread count
/// (empty: [`default_threads`]): a warm-up, then the best of three.
///
/// # Errors
/// [`crate::error::Error::Interrupted`] when cancelled; a thread pool that
/// cannot be built.
pub fn bench(scenario: Scenario, threads: &[u64], replications: u64, cancel: Option<&AtomicBool>) -> Result<Bench> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let threads = if threads.is_empty() {
        default_threads(cores)
    } else {
        threads.to_vec()
    };
    let engine = Engine::new(scenario);
    let horizon = engine.scenario.time.horizon as u64;
    let pairs: u64 = engine
        .scenario
        .cohort
        .waves
        .iter()
        .map(|w| w.children * (horizon - w.cycle as u64))
        .sum();
    let mut rows = Vec::new();
    for &t in &threads {
        let options = RunOptions {
            threads: Some(t as usize),
            cancel,
            ..RunOptions::new(1, replications)
        };
        // Warm up (thread pool, caches), then keep the best of three timings.
        engine.run(&RunOptions {
            replications: replications.min(16),
            ..options
        })?;
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let started = std::time::Instant::now();
            engine.run(&options)?;
            best = best.min(started.elapsed().as_secs_f64());
        }
        rows.push(BenchRow {
            threads: t,
            seconds: best,
            pairs_per_second: (pairs * replications) as f64 / best,
        });
    }
    Ok(Bench {
        scenario: engine.scenario.name.clone(),
        sampler: if engine.aggregate { "aggregate" } else { "per-child" },
        replications,
        pairs,
        cores,
        rows,
    })
}

impl Bench {
    /// Per-thread rate of the first row (normally 1 thread): the baseline
    /// of speed-up and efficiency.
    fn base(&self) -> f64 {
        self.rows.first().map_or(1.0, |r| r.pairs_per_second / r.threads as f64)
    }

    /// The benchmark as JSON.
    pub fn to_json(&self) -> Value {
        let base = self.base();
        let table: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                json!({"threads": r.threads, "seconds": r.seconds, "pairs_per_second": r.pairs_per_second,
                       "speedup": r.pairs_per_second / base, "efficiency": r.pairs_per_second / base / r.threads as f64})
            })
            .collect();
        json!({"scenario": self.scenario, "sampler": self.sampler, "replications": self.replications,
               "pairs_per_replication": self.pairs, "cores": self.cores, "results": table})
    }

    /// The benchmark as a table a person reads.
    pub fn table(&self) -> String {
        let base = self.base();
        let mut out = format!(
            "{}: {} replications x {} child-cycle pairs, {} sampler, {} cores, best of 3\n",
            self.scenario, self.replications, self.pairs, self.sampler, self.cores
        );
        out.push_str(&format!(
            "{:>8} {:>10} {:>16} {:>9} {:>11}\n",
            "threads", "seconds", "pairs/second", "speed-up", "efficiency"
        ));
        for r in &self.rows {
            out.push_str(&format!(
                "{:>8} {:>10.4} {:>16.4e} {:>9.2} {:>10.1}%\n",
                r.threads,
                r.seconds,
                r.pairs_per_second,
                r.pairs_per_second / base,
                100.0 * r.pairs_per_second / base / r.threads as f64
            ));
        }
        out
    }
}
