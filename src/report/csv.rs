//! `summary.csv`: one row per statistic (mean, se, sd, range, quantiles),
//! then one per probability.

use super::{Exporter, RunOutput};
use crate::stats::RunSummary;

/// Writes `summary.csv`.
pub struct SummaryCsv;

impl Exporter for SummaryCsv {
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
        vec![("summary.csv".to_string(), summary_csv(run.summary).into_bytes())]
    }
}

/// `summary.csv`: one row per statistic, then one per probability.
pub fn summary_csv(summary: &RunSummary) -> String {
    let header = [
        "name", "mean", "se", "sd", "min", "max", "p01", "p05", "p25", "p50", "p75", "p95", "p99", "n",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.map(String::from).to_vec()];
    for (name, statistic) in &summary.statistics {
        let mut row = vec![name.clone()];
        match statistic {
            Some(s) => {
                row.extend([s.mean, s.se, s.sd, s.min, s.max].map(|x| x.to_string()));
                row.extend(s.quantiles().map(|x| x.to_string()));
                row.push(s.n.to_string());
            }
            None => {
                row.extend(std::iter::repeat_n(String::new(), 12));
                row.push("0".to_string());
            }
        }
        rows.push(row);
    }
    for (name, p) in &summary.probabilities {
        let mut row = vec![format!("probability.{name}"), p.p.to_string(), p.se.to_string()];
        row.extend(std::iter::repeat_n(String::new(), 10));
        row.push(summary.replications.to_string());
        rows.push(row);
    }
    write_rows(rows)
}

/// Rows as CSV text (quoted where a field needs it), numbers as Rust prints
/// them (shortest text that reads back to the same f64).
pub fn write_rows<I, R>(rows: I) -> String
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing to memory cannot fail.
        let _ = writer.write_record(row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}
