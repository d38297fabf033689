//! Flags and subcommands; converts them to library calls.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sibsim::error::{Error, InputError, Result};
use sibsim::model::Scenario;
use sibsim::report::{summary_files, write_folder, Report};
use sibsim::sim::engine::{Engine, RunOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(name = "sibsim", version, about = "Monte Carlo engine for Social Impact Bonds")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate scenarios and write results/<name>/summary.json and summary.csv.
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
        /// No progress bar, no summary lines.
        #[arg(long)]
        quiet: bool,
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
}

fn load(path: &Path) -> Result<Scenario> {
    Ok(sibsim::scenario::load(path)?)
}

pub fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { scenarios } => {
            for path in &scenarios {
                let s = load(path)?;
                println!(
                    "{}: ok ({} states, {} children, {} cycles)",
                    path.display(),
                    s.state_count(),
                    s.children(),
                    s.time.horizon
                );
            }
            Ok(())
        }
        Command::Expected { scenario } => {
            let engine = Engine::new(load(&scenario)?);
            let mut map = serde_json::Map::new();
            for (name, v) in engine.expected().named() {
                map.insert(name, serde_json::json!(v));
            }
            let out = serde_json::json!({ "scenario": engine.scenario.name, "expected": map });
            println!(
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
            quiet,
        } => {
            // Load everything first: one bad file means nothing runs.
            let loaded = scenarios.iter().map(|p| load(p)).collect::<Result<Vec<_>>>()?;
            let mut names = std::collections::HashSet::new();
            for s in &loaded {
                if !names.insert(s.name.clone()) {
                    return Err(InputError::new(&s.source, "name", format!("`{}` is also the name of another scenario in this run; their results would overwrite each other", s.name)).into());
                }
            }
            for scenario in loaded {
                let replications = replications.unwrap_or(scenario.run.replications);
                let seed = seed.unwrap_or(scenario.run.seed);
                let engine = Engine::new(scenario);
                let bar = progress_bar(replications, quiet);
                let tick = |k: u64| bar.inc(k);
                let started = std::time::Instant::now();
                let options = RunOptions {
                    seed,
                    first: 0,
                    replications,
                    threads: threads.map(|t| t as usize),
                    progress: Some(&tick),
                    cancel: None,
                };
                let results = engine.run(&options)?;
                bar.finish_and_clear();
                let report = Report::new(&results, &engine.expected());
                let folder = write_folder(&out, &engine.scenario.name, &summary_files(&report))?;
                if !quiet {
                    let seconds = started.elapsed().as_secs_f64();
                    println!(
                        "{}: {replications} replications, seed {seed}, {seconds:.2} s -> {}",
                        engine.scenario.name,
                        folder.display()
                    );
                    print_headline(&report);
                }
            }
            Ok(())
        }
    }
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
fn print_headline(report: &Report) {
    let expected = |name: &str| report.expected.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    println!(
        "  {:<28} {:>14} {:>12} {:>14} {:>14} {:>14}",
        "statistic", "mean", "± se", "p05", "p50", "p95"
    );
    for name in [
        "payer.true_savings",
        "payer.payments",
        "payer.net_savings",
        "investor.irr",
        "investor.multiple",
    ] {
        if let Some(s) = report.statistic(name) {
            println!(
                "  {name:<28} {:>14.4} {:>12.4} {:>14.4} {:>14.4} {:>14.4}",
                s.mean, s.se, s.p05, s.p50, s.p95
            );
        }
    }
    if let Some(v) = expected("payer.true_savings") {
        println!("  exact expected true savings: {v:.2}");
    }
    for name in ["investor.loss", "payer.net_loss", "payer.paid_without_impact"] {
        if let Some(p) = report.probability(name) {
            println!("  P({name}) = {:.4} ± {:.4}", p.p, p.se);
        }
    }
}
