//! What a run prints in the terminal: a few lines a person reads first, in
//! units (money with its currency, rates in %); the files hold everything.

use super::format;
use crate::model::names::{self, Unit};
use crate::stats::RunSummary;

/// What an event means, in words (a contract's event as its own).
pub fn meaning(event: &str) -> &'static str {
    let inner = names::split_contract(event).map_or(event, |(_, inner)| inner);
    match inner {
        names::INVESTOR_LOSS => "the investors get back less than they put in",
        names::NET_LOSS => "the payer ends worse off than without the contract",
        names::PAID_WITHOUT_IMPACT => "the payer pays for impact that did not happen",
        names::OVERCOMMITTED => "the fund calls more than its committed capital",
        names::IRR_UNDEFINED => "the investors' cash flows have no single IRR",
        names::TERMINATED => "a review terminates the contract",
        names::ENROLMENT_STOPPED => "a review stops enrolment",
        other if other.starts_with("tranche.") && other.ends_with(".loss") => {
            "this tranche gets back less than it put in"
        }
        _ => "",
    }
}

/// `mean ± se` in the statistic's unit.
fn mean_se(mean: f64, se: f64, unit: Unit, currency: &str) -> String {
    let (mean, se) = format::mean_and_se(mean, se, unit, currency);
    format!("{mean} ± {se}")
}

/// The headline table of a run in units, the exact expectation at central
/// parameters, the headline probabilities in words, and for a portfolio one
/// line per contract.
pub fn headline(report: &RunSummary, currency: &str) -> String {
    let mut out = format!(
        "  {:<24} {:>28} {:>14} {:>14} {:>14}\n",
        "statistic", "mean ± se", "p05", "p50", "p95"
    );
    for name in names::HEADLINE_STATISTICS.iter().chain(&names::CONTRACT_STATISTICS) {
        if let Some(s) = report.statistic(name) {
            let unit = names::unit(name);
            let cell = |x: f64| format::value(x, unit, currency);
            out.push_str(&format!(
                "  {name:<24} {:>28} {:>14} {:>14} {:>14}\n",
                mean_se(s.mean, s.se, unit, currency),
                cell(s.p05),
                cell(s.p50),
                cell(s.p95),
            ));
        }
    }
    if let Some((_, v)) = report.expected.iter().find(|(n, _)| n == names::TRUE_SAVINGS) {
        out.push_str(&format!(
            "  exact expected true savings at central parameters (no parameter draws): {}\n",
            format::money(*v, currency)
        ));
    }
    for name in names::HEADLINE_EVENTS.iter().chain(&names::CONTRACT_EVENTS) {
        if let Some(p) = report.probability(name) {
            let (probability, se) = format::percent_and_se(p.p, p.se);
            out.push_str(&format!("  P({name}) = {probability} ± {se}: {}\n", meaning(name)));
        }
    }
    out.push_str(&contracts(report, currency));
    out
}

/// For a portfolio: one line per contract (IRR quantiles, loss, multiple,
/// net savings, paid without impact); empty for a single contract.
pub fn contracts(report: &RunSummary, currency: &str) -> String {
    let contracts = super::contracts::rows(report, currency);
    if contracts.is_empty() {
        return String::new();
    }
    let width = contracts.iter().map(|r| r[0].chars().count()).max().unwrap_or(8).max(8);
    let mut out = format!(
        "\n  {:<width$} {:>9} {:>9} {:>9} {:>9} {:>9} {:>16} {:>12}\n",
        "contract", "IRR p05", "IRR p50", "IRR p95", "P(loss)", "multiple", "net savings", "P(unearned)"
    );
    for [c, p05, p50, p95, loss, multiple, net, unearned] in &contracts {
        out.push_str(&format!(
            "  {c:<width$} {p05:>9} {p50:>9} {p95:>9} {loss:>9} {multiple:>9} {net:>16} {unearned:>12}\n"
        ));
    }
    out.push_str("  (multiple and net savings are means; P(unearned) = P(paid without impact))\n");
    out
}
