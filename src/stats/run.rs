//! The summary of a run: every number computed from its replications (a
//! summary per statistic, probabilities, expected shortfall, cash-flow path
//! quantiles, the payment correlation of a portfolio's contracts).

use super::accumulate::{Accumulator, Comoments};
use super::state::RunState;
use super::summary::{Probability, Summary};
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

/// Quantile levels of cash-flow paths.
pub const PATH_QUANTILES: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

impl RunSummary {
    /// Summarises a run.
    pub fn new(results: &RunResults, expected: &[(String, f64)]) -> RunSummary {
        RunSummary::from_state(&RunState::of(results), expected)
    }

    /// Summarises a run's state (a whole run, or merged shards).
    pub fn from_state(state: &RunState, expected: &[(String, f64)]) -> RunSummary {
        let fan = |paths: &Accumulator| PATH_QUANTILES.map(|p| paths.quantile(p));
        RunSummary {
            scenario: state.scenario.clone(),
            replications: state.replications,
            seed: state.seed,
            statistics: state
                .names
                .iter()
                .zip(&state.statistics)
                .map(|(n, a)| (n.clone(), a.summary()))
                .collect(),
            probabilities: state
                .event_names
                .iter()
                .zip(&state.events)
                .map(|(n, &k)| (n.clone(), Probability::of(k, state.replications)))
                .collect(),
            expected: expected.to_vec(),
            expected_shortfall: names::SHORTFALL_STATISTICS
                .iter()
                .map(|&n| (n.to_string(), state.statistic(n).and_then(|a| a.shortfall(0.05))))
                .collect(),
            payment_correlation: state.payment_correlation(),
            cashflows: state
                .investor_paths
                .iter()
                .zip(&state.payer_paths)
                .enumerate()
                .map(|(t, (investor, payer))| (state.year_end(t), fan(investor), fan(payer)))
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
