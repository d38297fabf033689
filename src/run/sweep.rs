//! Sweeps: one run per point of a grid of key values, every point on the
//! same seed (common random numbers), summarised in `sweep.csv` and band
//! charts. In two steps, so that a caller can check where the results go
//! before anything runs: [`Sweep::prepare`] checks the keys and every point
//! and estimates the cost; [`Sweep::run`] runs the points.

use crate::error::{Error, InputError, Result};
use crate::model::names;
use crate::run::estimate::{Estimate, SWEEP_POINT_LIMIT};
use crate::run::job::Job;
use crate::scenario::overrides;
use crate::sim::parallel::RunOptions;
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
            crate::run::estimate::measured_rate(),
        );
        sweep
            .estimate
            .check(&file, crate::run::estimate::available_memory(), options.force)?;
        sweep.name = first.name().to_string();
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
        let mut csv = axes.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>().join(",");
        for s in names::HEADLINE_STATISTICS {
            csv.push_str(&format!(",{s}.mean,{s}.se,{s}.p05,{s}.p25,{s}.p50,{s}.p75,{s}.p95"));
        }
        for p in names::HEADLINE_EVENTS {
            csv.push_str(&format!(",P({p}),P({p}).se"));
        }
        csv.push('\n');
        let mut bands: Vec<Vec<[f64; 5]>> = vec![Vec::new(); names::HEADLINE_STATISTICS.len()];
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
            let results = job.run(&options)?;
            let report = RunSummary::new(&results, &job.expected());
            if self.options.keep_replications {
                // One file per point, numbered as the rows of sweep.csv (from 1).
                files.push((
                    format!("replications-{}.csv", index + 1),
                    crate::report::replications::replications_csv(&results).into_bytes(),
                ));
            }
            csv.push_str(&point.join(","));
            for (k, s) in names::HEADLINE_STATISTICS.iter().enumerate() {
                match report.statistic(s) {
                    Some(x) => {
                        csv.push_str(&format!(
                            ",{},{},{},{},{},{},{}",
                            x.mean, x.se, x.p05, x.p25, x.p50, x.p75, x.p95
                        ));
                        bands[k].push([x.p05, x.p25, x.p50, x.p75, x.p95]);
                    }
                    None => {
                        csv.push_str(",,,,,,,");
                        bands[k].push([f64::NAN; 5]);
                    }
                }
            }
            for p in names::HEADLINE_EVENTS {
                match report.probability(p) {
                    Some(x) => csv.push_str(&format!(",{},{}", x.p, x.se)),
                    None => csv.push_str(",,"),
                }
            }
            csv.push('\n');
            let label: Vec<String> = point.iter().zip(axes).map(|(v, (k, _))| format!("{k}={v}")).collect();
            done(&label.join(" "))?;
        }
        files.insert(0, ("sweep.csv".to_string(), csv.into_bytes()));
        // Pictures against the first swept key, when its values are numbers and it is the only one.
        let xs: Vec<f64> = axes[0].1.iter().filter_map(|v| v.parse().ok()).collect();
        if axes.len() == 1 && xs.len() == axes[0].1.len() {
            for (k, s) in names::HEADLINE_STATISTICS.iter().enumerate() {
                if let Some(svg) = crate::report::plot::band_chart(
                    &xs,
                    &bands[k],
                    &format!("{s} against {}", axes[0].0),
                    &axes[0].0,
                    s,
                ) {
                    files.push((format!("sweep_{s}.svg"), svg.into_bytes()));
                }
            }
        }
        Ok(SweepFiles { files })
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
