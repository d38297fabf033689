//! `summary_long.csv`: every figure of `summary.json` as tidy data, one row
//! each — `contract,statistic,field,value` — for data frames and
//! spreadsheets. `contract` is the contract's name (`pooled` for a
//! portfolio's pooled figures).

use super::csv::write_rows;
use super::{Exporter, RunOutput};
use crate::model::names;
use crate::stats::summary::QUANTILES;
use crate::stats::RunSummary;

/// Writes `summary_long.csv`.
pub struct SummaryLong;

impl Exporter for SummaryLong {
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
        vec![("summary_long.csv".to_string(), summary_long(run.summary).into_bytes())]
    }
}

/// The contract a name belongs to, and the name within it.
fn split<'a>(summary: &'a RunSummary, name: &'a str, portfolio: bool) -> (&'a str, &'a str) {
    match names::split_contract(name) {
        Some((contract, inner)) => (contract, inner),
        None if portfolio => ("pooled", name),
        None => (summary.scenario.as_str(), name),
    }
}

/// The tidy table.
pub fn summary_long(summary: &RunSummary) -> String {
    let portfolio = summary
        .statistics
        .iter()
        .any(|(n, _)| names::split_contract(n).is_some());
    let mut rows = vec![["contract", "statistic", "field", "value"].map(String::from).to_vec()];
    let mut push = |name: &str, field: &str, value: String| {
        let (contract, statistic) = split(summary, name, portfolio);
        rows.push(vec![
            contract.to_string(),
            statistic.to_string(),
            field.to_string(),
            value,
        ]);
    };
    for (name, s) in &summary.statistics {
        let Some(s) = s else {
            push(name, "n", "0".to_string());
            continue;
        };
        for (field, value) in [
            ("mean", s.mean),
            ("se", s.se),
            ("sd", s.sd),
            ("min", s.min),
            ("max", s.max),
        ] {
            push(name, field, value.to_string());
        }
        for ((field, _), value) in QUANTILES.iter().zip(s.quantiles()) {
            push(name, field, value.to_string());
        }
        push(name, "n", s.n.to_string());
    }
    for (name, p) in &summary.probabilities {
        push(name, "p", p.p.to_string());
        push(name, "p_se", p.se.to_string());
    }
    for (name, value) in &summary.expected {
        push(name, "expected", value.to_string());
    }
    for (name, value) in &summary.expected_shortfall {
        if let Some(v) = value {
            push(name, "expected_shortfall_5", v.to_string());
        }
    }
    write_rows(rows)
}
