//! Second-order uncertainty: one replication's parameters, drawn before its
//! trajectories, each kind from its own keyed stream (so switching one kind
//! on never moves another kind's draws, nor the children's uniforms).

use super::rng::{stream_for, Purpose};
use crate::model::{InterventionArm, Scenario, Shock, StochasticMatrix, Transitions};
use rand::Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};

/// A Dirichlet draw with parameters `alphas` (zeros stay zero); `None` when
/// every gamma variate underflows.
fn dirichlet<R: Rng>(rng: &mut R, alphas: &[f64], out: &mut [f64]) -> bool {
    let mut sum = 0.0;
    for (o, &a) in out.iter_mut().zip(alphas) {
        *o = match Gamma::new(a, 1.0) {
            Ok(g) if a > 0.0 => g.sample(rng),
            _ => 0.0,
        };
        sum += *o;
    }
    if sum > 0.0 && sum.is_finite() {
        out.iter_mut().for_each(|o| *o /= sum);
        true
    } else {
        false
    }
}

fn draw_matrix<R: Rng>(rng: &mut R, matrix: &mut StochasticMatrix, concentration: Option<f64>, absorbing: &[bool]) {
    let n = matrix.n();
    let mut alphas = vec![0.0; n];
    let mut row = vec![0.0; n];
    for i in 0..n {
        if absorbing[i] {
            continue;
        }
        match (matrix.counts(), concentration) {
            (Some((counts, prior)), _) => {
                for (a, count) in alphas.iter_mut().zip(&counts[i * n..(i + 1) * n]) {
                    *a = count + prior;
                }
            }
            (None, Some(c)) => {
                for (a, p) in alphas.iter_mut().zip(matrix.row(i)) {
                    *a = c * p;
                }
            }
            (None, None) => continue,
        }
        // A draw that is not a distribution (all-zero underflow) keeps the
        // central row, as a failed draw does.
        if dirichlet(rng, &alphas, &mut row) {
            let _ = matrix.set_row(i, &row);
        }
    }
}

fn draw_transitions<R: Rng>(
    rng: &mut R,
    transitions: &mut Transitions,
    concentration: Option<f64>,
    absorbing: &[bool],
) {
    draw_matrix(rng, &mut transitions.default, concentration, absorbing);
    for band in &mut transitions.bands {
        draw_matrix(rng, &mut band.matrix, concentration, absorbing);
    }
}

/// The scenario with one replication's drawn parameters (the central
/// scenario when it has no `[uncertainty]`).
pub fn draw(central: &Scenario, seed: u64, contract: u64, replication: u64) -> Scenario {
    let mut s = central.clone();
    let Some(u) = central.uncertainty.clone() else {
        return s;
    };
    let absorbing: Vec<bool> = s.states.iter().map(|x| x.absorbing).collect();
    let mut rng = stream_for(seed, contract, replication, Purpose::Parameters);
    // Under risk multipliers the draws act on the population's rows, and the
    // group's baseline is derived from them afterwards.
    draw_transitions(&mut rng, s.population_mut(), u.transition_concentration, &absorbing);
    if let InterventionArm::Transitions(t) = &mut s.intervention.arm {
        draw_transitions(&mut rng, t, u.transition_concentration, &absorbing);
    }
    if let Some(posterior) = &u.baseline_posterior {
        // One draw of the fitted posterior replaces its rows (after, and
        // instead of, their Dirichlet draw).
        let mut rng = stream_for(seed, contract, replication, Purpose::Posterior);
        let k = rng.random_range(0..posterior.draws.max(1));
        let n = s.states.len();
        let population = s.population_mut();
        for row in &posterior.rows {
            let matrix = match row.band {
                Some(b) => &mut population.bands[b].matrix,
                None => &mut population.default,
            };
            // Checked at load; a row that failed would keep its value.
            let _ = matrix.set_row(row.from, &row.values[k * n..(k + 1) * n]);
        }
    }
    if let Some(risk) = &mut s.baseline_risk {
        if u.risk_sd_log > 0.0 {
            let mut rng = stream_for(seed, contract, replication, Purpose::Risk);
            for m in &mut risk.multipliers {
                let z: f64 = StandardNormal.sample(&mut rng);
                m.relative_risk *= (u.risk_sd_log * z).exp();
            }
        }
        s.baseline = risk.transitions();
    }
    if u.effect_sd_log > 0.0 {
        let mut rng = stream_for(seed, contract, replication, Purpose::Effects);
        if let InterventionArm::Effects(effects) = &mut s.intervention.arm {
            for e in effects {
                let z: f64 = StandardNormal.sample(&mut rng);
                e.relative_risk *= (u.effect_sd_log * z).exp();
            }
        }
    }
    if u.cost_cv > 0.0 {
        let mut rng = stream_for(seed, contract, replication, Purpose::Costs);
        let shape = 1.0 / (u.cost_cv * u.cost_cv);
        for state in &mut s.states {
            let g: f64 = match Gamma::new(shape, state.cost / shape) {
                Ok(g) if state.cost > 0.0 => g.sample(&mut rng),
                _ => state.cost,
            };
            state.cost = g;
        }
    }
    s
}

/// One replication's shock path z_0 … z_{horizon−1}: stationary AR(1) with
/// standard deviation `sd` and autocorrelation ρ. Keyed by (seed,
/// replication) only, so every contract of a portfolio sees the same path.
pub fn shock_path(shock: &Shock, horizon: usize, seed: u64, replication: u64) -> Vec<f64> {
    let mut rng = stream_for(seed, 0, replication, Purpose::Shock);
    let rho = shock.autocorrelation;
    let innovation = shock.sd * (1.0 - rho * rho).sqrt();
    let mut path = Vec::with_capacity(horizon);
    let mut z = 0.0;
    for t in 0..horizon {
        let e: f64 = StandardNormal.sample(&mut rng);
        z = if t == 0 { shock.sd * e } else { rho * z + innovation * e };
        path.push(z);
    }
    path
}
