//! Flags and subcommands; converts them to library calls.

mod args;
mod decisions;

use args::{Cli, Command};
use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sibsim::cluster::shard;
use sibsim::error::{Error, InputError, Result};
use sibsim::files::{check_target, write_folder};
use sibsim::report::terminal;
use sibsim::run::commands::{self, SlurmRequest};
use sibsim::run::simulate::{RunRequest, Written};
use sibsim::run::sweep::{parse_axis, Axis, Sweep, SweepOptions};
use sibsim::scenario::overrides;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Writes to standard output. A reader that went away (`sibsim expected X |
/// head`) ends the program quietly with status 0, as other Unix tools do; a
/// full disk or any other write failure is a runtime error (status 1).
pub(crate) fn emit(text: std::fmt::Arguments) -> Result<()> {
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

pub(crate) fn pretty(value: &serde_json::Value) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| Error::Runtime(e.to_string()))
}

pub fn main() -> Result<()> {
    let cli = Cli::parse();
    // Ctrl-C sets the flag every run checks: the run stops and writes nothing.
    // Without a handler Ctrl-C kills the process at once, which is safe too:
    // results are only ever renamed into place when complete.
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let cancel: &AtomicBool = &cancel;
    match cli.command {
        Command::Validate { scenarios, sets } => {
            let sets = split_sets(&sets)?;
            for path in &scenarios {
                let (line, warnings) = commands::validate(path, &sets)?;
                for warning in warnings {
                    eprintln!("warning: {warning}");
                }
                say!("{line}");
            }
        }
        Command::Expected { scenario, sets } => {
            say!("{}", pretty(&commands::expected(&scenario, &split_sets(&sets)?)?)?)
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
            let request = RunRequest {
                shard: shard.as_deref().map(shard::parse_spec).transpose()?,
                sets: split_sets(&sets)?,
                scenarios,
                replications,
                seed,
                threads: threads.map(|t| t as usize),
                out,
                keep_replications,
                force,
            };
            run_or_sweep(request, &sweeps, quiet, cancel)?;
        }
        Command::Solve {
            scenario,
            vary,
            target,
            range,
            flags,
        } => decisions::solve_command(scenario, vary, &target, range.as_deref(), &flags, cancel)?,
        Command::Tornado {
            scenario,
            statistics,
            low,
            high,
            vary,
            flags,
        } => decisions::tornado_command(scenario, &statistics, low, high, &vary, &flags, cancel)?,
        Command::Voi { scenario, flags } => decisions::voi_command(scenario, &flags, cancel)?,
        Command::Merge { shards, out } => {
            let merged = commands::merge(&shards, &out)?;
            say!(
                "{}: merged {} shards, {} replications -> {}",
                merged.scenario,
                merged.shards,
                merged.replications,
                merged.folder.display()
            );
        }
        Command::Bench {
            scenario,
            threads,
            replications,
            runs,
            warmup,
            json,
            export_json,
            export_csv,
            export_markdown,
            force,
        } => {
            let options = sibsim::run::bench::BenchOptions {
                replications,
                runs,
                warmup,
            };
            let exports = [export_json, export_csv, export_markdown];
            bench(scenario.as_deref(), &threads, options, json, exports, force, cancel)?;
        }
        Command::Calibrate {
            panel,
            states,
            age_bands,
            prior,
            targets,
            scenario,
            draws,
            seed,
            concentration,
            set,
            out,
        } => match (panel, targets, scenario) {
            (_, Some(targets), Some(scenario)) => {
                let sets = split_sets(&set)?;
                let options = sibsim::stats::fit::FitOptions {
                    concentration,
                    ..sibsim::stats::fit::FitOptions::new(draws, seed)
                };
                fit_command(targets, scenario, sets, options, &out)?;
            }
            (Some(panel), _, _) => {
                let calibrated = commands::calibrate(&panel, &states, &age_bands, prior)?;
                for warning in &calibrated.warnings {
                    eprintln!("warning: {warning}");
                }
                emit(format_args!("{}", calibrated.calibration.to_toml()))?;
            }
            _ => {
                return Err(InputError::new("calibrate", "", "give a panel CSV, or --targets and --scenario").into());
            }
        },
        Command::Slurm {
            scenario,
            shards,
            replications,
            seed,
            out,
            partition,
            time,
            submit,
        } => {
            let request = SlurmRequest {
                sibsim: std::env::current_exe()
                    .map_err(|e| Error::Runtime(format!("cannot find the sibsim binary: {e}")))?,
                scenario,
                shards,
                replications,
                seed,
                out,
                partition,
                time,
                submit,
            };
            slurm(&request)?;
        }
    }
    Ok(())
}

/// `slurm`: writes (and submits) the scripts and says what it did.
/// `calibrate --targets`: the fitted [baseline] on stdout, the fit's files
/// under `<out>/<name>-fit/`, the diagnostics and the fit table on stderr.
fn fit_command(
    targets: std::path::PathBuf,
    scenario: std::path::PathBuf,
    sets: Vec<(String, String)>,
    options: sibsim::stats::fit::FitOptions,
    out: &Path,
) -> Result<()> {
    let request = sibsim::run::fit::FitRequest {
        targets,
        scenario,
        sets,
        options,
    };
    // The results folder is checked before the sampler runs.
    if let sibsim::scenario::Loaded::Single(s) = sibsim::scenario::load_any_with(&request.scenario, &request.sets)? {
        check_target(out, &format!("{}-fit", s.name))?;
    }
    let fitted = sibsim::run::fit::fit_targets(&request)?;
    let folder = write_folder(out, &format!("{}-fit", fitted.name), &fitted.files())?;
    emit(format_args!("{}", fitted.toml))?;
    eprintln!("{}", fitted.diagnostics());
    for f in &fitted.fits {
        eprintln!(
            "  {:<48} target {:>9.4} ± {:<7.4} fitted {:>9.4} [{:.4}, {:.4}]  z {:+.2}",
            f.label(),
            f.target.value,
            f.target.se,
            f.fitted.0,
            f.fitted.1,
            f.fitted.2,
            f.z()
        );
    }
    for warning in &fitted.warnings {
        eprintln!("warning: {warning}");
    }
    eprintln!("wrote {}", folder.display());
    Ok(())
}

fn slurm(request: &SlurmRequest) -> Result<()> {
    let done = commands::slurm(request)?;
    say!(
        "wrote {}/array.sbatch, merge.sbatch and submit.sh",
        done.folder.display()
    );
    if let Some((array, merge)) = done.submitted {
        say!("array job {array}");
        say!("merge job {merge}");
    }
    Ok(())
}

/// `--set KEY=VALUE` flags as (key path, value) pairs.
pub(crate) fn split_sets(flags: &[String]) -> Result<Vec<(String, String)>> {
    Ok(flags
        .iter()
        .map(|s| overrides::split(s, "--set"))
        .collect::<std::result::Result<Vec<_>, _>>()?)
}

/// `bench`: checks the export files and the cost first, then times the
/// runs, prints the table (or JSON), writes the exports (each whole).
#[allow(clippy::too_many_arguments)]
fn bench(
    scenario: Option<&Path>,
    threads: &[u64],
    options: sibsim::run::bench::BenchOptions,
    json: bool,
    exports: [Option<std::path::PathBuf>; 3],
    force: bool,
    cancel: &AtomicBool,
) -> Result<()> {
    use sibsim::run::bench::{built_in, check_cost};
    let flags = ["--export-json", "--export-csv", "--export-markdown"];
    for (path, flag) in exports.iter().zip(flags) {
        if let Some(path) = path {
            sibsim::files::check_file_target(path, flag)?;
        }
    }
    let (job, file) = match scenario {
        Some(path) => (sibsim::run::job::Job::load(path, &[])?, path.display().to_string()),
        None => (built_in()?, "bench-6x1000x20.toml (built in)".to_string()),
    };
    check_cost(&job, threads, options, &file, force)?;
    let result = sibsim::run::bench::bench(&job, threads, options, Some(cancel))?;
    let [export_json, export_csv, export_markdown] = exports;
    let exports = [
        (export_json, pretty(&result.to_json())? + "\n"),
        (export_csv, result.to_csv()),
        (export_markdown, result.to_markdown()),
    ];
    for (path, text) in exports {
        if let Some(path) = path {
            sibsim::files::write_file(&path, text.as_bytes())?;
        }
    }
    if json {
        say!("{}", pretty(&result.to_json())?);
    } else {
        emit(format_args!("{}", result.table()))?;
    }
    Ok(())
}

/// `run`: a plain run of every file, or with `--sweep`, a sweep of each.
fn run_or_sweep(request: RunRequest, sweeps: &[String], quiet: bool, cancel: &AtomicBool) -> Result<()> {
    if sweeps.is_empty() {
        return run(request, quiet, cancel);
    }
    if request.shard.is_some() {
        let message = "a sweep cannot be sharded; shard each value with --set instead";
        return Err(InputError::new("--sweep", "", message).into());
    }
    let axes = sweeps.iter().map(|s| parse_axis(s)).collect::<Result<Vec<_>>>()?;
    let options = SweepOptions {
        replications: request.replications,
        seed: request.seed,
        threads: request.threads,
        force: request.force,
        keep_replications: request.keep_replications,
        cancel: Some(cancel),
    };
    for path in &request.scenarios {
        sweep(path, &request.sets, &axes, options, &request.out, quiet)?;
    }
    Ok(())
}

/// `run` without sweeps: plan every file (nothing runs if one is bad), then
/// run them in order with a progress bar and print each one's headline.
fn run(request: RunRequest, quiet: bool, cancel: &AtomicBool) -> Result<()> {
    let plan = request.plan()?;
    for planned in &plan.runs {
        for warning in planned.job.warnings() {
            eprintln!("warning: {warning}");
        }
    }
    if !quiet {
        for planned in plan.runs.iter().filter(|p| p.estimate.seconds > 10.0) {
            eprintln!("{}: estimated {}", planned.job.name(), planned.estimate.describe());
        }
    }
    for (k, planned) in plan.runs.iter().enumerate() {
        let bar = progress_bar(planned.end - planned.first, quiet);
        let tick = |n: u64| bar.inc(n);
        let finished = plan.run(k, Some(&tick), Some(cancel));
        bar.finish_and_clear();
        let finished = finished?;
        for warning in &finished.warnings {
            eprintln!("warning: {warning}");
        }
        if quiet {
            continue;
        }
        let (name, seed, seconds) = (planned.job.name(), planned.seed, finished.seconds);
        match finished.written {
            Written::Shard { folder } => {
                let (index, count) = plan.request.shard.unwrap_or((1, 1));
                let (first, end) = (planned.first, planned.end);
                say!(
                    "{name}: shard {index}/{count} (replications {first}..{end}), seed {seed}, {seconds:.2} s -> {}",
                    folder.display()
                );
            }
            Written::Results { folder, report } => {
                say!(
                    "{name}: {} replications, seed {seed}, {seconds:.2} s -> {}",
                    planned.total,
                    folder.display()
                );
                emit(format_args!("{}", terminal::headline(&report, planned.job.currency())))?;
            }
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
