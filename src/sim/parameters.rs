//! Second-order uncertainty: one replication's parameters, drawn before its
//! trajectories, each kind from its own keyed stream (so switching one kind
//! on never moves another kind's draws, nor the children's uniforms).

use super::rng::{stream_for, Purpose};
use crate::model::{InterventionArm, Scenario, Shock, State, StochasticMatrix, Transitions};
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

/// Buffers a replication's parameter draws reuse, so that a redraw
/// allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct DrawBuffers {
    alphas: Vec<f64>,
    row: Vec<f64>,
}

fn draw_matrix<R: Rng>(
    rng: &mut R,
    matrix: &mut StochasticMatrix,
    concentration: Option<f64>,
    states: &[State],
    buffers: &mut DrawBuffers,
) {
    let n = matrix.n();
    let DrawBuffers { alphas, row } = buffers;
    alphas.clear();
    alphas.resize(n, 0.0);
    row.clear();
    row.resize(n, 0.0);
    for i in 0..n {
        if states.get(i).is_none_or(|s| s.absorbing) {
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
        if dirichlet(rng, alphas, row) {
            let _ = matrix.set_row(i, row);
        }
    }
}

fn draw_transitions<R: Rng>(
    rng: &mut R,
    transitions: &mut Transitions,
    concentration: Option<f64>,
    states: &[State],
    buffers: &mut DrawBuffers,
) {
    draw_matrix(rng, &mut transitions.default, concentration, states, buffers);
    for band in &mut transitions.bands {
        draw_matrix(rng, &mut band.matrix, concentration, states, buffers);
    }
}

/// The scenario with one replication's drawn parameters (the central
/// scenario when it has no `[uncertainty]`).
pub fn draw(central: &Scenario, seed: u64, contract: u64, replication: u64) -> Scenario {
    let mut s = central.clone();
    redraw(
        central,
        &mut s,
        seed,
        contract,
        replication,
        &mut DrawBuffers::default(),
    );
    s
}

/// Sets in `drawn` every value [`draw`] draws back to `central`'s, keeping
/// `drawn`'s buffers when it has `central`'s structure (a clone of it).
fn restore(central: &Scenario, drawn: &mut Scenario) {
    drawn.population_mut().copy_probabilities_from(central.population());
    match (&mut drawn.intervention.arm, &central.intervention.arm) {
        (InterventionArm::Transitions(d), InterventionArm::Transitions(c)) => d.copy_probabilities_from(c),
        (InterventionArm::Effects(d), InterventionArm::Effects(c)) if d.len() == c.len() => {
            for (d, c) in d.iter_mut().zip(c) {
                d.relative_risk = c.relative_risk;
            }
        }
        (d, c) => d.clone_from(c),
    }
    match (&mut drawn.baseline_risk, &central.baseline_risk) {
        (Some(d), Some(c)) if d.multipliers.len() == c.multipliers.len() => {
            for (d, c) in d.multipliers.iter_mut().zip(&c.multipliers) {
                d.relative_risk = c.relative_risk;
            }
        }
        (d, c) => d.clone_from(c),
    }
    if drawn.states.len() != central.states.len() {
        drawn.states.clone_from(&central.states);
    }
    for (d, c) in drawn.states.iter_mut().zip(&central.states) {
        d.cost = c.cost;
    }
}

/// Writes one replication's drawn parameters into `drawn`, a scenario of
/// `central`'s structure (a clone of it, or an earlier replication's draw):
/// the same values [`draw`] returns, bit for bit, and no allocation once
/// `buffers` have their size.
pub fn redraw(
    central: &Scenario,
    drawn: &mut Scenario,
    seed: u64,
    contract: u64,
    replication: u64,
    buffers: &mut DrawBuffers,
) {
    restore(central, drawn);
    let Some(u) = central.uncertainty.as_ref() else {
        return;
    };
    let states = &central.states;
    let mut rng = stream_for(seed, contract, replication, Purpose::Parameters);
    // Under risk multipliers the draws act on the population's rows, and the
    // group's baseline is derived from them afterwards.
    draw_transitions(
        &mut rng,
        drawn.population_mut(),
        u.transition_concentration,
        states,
        buffers,
    );
    if let InterventionArm::Transitions(t) = &mut drawn.intervention.arm {
        draw_transitions(&mut rng, t, u.transition_concentration, states, buffers);
    }
    if let Some(posterior) = &u.baseline_posterior {
        // One draw of the fitted posterior replaces its rows (after, and
        // instead of, their Dirichlet draw).
        let mut rng = stream_for(seed, contract, replication, Purpose::Posterior);
        let k = rng.random_range(0..posterior.draws.max(1));
        let n = states.len();
        let population = drawn.population_mut();
        for (row, values) in posterior.rows.iter().zip(posterior.draw(k).chunks_exact(n)) {
            let matrix = match row.band {
                Some(b) => &mut population.bands[b].matrix,
                None => &mut population.default,
            };
            // Checked at load; a row that failed would keep its value.
            let _ = matrix.set_row(row.from, values);
        }
    }
    if let Some(risk) = &mut drawn.baseline_risk {
        if u.risk_sd_log > 0.0 {
            let mut rng = stream_for(seed, contract, replication, Purpose::Risk);
            for m in &mut risk.multipliers {
                let z: f64 = StandardNormal.sample(&mut rng);
                m.relative_risk *= (u.risk_sd_log * z).exp();
            }
        }
        risk.transitions_into(&mut drawn.baseline);
    }
    if u.effect_sd_log > 0.0 {
        let mut rng = stream_for(seed, contract, replication, Purpose::Effects);
        if let InterventionArm::Effects(effects) = &mut drawn.intervention.arm {
            for e in effects {
                let z: f64 = StandardNormal.sample(&mut rng);
                e.relative_risk *= (u.effect_sd_log * z).exp();
            }
        }
    }
    if u.cost_cv > 0.0 {
        let mut rng = stream_for(seed, contract, replication, Purpose::Costs);
        let shape = 1.0 / (u.cost_cv * u.cost_cv);
        for state in &mut drawn.states {
            let g: f64 = match Gamma::new(shape, state.cost / shape) {
                Ok(g) if state.cost > 0.0 => g.sample(&mut rng),
                _ => state.cost,
            };
            state.cost = g;
        }
    }
}

/// Where a replication's shock path comes from.
#[derive(Debug, Clone, Copy)]
pub enum ShockPath<'a> {
    /// No shock.
    None,
    /// A portfolio's path, shared by its contracts.
    Shared(&'a [f64]),
    /// One level every cycle (a one-way sensitivity).
    Fixed(f64),
    /// A shock's path, drawn ([`shock_path`]).
    Drawn(&'a Shock),
}

impl ShockPath<'_> {
    /// Writes replication `replication`'s path over `horizon` cycles into
    /// `path`, keeping its buffer; whether there is a shock.
    pub fn fill(self, horizon: usize, seed: u64, replication: u64, path: &mut Vec<f64>) -> bool {
        match self {
            ShockPath::None => return false,
            ShockPath::Shared(shared) => {
                path.clear();
                path.extend_from_slice(shared);
            }
            ShockPath::Fixed(level) => {
                path.clear();
                path.resize(horizon, level);
            }
            ShockPath::Drawn(shock) => shock_path_into(shock, horizon, seed, replication, path),
        }
        true
    }
}

/// One replication's shock path z_0 … z_{horizon−1}: stationary AR(1) with
/// standard deviation `sd` and autocorrelation ρ. Keyed by (seed,
/// replication) only, so every contract of a portfolio sees the same path.
pub fn shock_path(shock: &Shock, horizon: usize, seed: u64, replication: u64) -> Vec<f64> {
    let mut path = Vec::with_capacity(horizon);
    shock_path_into(shock, horizon, seed, replication, &mut path);
    path
}

/// [`shock_path`] written into `path` (cleared first), reusing its buffer.
pub fn shock_path_into(shock: &Shock, horizon: usize, seed: u64, replication: u64, path: &mut Vec<f64>) {
    let mut rng = stream_for(seed, 0, replication, Purpose::Shock);
    let rho = shock.autocorrelation;
    let innovation = shock.sd * (1.0 - rho * rho).sqrt();
    path.clear();
    let mut z = 0.0;
    for t in 0..horizon {
        let e: f64 = StandardNormal.sample(&mut rng);
        z = if t == 0 { shock.sd * e } else { rho * z + innovation * e };
        path.push(z);
    }
}
