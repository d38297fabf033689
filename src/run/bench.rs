//! `bench`: throughput and thread scaling in child-cycle pairs per second,
//! reported the way hyperfine reports commands: warm-up runs, then timed
//! runs with mean ± σ and min … max, every run's time kept.

use super::estimate::{available_memory, bytes, duration, job_rate, Estimate};
use super::job::Job;
use crate::error::{InputError, Result};
use crate::model::schedule::{draw, thresholds};
use crate::sim::engine::Engine;
use crate::sim::parallel::RunOptions;
use crate::sim::rng::{stream_for, Purpose};
use rand::Rng;
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
    /// The bare kernel's timed runs on one thread ([`bare_kernel`]).
    pub kernel: BenchRow,
    /// Peak resident memory of the whole benchmark, bytes (Linux only).
    pub peak_bytes: Option<u64>,
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

/// Cores this machine offers.
fn cores() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as u64
}

/// The thread counts a bench times: `threads`, or [`default_threads`] of
/// this machine's cores when none are given.
pub fn thread_counts(threads: &[u64]) -> Vec<u64> {
    if threads.is_empty() {
        default_threads(cores())
    } else {
        threads.to_vec()
    }
}

/// Refuses, before anything is timed, a bench that would take more than a
/// day or more memory than is available, unless `force`: as `sibsim run`
/// refuses such a run. The time is the engine's runs (warm-ups included)
/// at every thread count, at the rate a probe of a few replications
/// measures; the bare kernel's runs, several times faster, come on top.
///
/// # Errors
/// An [`InputError`] naming `file` and `--replications`, with the estimate
/// and the ways out.
pub fn check_cost(
    job: &Job,
    threads: &[u64],
    options: BenchOptions,
    file: &str,
    force: bool,
) -> std::result::Result<(), InputError> {
    if force {
        return Ok(());
    }
    let rate = job_rate(job);
    let runs = options.warmup + options.runs.max(1);
    let counts = thread_counts(threads);
    let estimates: Vec<Estimate> = counts
        .iter()
        .map(|&t| Estimate::of(job, options.replications, runs, t as usize, rate, false))
        .collect();
    // The runs one after another: their times add, their memory does not.
    let whole = Estimate {
        pairs: estimates.iter().map(|e| e.pairs).sum(),
        seconds: estimates.iter().map(|e| e.seconds).sum(),
        bytes: estimates.iter().map(|e| e.bytes).fold(0.0, f64::max),
        rate,
        threads: counts.iter().copied().max().unwrap_or(1) as usize,
    };
    let Some(why) = whole.past_limits(available_memory()) else {
        return Ok(());
    };
    let message = format!(
        "this bench would take about {} and {} of memory ({runs} runs of {} replications at each of {} thread \
         count{}, at {rate:.2e} child-cycle pairs/s per thread): {why}. Use fewer --replications or --runs, or pass \
         --force to run it anyway",
        duration(whole.seconds),
        bytes(whole.bytes),
        options.replications,
        counts.len(),
        if counts.len() == 1 { "" } else { "s" },
    );
    Err(InputError::new(file, "--replications", message))
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

/// Times `job` on each thread count (empty: [`default_threads`]), run as
/// `sibsim run` runs it: folded into its state, no replication kept.
///
/// # Errors
/// [`crate::error::Error::Interrupted`] when cancelled; a thread pool that
/// cannot be built.
pub fn bench(job: &Job, threads: &[u64], options: BenchOptions, cancel: Option<&AtomicBool>) -> Result<Bench> {
    let cores = cores();
    let threads = thread_counts(threads);
    let mut rows = Vec::new();
    let mut kernel = BenchRow {
        threads: 1,
        times: Vec::with_capacity(options.runs as usize),
    };
    for (row, &t) in threads.iter().enumerate() {
        let run = RunOptions {
            threads: Some(t as usize),
            cancel,
            ..RunOptions::new(1, options.replications)
        };
        for _ in 0..options.warmup {
            job.run_state(&run)?;
            if row == 0 {
                bare_kernel(job, options.replications, cancel)?;
            }
        }
        let mut times = Vec::with_capacity(options.runs as usize);
        for _ in 0..options.runs.max(1) {
            let started = std::time::Instant::now();
            job.run_state(&run)?;
            times.push(started.elapsed().as_secs_f64());
            // The kernel runs between the first row's runs, so that a
            // machine's changing load falls on both sides of the ratio.
            if row == 0 {
                kernel.times.push(bare_kernel(job, options.replications, cancel)?);
            }
        }
        rows.push(BenchRow { threads: t, times });
    }
    if rows.is_empty() {
        for _ in 0..options.runs.max(1) {
            kernel.times.push(bare_kernel(job, options.replications, cancel)?);
        }
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
        kernel,
        peak_bytes: peak_resident_bytes(),
    })
}

/// The seed the bare kernel's streams are keyed by (any fixed value).
const KERNEL_SEED: u64 = 7;

/// Children drawn side by side in the bare kernel (their words fetched in
/// one copy, as the engine fetches a block's).
const KERNEL_GROUP: usize = 4;

/// Threshold rows are padded to this width (with a threshold no uniform
/// reaches) when a contract has at most this many states, so that a row is
/// a fixed-size array the compiler unrolls.
const KERNEL_WIDTH: usize = 8;

/// One contract's shape for the bare kernel: the integer thresholds of its
/// baseline's default matrix (row-major, `stride` a row), and each wave's
/// (children, cycles followed).
struct KernelShape {
    stride: usize,
    thresholds: Vec<u32>,
    waves: Vec<(u64, usize)>,
}

fn kernel_shapes(job: &Job) -> Vec<KernelShape> {
    let engines: Vec<&Engine> = match job {
        Job::Single(e) => vec![e],
        Job::Portfolio(p) => p.engines.iter().collect(),
    };
    engines
        .into_iter()
        .map(|e| {
            let matrix = &e.scenario.baseline.default;
            let n = matrix.n();
            let stride = if n <= KERNEL_WIDTH { KERNEL_WIDTH } else { n };
            let mut padded = Vec::with_capacity(n * stride);
            for i in 0..n {
                let row = thresholds(matrix.row(i));
                padded.extend_from_slice(&row);
                // 2^31 is never ≤ a drawn uniform (which `draw` halves).
                padded.resize(padded.len() + stride - n, 1 << 31);
            }
            let horizon = e.scenario.time.horizon;
            KernelShape {
                stride,
                thresholds: padded,
                waves: e
                    .scenario
                    .cohort
                    .waves
                    .iter()
                    .map(|w| (w.children, horizon.saturating_sub(w.cycle)))
                    .collect(),
            }
        })
        .collect()
}

/// One wave's children through the bare kernel: groups of
/// [`KERNEL_GROUP`] children side by side, their uniforms fetched in one
/// copy, both arms drawn from each uniform. Returns a checksum of the final
/// states (so that nothing is optimised away).
fn kernel_wave<'a>(
    row: impl Fn(usize) -> &'a [u32],
    children: u64,
    cycles: usize,
    rng: &mut rand_chacha::ChaCha8Rng,
    uniforms: &mut Vec<u32>,
) -> usize {
    uniforms.resize(KERNEL_GROUP * cycles, 0);
    let mut sink = 0usize;
    let mut remaining = children;
    while remaining > 0 {
        let group = remaining.min(KERNEL_GROUP as u64) as usize;
        rng.fill(&mut uniforms[..group * cycles]);
        let mut baseline = [0usize; KERNEL_GROUP];
        let mut intervention = [0usize; KERNEL_GROUP];
        for k in 0..cycles {
            for j in 0..group {
                let uniform = uniforms[j * cycles + k];
                baseline[j] = draw(row(baseline[j]), uniform);
                intervention[j] = draw(row(intervention[j]), uniform);
            }
        }
        sink = sink.wrapping_add(baseline.iter().chain(&intervention).sum::<usize>());
        remaining -= group as u64;
    }
    sink
}

/// Seconds the bare per-child kernel takes for `replications` of `job` on
/// one thread: the same contracts, children and cycles, one ChaCha8 `u32`
/// per child-cycle pair on the engine's keyed streams (fetched in blocks,
/// as the engine fetches them, children interleaved), drawn through the integer
/// thresholds of each contract's baseline for both arms, and nothing else:
/// no bands, effects, accounting or statistics. The engine's rate as a
/// share of this one is what its bookkeeping costs.
///
/// # Errors
/// [`crate::error::Error::Interrupted`] when cancelled.
pub fn bare_kernel(job: &Job, replications: u64, cancel: Option<&AtomicBool>) -> Result<f64> {
    let shapes = kernel_shapes(job);
    let mut uniforms = Vec::new();
    let started = std::time::Instant::now();
    let mut sink = 0usize;
    for replication in 0..replications {
        if cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst)) {
            return Err(crate::error::Error::Interrupted);
        }
        for (contract, shape) in shapes.iter().enumerate() {
            let mut rng = stream_for(KERNEL_SEED, contract as u64, replication, Purpose::Trajectories);
            for &(children, cycles) in &shape.waves {
                sink = sink.wrapping_add(if shape.stride == KERNEL_WIDTH {
                    let rows = shape.thresholds.as_chunks::<KERNEL_WIDTH>().0;
                    kernel_wave(|state| &rows[state], children, cycles, &mut rng, &mut uniforms)
                } else {
                    let stride = shape.stride;
                    let table = &shape.thresholds;
                    let row = |state: usize| &table[state * stride..(state + 1) * stride];
                    kernel_wave(row, children, cycles, &mut rng, &mut uniforms)
                });
            }
        }
    }
    std::hint::black_box(sink);
    Ok(started.elapsed().as_secs_f64())
}

/// The process's peak resident memory so far (Linux `VmHWM`), in bytes;
/// `None` where the kernel does not say.
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

impl Bench {
    /// Pairs per second of a row, at its mean time.
    pub fn rate(&self, row: &BenchRow) -> f64 {
        (self.pairs * self.options.replications) as f64 / row.mean()
    }

    /// A row's rate per thread as a share of the bare kernel's one-thread
    /// rate (1 = the engine costs no more than drawing the trajectories).
    pub fn kernel_ratio(&self, row: &BenchRow) -> f64 {
        self.rate(row) / row.threads as f64 / self.rate(&self.kernel)
    }

    /// The kernel and memory lines under a table.
    fn footer(&self) -> String {
        let first = self.rows.first().map_or(0.0, |r| self.kernel_ratio(r));
        let memory = self.peak_bytes.map_or("not measured on this system".to_string(), |b| {
            format!("{:.1} MB", b as f64 / 1e6)
        });
        format!(
            "bare kernel (ChaCha8, integer thresholds, both arms, same children; 1 thread): {:.4e} pairs/second; \
             the engine's first row runs at {:.2}x it per thread\npeak resident memory: {memory}\n",
            self.rate(&self.kernel),
            first
        )
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
                       "speedup": rate / base, "efficiency": rate / base / r.threads as f64,
                       "kernel_ratio": self.kernel_ratio(r)})
            })
            .collect();
        json!({"scenario": self.scenario, "sampler": self.sampler, "replications": self.options.replications,
               "runs": self.options.runs, "warmup": self.options.warmup,
               "pairs_per_replication": self.pairs, "cores": self.cores, "results": table,
               "kernel": {"threads": 1, "mean": self.kernel.mean(), "stddev": self.kernel.sd(),
                          "times": self.kernel.times, "pairs_per_second": self.rate(&self.kernel)},
               "peak_resident_bytes": self.peak_bytes})
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
            "kernel_ratio",
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
                self.kernel_ratio(r).to_string(),
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
        out.push('\n');
        out.push_str(&self.footer());
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
        out.push_str(&self.footer());
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

    #[test]
    fn the_bare_kernel_never_draws_a_padding_column() {
        // From home every child moves to care for sure and stays: each of 5
        // children ends in state 1 in both arms, whatever the uniforms.
        let mut padded = thresholds(&[0.0, 1.0]);
        padded.resize(KERNEL_WIDTH, 1 << 31);
        padded.extend(thresholds(&[0.0, 1.0]));
        padded.resize(2 * KERNEL_WIDTH, 1 << 31);
        let rows = padded.as_chunks::<KERNEL_WIDTH>().0;
        let mut rng = stream_for(1, 0, 0, Purpose::Trajectories);
        let sink = kernel_wave(|state| &rows[state], 5, 3, &mut rng, &mut Vec::new());
        assert_eq!(sink, 10);
    }
}
