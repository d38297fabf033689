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
    let n = schedule.n;
    let in_window = |t: usize| t >= window.0 && t < window.1;
    [BASELINE, INTERVENTION].map(|arm| {
        let mut total = 0.0;
        for wave in &schedule.waves {
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
            total += wave.children as f64 * joint[n..].iter().sum::<f64>();
        }
        total
    })
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
        out
    }
}

/// Computes the exact expectation from the scenario's central parameters.
pub fn expected(scenario: &Scenario) -> Expected {
    let schedule = Schedule::new(scenario);
    let ledger = Ledger::new(scenario);
    expected_with(scenario, &schedule, &ledger)
}

/// Computes the exact expectation for a compiled schedule and ledger.
pub fn expected_with(scenario: &Scenario, schedule: &Schedule, ledger: &Ledger) -> Expected {
    let occupancy = expected_occupancy(schedule, ledger.layout);
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
                Measure::Entries { states, window } => expected_entries(schedule, states, *window),
            };
            (m.name.clone(), values)
        })
        .collect();
    Expected {
        metrics,
        state_cost: [
            ledger.state_cost[BASELINE].of_expected(&occupancy[BASELINE]),
            ledger.state_cost[INTERVENTION].of_expected(&occupancy[INTERVENTION]),
        ],
        payer_programme_cost: ledger.payer_programme_cost.of_expected(&occupancy[INTERVENTION]),
    }
}
