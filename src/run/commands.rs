//! The smaller commands, one function each: `validate`, `expected`, `merge`,
//! `calibrate` and `slurm`. Each returns what a front end shows.

use super::job::Job;
use crate::cluster::{shard, slurm};
use crate::error::{Error, InputError, Result};
use crate::files::{write_folder, write_folder_with};
use crate::report::result_files;
use crate::scenario::calibrate::Calibration;
use crate::scenario::Loaded;
use crate::stats::RunSummary;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// `validate`: loads and checks a file; returns a one-line description and
/// the warnings about inputs that are valid but probably not meant (see
/// [`crate::scenario::plausible`]), one line each.
///
/// # Errors
/// The file's first input error.
pub fn validate(path: &Path, sets: &[(String, String)]) -> Result<(String, Vec<String>)> {
    let loaded = crate::scenario::load_any_with(path, sets)?;
    let warnings = crate::scenario::plausible::of_loaded(&loaded);
    let line = match loaded {
        Loaded::Single(s) => format!(
            "{}: ok ({} states, {} children, {} cycles)",
            path.display(),
            s.state_count(),
            s.children(),
            s.time.horizon
        ),
        Loaded::Portfolio(p) => format!("{}: ok (portfolio of {} contracts)", path.display(), p.contracts.len()),
    };
    Ok((line, warnings))
}

/// `expected`: the exact expectation from the central parameters, as
/// `{"scenario": name, "expected": {statistic: value}}`, with `--set`-style
/// overrides.
///
/// # Errors
/// The file's first input error.
pub fn expected(path: &Path, sets: &[(String, String)]) -> Result<Value> {
    let job = Job::load(path, sets)?;
    let mut map = Map::new();
    for (name, v) in job.expected() {
        map.insert(name, json!(v));
    }
    let mut not_analytic = Map::new();
    for (name, why) in job.not_analytic() {
        not_analytic.insert(name, json!(why));
    }
    if not_analytic.is_empty() {
        return Ok(json!({ "scenario": job.name(), "expected": map }));
    }
    Ok(json!({ "scenario": job.name(), "expected": map, "not_analytic": not_analytic }))
}

/// A finished merge.
pub struct Merged {
    /// Scenario name.
    pub scenario: String,
    /// Shards merged.
    pub shards: u64,
    /// Replications of the merged run.
    pub replications: u64,
    /// The results folder written.
    pub folder: PathBuf,
}

/// `merge`: reads every shard under `shards`, checks that they belong to
/// one run and cover it, and writes the results an unsharded run writes.
///
/// # Errors
/// Bad or missing shards (input errors); I/O failures.
pub fn merge(shards: &[PathBuf], out: &Path) -> Result<Merged> {
    let folders = shard::discover(shards)?;
    let read = folders.iter().map(|f| shard::read(f)).collect::<Result<Vec<_>>>()?;
    let merged = shard::merge(read)?;
    let meta = &merged.meta;
    let report = RunSummary::from_state(&merged.state, &meta.expected);
    let about = crate::report::About {
        description: meta.description.clone(),
        terms: meta.terms.clone(),
        currency: meta.currency.clone(),
        investor_rate: meta.investor_rate,
    };
    let files = result_files(&report, &merged.state, None, &about);
    let rows = |folder: &Path| {
        if merged.rows.is_empty() {
            return Ok(());
        }
        crate::report::replications::concatenate(&merged.rows, &folder.join("replications.csv"))
    };
    Ok(Merged {
        folder: write_folder_with(out, &meta.scenario, &files, rows)?,
        scenario: meta.scenario.clone(),
        shards: meta.count,
        replications: meta.replications,
    })
}

/// A calibration and the warnings a person should read.
pub struct Calibrated {
    /// The counts, printable as a `[baseline]` table.
    pub calibration: Calibration,
    /// Rows with no data, transitions outside the age bands.
    pub warnings: Vec<String>,
}

/// `calibrate`: transition counts from an observed panel file.
///
/// # Errors
/// Bad arguments (named by their flag) or a bad panel (file, line).
pub fn calibrate(panel: &Path, states: &[String], age_bands: &[f64], prior: f64) -> Result<Calibrated> {
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
    let bytes = crate::files::read_regular(panel, crate::files::PANEL_LIMIT, "panel")?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::new(&file, "", "the panel is not UTF-8 text"))?;
    let calibration = crate::scenario::calibrate::calibrate(&text, &file, states, age_bands, prior)?;
    let mut warnings: Vec<String> = calibration
        .empty_rows()
        .into_iter()
        .map(|(band, state)| {
            format!("{file}: no observed transitions from `{state}` ({band}); its row is the prior alone")
        })
        .collect();
    if calibration.outside_bands > 0 {
        warnings.push(format!(
            "{file}: {} transitions at ages outside --age-bands are counted only in the pooled table",
            calibration.outside_bands
        ));
    }
    Ok(Calibrated { calibration, warnings })
}

/// What `slurm` should write.
pub struct SlurmRequest {
    /// The `sibsim` binary the scripts call (absolute).
    pub sibsim: PathBuf,
    /// The scenario file.
    pub scenario: PathBuf,
    /// Shards (array tasks).
    pub shards: u64,
    /// Replications (default: the file's).
    pub replications: Option<u64>,
    /// Seed (default: the file's).
    pub seed: Option<u64>,
    /// Folder that receives `<name>.slurm/`, `shards/` and the results.
    pub out: PathBuf,
    /// `--partition`, checked.
    pub partition: Option<String>,
    /// `--time`, checked.
    pub time: Option<String>,
    /// Submit with `sbatch` after writing.
    pub submit: bool,
}

/// What `slurm` wrote and submitted.
pub struct SlurmDone {
    /// `<out>/<name>.slurm`.
    pub folder: PathBuf,
    /// (array job id, merge job id) when submitted.
    pub submitted: Option<(String, String)>,
}

/// `slurm`: writes the job-array and merge scripts of a sharded run and,
/// when asked, submits them.
///
/// # Errors
/// Bad arguments or scenario (input errors); `sbatch` failures (runtime).
pub fn slurm(request: &SlurmRequest) -> Result<SlurmDone> {
    if let Some(p) = &request.partition {
        slurm::check_partition(p)?;
    }
    if let Some(t) = &request.time {
        slurm::check_time(t)?;
    }
    let job = Job::load(&request.scenario, &[])?;
    let (default_replications, default_seed) = job.defaults();
    let replications = request.replications.unwrap_or(default_replications);
    shard::check_spec(1, request.shards, replications)?;
    let absolute = |p: &Path| std::path::absolute(p).map_err(|e| Error::io(p, e));
    let out = absolute(&request.out)?;
    let spec = slurm::SlurmJob {
        sibsim: request.sibsim.display().to_string(),
        scenario: absolute(&request.scenario)?.display().to_string(),
        name: job.name().to_string(),
        shards: request.shards,
        replications,
        seed: request.seed.unwrap_or(default_seed),
        out: out.display().to_string(),
        partition: request.partition.clone(),
        time: request.time.clone(),
    };
    let folder_name = format!("{}.slurm", job.name());
    let files = spec.files(&out.join(&folder_name));
    let folder = write_folder(&out, &folder_name, &files)?;
    let submitted = if request.submit {
        std::fs::create_dir_all(out.join("shards")).map_err(|e| Error::io(&out, e))?;
        Some(slurm::submit(&folder)?)
    } else {
        None
    };
    Ok(SlurmDone { folder, submitted })
}
