//! Replications in parallel, results in replication order.
//!
//! One replication: the treated children in both arms (common random
//! numbers), the comparison group if the contract has one, the contract's
//! payments, the fund's cash flows, and every per-replication statistic.

use super::parallel::{replicate_all, RunOptions};
use super::parameters;
use super::record::{Money, PayerTotals, Record, RunResults};
use super::replication::{simulate_treated, simulate_treated_aggregate, EntriesSpec, Workspace};
use super::rng::{stream_for, Purpose};
use crate::contract::Observation;
use crate::error::Result;
use crate::fund::irr::irr;
use crate::fund::{multiple, FundFlows};
use crate::model::contract::{Baseline, Measurement};
use crate::model::expected::{expected_entries, expected_occupancy, expected_with, Expected};
use crate::model::fund::Fund;
use crate::model::ledger::{in_programme, Ledger, Linear, Measure, BASELINE, INTERVENTION};
use crate::model::schedule::Schedule;
use crate::model::{discount_factor, names, Counting, ProgrammePayer, Sampler, Scenario};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::AtomicBool;

/// A measure as the engine evaluates it.
#[derive(Debug, Clone)]
enum Evaluate {
    Linear(Box<[Linear; 2]>),
    /// Index into the sampler's entries specs.
    Entries(usize),
}

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
    entries: Vec<EntriesSpec>,
    metrics: Vec<Evaluate>,
    /// `contract_measures[c][d]`: component c's metric over its window up to date d.
    contract_measures: Vec<Vec<Evaluate>>,
    /// Exact baseline-arm values of the contract measures (for `"expected"`).
    expected_baselines: Vec<Vec<f64>>,
    /// Schedule of the comparison group, when measured by one.
    control: Option<Schedule>,
    /// Metrics reported as `measured.<metric>.impact`: (metric, component, date).
    measured: Vec<(usize, usize, usize)>,
    /// Names of the per-replication statistics, in record order.
    pub statistic_names: Vec<String>,
    /// Names of the per-replication events (probabilities), in record order.
    pub event_names: Vec<String>,
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

/// Evaluates a measure on one simulation's workspace.
fn evaluate(measure: &Evaluate, workspace: &Workspace) -> [f64; 2] {
    match measure {
        Evaluate::Linear(l) => [BASELINE, INTERVENTION].map(|arm| l[arm].of_counts(&workspace.occupancy[arm])),
        Evaluate::Entries(i) => workspace.entries[*i].map(|x| x as f64),
    }
}

impl Engine {
    /// Compiles a scenario.
    pub fn new(scenario: Scenario) -> Engine {
        Engine::compile(scenario, None, None)
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
    /// reusing `central_baselines` (the contract's fixed "expected" baselines
    /// come from the central parameters, whatever this replication drew).
    fn compile(
        scenario: Scenario,
        shock: Option<(&[f64], &[bool])>,
        central_baselines: Option<Vec<Vec<f64>>>,
    ) -> Engine {
        let schedule = Schedule::with_parameters(
            &scenario,
            &crate::model::schedule::Parameters {
                baseline: &scenario.baseline,
                arm: &scenario.intervention.arm,
                shock,
            },
        );
        let ledger = Ledger::new(&scenario);
        let mut entries: Vec<EntriesSpec> = Vec::new();
        let mut compile = |measure: Measure| match measure {
            Measure::Linear(l) => Evaluate::Linear(Box::new(l)),
            Measure::Entries { states, window } => {
                let spec = EntriesSpec {
                    mask: states
                        .iter()
                        .enumerate()
                        .filter(|(_, &b)| b)
                        .fold(0u64, |acc, (s, _)| acc | 1 << s),
                    window,
                };
                let index = entries.iter().position(|e| *e == spec).unwrap_or_else(|| {
                    entries.push(spec);
                    entries.len() - 1
                });
                Evaluate::Entries(index)
            }
        };
        let metrics: Vec<Evaluate> = ledger.metrics.iter().cloned().map(&mut compile).collect();
        let mut contract_measures = Vec::new();
        let mut measured: Vec<(usize, usize, usize)> = Vec::new();
        if let Some(contract) = &scenario.contract {
            for (c, component) in contract.components.iter().enumerate() {
                let metric = &scenario.metrics[component.metric];
                let measures: Vec<Evaluate> = component
                    .at
                    .iter()
                    .map(|&date| {
                        let window = (metric.window.0, metric.window.1.min(date + 1).max(metric.window.0));
                        compile(Ledger::measure(&scenario, metric, window))
                    })
                    .collect();
                contract_measures.push(measures);
                let last = component.at.len() - 1;
                match measured.iter_mut().find(|(m, _, _)| *m == component.metric) {
                    Some(entry) if contract.components[entry.1].at[entry.2] < component.at[last] => {
                        *entry = (component.metric, c, last)
                    }
                    Some(_) => {}
                    None => measured.push((component.metric, c, last)),
                }
            }
        }
        let occupancy = expected_occupancy(&schedule, ledger.layout);
        let expected_baselines = central_baselines.unwrap_or_else(|| {
            contract_measures
                .iter()
                .map(|dates| {
                    dates
                        .iter()
                        .map(|m| match m {
                            Evaluate::Linear(l) => l[BASELINE].of_expected(&occupancy[BASELINE]),
                            Evaluate::Entries(i) => {
                                let spec = entries[*i];
                                let states: Vec<bool> = (0..schedule.n).map(|s| spec.mask >> s & 1 == 1).collect();
                                expected_entries(&schedule, &states, spec.window)[BASELINE]
                            }
                        })
                        .collect()
                })
                .collect()
        });
        let control = match scenario.contract.as_ref().map(|c| c.measurement) {
            Some(Measurement::ControlGroup { size }) => {
                let sizes: Vec<u64> = schedule.waves.iter().map(|w| w.children).collect();
                let mut control = schedule.clone();
                for (wave, children) in control.waves.iter_mut().zip(allocate(size, &sizes)) {
                    wave.children = children;
                }
                Some(control)
            }
            _ => None,
        };
        let fund = scenario.fund.clone().unwrap_or_else(Fund::unlimited);
        let (statistic_names, event_names) = super::record::output_names(&scenario, &measured, &fund);
        let aggregate = match scenario.run.sampler {
            Sampler::PerChild => false,
            Sampler::Aggregate => true,
            Sampler::Auto => {
                entries.is_empty()
                    && scenario
                        .cohort
                        .waves
                        .iter()
                        .all(|w| w.children >= AGGREGATE_CHILDREN_PER_STATE_PAIR * (schedule.n * schedule.n) as u64)
            }
        };
        Engine {
            scenario,
            schedule,
            ledger,
            fund,
            aggregate,
            fixed_shock: None,
            entries,
            metrics,
            contract_measures,
            expected_baselines,
            control,
            measured,
            statistic_names,
            event_names,
        }
    }

    /// The exact expectation from the central parameters.
    pub fn expected(&self) -> Expected {
        expected_with(&self.scenario, &self.schedule, &self.ledger)
    }

    /// Fresh per-thread scratch space: the treated children and the comparison group.
    pub fn workspace(&self) -> (Workspace, Workspace) {
        (
            Workspace::new(self.ledger.layout, self.entries.len()),
            Workspace::new(self.ledger.layout, self.entries.len()),
        )
    }

    /// Number of treated children.
    pub fn children(&self) -> u64 {
        self.scenario.children()
    }

    /// Adds `amount(wave, cycle, state) × occupancy` to `out[cycle]`, with the
    /// counting convention (undiscounted).
    fn per_cycle(&self, occupancy: &[u32], sign: f64, amount: &dyn Fn(usize, usize, usize) -> f64, out: &mut [f64]) {
        let layout = self.ledger.layout;
        let parts: &[(usize, f64)] = match self.scenario.counting {
            Counting::Start => &[(0, 1.0)],
            Counting::End => &[(1, 1.0)],
            Counting::HalfCycle => &[(0, 0.5), (1, 0.5)],
        };
        for (w, wave) in self.schedule.waves.iter().enumerate() {
            for (t, cell) in out.iter_mut().enumerate().skip(wave.entry) {
                for &(offset, share) in parts {
                    for s in 0..layout.states {
                        let count = occupancy[layout.index(w, t + offset, s)];
                        if count != 0 {
                            *cell += sign * share * amount(w, t, s) * count as f64;
                        }
                    }
                }
            }
        }
    }

    /// Programme costs per cycle (undiscounted) in the intervention arm.
    fn programme_by_cycle(&self, occupancy: &[u32], out: &mut [f64]) {
        let iv = &self.scenario.intervention;
        out.fill(0.0);
        if iv.cost_per_child_cycle > 0.0 {
            let waves = &self.scenario.cohort.waves;
            let amount = |w: usize, t: usize, s: usize| {
                if in_programme(&self.scenario, waves[w].cycle, t) && !iv.stops_in[s] {
                    iv.cost_per_child_cycle
                } else {
                    0.0
                }
            };
            self.per_cycle(occupancy, 1.0, &amount, out);
        }
        for (t, cell) in out.iter_mut().enumerate() {
            if self
                .scenario
                .cohort
                .waves
                .iter()
                .any(|w| in_programme(&self.scenario, w.cycle, t))
            {
                *cell += iv.fixed_cost_per_cycle;
            }
        }
    }

    /// One replication.
    pub fn replicate(&self, seed: u64, replication: u64, workspaces: &mut (Workspace, Workspace), record: &mut Record) {
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
        workspaces: &mut (Workspace, Workspace),
        record: &mut Record,
        cancel: Option<&AtomicBool>,
    ) {
        let own_shock = self.scenario.uncertainty.as_ref().and_then(|u| u.shock.as_ref());
        if self.scenario.uncertainty.is_none() && shared_shock.is_none() && self.fixed_shock.is_none() {
            return self.replicate_core(seed, contract, replication, workspaces, record, cancel);
        }
        let horizon = self.scenario.time.horizon;
        let path = match (shared_shock, self.fixed_shock, own_shock) {
            (Some(p), _, _) => Some(p.to_vec()),
            (None, Some(level), _) => Some(vec![level; horizon]),
            (None, None, Some(shock)) => Some(parameters::shock_path(shock, horizon, seed, replication)),
            (None, None, None) => None,
        };
        let targets = self.shock_targets();
        let drawn = parameters::draw(&self.scenario, seed, contract, replication);
        let engine = Engine::compile(
            drawn,
            path.as_deref().map(|p| (p, targets.as_slice())),
            Some(self.expected_baselines.clone()),
        );
        engine.replicate_core(seed, contract, replication, workspaces, record, cancel);
    }

    fn replicate_core(
        &self,
        seed: u64,
        contract: u64,
        replication: u64,
        workspaces: &mut (Workspace, Workspace),
        record: &mut Record,
        cancel: Option<&AtomicBool>,
    ) {
        let (treated, control) = workspaces;
        self.simulate(seed, contract, replication, treated, control, cancel);
        let horizon = self.scenario.time.horizon;
        let step = self.scenario.time.cycle_years;
        record.values.clear();
        record.events.clear();
        self.push_metrics(treated, &mut record.values);
        let (payments, paid_without_impact) = self.settle_contract(treated, control, &mut record.values);

        // The fund.
        let mut programme = vec![0.0; horizon];
        self.programme_by_cycle(&treated.occupancy[INTERVENTION], &mut programme);
        let payer_bears = self.scenario.intervention.payer == ProgrammePayer::Payer;
        let fund_spending: Vec<f64> = if payer_bears {
            vec![0.0; horizon]
        } else {
            programme.clone()
        };
        let flows = self.fund.flows(&fund_spending, &payments, step);
        record.payments.clone_from(&payments);
        record.fund_spending.clone_from(&fund_spending);

        let payer = self.payer_totals(treated, &payments, &flows);
        let investor_rate = self.scenario.discounting.investor_rate;
        let (money, events) = Money::settle(payer, &flows, investor_rate, step, paid_without_impact);
        record.push_money(money, events);
        if self.event_names.len() > names::MONEY_EVENTS.len() {
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
        let programme_by_payer = if payer_bears { Some(programme.as_slice()) } else { None };
        self.cash_paths(treated, &payments, programme_by_payer, &flows, record);
    }

    /// Draws the treated children in both arms, and the comparison group if
    /// the contract has one, each on its own keyed stream.
    fn simulate(
        &self,
        seed: u64,
        contract: u64,
        replication: u64,
        treated: &mut Workspace,
        control: &mut Workspace,
        cancel: Option<&AtomicBool>,
    ) {
        let simulate = |schedule: &Schedule, rng: &mut ChaCha8Rng, workspace: &mut Workspace| {
            if self.aggregate {
                simulate_treated_aggregate(schedule, self.ledger.layout, rng, workspace, cancel);
            } else {
                simulate_treated(schedule, self.ledger.layout, &self.entries, rng, workspace, cancel);
            }
        };
        let mut rng = stream_for(seed, contract, replication, Purpose::Trajectories);
        simulate(&self.schedule, &mut rng, treated);
        if let Some(schedule) = &self.control {
            let mut rng = stream_for(seed, contract, replication, Purpose::ControlGroup);
            simulate(schedule, &mut rng, control);
        }
    }

    /// Appends every metric in both arms, then every true impact.
    fn push_metrics(&self, treated: &Workspace, values: &mut Vec<f64>) {
        let metric_values: Vec<[f64; 2]> = self.metrics.iter().map(|m| evaluate(m, treated)).collect();
        for arm in [BASELINE, INTERVENTION] {
            values.extend(metric_values.iter().map(|v| v[arm]));
        }
        values.extend(metric_values.iter().map(|v| v[BASELINE] - v[INTERVENTION]));
    }

    /// Measures each component at its dates, appends the measured impacts,
    /// and settles the contract: the payment at the end of each cycle, and
    /// whether any component paid although its true impact was not positive.
    fn settle_contract(&self, treated: &Workspace, control: &Workspace, values: &mut Vec<f64>) -> (Vec<f64>, bool) {
        let horizon = self.scenario.time.horizon;
        let Some(contract) = &self.scenario.contract else {
            return (vec![0.0; horizon], false);
        };
        let treated_children = self.children() as f64;
        let mut observations = Vec::with_capacity(contract.components.len());
        for (c, component) in contract.components.iter().enumerate() {
            let dates: Vec<Observation> = self.contract_measures[c]
                .iter()
                .enumerate()
                .map(|(d, measure)| {
                    let observed = evaluate(measure, treated)[INTERVENTION];
                    let baseline = match &component.baseline {
                        Baseline::Stated(v) => v[d],
                        Baseline::Expected => self.expected_baselines[c][d],
                        Baseline::FromControl => {
                            let size = match contract.measurement {
                                Measurement::ControlGroup { size } => size as f64,
                                Measurement::FixedBaseline => 1.0,
                            };
                            evaluate(measure, control)[BASELINE] / size * treated_children
                        }
                    };
                    Observation {
                        impact: baseline - observed,
                        baseline,
                    }
                })
                .collect();
            observations.push(dates);
        }
        for &(_, c, d) in &self.measured {
            values.push(observations[c][d].impact);
        }
        let settlement = contract.settle(&observations, horizon);
        let mut paid_without_impact = false;
        for (c, &paid) in settlement.by_component.iter().enumerate() {
            let last = self.contract_measures[c].len() - 1;
            let truth = evaluate(&self.contract_measures[c][last], treated);
            if paid > 0.0 && truth[BASELINE] - truth[INTERVENTION] <= 0.0 {
                paid_without_impact = true;
            }
        }
        (settlement.by_cycle, paid_without_impact)
    }

    /// The payer's discounted totals: state costs avoided, payments less
    /// return-cap refunds, and the programme costs it bears.
    fn payer_totals(&self, treated: &Workspace, payments: &[f64], flows: &FundFlows) -> PayerTotals {
        let rate = self.scenario.discounting.payer_rate;
        let step = self.scenario.time.cycle_years;
        let state_cost =
            [BASELINE, INTERVENTION].map(|arm| self.ledger.state_cost[arm].of_counts(&treated.occupancy[arm]));
        let mut paid = 0.0;
        for (t, p) in payments.iter().enumerate() {
            paid += p * discount_factor(rate, (t + 1) as f64 * step);
        }
        for (k, r) in flows.refunds.iter().enumerate() {
            paid -= r * discount_factor(rate, k as f64 * step);
        }
        PayerTotals {
            true_savings: state_cost[BASELINE] - state_cost[INTERVENTION],
            payments: paid,
            programme_costs: self
                .ledger
                .payer_programme_cost
                .of_counts(&treated.occupancy[INTERVENTION]),
        }
    }

    /// Cumulative cash paths at the end of each cycle: the investors' net
    /// flow, and the payer's undiscounted position (state costs avoided −
    /// payments + refunds − the programme costs it bears).
    fn cash_paths(
        &self,
        treated: &Workspace,
        payments: &[f64],
        programme_by_payer: Option<&[f64]>,
        flows: &FundFlows,
        record: &mut Record,
    ) {
        let horizon = self.scenario.time.horizon;
        record.investor_path.clear();
        let mut cumulative = flows.investor[0];
        for t in 0..horizon {
            cumulative += flows.investor[t + 1];
            record.investor_path.push(cumulative);
        }
        let mut payer = vec![0.0; horizon];
        let costs = &self.scenario.states;
        let state_amount = |_: usize, _: usize, s: usize| costs[s].cost;
        self.per_cycle(&treated.occupancy[BASELINE], 1.0, &state_amount, &mut payer);
        self.per_cycle(&treated.occupancy[INTERVENTION], -1.0, &state_amount, &mut payer);
        record.payer_path.clear();
        let mut cumulative = 0.0;
        for t in 0..horizon {
            cumulative += payer[t] - payments[t] + flows.refunds[t + 1];
            if let Some(programme) = programme_by_payer {
                cumulative -= programme[t];
            }
            record.payer_path.push(cumulative);
        }
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
            self.statistic_names.clone(),
            self.event_names.clone(),
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
