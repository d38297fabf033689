//! The summary of a run: every number computed from its replications (a
//! summary per statistic, probabilities, expected shortfall, cash-flow path
//! quantiles, the payment correlation of a portfolio's contracts).

use super::accumulate::{Accumulator, Comoments};
use super::summary::{expected_shortfall, Probability, Summary};
use crate::model::names;
use crate::sim::record::RunResults;

/// A run's summary: what every output format shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Scenario name.
    pub scenario: String,
    /// Number of replications.
    pub replications: u64,
    /// Master seed.
    pub seed: u64,
    /// `(name, summary)` in a fixed order; `None` when no replication defined it.
    pub statistics: Vec<(String, Option<Summary>)>,
    /// `(name, probability)`.
    pub probabilities: Vec<(String, Probability)>,
    /// Exact expectations from the central parameters.
    pub expected: Vec<(String, f64)>,
    /// `(name, mean of the worst 5 %)` for the tail statistics.
    pub expected_shortfall: Vec<(String, Option<f64>)>,
    /// Per cycle: (calendar year at the cycle's end, investor quantiles, payer quantiles).
    pub cashflows: Vec<(f64, [f64; 5], [f64; 5])>,
    /// For portfolios: contract names and the correlation matrix of their payments.
    pub payment_correlation: Option<(Vec<String>, Vec<Vec<f64>>)>,
}

/// Pearson correlation from exact co-moments (NaN when either side does
/// not vary); pairs with a NaN are left out.
pub fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let mut comoments = Comoments::default();
    x.iter().zip(y).for_each(|(&a, &b)| comoments.add(a, b));
    comoments.correlation()
}

fn payment_correlation(results: &RunResults) -> Option<(Vec<String>, Vec<Vec<f64>>)> {
    let columns: Vec<(String, &Vec<f64>)> = results
        .names
        .iter()
        .zip(&results.columns)
        .filter_map(|(n, c)| {
            names::split_contract(n)
                .filter(|(_, inner)| *inner == names::PAYMENTS)
                .map(|(name, _)| (name.to_string(), c))
        })
        .collect();
    if columns.len() < 2 {
        return None;
    }
    let matrix = columns
        .iter()
        .map(|(_, a)| columns.iter().map(|(_, b)| correlation(a, b)).collect())
        .collect();
    Some((columns.into_iter().map(|(n, _)| n).collect(), matrix))
}

/// Quantile levels of cash-flow paths.
pub const PATH_QUANTILES: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

impl RunSummary {
    /// Summarises a run.
    pub fn new(results: &RunResults, expected: &[(String, f64)]) -> RunSummary {
        RunSummary {
            scenario: results.scenario.clone(),
            replications: results.replications(),
            seed: results.seed,
            statistics: results
                .names
                .iter()
                .zip(&results.columns)
                .map(|(n, c)| (n.clone(), Summary::of(c)))
                .collect(),
            probabilities: results
                .event_names
                .iter()
                .zip(&results.events)
                .map(|(n, e)| {
                    (
                        n.clone(),
                        Probability::of(e.iter().filter(|&&x| x).count() as u64, e.len() as u64),
                    )
                })
                .collect(),
            expected: expected.to_vec(),
            expected_shortfall: names::SHORTFALL_STATISTICS
                .iter()
                .map(|&n| {
                    (
                        n.to_string(),
                        results.column(n).and_then(|c| expected_shortfall(c, 0.05)),
                    )
                })
                .collect(),
            payment_correlation: payment_correlation(results),
            cashflows: (0..results.investor_paths.len())
                .map(|t| {
                    let quantiles = |paths: &[Vec<f64>]| {
                        let mut accumulator = Accumulator::new();
                        paths[t].iter().for_each(|&v| accumulator.add(v));
                        PATH_QUANTILES.map(|p| accumulator.quantile(p))
                    };
                    (
                        results.year_end(t),
                        quantiles(&results.investor_paths),
                        quantiles(&results.payer_paths),
                    )
                })
                .collect(),
        }
    }

    /// A probability by name.
    pub fn probability(&self, name: &str) -> Option<&Probability> {
        self.probabilities.iter().find(|(n, _)| n == name).map(|(_, p)| p)
    }

    /// A statistic's summary by name.
    pub fn statistic(&self, name: &str) -> Option<&Summary> {
        self.statistics
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, s)| s.as_ref())
    }
}
