//! How long a run will take and how much memory it will hold, estimated
//! before it starts from the work size and this machine's measured speed, so
//! that a typo (`replications = 1e12`, `children = 4000000000`) is refused
//! with the estimate instead of running for days or until memory runs out.

use crate::error::InputError;
use crate::model::schedule::draw;
use crate::run::job::Job;
use crate::sim::engine::Engine;
use rand::RngCore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Longest estimated run accepted without `--force` (seconds): a day.
pub const TIME_LIMIT_SECONDS: f64 = 86_400.0;

/// Most points a sweep may have without `--force`.
pub const SWEEP_POINT_LIMIT: u64 = 10_000;

/// What a run will cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Work in child-cycle pairs (per-child sampler) or their equivalent
    /// (aggregate sampler), all replications and points together.
    pub pairs: f64,
    /// Wall-clock seconds at `rate` pairs per second per thread.
    pub seconds: f64,
    /// Peak memory in bytes (the replications' values when they are kept,
    /// otherwise each worker's accumulators; plus the compiled model and
    /// per-thread scratch).
    pub bytes: f64,
    /// The measured single-thread rate used (pairs per second).
    pub rate: f64,
    /// Threads assumed.
    pub threads: usize,
}

/// Child-cycle pairs of one replication of one contract, or their
/// equivalent on the aggregate path (a few pairs per joint state moved).
fn engine_pairs(engine: &Engine) -> f64 {
    let scenario = &engine.scenario;
    let horizon = scenario.time.horizon as f64;
    let states = scenario.state_count() as f64;
    let mut pairs = 0.0;
    for wave in &scenario.cohort.waves {
        let cycles = horizon - wave.cycle as f64;
        pairs += if engine.aggregate {
            cycles * states * states * 8.0
        } else {
            wave.children as f64 * cycles
        };
    }
    // A comparison group is simulated beside the treated children.
    if let Some(crate::model::contract::Measurement::ControlGroup { size }) =
        scenario.contract.as_ref().map(|c| c.measurement)
    {
        pairs += size as f64 * horizon;
    }
    pairs
}

/// Bytes the compiled model of one contract holds, independent of the
/// number of replications (schedules, accounts, per-thread scratch): about
/// 6 KB per cycle, measured on a 6-state contract at 10⁵ cycles.
fn engine_fixed_bytes(engine: &Engine) -> f64 {
    let scenario = &engine.scenario;
    let n = scenario.state_count() as f64;
    let cells = scenario.time.horizon as f64 * scenario.cohort.waves.len().max(1) as f64;
    cells * (n * n * 64.0 + 2048.0) + 4e6
}

impl Estimate {
    /// The estimate for `replications` replications of `job` (times
    /// `points` sweep points) on `threads` threads at `rate` pairs per
    /// second per thread, keeping every replication's values or not.
    pub fn of(job: &Job, replications: u64, points: u64, threads: usize, rate: f64, keep_values: bool) -> Estimate {
        let engines: Vec<&Engine> = match job {
            Job::Single(e) => vec![e.as_ref()],
            Job::Portfolio(p) => p.engines.iter().collect(),
        };
        let (statistics, events, horizon) = match job {
            Job::Single(e) => (e.statistic_names.len(), e.event_names.len(), e.scenario.time.horizon),
            Job::Portfolio(p) => (p.statistic_names.len(), p.event_names.len(), p.horizon),
        };
        let per_replication = job_pairs(job);
        let pairs = per_replication * replications as f64 * points as f64;
        // Replications are the unit of parallel work.
        let threads = threads.clamp(1, replications.max(1).min(usize::MAX as u64) as usize);
        // Parallel efficiency on a loaded machine is lower than 1.
        let seconds = pairs / (rate * threads as f64 * 0.8);
        // Each replication's values: its record while collecting, the
        // columns, and a sorted copy of one column for the quantiles.
        let values = (statistics + 2 * horizon) as f64 * 8.0 + events as f64;
        let kept = if keep_values {
            values * 2.0 * replications as f64
        } else {
            // The total and one chunk's state a worker: per accumulator,
            // about 40 bytes a histogram bin (32 in the sorted vector, and
            // its slack; a few thousand bins on average, never more than
            // the values or the floor's bound of 20,480), which also covers
            // the batch of pending values.
            let bins = replications.min(4096) as f64 * 40.0;
            (statistics + 2 * horizon) as f64 * bins * (1 + threads) as f64
        };
        let fixed: f64 = engines.iter().map(|e| engine_fixed_bytes(e)).sum::<f64>() * (1 + threads) as f64;
        Estimate {
            pairs,
            seconds,
            bytes: kept + fixed,
            rate,
            threads,
        }
    }

    /// One line for a person: "about 3 min and 1.2 GB".
    pub fn describe(&self) -> String {
        format!(
            "about {} and {} of memory ({:.2e} child-cycle pairs at {:.2e} pairs/s per thread, {} thread{})",
            duration(self.seconds),
            bytes(self.bytes),
            self.pairs,
            self.rate,
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        )
    }

    /// Why this much work is past the limits (more than a day, or more
    /// memory than the `available` bytes), or `None` when it is not.
    pub fn past_limits(&self, available: Option<u64>) -> Option<String> {
        let too_long = self.seconds > TIME_LIMIT_SECONDS;
        let too_big = available.is_some_and(|a| self.bytes > a as f64);
        match (too_long, too_big) {
            (false, false) => None,
            (true, true) => Some("more than a day and more memory than is available".to_string()),
            (true, false) => Some("more than a day".to_string()),
            (false, true) => Some(format!(
                "more memory than the {} available",
                bytes(available.unwrap_or(0) as f64)
            )),
        }
    }

    /// Refuses a run past the limits (more than a day, or more memory than
    /// the machine has available), unless forced.
    ///
    /// # Errors
    /// An [`InputError`] naming `file` with the estimate and the ways out.
    pub fn check(&self, file: &str, available: Option<u64>, force: bool) -> Result<(), InputError> {
        if force {
            return Ok(());
        }
        let Some(why) = self.past_limits(available) else {
            return Ok(());
        };
        Err(InputError::new(
            file,
            "",
            format!(
                "this run would take {}: {why}. Use fewer replications or children, split it with --shard I/N (or `sibsim slurm`), or pass --force to run it anyway",
                self.describe()
            ),
        ))
    }
}

/// Memory the system can give without swapping (Linux `MemAvailable`).
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// Work of one replication of a job in the units of [`Estimate::pairs`].
fn job_pairs(job: &Job) -> f64 {
    match job {
        Job::Single(e) => engine_pairs(e),
        Job::Portfolio(p) => p.engines.iter().map(engine_pairs).sum(),
    }
}

/// Replications whose work is at most this many pairs are small enough to
/// time directly (a few milliseconds each on any machine).
const PROBE_MOST_PAIRS: f64 = 2e6;

/// This job's own single-thread speed in the units of [`Estimate::pairs`]:
/// its first replications timed for about 10 ms on this thread (contracts,
/// draws, accounts and all, which the bare kernel of [`measured_rate`]
/// leaves out: a real scenario runs at a fraction of it). A job whose
/// replication is too large to time quickly (a typo of four billion
/// children) falls back to [`measured_rate`].
pub fn job_rate(job: &Job) -> f64 {
    let pairs = job_pairs(job);
    if !(pairs > 0.0 && pairs <= PROBE_MOST_PAIRS) {
        return measured_rate();
    }
    let mut record = crate::sim::record::Record::default();
    let started = std::time::Instant::now();
    // Replications 0, 1, … until about 10 ms have passed (at least one).
    let mut timed = |replicate: &mut dyn FnMut(u64, &mut crate::sim::record::Record)| {
        let mut done = 0u64;
        while done == 0 || (started.elapsed().as_secs_f64() < 0.01 && done < 10_000) {
            replicate(done, &mut record);
            done += 1;
        }
        done
    };
    let done = match job {
        Job::Single(engine) => {
            let mut workspaces = engine.workspace();
            timed(&mut |r, record| engine.replicate(1, r, &mut workspaces, record))
        }
        Job::Portfolio(portfolio) => {
            let mut workspace = portfolio.workspace();
            timed(&mut |r, record| portfolio.replicate(1, r, &mut workspace, record, None))
        }
    };
    let seconds = started.elapsed().as_secs_f64().max(1e-6);
    (pairs * done as f64 / seconds).max(1e3)
}

/// This machine's single-thread speed in child-cycle pairs per second: a
/// bare per-child kernel (ChaCha8, 31-bit integer thresholds over 6 states,
/// both arms) timed for about 10 ms.
pub fn measured_rate() -> f64 {
    const STATES: usize = 6;
    // A sticky 6-state chain: 0.9 on the diagonal.
    let mut thresholds = [[0u32; STATES]; STATES];
    for (i, row) in thresholds.iter_mut().enumerate() {
        let mut cumulative = 0.0;
        for (j, cell) in row.iter_mut().enumerate() {
            cumulative += if i == j { 0.9 } else { 0.1 / (STATES - 1) as f64 };
            *cell = (cumulative.min(1.0) * f64::from(1u32 << 31)) as u32;
        }
        row[STATES - 1] = u32::MAX;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let started = std::time::Instant::now();
    let mut pairs = 0u64;
    let mut sink = 0usize;
    while started.elapsed().as_secs_f64() < 0.01 {
        for _ in 0..100 {
            let (mut baseline, mut intervention) = (0usize, 0usize);
            for _ in 0..20 {
                let u = rng.next_u32();
                baseline = draw(&thresholds[baseline], u);
                intervention = draw(&thresholds[intervention], u);
                sink = sink.wrapping_add(baseline + intervention);
            }
            pairs += 20;
        }
    }
    std::hint::black_box(sink);
    let seconds = started.elapsed().as_secs_f64().max(1e-6);
    (pairs as f64 / seconds).max(1e6)
}

/// "3.2 s", "4 min", "2.5 h", "3.1 days".
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else if seconds < 3600.0 {
        format!("{:.0} min", seconds / 60.0)
    } else if seconds < 86_400.0 * 2.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        let days = seconds / 86_400.0;
        if days < 1e6 {
            format!("{days:.0} days")
        } else {
            format!("{days:.1e} days")
        }
    }
}

/// "350 MB", "1.2 GB".
pub fn bytes(bytes: f64) -> String {
    if bytes < 1e9 {
        format!("{:.0} MB", bytes / 1e6)
    } else if bytes < 1e12 {
        format!("{:.1} GB", bytes / 1e9)
    } else {
        format!("{:.1e} GB", bytes / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_and_force_allows() {
        let e = Estimate {
            pairs: 1e15,
            seconds: 1e7,
            bytes: 1e6,
            rate: 1e8,
            threads: 1,
        };
        let err = e.check("s.toml", Some(1 << 30), false).unwrap_err();
        assert!(err.message.contains("more than a day"), "{err}");
        assert!(err.message.contains("--force"), "{err}");
        assert!(e.check("s.toml", Some(1 << 30), true).is_ok());
        let small = Estimate { seconds: 1.0, ..e };
        assert!(small.check("s.toml", Some(1 << 30), false).is_ok());
        let big = Estimate { bytes: 1e12, ..small };
        assert!(big.check("s.toml", Some(1 << 30), false).is_err());
    }

    #[test]
    fn the_machine_is_measured() {
        assert!(measured_rate() > 1e6);
    }

    #[test]
    fn a_small_job_is_timed_on_its_own_replications() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/hameenlinna-icehearts.toml");
        let scenario = crate::scenario::load(std::path::Path::new(file)).expect("a bundled scenario");
        let mut big = scenario.clone();
        let job = Job::Single(Box::new(Engine::new(scenario)));
        let rate = job_rate(&job);
        assert!(rate > 1e3 && rate.is_finite(), "{rate}");
        // A typo of four billion children is not timed by running it.
        big.cohort.waves[0].children = 4_000_000_000;
        let huge = Job::Single(Box::new(Engine::new(big)));
        assert!(job_pairs(&huge) > PROBE_MOST_PAIRS);
        assert!(job_rate(&huge) > 1e6, "the bare kernel's rate");
    }
}
