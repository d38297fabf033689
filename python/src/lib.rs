//! The native half of the `sibsim` Python package: the engine's `run`
//! layer called from Python. Every function takes a scenario path and its
//! `--set` overrides, runs with the GIL released (rayon's threads work while
//! Python waits) and checks for Ctrl-C every 50 ms, cancelling the run when
//! it comes. What it returns is what the command line writes (the files, or
//! their JSON), so results are the same bits as the CLI's; the Python half
//! (`pysrc/sibsim`) turns them into data frames.

use pyo3::create_exception;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use sibsim::error::{Error, InputError as BadInput};
use sibsim::run::job::Job;
use sibsim::run::solve::{solve as solve_job, SolveRequest};
use sibsim::run::sweep::{Sweep, SweepOptions};
use sibsim::run::tornado::{tornado as tornado_job, TornadoRequest};
use sibsim::run::voi::{voi as voi_job, VoiRequest};
use sibsim::sim::parallel::RunOptions;
use sibsim::stats::target::Target;
use sibsim::stats::RunSummary;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

create_exception!(
    _sibsim,
    InputError,
    PyValueError,
    "Bad input: a scenario file, a key path or a value. Carries `file`, `line`, `column` (None where unknown), `key_path` and `message`."
);

type Overrides = Vec<(String, String)>;
type Files = Vec<(String, Vec<u8>)>;
/// Files as Python bytes, in the order the CLI writes them.
type PyFiles = Vec<(String, Py<PyBytes>)>;

/// A library error as the Python exception a user expects.
fn to_py(py: Python<'_>, error: Error) -> PyErr {
    match error {
        Error::Input(input) => input_error(py, &input),
        Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted: the run was cancelled"),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

fn input_error(py: Python<'_>, input: &BadInput) -> PyErr {
    let err = InputError::new_err(input.to_string());
    let value = err.value(py);
    let (line, column) = match input.position {
        Some((l, c)) => (Some(l), Some(c)),
        None => (None, None),
    };
    // Setting attributes on a fresh exception instance cannot fail.
    let _ = value.setattr("file", &input.file);
    let _ = value.setattr("line", line);
    let _ = value.setattr("column", column);
    let _ = value.setattr("key_path", &input.key_path);
    let _ = value.setattr("message", &input.message);
    err
}

/// Runs `work` on its own thread with the GIL released, checking for
/// signals (Ctrl-C) every 50 ms; a signal sets the cancel flag, waits for
/// the work to stop, and raises.
fn cancellable<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&AtomicBool) -> sibsim::error::Result<T> + Send,
) -> PyResult<T> {
    let cancel = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| work(&cancel));
        loop {
            let finished = py.detach(|| {
                for _ in 0..10 {
                    if handle.is_finished() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                handle.is_finished()
            });
            if finished {
                break;
            }
            if let Err(signal) = py.check_signals() {
                cancel.store(true, Ordering::SeqCst);
                // The work sees the flag within a few thousand children.
                let _ = py.detach(|| handle.join());
                return Err(signal);
            }
        }
        match py.detach(|| handle.join()) {
            Ok(result) => result.map_err(|e| to_py(py, e)),
            Err(_) => Err(PyRuntimeError::new_err("sibsim panicked; please report this")),
        }
    })
}

/// Loads and checks a scenario or portfolio: `(name, kind, contracts,
/// currency, description)`.
#[pyfunction]
fn load(py: Python<'_>, path: PathBuf, sets: Overrides) -> PyResult<(String, String, Vec<String>, String, String)> {
    let loaded = sibsim::scenario::load_any_with(&path, &sets).map_err(|e| input_error(py, &e))?;
    let kind = match loaded {
        sibsim::scenario::Loaded::Single(_) => "scenario",
        sibsim::scenario::Loaded::Portfolio(_) => "portfolio",
    };
    let contracts = match &loaded {
        sibsim::scenario::Loaded::Portfolio(p) => p.contracts.iter().map(|c| c.name.clone()).collect(),
        sibsim::scenario::Loaded::Single(_) => Vec::new(),
    };
    let job = Job::from_loaded(loaded);
    Ok((
        job.name().to_string(),
        kind.to_string(),
        contracts,
        job.currency().to_string(),
        job.description().to_string(),
    ))
}

fn as_bytes(py: Python<'_>, files: Files) -> PyFiles {
    files
        .into_iter()
        .map(|(name, bytes)| (name, PyBytes::new(py, &bytes).unbind()))
        .collect()
}

/// Runs a scenario: `(name, files)`, the files `sibsim run` writes.
#[pyfunction]
#[pyo3(signature = (path, sets, replications=None, seed=None, threads=None, keep_replications=false))]
fn run(
    py: Python<'_>,
    path: PathBuf,
    sets: Overrides,
    replications: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
    keep_replications: bool,
) -> PyResult<(String, PyFiles)> {
    let (name, files) = cancellable(py, |cancel| {
        let job = Job::load(&path, &sets)?;
        let (default_replications, default_seed) = job.defaults();
        let options = RunOptions {
            threads,
            cancel: Some(cancel),
            ..RunOptions::new(
                seed.unwrap_or(default_seed),
                replications.unwrap_or(default_replications),
            )
        };
        let results = job.run(&options)?;
        let state = sibsim::stats::RunState::of(&results);
        let summary = RunSummary::from_state(&state, &job.expected());
        let kept = keep_replications.then_some(&results);
        let files = sibsim::report::result_files(&summary, &state, kept, &job.about());
        Ok((job.name().to_string(), files))
    })?;
    Ok((name, as_bytes(py, files)))
}

/// Writes files as `<out>/<name>/`, atomically, as the CLI does.
#[pyfunction]
fn write(py: Python<'_>, out: PathBuf, name: String, files: Vec<(String, Vec<u8>)>) -> PyResult<PathBuf> {
    sibsim::files::write_folder(&out, &name, &files).map_err(|e| to_py(py, e))
}

/// `sibsim expected` as JSON text.
#[pyfunction]
fn expected(py: Python<'_>, path: PathBuf, sets: Overrides) -> PyResult<String> {
    let value = sibsim::run::commands::expected(&path, &sets).map_err(|e| to_py(py, e))?;
    Ok(value.to_string())
}

/// A sweep over a grid: `(name, files)` with `sweep.csv` first.
#[pyfunction]
#[pyo3(signature = (path, sets, axes, replications=None, seed=None, threads=None))]
fn sweep(
    py: Python<'_>,
    path: PathBuf,
    sets: Overrides,
    axes: Vec<(String, Vec<String>)>,
    replications: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<(String, PyFiles)> {
    let (name, files) = cancellable(py, |cancel| {
        let options = SweepOptions {
            replications,
            seed,
            threads,
            cancel: Some(cancel),
            ..SweepOptions::default()
        };
        let sweep = Sweep::prepare(&path, &sets, &axes, options)?;
        let files = sweep.run(&|_| Ok(()))?;
        Ok((sweep.name.clone(), files.files))
    })?;
    Ok((name, as_bytes(py, files)))
}

fn targets(py: Python<'_>, texts: &[String], flag: &str) -> PyResult<Vec<Target>> {
    texts
        .iter()
        .map(|t| Target::parse(t, flag).map_err(|e| input_error(py, &e)))
        .collect()
}

/// `sibsim solve`: `(name, JSON text, files)`.
#[pyfunction]
#[pyo3(signature = (path, sets, key, target, range=None, replications=None, seed=None, threads=None))]
#[allow(clippy::too_many_arguments)]
fn solve(
    py: Python<'_>,
    path: PathBuf,
    sets: Overrides,
    key: String,
    target: String,
    range: Option<(f64, f64)>,
    replications: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<(String, String, PyFiles)> {
    let bad = |why: String| input_error(py, &BadInput::new("target", "", why));
    let (statistic, value) = target
        .split_once('=')
        .ok_or_else(|| bad(format!("`{target}` is not STAT=VALUE, e.g. investor.irr.p50=0.05")))?;
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| bad(format!("`{}` is not a number", value.trim())))?;
    let request = SolveRequest {
        scenario: path,
        sets,
        key,
        target: targets(py, &[statistic.trim().to_string()], "target")?.pop(),
        value,
        range,
        replications,
        seed,
        threads,
    };
    let (name, json, files) = cancellable(py, |cancel| {
        let solution = solve_job(&request, Some(cancel))?;
        Ok((
            solution.scenario.clone(),
            solution.to_json().to_string(),
            solution.files(),
        ))
    })?;
    Ok((name, json, as_bytes(py, files)))
}

/// `sibsim tornado`: `(name, JSON text, files)`.
#[pyfunction]
#[pyo3(signature = (path, sets, statistics, low, high, vary, replications=None, seed=None, threads=None))]
#[allow(clippy::too_many_arguments)]
fn tornado(
    py: Python<'_>,
    path: PathBuf,
    sets: Overrides,
    statistics: Vec<String>,
    low: f64,
    high: f64,
    vary: Vec<(String, f64, f64)>,
    replications: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<(String, String, PyFiles)> {
    let request = TornadoRequest {
        scenario: path,
        sets,
        statistics: targets(py, &statistics, "statistics")?,
        low,
        high,
        vary,
        replications,
        seed,
        threads,
    };
    let (name, json, files) = cancellable(py, |cancel| {
        let result = tornado_job(&request, Some(cancel))?;
        Ok((result.scenario.clone(), result.to_json().to_string(), result.files()))
    })?;
    Ok((name, json, as_bytes(py, files)))
}

/// `sibsim voi`: `(name, JSON text, files)`.
#[pyfunction]
#[pyo3(signature = (path, sets, replications=None, seed=None, threads=None))]
fn voi(
    py: Python<'_>,
    path: PathBuf,
    sets: Overrides,
    replications: Option<u64>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<(String, String, PyFiles)> {
    let request = VoiRequest {
        scenario: path,
        sets,
        replications,
        seed,
        threads,
    };
    let (name, json, files) = cancellable(py, |cancel| {
        let result = voi_job(&request, Some(cancel))?;
        Ok((result.scenario.clone(), result.to_json().to_string(), result.files()))
    })?;
    Ok((name, json, as_bytes(py, files)))
}

/// The native module.
#[pymodule]
fn _sibsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("ENGINE_VERSION", sibsim::report::ENGINE_VERSION)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(write, m)?)?;
    m.add_function(wrap_pyfunction!(expected, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(tornado, m)?)?;
    m.add_function(wrap_pyfunction!(voi, m)?)?;
    Ok(())
}
