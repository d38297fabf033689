//! A serde mirror of the scenario TOML, checked only for shape and type.
//!
//! Every table denies unknown keys, so a misspelt key is an error and never a
//! silent default. Values that need a semantic check later carry their span.
//! Each field is documented with its key; `docs/scenario-format.md` has
//! every key with its unit, default and allowed values.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A matrix as written: rows of numbers, every level with its span.
pub type RawMatrix = Spanned<Vec<Spanned<Vec<Spanned<f64>>>>>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// `name`: names the results folder.
    pub name: Spanned<String>,
    /// `description`: one line for the report.
    pub description: Option<String>,
    /// `currency`: ISO 4217 code of every amount (default EUR).
    pub currency: Option<Spanned<String>>,
    /// `[time]`.
    pub time: RawTime,
    /// `[run]`: defaults the command line overrides.
    pub run: Option<RawRun>,
    /// `[[states]]`.
    pub states: Spanned<Vec<RawState>>,
    /// `[cohort]`.
    pub cohort: Spanned<RawCohort>,
    /// `[baseline]`: transitions without the programme.
    pub baseline: Spanned<RawTransitions>,
    /// `[intervention]`: the programme.
    pub intervention: Option<Spanned<RawIntervention>>,
    /// `[counting]`.
    pub counting: Option<RawCounting>,
    /// `[discounting]`.
    pub discounting: Option<RawDiscounting>,
    /// `[[metrics]]`.
    pub metrics: Option<Vec<Spanned<RawMetric>>>,
    /// `[contract]`: the outcome contract.
    pub contract: Option<Spanned<RawContract>>,
    /// `[fund]`: the investors' fund.
    pub fund: Option<Spanned<RawFund>>,
    /// `[uncertainty]`: parameter draws and the systemic shock.
    pub uncertainty: Option<Spanned<RawUncertainty>>,
}

/// `[time]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTime {
    /// `cycle_years`: years per cycle, 1/365 … 10.
    pub cycle_years: Spanned<f64>,
    /// `horizon`: cycles simulated, 1 … 100,000.
    pub horizon: Spanned<i64>,
    /// `start_year`: calendar label of cycle 0.
    pub start_year: Option<Spanned<f64>>,
}

/// `[run]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// `replications` (default 1000).
    pub replications: Option<Spanned<i64>>,
    /// `seed` (default 1).
    pub seed: Option<Spanned<i64>>,
    /// `sampler` (default `auto`).
    pub sampler: Option<Spanned<RawSampler>>,
}

/// How children are drawn.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawSampler {
    /// Whichever is faster here.
    Auto,
    /// One child at a time.
    PerChild,
    /// Counts per state pair.
    Aggregate,
}

/// One `[[states]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    /// `name`.
    pub name: Spanned<String>,
    /// `cost`: to the payer, per child per cycle (default 0).
    pub cost: Option<Spanned<f64>>,
    /// `absorbing`: a child who arrives stays.
    #[serde(default)]
    pub absorbing: bool,
}

/// `[cohort]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCohort {
    /// `exit_age`: age (years) at which children move to `exit_state`.
    pub exit_age: Option<Spanned<f64>>,
    /// `exit_state`.
    pub exit_state: Option<Spanned<String>>,
    /// `[[cohort.waves]]`.
    pub waves: Spanned<Vec<Spanned<RawWave>>>,
}

/// One `[[cohort.waves]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWave {
    /// `cycle`: entry cycle (default 0).
    pub cycle: Option<Spanned<i64>>,
    /// `children`: how many enter.
    pub children: Spanned<i64>,
    /// `age`: age at entry, years.
    pub age: Spanned<f64>,
    /// `initial`: `{ state = share }`, summing to 1.
    pub initial: Spanned<BTreeMap<String, Spanned<f64>>>,
}

/// A transition specification: `matrix` or `counts` (+ `prior`), with bands.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransitions {
    /// `matrix`: rows of probabilities.
    pub matrix: Option<RawMatrix>,
    /// `counts`: observed transition counts.
    pub counts: Option<RawMatrix>,
    /// `prior`: added to every count (default 1).
    pub prior: Option<Spanned<f64>>,
    /// `[[…bands]]`: overrides by cycle or age.
    pub bands: Option<Vec<Spanned<RawBand>>>,
    /// `[[baseline.risk]]`: multipliers that derive a target group's
    /// baseline from the population's matrices above.
    pub risk: Option<Vec<Spanned<RawRisk>>>,
}

/// One `[[baseline.risk]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRisk {
    /// `multiplier` (> 0) on the moves into `targets`.
    pub multiplier: Spanned<f64>,
    /// `targets`: moves into these states (default: the costly ones).
    pub targets: Option<Vec<Spanned<String>>>,
    /// `from`: moves out of these states (default all).
    pub from: Option<Vec<Spanned<String>>>,
}

/// One `[[…bands]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBand {
    /// `cycles`: `[from, to)` cycles.
    pub cycles: Option<Spanned<Vec<i64>>>,
    /// `ages`: `[from, to)` years.
    pub ages: Option<Spanned<Vec<f64>>>,
    /// `matrix`.
    pub matrix: Option<RawMatrix>,
    /// `counts`.
    pub counts: Option<RawMatrix>,
    /// `prior`.
    pub prior: Option<Spanned<f64>>,
}

/// `[intervention]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntervention {
    /// `duration`: cycles in the programme (default: the horizon).
    pub duration: Option<Spanned<i64>>,
    /// `cost_per_child_cycle`.
    pub cost_per_child_cycle: Option<Spanned<f64>>,
    /// `fixed_cost_per_cycle`.
    pub fixed_cost_per_cycle: Option<Spanned<f64>>,
    /// `payer`: `fund` or `payer`.
    pub payer: Option<RawPayer>,
    /// `stops_in`: states with no per-child cost.
    pub stops_in: Option<Vec<Spanned<String>>>,
    /// `[[intervention.effects]]`.
    pub effects: Option<Vec<Spanned<RawEffect>>>,
    /// `matrix`: full transitions instead of effects.
    pub matrix: Option<RawMatrix>,
    /// `counts`.
    pub counts: Option<RawMatrix>,
    /// `prior`.
    pub prior: Option<Spanned<f64>>,
    /// `bands`.
    pub bands: Option<Vec<Spanned<RawBand>>>,
}

/// Who pays the programme.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawPayer {
    /// The investors' fund (a social impact bond).
    Fund,
    /// The outcome payer itself.
    Payer,
}

/// One `[[intervention.effects]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEffect {
    /// `relative_risk`.
    pub relative_risk: Spanned<f64>,
    /// `targets`: moves into these states (default all).
    pub targets: Option<Vec<Spanned<String>>>,
    /// `from`: moves out of these states (default all).
    pub from: Option<Vec<Spanned<String>>>,
    /// `waning_cycles` (default 0).
    pub waning_cycles: Option<Spanned<i64>>,
}

/// Which state a cycle is counted in.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawOccupancy {
    /// The state at the start of the cycle.
    Start,
    /// The state after its transition.
    End,
    /// Half of each.
    HalfCycle,
}

/// `[counting]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCounting {
    /// `occupancy`: `start`, `end` or `half_cycle`.
    pub occupancy: Option<RawOccupancy>,
}

/// `[discounting]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiscounting {
    /// `payer_rate`: annual.
    pub payer_rate: Option<Spanned<f64>>,
    /// `investor_rate`: annual.
    pub investor_rate: Option<Spanned<f64>>,
    /// `payer_outcomes_rate`: for `state_cycles` metrics.
    pub payer_outcomes_rate: Option<Spanned<f64>>,
}

/// What a metric counts.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawMetricKind {
    /// Child-cycles in the states.
    StateCycles,
    /// Children who entered the states.
    Entries,
    /// Children who never entered the states.
    NeverEntered,
    /// The payer's cost.
    Cost,
    /// Children in the states at one cycle.
    OccupancyAt,
}

/// One `[[metrics]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetric {
    /// `name`.
    pub name: Spanned<String>,
    /// `kind`.
    pub kind: RawMetricKind,
    /// `states`.
    pub states: Option<Vec<Spanned<String>>>,
    /// `window`: `[from, to)` cycles.
    pub window: Option<Spanned<Vec<i64>>>,
    /// `at`: the cycle of `occupancy_at`.
    pub at: Option<Spanned<i64>>,
    /// `discounted`.
    pub discounted: Option<bool>,
}

/// How the contract measures impact.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawMeasurement {
    /// Against a stated baseline.
    FixedBaseline,
    /// Against a simulated comparison group.
    ControlGroup,
    /// Outcomes counted in the programme group, no counterfactual.
    ExPost,
}

/// `[contract]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    /// `measurement`: `fixed_baseline`, `control_group` or `ex_post`: the
    /// default for components that name none.
    pub measurement: Option<RawMeasurement>,
    /// `lag_cycles`: cycles between an outcome date and its payment.
    pub lag_cycles: Option<Spanned<i64>>,
    /// `max_per_child`: cap on all per-participant payments for one child.
    pub max_per_child: Option<Spanned<f64>>,
    /// `[[contract.reviews]]`.
    pub reviews: Option<Vec<Spanned<RawReview>>>,
    /// `control_size`: children in the comparison group.
    pub control_size: Option<Spanned<i64>>,
    /// `max_total`: cap on all payments.
    pub max_total: Option<Spanned<f64>>,
    /// `cap_per_date`: cap at one date.
    pub cap_per_date: Option<Spanned<f64>>,
    /// `clawback`.
    pub clawback: Option<bool>,
    /// `[[contract.payments]]`.
    pub payments: Option<Vec<Spanned<RawPayment>>>,
}

/// `baseline = "expected" | number | [numbers]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawBaseline {
    /// One value (one payment date).
    Number(f64),
    /// One cumulative value per payment date.
    List(Vec<f64>),
    /// `"expected"`.
    Word(String),
}

/// A payment rule.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawRule {
    /// Price per unit of impact.
    RateCard,
    /// Share of measured avoided cost.
    SavingsShare,
    /// Cumulative payment by relative effect.
    Tiers,
    /// Price per child who starts the programme.
    PerEnrolment,
}

/// Between tier points.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawInterpolate {
    /// The last point reached.
    Step,
    /// Linear between points.
    Linear,
}

/// One `[[contract.payments]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayment {
    /// `metric` (none for `per_enrolment`).
    pub metric: Option<Spanned<String>>,
    /// `measurement`: this component's, overriding the contract's.
    pub measurement: Option<Spanned<RawMeasurement>>,
    /// `baseline`: number, list or `"expected"`.
    pub baseline: Option<Spanned<RawBaseline>>,
    /// `rule`.
    pub rule: RawRule,
    /// `price`: rate card, per unit.
    pub price: Option<Spanned<f64>>,
    /// `threshold`: minimum relative effect.
    pub threshold: Option<Spanned<f64>>,
    /// `share`: savings share.
    pub share: Option<Spanned<f64>>,
    /// `tiers`: `[[effect, cumulative payment], …]`.
    pub tiers: Option<Spanned<Vec<Vec<f64>>>>,
    /// `interpolate`: `step` or `linear`.
    pub interpolate: Option<RawInterpolate>,
    /// `at`: payment dates (ends of cycles; none for `per_enrolment`).
    pub at: Option<Spanned<Vec<i64>>>,
    /// `cap`: on this component.
    pub cap: Option<Spanned<f64>>,
    /// `cap_per_date`: on this component at one date.
    pub cap_per_date: Option<Spanned<f64>>,
}

/// What a review does.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawReviewAction {
    /// Later waves never start.
    StopEnrolment,
    /// The programme and later payments stop.
    Terminate,
}

/// One `[[contract.reviews]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReview {
    /// `at`: the end of this cycle.
    pub at: Spanned<i64>,
    /// `metric`: measured as its payment component sees it.
    pub metric: Option<Spanned<String>>,
    /// `below`: act when the measured relative effect is below this.
    pub below: Option<Spanned<f64>>,
    /// `probability`: act anyway with this probability.
    pub probability: Option<Spanned<f64>>,
    /// `action`.
    pub action: Spanned<RawReviewAction>,
    /// `termination_payment`: share of capital called to date.
    pub termination_payment: Option<Spanned<f64>>,
}

/// When receipts go to investors.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawDistribute {
    /// At the end of the horizon.
    AtEnd,
    /// When each payment arrives.
    OnReceipt,
}

/// `[fund]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFund {
    /// `capital`: committed.
    pub capital: Spanned<f64>,
    /// `management_fee`: share of capital a year.
    pub management_fee: Option<Spanned<f64>>,
    /// `distribute`: `at_end` or `on_receipt`.
    pub distribute: Option<RawDistribute>,
    /// `return_cap_multiple`.
    pub return_cap_multiple: Option<Spanned<f64>>,
    /// `[fund.guarantee]`.
    pub guarantee: Option<RawGuarantee>,
    /// `[[fund.tranches]]`.
    pub tranches: Option<Spanned<Vec<Spanned<RawTranche>>>>,
}

/// `[fund.guarantee]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuarantee {
    /// `first_loss`: share of junior capital loss covered.
    pub first_loss: Spanned<f64>,
}

/// One `[[fund.tranches]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTranche {
    /// `name`.
    pub name: Spanned<String>,
    /// `share` of every call.
    pub share: Spanned<f64>,
    /// `coupon`: annual (default 0).
    pub coupon: Option<Spanned<f64>>,
}

/// `[uncertainty]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUncertainty {
    /// `transition_concentration`: Dirichlet concentration of matrix rows.
    pub transition_concentration: Option<Spanned<f64>>,
    /// `effect_sd_log`: log-normal sd of relative risks.
    pub effect_sd_log: Option<Spanned<f64>>,
    /// `cost_cv`: gamma cv of state costs.
    pub cost_cv: Option<Spanned<f64>>,
    /// `[uncertainty.shock]`.
    pub shock: Option<Spanned<RawShock>>,
    /// `[uncertainty.enrolment]`.
    pub enrolment: Option<Spanned<RawEnrolment>>,
    /// `baseline_posterior`: a `posterior.csv` from `calibrate --targets`
    /// (relative to the scenario file); each replication draws one row.
    pub baseline_posterior: Option<Spanned<String>>,
    /// `risk_sd_log`: sd of log risk multipliers (default 0).
    pub risk_sd_log: Option<Spanned<f64>>,
}

/// `[uncertainty.enrolment]`: volume risk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnrolment {
    /// `mean`: of the enrolled share, in (0, 1].
    pub mean: Spanned<f64>,
    /// `sd`: of the enrolled share (default 0).
    pub sd: Option<Spanned<f64>>,
}

/// `[uncertainty.shock]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShock {
    /// `sd`: stationary sd on the log-odds scale.
    pub sd: Spanned<f64>,
    /// `autocorrelation`: AR(1), in (−1, 1).
    pub autocorrelation: Option<Spanned<f64>>,
    /// `targets`: states whose entry odds move.
    pub targets: Option<Vec<Spanned<String>>>,
}

/// A portfolio file: contracts from their own files, a pooled fund, a shared shock.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPortfolioFile {
    /// `name`.
    pub name: Spanned<String>,
    /// `description`.
    pub description: Option<String>,
    /// `currency` (default: the contracts').
    pub currency: Option<Spanned<String>>,
    /// `[run]`.
    pub run: Option<RawRun>,
    /// `[portfolio]`.
    pub portfolio: Spanned<RawPortfolio>,
    /// `[fund]`: the pooled fund.
    pub fund: Option<Spanned<RawFund>>,
    /// `[discounting]`: the pooled investor rate.
    pub discounting: Option<RawDiscounting>,
    /// `[uncertainty.shock]`: the shared shock.
    pub uncertainty: Option<Spanned<RawUncertainty>>,
}

/// `[portfolio]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPortfolio {
    /// `contracts`: contract files, relative to the portfolio file.
    pub contracts: Spanned<Vec<Spanned<String>>>,
}
