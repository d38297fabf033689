//! `[uncertainty]`: parameter uncertainty (Dirichlet rows, log-normal
//! effects, cost spread) and the systemic shock.

use super::{Ctx, R};
use crate::error::InputError;
use crate::model::*;
use crate::scenario::raw::*;
use std::sync::{Arc, Mutex};

pub(super) fn uncertainty(
    ctx: &Ctx,
    raw: &RawUncertainty,
    states: &[State],
    baseline: &Transitions,
    risk: &Option<BaselineRisk>,
) -> R<Uncertainty> {
    let transition_concentration = raw
        .transition_concentration
        .as_ref()
        .map(|c| {
            ctx.positive(
                c,
                "uncertainty.transition_concentration",
                "a concentration",
                "a number > 0 (larger = less uncertain rows)",
            )
        })
        .transpose()?;
    let effect_sd_log = match &raw.effect_sd_log {
        Some(v) => ctx.non_negative(v, "uncertainty.effect_sd_log")?,
        None => 0.0,
    };
    let cost_cv = match &raw.cost_cv {
        Some(v) => ctx.non_negative(v, "uncertainty.cost_cv")?,
        None => 0.0,
    };
    let shock = match &raw.shock {
        None => None,
        Some(s) => {
            let rs = s.get_ref();
            let sd = ctx.non_negative(&rs.sd, "uncertainty.shock.sd")?;
            let autocorrelation = match &rs.autocorrelation {
                Some(a) => {
                    let v = ctx.finite(a, "uncertainty.shock.autocorrelation")?;
                    if v <= -1.0 || v >= 1.0 {
                        return Err(ctx.err(
                            a.span(),
                            "uncertainty.shock.autocorrelation",
                            format!("{v} is outside (−1, 1)"),
                        ));
                    }
                    v
                }
                None => 0.0,
            };
            let targets = match &rs.targets {
                Some(t) => ctx.state_mask(t, "uncertainty.shock.targets")?,
                // By default the shock moves children into the costly states.
                None => states.iter().map(|s| s.cost > 0.0 && !s.absorbing).collect(),
            };
            Some(Shock {
                sd,
                autocorrelation,
                targets,
            })
        }
    };
    let enrolment = match &raw.enrolment {
        Some(e) => Some(enrolment(ctx, e.get_ref())?),
        None => None,
    };
    let baseline_posterior = match &raw.baseline_posterior {
        // A posterior is the population's: the multipliers act on its draws.
        Some(path) => Some(posterior(
            ctx,
            path,
            states,
            risk.as_ref().map_or(baseline, |r| &r.population),
        )?),
        None => None,
    };
    let risk_sd_log = match &raw.risk_sd_log {
        Some(v) => {
            let sd = ctx.non_negative(v, "uncertainty.risk_sd_log")?;
            if sd > 0.0 && risk.is_none() {
                return Err(ctx.err(
                    v.span(),
                    "uncertainty.risk_sd_log",
                    "there is no risk multiplier to draw; add `[[baseline.risk]]` or remove the key",
                ));
            }
            sd
        }
        None => 0.0,
    };
    Ok(Uncertainty {
        transition_concentration,
        effect_sd_log,
        cost_cv,
        shock,
        enrolment,
        baseline_posterior,
        risk_sd_log,
    })
}

/// `baseline_posterior`: a `posterior.csv` of `calibrate --targets`, read
/// relative to the scenario file. Its columns (`default/<from>/<to>` or
/// `band<k>/<from>/<to>`) must name this scenario's states and bands, and
/// each row's entries of one from-state must be a distribution.
fn posterior(
    ctx: &Ctx,
    path: &toml::Spanned<String>,
    states: &[State],
    baseline: &Transitions,
) -> R<Arc<BaselinePosterior>> {
    let key = "uncertainty.baseline_posterior";
    let base = std::path::Path::new(ctx.file)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    let file = base.join(path.get_ref());
    let shown = file.display().to_string();
    let bytes = crate::files::read_regular(&file, crate::files::PANEL_LIMIT, "posterior")
        .map_err(|e| ctx.err(path.span(), key, format!("{}: {}", shown, e.message)))?;
    let read = ReadPosterior {
        shown,
        bytes,
        states: states.iter().map(|s| s.name.clone()).collect(),
        bands: baseline.bands.len(),
    };
    let mut known = READ_POSTERIORS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, posterior)) = known.iter().find(|(k, _)| *k == read) {
        return Ok(Arc::clone(posterior));
    }
    let posterior = Arc::new(read_posterior(ctx, path, &read.shown, &read.bytes, states, baseline)?);
    if known.len() == READ_POSTERIORS_KEPT {
        known.remove(0);
    }
    known.push((read, Arc::clone(&posterior)));
    Ok(posterior)
}

/// What a posterior's reading depends on: the file (as named in messages),
/// its bytes, and the scenario's state names and band count.
#[derive(PartialEq)]
struct ReadPosterior {
    shown: String,
    bytes: Vec<u8>,
    states: Vec<String>,
    bands: usize,
}

/// Posteriors read lately, most recent last: the contracts of a portfolio
/// (`lapset-sib`'s six) mostly share one file, which was read, checked and
/// written out for the digest once a contract, most of loading the
/// portfolio. Failed reads are not kept, so their errors come every time.
static READ_POSTERIORS: Mutex<Vec<(ReadPosterior, Arc<BaselinePosterior>)>> = Mutex::new(Vec::new());

/// How many read posteriors [`READ_POSTERIORS`] keeps.
const READ_POSTERIORS_KEPT: usize = 4;

/// Reads a posterior file's `bytes` (named `shown`) for [`posterior`].
fn read_posterior(
    ctx: &Ctx,
    path: &toml::Spanned<String>,
    shown: &str,
    bytes: &[u8],
    states: &[State],
    baseline: &Transitions,
) -> R<BaselinePosterior> {
    let key = "uncertainty.baseline_posterior";
    let shown = shown.to_string();
    let text =
        std::str::from_utf8(bytes).map_err(|_| ctx.err(path.span(), key, format!("{shown} is not UTF-8 text")))?;
    let n = states.len();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| InputError::new(&shown, "line 1", format!("cannot read the header: {e}")))?
        .clone();
    // Each column: (row group, to-state).
    let mut groups: Vec<(Option<usize>, usize)> = Vec::new();
    let mut columns: Vec<(usize, usize)> = Vec::new();
    for name in header.iter() {
        let parts: Vec<&str> = name.split('/').collect();
        let state = |s: &str| states.iter().position(|x| x.name == s);
        let band = match parts.first() {
            Some(&"default") => Some(None),
            Some(b) => b
                .strip_prefix("band")
                .and_then(|k| k.parse::<usize>().ok())
                .filter(|&k| k < baseline.bands.len())
                .map(Some),
            None => None,
        };
        let (Some(band), 3, Some(from), Some(to)) = (
            band,
            parts.len(),
            parts.get(1).and_then(|s| state(s)),
            parts.get(2).and_then(|s| state(s)),
        ) else {
            return Err(InputError::new(
                &shown,
                "line 1",
                format!(
                    "column `{name}` does not match this scenario: expected default/<from>/<to> or band<k>/<from>/<to> with its states ({}) and its {} band(s); was the posterior fitted to another scenario?",
                    states.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
                    baseline.bands.len()
                ),
            ));
        };
        if states[from].absorbing {
            // Its row is 1 on the diagonal in every matrix; a draw of it
            // would let children leave a state the scenario says they never leave.
            return Err(InputError::new(
                &shown,
                "line 1",
                format!(
                    "column `{name}` draws the row of `{}`, which is absorbing (children never leave it); a posterior may draw only rows of states that are not absorbing",
                    states[from].name
                ),
            ));
        }
        let group = groups.iter().position(|g| *g == (band, from)).unwrap_or_else(|| {
            groups.push((band, from));
            groups.len() - 1
        });
        if let Some(first) = columns.iter().position(|&c| c == (group, to)) {
            return Err(InputError::new(
                &shown,
                "line 1",
                format!(
                    "column `{name}` appears twice (columns {} and {}); each entry of a row has one column",
                    first + 1,
                    columns.len() + 1
                ),
            ));
        }
        columns.push((group, to));
    }
    let rows: Vec<PosteriorRow> = groups.iter().map(|&(band, from)| PosteriorRow { band, from }).collect();
    let width = rows.len() * n;
    let mut values = Vec::new();
    let mut draws = 0;
    for record in reader.records() {
        let record = record.map_err(|e| InputError::new(&shown, "", format!("not a CSV row: {e}")))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = format!("line {line}");
        values.extend(std::iter::repeat_n(0.0, width));
        for (k, (&(group, to), cell)) in columns.iter().zip(record.iter()).enumerate() {
            let p: f64 = cell
                .parse()
                .ok()
                .filter(|p: &f64| (0.0..=1.0).contains(p))
                .ok_or_else(|| {
                    InputError::new(
                        &shown,
                        &at,
                        format!("`{cell}` in column {} is not a probability", k + 1),
                    )
                })?;
            values[draws * width + group * n + to] = p;
        }
        for (row, cells) in rows.iter().zip(values[draws * width..].chunks_exact(n)) {
            let sum: f64 = cells.iter().sum();
            if (sum - 1.0).abs() > 1e-6 {
                return Err(InputError::new(
                    &shown,
                    &at,
                    format!("the row from `{}` sums to {sum}, not 1", states[row.from].name),
                ));
            }
        }
        draws += 1;
    }
    if draws == 0 {
        return Err(ctx.err(path.span(), key, format!("{shown} has no draws")));
    }
    // Draws from a simplex sum to 1 up to rounding; make them exact rows.
    for cells in values.chunks_exact_mut(n) {
        let sum: f64 = cells.iter().sum();
        cells.iter_mut().for_each(|p| *p /= sum);
    }
    Ok(BaselinePosterior::new(shown, draws, rows, values))
}

/// `[uncertainty.enrolment]`: a mean share in (0, 1] and an sd a Beta with
/// that mean can have.
fn enrolment(ctx: &Ctx, raw: &RawEnrolment) -> R<Enrolment> {
    let mean = ctx.finite(&raw.mean, "uncertainty.enrolment.mean")?;
    if mean <= 0.0 || mean > 1.0 {
        return Err(ctx.err(
            raw.mean.span(),
            "uncertainty.enrolment.mean",
            format!("{mean} is outside (0, 1]; it is the expected share of each wave's planned children who enrol"),
        ));
    }
    let sd = match &raw.sd {
        Some(s) => {
            let sd = ctx.non_negative(s, "uncertainty.enrolment.sd")?;
            let max = Enrolment::max_sd(mean);
            if sd > 0.0 && sd >= max {
                return Err(ctx.err(
                    s.span(),
                    "uncertainty.enrolment.sd",
                    format!("{sd} is impossible for a Beta distribution with mean {mean}; its sd must be below √(mean·(1−mean)) = {max:.4}"),
                ));
            }
            sd
        }
        None => 0.0,
    };
    Ok(Enrolment { mean, sd })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, raw};
    use super::*;

    fn check(text: &str) -> R<Uncertainty> {
        #[derive(serde::Deserialize)]
        struct Doc {
            uncertainty: RawUncertainty,
        }
        let doc: Doc = raw(text);
        let states = [("home", 0.0), ("care", 100.0)].map(|(name, cost)| State {
            name: name.to_string(),
            cost,
            absorbing: false,
        });
        let baseline = Transitions {
            default: StochasticMatrix::new(2, vec![1.0, 0.0, 0.0, 1.0], None).expect("matrix"),
            bands: Vec::new(),
        };
        uncertainty(
            &ctx(text, &["home", "care"]),
            &doc.uncertainty,
            &states,
            &baseline,
            &None,
        )
    }

    #[test]
    fn a_shock_is_stationary_and_targets_costly_states_by_default() {
        let u = check("[uncertainty]\n[uncertainty.shock]\nsd = 0.3\nautocorrelation = 0.6\n").unwrap();
        let shock = u.shock.expect("a shock");
        assert_eq!((shock.sd, shock.autocorrelation), (0.3, 0.6));
        assert_eq!(shock.targets, vec![false, true]);
        let e = check("[uncertainty]\n[uncertainty.shock]\nsd = 0.3\nautocorrelation = 1.0\n").unwrap_err();
        assert_eq!(e.key_path, "uncertainty.shock.autocorrelation");
        let e = check("[uncertainty]\ntransition_concentration = 0.0\n").unwrap_err();
        assert_eq!(e.key_path, "uncertainty.transition_concentration");
    }
}
