//! `cashflows.csv`: per cycle, quantiles of the cumulative cash flows of
//! the investors and of the payer.

use super::csv::write_rows;
use super::{Exporter, RunOutput};
use crate::stats::RunSummary;

/// Writes `cashflows.csv`.
pub struct Cashflows;

impl Exporter for Cashflows {
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
        vec![("cashflows.csv".to_string(), cashflows_csv(run.summary).into_bytes())]
    }
}

/// `cashflows.csv`: per cycle, quantiles of cumulative cash flows.
pub fn cashflows_csv(summary: &RunSummary) -> String {
    let mut header = vec!["cycle".to_string(), "year_end".to_string()];
    for who in ["investor", "payer"] {
        for p in ["p05", "p25", "p50", "p75", "p95"] {
            header.push(format!("{who}_{p}"));
        }
    }
    let rows = summary
        .cashflows
        .iter()
        .enumerate()
        .map(|(t, (year, investor, payer))| {
            let mut row = vec![t.to_string(), year.to_string()];
            row.extend(investor.iter().chain(payer).map(|v| v.to_string()));
            row
        });
    write_rows(std::iter::once(header).chain(rows))
}
