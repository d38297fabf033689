//! Bayesian calibration of a baseline to published aggregate targets.
//!
//! **Parameters.** Every row of the baseline (its default matrix and each
//! band) that is not absorbing and has at least two non-zero entries is
//! free; its zero entries stay zero (a move the file rules out stays ruled
//! out) and absorbing rows stay as written.
//!
//! **Prior.** Each free row is Dirichlet: around the file's row with total
//! weight `concentration` (α = concentration × row), or, for a row given as
//! observed `counts`, α = counts + prior (what the register says).
//!
//! **Likelihood.** Independent normals: each target's exact value under the
//! drawn baseline ([`crate::model::targets::predict`]) against the
//! published value with its se.
//!
//! **Sampler.** Adaptive random-walk Metropolis (Haario, Saksman and
//! Tamminen 2001) on each row's additive log-ratios, whose Jacobian turns
//! the Dirichlet density into Π p^α. Why this one: the forward model is
//! exact and costs microseconds, so a long single chain is cheap; the
//! parameters are a few dozen, where an adapted Gaussian proposal mixes
//! well; and one chain on one keyed stream is reproducible bit for bit
//! from the seed. IMIS or SMC would pay off with an expensive simulator,
//! which this is not. The proposal covariance adapts during burn-in only
//! (so the kept chain is a proper Markov chain); the kept draws are
//! thinned, and the effective sample size is Geyer's initial positive
//! sequence estimate, the smallest over parameters.

use crate::model::targets::{predict, AggregateTarget};
use crate::model::Scenario;
use crate::sim::rng::{stream, Purpose};
use rand::Rng;
use rand_distr::StandardNormal;

/// How to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Draws kept.
    pub draws: usize,
    /// Seed of the sampler's stream.
    pub seed: u64,
    /// Prior weight of a row given as probabilities.
    pub concentration: f64,
    /// Iterations between kept draws.
    pub thin: usize,
    /// Iterations before the first kept draw (the proposal adapts during them).
    pub burn_in: usize,
}

impl FitOptions {
    /// The defaults for `draws` draws: prior weight 50; burn-in and
    /// thinning chosen per parameter count by [`FitOptions::for_parameters`].
    pub fn new(draws: usize, seed: u64) -> FitOptions {
        FitOptions {
            draws,
            seed,
            concentration: 50.0,
            thin: 0,
            burn_in: 0,
        }
    }

    /// Burn-in and thinning for `d` parameters where not set: a random walk
    /// needs of the order of d iterations to forget where it was, so keep
    /// every max(20, 10 d)-th and adapt for max(5,000, 300 d).
    pub fn for_parameters(mut self, d: usize) -> FitOptions {
        if self.thin == 0 {
            self.thin = (10 * d).max(20);
        }
        if self.burn_in == 0 {
            self.burn_in = (300 * d).max(5000);
        }
        self
    }
}

/// One row the fit moves.
#[derive(Debug, Clone, PartialEq)]
pub struct FreeRow {
    /// The band (None: the default matrix).
    pub band: Option<usize>,
    /// The row (from-state).
    pub row: usize,
    /// Its non-zero columns, the ones that move.
    pub columns: Vec<usize>,
    /// The Dirichlet prior over those columns.
    pub alpha: Vec<f64>,
}

/// The posterior sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    /// The rows that move.
    pub rows: Vec<FreeRow>,
    /// Kept draws: each the probabilities of every free row's columns, row after row.
    pub draws: Vec<Vec<f64>>,
    /// Each kept draw's value of every target.
    pub predicted: Vec<Vec<f64>>,
    /// Share of proposals accepted after burn-in.
    pub acceptance: f64,
    /// The smallest effective sample size over parameters.
    pub ess: f64,
}

/// The free rows of a scenario's baseline, with their priors.
pub fn free_rows(scenario: &Scenario, concentration: f64) -> Vec<FreeRow> {
    let baseline = &scenario.baseline;
    let matrices = std::iter::once((None, &baseline.default)).chain(
        baseline
            .bands
            .iter()
            .enumerate()
            .map(|(b, band)| (Some(b), &band.matrix)),
    );
    let mut rows = Vec::new();
    for (band, matrix) in matrices {
        let n = matrix.n();
        for row in (0..n).filter(|&r| !scenario.states[r].absorbing) {
            let p = matrix.row(row);
            let columns: Vec<usize> = (0..n).filter(|&j| p[j] > 0.0).collect();
            if columns.len() < 2 {
                continue;
            }
            let alpha = match matrix.counts() {
                Some((counts, prior)) => columns.iter().map(|&j| counts[row * n + j] + prior).collect(),
                None => columns.iter().map(|&j| concentration * p[j]).collect(),
            };
            rows.push(FreeRow {
                band,
                row,
                columns,
                alpha,
            });
        }
    }
    rows
}

/// `scenario` with the free rows set to `theta` (as in [`Posterior::draws`]).
pub fn with_rows(scenario: &Scenario, rows: &[FreeRow], theta: &[f64]) -> Scenario {
    let mut s = scenario.clone();
    set_rows(&mut s, rows, theta);
    s
}

/// Sets the free rows of `scenario` to `theta`, in place.
fn set_rows(scenario: &mut Scenario, rows: &[FreeRow], theta: &[f64]) {
    let mut k = 0;
    for r in rows {
        let matrix = match r.band {
            Some(b) => &mut scenario.baseline.bands[b].matrix,
            None => &mut scenario.baseline.default,
        };
        let mut full = vec![0.0; matrix.n()];
        for &j in &r.columns {
            full[j] = theta[k];
            k += 1;
        }
        // A draw is a distribution by construction; a refused row keeps the file's.
        let _ = matrix.set_row(r.row, &full);
    }
}

/// Probabilities from additive log-ratios (the last column is the reference).
fn simplex(y: &[f64], out: &mut Vec<f64>) {
    let top = y.iter().copied().fold(0.0f64, f64::max);
    let weights: Vec<f64> = y
        .iter()
        .map(|v| (v - top).exp())
        .chain(std::iter::once((-top).exp()))
        .collect();
    let total: f64 = weights.iter().sum();
    out.extend(weights.iter().map(|w| w / total));
}

/// Log-ratios of a row's probabilities.
fn log_ratios(p: &[f64], out: &mut Vec<f64>) {
    let last = p[p.len() - 1].ln();
    out.extend(p[..p.len() - 1].iter().map(|x| x.ln() - last));
}

struct Model<'a> {
    /// The scenario whose free rows each evaluation overwrites (one copy
    /// for the whole chain, not one per evaluation).
    scratch: Scenario,
    targets: &'a [AggregateTarget],
    rows: &'a [FreeRow],
}

impl Model<'_> {
    /// The probabilities of every free row from the unconstrained vector.
    fn theta(&self, y: &[f64]) -> Vec<f64> {
        let mut theta = Vec::new();
        let mut k = 0;
        for r in self.rows {
            let d = r.columns.len() - 1;
            simplex(&y[k..k + d], &mut theta);
            k += d;
        }
        theta
    }

    /// Log posterior density in the unconstrained space, and the targets'
    /// values; −∞ where the model cannot be evaluated.
    fn log_density(&mut self, y: &[f64]) -> (f64, Vec<f64>) {
        let theta = self.theta(y);
        let mut log = 0.0;
        let mut k = 0;
        for r in self.rows {
            for a in &r.alpha {
                // Dirichlet (α − 1) plus the log-ratio Jacobian (+1).
                log += a * theta[k].max(f64::MIN_POSITIVE).ln();
                k += 1;
            }
        }
        set_rows(&mut self.scratch, self.rows, &theta);
        let predicted = predict(&self.scratch, self.targets);
        for (t, p) in self.targets.iter().zip(&predicted) {
            let z = (p - t.value) / t.se;
            log -= 0.5 * z * z;
        }
        if !log.is_finite() {
            log = f64::NEG_INFINITY;
        }
        (log, predicted)
    }
}

/// Lower-triangular Cholesky factor of a symmetric positive definite
/// matrix (row-major, d × d); None when it is not.
fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut sum = a[i * d + j];
            for k in 0..j {
                sum -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[i * d + i] = sum.sqrt();
            } else {
                l[i * d + j] = sum / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// Geyer's initial positive sequence estimate of the effective sample size.
pub fn effective_sample_size(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return n as f64;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let c0 = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    if c0 <= 0.0 {
        return n as f64;
    }
    let rho = |lag: usize| {
        x[..n - lag]
            .iter()
            .zip(&x[lag..])
            .map(|(a, b)| (a - mean) * (b - mean))
            .sum::<f64>()
            / n as f64
            / c0
    };
    let mut sum = 0.0;
    let mut lag = 0;
    while lag + 1 < n {
        let pair = if lag == 0 {
            1.0 + rho(1)
        } else {
            rho(lag) + rho(lag + 1)
        };
        if pair <= 0.0 {
            break;
        }
        sum += pair;
        lag += 2;
    }
    (n as f64 / (2.0 * sum - 1.0).max(1.0)).min(n as f64)
}

/// Samples the posterior of the baseline's free rows given the targets.
pub fn fit(scenario: &Scenario, targets: &[AggregateTarget], options: &FitOptions) -> Posterior {
    let rows = free_rows(scenario, options.concentration);
    let parameters: usize = rows.iter().map(|r| r.columns.len() - 1).sum();
    let options = &options.for_parameters(parameters);
    let mut model = Model {
        scratch: scenario.clone(),
        targets,
        rows: &rows,
    };
    // Start at the file's baseline.
    let mut y = Vec::new();
    for r in &rows {
        let matrix = match r.band {
            Some(b) => &scenario.baseline.bands[b].matrix,
            None => &scenario.baseline.default,
        };
        let p: Vec<f64> = r.columns.iter().map(|&j| matrix.row(r.row)[j]).collect();
        log_ratios(&p, &mut y);
    }
    let d = y.len();
    let mut rng = stream(options.seed, 0, Purpose::Calibration);
    let (mut current, mut current_predicted) = model.log_density(&y);
    // The chain's running mean and co-moments (Welford), for the proposal.
    let (mut mean, mut comoment, mut seen) = (vec![0.0; d], vec![0.0; d * d], 0usize);
    // Start with a small independent proposal; adapt as the chain runs.
    let mut factor: Vec<f64> = (0..d * d).map(|k| if k % (d + 1) == 0 { 0.1 } else { 0.0 }).collect();
    let scale = 2.38 / (d.max(1) as f64).sqrt();
    let total = options.burn_in + options.draws * options.thin.max(1);
    let (mut accepted, mut proposed) = (0usize, 0usize);
    let mut posterior = Posterior {
        rows: rows.clone(),
        draws: Vec::with_capacity(options.draws),
        predicted: Vec::with_capacity(options.draws),
        acceptance: 0.0,
        ess: 0.0,
    };
    let mut z = vec![0.0; d];
    for iteration in 0..total {
        let burning = iteration < options.burn_in;
        if iteration >= 1000 && iteration.is_multiple_of(500) {
            let mut cov = vec![0.0; d * d];
            for i in 0..d {
                for j in 0..=i {
                    let c = comoment[i * d + j] / (seen - 1) as f64;
                    cov[i * d + j] = c * scale * scale;
                    cov[j * d + i] = c * scale * scale;
                }
                cov[i * d + i] += 1e-8;
            }
            if let Some(l) = cholesky(&cov, d) {
                factor = l;
            }
        }
        for v in z.iter_mut() {
            *v = rng.sample(StandardNormal);
        }
        let proposal: Vec<f64> = (0..d)
            .map(|i| y[i] + (0..=i).map(|k| factor[i * d + k] * z[k]).sum::<f64>())
            .collect();
        let (candidate, candidate_predicted) = model.log_density(&proposal);
        let u: f64 = rng.random();
        let accept = candidate.is_finite() && u.ln() < candidate - current;
        if !burning {
            proposed += 1;
        }
        if accept {
            y = proposal;
            current = candidate;
            current_predicted = candidate_predicted;
            if !burning {
                accepted += 1;
            }
        }
        seen += 1;
        let delta: Vec<f64> = y.iter().zip(&mean).map(|(v, m)| v - m).collect();
        for (m, dv) in mean.iter_mut().zip(&delta) {
            *m += dv / seen as f64;
        }
        for i in 0..d {
            for j in 0..=i {
                comoment[i * d + j] += delta[i] * (y[j] - mean[j]);
            }
        }
        if !burning && (iteration - options.burn_in + 1).is_multiple_of(options.thin.max(1)) {
            posterior.draws.push(model.theta(&y));
            posterior.predicted.push(current_predicted.clone());
        }
    }
    posterior.acceptance = accepted as f64 / proposed.max(1) as f64;
    let parameters = posterior.draws.first().map_or(0, Vec::len);
    posterior.ess = (0..parameters)
        .map(|k| {
            let column: Vec<f64> = posterior.draws.iter().map(|draw| draw[k]).collect();
            effective_sample_size(&column)
        })
        .fold(f64::INFINITY, f64::min);
    if !posterior.ess.is_finite() {
        posterior.ess = posterior.draws.len() as f64;
    }
    posterior
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_ratio_map_round_trips() {
        let p = [0.2, 0.5, 0.3];
        let mut y = Vec::new();
        log_ratios(&p, &mut y);
        let mut back = Vec::new();
        simplex(&y, &mut back);
        for (a, b) in p.iter().zip(&back) {
            assert!((a - b).abs() < 1e-15);
        }
    }

    #[test]
    fn cholesky_reproduces_its_matrix() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let l = cholesky(&a, 2).expect("positive definite");
        assert!((l[0] * l[0] - 4.0).abs() < 1e-12);
        assert!((l[2] * l[0] - 2.0).abs() < 1e-12);
        assert!((l[2] * l[2] + l[3] * l[3] - 3.0).abs() < 1e-12);
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }

    #[test]
    fn independent_draws_have_an_ess_near_their_count() {
        let mut rng = stream(3, 0, Purpose::Calibration);
        let x: Vec<f64> = (0..2000).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
        let ess = effective_sample_size(&x);
        assert!(ess > 1500.0, "{ess}");
        // A slowly moving chain has far fewer.
        let mut walk = Vec::new();
        let mut v = 0.0;
        for _ in 0..2000 {
            v = 0.99 * v + rng.sample::<f64, _>(StandardNormal);
            walk.push(v);
        }
        assert!(effective_sample_size(&walk) < 200.0);
    }
}
