//! Value of information from replications: EVPI of a decision between
//! acting (worth the net benefit NB) and not (worth 0), and EVPPI of one
//! group of inputs by binning NB on a one-number summary of the group's
//! draw (Strong and Oakley's nonparametric regression, with equal-count
//! bins as the smoother). Binning overstates EVPPI a little (noise in the
//! bin means looks like information): the bias is estimated as the EVPPI of
//! random binnings, and the se by a bootstrap, on fixed streams.

use crate::sim::rng::{stream_for, Purpose};
use rand::Rng;

/// Random bin assignments averaged for the bias estimate.
pub const PERMUTATIONS: u64 = 20;
/// Bootstrap resamples for the se.
pub const BOOTSTRAPS: u64 = 50;

/// A value with its standard error and, for EVPPI, its estimated bias.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Worth {
    /// The estimate (money, discounted).
    pub value: f64,
    /// Its Monte Carlo (or bootstrap) standard error.
    pub se: f64,
    /// Estimated upward bias (EVPPI only; 0 for EVPI).
    pub bias: f64,
}

/// EVPI of net benefits, with its se.
pub fn evpi(net: &[f64]) -> Worth {
    let values: Vec<f64> = net.iter().copied().filter(|v| v.is_finite()).collect();
    let n = values.len() as f64;
    if values.is_empty() {
        return Worth {
            value: f64::NAN,
            se: f64::NAN,
            bias: 0.0,
        };
    }
    let mean = values.iter().sum::<f64>() / n;
    // The regret of the decision on average, replication by replication.
    let regret: Vec<f64> = values
        .iter()
        .map(|&v| if mean > 0.0 { (-v).max(0.0) } else { v.max(0.0) })
        .collect();
    let value = regret.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (regret.iter().map(|r| (r - value) * (r - value)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Worth {
        value,
        se: sd / n.sqrt(),
        bias: 0.0,
    }
}

/// EVPPI by binning `net` on `summary` (same length; non-finite pairs left out).
pub fn evppi_binned(net: &[f64], summary: &[f64]) -> f64 {
    let mut pairs: Vec<(f64, f64)> = summary
        .iter()
        .zip(net)
        .filter(|(s, v)| s.is_finite() && v.is_finite())
        .map(|(&s, &v)| (s, v))
        .collect();
    if pairs.is_empty() {
        return f64::NAN;
    }
    // Stable: ties keep replication order.
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = pairs.len();
    let bins = ((n as f64).sqrt().round() as usize).clamp(1, n);
    let mean = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let mut total = 0.0;
    for b in 0..bins {
        let (from, to) = (b * n / bins, (b + 1) * n / bins);
        if to > from {
            let bin_mean = pairs[from..to].iter().map(|p| p.1).sum::<f64>() / (to - from) as f64;
            total += (to - from) as f64 * bin_mean.max(0.0);
        }
    }
    (total / n as f64 - mean.max(0.0)).max(0.0)
}

/// EVPPI with its bias (random summaries) and bootstrap se, on the
/// analysis streams of `seed` numbered by `group`.
pub fn evppi(net: &[f64], summary: &[f64], seed: u64, group: u64) -> Worth {
    let value = evppi_binned(net, summary);
    let n = net.len();
    let mut null_total = 0.0;
    for k in 0..PERMUTATIONS {
        let mut rng = stream_for(seed, group, k, Purpose::Analysis);
        let random: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
        null_total += evppi_binned(net, &random);
    }
    let mut boot = Vec::with_capacity(BOOTSTRAPS as usize);
    for k in 0..BOOTSTRAPS {
        let mut rng = stream_for(seed, group, PERMUTATIONS + k, Purpose::Analysis);
        let picks: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        let resampled_net: Vec<f64> = picks.iter().map(|&i| net[i]).collect();
        let resampled_summary: Vec<f64> = picks.iter().map(|&i| summary[i]).collect();
        boot.push(evppi_binned(&resampled_net, &resampled_summary));
    }
    let mean = boot.iter().sum::<f64>() / boot.len() as f64;
    let se = (boot.iter().map(|b| (b - mean) * (b - mean)).sum::<f64>() / (boot.len() as f64 - 1.0)).sqrt();
    Worth {
        value,
        se,
        bias: null_total / PERMUTATIONS as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evpi_is_zero_when_no_draw_changes_the_decision() {
        assert_eq!(evpi(&[5.0, 1.0, 3.0]).value, 0.0);
        assert_eq!(evpi(&[-5.0, -1.0]).value, 0.0);
    }

    #[test]
    fn evpi_of_two_points_is_the_closed_form() {
        // 10 with probability 0.3, −2 with 0.7: E = 1.6 > 0, so the regret is
        // the 2 lost in 70 % of cases: 1.4 = 0.3·10 − 1.6.
        let net: Vec<f64> = (0..10).map(|i| if i < 3 { 10.0 } else { -2.0 }).collect();
        assert!((evpi(&net).value - 1.4).abs() < 1e-12);
    }

    #[test]
    fn evppi_of_the_whole_cause_is_the_evpi_and_of_noise_is_small() {
        let net: Vec<f64> = (0..400).map(|i| if i % 2 == 0 { 10.0 } else { -8.0 }).collect();
        let cause: Vec<f64> = (0..400).map(|i| (i % 2) as f64).collect();
        let full = evpi(&net).value;
        assert!((evppi_binned(&net, &cause) - full).abs() < 1e-9);
        let noise: Vec<f64> = (0..400).map(|i| ((i * 7919) % 400) as f64).collect();
        assert!(evppi_binned(&net, &noise) < full);
    }
}
