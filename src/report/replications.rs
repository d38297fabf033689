//! `replications.csv` (on request): one row per replication.

use super::csv::write_rows;
use super::{Exporter, RunOutput};
use crate::sim::record::RunResults;

/// Writes `replications.csv`.
pub struct Replications;

impl Exporter for Replications {
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
        run.results
            .map(|results| ("replications.csv".to_string(), replications_csv(results).into_bytes()))
            .into_iter()
            .collect()
    }
}

/// `replications.csv`: one row per replication, its index, every statistic
/// and every event (0/1).
pub fn replications_csv(results: &RunResults) -> String {
    let header =
        std::iter::once("replication".to_string()).chain(results.names.iter().chain(&results.event_names).cloned());
    let header: Vec<String> = header.collect();
    let rows = (0..results.replications() as usize).map(|r| {
        let mut row = vec![(results.first + r as u64).to_string()];
        row.extend(results.columns.iter().map(|column| column[r].to_string()));
        row.extend(
            results
                .events
                .iter()
                .map(|column| if column[r] { "1" } else { "0" }.to_string()),
        );
        row
    });
    write_rows(std::iter::once(header).chain(rows))
}
