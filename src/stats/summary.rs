//! Summary statistics over replications, with Monte Carlo standard errors.
//!
//! Every summary comes from a fixed-size [`Accumulator`]: mean, sd and se
//! from exact sums, quantiles (Hyndman & Fan type 7, R's default) read from
//! a histogram whose bins are at most 2⁻¹⁰ of their value wide, so a quantile
//! is within 0.1 % of the exact order statistic (and equal to it wherever
//! its bin holds one distinct value). Nothing depends on the order in which
//! replications are added, so results are bitwise the same on any number of
//! threads or shards.

use super::accumulate::Accumulator;
use serde::Serialize;

/// The quantile levels reported, with their names.
pub const QUANTILES: [(&str, f64); 7] = [
    ("p01", 0.01),
    ("p05", 0.05),
    ("p25", 0.25),
    ("p50", 0.50),
    ("p75", 0.75),
    ("p95", 0.95),
    ("p99", 0.99),
];

/// Summary of one statistic over replications.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Sample mean.
    pub mean: f64,
    /// Monte Carlo standard error of the mean, sd / √n.
    pub se: f64,
    /// Sample standard deviation (n − 1 denominator).
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// 1 % quantile.
    pub p01: f64,
    /// 5 % quantile.
    pub p05: f64,
    /// 25 % quantile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75 % quantile.
    pub p75: f64,
    /// 95 % quantile.
    pub p95: f64,
    /// 99 % quantile.
    pub p99: f64,
    /// Number of replications with a defined value.
    pub n: u64,
    /// The largest error of a quantile near zero: a quantile `q` is within
    /// the larger of 2⁻¹⁰·|q| and this of the exact order statistics (the
    /// width of the histogram's linear bins under its floor).
    pub quantile_absolute_error: f64,
}

impl Summary {
    /// Summarises `values`, ignoring NaN (an undefined value, such as an IRR
    /// that does not exist); `None` when no value is defined.
    pub fn of(values: &[f64]) -> Option<Summary> {
        Accumulator::of(values).summary()
    }

    /// The quantile fields in [`QUANTILES`] order.
    pub fn quantiles(&self) -> [f64; 7] {
        [self.p01, self.p05, self.p25, self.p50, self.p75, self.p95, self.p99]
    }
}

/// Type-7 quantile of sorted, NaN-free values.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    type7(sorted.len() as u64, p, |rank| sorted[rank as usize])
}

/// The type-7 quantile of `n` ordered values (n ≥ 1), where `at(k)` is the
/// k-th smallest (0-based): linear between the two order statistics around
/// (n − 1)·p, or the one when they coincide.
pub fn type7(n: u64, p: f64, at: impl Fn(u64) -> f64) -> f64 {
    let h = n.saturating_sub(1) as f64 * p;
    let lo = h.floor() as u64;
    let fraction = h - lo as f64;
    let low = at(lo);
    if fraction == 0.0 {
        return low;
    }
    let high = at((lo + 1).min(n.saturating_sub(1)));
    if low == high {
        low
    } else {
        low + fraction * (high - low)
    }
}

/// A probability estimated from replications, with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Probability {
    /// Share of replications where the event happened.
    pub p: f64,
    /// √(p(1 − p)/n).
    pub se: f64,
}

impl Probability {
    /// From a count of events among `n` replications.
    pub fn of(events: u64, n: u64) -> Probability {
        let p = if n == 0 { 0.0 } else { events as f64 / n as f64 };
        Probability {
            p,
            se: if n == 0 { 0.0 } else { (p * (1.0 - p) / n as f64).sqrt() },
        }
    }
}

/// Mean of the worst `share` of values (expected shortfall of the lower
/// tail), from an [`Accumulator`] (within 0.1 % of the exact mean of the
/// lowest values).
pub fn expected_shortfall(values: &[f64], share: f64) -> Option<f64> {
    Accumulator::of(values).shortfall(share)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_values() {
        let v: Vec<f64> = (1..=5).map(f64::from).collect();
        let s = Summary::of(&v).expect("values");
        assert_eq!(s.mean, 3.0);
        assert!((s.sd - 2.5f64.sqrt()).abs() < 1e-15);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 5.0);
        assert_eq!(s.p50, 3.0);
        assert_eq!(s.p25, 2.0);
        // type 7: h = 4 × 0.05 = 0.2
        assert!((s.p05 - 1.2).abs() < 1e-15);
    }

    #[test]
    fn nan_values_are_left_out() {
        let s = Summary::of(&[f64::NAN, 2.0, 4.0]).expect("values");
        assert_eq!(s.n, 2);
        assert_eq!(s.mean, 3.0);
        assert!(Summary::of(&[f64::NAN]).is_none());
    }

    #[test]
    fn probability_and_shortfall() {
        let p = Probability::of(25, 100);
        assert_eq!(p.p, 0.25);
        assert!((p.se - (0.25f64 * 0.75 / 100.0).sqrt()).abs() < 1e-15);
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(expected_shortfall(&v, 0.05), Some(3.0));
    }
}
