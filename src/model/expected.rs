//! The exact expectation: state distributions propagated through both arms,
//! no sampling. Children of a wave are independent and identically
//! distributed, so expected occupancy is `children × distribution`.

use super::ledger::{Layout, Ledger, Measure, BASELINE, INTERVENTION};
use super::names;
use super::schedule::{Schedule, NO_FORCED_STATE};
use super::Scenario;

/// Expected occupancy per arm, in the [`Layout`] of the ledger.
pub fn expected_occupancy(schedule: &Schedule, layout: Layout) -> [Vec<f64>; 2] {
    [BASELINE, INTERVENTION].map(|arm| {
        let mut occupancy = vec![0.0; layout.len()];
        let n = layout.states;
        for (w, wave) in schedule.waves.iter().enumerate() {
            let mut dist = wave.initial.clone();
            let mut next = vec![0.0; n];
            let children = wave.children as f64;
            for (k, step) in std::iter::once(None).chain(wave.steps.iter().map(Some)).enumerate() {
                if let Some(step) = step {
                    let matrix = &schedule.matrices[if arm == BASELINE {
                        step.baseline
                    } else {
                        step.intervention
                    } as usize];
                    transition(&dist, matrix, n, step.forced_state, &mut next);
                    std::mem::swap(&mut dist, &mut next);
                }
                let slot = wave.entry + k;
                for s in 0..n {
                    occupancy[layout.index(w, slot, s)] = children * dist[s];
                }
            }
        }
        occupancy
    })
}

fn transition(dist: &[f64], matrix: &[f64], n: usize, forced: u8, next: &mut [f64]) {
    if forced != NO_FORCED_STATE {
        next.fill(0.0);
        next[forced as usize] = dist.iter().sum();
        return;
    }
    next.fill(0.0);
    for (i, &p) in dist.iter().enumerate() {
        if p == 0.0 {
            continue;
        }
        for j in 0..n {
            next[j] += p * matrix[i * n + j];
        }
    }
}

/// Expected number of children entering `states` within `window`, per arm:
/// propagates the joint distribution of (state, entered yet).
pub fn expected_entries(schedule: &Schedule, states: &[bool], window: (usize, usize)) -> [f64; 2] {
    let by_wave = expected_entries_by_wave(schedule, states, window);
    [BASELINE, INTERVENTION].map(|arm| by_wave.iter().fold(0.0, |total, wave| total + wave[arm]))
}

/// Expected children counted by an `entries` measure (`never`: by its
/// complement, children of the waves started within the window who never
/// entered), per arm.
pub fn expected_count(schedule: &Schedule, states: &[bool], window: (usize, usize), never: bool) -> [f64; 2] {
    let by_wave = expected_count_by_wave(schedule, states, window, never);
    [BASELINE, INTERVENTION].map(|arm| by_wave.iter().fold(0.0, |total, wave| total + wave[arm]))
}

/// [`expected_count`] wave by wave.
pub fn expected_count_by_wave(
    schedule: &Schedule,
    states: &[bool],
    window: (usize, usize),
    never: bool,
) -> Vec<[f64; 2]> {
    let entries = expected_entries_by_wave(schedule, states, window);
    if !never {
        return entries;
    }
    schedule
        .waves
        .iter()
        .zip(entries)
        .map(|(wave, entered)| {
            let started = if wave.entry < window.1 {
                wave.children as f64
            } else {
                0.0
            };
            entered.map(|e| started - e)
        })
        .collect()
}

/// [`expected_entries`] wave by wave.
pub fn expected_entries_by_wave(schedule: &Schedule, states: &[bool], window: (usize, usize)) -> Vec<[f64; 2]> {
    let n = schedule.n;
    let in_window = |t: usize| t >= window.0 && t < window.1;
    let mut out = vec![[0.0; 2]; schedule.waves.len()];
    for arm in [BASELINE, INTERVENTION] {
        for (w, wave) in schedule.waves.iter().enumerate() {
            // joint[s] = not yet entered, joint[n + s] = entered
            let mut joint = vec![0.0; 2 * n];
            for s in 0..n {
                let flagged = in_window(wave.entry) && states[s];
                joint[if flagged { n + s } else { s }] = wave.initial[s];
            }
            for (k, step) in wave.steps.iter().enumerate() {
                let t_next = wave.entry + k + 1;
                let matrix = &schedule.matrices[if arm == BASELINE {
                    step.baseline
                } else {
                    step.intervention
                } as usize];
                let mut next = vec![0.0; 2 * n];
                for flag in 0..2 {
                    for i in 0..n {
                        let p = joint[flag * n + i];
                        if p == 0.0 {
                            continue;
                        }
                        let mut move_to = |j: usize, q: f64| {
                            let entered = flag == 1 || (in_window(t_next) && states[j] && !states[i]);
                            next[if entered { n + j } else { j }] += q;
                        };
                        if step.forced_state != NO_FORCED_STATE {
                            move_to(step.forced_state as usize, p);
                        } else {
                            for j in 0..n {
                                move_to(j, p * matrix[i * n + j]);
                            }
                        }
                    }
                }
                joint = next;
            }
            out[w][arm] = wave.children as f64 * joint[n..].iter().sum::<f64>();
        }
    }
    out
}

/// The exact expectation of each arm metric and of the payer's true savings.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// `(metric name, [baseline, intervention])`, in scenario order.
    pub metrics: Vec<(String, [f64; 2])>,
    /// Payer's state costs per arm, whole horizon, discounted at the payer's rate.
    pub state_cost: [f64; 2],
    /// Programme costs the payer bears, discounted likewise.
    pub payer_programme_cost: f64,
    /// Outcome and enrolment payments, discounted likewise, when their
    /// expectation is exact (see [`expected_payments`]).
    pub payments: Option<f64>,
    /// Figures that have no exact expectation here, with the reason:
    /// (name, why); `*` stands for every figure.
    pub not_analytic: Vec<(String, String)>,
}

impl Expected {
    /// Expected true savings: the difference of the payer's state costs,
    /// baseline − intervention (model.md §9: gross of programme costs).
    pub fn true_savings(&self) -> f64 {
        self.state_cost[BASELINE] - self.state_cost[INTERVENTION]
    }

    /// `(name, value)` pairs as reported: `arm.baseline.<m>`,
    /// `arm.intervention.<m>`, `payer.true_savings`.
    pub fn named(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for (name, v) in &self.metrics {
            out.push((names::arm(names::ARMS[BASELINE], name), v[BASELINE]));
        }
        for (name, v) in &self.metrics {
            out.push((names::arm(names::ARMS[INTERVENTION], name), v[INTERVENTION]));
        }
        out.push((names::TRUE_SAVINGS.to_string(), self.true_savings()));
        out.push((names::PROGRAMME_COSTS.to_string(), self.payer_programme_cost));
        if let Some(p) = self.payments {
            out.push((names::PAYMENTS.to_string(), p));
        }
        if self.not_analytic.iter().any(|(n, _)| n == "*") {
            out.clear();
        }
        out
    }
}

/// Computes the exact expectation from the scenario's central parameters.
pub fn expected(scenario: &Scenario) -> Expected {
    let schedule = Schedule::new(scenario);
    let ledger = Ledger::new(scenario);
    expected_with(scenario, &schedule, &ledger)
}

/// Computes the exact expectation for a compiled schedule and ledger. Under
/// volume risk every wave enrols `mean` × its children in expectation, and
/// everything but fixed costs is linear in children, so occupancy and counts
/// scale by the mean share.
pub fn expected_with(scenario: &Scenario, schedule: &Schedule, ledger: &Ledger) -> Expected {
    let mut occupancy = expected_occupancy(schedule, ledger.layout);
    let share = scenario.uncertainty.as_ref().and_then(|u| u.enrolment).map(|e| e.mean);
    if let Some(share) = share {
        occupancy.iter_mut().flatten().for_each(|x| *x *= share);
    }
    let metrics = scenario
        .metrics
        .iter()
        .zip(&ledger.metrics)
        .map(|(m, measure)| {
            let values = match measure {
                Measure::Linear(l) => [
                    l[BASELINE].of_expected(&occupancy[BASELINE]),
                    l[INTERVENTION].of_expected(&occupancy[INTERVENTION]),
                ],
                Measure::Entries { states, window, never } => {
                    expected_count(schedule, states, *window, *never).map(|x| x * share.unwrap_or(1.0))
                }
            };
            (m.name.clone(), values)
        })
        .collect();
    let share = share.unwrap_or(1.0);
    let (payments, mut not_analytic) = match expected_payments(scenario, schedule, share) {
        Ok(p) => (p, Vec::new()),
        Err(why) => (None, vec![(names::PAYMENTS.to_string(), why)]),
    };
    if scenario.contract.as_ref().is_some_and(|c| !c.reviews.is_empty()) {
        not_analytic.push((
            "*".to_string(),
            "the contract's reviews decide from measured results or by chance who enrols and whether the programme goes on, \
             so no figure has an exact expectation from the central parameters alone: simulate"
                .to_string(),
        ));
    }
    Expected {
        payments,
        not_analytic,
        metrics,
        state_cost: [
            ledger.state_cost[BASELINE].of_expected(&occupancy[BASELINE]),
            ledger.state_cost[INTERVENTION].of_expected(&occupancy[INTERVENTION]),
        ],
        payer_programme_cost: ledger.payer_programme_cost.of_expected(&occupancy[INTERVENTION]),
    }
}

/// The exact expected payments (discounted at the payer's rate, lag
/// included) when every component pays per participant with nothing that
/// makes payments a nonlinear function of outcomes; `Ok(None)` without a
/// contract; `Err(why)` otherwise.
///
/// Child by child, an ex-post component pays its price at the first of the
/// child's dates (on or after its entry) on which it has the outcome;
/// outcomes counted to a date only grow (`entries`) or only shrink
/// (`never_entered`) as the date moves on, so that is the increase of the
/// outcome's probability from date to date, or for a shrinking outcome the
/// probability at the first date only (with clawback: every change).
pub fn expected_payments(scenario: &Scenario, schedule: &Schedule, share: f64) -> Result<Option<f64>, String> {
    let Some(contract) = &scenario.contract else {
        return Ok(None);
    };
    if contract.max_per_child.is_some() {
        return Err(
            "`max_per_child` caps each child's payments: a nonlinear function of its outcomes; simulate".into(),
        );
    }
    if contract.max_total.is_some() || contract.cap_per_date.is_some() {
        return Err("the contract's caps make payments a nonlinear function of outcomes; simulate".into());
    }
    let rate = scenario.discounting.payer_rate;
    let step = scenario.time.cycle_years;
    let horizon = scenario.time.horizon;
    let mut total = 0.0;
    for (c, component) in contract.components.iter().enumerate() {
        if component.threshold.is_some() || component.cap.is_some() || component.cap_per_date.is_some() {
            return Err(format!(
                "payment {} has a threshold or a cap: a nonlinear function of outcomes; simulate",
                c + 1
            ));
        }
        let discount =
            |date: usize| super::discount_factor(rate, (contract.paid_in(c, date, horizon) + 1) as f64 * step);
        match (&component.rule, &component.baseline, component.metric) {
            (super::contract::Rule::PerEnrolment { price }, _, _) => {
                for &date in &component.at {
                    let children: u64 = schedule
                        .waves
                        .iter()
                        .filter(|w| w.entry == date)
                        .map(|w| w.children)
                        .sum();
                    total += price * children as f64 * share * discount(date);
                }
            }
            (super::contract::Rule::RateCard { price }, super::contract::Baseline::ExPost, Some(m)) => {
                let metric = &scenario.metrics[m];
                let never = metric.kind == super::MetricKind::NeverEntered;
                let mut previous = vec![0.0; schedule.waves.len()];
                let mut paid_once = vec![false; schedule.waves.len()];
                for &date in &component.at {
                    let counts = expected_count_by_wave(schedule, &metric.states, metric.window_to(date), never);
                    for (w, wave) in schedule.waves.iter().enumerate() {
                        if wave.entry > date {
                            continue;
                        }
                        let now = counts[w][INTERVENTION];
                        let due = if never && !contract.clawback {
                            if paid_once[w] {
                                0.0
                            } else {
                                now
                            }
                        } else {
                            now - previous[w]
                        };
                        paid_once[w] = true;
                        previous[w] = now;
                        total += price * due * share * discount(date);
                    }
                }
            }
            _ => {
                return Err(format!(
                    "payment {} is measured against a baseline and paid only when the measured impact is positive: \
                     not linear in outcomes; simulate",
                    c + 1
                ))
            }
        }
    }
    Ok(Some(total))
}
