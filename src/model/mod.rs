//! The validated model: what a scenario means once every check has passed.
//!
//! These types are built only by [`crate::scenario`]'s validation (they are
//! `#[non_exhaustive]`, so no other crate can build them with invalid values),
//! and the simulation never re-checks them.

pub mod contract;
pub mod expected;
pub mod fund;
pub mod ledger;
pub mod names;
pub mod portfolio;
pub mod schedule;
pub mod targets;
pub mod transitions;

pub use transitions::{
    Band, BaselineRisk, InvalidMatrix, StochasticMatrix, Transitions, AGE_EPSILON, ROW_SUM_TOLERANCE,
};

/// A checked scenario: states, cohort, both arms, counting, discounting, metrics.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Scenario {
    /// `[a-z0-9_-]+`; results go to `results/<name>/`.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The currency of every amount (ISO 4217 code, e.g. `EUR`, `USD`).
    pub currency: String,
    /// The file it was read from.
    pub source: String,
    /// FNV-1a digest of the scenario text (and any overrides): shards of
    /// different scenarios are never merged.
    pub digest: u64,
    /// Cycle length and horizon.
    pub time: Time,
    /// Default replications and seed.
    pub run: RunDefaults,
    /// Ordered states; vectors indexed by state follow this order.
    pub states: Vec<State>,
    /// Who enters when, at what age, in which state.
    pub cohort: Cohort,
    /// The counterfactual transitions (with any risk multipliers applied).
    pub baseline: Transitions,
    /// `[[baseline.risk]]`: the baseline derived from a population's by
    /// risk multipliers, if the file gives them.
    pub baseline_risk: Option<BaselineRisk>,
    /// The programme and its effect.
    pub intervention: Intervention,
    /// Which occupancy a cycle's per-child amounts use.
    pub counting: Counting,
    /// Annual discount rates.
    pub discounting: Discounting,
    /// Outcome metrics computed per arm.
    pub metrics: Vec<Metric>,
    /// The outcome contract, if any.
    pub contract: Option<contract::Contract>,
    /// The fund, if any (otherwise investors fund whatever is spent).
    pub fund: Option<fund::Fund>,
    /// Parameter uncertainty and systemic shock, if any.
    pub uncertainty: Option<Uncertainty>,
}

/// Second-order uncertainty: each replication first draws its parameters.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Uncertainty {
    /// Rows given as `matrix` are drawn Dirichlet(concentration × row).
    /// (Rows given as `counts` are always drawn Dirichlet(counts + prior).)
    pub transition_concentration: Option<f64>,
    /// Relative risks are drawn lognormal(log RR, sd).
    pub effect_sd_log: f64,
    /// State costs are drawn gamma with mean = cost and this coefficient of variation.
    pub cost_cv: f64,
    /// The systemic shock.
    pub shock: Option<Shock>,
    /// Volume risk (`[uncertainty.enrolment]`).
    pub enrolment: Option<Enrolment>,
    /// Baseline rows drawn from a fitted posterior (`baseline_posterior`).
    pub baseline_posterior: Option<std::sync::Arc<BaselinePosterior>>,
    /// Risk multipliers (`[[baseline.risk]]`) are drawn lognormal(log m, sd).
    pub risk_sd_log: f64,
}

/// A posterior sample of baseline rows (`calibrate --targets`'s
/// `posterior.csv`): each replication takes one draw, replacing those rows.
#[derive(Debug, Clone)]
pub struct BaselinePosterior {
    /// The file it was read from.
    pub source: String,
    /// Number of draws.
    pub draws: usize,
    /// The rows it sets.
    pub rows: Vec<PosteriorRow>,
    /// Every draw's rows, draw after draw: see [`BaselinePosterior::draw`].
    pub values: Vec<f64>,
    /// [`BaselinePosterior::digest_text`], written out once: the contracts
    /// of a portfolio that share a posterior share this value too.
    digest_text: std::sync::OnceLock<String>,
}

/// Equal when they hold the same draws of the same rows from the same file.
impl PartialEq for BaselinePosterior {
    fn eq(&self, other: &BaselinePosterior) -> bool {
        self.source == other.source
            && self.draws == other.draws
            && self.rows == other.rows
            && self.values == other.values
    }
}

impl BaselinePosterior {
    /// A posterior of `draws` draws of `rows` (`values` as
    /// [`BaselinePosterior::draw`] reads them), read from `source`.
    pub fn new(source: String, draws: usize, rows: Vec<PosteriorRow>, values: Vec<f64>) -> BaselinePosterior {
        BaselinePosterior {
            source,
            draws,
            rows,
            values,
            digest_text: std::sync::OnceLock::new(),
        }
    }

    /// Draw k: row r of `rows` is `[r * n..(r + 1) * n]` (n states). One
    /// draw's rows lie together, so a replication's draw reads a few
    /// neighbouring cache lines, not one line in each row's far-apart block.
    pub fn draw(&self, k: usize) -> &[f64] {
        let width = self.values.len() / self.draws.max(1);
        &self.values[k * width..(k + 1) * width]
    }

    /// The draws as text for a scenario's digest: each row with all its
    /// draws, as the digest has always read them (so digests of earlier
    /// runs still match). Written out on the first call only (formatting
    /// a thousand draws was most of loading `lapset-sib`, once a contract).
    pub fn digest_text(&self) -> &str {
        self.digest_text.get_or_init(|| self.write_digest_text())
    }

    fn write_digest_text(&self) -> String {
        let n = self.values.len() / (self.draws * self.rows.len()).max(1);
        let rows: Vec<String> = self
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                let values: Vec<f64> = (0..self.draws)
                    .flat_map(|k| self.draw(k)[r * n..(r + 1) * n].iter().copied())
                    .collect();
                format!(
                    "PosteriorRow {{ band: {:?}, from: {:?}, values: {values:?} }}",
                    row.band, row.from
                )
            })
            .collect();
        format!("[{}]", rows.join(", "))
    }
}

/// One baseline row's draws.
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorRow {
    /// The band (None: the default matrix).
    pub band: Option<usize>,
    /// The from-state.
    pub from: usize,
}

impl Uncertainty {
    /// Volume risk alone: no parameter drawn, no shock.
    pub fn enrolment_only(enrolment: Enrolment) -> Uncertainty {
        Uncertainty {
            transition_concentration: None,
            effect_sd_log: 0.0,
            cost_cv: 0.0,
            shock: None,
            enrolment: Some(enrolment),
            baseline_posterior: None,
            risk_sd_log: 0.0,
        }
    }

    /// Whether any model parameter (transitions, effects, costs, shock, a
    /// baseline posterior) is
    /// drawn per replication; enrolment alone redraws none of them.
    pub fn draws_parameters(&self) -> bool {
        self.transition_concentration.is_some()
            || self.effect_sd_log > 0.0
            || self.cost_cv > 0.0
            || self.shock.is_some()
            || self.baseline_posterior.is_some()
            || self.risk_sd_log > 0.0
    }
}

impl Metric {
    /// Whether each child has a 0/1 outcome on this metric, so a contract
    /// can count it per participant (`measurement = "ex_post"`).
    pub fn per_child(&self) -> bool {
        matches!(self.kind, MetricKind::Entries | MetricKind::NeverEntered)
    }

    /// Its window cut at the end of cycle `date` (a contract's cumulative
    /// measurement to a date).
    pub fn window_to(&self, date: usize) -> (usize, usize) {
        (self.window.0, self.window.1.min(date + 1).max(self.window.0))
    }

    /// The improvement from `baseline` to `observed`: fewer is better, except
    /// for `never_entered` (children kept out of the states), where more is.
    pub fn improvement(&self, baseline: f64, observed: f64) -> f64 {
        if self.kind == MetricKind::NeverEntered {
            observed - baseline
        } else {
            baseline - observed
        }
    }
}

/// Volume risk: the realised share of each wave's planned children.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Enrolment {
    /// Mean of the Beta-distributed share, in (0, 1].
    pub mean: f64,
    /// Its standard deviation (0: every replication enrols `mean` in expectation).
    pub sd: f64,
}

impl Enrolment {
    /// The Beta distribution's (alpha, beta), or None when `sd` is 0 or the
    /// mean is 1 (the share is then the mean itself).
    pub fn beta_parameters(&self) -> Option<(f64, f64)> {
        if self.sd <= 0.0 || self.mean >= 1.0 {
            return None;
        }
        let nu = self.mean * (1.0 - self.mean) / (self.sd * self.sd) - 1.0;
        Some((self.mean * nu, (1.0 - self.mean) * nu))
    }

    /// The largest sd a Beta with this mean can have (exclusive).
    pub fn max_sd(mean: f64) -> f64 {
        (mean * (1.0 - mean)).sqrt()
    }
}

impl Shock {
    /// A shock on every state, for tests and examples.
    pub fn example(sd: f64, autocorrelation: f64) -> Shock {
        Shock {
            sd,
            autocorrelation,
            targets: Vec::new(),
        }
    }
}

/// An AR(1) normal path z_t per replication that multiplies the odds of every
/// move into `targets` by exp(z_t); the diagonal absorbs the change.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Shock {
    /// Stationary standard deviation of z_t.
    pub sd: f64,
    /// Correlation of z_t with z_{t−1}, in (−1, 1).
    pub autocorrelation: f64,
    /// Target states (mask).
    pub targets: Vec<bool>,
}

impl Scenario {
    /// Number of states.
    pub fn state_count(&self) -> usize {
        self.states.len()
    }

    /// Total children over all waves.
    pub fn children(&self) -> u64 {
        self.cohort.waves.iter().map(|w| w.children).sum()
    }

    /// Index of a state by name.
    pub fn state_index(&self, name: &str) -> Option<usize> {
        self.states.iter().position(|s| s.name == name)
    }
}

/// Discrete time.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Time {
    /// Years per cycle (> 0).
    pub cycle_years: f64,
    /// Number of cycles (≥ 1).
    pub horizon: usize,
    /// Calendar label of cycle 0.
    pub start_year: f64,
}

/// Defaults for a run; the command line overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunDefaults {
    /// Number of replications (≥ 1).
    pub replications: u64,
    /// Master seed.
    pub seed: u64,
    /// How trajectories are drawn (`[run] sampler`).
    pub sampler: Sampler,
}

/// How a replication draws its trajectories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampler {
    /// Aggregate for large cohorts without `entries` metrics, else per child.
    Auto,
    /// One uniform per child per cycle, shared by the arms.
    PerChild,
    /// Multinomial draws of the counts in each joint (baseline,
    /// intervention) state: the same distribution, cost independent of the
    /// number of children; no per-child history.
    Aggregate,
}

/// One state of the model.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct State {
    /// Unique name.
    pub name: String,
    /// Cost to the outcome payer per child per cycle (finite, ≥ 0).
    pub cost: f64,
    /// Once entered, never left.
    pub absorbing: bool,
}

/// The cohort.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Cohort {
    /// Deterministic ageing out, if any.
    pub exit: Option<AgeOut>,
    /// One or more waves of entry.
    pub waves: Vec<Wave>,
}

/// Ageing out: at `age` the child moves to `state`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct AgeOut {
    /// Age in years.
    pub age: f64,
    /// Index of the exit state.
    pub state: usize,
}

/// A group of children entering together.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Wave {
    /// Cycle of entry (< horizon).
    pub cycle: usize,
    /// Number of children (≥ 1).
    pub children: u64,
    /// Age at entry in years.
    pub age: f64,
    /// Initial distribution over states (sums to 1).
    pub initial: Vec<f64>,
}

impl Wave {
    /// Age in years at the start of cycle `t` (t ≥ entry cycle).
    pub fn age_at(&self, t: usize, cycle_years: f64) -> f64 {
        self.age + (t as f64 - self.cycle as f64) * cycle_years
    }
}

/// Who pays for the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgrammePayer {
    /// The fund (a SIB).
    Fund,
    /// The outcome payer (a public programme, a health model).
    Payer,
}

/// A relative-risk effect on the baseline.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Effect {
    /// Multiplies off-diagonal moves into `targets` (≥ 0).
    pub relative_risk: f64,
    /// Target states (columns), as a mask.
    pub targets: Vec<bool>,
    /// Rows it applies to, as a mask.
    pub from: Vec<bool>,
    /// Cycles of linear return to RR = 1 after the programme.
    pub waning_cycles: usize,
    /// Index in the file, for error messages.
    pub index: usize,
}

impl Effect {
    /// The relative risk in force for the transition `k` cycles after the
    /// programme ended (`None` = in the programme).
    pub fn relative_risk_at(&self, cycles_after: Option<usize>) -> f64 {
        match cycles_after {
            None => self.relative_risk,
            Some(k) => {
                let rr = self.relative_risk;
                let fraction = ((k + 1) as f64 / (self.waning_cycles + 1) as f64).min(1.0);
                rr + (1.0 - rr) * fraction
            }
        }
    }

    /// Applies the effect with relative risk `rr` to `matrix` in place.
    /// Returns the first row whose diagonal would become negative, if any
    /// (the diagonal is then clamped to 0 and the row renormalised).
    pub fn apply(&self, probabilities: &mut [f64], n: usize, rr: f64) -> Option<usize> {
        let mut bad_row = None;
        for i in 0..n {
            if !self.from[i] {
                continue;
            }
            let row = &mut probabilities[i * n..(i + 1) * n];
            let mut off_diagonal = 0.0;
            for (j, p) in row.iter_mut().enumerate() {
                if j == i {
                    continue;
                }
                if self.targets[j] {
                    *p *= rr;
                }
                off_diagonal += *p;
            }
            let diagonal = 1.0 - off_diagonal;
            if diagonal < -1e-12 {
                bad_row.get_or_insert(i);
                // Keep a distribution all the same: scale the moves down.
                for (j, p) in row.iter_mut().enumerate() {
                    if j != i {
                        *p /= off_diagonal;
                    }
                }
                row[i] = 0.0;
            } else {
                row[i] = diagonal.max(0.0);
            }
        }
        bad_row
    }
}

/// How the intervention arm's transitions are given.
#[derive(Debug, Clone, PartialEq)]
pub enum InterventionArm {
    /// Relative-risk effects on the baseline, applied in file order.
    Effects(Vec<Effect>),
    /// A full replacement of the baseline while in the programme.
    Transitions(Transitions),
}

/// The programme.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Intervention {
    /// Cycles in the programme after entry.
    pub duration: usize,
    /// Per enrolled child per cycle, while not in `stops_in`.
    pub cost_per_child_cycle: f64,
    /// Per cycle while any wave is within its programme cycles.
    pub fixed_cost_per_cycle: f64,
    /// Who pays for the programme.
    pub payer: ProgrammePayer,
    /// States in which a child costs nothing (mask).
    pub stops_in: Vec<bool>,
    /// The arm's transitions.
    pub arm: InterventionArm,
    /// The cycle from which the programme has stopped for everyone (a
    /// contract terminated at a review); None in the scenario as written.
    pub ends_at: Option<usize>,
}

impl Intervention {
    /// Programme cycles of a wave entering at `entry`: its `duration`, cut
    /// short by a termination.
    pub fn cycles_for(&self, entry: usize) -> usize {
        match self.ends_at {
            Some(end) => self.duration.min(end.saturating_sub(entry)),
            None => self.duration,
        }
    }
}

/// Which occupancy a cycle's per-child amounts use (model.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// State during the cycle, discounted at the cycle's start.
    Start,
    /// State after the cycle's transition, discounted at its end.
    End,
    /// Half of each.
    HalfCycle,
}

/// Annual discount rates.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Discounting {
    /// For payer amounts.
    pub payer_rate: f64,
    /// For investor NPV.
    pub investor_rate: f64,
    /// For discounted state-cycle metrics, if given.
    pub payer_outcomes_rate: Option<f64>,
}

/// 64-bit FNV-1a: a small, stable digest (the same on every platform and version).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_parts(&[bytes])
}

/// [`fnv1a`] of `parts` joined, without joining them.
pub fn fnv1a_parts(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in parts.iter().flat_map(|p| p.iter()) {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Discount factor (1 + rate)^-years.
pub fn discount_factor(rate: f64, years: f64) -> f64 {
    (1.0 + rate).powf(-years)
}

/// What a metric counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Child-cycles spent in the states.
    StateCycles,
    /// Children who entered the states in the window.
    Entries,
    /// Children who never entered the states in the window (the per-child
    /// complement of `Entries`; more is better).
    NeverEntered,
    /// The payer's costs in the arm.
    Cost,
    /// Children in the states at a cycle.
    OccupancyAt(usize),
}

/// An outcome metric, computed per arm.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Metric {
    /// Unique name.
    pub name: String,
    /// What it counts.
    pub kind: MetricKind,
    /// States (mask); all true for `cost`.
    pub states: Vec<bool>,
    /// Half-open cycle window.
    pub window: (usize, usize),
    /// Annual discount rate, when discounted.
    pub discount_rate: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stochastic_matrix_cannot_be_built_or_changed_invalid() {
        let m = StochasticMatrix::new(2, vec![0.5, 0.5, 0.0, 1.0], None).unwrap();
        assert_eq!(m.row(1), &[0.0, 1.0]);
        assert!(StochasticMatrix::new(2, vec![0.5, 0.5, 0.2, 0.9], None).is_err());
        assert!(StochasticMatrix::new(2, vec![1.5, -0.5, 0.0, 1.0], None).is_err());
        assert!(StochasticMatrix::new(2, vec![1.0, 0.0, 0.0], None).is_err());
        assert!(StochasticMatrix::new(0, Vec::new(), None).is_err());
        assert!(StochasticMatrix::new(1, vec![1.0], Some((vec![f64::NAN], 1.0))).is_err());
        let mut m = m;
        assert!(m.set_row(0, &[0.7, 0.4]).is_err());
        assert_eq!(m.row(0), &[0.5, 0.5], "a refused row leaves the matrix as it was");
        m.set_row(0, &[0.25, 0.75]).unwrap();
        assert_eq!(m.row(0), &[0.25, 0.75]);
    }
}
