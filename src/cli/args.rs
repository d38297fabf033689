//! The command line's flags and subcommands (clap).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "sibsim", version, about = "Monte Carlo engine for Social Impact Bonds")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// Override any key by path before checking, as `run` does (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
    },
    /// Print the exact expectation (no sampling) as JSON.
    Expected {
        /// Scenario file.
        scenario: PathBuf,
        /// Override any key by path, as `run` does (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
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
    /// A [baseline] table: transition counts from an observed panel (child,cycle,age,state), or, with
    /// --targets, a Bayesian fit of a scenario's baseline to published aggregate figures.
    Calibrate {
        /// The panel CSV (not with --targets).
        #[arg(required_unless_present = "targets", conflicts_with = "targets")]
        panel: Option<PathBuf>,
        /// State names, in scenario order (with a panel).
        #[arg(
            long,
            value_delimiter = ',',
            required_unless_present = "targets",
            conflicts_with = "targets"
        )]
        states: Vec<String>,
        /// Age band boundaries, e.g. 0,7,13,18 (bands [0,7), [7,13), [13,18)) (with a panel).
        #[arg(long, value_delimiter = ',', conflicts_with = "targets")]
        age_bands: Vec<f64>,
        /// Prior added to every count (with a panel).
        #[arg(long, default_value_t = 1.0, conflicts_with = "targets")]
        prior: f64,
        /// Targets CSV: kind,states,age_from,age_to,value,se (kind: prevalence, ever, mean_cycles).
        #[arg(long, requires = "scenario")]
        targets: Option<PathBuf>,
        /// The scenario whose [baseline] is fitted to --targets.
        #[arg(long, requires = "targets")]
        scenario: Option<PathBuf>,
        /// Posterior draws kept (with --targets).
        #[arg(long, default_value_t = 1000, conflicts_with = "panel")]
        draws: usize,
        /// Seed of the sampler (with --targets).
        #[arg(long, default_value_t = 1, conflicts_with = "panel")]
        seed: u64,
        /// Prior weight of the file's baseline rows: Dirichlet(concentration × row) (with --targets).
        #[arg(long, default_value_t = 50.0, conflicts_with = "panel")]
        concentration: f64,
        /// --set KEY=VALUE on the scenario (with --targets).
        #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "panel")]
        set: Vec<String>,
        /// Folder that receives <scenario name>-fit/ (with --targets).
        #[arg(long, default_value = "results", conflicts_with = "panel")]
        out: PathBuf,
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
    /// The value of a key at which a statistic reaches a target, on common random numbers.
    Solve {
        /// Scenario or portfolio file.
        scenario: PathBuf,
        /// The numeric key to vary, e.g. contract.payments[0].price (contracts.<name>.<key> in a portfolio).
        #[arg(long, value_name = "KEY")]
        vary: String,
        /// The statistic with its field and its target, e.g. investor.irr.p50=0.05 or payer.net_loss.p=0.1.
        #[arg(long, value_name = "STAT=VALUE")]
        target: String,
        /// Where to search (default: 0 to twice the file's value).
        #[arg(long, value_name = "LO,HI")]
        range: Option<String>,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// One-way sensitivity: each uncertain input at its low and high percentile, the rest central.
    Tornado {
        /// Scenario or portfolio file.
        scenario: PathBuf,
        /// Statistics with their field (repeatable; default payer.net_savings.mean and investor.irr.p50).
        #[arg(long = "statistic", value_name = "STAT")]
        statistics: Vec<String>,
        /// Low percentile of each input.
        #[arg(long, default_value_t = 10.0)]
        low: f64,
        /// High percentile of each input.
        #[arg(long, default_value_t = 90.0)]
        high: f64,
        /// A contract term to include, with its low and high values, e.g. contract.payments[0].price=45000,75000 (repeatable).
        #[arg(long = "vary", value_name = "KEY=LO,HI")]
        vary: Vec<String>,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Expected value of perfect (and partial) information for the payer's and the investors' decisions.
    Voi {
        /// Scenario or portfolio file.
        scenario: PathBuf,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Throughput and thread scaling: child-cycle pairs per second.
    Bench {
        /// Scenario or portfolio (default: the built-in 6 states × 1000 children × 20 cycles).
        scenario: Option<PathBuf>,
        /// Thread counts, e.g. 1,2,4 (default: 1, 2, 4, … up to all cores).
        #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=4096))]
        threads: Vec<u64>,
        /// Replications per timed run.
        #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..))]
        replications: u64,
        /// Timed runs per thread count.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
        runs: u64,
        /// Untimed runs before them.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=1000))]
        warmup: u64,
        /// Print JSON (every run's time) instead of a table.
        #[arg(long)]
        json: bool,
        /// Also write the results as JSON to this file.
        #[arg(long, value_name = "FILE")]
        export_json: Option<PathBuf>,
        /// Also write the results as CSV to this file.
        #[arg(long, value_name = "FILE")]
        export_csv: Option<PathBuf>,
        /// Also write the results as a Markdown table to this file.
        #[arg(long, value_name = "FILE")]
        export_markdown: Option<PathBuf>,
        /// Bench even when it would take more than a day or more memory than is available.
        #[arg(long)]
        force: bool,
    },
}

/// The flags the decision commands share with `run`.
#[derive(Args, Clone)]
pub struct RunFlags {
    /// Replications per run (default: the file's).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub replications: Option<u64>,
    /// Master seed (default: the file's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores; results do not depend on it).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub threads: Option<u64>,
    /// Folder that receives <name>/.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Override any key by path (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}
