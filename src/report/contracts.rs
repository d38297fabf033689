//! A portfolio's contracts side by side — the same cells in the terminal
//! and in `report.html`.

use super::format;
use crate::model::names::{self, Unit};
use crate::stats::RunSummary;

/// One contract's cells: name, IRR p05, p50, p95, P(investor loss),
/// mean multiple, mean payer net savings, P(paid without impact).
pub type ContractRow = [String; 8];

/// One row per contract of a portfolio, in file order; empty for a single
/// contract.
pub fn rows(report: &RunSummary, currency: &str) -> Vec<ContractRow> {
    let contracts = report
        .statistics
        .iter()
        .filter_map(|(name, _)| match names::split_contract(name) {
            Some((contract, names::IRR)) => Some(contract),
            _ => None,
        });
    contracts
        .map(|c| {
            let statistic = |name: &str| report.statistic(&names::contract(c, name));
            let probability = |name: &str| {
                report
                    .probability(&names::contract(c, name))
                    .map_or("–".to_string(), |p| format::percent(p.p))
            };
            let irr = |get: fn(&crate::stats::Summary) -> f64| {
                statistic(names::IRR).map_or("–".to_string(), |s| format::percent(get(s)))
            };
            [
                c.to_string(),
                irr(|s| s.p05),
                irr(|s| s.p50),
                irr(|s| s.p95),
                probability(names::INVESTOR_LOSS),
                statistic(names::MULTIPLE)
                    .map_or("–".to_string(), |s| format::value(s.mean, Unit::Multiple, currency)),
                statistic(names::NET_SAVINGS).map_or("–".to_string(), |s| format::money(s.mean, currency)),
                probability(names::PAID_WITHOUT_IMPACT),
            ]
        })
        .collect()
}
