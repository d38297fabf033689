//! `solve`, `tornado` and `voi`: parse their flags, call the library, write
//! the files and print the answer.

use super::args::RunFlags;
use super::{emit, pretty};
use sibsim::error::{InputError, Result};
use sibsim::files::{check_target, write_folder};
use sibsim::run::job::Job;
use sibsim::run::solve::{solve, SolveRequest};
use sibsim::run::tornado::{tornado, TornadoRequest};
use sibsim::run::voi::{voi, VoiRequest};
use sibsim::scenario::overrides;
use sibsim::stats::target::Target;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// `--set` flags as (key, value) pairs.
pub fn sets(flags: &RunFlags) -> Result<Vec<(String, String)>> {
    super::split_sets(&flags.sets)
}

/// A number from a flag, or a clear error naming it.
fn number(text: &str, flag: &str, what: &str) -> Result<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| InputError::new(flag, "", format!("`{text}` is not a number; expected {what}")).into())
}

/// `LO,HI`.
pub fn pair(text: &str, flag: &str) -> Result<(f64, f64)> {
    let (lo, hi) = text
        .split_once(',')
        .ok_or_else(|| InputError::new(flag, "", format!("`{text}` is not LO,HI")))?;
    let (lo, hi) = (number(lo, flag, "LO,HI")?, number(hi, flag, "LO,HI")?);
    if lo >= hi {
        return Err(InputError::new(flag, "", format!("{lo},{hi} is an empty range; expected LO < HI")).into());
    }
    Ok((lo, hi))
}

/// Checks that `<out>/<name>` can be replaced before anything runs.
fn check_out(scenario: &Path, sets: &[(String, String)], out: &Path) -> Result<String> {
    let name = Job::load(scenario, sets)?.name().to_string();
    check_target(out, &name)?;
    Ok(name)
}

/// `solve`.
pub fn solve_command(
    scenario: PathBuf,
    vary: String,
    target: &str,
    range: Option<&str>,
    flags: &RunFlags,
    cancel: &AtomicBool,
) -> Result<()> {
    let (statistic, value) = target.split_once('=').ok_or_else(|| {
        InputError::new(
            "--target",
            "",
            format!("`{target}` is not STAT=VALUE, e.g. investor.irr.p50=0.05"),
        )
    })?;
    let request = SolveRequest {
        sets: sets(flags)?,
        key: vary,
        target: Some(Target::parse(statistic.trim(), "--target")?),
        value: number(value, "--target", "a target value after `=`")?,
        range: range.map(|r| pair(r, "--range")).transpose()?,
        replications: flags.replications,
        seed: flags.seed,
        threads: flags.threads.map(|t| t as usize),
        scenario,
    };
    let name = check_out(&request.scenario, &request.sets, &flags.out)?;
    let solution = solve(&request, Some(cancel))?;
    finish(
        &flags.out,
        &name,
        solution.files(),
        &solution.to_json(),
        &[solution.sentence()],
    )
}

/// Writes a decision command's files under `<out>/<name>/`, prints its
/// JSON on stdout and what it found, in words, on stderr.
fn finish(
    out: &Path,
    name: &str,
    files: Vec<(String, Vec<u8>)>,
    json: &serde_json::Value,
    sentences: &[String],
) -> Result<()> {
    let folder = write_folder(out, name, &files)?;
    emit(format_args!("{}\n", pretty(json)?))?;
    for sentence in sentences {
        eprintln!("{sentence}");
    }
    eprintln!("wrote {}", folder.display());
    Ok(())
}

/// `tornado`.
#[allow(clippy::too_many_arguments)]
pub fn tornado_command(
    scenario: PathBuf,
    statistics: &[String],
    low: f64,
    high: f64,
    vary: &[String],
    flags: &RunFlags,
    cancel: &AtomicBool,
) -> Result<()> {
    let vary = vary
        .iter()
        .map(|v| {
            let (key, values) = overrides::split(v, "--vary")?;
            let (lo, hi) = pair(&values, "--vary")?;
            Ok((key, lo, hi))
        })
        .collect::<Result<Vec<_>>>()?;
    let request = TornadoRequest {
        sets: sets(flags)?,
        statistics: statistics
            .iter()
            .map(|s| Target::parse(s, "--statistic"))
            .collect::<std::result::Result<_, _>>()?,
        low,
        high,
        vary,
        replications: flags.replications,
        seed: flags.seed,
        threads: flags.threads.map(|t| t as usize),
        scenario,
    };
    let name = check_out(&request.scenario, &request.sets, &flags.out)?;
    let result = tornado(&request, Some(cancel))?;
    finish(
        &flags.out,
        &name,
        result.files(),
        &result.to_json(),
        &result.sentences(),
    )
}

/// `voi`.
pub fn voi_command(scenario: PathBuf, flags: &RunFlags, cancel: &AtomicBool) -> Result<()> {
    let request = VoiRequest {
        sets: sets(flags)?,
        replications: flags.replications,
        seed: flags.seed,
        threads: flags.threads.map(|t| t as usize),
        scenario,
    };
    let name = check_out(&request.scenario, &request.sets, &flags.out)?;
    let result = voi(&request, Some(cancel))?;
    finish(
        &flags.out,
        &name,
        result.files(),
        &result.to_json(),
        &result.sentences(),
    )
}
