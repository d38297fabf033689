//! Sweeps: one run per point of a grid of key values, every point on the
//! same seed (common random numbers), summarised in `sweep.csv` and band
//! charts. In two steps, so that a caller can check where the results go
//! before anything runs: [`Sweep::prepare`] checks the keys and every point
//! and estimates the cost; [`Sweep::run`] runs the points.

use crate::error::{Error, InputError, Result};
use crate::model::names;
use crate::report::charts::Picture;
use crate::report::format::Ticks;
use crate::report::page::{Page, Table};
use crate::run::estimate::{Estimate, SWEEP_POINT_LIMIT};
use crate::run::job::Job;
use crate::scenario::overrides;
use crate::sim::parallel::RunOptions;
use crate::sim::record::RunResults;
use crate::stats::RunSummary;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// One swept key and its values.
pub type Axis = (String, Vec<String>);

/// Parses `KEY=V1,V2,...`.
///
/// # Errors
/// An [`InputError`] naming `--sweep` without `=` or without values.
pub fn parse_axis(text: &str) -> Result<Axis> {
    let (key, values) = overrides::split(text, "--sweep")?;
    let values: Vec<String> = values
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err(InputError::new("--sweep", &key, "no values; expected KEY=V1,V2,...").into());
    }
    Ok((key, values))
}

/// How to run a sweep.
#[derive(Clone, Copy, Default)]
pub struct SweepOptions<'a> {
    /// Replications per point (default: the file's).
    pub replications: Option<u64>,
    /// Master seed (default: the file's).
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Run past the size limits.
    pub force: bool,
    /// Also produce `replications-K.csv` for the K-th point.
    pub keep_replications: bool,
    /// Set to stop; the sweep then fails with [`Error::Interrupted`].
    pub cancel: Option<&'a AtomicBool>,
}

/// A checked sweep of one scenario file, ready to run.
pub struct Sweep<'a> {
    path: PathBuf,
    sets: &'a [(String, String)],
    axes: &'a [Axis],
    options: SweepOptions<'a>,
    /// Scenario name (the results folder).
    pub name: String,
    /// Number of grid points.
    pub points: u64,
    /// The currency of money statistics.
    pub currency: String,
    /// What the whole sweep will cost.
    pub estimate: Estimate,
}

/// What a finished sweep produced.
pub struct SweepFiles {
    /// `sweep.csv`, band charts, and `replications-K.csv` when asked.
    pub files: Vec<(String, Vec<u8>)>,
}

impl<'a> Sweep<'a> {
    /// Checks the keys (none swept twice, none both set and swept, not the
    /// name), the grid size, and every point (one at a time, so memory stays
    /// that of one point), then estimates the cost.
    ///
    /// # Errors
    /// Bad input naming `--sweep` or the file; [`Error::Interrupted`] when
    /// cancelled while points are checked; a run past the limits without
    /// `force`.
    pub fn prepare(
        path: &Path,
        sets: &'a [(String, String)],
        axes: &'a [Axis],
        options: SweepOptions<'a>,
    ) -> Result<Sweep<'a>> {
        check_axes(axes, sets)?;
        let points = axes
            .iter()
            .try_fold(1u64, |n, (_, values)| n.checked_mul(values.len() as u64))
            .unwrap_or(u64::MAX);
        let file = path.display().to_string();
        if points > SWEEP_POINT_LIMIT && !options.force {
            return Err(InputError::new(
                &file,
                "--sweep",
                format!(
                    "the grid has {points} points, more than the {SWEEP_POINT_LIMIT} a sweep may have; sweep fewer values or pass --force"
                ),
            )
            .into());
        }
        let mut sweep = Sweep {
            path: path.to_path_buf(),
            sets,
            axes,
            options,
            name: String::new(),
            currency: String::new(),
            points,
            estimate: Estimate {
                pairs: 0.0,
                seconds: 0.0,
                bytes: 0.0,
                rate: 0.0,
                threads: 1,
            },
        };
        let first = sweep.load(0)?;
        for index in 1..points {
            if options.cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
                return Err(Error::Interrupted);
            }
            sweep.load(index)?;
        }
        let replications = options.replications.unwrap_or(first.defaults().0);
        let threads = options.threads.unwrap_or_else(rayon::current_num_threads);
        sweep.estimate = Estimate::of(
            &first,
            replications,
            points,
            threads,
            crate::run::estimate::job_rate(&first),
            true,
        );
        sweep
            .estimate
            .check(&file, crate::run::estimate::available_memory(), options.force)?;
        sweep.name = first.name().to_string();
        sweep.currency = first.currency().to_string();
        Ok(sweep)
    }

    /// The `index`-th point's values, first axis slowest.
    pub fn point(&self, mut index: u64) -> Vec<String> {
        let mut point = vec![String::new(); self.axes.len()];
        for (slot, (_, values)) in point.iter_mut().zip(self.axes).rev() {
            let n = values.len() as u64;
            *slot = values[(index % n) as usize].clone();
            index /= n;
        }
        point
    }

    /// Loads one point; errors in a swept key are labelled `--sweep`.
    fn load(&self, index: u64) -> Result<Job> {
        let mut all = self.sets.to_vec();
        all.extend(self.axes.iter().map(|(k, _)| k.clone()).zip(self.point(index)));
        Job::load(&self.path, &all).map_err(|e| match e {
            Error::Input(mut input) => {
                if input.file == "--set" && self.axes.iter().any(|(k, _)| *k == input.key_path) {
                    input.file = "--sweep".to_string();
                }
                // The file label lists the overrides; say which came from --sweep.
                for (key, _) in self.axes {
                    input.file = input.file.replace(&format!("--set {key}="), &format!("--sweep {key}="));
                }
                Error::Input(input)
            }
            other => other,
        })
    }

    /// Runs every point; `done(point)` is called after each with its
    /// `KEY=VALUE` text, and an error it returns stops the sweep.
    ///
    /// # Errors
    /// Runtime failures, `done`'s errors, or [`Error::Interrupted`] when
    /// cancelled.
    pub fn run(&self, done: &dyn Fn(&str) -> Result<()>) -> Result<SweepFiles> {
        let axes = self.axes;
        let mut csv = String::new();
        // Pooled (or the contract's own) columns, then a portfolio's per contract.
        let mut prefixes = vec![String::new()];
        let mut bands: Vec<Vec<[f64; 5]>> = vec![Vec::new(); names::HEADLINE_STATISTICS.len()];
        let mut sides: Vec<Sides> = Vec::new();
        let mut files = Vec::new();
        for index in 0..self.points {
            let point = self.point(index);
            let job = self.load(index)?;
            let (default_replications, default_seed) = job.defaults();
            let options = RunOptions {
                threads: self.options.threads,
                cancel: self.options.cancel,
                ..RunOptions::new(
                    self.options.seed.unwrap_or(default_seed),
                    self.options.replications.unwrap_or(default_replications),
                )
            };
            if index == 0 {
                if let Job::Portfolio(p) = &job {
                    prefixes.extend(p.portfolio.contracts.iter().map(|c| names::contract(&c.name, "")));
                }
                csv = header(axes, &prefixes);
            }
            let results = job.run(&options)?;
            let report = RunSummary::new(&results, &job.expected());
            sides.push(Sides::of(&results, &report));
            if self.options.keep_replications {
                // One file per point, numbered as the rows of sweep.csv (from 1).
                files.push((
                    format!("replications-{}.csv", index + 1),
                    crate::report::replications::replications_csv(&results).into_bytes(),
                ));
            }
            csv.push_str(&point.join(","));
            for (k, s) in names::HEADLINE_STATISTICS.iter().enumerate() {
                let x = report.statistic(s);
                bands[k].push(x.map_or([f64::NAN; 5], |x| [x.p05, x.p25, x.p50, x.p75, x.p95]));
            }
            for prefix in &prefixes {
                row_cells(&report, prefix, &mut csv);
            }
            csv.push('\n');
            let label: Vec<String> = point.iter().zip(axes).map(|(v, (k, _))| format!("{k}={v}")).collect();
            done(&label.join(" "))?;
        }
        files.insert(0, ("sweep.csv".to_string(), csv.into_bytes()));
        // Pictures against the first swept key, when its values are numbers and it is the only one.
        let xs: Vec<f64> = axes[0].1.iter().filter_map(|v| v.parse().ok()).collect();
        let mut pictures = Vec::new();
        if axes.len() == 1 && xs.len() == axes[0].1.len() {
            for (k, s) in names::HEADLINE_STATISTICS.iter().enumerate() {
                if let Some(svg) = crate::report::plot::band_chart(
                    &xs,
                    &bands[k],
                    &format!("{s} against {}", axes[0].0),
                    &axes[0].0,
                    (s, Ticks::of(names::unit(s), &self.currency)),
                ) {
                    files.push((format!("sweep_{s}.svg"), svg.clone().into_bytes()));
                    pictures.push(Picture {
                        file: format!("sweep_{s}.svg"),
                        caption: format!("{s}: median, p25–p75 and p05–p95 at each value"),
                        svg,
                    });
                }
            }
            let (more_files, more_pictures) = negotiation(&axes[0].0, &axes[0].1, &xs, &sides, &self.currency);
            files.extend(more_files);
            pictures.extend(more_pictures);
        }
        if axes.len() == 2 {
            // A grid: one heat map per headline statistic's median, the
            // first key across and the second down.
            let (across, down) = (axes[0].1.len(), axes[1].1.len());
            for (k, s) in names::HEADLINE_STATISTICS.iter().enumerate() {
                let grid: Vec<Vec<f64>> = (0..across)
                    .map(|i| (0..down).map(|j| bands[k][i * down + j][2]).collect())
                    .collect();
                let svg = crate::report::plot::heat_map(
                    &axes[0].1,
                    &axes[1].1,
                    &grid,
                    &format!("median {s}"),
                    (&axes[0].0, &axes[1].0),
                    Ticks::of(names::unit(s), &self.currency),
                );
                if let Some(svg) = svg {
                    let file = format!("sweep_heat_{s}.svg");
                    files.push((file.clone(), svg.clone().into_bytes()));
                    pictures.push(Picture {
                        file,
                        caption: format!("{s}: median at each point of the grid"),
                        svg,
                    });
                }
            }
        }
        files.push(("report.html".to_string(), self.page(&sides, pictures).into_bytes()));
        Ok(SweepFiles { files })
    }
}

/// The header of `sweep.csv`: the swept keys, then for each prefix (empty
/// for the pooled or only contract, `contracts.<name>.` for each contract
/// of a portfolio) each headline statistic's mean, se and quantiles and
/// each headline event's probability and se.
fn header(axes: &[Axis], prefixes: &[String]) -> String {
    let mut csv = axes.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>().join(",");
    for prefix in prefixes {
        for s in names::HEADLINE_STATISTICS {
            csv.push_str(&format!(
                ",{prefix}{s}.mean,{prefix}{s}.se,{prefix}{s}.p05,{prefix}{s}.p25,{prefix}{s}.p50,{prefix}{s}.p75,{prefix}{s}.p95"
            ));
        }
        for p in names::HEADLINE_EVENTS {
            csv.push_str(&format!(",P({prefix}{p}),P({prefix}{p}).se"));
        }
    }
    csv.push('\n');
    csv
}

/// One point's cells for the statistics under `prefix` (empty where a
/// statistic is not reported).
fn row_cells(report: &RunSummary, prefix: &str, csv: &mut String) {
    for s in names::HEADLINE_STATISTICS {
        match report.statistic(&format!("{prefix}{s}")) {
            Some(x) => csv.push_str(&format!(
                ",{},{},{},{},{},{},{}",
                x.mean, x.se, x.p05, x.p25, x.p50, x.p75, x.p95
            )),
            None => csv.push_str(",,,,,,,"),
        }
    }
    for p in names::HEADLINE_EVENTS {
        match report.probability(&format!("{prefix}{p}")) {
            Some(x) => csv.push_str(&format!(",{},{}", x.p, x.se)),
            None => csv.push_str(",,"),
        }
    }
}

/// What each side sees at one point of a sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sides {
    /// P(payer net savings > 0), with its se.
    pub payer_saves: (f64, f64),
    /// P(investor multiple ≥ 1), with its se.
    pub investors_whole: (f64, f64),
    /// The payer's P(net loss).
    pub payer_net_loss: f64,
    /// The payer's median net savings.
    pub net_savings_p50: f64,
    /// The investors' median IRR.
    pub irr_p50: f64,
}

/// The share of defined values that satisfy `keep`, with its se.
fn share(values: Option<&[f64]>, keep: impl Fn(f64) -> bool) -> (f64, f64) {
    let defined: Vec<f64> = values.unwrap_or(&[]).iter().copied().filter(|v| !v.is_nan()).collect();
    if defined.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = defined.len() as f64;
    let p = defined.iter().filter(|&&v| keep(v)).count() as f64 / n;
    (p, (p * (1.0 - p) / n).sqrt())
}

impl Sides {
    /// The figures of one finished point.
    pub fn of(results: &RunResults, summary: &RunSummary) -> Sides {
        let p50 = |name: &str| summary.statistic(name).map_or(f64::NAN, |s| s.p50);
        Sides {
            payer_saves: share(results.column(names::NET_SAVINGS), |v| v > 0.0),
            investors_whole: share(results.column(names::MULTIPLE), |v| v >= 1.0),
            payer_net_loss: summary.probability(names::NET_LOSS).map_or(f64::NAN, |p| p.p),
            net_savings_p50: p50(names::NET_SAVINGS),
            irr_p50: p50(names::IRR),
        }
    }
}

/// For a 1-D sweep: `acceptability.csv`, the acceptability curve (each
/// side's chance of coming out ahead against the value) and the
/// negotiation frontier (the investors' median IRR against the payer's
/// P(net loss) and against its median net savings, one labelled point per
/// value).
fn negotiation(
    key: &str,
    labels: &[String],
    xs: &[f64],
    sides: &[Sides],
    currency: &str,
) -> (Vec<(String, Vec<u8>)>, Vec<Picture>) {
    let header = [
        key,
        "p_payer_net_savings_positive",
        "se",
        "p_investor_multiple_at_least_1",
        "se",
        "payer_p_net_loss",
        "payer_net_savings_p50",
        "investor_irr_p50",
    ];
    let mut rows = vec![header.map(String::from).to_vec()];
    for (label, s) in labels.iter().zip(sides) {
        rows.push(vec![
            label.clone(),
            s.payer_saves.0.to_string(),
            s.payer_saves.1.to_string(),
            s.investors_whole.0.to_string(),
            s.investors_whole.1.to_string(),
            s.payer_net_loss.to_string(),
            s.net_savings_p50.to_string(),
            s.irr_p50.to_string(),
        ]);
    }
    let mut files = vec![(
        "acceptability.csv".to_string(),
        crate::report::csv::write_rows(rows).into_bytes(),
    )];
    let mut pictures = Vec::new();
    let mut add = |file: &str, caption: String, svg: Option<String>| {
        if let Some(svg) = svg {
            files.push((file.to_string(), svg.clone().into_bytes()));
            pictures.push(Picture {
                file: file.to_string(),
                caption,
                svg,
            });
        }
    };
    let series = vec![
        (
            "payer: P(net savings > 0)".to_string(),
            sides.iter().map(|s| s.payer_saves.0).collect(),
        ),
        (
            "investors: P(multiple ≥ 1)".to_string(),
            sides.iter().map(|s| s.investors_whole.0).collect(),
        ),
    ];
    add(
        "acceptability.svg",
        format!("Acceptability: each side's chance of coming out ahead, against {key}"),
        crate::report::plot::lines_chart(
            xs,
            &series,
            &format!("Acceptability against {key}"),
            key,
            ("probability", Ticks::Percent),
            Some((0.0, 1.0)),
        ),
    );
    let labelled = |x: &dyn Fn(&Sides) -> f64| -> Vec<(f64, f64, String)> {
        sides
            .iter()
            .zip(labels)
            .map(|(s, l)| (x(s), s.irr_p50, l.clone()))
            .collect()
    };
    add(
        "frontier_loss.svg",
        format!("Negotiation frontier: the investors' median IRR against the payer's P(net loss), one point per {key}"),
        crate::report::plot::labelled_path(
            &labelled(&|s| s.payer_net_loss),
            "Negotiation frontier",
            ("payer: P(net loss)", Ticks::Percent),
            ("investors: median IRR", Ticks::Percent),
        ),
    );
    add(
        "frontier_savings.svg",
        format!("Negotiation frontier: the investors' median IRR against the payer's median net savings, one point per {key}"),
        crate::report::plot::labelled_path(
            &labelled(&|s| s.net_savings_p50),
            "Negotiation frontier",
            ("payer: median net savings", Ticks::Money(currency)),
            ("investors: median IRR", Ticks::Percent),
        ),
    );
    (files, pictures)
}

impl Sweep<'_> {
    /// The sweep's `report.html`: a row per point and every picture.
    fn page(&self, sides: &[Sides], pictures: Vec<Picture>) -> String {
        use crate::report::format::{percent, table};
        let header: Vec<String> = self
            .axes
            .iter()
            .map(|(k, _)| k.clone())
            .chain(
                [
                    "P(payer saves)",
                    "P(investors whole)",
                    "payer P(net loss)",
                    "payer median net savings",
                    "investors median IRR",
                ]
                .map(String::from),
            )
            .collect();
        let rows = sides
            .iter()
            .enumerate()
            .map(|(index, s)| {
                let mut row = self.point(index as u64);
                row.extend([
                    percent(s.payer_saves.0),
                    percent(s.investors_whole.0),
                    percent(s.payer_net_loss),
                    table(s.net_savings_p50),
                    percent(s.irr_p50),
                ]);
                row
            })
            .collect();
        let keys: Vec<&str> = self.axes.iter().map(|(k, _)| k.as_str()).collect();
        Page {
            title: format!("{}: sweep of {}", self.name, keys.join(" × ")),
            findings: vec![format!(
                "{} points, each on the same replications and seed (common random numbers), so differences between points are the contract's, not noise.",
                self.points
            )],
            tables: vec![Table {
                caption: "Each side at each point".to_string(),
                header,
                rows,
            }],
            pictures,
            meta: "sweep.csv has every figure with its Monte Carlo se".to_string(),
        }
        .render()
    }
}

/// A key swept twice, swept and set, or the scenario's name (it names the
/// results folder, so every point would overwrite the first) is bad input.
fn check_axes(axes: &[Axis], sets: &[(String, String)]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (key, _) in axes {
        if !seen.insert(key.as_str()) {
            return Err(InputError::new(
                "--sweep",
                key,
                "is swept twice; give all its values in one --sweep KEY=V1,V2,...",
            )
            .into());
        }
        if sets.iter().any(|(k, _)| k == key) {
            return Err(InputError::new("--sweep", key, "is also given with --set; use one or the other").into());
        }
        let parts: Vec<&str> = key.split('.').collect();
        let names_folder = key == "name" || (parts.len() == 3 && parts[0] == "contracts" && parts[2] == "name");
        if names_folder {
            return Err(InputError::new(
                "--sweep",
                key,
                "the name cannot be swept: it names the results folder, and every point writes to one folder",
            )
            .into());
        }
    }
    Ok(())
}
