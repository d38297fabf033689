//! Replications in parallel, results in replication order.
//!
//! One replication: the treated children in both arms (common random
//! numbers), the comparison group if the contract has one, the contract's
//! payments, the fund's cash flows, and every per-replication statistic.

mod contract;
mod drawn;
mod money;

use super::parameters::ShockPath;
pub use drawn::Workspaces;
use drawn::{Buffers, SettleBuffers};

use super::measure::{Evaluate, ExpectedBaseline};
use super::parallel::{replicate_all, replicate_fold, Fold, RunOptions};
use super::participants::Participants;
use super::record::{Money, Record, RunResults};
use super::replication::{simulate_treated, simulate_treated_aggregate, EntriesSpec, EntryMasks, Workspace};
use super::reviews::Decisions;
use super::rng::{stream_for, Purpose};
use crate::error::Result;
use crate::fund::irr::irr;
use crate::fund::{multiple, Closing};
use crate::model::expected::{expected_occupancy, expected_with, Expected};
use crate::model::fund::Fund;
use crate::model::ledger::{Ledger, BASELINE, INTERVENTION};
use crate::model::schedule::Schedule;
use crate::model::{ProgrammePayer, Sampler, Scenario};
use std::sync::atomic::AtomicBool;

/// With `sampler = "auto"`, every wave needs at least this many children per
/// joint state (states²) for the aggregate path: below it, one draw per child
/// is cheaper than the binomial draws (measured: `sibsim bench` on
/// `scenarios/nyc-able.toml` and the bench scenario).
pub const AGGREGATE_CHILDREN_PER_STATE_PAIR: u64 = 20;

/// A scenario compiled for simulation.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The scenario.
    pub scenario: Scenario,
    /// Central transition schedule.
    pub schedule: Schedule,
    /// Linear accounts.
    pub ledger: Ledger,
    /// The fund (the scenario's, or one without limits).
    pub fund: Fund,
    /// Draw counts by multinomials instead of one child at a time.
    pub aggregate: bool,
    /// Hold the systemic shock at this level every cycle, instead of
    /// drawing its path (one-way sensitivity; None in every ordinary run).
    pub fixed_shock: Option<f64>,
    /// The shock path this engine's schedule was built with (kept to build
    /// a terminated contract's schedule under the same path).
    shock: Option<(Vec<f64>, Vec<bool>)>,
    entries: Vec<EntriesSpec>,
    /// `entries` as the trajectory loop reads them.
    entry_masks: EntryMasks,
    metrics: Vec<Evaluate>,
    /// `contract_measures[c][d]`: component c's metric over its window up to date d.
    contract_measures: Vec<Vec<Evaluate>>,
    /// Central baseline-arm expectations of the contract measures (for `"expected"`).
    baselines: Baselines,
    /// Per review with a `below`: its component's measure up to the review.
    review_measures: Vec<Option<Evaluate>>,
    /// Per-participant payments, worked out child by child.
    participants: Option<Participants>,
    /// Schedule of the comparison group, when measured by one, and its
    /// children per wave.
    control: Option<(Schedule, Vec<u64>)>,
    /// Planned children per wave.
    planned: Vec<u64>,
    /// Entry cycle per wave.
    entry_cycles: Vec<usize>,
    /// Metrics reported as `measured.<metric>.impact`: (metric, component, date).
    measured: Vec<(usize, usize, usize)>,
    /// Which optional statistics and events this contract reports.
    reports: Reports,
    /// Names of the per-replication statistics, in record order (shared
    /// with the engines a replication compiles).
    pub statistic_names: std::sync::Arc<Vec<String>>,
    /// Names of the per-replication events (probabilities), in record order.
    pub event_names: std::sync::Arc<Vec<String>>,
}

/// The central expectations a replication's `"expected"` baselines come from.
#[derive(Debug, Clone, Default, PartialEq)]
struct Baselines {
    /// `components[c][d]`.
    components: Vec<Vec<ExpectedBaseline>>,
    /// Per review (those without a component get an empty one).
    reviews: Vec<ExpectedBaseline>,
}

/// The optional statistics and events of a contract (model.md §12), reported
/// only where they can vary, so that a contract without these features
/// reports exactly what it did before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Reports {
    /// `payer.deadweight` and `payer.deadweight_share`: some component pays
    /// per counted outcome.
    pub deadweight: bool,
    /// `cohort.enrolled`: volume risk, or a review that cuts enrolment.
    pub enrolled: bool,
    /// `contract.terminated` and `contract.enrolment_stopped`: reviews.
    pub reviews: bool,
}

/// Splits `total` children over waves in proportion to their sizes
/// (largest remainder, ties to the earlier wave).
fn allocate(total: u64, sizes: &[u64]) -> Vec<u64> {
    let sum: u64 = sizes.iter().sum();
    let mut out: Vec<u64> = sizes
        .iter()
        .map(|&s| (total as u128 * s as u128 / sum as u128) as u64)
        .collect();
    let mut left = total - out.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((total as u128 * sizes[i] as u128) % sum as u128));
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// The central expectation of a contract measure in the baseline arm: the
/// total exactly as a single-wave sum computes it, and wave by wave.
fn expected_baseline(
    measure: &Evaluate,
    schedule: &Schedule,
    ledger: &Ledger,
    occupancy: &[f64],
    specs: &[EntriesSpec],
) -> ExpectedBaseline {
    let by_wave = measure.expected_by_wave(schedule, ledger.layout, occupancy, specs);
    let total = match measure {
        Evaluate::Linear(l) => l[BASELINE].of_expected(occupancy),
        Evaluate::Entries { .. } => by_wave.iter().fold(0.0, |total, x| total + x),
    };
    ExpectedBaseline { total, by_wave }
}

/// Which optional statistics a scenario reports.
fn reports(scenario: &Scenario) -> Reports {
    let Some(contract) = &scenario.contract else {
        return Reports::default();
    };
    let volume = scenario.uncertainty.as_ref().is_some_and(|u| u.enrolment.is_some());
    Reports {
        deadweight: contract.components.iter().any(|c| c.pays_per_outcome()),
        enrolled: volume || !contract.reviews.is_empty(),
        reviews: !contract.reviews.is_empty(),
    }
}

impl Engine {
    /// Compiles a scenario.
    pub fn new(scenario: Scenario) -> Engine {
        Engine::compile(scenario, None, None)
    }

    /// Whether metric `m`'s measures depend on drawn parameters: only a
    /// `cost` metric's do (drawn costs, a terminated programme); the others
    /// are reused from the central engine in every replication.
    fn drawn_measure(scenario: &Scenario, m: usize) -> bool {
        scenario.metrics[m].kind == crate::model::MetricKind::Cost
    }

    /// The states a systemic shock pushes children into.
    pub fn shock_targets(&self) -> Vec<bool> {
        match self.scenario.uncertainty.as_ref().and_then(|u| u.shock.as_ref()) {
            Some(shock) => shock.targets.clone(),
            None => self
                .scenario
                .states
                .iter()
                .map(|s| s.cost > 0.0 && !s.absorbing)
                .collect(),
        }
    }

    /// Compiles a scenario whose matrices are shocked by `shock` (z_t, targets),
    /// reusing from `central` (an engine of the same scenario's structure)
    /// its baselines (the contract's fixed "expected" baselines come from
    /// the central parameters, whatever this replication drew), the
    /// measures that do not depend on drawn parameters, and the names.
    fn compile(scenario: Scenario, shock: Option<(Vec<f64>, Vec<bool>)>, central: Option<&Engine>) -> Engine {
        let schedule = Schedule::with_parameters(
            &scenario,
            &crate::model::schedule::Parameters {
                baseline: &scenario.baseline,
                arm: &scenario.intervention.arm,
                shock: shock
                    .as_ref()
                    .map(|(path, targets)| (path.as_slice(), targets.as_slice())),
            },
        );
        let ledger = Ledger::reusing(&scenario, central.map(|c| &c.ledger));
        let mut entries: Vec<EntriesSpec> = central.map_or_else(Vec::new, |c| c.entries.clone());
        let metrics: Vec<Evaluate> = ledger
            .metrics
            .iter()
            .enumerate()
            .map(|(k, m)| match central {
                Some(c) if !Engine::drawn_measure(&scenario, k) => c.metrics[k].clone(),
                _ => Evaluate::compile(m.clone(), &mut entries),
            })
            .collect();
        let mut contract_measures = Vec::new();
        let mut review_measures = Vec::new();
        let mut measured: Vec<(usize, usize, usize)> = Vec::new();
        if let Some(contract) = &scenario.contract {
            for (c, component) in contract.components.iter().enumerate() {
                let Some(m) = component.metric else {
                    contract_measures.push(Vec::new());
                    continue;
                };
                let metric = &scenario.metrics[m];
                let measures: Vec<Evaluate> = match central {
                    Some(central) if !Engine::drawn_measure(&scenario, m) => central.contract_measures[c].clone(),
                    _ => component
                        .at
                        .iter()
                        .map(|&date| {
                            Evaluate::compile(Ledger::measure(&scenario, metric, metric.window_to(date)), &mut entries)
                        })
                        .collect(),
                };
                contract_measures.push(measures);
                let last = component.at.len() - 1;
                match measured.iter_mut().find(|(known, _, _)| *known == m) {
                    Some(entry) if contract.components[entry.1].at[entry.2] < component.at[last] => {
                        *entry = (m, c, last)
                    }
                    Some(_) => {}
                    None => measured.push((m, c, last)),
                }
            }
            for (k, review) in contract.reviews.iter().enumerate() {
                review_measures.push(review.component.filter(|_| review.below.is_some()).map(|c| {
                    let m = contract.components[c].metric.unwrap_or(0);
                    match central.and_then(|central| central.review_measures[k].as_ref()) {
                        Some(reused) if !Engine::drawn_measure(&scenario, m) => reused.clone(),
                        _ => {
                            let metric = &scenario.metrics[m];
                            Evaluate::compile(
                                Ledger::measure(&scenario, metric, metric.window_to(review.at)),
                                &mut entries,
                            )
                        }
                    }
                }));
            }
        }
        let baselines = central.map(|c| c.baselines.clone()).unwrap_or_else(|| {
            let occupancy = expected_occupancy(&schedule, ledger.layout);
            let expect = |m: &Evaluate| expected_baseline(m, &schedule, &ledger, &occupancy[BASELINE], &entries);
            Baselines {
                components: contract_measures
                    .iter()
                    .map(|dates| dates.iter().map(expect).collect())
                    .collect(),
                reviews: review_measures
                    .iter()
                    .map(|m| m.as_ref().map(expect).unwrap_or_default())
                    .collect(),
            }
        });
        let planned: Vec<u64> = schedule.waves.iter().map(|w| w.children).collect();
        let entry_cycles: Vec<usize> = schedule.waves.iter().map(|w| w.entry).collect();
        let control = scenario.contract.as_ref().and_then(|c| c.control_size).map(|size| {
            let mut control = schedule.clone();
            let mut first_child = 0;
            for (wave, children) in control.waves.iter_mut().zip(allocate(size, &planned)) {
                wave.children = children;
                wave.first_child = first_child;
                first_child += children;
            }
            let children = control.waves.iter().map(|w| w.children).collect();
            (control, children)
        });
        let participants = scenario.contract.as_ref().and_then(|contract| {
            Participants::new(contract, &entry_cycles, &|c, d| match contract_measures[c][d] {
                Evaluate::Entries { spec, never, .. } => (spec, never),
                // Validation admits only per-child metrics ex post.
                Evaluate::Linear(_) => (0, false),
            })
        });
        let fund = scenario.fund.clone().unwrap_or_else(Fund::unlimited);
        let reports = reports(&scenario);
        let (statistic_names, event_names) = match central {
            Some(c) => (c.statistic_names.clone(), c.event_names.clone()),
            None => {
                let (statistics, events) = super::record::output_names(&scenario, &measured, &fund, reports);
                (std::sync::Arc::new(statistics), std::sync::Arc::new(events))
            }
        };
        let per_child_only = !entries.is_empty() || scenario.contract.as_ref().is_some_and(|c| c.needs_per_child());
        let aggregate = match scenario.run.sampler {
            Sampler::PerChild => false,
            Sampler::Aggregate => !per_child_only,
            Sampler::Auto => {
                !per_child_only
                    && scenario
                        .cohort
                        .waves
                        .iter()
                        .all(|w| w.children >= AGGREGATE_CHILDREN_PER_STATE_PAIR * (schedule.n * schedule.n) as u64)
            }
        };
        let entry_masks = EntryMasks::new(&entries, schedule.n, schedule.horizon);
        Engine {
            scenario,
            schedule,
            ledger,
            fund,
            aggregate,
            fixed_shock: None,
            shock,
            entries,
            entry_masks,
            metrics,
            contract_measures,
            baselines,
            review_measures,
            participants,
            control,
            planned,
            entry_cycles,
            measured,
            reports,
            statistic_names,
            event_names,
        }
    }

    /// The exact expectation from the central parameters.
    pub fn expected(&self) -> Expected {
        expected_with(&self.scenario, &self.schedule, &self.ledger)
    }

    /// Fresh per-thread scratch space: the treated children and the comparison group.
    pub fn workspace(&self) -> Workspaces {
        Workspaces::new(
            Workspace::new(self.ledger.layout, self.entries.len(), self.participants.as_ref()),
            Workspace::new(self.ledger.layout, self.entries.len(), None),
        )
    }

    /// Number of treated children planned.
    pub fn children(&self) -> u64 {
        self.scenario.children()
    }

    /// One replication.
    pub fn replicate(&self, seed: u64, replication: u64, workspaces: &mut Workspaces, record: &mut Record) {
        self.replicate_in(seed, 0, replication, None, workspaces, record, None);
    }

    /// One replication as contract `contract` of a portfolio, under the
    /// portfolio's shared shock path if given: parameters are drawn first
    /// (under `[uncertainty]`), then trajectories; `cancel` stops a long
    /// replication early (its record is then incomplete).
    #[allow(clippy::too_many_arguments)]
    pub fn replicate_in(
        &self,
        seed: u64,
        contract: u64,
        replication: u64,
        shared_shock: Option<&[f64]>,
        workspaces: &mut Workspaces,
        record: &mut Record,
        cancel: Option<&AtomicBool>,
    ) {
        let uncertainty = self.scenario.uncertainty.as_ref();
        let own_shock = uncertainty.and_then(|u| u.shock.as_ref());
        if !uncertainty.is_some_and(|u| u.draws_parameters()) && shared_shock.is_none() && self.fixed_shock.is_none() {
            return self.replicate_core(seed, contract, replication, workspaces.buffers(), record, cancel);
        }
        let shock = match (shared_shock, self.fixed_shock, own_shock) {
            (Some(p), _, _) => ShockPath::Shared(p),
            (None, Some(level), _) => ShockPath::Fixed(level),
            (None, None, Some(shock)) => ShockPath::Drawn(shock),
            (None, None, None) => ShockPath::None,
        };
        self.replicate_drawn(seed, contract, replication, shock, workspaces, record, cancel);
    }

    #[allow(clippy::too_many_arguments)]
    fn replicate_core(
        &self,
        seed: u64,
        contract: u64,
        replication: u64,
        buffers: &mut Buffers,
        record: &mut Record,
        cancel: Option<&AtomicBool>,
    ) {
        let Buffers {
            treated,
            control,
            settle: scratch,
        } = buffers;
        // Each wave's enrolled children: as planned, or drawn under volume risk.
        let enrolled = match self.scenario.uncertainty.as_ref().and_then(|u| u.enrolment.as_ref()) {
            Some(enrolment) => {
                let drawn = &mut scratch.enrolled;
                super::reviews::enrolled_into(enrolment, &self.planned, seed, contract, replication, drawn);
                drawn.as_slice()
            }
            None => &self.planned,
        };
        self.simulate(seed, contract, replication, enrolled, treated, control, cancel);
        let decisions = self.review(seed, contract, replication, treated, control);
        match decisions.terminated {
            None => self.settle(decisions, treated, control, scratch, record),
            Some((at, _)) => {
                // The programme stops after `at`: the same children, the same
                // draws, transitions from then on as after the programme.
                // Rare (a review terminated the contract), so compiled here.
                let mut scenario = self.scenario.clone();
                scenario.intervention.ends_at = Some(at + 1);
                let engine = Engine::compile(scenario, self.shock.clone(), Some(self));
                let enrolled = enrolled.to_vec();
                engine.simulate(seed, contract, replication, &enrolled, treated, control, cancel);
                engine.cancel_waves(&decisions, treated, control);
                engine.settle(decisions, treated, control, scratch, record);
            }
        }
    }

    /// Everything a replication reports once its children are simulated and
    /// the reviews have decided.
    fn settle(
        &self,
        decisions: Decisions,
        treated: &Workspace,
        control: &Workspace,
        scratch: &mut SettleBuffers,
        record: &mut Record,
    ) {
        let horizon = self.scenario.time.horizon;
        let step = self.scenario.time.cycle_years;
        record.values.clear();
        record.events.clear();
        self.push_metrics(treated, &mut scratch.metric_values, &mut record.values);
        let paid = self.settle_contract(treated, control, &decisions, scratch, &mut record.values);
        record.payments.clone_from(&scratch.settlement.by_cycle);

        // The fund.
        let programme = &mut scratch.programme;
        programme.resize(horizon, 0.0);
        self.programme_by_cycle(treated.occupied(INTERVENTION), &treated.children, programme);
        let payer_bears = self.scenario.intervention.payer == ProgrammePayer::Payer;
        record.fund_spending.clear();
        if payer_bears {
            record.fund_spending.resize(horizon, 0.0);
        } else {
            record.fund_spending.extend_from_slice(programme);
        }
        let closing = decisions
            .terminated
            .map(|(at, payment_share)| Closing { at, payment_share });
        let flows = &mut scratch.flows;
        self.fund
            .flows_into(&record.fund_spending, &record.payments, step, closing, flows);
        if let Some(closing) = closing {
            record.payments[closing.at] += flows.termination_payment;
        }

        let payer = self.payer_totals(treated, &record.payments, flows);
        let investor_rate = self.scenario.discounting.investor_rate;
        let (money, events) = Money::settle(payer, flows, investor_rate, step, paid.without_impact);
        record.push_money(money, events);
        self.push_contract_figures(treated, &decisions, paid.per_participant, record);
        if self.event_names.len() > record.events.len() {
            for tranche in &flows.tranches {
                let m = multiple(tranche.distributions, tranche.contributions);
                record.values.extend([
                    irr(&tranche.flows, step).value(),
                    m,
                    tranche.contributions,
                    tranche.distributions,
                ]);
                record.events.push(m < 1.0);
            }
        }
        let programme_by_payer = if payer_bears {
            Some(scratch.programme.as_slice())
        } else {
            None
        };
        self.cash_paths(treated, programme_by_payer, &scratch.flows, &mut scratch.payer, record);
    }

    /// Appends the optional contract statistics and events ([`Reports`]).
    fn push_contract_figures(
        &self,
        treated: &Workspace,
        decisions: &Decisions,
        per_participant: [f64; 2],
        record: &mut Record,
    ) {
        if self.reports.deadweight {
            let [paid, deadweight] = per_participant;
            let share = if paid != 0.0 { deadweight / paid } else { f64::NAN };
            record.values.extend([deadweight, share]);
        }
        if self.reports.enrolled {
            record.values.push(treated.children.iter().sum::<u64>() as f64);
        }
        if self.reports.reviews {
            record
                .events
                .extend([decisions.terminated.is_some(), decisions.enrolment_stopped]);
        }
    }

    /// Draws the treated children in both arms (`enrolled[w]` in wave w),
    /// and the comparison group if the contract has one, each on its own
    /// keyed stream.
    #[allow(clippy::too_many_arguments)]
    fn simulate(
        &self,
        seed: u64,
        contract: u64,
        replication: u64,
        enrolled: &[u64],
        treated: &mut Workspace,
        control: &mut Workspace,
        cancel: Option<&AtomicBool>,
    ) {
        let simulate = |schedule: &Schedule,
                        participants: Option<&Participants>,
                        children: &[u64],
                        purpose: Purpose,
                        workspace: &mut Workspace| {
            let layout = self.ledger.layout;
            let mut rng = stream_for(seed, contract, replication, purpose);
            if self.aggregate {
                simulate_treated_aggregate(schedule, layout, children, &mut rng, workspace, cancel);
            } else {
                let entries = &self.entry_masks;
                simulate_treated(
                    schedule,
                    layout,
                    entries,
                    participants,
                    children,
                    &mut rng,
                    workspace,
                    cancel,
                );
            }
        };
        let participants = self.participants.as_ref();
        simulate(&self.schedule, participants, enrolled, Purpose::Trajectories, treated);
        if let Some((schedule, children)) = &self.control {
            simulate(schedule, None, children, Purpose::ControlGroup, control);
        }
    }

    /// Appends every metric in both arms, then every true impact.
    fn push_metrics(&self, treated: &Workspace, metric_values: &mut Vec<[f64; 2]>, values: &mut Vec<f64>) {
        metric_values.clear();
        Evaluate::evaluate_all(&self.metrics, treated, &self.entry_cycles, metric_values);
        for arm in [BASELINE, INTERVENTION] {
            values.extend(metric_values.iter().map(|v| v[arm]));
        }
        values.extend(
            self.scenario
                .metrics
                .iter()
                .zip(metric_values.iter())
                .map(|(m, v)| m.improvement(v[BASELINE], v[INTERVENTION])),
        );
    }

    /// Runs like [`Engine::run`], folding each replication's record into an
    /// accumulator instead of keeping it (see [`replicate_fold`]).
    ///
    /// # Errors
    /// As for [`Engine::run`].
    pub fn run_fold<D: Fold>(&self, options: &RunOptions, fold: &D) -> Result<D::State> {
        replicate_fold(
            options,
            || self.workspace(),
            |workspaces, r, record| self.replicate_in(options.seed, 0, r, None, workspaces, record, options.cancel),
            fold,
        )
    }

    /// Runs replications `first .. first + replications` in parallel.
    ///
    /// # Errors
    /// [`crate::error::Error::Interrupted`] when cancelled; [`crate::error::Error::Runtime`] when the
    /// thread pool cannot be built.
    pub fn run(&self, options: &RunOptions) -> Result<RunResults> {
        let records = replicate_all(
            options,
            || self.workspace(),
            |workspaces, r, record| self.replicate_in(options.seed, 0, r, None, workspaces, record, options.cancel),
        )?;
        Ok(RunResults::from_records(
            &records,
            &self.scenario.name,
            options,
            self.statistic_names.to_vec(),
            self.event_names.to_vec(),
            self.scenario.time.horizon,
            self.scenario.time.start_year,
            self.scenario.time.cycle_years,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::allocate;

    #[test]
    fn control_group_is_allocated_in_proportion() {
        assert_eq!(allocate(300, &[25, 25]), vec![150, 150]);
        assert_eq!(allocate(10, &[1, 2]), vec![3, 7]);
        assert_eq!(allocate(7, &[5]), vec![7]);
        assert_eq!(allocate(3, &[1, 1, 1, 1]).iter().sum::<u64>(), 3);
    }
}
