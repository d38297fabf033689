//! One number of a run, named as on the command line: a statistic with its
//! field (`investor.irr.p50`, `payer.net_savings.mean`) or a probability
//! (`payer.net_loss.p`), with its Monte Carlo standard error.

use super::run::RunSummary;
use super::summary::quantile_sorted;
use crate::error::InputError;
use crate::sim::record::RunResults;

/// The fields a statistic can be read at.
pub const FIELDS: [&str; 12] = [
    "mean", "sd", "min", "max", "p01", "p05", "p25", "p50", "p75", "p95", "p99", "p",
];

/// A statistic's field, or a probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The statistic or event name (`payer.net_savings`).
    pub name: String,
    /// The field (`mean`, `p50`, …; `p` for a probability).
    pub field: String,
}

/// A value with its Monte Carlo standard error (NaN where none is known:
/// `sd`, `min`, `max`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The value.
    pub value: f64,
    /// Its standard error.
    pub se: f64,
}

impl Target {
    /// Parses `NAME.FIELD`; `flag` names where it came from in errors.
    ///
    /// # Errors
    /// A field that is not one of [`FIELDS`].
    pub fn parse(text: &str, flag: &str) -> Result<Target, InputError> {
        let bad = || {
            InputError::new(
                flag,
                "",
                format!(
                    "`{text}` is not a statistic with its field; expected NAME.FIELD with FIELD one of {} (e.g. investor.irr.p50, payer.net_savings.mean, payer.net_loss.p)",
                    FIELDS.join(", ")
                ),
            )
        };
        let (name, field) = text.rsplit_once('.').ok_or_else(bad)?;
        if name.is_empty() || !FIELDS.contains(&field) {
            return Err(bad());
        }
        Ok(Target {
            name: name.to_string(),
            field: field.to_string(),
        })
    }

    /// Checks that the run reports this statistic or event.
    ///
    /// # Errors
    /// An unknown name, listing a few that exist.
    pub fn check(&self, results: &RunResults, flag: &str) -> Result<(), InputError> {
        let known = if self.field == "p" {
            results.event_names.contains(&self.name)
        } else {
            results.names.contains(&self.name)
        };
        if known {
            return Ok(());
        }
        let list: Vec<&str> = if self.field == "p" {
            results.event_names.iter().map(String::as_str).collect()
        } else {
            results
                .names
                .iter()
                .map(String::as_str)
                .filter(|n| !n.starts_with("arm."))
                .collect()
        };
        let shown: Vec<&str> = list.iter().copied().take(12).collect();
        Err(InputError::new(
            flag,
            "",
            format!(
                "this run has no {} `{}`; {}: {}{}",
                if self.field == "p" { "event" } else { "statistic" },
                self.name,
                if self.field == "p" { "events" } else { "statistics" },
                shown.join(", "),
                if list.len() > shown.len() { ", …" } else { "" }
            ),
        ))
    }

    /// The value in a finished run (NaN when no replication defines it).
    pub fn evaluate(&self, summary: &RunSummary, results: &RunResults) -> Estimate {
        let missing = Estimate {
            value: f64::NAN,
            se: f64::NAN,
        };
        if self.field == "p" {
            return summary
                .probability(&self.name)
                .map_or(missing, |p| Estimate { value: p.p, se: p.se });
        }
        let Some(s) = summary.statistic(&self.name) else {
            return missing;
        };
        let level = |p: f64| {
            let column = results.column(&self.name).unwrap_or(&[]);
            Estimate {
                value: match self.field.as_str() {
                    "p01" => s.p01,
                    "p05" => s.p05,
                    "p25" => s.p25,
                    "p50" => s.p50,
                    "p75" => s.p75,
                    "p95" => s.p95,
                    _ => s.p99,
                },
                se: quantile_se(column, p),
            }
        };
        let unknown = |value: f64| Estimate { value, se: f64::NAN };
        match self.field.as_str() {
            "mean" => Estimate {
                value: s.mean,
                se: s.se,
            },
            "sd" => unknown(s.sd),
            "min" => unknown(s.min),
            "max" => unknown(s.max),
            field => {
                let p = field[1..].parse::<f64>().unwrap_or(50.0) / 100.0;
                level(p)
            }
        }
    }
}

/// Standard error of the `p` quantile of `values` (NaN ignored), from the
/// distribution-free interval between the order statistics at ranks
/// n·p ± √(n·p·(1 − p)): half its width, as a normal se would be.
pub fn quantile_se(values: &[f64], p: f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.len() < 2 {
        return f64::NAN;
    }
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len() as f64;
    let spread = (n * p * (1.0 - p)).sqrt() / n;
    let low = quantile_sorted(&sorted, (p - spread).max(0.0));
    let high = quantile_sorted(&sorted, (p + spread).min(1.0));
    (high - low) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_last_dot_and_fields_are_checked() {
        let t = Target::parse("contracts.lohja.investor.irr.p50", "--target").unwrap();
        assert_eq!(
            (t.name.as_str(), t.field.as_str()),
            ("contracts.lohja.investor.irr", "p50")
        );
        assert!(Target::parse("investor.irr.median", "--target").is_err());
        assert!(Target::parse("irr", "--target").is_err());
        assert!(Target::parse(".mean", "--target").is_err());
    }

    #[test]
    fn the_quantile_se_shrinks_as_one_over_root_n() {
        let uniform = |n: usize| (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect::<Vec<_>>();
        // For a uniform, the median's se is √(p(1 − p)/n) = 0.5/√n.
        let se = quantile_se(&uniform(10_000), 0.5);
        assert!((se - 0.005).abs() < 1e-4, "{se}");
        assert!(quantile_se(&[1.0], 0.5).is_nan());
    }
}
