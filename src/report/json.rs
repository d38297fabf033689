//! `summary.json`: every statistic, probability, expectation and tail
//! figure of a run, for programs.

use super::{Exporter, RunOutput, ENGINE_VERSION};
use crate::sim::rng::RNG_ALGORITHM;
use crate::stats::RunSummary;
use serde_json::{json, Map, Value};

/// A number as JSON, `null` when not finite (JSON has no NaN or infinity).
pub fn finite_or_null(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// Writes `summary.json`.
pub struct SummaryJson;

impl Exporter for SummaryJson {
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
        let json = serde_json::to_string_pretty(&summary_json(run.summary, run.currency)).unwrap_or_default() + "\n";
        vec![("summary.json".to_string(), json.into_bytes())]
    }
}

/// `summary.json` as a value.
pub fn summary_json(summary: &RunSummary, currency: &str) -> Value {
    let mut statistics = Map::new();
    for (name, summary) in &summary.statistics {
        statistics.insert(name.clone(), summary.as_ref().map_or(Value::Null, |s| json!(s)));
    }
    let mut probabilities = Map::new();
    for (name, p) in &summary.probabilities {
        probabilities.insert(name.clone(), json!(p));
    }
    let mut expected = Map::new();
    for (name, v) in &summary.expected {
        expected.insert(name.clone(), json!(v));
    }
    let mut shortfall = Map::new();
    // Every null in the summary has its reason here.
    let mut null_reasons = Map::new();
    for (name, summary) in &summary.statistics {
        if summary.is_none() {
            null_reasons.insert(
                format!("statistics.{name}"),
                json!("defined in no replication: the value is NaN in every one (no investors or payments in this scenario, or no single IRR exists; see investor.irr_undefined)"),
            );
        }
    }
    for (name, v) in &summary.expected_shortfall {
        shortfall.insert(name.clone(), json!({ "level": 0.05, "value": v }));
        if v.is_none() {
            null_reasons.insert(
                format!("expected_shortfall.{name}"),
                json!("the statistic is defined in no replication"),
            );
        }
    }
    if summary.payment_correlation.is_none() {
        null_reasons.insert(
            "payment_correlation".to_string(),
            json!("correlation between contracts' payments needs a portfolio of at least two contracts"),
        );
    }
    json!({
        "scenario": summary.scenario,
        "replications": summary.replications,
        "seed": summary.seed,
        "currency": currency,
        "engine_version": ENGINE_VERSION,
        "rng": RNG_ALGORITHM,
        "quantiles": "type 7 (linear between order statistics), each order statistic read at the mean of its histogram bin: bins 2^-10 of their value wide above the statistic's floor (2^-7 of its largest magnitude, rounded down to a power of two), 2^-10 of the floor wide below it; so within the larger of quantile_relative_error × |q| and the statistic's quantile_absolute_error, and exact where a bin holds one distinct value",
        "quantile_relative_error": crate::stats::accumulate::QUANTILE_RELATIVE_ERROR,
        "sums": "exact (correctly rounded once), so every figure is the same for any split into threads or shards",
        "statistics": statistics,
        "probabilities": probabilities,
        "expected": expected,
        "expected_shortfall": shortfall,
        "payment_correlation": summary.payment_correlation.as_ref().map(|(names, m)| json!({"contracts": names, "matrix": m})),
        "null_reasons": null_reasons,
    })
}
