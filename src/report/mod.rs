//! Results on disk: every file a run writes, one exporter per format, and
//! the folder written atomically.
//!
//! `stats` owns the numbers; this module owns how they are shown. To add an
//! output format, write a type that implements [`Exporter`] in its own file
//! and add it to [`exporters`].

pub mod cashflows;
pub mod charts;
pub mod contracts;
pub mod csv;
pub mod format;
pub mod html;
pub mod json;
pub mod long;
pub mod page;
pub mod plot;
pub mod replications;
pub mod terminal;
pub mod terms;

use crate::sim::record::RunResults;
use crate::stats::{RunState, RunSummary};
use charts::Picture;

/// The engine version written into every result.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a run is about, for the files people read: its description, key
/// terms, currency and the investors' discount rate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct About {
    /// The scenario's one-line description.
    pub description: String,
    /// The key terms, in words.
    pub terms: Vec<(String, String)>,
    /// The currency of every amount.
    pub currency: String,
    /// The investors' annual discount rate (the IRR histogram marks it).
    pub investor_rate: Option<f64>,
}

/// A finished run as every exporter sees it.
pub struct RunOutput<'a> {
    /// The numbers.
    pub summary: &'a RunSummary,
    /// The run's state (histograms).
    pub state: &'a RunState,
    /// Every replication, when they are kept (`replications.csv`).
    pub results: Option<&'a RunResults>,
    /// The scenario's one-line description.
    pub description: &'a str,
    /// The key terms, in words.
    pub terms: &'a [(String, String)],
    /// The currency of every amount.
    pub currency: &'a str,
    /// The investors' annual discount rate.
    pub investor_rate: Option<f64>,
    /// The pictures, drawn once and shared by the SVG files and the report.
    pub pictures: &'a [Picture],
}

/// One output format: the files it writes for a finished run, as
/// `(file name, bytes)`.
pub trait Exporter {
    /// The files for `run`.
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)>;
}

/// The exporters of a run, in the order their files are listed; with
/// `keep_replications`, also `replications.csv`.
pub fn exporters(keep_replications: bool) -> Vec<Box<dyn Exporter>> {
    let mut all: Vec<Box<dyn Exporter>> = vec![
        Box::new(json::SummaryJson),
        Box::new(csv::SummaryCsv),
        Box::new(long::SummaryLong),
        Box::new(cashflows::Cashflows),
        Box::new(charts::Charts),
        Box::new(html::Html),
    ];
    if keep_replications {
        all.push(Box::new(replications::Replications));
    }
    all
}

/// Everything a finished run writes: the summary files, cashflows.csv,
/// the pictures and report.html, from the run's summary and state (and
/// replications.csv from `kept`, the replications when they are kept).
pub fn result_files(
    summary: &RunSummary,
    state: &RunState,
    kept: Option<&RunResults>,
    about: &About,
) -> Vec<(String, Vec<u8>)> {
    let pictures = charts::pictures(summary, state, &about.currency, about.investor_rate);
    let run = RunOutput {
        summary,
        state,
        results: kept,
        description: &about.description,
        terms: &about.terms,
        currency: &about.currency,
        investor_rate: about.investor_rate,
        pictures: &pictures,
    };
    exporters(kept.is_some()).iter().flat_map(|e| e.files(&run)).collect()
}
