//! Flags and subcommands; converts them to library calls.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sibsim::cluster::shard::{self, ShardMeta};
use sibsim::error::{Error, InputError, Result};
use sibsim::files::check_target;
use sibsim::model::Scenario;
use sibsim::report::{result_files, write_folder, Report, ENGINE_VERSION};
use sibsim::run::estimate::Estimate;
use sibsim::run::job::Job;
use sibsim::run::sweep::{parse_axis, Axis, Sweep, SweepOptions};
use sibsim::scenario::{overrides, Loaded};
use sibsim::sim::engine::{Engine, RunOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by Ctrl-C: the run stops and writes nothing.
static CANCEL: AtomicBool = AtomicBool::new(false);

/// The benchmark scenario, built in so that `sibsim bench` runs anywhere.
const BENCH_SCENARIO: &str = include_str!("../scenarios/bench-6x1000x20.toml");

#[derive(Parser)]
#[command(name = "sibsim", version, about = "Monte Carlo engine for Social Impact Bonds")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate scenarios and write results/<name>/ (summary.json, summary.csv, cashflows.csv).
    Run {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Replications (overrides [run] replications).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        replications: Option<u64>,
        /// Master seed (overrides [run] seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: all cores).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
        threads: Option<u64>,
        /// Folder that receives <name>/.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Run only the I-th of N contiguous slices of the replications and
        /// write mergeable partial results to <out>/<name>.shard-I-of-N/.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Also write replications.csv, one row per replication.
        #[arg(long)]
        keep_replications: bool,
        /// Override any key by path, e.g. contract.payments[0].price=30000 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Run once per value with the same random numbers, e.g.
        /// contract.payments[0].price=30000,45000,60000; several make a grid.
        #[arg(long = "sweep", value_name = "KEY=V1,V2,...")]
        sweeps: Vec<String>,
        /// No progress bar, no summary lines.
        #[arg(long)]
        quiet: bool,
        /// Run even when the estimate says more than a day, more memory than
        /// is available, or more than 10000 sweep points.
        #[arg(long)]
        force: bool,
    },
    /// Parse and check scenarios; exit 0 or print a clear error.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Print the exact expectation (no sampling) as JSON.
    Expected {
        /// Scenario file.
        scenario: PathBuf,
    },
    /// Merge shard results into the summary an unsharded run writes.
    Merge {
        /// Shard folders, or folders that contain them.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Folder that receives <name>/.
        #[arg(long, default_value = "results")]
        out: PathBuf,
    },
    /// Observed panel (child,cycle,age,state) -> a [baseline] table of transition counts.
    Calibrate {
        /// The panel CSV.
        panel: PathBuf,
        /// State names, in scenario order.
        #[arg(long, value_delimiter = ',', required = true)]
        states: Vec<String>,
        /// Age band boundaries, e.g. 0,7,13,18 (bands [0,7), [7,13), [13,18)).
        #[arg(long, value_delimiter = ',')]
        age_bands: Vec<f64>,
        /// Prior added to every count.
        #[arg(long, default_value_t = 1.0)]
        prior: f64,
    },
    /// Write (and with --submit, submit) Slurm scripts: a shard job array and a merge job after it.
    Slurm {
        /// Scenario or portfolio file.
        scenario: PathBuf,
        /// Number of shards (array tasks).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100000))]
        shards: u64,
        /// Replications (default: the scenario's).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        replications: Option<u64>,
        /// Master seed (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Results folder (shards go to <out>/shards).
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Slurm partition.
        #[arg(long)]
        partition: Option<String>,
        /// Time limit per task, e.g. 01:00:00.
        #[arg(long)]
        time: Option<String>,
        /// Submit with sbatch and print the job ids.
        #[arg(long)]
        submit: bool,
    },
    /// Throughput and thread scaling: child-cycle pairs per second.
    Bench {
        /// Scenario (default: the built-in 6 states × 1000 children × 20 cycles).
        scenario: Option<PathBuf>,
        /// Thread counts, e.g. 1,2,4 (default: 1, 2, 4, … up to all cores).
        #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=4096))]
        threads: Vec<u64>,
        /// Replications per timing (default 400).
        #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..))]
        replications: u64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Writes to standard output. A reader that went away (`sibsim expected X |
/// head`) ends the program quietly with status 0, as other Unix tools do; a
/// full disk or any other write failure is a runtime error (status 1).
fn emit(text: std::fmt::Arguments) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_fmt(text).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::Runtime(format!("cannot write to standard output: {e}"))),
    }
}

/// `println!` through [`emit`]: returns the error instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => { emit(format_args!("{}\n", format_args!($($arg)*)))? };
}

fn load(path: &Path) -> Result<Scenario> {
    Ok(sibsim::scenario::load(path)?)
}

pub fn main() -> Result<()> {
    let cli = Cli::parse();
    // Without a handler Ctrl-C kills the process at once, which is safe too:
    // results are only ever renamed into place when complete.
    let _ = ctrlc::set_handler(|| CANCEL.store(true, Ordering::SeqCst));
    match cli.command {
        Command::Validate { scenarios } => {
            for path in &scenarios {
                match sibsim::scenario::load_any(path)? {
                    Loaded::Single(s) => say!(
                        "{}: ok ({} states, {} children, {} cycles)",
                        path.display(),
                        s.state_count(),
                        s.children(),
                        s.time.horizon
                    ),
                    Loaded::Portfolio(p) => {
                        say!("{}: ok (portfolio of {} contracts)", path.display(), p.contracts.len())
                    }
                }
            }
            Ok(())
        }
        Command::Expected { scenario } => {
            let job = Job::load(&scenario, &[])?;
            let mut map = serde_json::Map::new();
            for (name, v) in job.expected() {
                map.insert(name, serde_json::json!(v));
            }
            let out = serde_json::json!({ "scenario": job.name(), "expected": map });
            say!(
                "{}",
                serde_json::to_string_pretty(&out).map_err(|e| Error::Runtime(e.to_string()))?
            );
            Ok(())
        }
        Command::Run {
            scenarios,
            replications,
            seed,
            threads,
            out,
            shard,
            keep_replications,
            quiet,
            sets,
            sweeps,
            force,
        } => {
            let shard = shard.as_deref().map(shard::parse_spec).transpose()?;
            let sets = sets
                .iter()
                .map(|s| overrides::split(s, "--set"))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            if !sweeps.is_empty() {
                if shard.is_some() {
                    return Err(InputError::new(
                        "--sweep",
                        "",
                        "a sweep cannot be sharded; shard each value with --set instead",
                    )
                    .into());
                }
                let axes = sweeps.iter().map(|s| parse_axis(s)).collect::<Result<Vec<_>>>()?;
                let options = SweepOptions {
                    replications,
                    seed,
                    threads: threads.map(|t| t as usize),
                    force,
                    keep_replications,
                    cancel: Some(&CANCEL),
                };
                for path in &scenarios {
                    sweep(path, &sets, &axes, options, &out, quiet)?;
                }
                return Ok(());
            }
            // Load everything first: one bad file means nothing runs.
            let jobs = scenarios
                .iter()
                .map(|p| Job::load(p, &sets))
                .collect::<Result<Vec<_>>>()?;
            let mut names = std::collections::HashSet::new();
            for (job, path) in jobs.iter().zip(&scenarios) {
                if !names.insert(job.name().to_string()) {
                    return Err(InputError::new(path.display().to_string(), "name", format!("`{}` is also the name of another scenario in this run; their results would overwrite each other", job.name())).into());
                }
            }
            // Before any run: every shard spec fits its run, every results
            // folder can be replaced, and no run is absurdly large.
            let rate = sibsim::run::estimate::measured_rate();
            let available = sibsim::run::estimate::available_memory();
            let worker_threads = threads.map_or_else(rayon::current_num_threads, |t| t as usize);
            // (total, first, end) of each job, as checked here and run below.
            let mut ranges = Vec::with_capacity(jobs.len());
            for (job, path) in jobs.iter().zip(&scenarios) {
                let total = replications.unwrap_or(job.defaults().0);
                let (first, end) = match shard {
                    Some((i, n)) => {
                        shard::check_spec(i, n, total)?;
                        check_target(&out, &shard::folder_name(job.name(), i, n))?;
                        shard::range(i, n, total)
                    }
                    None => {
                        check_target(&out, job.name())?;
                        (0, total)
                    }
                };
                let estimate = Estimate::of(job, end - first, 1, worker_threads, rate);
                estimate.check(&path.display().to_string(), available, force)?;
                if !quiet && estimate.seconds > 10.0 {
                    eprintln!("{}: estimated {}", job.name(), estimate.describe());
                }
                ranges.push((total, first, end));
            }
            for ((job, path), (total, first, end)) in jobs.iter().zip(&scenarios).zip(ranges) {
                let seed = seed.unwrap_or(job.defaults().1);
                let bar = progress_bar(end - first, quiet);
                let tick = |k: u64| bar.inc(k);
                let started = std::time::Instant::now();
                let options = RunOptions {
                    seed,
                    first,
                    replications: end - first,
                    threads: threads.map(|t| t as usize),
                    progress: Some(&tick),
                    cancel: Some(&CANCEL),
                };
                let results = job.run(&options);
                bar.finish_and_clear();
                let results = results?;
                let seconds = started.elapsed().as_secs_f64();
                let expected = job.expected();
                if let Some((index, count)) = shard {
                    let meta = ShardMeta {
                        format: shard::FORMAT.to_string(),
                        scenario: job.name().to_string(),
                        scenario_path: path.display().to_string(),
                        scenario_digest: format!("{:016x}", job.digest()),
                        seed,
                        engine_version: ENGINE_VERSION.to_string(),
                        replications: total,
                        index,
                        count,
                        first,
                        end,
                        names: results.names.clone(),
                        event_names: results.event_names.clone(),
                        horizon: results.investor_paths.len(),
                        start_year: results.start_year,
                        cycle_years: results.cycle_years,
                        expected,
                        keep_replications,
                        sets: sets.clone(),
                        description: job.description().to_string(),
                        terms: job.terms(),
                        digest: String::new(),
                    };
                    let folder = shard::write(&out, &meta, &results)?;
                    if !quiet {
                        say!("{}: shard {index}/{count} (replications {first}..{end}), seed {seed}, {seconds:.2} s -> {}", job.name(), folder.display());
                    }
                    continue;
                }
                let report = Report::new(&results, &expected);
                let files = result_files(&report, &results, job.description(), &job.terms(), keep_replications);
                let folder = write_folder(&out, job.name(), &files)?;
                if !quiet {
                    say!(
                        "{}: {total} replications, seed {seed}, {seconds:.2} s -> {}",
                        job.name(),
                        folder.display()
                    );
                    print_headline(&report)?;
                }
            }
            Ok(())
        }
        Command::Merge { shards, out } => {
            let folders = shard::discover(&shards)?;
            let read = folders.iter().map(|f| shard::read(f)).collect::<Result<Vec<_>>>()?;
            let merged = shard::merge(read)?;
            let report = Report::new(&merged.results, &merged.meta.expected);
            let meta = &merged.meta;
            let files = result_files(
                &report,
                &merged.results,
                &meta.description,
                &meta.terms,
                meta.keep_replications,
            );
            let folder = write_folder(&out, &meta.scenario, &files)?;
            say!(
                "{}: merged {} shards, {} replications -> {}",
                merged.meta.scenario,
                merged.meta.count,
                merged.meta.replications,
                folder.display()
            );
            Ok(())
        }
        Command::Bench {
            scenario,
            threads,
            replications,
            json,
        } => bench(scenario, threads, replications, json),
        Command::Calibrate {
            panel,
            states,
            age_bands,
            prior,
        } => calibrate(&panel, &states, &age_bands, prior),
        Command::Slurm {
            scenario,
            shards,
            replications,
            seed,
            out,
            partition,
            time,
            submit,
        } => slurm(&scenario, shards, replications, seed, &out, partition, time, submit),
    }
}

fn calibrate(panel: &Path, states: &[String], age_bands: &[f64], prior: f64) -> Result<()> {
    let file = panel.display().to_string();
    if states.iter().any(|s| s.is_empty())
        || states.iter().collect::<std::collections::HashSet<_>>().len() != states.len()
    {
        return Err(InputError::new(
            "--states",
            "",
            "give distinct, non-empty state names separated by commas",
        )
        .into());
    }
    if !prior.is_finite() || !(0.0..1e15).contains(&prior) {
        return Err(InputError::new(
            "--prior",
            "",
            format!("{prior} is not a prior; expected a number from 0 to below 1e15"),
        )
        .into());
    }
    if age_bands.len() == 1
        || age_bands.windows(2).any(|w| w[0] >= w[1])
        || age_bands.iter().any(|a| !a.is_finite() || *a < 0.0)
    {
        return Err(InputError::new(
            "--age-bands",
            "",
            "give at least two increasing ages ≥ 0, e.g. 0,7,13,18",
        )
        .into());
    }
    let bytes = sibsim::files::read_regular(panel, sibsim::files::PANEL_LIMIT, "panel")?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::new(&file, "", "the panel is not UTF-8 text"))?;
    let calibration = sibsim::scenario::calibrate::calibrate(&text, &file, states, age_bands, prior)?;
    for (band, state) in calibration.empty_rows() {
        eprintln!("warning: {file}: no observed transitions from `{state}` ({band}); its row is the prior alone");
    }
    if calibration.outside_bands > 0 {
        eprintln!(
            "warning: {file}: {} transitions at ages outside --age-bands are counted only in the pooled table",
            calibration.outside_bands
        );
    }
    emit(format_args!("{}", calibration.to_toml()))?;
    Ok(())
}

fn bench(scenario: Option<PathBuf>, threads: Vec<u64>, replications: u64, json: bool) -> Result<()> {
    let scenario = match &scenario {
        Some(path) => load(path)?,
        None => sibsim::scenario::parse(BENCH_SCENARIO, "bench-6x1000x20.toml (built in)")?,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let threads = if threads.is_empty() {
        let mut t: Vec<u64> = std::iter::successors(Some(1u64), |&t| Some(t * 2))
            .take_while(|&t| t < cores)
            .collect();
        t.push(cores);
        t
    } else {
        threads
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
            cancel: Some(&CANCEL),
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
        rows.push((t, best, (pairs * replications) as f64 / best));
    }
    let sampler = if engine.aggregate { "aggregate" } else { "per-child" };
    // Per-thread rate of the first row (normally 1 thread) is the baseline.
    let base = rows.first().map_or(1.0, |r| r.2 / r.0 as f64);
    if json {
        let table: Vec<serde_json::Value> = rows
            .iter()
            .map(|&(t, seconds, rate)| serde_json::json!({"threads": t, "seconds": seconds, "pairs_per_second": rate, "speedup": rate / base, "efficiency": rate / base / t as f64}))
            .collect();
        let out = serde_json::json!({"scenario": engine.scenario.name, "sampler": sampler, "replications": replications, "pairs_per_replication": pairs, "cores": cores, "results": table});
        say!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| Error::Runtime(e.to_string()))?
        );
    } else {
        say!(
            "{}: {replications} replications x {pairs} child-cycle pairs, {sampler} sampler, {cores} cores, best of 3",
            engine.scenario.name
        );
        say!(
            "{:>8} {:>10} {:>16} {:>9} {:>11}",
            "threads",
            "seconds",
            "pairs/second",
            "speed-up",
            "efficiency"
        );
        for (t, seconds, rate) in rows {
            say!(
                "{t:>8} {seconds:>10.4} {rate:>16.4e} {:>9.2} {:>10.1}%",
                rate / base,
                100.0 * rate / base / t as f64
            );
        }
    }
    Ok(())
}

fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} replications ({eta})")
    {
        bar.set_style(style);
    }
    bar
}

/// A few lines a person reads first; the files hold everything.
fn print_headline(report: &Report) -> Result<()> {
    let expected = |name: &str| report.expected.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    say!(
        "  {:<28} {:>14} {:>12} {:>14} {:>14} {:>14}",
        "statistic",
        "mean",
        "± se",
        "p05",
        "p50",
        "p95"
    );
    for name in [
        "payer.true_savings",
        "payer.payments",
        "payer.net_savings",
        "investor.irr",
        "investor.multiple",
    ] {
        if let Some(s) = report.statistic(name) {
            say!(
                "  {name:<28} {:>14.4} {:>12.4} {:>14.4} {:>14.4} {:>14.4}",
                s.mean,
                s.se,
                s.p05,
                s.p50,
                s.p95
            );
        }
    }
    if let Some(v) = expected("payer.true_savings") {
        say!("  exact expected true savings: {v:.2}");
    }
    for name in ["investor.loss", "payer.net_loss", "payer.paid_without_impact"] {
        if let Some(p) = report.probability(name) {
            say!("  P({name}) = {:.4} ± {:.4}", p.p, p.se);
        }
    }
    Ok(())
}

/// Runs a prepared sweep of one file and writes <out>/<name>/sweep.csv and pictures.
fn sweep(
    path: &Path,
    sets: &[(String, String)],
    axes: &[Axis],
    options: SweepOptions,
    out: &Path,
    quiet: bool,
) -> Result<()> {
    let sweep = Sweep::prepare(path, sets, axes, options)?;
    let name = &sweep.name;
    if !quiet && sweep.estimate.seconds > 10.0 {
        eprintln!("{name}: estimated {}", sweep.estimate.describe());
    }
    check_target(out, name)?;
    let done = |point: &str| {
        if !quiet {
            emit(format_args!("{name}: {point} done\n"))?;
        }
        Ok(())
    };
    let produced = sweep.run(&done)?;
    let folder = write_folder(out, name, &produced.files)?;
    if !quiet {
        say!(
            "{name}: sweep of {} points -> {}",
            sweep.points,
            folder.join("sweep.csv").display()
        );
    }
    Ok(())
}

/// Writes (and optionally submits) the Slurm scripts of a sharded run.
#[allow(clippy::too_many_arguments)]
fn slurm(
    scenario: &Path,
    shards: u64,
    replications: Option<u64>,
    seed: Option<u64>,
    out: &Path,
    partition: Option<String>,
    time: Option<String>,
    submit: bool,
) -> Result<()> {
    if let Some(p) = &partition {
        sibsim::cluster::slurm::check_partition(p)?;
    }
    if let Some(t) = &time {
        sibsim::cluster::slurm::check_time(t)?;
    }
    let job = Job::load(scenario, &[])?;
    let (default_replications, default_seed) = job.defaults();
    shard::check_spec(1, shards, replications.unwrap_or(default_replications))?;
    let absolute = |p: &Path| std::path::absolute(p).map_err(|e| Error::io(p, e));
    let out = absolute(out)?;
    let spec = sibsim::cluster::slurm::SlurmJob {
        sibsim: std::env::current_exe()
            .map_err(|e| Error::Runtime(format!("cannot find the sibsim binary: {e}")))?
            .display()
            .to_string(),
        scenario: absolute(scenario)?.display().to_string(),
        name: job.name().to_string(),
        shards,
        replications: replications.unwrap_or(default_replications),
        seed: seed.unwrap_or(default_seed),
        out: out.display().to_string(),
        partition,
        time,
    };
    let folder_name = format!("{}.slurm", job.name());
    let files = spec.files(&out.join(&folder_name));
    let folder = write_folder(&out, &folder_name, &files)?;
    say!("wrote {}/array.sbatch, merge.sbatch and submit.sh", folder.display());
    if submit {
        std::fs::create_dir_all(out.join("shards")).map_err(|e| Error::io(&out, e))?;
        let (array, merge) = sibsim::cluster::slurm::submit(&folder)?;
        say!("array job {array}");
        say!("merge job {merge}");
    }
    Ok(())
}
