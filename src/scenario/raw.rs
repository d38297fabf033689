//! A serde mirror of the scenario TOML, checked only for shape and type.
//!
//! Every table denies unknown keys, so a misspelt key is an error and never a
//! silent default. Values that need a semantic check later carry their span.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A matrix as written: rows of numbers, every level with its span.
pub type RawMatrix = Spanned<Vec<Spanned<Vec<Spanned<f64>>>>>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Spanned<String>,
    pub description: Option<String>,
    pub currency: Option<Spanned<String>>,
    pub time: RawTime,
    pub run: Option<RawRun>,
    pub states: Spanned<Vec<RawState>>,
    pub cohort: Spanned<RawCohort>,
    pub baseline: Spanned<RawTransitions>,
    pub intervention: Option<Spanned<RawIntervention>>,
    pub counting: Option<RawCounting>,
    pub discounting: Option<RawDiscounting>,
    pub metrics: Option<Vec<Spanned<RawMetric>>>,
    pub contract: Option<Spanned<RawContract>>,
    pub fund: Option<Spanned<RawFund>>,
    pub uncertainty: Option<Spanned<RawUncertainty>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTime {
    pub cycle_years: Spanned<f64>,
    pub horizon: Spanned<i64>,
    pub start_year: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub replications: Option<Spanned<i64>>,
    pub seed: Option<Spanned<i64>>,
    pub sampler: Option<Spanned<RawSampler>>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawSampler {
    Auto,
    PerChild,
    Aggregate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub name: Spanned<String>,
    pub cost: Option<Spanned<f64>>,
    #[serde(default)]
    pub absorbing: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCohort {
    pub exit_age: Option<Spanned<f64>>,
    pub exit_state: Option<Spanned<String>>,
    pub waves: Spanned<Vec<Spanned<RawWave>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWave {
    pub cycle: Option<Spanned<i64>>,
    pub children: Spanned<i64>,
    pub age: Spanned<f64>,
    pub initial: Spanned<BTreeMap<String, Spanned<f64>>>,
}

/// A transition specification: `matrix` or `counts` (+ `prior`), with bands.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransitions {
    pub matrix: Option<RawMatrix>,
    pub counts: Option<RawMatrix>,
    pub prior: Option<Spanned<f64>>,
    pub bands: Option<Vec<Spanned<RawBand>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBand {
    pub cycles: Option<Spanned<Vec<i64>>>,
    pub ages: Option<Spanned<Vec<f64>>>,
    pub matrix: Option<RawMatrix>,
    pub counts: Option<RawMatrix>,
    pub prior: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntervention {
    pub duration: Option<Spanned<i64>>,
    pub cost_per_child_cycle: Option<Spanned<f64>>,
    pub fixed_cost_per_cycle: Option<Spanned<f64>>,
    pub payer: Option<RawPayer>,
    pub stops_in: Option<Vec<Spanned<String>>>,
    pub effects: Option<Vec<Spanned<RawEffect>>>,
    pub matrix: Option<RawMatrix>,
    pub counts: Option<RawMatrix>,
    pub prior: Option<Spanned<f64>>,
    pub bands: Option<Vec<Spanned<RawBand>>>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawPayer {
    Fund,
    Payer,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEffect {
    pub relative_risk: Spanned<f64>,
    pub targets: Option<Vec<Spanned<String>>>,
    pub from: Option<Vec<Spanned<String>>>,
    pub waning_cycles: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawOccupancy {
    Start,
    End,
    HalfCycle,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCounting {
    pub occupancy: Option<RawOccupancy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiscounting {
    pub payer_rate: Option<Spanned<f64>>,
    pub investor_rate: Option<Spanned<f64>>,
    pub payer_outcomes_rate: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawMetricKind {
    StateCycles,
    Entries,
    Cost,
    OccupancyAt,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetric {
    pub name: Spanned<String>,
    pub kind: RawMetricKind,
    pub states: Option<Vec<Spanned<String>>>,
    pub window: Option<Spanned<Vec<i64>>>,
    pub at: Option<Spanned<i64>>,
    pub discounted: Option<bool>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawMeasurement {
    FixedBaseline,
    ControlGroup,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    pub measurement: Option<RawMeasurement>,
    pub control_size: Option<Spanned<i64>>,
    pub max_total: Option<Spanned<f64>>,
    pub cap_per_date: Option<Spanned<f64>>,
    pub clawback: Option<bool>,
    pub payments: Option<Vec<Spanned<RawPayment>>>,
}

/// `baseline = "expected" | number | [numbers]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawBaseline {
    Number(f64),
    List(Vec<f64>),
    Word(String),
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawRule {
    RateCard,
    SavingsShare,
    Tiers,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawInterpolate {
    Step,
    Linear,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayment {
    pub metric: Spanned<String>,
    pub baseline: Option<Spanned<RawBaseline>>,
    pub rule: RawRule,
    pub price: Option<Spanned<f64>>,
    pub threshold: Option<Spanned<f64>>,
    pub share: Option<Spanned<f64>>,
    pub tiers: Option<Spanned<Vec<Vec<f64>>>>,
    pub interpolate: Option<RawInterpolate>,
    pub at: Spanned<Vec<i64>>,
    pub cap: Option<Spanned<f64>>,
    pub cap_per_date: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawDistribute {
    AtEnd,
    OnReceipt,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFund {
    pub capital: Spanned<f64>,
    pub management_fee: Option<Spanned<f64>>,
    pub distribute: Option<RawDistribute>,
    pub return_cap_multiple: Option<Spanned<f64>>,
    pub guarantee: Option<RawGuarantee>,
    pub tranches: Option<Spanned<Vec<Spanned<RawTranche>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuarantee {
    pub first_loss: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTranche {
    pub name: Spanned<String>,
    pub share: Spanned<f64>,
    pub coupon: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUncertainty {
    pub transition_concentration: Option<Spanned<f64>>,
    pub effect_sd_log: Option<Spanned<f64>>,
    pub cost_cv: Option<Spanned<f64>>,
    pub shock: Option<Spanned<RawShock>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShock {
    pub sd: Spanned<f64>,
    pub autocorrelation: Option<Spanned<f64>>,
    pub targets: Option<Vec<Spanned<String>>>,
}

/// A portfolio file: contracts from their own files, a pooled fund, a shared shock.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPortfolioFile {
    pub name: Spanned<String>,
    pub description: Option<String>,
    pub currency: Option<Spanned<String>>,
    pub run: Option<RawRun>,
    pub portfolio: Spanned<RawPortfolio>,
    pub fund: Option<Spanned<RawFund>>,
    pub discounting: Option<RawDiscounting>,
    pub uncertainty: Option<Spanned<RawUncertainty>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPortfolio {
    pub contracts: Spanned<Vec<Spanned<String>>>,
}
