//! `RawScenario` → [`Scenario`]: every semantic check, with key paths and positions.

use super::raw::*;
use crate::error::InputError;
use crate::model::contract::Contract;
use crate::model::fund::Fund;
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

    fn matrix(
        &self,
        matrix: &Option<RawMatrix>,
        counts: &Option<RawMatrix>,
        prior: &Option<Spanned<f64>>,
        absorbing: &[bool],
        table_span: Range<usize>,
        path: &str,
    ) -> R<StochasticMatrix> {
        let n = self.state_names.len();
        let sep = if path.is_empty() { "" } else { "." };
        let (rows, key, is_counts) = match (matrix, counts) {
            (Some(_), Some(c)) => {
                return Err(self.err(
                    c.span(),
                    format!("{path}{sep}counts"),
                    "give either `matrix` or `counts`, not both",
                ))
            }
            (Some(m), None) => (m, "matrix", false),
            (None, Some(c)) => (c, "counts", true),
            (None, None) => return Err(self.err(
                table_span,
                path,
                "missing transitions: give `matrix` (rows of probabilities) or `counts` (observed transition counts)",
            )),
        };
        let key = format!("{path}{sep}{key}");
        if let (Some(p), false) = (prior, is_counts) {
            return Err(self.err(
                p.span(),
                format!("{path}{sep}prior"),
                "`prior` goes with `counts`, not with `matrix`",
            ));
        }
        let prior = match prior {
            Some(p) => self.non_negative(p, &format!("{path}{sep}prior"))?,
            None => 1.0,
        };
        if rows.get_ref().len() != n {
            return Err(self.err(
                rows.span(),
                &key,
                format!(
                    "has {} rows; expected {n}, one per state in [[states]] order ({})",
                    rows.get_ref().len(),
                    self.state_names.join(", ")
                ),
            ));
        }
        let mut probabilities = vec![0.0; n * n];
        let mut raw_counts = vec![0.0; n * n];
        for (i, row) in rows.get_ref().iter().enumerate() {
            let row_path = format!("{key}[{i}]");
            if row.get_ref().len() != n {
                return Err(self.err(
                    row.span(),
                    &row_path,
                    format!("has {} entries; expected {n}, one per state", row.get_ref().len()),
                ));
            }
            for (j, cell) in row.get_ref().iter().enumerate() {
                let v = self.non_negative(cell, &format!("{row_path}[{j}]"))?;
                if !is_counts && v > 1.0 + SUM_TOLERANCE {
                    return Err(self.err(
                        cell.span(),
                        format!("{row_path}[{j}]"),
                        format!("{v} is not a probability; expected a number in [0, 1]"),
                    ));
                }
                raw_counts[i * n + j] = v;
            }
            let values = &raw_counts[i * n..(i + 1) * n];
            let out = &mut probabilities[i * n..(i + 1) * n];
            if absorbing[i] {
                // An absorbing state never leaves: a matrix must say so; counts are ignored.
                if !is_counts && (values[i] - 1.0).abs() > SUM_TOLERANCE {
                    return Err(self.err(
                        row.span(),
                        &row_path,
                        format!(
                            "state `{}` is absorbing, so its row must be 1 on the diagonal and 0 elsewhere",
                            self.state_names[i]
                        ),
                    ));
                }
                out[i] = 1.0;
                continue;
            }
            if is_counts {
                let total: f64 = values.iter().sum::<f64>() + prior * n as f64;
                if total <= 0.0 {
                    return Err(self.err(
                        row.span(),
                        &row_path,
                        format!("state `{}` has no observed transitions and prior 0; give counts, a prior > 0, or mark it absorbing", self.state_names[i]),
                    ));
                }
                for j in 0..n {
                    out[j] = (values[j] + prior) / total;
                }
            } else {
                let sum: f64 = values.iter().sum();
                if (sum - 1.0).abs() > SUM_TOLERANCE {
                    return Err(self.err(
                        row.span(),
                        &row_path,
                        format!("sums to {sum}; each row must sum to 1 (within {SUM_TOLERANCE})"),
                    ));
                }
                out.copy_from_slice(values);
            }
        }
        Ok(StochasticMatrix {
            n,
            probabilities,
            counts: is_counts.then_some((raw_counts, prior)),
        })
    }

    fn bands(&self, bands: &Option<Vec<Spanned<RawBand>>>, absorbing: &[bool], path: &str) -> R<Vec<Band>> {
        let mut out = Vec::new();
        for (k, band) in bands.iter().flatten().enumerate() {
            let band_path = format!("{path}[{k}]");
            let raw = band.get_ref();
            let cycles = match &raw.cycles {
                None => None,
                Some(c) => {
                    let v = c.get_ref();
                    if v.len() != 2 || v[0] < 0 || v[0] >= v[1] {
                        return Err(self.err(
                            c.span(),
                            format!("{band_path}.cycles"),
                            format!("{v:?} is not a cycle range; expected [from, to) with 0 ≤ from < to"),
                        ));
                    }
                    Some((v[0] as usize, v[1] as usize))
                }
            };
            let ages = match &raw.ages {
                None => None,
                Some(a) => {
                    let v = a.get_ref();
                    if v.len() != 2 || !v.iter().all(|x| sane(*x)) || v[0] < 0.0 || v[0] >= v[1] {
                        return Err(self.err(
                            a.span(),
                            format!("{band_path}.ages"),
                            format!("{v:?} is not an age range; expected [from, to) in years with 0 ≤ from < to"),
                        ));
                    }
                    Some((v[0], v[1]))
                }
            };
            let matrix = self.matrix(&raw.matrix, &raw.counts, &raw.prior, absorbing, band.span(), &band_path)?;
            out.push(Band { cycles, ages, matrix });
        }
        Ok(out)
    }
}

/// `[run]`: defaults 1000 replications, seed 1.
fn run_defaults(ctx: &Ctx, raw: &Option<RawRun>) -> R<RunDefaults> {
    let mut run = RunDefaults {
        replications: 1000,
        seed: 1,
        sampler: Sampler::Auto,
    };
    if let Some(r) = raw {
        if let Some(n) = &r.replications {
            run.replications = ctx.count(n, "run.replications", 1, "at least 1 replication")? as u64;
        }
        if let Some(s) = &r.seed {
            run.seed = ctx.count(s, "run.seed", 0, "a seed ≥ 0")? as u64;
        }
        if let Some(s) = &r.sampler {
            run.sampler = match s.get_ref() {
                RawSampler::Auto => Sampler::Auto,
                RawSampler::PerChild => Sampler::PerChild,
                RawSampler::Aggregate => Sampler::Aggregate,
            };
        }
    }
    Ok(run)
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

    // [time]
    let cycle_years = ctx.positive(
        &raw.time.cycle_years,
        "time.cycle_years",
        "a cycle length",
        "years > 0 (1 = annual, 0.25 = quarterly)",
    )?;
    if !(CYCLE_YEARS_RANGE.0..=CYCLE_YEARS_RANGE.1).contains(&cycle_years) {
        return Err(ctx.err(
            raw.time.cycle_years.span(),
            "time.cycle_years",
            format!("{cycle_years:e} years is not a usable cycle; expected a day (1/365 ≈ 0.00274) to 10 years"),
        ));
    }
    let horizon = ctx.count(&raw.time.horizon, "time.horizon", 1, "at least 1 cycle")?;
    if horizon > 100_000 {
        return Err(ctx.err(
            raw.time.horizon.span(),
            "time.horizon",
            format!("{horizon} cycles is more than the 100000 allowed"),
        ));
    }
    let start_year = match &raw.time.start_year {
        Some(y) => ctx.finite(y, "time.start_year")?,
        None => 0.0,
    };
    let time = Time {
        cycle_years,
        horizon,
        start_year,
    };

    // [run]
    let run = run_defaults(&ctx, &raw.run)?;

    // [[states]]
    if raw.states.get_ref().is_empty() {
        return Err(ctx.err(
            raw.states.span(),
            "states",
            "no states; give at least one [[states]] table",
        ));
    }
    if raw.states.get_ref().len() > 64 {
        return Err(ctx.err(raw.states.span(), "states", "more than 64 states are not supported"));
    }
    let mut states = Vec::new();
    for (i, s) in raw.states.get_ref().iter().enumerate() {
        let path = format!("states[{i}]");
        let n = s.name.get_ref();
        if !valid_name(n) {
            return Err(ctx.err(
                s.name.span(),
                format!("{path}.name"),
                format!("`{n}` is not allowed; use only a-z, 0-9, `_` and `-` (not first), at most 100 characters"),
            ));
        }
        if ctx.names.insert(n.clone(), i).is_some() {
            return Err(ctx.err(
                s.name.span(),
                format!("{path}.name"),
                format!("state `{n}` is defined twice; names must be unique"),
            ));
        }
        ctx.state_names.push(n.clone());
        let cost = match &s.cost {
            Some(c) => ctx.non_negative(c, &format!("{path}.cost"))?,
            None => 0.0,
        };
        states.push(State {
            name: n.clone(),
            cost,
            absorbing: s.absorbing,
        });
    }
    let n = states.len();
    let absorbing: Vec<bool> = states.iter().map(|s| s.absorbing).collect();

    // [cohort]
    let rc = raw.cohort.get_ref();
    let exit = match (&rc.exit_age, &rc.exit_state) {
        (None, None) => None,
        (Some(a), Some(s)) => {
            let age = ctx.non_negative(a, "cohort.exit_age")?;
            let state = ctx.state(s, "cohort.exit_state")?;
            Some(AgeOut { age, state })
        }
        (Some(a), None) => {
            return Err(ctx.err(
                a.span(),
                "cohort.exit_state",
                "`exit_age` needs `exit_state`: the state children move to when they age out",
            ))
        }
        (None, Some(s)) => {
            return Err(ctx.err(
                s.span(),
                "cohort.exit_age",
                "`exit_state` needs `exit_age`: the age (years) at which children move there",
            ))
        }
    };
    if rc.waves.get_ref().is_empty() {
        return Err(ctx.err(
            rc.waves.span(),
            "cohort.waves",
            "no waves; give at least one [[cohort.waves]] table",
        ));
    }
    let mut waves = Vec::new();
    for (k, w) in rc.waves.get_ref().iter().enumerate() {
        let path = format!("cohort.waves[{k}]");
        let rw = w.get_ref();
        let cycle = match &rw.cycle {
            Some(c) => ctx.count(c, &format!("{path}.cycle"), 0, "a cycle ≥ 0")?,
            None => 0,
        };
        if cycle >= horizon {
            let span = rw.cycle.as_ref().map_or(w.span(), |c| c.span());
            return Err(ctx.err(
                span,
                format!("{path}.cycle"),
                format!("entry cycle {cycle} is outside the horizon; expected 0 ≤ cycle < {horizon}"),
            ));
        }
        let children = ctx.children(&rw.children, &format!("{path}.children"))?;
        let age = ctx.non_negative(&rw.age, &format!("{path}.age"))?;
        if let Some(e) = exit {
            if age >= e.age - AGE_EPSILON {
                return Err(ctx.err(
                    rw.age.span(),
                    format!("{path}.age"),
                    format!(
                        "entry age {age} is at or past exit_age {}; children must enter younger",
                        e.age
                    ),
                ));
            }
        }
        let mut initial = vec![0.0; n];
        for (state, p) in rw.initial.get_ref() {
            let ipath = format!("{path}.initial.{state}");
            let Some(&i) = ctx.names.get(state) else {
                return Err(ctx.err(
                    rw.initial.span(),
                    ipath,
                    format!(
                        "unknown state `{state}`; the states are: {}",
                        ctx.state_names.join(", ")
                    ),
                ));
            };
            initial[i] = ctx.non_negative(p, &ipath)?;
        }
        let sum: f64 = initial.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(ctx.err(
                rw.initial.span(),
                format!("{path}.initial"),
                format!("sums to {sum}; the initial distribution must sum to 1 (within {SUM_TOLERANCE})"),
            ));
        }
        waves.push(Wave {
            cycle,
            children,
            age,
            initial,
        });
    }
    let cohort = Cohort { exit, waves };

    // [baseline]
    let rb = raw.baseline.get_ref();
    let baseline = Transitions {
        default: ctx.matrix(
            &rb.matrix,
            &rb.counts,
            &rb.prior,
            &absorbing,
            raw.baseline.span(),
            "baseline",
        )?,
        bands: ctx.bands(&rb.bands, &absorbing, "baseline.bands")?,
    };

    // [intervention]
    let default_stops: Vec<bool> = (0..n)
        .map(|i| absorbing[i] || exit.is_some_and(|e| e.state == i))
        .collect();
    let intervention = match &raw.intervention {
        None => Intervention {
            duration: 0,
            cost_per_child_cycle: 0.0,
            fixed_cost_per_cycle: 0.0,
            payer: ProgrammePayer::Fund,
            stops_in: default_stops,
            arm: InterventionArm::Effects(Vec::new()),
        },
        Some(ri) => {
            let span = ri.span();
            let ri = ri.get_ref();
            let duration = match &ri.duration {
                Some(d) => ctx.count(d, "intervention.duration", 0, "a number of cycles ≥ 0")?,
                None => horizon,
            };
            let cost_per_child_cycle = match &ri.cost_per_child_cycle {
                Some(c) => ctx.non_negative(c, "intervention.cost_per_child_cycle")?,
                None => 0.0,
            };
            let fixed_cost_per_cycle = match &ri.fixed_cost_per_cycle {
                Some(c) => ctx.non_negative(c, "intervention.fixed_cost_per_cycle")?,
                None => 0.0,
            };
            let payer = match ri.payer {
                Some(RawPayer::Payer) => ProgrammePayer::Payer,
                _ => ProgrammePayer::Fund,
            };
            let stops_in = match &ri.stops_in {
                Some(s) => ctx.state_mask(s, "intervention.stops_in")?,
                None => default_stops,
            };
            let full = ri.matrix.is_some() || ri.counts.is_some() || ri.bands.is_some();
            let arm = if full {
                if let Some(e) = ri.effects.as_ref().and_then(|e| e.first()) {
                    return Err(ctx.err(
                        e.span(),
                        "intervention.effects",
                        "give either `effects` or full transitions (`matrix`/`counts`/`bands`), not both",
                    ));
                }
                if ri.matrix.is_none() && ri.counts.is_none() {
                    return Err(ctx.err(
                        span,
                        "intervention",
                        "`bands` need a default `matrix` or `counts` beside them",
                    ));
                }
                InterventionArm::Transitions(Transitions {
                    default: ctx.matrix(
                        &ri.matrix,
                        &ri.counts,
                        &ri.prior,
                        &absorbing,
                        span.clone(),
                        "intervention",
                    )?,
                    bands: ctx.bands(&ri.bands, &absorbing, "intervention.bands")?,
                })
            } else {
                if let Some(p) = &ri.prior {
                    return Err(ctx.err(p.span(), "intervention.prior", "`prior` goes with `counts`"));
                }
                let mut effects = Vec::new();
                for (k, e) in ri.effects.iter().flatten().enumerate() {
                    let path = format!("intervention.effects[{k}]");
                    let re = e.get_ref();
                    let relative_risk = ctx.non_negative(&re.relative_risk, &format!("{path}.relative_risk"))?;
                    let targets = match &re.targets {
                        Some(t) => ctx.state_mask(t, &format!("{path}.targets"))?,
                        None => vec![true; n],
                    };
                    let from = match &re.from {
                        Some(t) => ctx.state_mask(t, &format!("{path}.from"))?,
                        None => vec![true; n],
                    };
                    let waning_cycles = match &re.waning_cycles {
                        Some(w) => ctx.count(w, &format!("{path}.waning_cycles"), 0, "a number of cycles ≥ 0")?,
                        None => 0,
                    };
                    effects.push(Effect {
                        relative_risk,
                        targets,
                        from,
                        waning_cycles,
                        index: k,
                    });
                }
                // A relative risk must leave every row a distribution, in every
                // matrix it can touch. The diagonal is multilinear in the risks,
                // so checking the full risks (and waning's RR = 1) suffices.
                for matrix in std::iter::once(&baseline.default).chain(baseline.bands.iter().map(|b| &b.matrix)) {
                    let mut p = matrix.probabilities.clone();
                    for (k, e) in effects.iter().enumerate() {
                        if let Some(row) = e.apply(&mut p, n, e.relative_risk) {
                            // effects[k] was built from the k-th raw effect, so it exists.
                            let span = ri
                                .effects
                                .as_ref()
                                .and_then(|v| v.get(k))
                                .map_or(span.clone(), |r| r.get_ref().relative_risk.span());
                            return Err(ctx.err(
                                span,
                                format!("intervention.effects[{k}].relative_risk"),
                                format!(
                                    "relative risk {} would make the probability of staying in `{}` negative; the moves it scales out of that row sum to more than 1",
                                    e.relative_risk, ctx.state_names[row]
                                ),
                            ));
                        }
                    }
                }
                InterventionArm::Effects(effects)
            };
            Intervention {
                duration,
                cost_per_child_cycle,
                fixed_cost_per_cycle,
                payer,
                stops_in,
                arm,
            }
        }
    };

    // [counting], [discounting]
    let counting = match raw.counting.as_ref().and_then(|c| c.occupancy) {
        None | Some(RawOccupancy::Start) => Counting::Start,
        Some(RawOccupancy::End) => Counting::End,
        Some(RawOccupancy::HalfCycle) => Counting::HalfCycle,
    };
    let discounting = match &raw.discounting {
        None => Discounting {
            payer_rate: 0.0,
            investor_rate: 0.0,
            payer_outcomes_rate: None,
        },
        Some(d) => Discounting {
            payer_rate: ctx.rate(&d.payer_rate, "discounting.payer_rate")?.unwrap_or(0.0),
            investor_rate: ctx.rate(&d.investor_rate, "discounting.investor_rate")?.unwrap_or(0.0),
            payer_outcomes_rate: ctx.rate(&d.payer_outcomes_rate, "discounting.payer_outcomes_rate")?,
        },
    };

    // [[metrics]]
    let mut metrics: Vec<Metric> = Vec::new();
    for (k, m) in raw.metrics.iter().flatten().enumerate() {
        let path = format!("metrics[{k}]");
        let rm = m.get_ref();
        let name = rm.name.get_ref().clone();
        if !valid_name(&name) {
            return Err(ctx.err(
                rm.name.span(),
                format!("{path}.name"),
                format!("`{name}` is not allowed; use only a-z, 0-9, `_` and `-` (not first), at most 100 characters"),
            ));
        }
        if metrics.iter().any(|x| x.name == name) {
            return Err(ctx.err(
                rm.name.span(),
                format!("{path}.name"),
                format!("metric `{name}` is defined twice; names must be unique"),
            ));
        }
        let states = match (&rm.states, rm.kind) {
            (Some(s), RawMetricKind::Cost) => {
                let span = s.first().map_or(m.span(), |x| x.span());
                return Err(ctx.err(
                    span,
                    format!("{path}.states"),
                    "a `cost` metric counts every state's cost; remove `states`",
                ));
            }
            (None, RawMetricKind::Cost) => vec![true; n],
            (Some(s), _) => ctx.state_mask(s, &format!("{path}.states"))?,
            (None, _) => {
                return Err(ctx.err(
                    m.span(),
                    format!("{path}.states"),
                    "missing: this kind of metric needs `states`, a list of state names",
                ))
            }
        };
        let window = match &rm.window {
            None => (0, horizon),
            Some(w) => {
                let v = w.get_ref();
                if v.len() != 2 || v[0] < 0 || v[0] >= v[1] || v[1] as usize > horizon {
                    return Err(ctx.err(
                        w.span(),
                        format!("{path}.window"),
                        format!("{v:?} is not a window; expected [from, to) with 0 ≤ from < to ≤ horizon ({horizon})"),
                    ));
                }
                (v[0] as usize, v[1] as usize)
            }
        };
        let kind = match rm.kind {
            RawMetricKind::StateCycles => MetricKind::StateCycles,
            RawMetricKind::Entries => MetricKind::Entries,
            RawMetricKind::Cost => MetricKind::Cost,
            RawMetricKind::OccupancyAt => {
                let Some(at) = &rm.at else {
                    return Err(ctx.err(
                        m.span(),
                        format!("{path}.at"),
                        "missing: `occupancy_at` needs `at`, the cycle at which to count",
                    ));
                };
                let t = ctx.count(at, &format!("{path}.at"), 0, "a cycle ≥ 0")?;
                if t > horizon {
                    return Err(ctx.err(at.span(), format!("{path}.at"), format!("cycle {t} is outside the horizon; expected 0 ≤ at ≤ {horizon} ({horizon} = after the last transition)")));
                }
                MetricKind::OccupancyAt(t)
            }
        };
        if rm.at.is_some() && !matches!(kind, MetricKind::OccupancyAt(_)) {
            return Err(ctx.err(
                rm.at.as_ref().map_or(m.span(), |a| a.span()),
                format!("{path}.at"),
                "`at` is only for `occupancy_at` metrics",
            ));
        }
        if rm.discounted.is_some() && matches!(kind, MetricKind::Entries | MetricKind::OccupancyAt(_)) {
            return Err(ctx.err(
                m.span(),
                format!("{path}.discounted"),
                "`discounted` is only for `cost` and `state_cycles` metrics",
            ));
        }
        let discount_rate = match kind {
            MetricKind::Cost => rm.discounted.unwrap_or(true).then_some(discounting.payer_rate),
            MetricKind::StateCycles => match rm.discounted {
                Some(true) => Some(discounting.payer_outcomes_rate.unwrap_or(discounting.payer_rate)),
                Some(false) => None,
                None => discounting.payer_outcomes_rate,
            },
            _ => None,
        };
        metrics.push(Metric {
            name,
            kind,
            states,
            window,
            discount_rate,
        });
    }
    let entries = metrics.iter().filter(|m| m.kind == MetricKind::Entries).count();
    if entries > 0 && run.sampler == Sampler::Aggregate {
        let span = raw
            .run
            .as_ref()
            .and_then(|r| r.sampler.as_ref())
            .map_or(0..0, |s| s.span());
        return Err(ctx.err(
            span,
            "run.sampler",
            "\"aggregate\" keeps no per-child history, which `entries` metrics need; \
             use \"per_child\" or \"auto\" (which picks per_child here)",
        ));
    }
    if entries > 64 {
        return Err(InputError::new(
            file,
            "metrics",
            "more than 64 `entries` metrics are not supported",
        ));
    }

    let contract = match &raw.contract {
        Some(c) => Some(contract(&ctx, c, &metrics, horizon)?),
        None => None,
    };
    let fund = match &raw.fund {
        Some(f) => Some(fund(&ctx, f.get_ref())?),
        None => None,
    };
    let uncertainty = match &raw.uncertainty {
        Some(u) => Some(uncertainty(&ctx, u.get_ref(), &states)?),
        None => None,
    };

    Ok(Scenario {
        name,
        description: raw.description.unwrap_or_default(),
        source: file.to_string(),
        digest: fnv1a(text.as_bytes()),
        time,
        run,
        states,
        cohort,
        baseline,
        intervention,
        counting,
        discounting,
        metrics,
        contract,
        fund,
        uncertainty,
    })
}

fn uncertainty(ctx: &Ctx, raw: &RawUncertainty, states: &[State]) -> R<Uncertainty> {
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
    Ok(Uncertainty {
        transition_concentration,
        effect_sd_log,
        cost_cv,
        shock,
    })
}

fn contract(ctx: &Ctx, raw: &Spanned<RawContract>, metrics: &[Metric], horizon: usize) -> R<Contract> {
    use crate::model::contract::{Baseline, Component, Measurement, Rule};
    let span = raw.span();
    let raw = raw.get_ref();
    let measurement = match raw.measurement.unwrap_or(RawMeasurement::FixedBaseline) {
        RawMeasurement::FixedBaseline => {
            if let Some(c) = &raw.control_size {
                return Err(ctx.err(
                    c.span(),
                    "contract.control_size",
                    "`control_size` is for `measurement = \"control_group\"`",
                ));
            }
            Measurement::FixedBaseline
        }
        RawMeasurement::ControlGroup => {
            let Some(size) = &raw.control_size else {
                return Err(ctx.err(span, "contract.control_size", "missing: `measurement = \"control_group\"` needs `control_size`, the number of children in the comparison group"));
            };
            Measurement::ControlGroup {
                size: ctx.children(size, "contract.control_size")?,
            }
        }
    };
    let cap = |v: &Option<Spanned<f64>>, path: &str| -> R<Option<f64>> {
        v.as_ref().map(|c| ctx.non_negative(c, path)).transpose()
    };
    let max_total = cap(&raw.max_total, "contract.max_total")?;
    let cap_per_date = cap(&raw.cap_per_date, "contract.cap_per_date")?;
    let mut components = Vec::new();
    for (k, p) in raw.payments.iter().flatten().enumerate() {
        let path = format!("contract.payments[{k}]");
        let rp = p.get_ref();
        let Some(metric) = metrics.iter().position(|m| &m.name == rp.metric.get_ref()) else {
            let known: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
            return Err(ctx.err(
                rp.metric.span(),
                format!("{path}.metric"),
                format!(
                    "no metric is called `{}`; define it under [[metrics]] (defined: {})",
                    rp.metric.get_ref(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        let at_values = rp.at.get_ref();
        if at_values.is_empty() {
            return Err(ctx.err(
                rp.at.span(),
                format!("{path}.at"),
                "no payment dates; give the cycles at whose end the component pays, e.g. [4, 8, 12]",
            ));
        }
        let mut at = Vec::new();
        for (d, &a) in at_values.iter().enumerate() {
            if a < 0 || a as usize >= horizon {
                return Err(ctx.err(
                    rp.at.span(),
                    format!("{path}.at[{d}]"),
                    format!(
                        "cycle {a} is outside the horizon; payment dates must be cycles 0 ..= {}",
                        horizon - 1
                    ),
                ));
            }
            if at.last().is_some_and(|&last| last >= a as usize) {
                return Err(ctx.err(
                    rp.at.span(),
                    format!("{path}.at[{d}]"),
                    "payment dates must be strictly increasing",
                ));
            }
            at.push(a as usize);
        }
        let baseline = match (&rp.baseline, measurement) {
            (None, Measurement::FixedBaseline) => {
                return Err(ctx.err(p.span(), format!("{path}.baseline"), "missing: a fixed-baseline contract needs `baseline`: a number, a list (one per date in `at`) or \"expected\""));
            }
            (None, Measurement::ControlGroup { .. }) => Baseline::FromControl,
            (Some(b), Measurement::ControlGroup { .. }) => {
                return Err(ctx.err(
                    b.span(),
                    format!("{path}.baseline"),
                    "a control-group contract measures its baseline on the comparison group; remove `baseline`",
                ));
            }
            (Some(b), Measurement::FixedBaseline) => match b.get_ref() {
                RawBaseline::Word(w) if w == "expected" => Baseline::Expected,
                RawBaseline::Word(w) => {
                    return Err(ctx.err(
                        b.span(),
                        format!("{path}.baseline"),
                        format!("`{w}` is not a baseline; give a number, a list of numbers or \"expected\""),
                    ));
                }
                RawBaseline::Number(x) => {
                    if at.len() != 1 {
                        return Err(ctx.err(b.span(), format!("{path}.baseline"), format!("one number for {} payment dates; give a list of {} cumulative baseline values, one per date in `at`", at.len(), at.len())));
                    }
                    if !sane(*x) || *x < 0.0 {
                        return Err(ctx.err(
                            b.span(),
                            format!("{path}.baseline"),
                            format!("{x} is not a baseline value; expected a finite number ≥ 0"),
                        ));
                    }
                    Baseline::Stated(vec![*x])
                }
                RawBaseline::List(v) => {
                    if v.len() != at.len() {
                        return Err(ctx.err(
                            b.span(),
                            format!("{path}.baseline"),
                            format!(
                                "{} values for {} payment dates; give one cumulative value per date in `at`",
                                v.len(),
                                at.len()
                            ),
                        ));
                    }
                    if let Some(x) = v.iter().find(|x| !sane(**x) || **x < 0.0) {
                        return Err(ctx.err(
                            b.span(),
                            format!("{path}.baseline"),
                            format!("{x} is not a baseline value; expected finite numbers ≥ 0"),
                        ));
                    }
                    Baseline::Stated(v.clone())
                }
            },
        };
        let misplaced = |key: &str, present: bool| -> R<()> {
            if present {
                Err(ctx.err(
                    p.span(),
                    format!("{path}.{key}"),
                    format!("`{key}` does not apply to this rule"),
                ))
            } else {
                Ok(())
            }
        };
        let rule = match rp.rule {
            RawRule::RateCard => {
                misplaced("share", rp.share.is_some())?;
                misplaced("tiers", rp.tiers.is_some())?;
                let Some(price) = &rp.price else {
                    return Err(ctx.err(
                        p.span(),
                        format!("{path}.price"),
                        "missing: `rule = \"rate_card\"` needs `price`, the payment per unit of measured impact",
                    ));
                };
                Rule::RateCard {
                    price: ctx.non_negative(price, &format!("{path}.price"))?,
                }
            }
            RawRule::SavingsShare => {
                misplaced("price", rp.price.is_some())?;
                misplaced("tiers", rp.tiers.is_some())?;
                let Some(share) = &rp.share else {
                    return Err(ctx.err(
                        p.span(),
                        format!("{path}.share"),
                        "missing: `rule = \"savings_share\"` needs `share`, the share of measured avoided cost paid",
                    ));
                };
                let v = ctx.non_negative(share, &format!("{path}.share"))?;
                if v > 1.0 {
                    return Err(ctx.err(
                        share.span(),
                        format!("{path}.share"),
                        format!("{v} is not a share; expected a number in [0, 1]"),
                    ));
                }
                Rule::SavingsShare { share: v }
            }
            RawRule::Tiers => {
                misplaced("price", rp.price.is_some())?;
                misplaced("share", rp.share.is_some())?;
                let Some(tiers) = &rp.tiers else {
                    return Err(ctx.err(p.span(), format!("{path}.tiers"), "missing: `rule = \"tiers\"` needs `tiers`, a list of [relative effect, cumulative payment] points"));
                };
                let mut points: Vec<(f64, f64)> = Vec::new();
                for (i, point) in tiers.get_ref().iter().enumerate() {
                    let tpath = format!("{path}.tiers[{i}]");
                    if point.len() != 2 || !point.iter().all(|x| sane(*x)) {
                        return Err(ctx.err(
                            tiers.span(),
                            tpath,
                            "each tier is [relative effect, cumulative payment]: two finite numbers",
                        ));
                    }
                    let (e, pay) = (point[0], point[1]);
                    if pay < 0.0 {
                        return Err(ctx.err(tiers.span(), tpath, format!("payment {pay} is negative; expected ≥ 0")));
                    }
                    if let Some(&(e0, p0)) = points.last() {
                        if e <= e0 || pay < p0 {
                            return Err(ctx.err(tiers.span(), tpath, format!("tiers must increase: effect {e} after {e0}, payment {pay} after {p0}; effects strictly increasing, payments not decreasing")));
                        }
                    }
                    points.push((e, pay));
                }
                if points.is_empty() {
                    return Err(ctx.err(
                        tiers.span(),
                        format!("{path}.tiers"),
                        "no tiers; give at least one [relative effect, cumulative payment] point",
                    ));
                }
                Rule::Tiers {
                    points,
                    linear: rp.interpolate == Some(RawInterpolate::Linear),
                }
            }
        };
        if rp.interpolate.is_some() && rp.rule != RawRule::Tiers {
            misplaced("interpolate", true)?;
        }
        let threshold = match &rp.threshold {
            None => None,
            Some(t) => {
                let v = ctx.finite(t, &format!("{path}.threshold"))?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(ctx.err(t.span(), format!("{path}.threshold"), format!("{v} is outside [0, 1]; the threshold is a relative effect (0.05 = 5 % better than baseline)")));
                }
                Some(v)
            }
        };
        components.push(Component {
            metric,
            baseline,
            rule,
            threshold,
            at,
            cap: cap(&rp.cap, &format!("{path}.cap"))?,
            cap_per_date: cap(&rp.cap_per_date, &format!("{path}.cap_per_date"))?,
        });
    }
    Ok(Contract {
        measurement,
        max_total,
        cap_per_date,
        clawback: raw.clawback.unwrap_or(false),
        components,
    })
}

fn fund(ctx: &Ctx, raw: &RawFund) -> R<Fund> {
    use crate::model::fund::{Distribute, Tranche};
    let capital = ctx.positive(&raw.capital, "fund.capital", "a commitment", "capital > 0")?;
    let management_fee = match &raw.management_fee {
        Some(f) => ctx.non_negative(f, "fund.management_fee")?,
        None => 0.0,
    };
    let return_cap_multiple = raw
        .return_cap_multiple
        .as_ref()
        .map(|m| {
            ctx.positive(
                m,
                "fund.return_cap_multiple",
                "a cap",
                "a multiple > 0 (1.5 = at most 1.5 x the capital back)",
            )
        })
        .transpose()?;
    let first_loss = match &raw.guarantee {
        Some(g) => {
            let v = ctx.finite(&g.first_loss, "fund.guarantee.first_loss")?;
            if !(0.0..=1.0).contains(&v) {
                return Err(ctx.err(
                    g.first_loss.span(),
                    "fund.guarantee.first_loss",
                    format!("{v} is not a share; expected a number in [0, 1]"),
                ));
            }
            Some(v)
        }
        None => None,
    };
    let mut tranches = Vec::new();
    match &raw.tranches {
        None => tranches.push(Tranche {
            name: "investors".into(),
            share: 1.0,
            coupon: 0.0,
        }),
        Some(list) => {
            for (k, t) in list.get_ref().iter().enumerate() {
                let path = format!("fund.tranches[{k}]");
                let rt = t.get_ref();
                let name = rt.name.get_ref().clone();
                if !valid_name(&name) {
                    return Err(ctx.err(
                        rt.name.span(),
                        format!("{path}.name"),
                        format!("`{name}` is not allowed; use only a-z, 0-9, `_` and `-` (not first), at most 100 characters"),
                    ));
                }
                if tranches.iter().any(|x: &Tranche| x.name == name) {
                    return Err(ctx.err(
                        rt.name.span(),
                        format!("{path}.name"),
                        format!("tranche `{name}` is defined twice"),
                    ));
                }
                let share = ctx.non_negative(&rt.share, &format!("{path}.share"))?;
                let coupon = match &rt.coupon {
                    Some(c) => ctx.non_negative(c, &format!("{path}.coupon"))?,
                    None => 0.0,
                };
                tranches.push(Tranche { name, share, coupon });
            }
            if tranches.is_empty() {
                return Err(ctx.err(
                    list.span(),
                    "fund.tranches",
                    "no tranches; give at least one, or leave out [[fund.tranches]]",
                ));
            }
            let sum: f64 = tranches.iter().map(|t| t.share).sum();
            if (sum - 1.0).abs() > SUM_TOLERANCE {
                return Err(ctx.err(
                    list.span(),
                    "fund.tranches",
                    format!("tranche shares sum to {sum}; they must sum to 1"),
                ));
            }
        }
    }
    Ok(Fund {
        capital,
        management_fee,
        distribute: match raw.distribute {
            Some(RawDistribute::OnReceipt) => Distribute::OnReceipt,
            _ => Distribute::AtEnd,
        },
        return_cap_multiple,
        first_loss,
        tranches,
    })
}

/// Validates a portfolio file and loads its contracts.
pub fn validate_portfolio(
    raw: RawPortfolioFile,
    file: &str,
    text: &str,
    base: &std::path::Path,
    contract_sets: &[(String, String, String)],
) -> Result<crate::model::portfolio::Portfolio, InputError> {
    let ctx = Ctx {
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
    let run = run_defaults(&ctx, &raw.run)?;
    let list = raw.portfolio.get_ref().contracts.get_ref();
    if list.is_empty() {
        return Err(ctx.err(
            raw.portfolio.get_ref().contracts.span(),
            "portfolio.contracts",
            "no contracts; list the scenario files of the contracts",
        ));
    }
    let mut contracts: Vec<Scenario> = Vec::new();
    let mut digest_text = text.to_string();
    for (k, c) in list.iter().enumerate() {
        let path = base.join(c.get_ref());
        let note = |mut e: InputError| {
            e.message = format!("{} (contract {k} of portfolio {file})", e.message);
            e
        };
        let mut contract = super::load(&path).map_err(note)?;
        // `--set contracts.<name>.<key>=...`: reload this contract with its overrides.
        let sets: Vec<(String, String)> = contract_sets
            .iter()
            .filter(|(name, _, _)| *name == contract.name)
            .map(|(_, key, value)| (key.clone(), value.clone()))
            .collect();
        if !sets.is_empty() {
            contract = match super::load_any_with(&path, &sets).map_err(note)? {
                super::Loaded::Single(s) => *s,
                super::Loaded::Portfolio(_) => {
                    return Err(ctx.err(
                        c.span(),
                        format!("portfolio.contracts[{k}]"),
                        "a portfolio cannot hold a portfolio",
                    ))
                }
            };
        }
        if contracts.iter().any(|x| x.name == contract.name) {
            return Err(ctx.err(
                c.span(),
                format!("portfolio.contracts[{k}]"),
                format!("two contracts are named `{}`; names must be unique", contract.name),
            ));
        }
        if let Some(first) = contracts.first() {
            if (first.time.cycle_years - contract.time.cycle_years).abs() > 1e-12 {
                return Err(ctx.err(
                    c.span(),
                    format!("portfolio.contracts[{k}]"),
                    format!(
                        "cycles of {} years; the first contract's are {} years: a portfolio needs one cycle length",
                        contract.time.cycle_years, first.time.cycle_years
                    ),
                ));
            }
        }
        digest_text.push_str(&format!("\n--{}--\n{:016x}", c.get_ref(), contract.digest));
        contracts.push(contract);
    }
    if let Some((name, key, _)) = contract_sets
        .iter()
        .find(|(name, _, _)| !contracts.iter().any(|c| c.name == *name))
    {
        let names: Vec<&str> = contracts.iter().map(|c| c.name.as_str()).collect();
        return Err(InputError::new(
            "--set",
            format!("contracts.{name}.{key}"),
            format!(
                "no contract named `{name}` in this portfolio; its contracts: {}",
                names.join(", ")
            ),
        ));
    }
    let start = contracts
        .iter()
        .map(|c| c.time.start_year)
        .fold(f64::INFINITY, f64::min);
    let step = contracts[0].time.cycle_years;
    let mut offsets = Vec::new();
    for (k, c) in contracts.iter().enumerate() {
        let offset = (c.time.start_year - start) / step;
        if (offset - offset.round()).abs() > 1e-9 {
            return Err(ctx.err(
                list[k].span(),
                format!("portfolio.contracts[{k}]"),
                format!(
                    "starts in {}, not a whole number of cycles after {start}",
                    c.time.start_year
                ),
            ));
        }
        offsets.push(offset.round() as usize);
    }
    let fund = match &raw.fund {
        Some(f) => fund(&ctx, f.get_ref())?,
        None => {
            return Err(ctx.err(
                raw.name.span(),
                "fund",
                "missing: a portfolio needs a pooled [fund] (capital, management_fee, distribute)",
            ))
        }
    };
    let shock = match &raw.uncertainty {
        None => None,
        Some(u) => {
            let ru = u.get_ref();
            if ru.transition_concentration.is_some() || ru.effect_sd_log.is_some() || ru.cost_cv.is_some() {
                return Err(ctx.err(u.span(), "uncertainty", "a portfolio file takes only [uncertainty.shock]; parameter uncertainty belongs in each contract's file"));
            }
            if let Some(s) = &ru.shock {
                if let Some(t) = s.get_ref().targets.as_ref().and_then(|t| t.first()) {
                    return Err(ctx.err(t.span(), "uncertainty.shock.targets", "the shared shock's targets are each contract's own (its [uncertainty.shock] targets, or its costly states)"));
                }
            }
            uncertainty(&ctx, ru, &[])?.shock
        }
    };
    let investor_rate = match raw.discounting.as_ref() {
        Some(d) => {
            if d.payer_rate.is_some() || d.payer_outcomes_rate.is_some() {
                return Err(InputError::new(
                    file,
                    "discounting",
                    "a portfolio file takes only `investor_rate`; payer rates belong to each contract",
                ));
            }
            ctx.rate(&d.investor_rate, "discounting.investor_rate")?
        }
        None => None,
    }
    .unwrap_or(contracts[0].discounting.investor_rate);
    Ok(crate::model::portfolio::Portfolio {
        name,
        description: raw.description.unwrap_or_default(),
        source: file.to_string(),
        digest: fnv1a(digest_text.as_bytes()),
        run,
        contracts,
        offsets,
        start_year: start,
        cycle_years: step,
        fund,
        investor_rate,
        shock,
    })
}
