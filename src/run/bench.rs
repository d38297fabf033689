//! `bench`: throughput and thread scaling in child-cycle pairs per second,
//! reported the way hyperfine reports commands: warm-up runs, then timed
//! runs with mean ± σ and min … max, every run's time kept.

use super::job::Job;
use crate::error::Result;
use crate::sim::engine::Engine;
use crate::sim::parallel::RunOptions;
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;

/// The benchmark scenario, built in so that `bench` runs anywhere.
pub const BENCH_SCENARIO: &str = include_str!("../../scenarios/bench-6x1000x20.toml");

/// How to time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchOptions {
    /// Replications per timed run.
    pub replications: u64,
    /// Timed runs per thread count (≥ 1).
    pub runs: u64,
    /// Untimed runs first (thread pool, caches).
    pub warmup: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            replications: 400,
            runs: 3,
            warmup: 1,
        }
    }
}

/// One timed thread count.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    /// Worker threads.
    pub threads: u64,
    /// Every timed run, seconds, in order.
    pub times: Vec<f64>,
}

impl BenchRow {
    /// Mean run time.
    pub fn mean(&self) -> f64 {
        self.times.iter().sum::<f64>() / self.times.len().max(1) as f64
    }

    /// Standard deviation of the run times (0 for one run).
    pub fn sd(&self) -> f64 {
        let n = self.times.len();
        if n < 2 {
            return 0.0;
        }
        let mean = self.mean();
        (self.times.iter().map(|t| (t - mean) * (t - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
    }

    /// Fastest run.
    pub fn min(&self) -> f64 {
        self.times.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// Slowest run.
    pub fn max(&self) -> f64 {
        self.times.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

/// A finished benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Bench {
    /// Scenario or portfolio name.
    pub scenario: String,
    /// `"aggregate"`, `"per-child"`, or `"portfolio"`.
    pub sampler: &'static str,
    /// How it was timed.
    pub options: BenchOptions,
    /// Child-cycle pairs per replication (all contracts).
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

/// The built-in benchmark scenario, ready to run.
///
/// # Errors
/// None in practice: the file is part of the project and tested.
pub fn built_in() -> Result<Job> {
    let scenario = crate::scenario::parse(BENCH_SCENARIO, "bench-6x1000x20.toml (built in)")?;
    Ok(Job::Single(Box::new(Engine::new(scenario))))
}

/// Child-cycle pairs per replication of a job.
fn pairs(job: &Job) -> u64 {
    match job {
        Job::Single(e) => {
            let horizon = e.scenario.time.horizon as u64;
            e.scenario
                .cohort
                .waves
                .iter()
                .map(|w| w.children * (horizon - w.cycle as u64))
                .sum()
        }
        Job::Portfolio(p) => p.pairs(),
    }
}

/// Times `job` on each thread count (empty: [`default_threads`]).
///
/// # Errors
/// [`crate::error::Error::Interrupted`] when cancelled; a thread pool that
/// cannot be built.
pub fn bench(job: &Job, threads: &[u64], options: BenchOptions, cancel: Option<&AtomicBool>) -> Result<Bench> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let threads = if threads.is_empty() {
        default_threads(cores)
    } else {
        threads.to_vec()
    };
    let mut rows = Vec::new();
    for &t in &threads {
        let run = RunOptions {
            threads: Some(t as usize),
            cancel,
            ..RunOptions::new(1, options.replications)
        };
        for _ in 0..options.warmup {
            job.run(&run)?;
        }
        let mut times = Vec::with_capacity(options.runs as usize);
        for _ in 0..options.runs.max(1) {
            let started = std::time::Instant::now();
            job.run(&run)?;
            times.push(started.elapsed().as_secs_f64());
        }
        rows.push(BenchRow { threads: t, times });
    }
    let sampler = match job {
        Job::Single(e) if e.aggregate => "aggregate",
        Job::Single(_) => "per-child",
        Job::Portfolio(_) => "portfolio",
    };
    Ok(Bench {
        scenario: job.name().to_string(),
        sampler,
        options,
        pairs: pairs(job),
        cores,
        rows,
    })
}

impl Bench {
    /// Pairs per second of a row, at its mean time.
    pub fn rate(&self, row: &BenchRow) -> f64 {
        (self.pairs * self.options.replications) as f64 / row.mean()
    }

    /// Per-thread rate of the first row (normally 1 thread): the baseline
    /// of speed-up and efficiency.
    fn base(&self) -> f64 {
        self.rows.first().map_or(1.0, |r| self.rate(r) / r.threads as f64)
    }

    /// The benchmark as JSON, every run's time included.
    pub fn to_json(&self) -> Value {
        let base = self.base();
        let table: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let rate = self.rate(r);
                json!({"threads": r.threads, "mean": r.mean(), "stddev": r.sd(), "min": r.min(), "max": r.max(),
                       "times": r.times, "seconds": r.mean(), "pairs_per_second": rate,
                       "speedup": rate / base, "efficiency": rate / base / r.threads as f64})
            })
            .collect();
        json!({"scenario": self.scenario, "sampler": self.sampler, "replications": self.options.replications,
               "runs": self.options.runs, "warmup": self.options.warmup,
               "pairs_per_replication": self.pairs, "cores": self.cores, "results": table})
    }

    /// One row per thread count as CSV.
    pub fn to_csv(&self) -> String {
        let base = self.base();
        let header = [
            "threads",
            "mean",
            "stddev",
            "min",
            "max",
            "pairs_per_second",
            "speedup",
            "efficiency",
        ];
        let mut rows = vec![header.map(String::from).to_vec()];
        for r in &self.rows {
            let rate = self.rate(r);
            rows.push(vec![
                r.threads.to_string(),
                r.mean().to_string(),
                r.sd().to_string(),
                r.min().to_string(),
                r.max().to_string(),
                rate.to_string(),
                (rate / base).to_string(),
                (rate / base / r.threads as f64).to_string(),
            ]);
        }
        crate::report::csv::write_rows(rows)
    }

    /// One row per thread count as a Markdown table.
    pub fn to_markdown(&self) -> String {
        let base = self.base();
        let mut out = String::from(
            "| threads | mean [s] | min [s] | max [s] | pairs/second | speed-up | efficiency |\n|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for r in &self.rows {
            let rate = self.rate(r);
            out.push_str(&format!(
                "| {} | {:.4} ± {:.4} | {:.4} | {:.4} | {:.3e} | {:.2} | {:.1} % |\n",
                r.threads,
                r.mean(),
                r.sd(),
                r.min(),
                r.max(),
                rate,
                rate / base,
                100.0 * rate / base / r.threads as f64
            ));
        }
        out
    }

    /// The benchmark as a table a person reads.
    pub fn table(&self) -> String {
        let base = self.base();
        let cores = if self.cores == 1 {
            "1 core".to_string()
        } else {
            format!("{} cores", self.cores)
        };
        let mut out = format!(
            "{}: {} replications x {} child-cycle pairs, {} sampler, {cores}; {} warm-up, {} timed runs each\n",
            self.scenario, self.options.replications, self.pairs, self.sampler, self.options.warmup, self.options.runs
        );
        out.push_str(&format!(
            "{:>8} {:>22} {:>21} {:>14} {:>9} {:>11}\n",
            "threads", "time (mean ± σ)", "range (min … max)", "pairs/second", "speed-up", "efficiency"
        ));
        for r in &self.rows {
            let rate = self.rate(r);
            out.push_str(&format!(
                "{:>8} {:>22} {:>21} {:>14.4e} {:>9.2} {:>10.1}%\n",
                r.threads,
                format!("{:.4} s ± {:.4} s", r.mean(), r.sd()),
                format!("{:.4} … {:.4} s", r.min(), r.max()),
                rate,
                rate / base,
                100.0 * rate / base / r.threads as f64
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_statistics_are_those_of_the_times() {
        let row = BenchRow {
            threads: 1,
            times: vec![1.0, 2.0, 3.0],
        };
        assert_eq!((row.mean(), row.sd(), row.min(), row.max()), (2.0, 1.0, 1.0, 3.0));
        assert_eq!(default_threads(1), vec![1]);
        assert_eq!(default_threads(6), vec![1, 2, 4, 6]);
    }
}
