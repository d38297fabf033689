//! `RawScenario` → [`Scenario`]: every semantic check, with key paths and positions.

mod cohort;
mod contract;
mod fund;
mod intervention;
mod metrics;
mod portfolio;
mod reviews;
mod transitions;
mod uncertainty;

pub use portfolio::validate_portfolio;

use super::raw::*;
use crate::error::InputError;
use crate::model::*;
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;

/// Tolerance on a row or distribution summing to 1.
pub const SUM_TOLERANCE: f64 = 1e-9;

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    names: HashMap<String, usize>,
    state_names: Vec<String>,
}

type R<T> = Result<T, InputError>;

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, path: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError::at(self.file, self.text, span.start, path, message)
    }

    fn state(&self, name: &Spanned<String>, path: &str) -> R<usize> {
        self.names.get(name.get_ref()).copied().ok_or_else(|| {
            self.err(
                name.span(),
                path,
                format!(
                    "unknown state `{}`; the states are: {}",
                    name.get_ref(),
                    self.state_names.join(", ")
                ),
            )
        })
    }

    fn state_mask(&self, names: &[Spanned<String>], path: &str) -> R<Vec<bool>> {
        let mut mask = vec![false; self.state_names.len()];
        for (i, name) in names.iter().enumerate() {
            mask[self.state(name, &format!("{path}[{i}]"))?] = true;
        }
        Ok(mask)
    }

    /// Refuses a relative-risk table (an effect, a risk multiplier) that
    /// names no move: no `from` state that is not absorbing with a
    /// `targets` state other than itself. Staying put is what is left of a
    /// row and an absorbing state never moves, so such a table would scale
    /// nothing, silently.
    fn names_a_move(
        &self,
        from: &[bool],
        targets: &[bool],
        absorbing: &[bool],
        span: Range<usize>,
        path: &str,
    ) -> R<()> {
        let leaves = |i: usize| from[i] && !absorbing.get(i).copied().unwrap_or(false);
        let moves = (0..from.len()).any(|i| leaves(i) && (0..targets.len()).any(|j| j != i && targets[j]));
        if moves {
            return Ok(());
        }
        Err(self.err(
            span,
            format!("{path}.targets"),
            "names no move: it scales moves from a `from` state into a different `targets` state (staying put takes up the difference), and its lists leave none (an empty list, only a state into itself, or only absorbing `from` states, which never move); name the moves it changes",
        ))
    }

    fn finite(&self, value: &Spanned<f64>, path: &str) -> R<f64> {
        let v = *value.get_ref();
        if !v.is_finite() {
            return Err(self.err(value.span(), path, format!("{v} is not a finite number")));
        }
        if v.abs() >= MAGNITUDE_LIMIT {
            return Err(self.err(
                value.span(),
                path,
                format!("{v:e} is too large; numbers must lie within ±1e15 (money in the contract's currency), so that sums over children and cycles stay exact and finite"),
            ));
        }
        Ok(v)
    }

    fn non_negative(&self, value: &Spanned<f64>, path: &str) -> R<f64> {
        let v = self.finite(value, path)?;
        if v < 0.0 {
            return Err(self.err(value.span(), path, format!("{v} is negative; expected a number ≥ 0")));
        }
        Ok(v)
    }

    /// A finite number > 0; otherwise "{v} is not {what}; expected {expected}".
    fn positive(&self, value: &Spanned<f64>, path: &str, what: &str, expected: &str) -> R<f64> {
        let v = self.finite(value, path)?;
        if v <= 0.0 {
            return Err(self.err(value.span(), path, format!("{v} is not {what}; expected {expected}")));
        }
        Ok(v)
    }

    fn rate(&self, value: &Option<Spanned<f64>>, path: &str) -> R<Option<f64>> {
        let Some(value) = value else { return Ok(None) };
        let v = self.finite(value, path)?;
        if v <= -1.0 {
            return Err(self.err(
                value.span(),
                path,
                format!("{v} is not a discount rate; expected a number > -1 (0.03 = 3 % a year)"),
            ));
        }
        Ok(Some(v))
    }

    fn count(&self, value: &Spanned<i64>, path: &str, min: i64, what: &str) -> R<usize> {
        let v = *value.get_ref();
        if v < min {
            return Err(self.err(value.span(), path, format!("{v} is too small; expected {what}")));
        }
        Ok(v as usize)
    }

    /// A number of children: at least 1, and at most what a 32-bit
    /// occupancy counter holds (the sampler counts children per cycle and
    /// state in u32).
    fn children(&self, value: &Spanned<i64>, path: &str) -> R<u64> {
        let v = self.count(value, path, 1, "at least 1 child")? as u64;
        if v > u64::from(u32::MAX) {
            return Err(self.err(
                value.span(),
                path,
                format!(
                    "{v} children is too many; expected at most {} (split the group into waves)",
                    u32::MAX
                ),
            ));
        }
        Ok(v)
    }
}

/// Largest magnitude of any number in a scenario: money amounts stay well
/// inside f64's exact integers when summed over children and cycles.
pub const MAGNITUDE_LIMIT: f64 = 1e15;

/// Shortest and longest cycle (years): a day to a decade.
pub const CYCLE_YEARS_RANGE: (f64, f64) = (1.0 / 365.0, 10.0);

/// Whether `x` is finite and within [`MAGNITUDE_LIMIT`].
fn sane(x: f64) -> bool {
    x.is_finite() && x.abs() < MAGNITUDE_LIMIT
}

/// Whether `name` may name a scenario, contract, state or tranche: it names
/// results folders, so only `a-z`, `0-9`, `_` and `-`, not starting with
/// `-`, and at most [`crate::files::NAME_LIMIT`] characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= crate::files::NAME_LIMIT
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The currency when none is given.
pub const DEFAULT_CURRENCY: &str = "EUR";

/// `currency`: a three-letter ISO 4217 code in capitals (default EUR).
fn currency(ctx: &Ctx, raw: &Option<toml::Spanned<String>>) -> R<String> {
    let Some(code) = raw else {
        return Ok(DEFAULT_CURRENCY.to_string());
    };
    let text = code.get_ref();
    if text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(text.clone())
    } else {
        Err(ctx.err(
            code.span(),
            "currency",
            format!("`{text}` is not a currency code; expected three capital letters (ISO 4217), e.g. EUR, USD, GBP"),
        ))
    }
}

/// The error for `sampler = "aggregate"` with something that `needs` each
/// child's history.
fn aggregate_refused(ctx: &Ctx, raw_run: &Option<RawRun>, needs: &str) -> InputError {
    let span = raw_run
        .as_ref()
        .and_then(|r| r.sampler.as_ref())
        .map_or(0..0, |s| s.span());
    ctx.err(
        span,
        "run.sampler",
        format!(
            "\"aggregate\" keeps no per-child history, which {needs} need; \
             use \"per_child\" or \"auto\" (which picks per_child here)"
        ),
    )
}

/// Validates a parsed scenario.
pub fn validate(raw: RawScenario, file: &str, text: &str) -> Result<Scenario, InputError> {
    let mut ctx = Ctx {
        file,
        text,
        names: HashMap::new(),
        state_names: Vec::new(),
    };
    let name = raw.name.get_ref().clone();
    if !valid_name(&name) {
        return Err(ctx.err(
            raw.name.span(),
            "name",
            format!("`{name}` is not allowed; use only a-z, 0-9, `_` and `-` (not first), at most 100 characters (it names the results folder)"),
        ));
    }

    let time = cohort::time(&ctx, &raw.time)?;
    let horizon = time.horizon;
    let run = cohort::run_defaults(&ctx, &raw.run)?;
    let states = cohort::states(&mut ctx, &raw.states)?;
    let n = states.len();
    let absorbing: Vec<bool> = states.iter().map(|s| s.absorbing).collect();
    let cohort = cohort::cohort(&ctx, &raw.cohort, horizon, n)?;
    let (baseline, baseline_risk) = transitions::baseline(&ctx, &raw.baseline, &states)?;
    let intervention =
        intervention::intervention(&ctx, &raw.intervention, &baseline, &absorbing, cohort.exit, horizon)?;
    let counting = metrics::counting(&raw.counting);
    let discounting = metrics::discounting(&ctx, &raw.discounting)?;
    let metrics = metrics::metrics(&ctx, &raw.metrics, &raw.run, &run, &discounting, horizon, n)?;

    let contract = match &raw.contract {
        Some(c) => Some(contract::contract(&ctx, c, &metrics, &cohort, horizon)?),
        None => None,
    };
    if contract.as_ref().is_some_and(|c| c.needs_per_child()) && run.sampler == Sampler::Aggregate {
        return Err(aggregate_refused(
            &ctx,
            &raw.run,
            "per-participant payments (`ex_post`, `per_enrolment`, `max_per_child`) and terminating reviews",
        ));
    }
    let fund = match &raw.fund {
        Some(f) => Some(fund::fund(&ctx, f.get_ref())?),
        None => None,
    };
    let uncertainty = match &raw.uncertainty {
        Some(u) => Some(uncertainty::uncertainty(
            &ctx,
            u.get_ref(),
            &states,
            &baseline,
            &baseline_risk,
        )?),
        None => None,
    };

    Ok(Scenario {
        name,
        description: raw.description.unwrap_or_default(),
        currency: currency(&ctx, &raw.currency)?,
        source: file.to_string(),
        // A posterior file moves results without changing the text: its
        // draws are part of what shards must agree on.
        digest: match uncertainty.as_ref().and_then(|u| u.baseline_posterior.as_ref()) {
            Some(p) => crate::model::fnv1a_parts(&[text.as_bytes(), b"\n", p.digest_text().as_bytes()]),
            None => fnv1a(text.as_bytes()),
        },
        time,
        run,
        states,
        cohort,
        baseline,
        baseline_risk,
        intervention,
        counting,
        discounting,
        metrics,
        contract,
        fund,
        uncertainty,
    })
}

/// Helpers for the section tests: a context whose states are `states`, with
/// spans counted in `text` (the section's own TOML).
#[cfg(test)]
pub(super) mod testing {
    use super::Ctx;
    use std::collections::HashMap;

    pub(in crate::scenario::validate) fn ctx<'a>(text: &'a str, states: &[&str]) -> Ctx<'a> {
        Ctx {
            file: "t.toml",
            text,
            names: states
                .iter()
                .enumerate()
                .map(|(i, s)| (s.to_string(), i))
                .collect::<HashMap<_, _>>(),
            state_names: states.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A raw section parsed from `text`.
    pub(in crate::scenario::validate) fn raw<T: serde::de::DeserializeOwned>(text: &str) -> T {
        toml::from_str(text).expect("the test's TOML parses")
    }
}
