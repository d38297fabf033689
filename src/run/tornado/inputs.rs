//! The uncertain inputs a tornado moves, and the central model with one
//! of them moved: what each input is, its low and high values, and how it
//! changes a scenario or portfolio.

use super::TornadoRequest;
use crate::error::Result;
use crate::model::{Enrolment, InterventionArm, Scenario, StochasticMatrix, Uncertainty};
use crate::run::job::Job;
use crate::scenario::Loaded;
use crate::stats::distributions::{beta_quantile, gamma_quantile};

/// Which arm's transitions a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Arm {
    Baseline,
    Intervention,
}

/// One way to move an input.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Change {
    Effect {
        contract: usize,
        index: usize,
    },
    Cost {
        contract: usize,
        state: usize,
    },
    Row {
        contract: usize,
        arm: Arm,
        band: Option<usize>,
        row: usize,
    },
    Shock,
    Enrolment {
        contract: usize,
    },
    Risk {
        contract: usize,
        index: usize,
    },
    Term {
        key: String,
    },
}

/// An input and its low and high values.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Input {
    pub(super) name: String,
    pub(super) change: Change,
    pub(super) low: f64,
    pub(super) high: f64,
}

/// The central model: no draws, no shock; under volume risk each wave
/// enrols Binomial(children, mean share).
pub(super) fn central(loaded: &Loaded) -> Loaded {
    match loaded {
        Loaded::Single(s) => {
            let mut s = s.clone();
            centre(&mut s);
            Loaded::Single(s)
        }
        Loaded::Portfolio(p) => {
            let mut p = p.clone();
            for c in &mut p.contracts {
                centre(c);
            }
            p.shock = None;
            Loaded::Portfolio(p)
        }
    }
}

/// One contract at its central parameters.
fn centre(s: &mut Scenario) {
    let enrolment = s.uncertainty.as_ref().and_then(|u| u.enrolment);
    s.uncertainty = enrolment.map(|e| Uncertainty::enrolment_only(Enrolment { mean: e.mean, sd: 0.0 }));
}

pub(super) fn contract_mut(loaded: &mut Loaded, contract: usize) -> &mut Scenario {
    match loaded {
        Loaded::Single(s) => s,
        Loaded::Portfolio(p) => &mut p.contracts[contract],
    }
}

/// States a row's costly share counts: the shock's targets (costly and not
/// absorbing, unless the shock names its own).
pub(super) fn costly(s: &Scenario) -> Vec<bool> {
    match s.uncertainty.as_ref().and_then(|u| u.shock.as_ref()) {
        Some(shock) => shock.targets.clone(),
        None => s.states.iter().map(|x| x.cost > 0.0 && !x.absorbing).collect(),
    }
}

/// The Beta parameters of a row's costly share, when the row is uncertain.
pub(super) fn row_beta(
    matrix: &StochasticMatrix,
    row: usize,
    concentration: Option<f64>,
    costly: &[bool],
) -> Option<(f64, f64)> {
    let n = matrix.n();
    let alphas: Vec<f64> = match (matrix.counts(), concentration) {
        (Some((counts, prior)), _) => counts[row * n..(row + 1) * n].iter().map(|c| c + prior).collect(),
        (None, Some(c)) => matrix.row(row).iter().map(|p| c * p).collect(),
        (None, None) => return None,
    };
    let a: f64 = alphas.iter().zip(costly).filter(|(_, &t)| t).map(|(a, _)| a).sum();
    let b: f64 = alphas.iter().zip(costly).filter(|(_, &t)| !t).map(|(a, _)| a).sum();
    (a > 0.0 && b > 0.0).then_some((a, b))
}

/// `row` of `matrix` with its costly share moved to `share`.
pub(super) fn with_share(matrix: &mut StochasticMatrix, row: usize, costly: &[bool], share: f64) {
    let old = matrix.row(row).to_vec();
    let current: f64 = old.iter().zip(costly).filter(|(_, &t)| t).map(|(p, _)| p).sum();
    if current <= 0.0 || current >= 1.0 {
        return;
    }
    let new: Vec<f64> = old
        .iter()
        .zip(costly)
        .map(|(p, &t)| {
            if t {
                p * share / current
            } else {
                p * (1.0 - share) / (1.0 - current)
            }
        })
        .collect();
    // A rescaled distribution stays one; a refused row keeps the central one.
    let _ = matrix.set_row(row, &new);
}

/// The uncertain inputs of every contract (and the pooled shock).
pub(super) fn inputs(loaded: &Loaded, z: (f64, f64), p: (f64, f64)) -> Vec<Input> {
    let mut out = Vec::new();
    let list = loaded.contracts();
    let portfolio = matches!(loaded, Loaded::Portfolio(_));
    for (c, s) in list.iter().enumerate() {
        let prefix = if portfolio {
            format!("{}: ", s.name)
        } else {
            String::new()
        };
        let Some(u) = &s.uncertainty else { continue };
        if let InterventionArm::Effects(effects) = &s.intervention.arm {
            if u.effect_sd_log > 0.0 {
                for (index, e) in effects.iter().enumerate() {
                    out.push(Input {
                        name: format!("{prefix}effect {index} relative risk"),
                        change: Change::Effect { contract: c, index },
                        low: e.relative_risk * (u.effect_sd_log * z.0).exp(),
                        high: e.relative_risk * (u.effect_sd_log * z.1).exp(),
                    });
                }
            }
        }
        if u.cost_cv > 0.0 {
            for (state, x) in s.states.iter().enumerate().filter(|(_, x)| x.cost > 0.0) {
                out.push(Input {
                    name: format!("{prefix}cost of `{}`", x.name),
                    change: Change::Cost { contract: c, state },
                    low: gamma_quantile(x.cost, u.cost_cv, p.0),
                    high: gamma_quantile(x.cost, u.cost_cv, p.1),
                });
            }
        }
        if let Some(risk) = s.baseline_risk.as_ref().filter(|_| u.risk_sd_log > 0.0) {
            for (index, m) in risk.multipliers.iter().enumerate() {
                out.push(Input {
                    name: format!("{prefix}baseline risk multiplier {index}"),
                    change: Change::Risk { contract: c, index },
                    low: m.relative_risk * (u.risk_sd_log * z.0).exp(),
                    high: m.relative_risk * (u.risk_sd_log * z.1).exp(),
                });
            }
        }
        let targets = costly(s);
        // Rows are uncertain in the population's matrices when the baseline
        // is derived from them.
        let mut arms = vec![(Arm::Baseline, "baseline", s.population())];
        if let InterventionArm::Transitions(t) = &s.intervention.arm {
            arms.push((Arm::Intervention, "intervention", t));
        }
        for (arm, label, transitions) in arms {
            let matrices = std::iter::once((None, &transitions.default)).chain(
                transitions
                    .bands
                    .iter()
                    .enumerate()
                    .map(|(b, band)| (Some(b), &band.matrix)),
            );
            for (band, matrix) in matrices {
                for row in (0..matrix.n()).filter(|&r| !s.states[r].absorbing) {
                    let Some((a, b)) = row_beta(matrix, row, u.transition_concentration, &targets) else {
                        continue;
                    };
                    let band_text = band.map_or(String::new(), |b| format!(" band {b}"));
                    out.push(Input {
                        name: format!("{prefix}{label}{band_text} row `{}` (costly share)", s.states[row].name),
                        change: Change::Row {
                            contract: c,
                            arm,
                            band,
                            row,
                        },
                        low: beta_quantile(a, b, p.0),
                        high: beta_quantile(a, b, p.1),
                    });
                }
            }
        }
        if let Some((a, b)) = u.enrolment.and_then(|e| e.beta_parameters()) {
            out.push(Input {
                name: format!("{prefix}enrolment share"),
                change: Change::Enrolment { contract: c },
                low: beta_quantile(a, b, p.0),
                high: beta_quantile(a, b, p.1),
            });
        }
        if !portfolio {
            if let Some(shock) = &u.shock {
                out.push(Input {
                    name: "systemic shock, held every cycle".to_string(),
                    change: Change::Shock,
                    low: shock.sd * z.0,
                    high: shock.sd * z.1,
                });
            }
        }
    }
    if let Loaded::Portfolio(p) = loaded {
        if let Some(shock) = &p.shock {
            out.push(Input {
                name: "shared shock, held every cycle".to_string(),
                change: Change::Shock,
                low: shock.sd * z.0,
                high: shock.sd * z.1,
            });
        }
    }
    out
}

/// The central model with one input at `value`, ready to run.
pub(super) fn job_with(request: &TornadoRequest, central: &Loaded, change: &Change, value: f64) -> Result<Job> {
    let mut model = match change {
        Change::Term { key } => {
            let mut sets = request.sets.clone();
            sets.push((key.clone(), format!("{value:?}")));
            self::central(&crate::scenario::load_any_with(&request.scenario, &sets)?)
        }
        _ => central.clone(),
    };
    let mut fixed_shock = None;
    match *change {
        Change::Effect { contract, index } => {
            if let InterventionArm::Effects(effects) = &mut contract_mut(&mut model, contract).intervention.arm {
                effects[index].relative_risk = value;
            }
        }
        Change::Cost { contract, state } => contract_mut(&mut model, contract).states[state].cost = value,
        Change::Row {
            contract,
            arm,
            band,
            row,
        } => {
            let s = contract_mut(&mut model, contract);
            let targets = costly(s);
            let transitions = match (arm, &mut s.intervention.arm, &mut s.baseline_risk) {
                (Arm::Intervention, InterventionArm::Transitions(t), _) => t,
                (_, _, Some(risk)) => &mut risk.population,
                _ => &mut s.baseline,
            };
            let matrix = match band {
                Some(b) => &mut transitions.bands[b].matrix,
                None => &mut transitions.default,
            };
            with_share(matrix, row, &targets, value);
            if let Some(risk) = &s.baseline_risk {
                s.baseline = risk.transitions();
            }
        }
        Change::Risk { contract, index } => {
            let s = contract_mut(&mut model, contract);
            if let Some(risk) = &mut s.baseline_risk {
                risk.multipliers[index].relative_risk = value;
                s.baseline = risk.transitions();
            }
        }
        Change::Shock => fixed_shock = Some(value),
        Change::Enrolment { contract } => {
            let share = Enrolment { mean: value, sd: 0.0 };
            contract_mut(&mut model, contract).uncertainty = Some(Uncertainty::enrolment_only(share));
        }
        Change::Term { .. } => {}
    }
    Ok(job_of(model, fixed_shock))
}

/// A model compiled to run, with the shock held at `fixed_shock` if given.
pub(super) fn job_of(model: Loaded, fixed_shock: Option<f64>) -> Job {
    let mut job = Job::from_loaded(model);
    match &mut job {
        Job::Single(engine) => engine.fixed_shock = fixed_shock,
        Job::Portfolio(engine) => engine.fixed_shock = fixed_shock,
    }
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_its_proportions_inside_and_outside_the_costly_states() {
        let mut m = StochasticMatrix::new(3, vec![0.6, 0.3, 0.1, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], None).unwrap();
        with_share(&mut m, 0, &[false, true, true], 0.8);
        let row = m.row(0);
        assert!((row[0] - 0.2).abs() < 1e-12);
        assert!((row[1] / row[2] - 3.0).abs() < 1e-9);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
