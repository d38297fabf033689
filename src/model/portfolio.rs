//! A checked portfolio: several contracts, each from its own file, pooled in
//! one fund (built only by the scenario stage).

use super::fund::Fund;
use super::{RunDefaults, Scenario, Shock};

/// A checked portfolio.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Portfolio {
    /// `[a-z0-9_-]+`.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The currency of every amount (every contract's must match).
    pub currency: String,
    /// The portfolio file.
    pub source: String,
    /// Digest of the portfolio text and its contracts'.
    pub digest: u64,
    /// Default replications and seed.
    pub run: RunDefaults,
    /// The contracts, in file order.
    pub contracts: Vec<Scenario>,
    /// Cycle at which each contract starts, counted from the earliest.
    pub offsets: Vec<usize>,
    /// Calendar label of the pooled cycle 0.
    pub start_year: f64,
    /// Years per cycle (the same for every contract).
    pub cycle_years: f64,
    /// The pooled fund.
    pub fund: Fund,
    /// Discount rate for the pooled investor NPV.
    pub investor_rate: f64,
    /// The shared shock (sd, autocorrelation); targets are each contract's.
    pub shock: Option<Shock>,
}
