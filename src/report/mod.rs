//! Results on disk: `summary.json`, `summary.csv`, written atomically.
//!
//! `stats` owns the numbers; this module owns the formats and the folder.

pub mod format;
pub mod html;
pub mod plot;
pub mod terminal;
pub mod terms;

pub use crate::files::write_folder;
use crate::model::names;
use crate::sim::record::RunResults;
use crate::sim::rng::RNG_ALGORITHM;
use crate::stats::{expected_shortfall, quantile_sorted, Probability, Summary};
use serde_json::{json, Map, Value};

/// The engine version written into every result.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A run's summary, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
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

/// Pearson correlation (NaN when either side does not vary).
pub fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len()) as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

fn payment_correlation(results: &RunResults) -> Option<(Vec<String>, Vec<Vec<f64>>)> {
    let columns: Vec<(String, &Vec<f64>)> = results
        .names
        .iter()
        .zip(&results.columns)
        .filter_map(|(n, c)| {
            n.strip_prefix("contracts.")
                .and_then(|rest| rest.strip_suffix(".payer.payments"))
                .map(|name| (name.to_string(), c))
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

impl Report {
    /// Summarises a run.
    pub fn new(results: &RunResults, expected: &[(String, f64)]) -> Report {
        Report {
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
                        let mut sorted = paths[t].clone();
                        sorted.sort_by(|a, b| a.total_cmp(b));
                        PATH_QUANTILES.map(|p| {
                            if sorted.is_empty() {
                                f64::NAN
                            } else {
                                quantile_sorted(&sorted, p)
                            }
                        })
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

    /// `cashflows.csv`: per cycle, quantiles of cumulative cash flows.
    pub fn cashflows_csv(&self) -> String {
        let mut out = String::from("cycle,year_end,investor_p05,investor_p25,investor_p50,investor_p75,investor_p95,payer_p05,payer_p25,payer_p50,payer_p75,payer_p95\n");
        for (t, (year, investor, payer)) in self.cashflows.iter().enumerate() {
            out.push_str(&format!("{t},{year}"));
            for v in investor.iter().chain(payer) {
                out.push_str(&format!(",{v}"));
            }
            out.push('\n');
        }
        out
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

    /// `summary.json` as a value.
    pub fn to_json(&self) -> Value {
        let mut statistics = Map::new();
        for (name, summary) in &self.statistics {
            statistics.insert(name.clone(), summary.as_ref().map_or(Value::Null, |s| json!(s)));
        }
        let mut probabilities = Map::new();
        for (name, p) in &self.probabilities {
            probabilities.insert(name.clone(), json!(p));
        }
        let mut expected = Map::new();
        for (name, v) in &self.expected {
            expected.insert(name.clone(), json!(v));
        }
        let mut shortfall = Map::new();
        // Every null in the summary has its reason here.
        let mut null_reasons = Map::new();
        for (name, summary) in &self.statistics {
            if summary.is_none() {
                null_reasons.insert(
                    format!("statistics.{name}"),
                    json!("defined in no replication: the value is NaN in every one (no investors or payments in this scenario, or no single IRR exists; see investor.irr_undefined)"),
                );
            }
        }
        for (name, v) in &self.expected_shortfall {
            shortfall.insert(name.clone(), json!({ "level": 0.05, "value": v }));
            if v.is_none() {
                null_reasons.insert(
                    format!("expected_shortfall.{name}"),
                    json!("the statistic is defined in no replication"),
                );
            }
        }
        if self.payment_correlation.is_none() {
            null_reasons.insert(
                "payment_correlation".to_string(),
                json!("correlation between contracts' payments needs a portfolio of at least two contracts"),
            );
        }
        json!({
            "scenario": self.scenario,
            "replications": self.replications,
            "seed": self.seed,
            "engine_version": ENGINE_VERSION,
            "rng": RNG_ALGORITHM,
            "quantiles": "exact order statistics, linear interpolation (type 7)",
            "statistics": statistics,
            "probabilities": probabilities,
            "expected": expected,
            "expected_shortfall": shortfall,
            "payment_correlation": self.payment_correlation.as_ref().map(|(names, m)| json!({"contracts": names, "matrix": m})),
            "null_reasons": null_reasons,
        })
    }

    /// `summary.csv`: one row per statistic, then one per probability.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("name,mean,se,sd,min,max,p01,p05,p25,p50,p75,p95,p99,n\n");
        for (name, summary) in &self.statistics {
            match summary {
                Some(s) => {
                    let q = s.quantiles();
                    out.push_str(&format!(
                        "{name},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                        s.mean, s.se, s.sd, s.min, s.max, q[0], q[1], q[2], q[3], q[4], q[5], q[6], s.n
                    ));
                }
                None => out.push_str(&format!("{name},,,,,,,,,,,,,0\n")),
            }
        }
        for (name, p) in &self.probabilities {
            out.push_str(&format!(
                "probability.{name},{},{},,,,,,,,,,,{}\n",
                p.p, p.se, self.replications
            ));
        }
        out
    }
}

/// `replications.csv`: one row per replication, its index, every statistic
/// and every event (0/1).
pub fn replications_csv(results: &RunResults) -> String {
    let mut out = String::from("replication");
    for name in results.names.iter().chain(&results.event_names) {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for r in 0..results.replications() as usize {
        out.push_str(&(results.first + r as u64).to_string());
        for column in &results.columns {
            out.push_str(&format!(",{}", column[r]));
        }
        for column in &results.events {
            out.push_str(if column[r] { ",1" } else { ",0" });
        }
        out.push('\n');
    }
    out
}

/// Everything a finished run writes: the summary files, cashflows.csv,
/// the pictures and report.html (and replications.csv when asked).
pub fn result_files(
    report: &Report,
    results: &RunResults,
    description: &str,
    terms: &[(String, String)],
    keep_replications: bool,
) -> Vec<(String, Vec<u8>)> {
    let mut files = summary_files(report);
    let mut pictures = Vec::new();
    let mut add = |file: &str, caption: &str, svg: Option<String>| {
        if let Some(svg) = svg {
            files.push((file.to_string(), svg.clone().into_bytes()));
            pictures.push((caption.to_string(), svg));
        }
    };
    if let Some(irr) = results.column(names::IRR) {
        let percent: Vec<f64> = irr.iter().map(|x| x * 100.0).collect();
        add(
            "irr_histogram.svg",
            "Investor IRR across replications (undefined IRRs left out)",
            plot::histogram(&percent, "Investor IRR", "annual IRR (%)", 40),
        );
    }
    if let Some(net) = results.column(names::NET_SAVINGS) {
        add(
            "net_savings_histogram.svg",
            "Payer net savings across replications",
            plot::histogram(net, "Payer net savings", "net savings, discounted (EUR)", 40),
        );
    }
    let years: Vec<f64> = report.cashflows.iter().map(|c| c.0).collect();
    let investor: Vec<[f64; 5]> = report.cashflows.iter().map(|c| c.1).collect();
    let payer: Vec<[f64; 5]> = report.cashflows.iter().map(|c| c.2).collect();
    add(
        "cashflow_fan_investor.svg",
        "Cumulative cash flow to investors: median, p25–p75 and p05–p95",
        plot::fan_chart(
            &years,
            &investor,
            "Investors: cumulative cash flow",
            "EUR (undiscounted)",
        ),
    );
    add(
        "cashflow_fan_payer.svg",
        "Payer: cumulative costs avoided minus payments (and programme costs it bears)",
        plot::fan_chart(&years, &payer, "Payer: cumulative net position", "EUR (undiscounted)"),
    );
    if let Some((contracts, _)) = &report.payment_correlation {
        for (statistic, label, unit) in [
            (names::NET_SAVINGS, "Payer net savings by contract", "EUR, discounted"),
            (names::MULTIPLE, "Investor multiple by contract", "multiple"),
        ] {
            let rows: Vec<(String, f64, f64, f64)> = contracts
                .iter()
                .filter_map(|c| {
                    report
                        .statistic(&format!("contracts.{c}.{statistic}"))
                        .map(|s| (c.clone(), s.p05, s.p50, s.p95))
                })
                .collect();
            let file = format!("contracts_{}.svg", statistic.replace('.', "_"));
            add(
                &file,
                &format!("{label}: p05–p95 box, median line"),
                plot::interval_chart(&rows, label, unit),
            );
        }
    }
    let page = html::render(report, description, terms, &pictures);
    files.push(("report.html".to_string(), page.into_bytes()));
    if keep_replications {
        files.push(("replications.csv".to_string(), replications_csv(results).into_bytes()));
    }
    files
}

/// The files of a single run: `summary.json` and `summary.csv`.
pub fn summary_files(report: &Report) -> Vec<(String, Vec<u8>)> {
    let json = serde_json::to_string_pretty(&report.to_json()).unwrap_or_default() + "\n";
    vec![
        ("summary.json".to_string(), json.into_bytes()),
        ("summary.csv".to_string(), report.to_csv().into_bytes()),
        ("cashflows.csv".to_string(), report.cashflows_csv().into_bytes()),
    ]
}
