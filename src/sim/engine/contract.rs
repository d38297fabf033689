//! The contract side of a replication: how each component is observed at
//! its dates, what the reviews decide, what the contract pays, and which of
//! it is deadweight (model.md §7–8, §12).

use super::super::measure::{Evaluate, ExpectedBaseline, Observe};
use super::super::replication::Workspace;
use super::super::reviews::Decisions;
use super::{Engine, SettleBuffers};
use crate::contract::Settlement;
use crate::model::contract::{Baseline, Contract, ReviewAction};
use crate::model::ledger::{BASELINE, INTERVENTION};
use rand::Rng;

/// What the contract paid in one replication, for the money record (the
/// payments themselves are in the settlement buffer).
pub(super) struct Paid {
    /// Some component paid although its true impact was not positive.
    pub(super) without_impact: bool,
    /// Discounted per-participant outcome payments, and their deadweight.
    pub(super) per_participant: [f64; 2],
}

impl Engine {
    /// Forgets the waves the reviews cancelled (entering after a cut-off).
    pub(super) fn cancel_waves(&self, decisions: &Decisions, treated: &mut Workspace, control: &mut Workspace) {
        for (w, &entry) in self.entry_cycles.iter().enumerate() {
            if decisions.cancels(entry) && treated.children[w] + control.children[w] > 0 {
                treated.drop_wave(self.ledger.layout, w);
                control.drop_wave(self.ledger.layout, w);
            }
        }
    }

    /// Takes the contract's reviews in time order on the simulated
    /// children: each acts if its measured relative effect is below `below`
    /// or by chance; a stop cancels later waves at once (so later reviews
    /// measure without them); a termination ends the reviews.
    pub(super) fn review(
        &self,
        seed: u64,
        contract: u64,
        replication: u64,
        treated: &mut Workspace,
        control: &mut Workspace,
    ) -> Decisions {
        let mut decisions = Decisions::default();
        let Some(terms) = &self.scenario.contract else {
            return decisions;
        };
        if terms.reviews.is_empty() {
            return decisions;
        }
        let mut chance = super::super::reviews::chances(seed, contract, replication);
        for (k, review) in terms.reviews.iter().enumerate() {
            // Drawn for every review in order, used or not.
            let chance: f64 = chance.random();
            let measured = match (&self.review_measures[k], review.component, review.below) {
                (Some(measure), Some(c), Some(below)) => {
                    let observation = self.observer(
                        terms,
                        c,
                        Some(measure),
                        Some(&self.baselines.reviews[k]),
                        review.at,
                        None,
                    );
                    let effect = observation
                        .observe(treated, control, &self.entry_cycles, &self.planned)
                        .relative_effect();
                    effect < below
                }
                _ => false,
            };
            if !(measured || chance < review.probability) {
                continue;
            }
            decisions.cut_enrolment(review.at);
            match review.action {
                ReviewAction::StopEnrolment => {
                    decisions.enrolment_stopped = true;
                    self.cancel_waves(&decisions, treated, control);
                }
                ReviewAction::Terminate { payment_share } => {
                    decisions.terminated = Some((review.at, payment_share));
                    break;
                }
            }
        }
        decisions
    }

    /// How component `c` of `contract` is observed with `measure` (None for
    /// `per_enrolment`) at `date`.
    fn observer<'a>(
        &'a self,
        contract: &'a Contract,
        c: usize,
        measure: Option<&'a Evaluate>,
        expected: Option<&'a ExpectedBaseline>,
        date: usize,
        amount: Option<f64>,
    ) -> Observe<'a> {
        let component = &contract.components[c];
        let stated = match &component.baseline {
            Baseline::Stated(values) => {
                // Between payment dates (a review), the next date's stated
                // value, prorated along the central expectation.
                let d = component
                    .at
                    .iter()
                    .position(|&a| a >= date)
                    .unwrap_or(component.at.len() - 1);
                let at_date = &self.baselines.components[c][d].total;
                Some(match expected {
                    Some(e) if component.at[d] != date && *at_date != 0.0 => values[d] * e.total / at_date,
                    _ => values[d],
                })
            }
            _ => None,
        };
        Observe {
            component,
            metric: component.metric.map(|m| &self.scenario.metrics[m]),
            measure,
            expected,
            stated,
            date,
            amount,
        }
    }

    /// Measures each component at its dates, appends the measured impacts,
    /// and settles the contract (dates after a termination cancelled).
    pub(super) fn settle_contract(
        &self,
        treated: &Workspace,
        control: &Workspace,
        decisions: &Decisions,
        scratch: &mut SettleBuffers,
        values: &mut Vec<f64>,
    ) -> Paid {
        let horizon = self.scenario.time.horizon;
        let SettleBuffers {
            observations,
            settlement,
            ..
        } = scratch;
        let Some(contract) = &self.scenario.contract else {
            settlement.by_cycle.clear();
            settlement.by_cycle.resize(horizon, 0.0);
            return Paid {
                without_impact: false,
                per_participant: [0.0; 2],
            };
        };
        let slot = |c: usize, d: usize| {
            let plan = self.participants.as_ref()?;
            Some(plan.at_slot(&treated.participant, plan.offsets[c]? + d))
        };
        observations.truncate(contract.components.len());
        observations.resize_with(contract.components.len(), Vec::new);
        for (c, (component, dates)) in contract.components.iter().zip(observations.iter_mut()).enumerate() {
            let mut amount = 0.0;
            dates.clear();
            for d in 0..component.at.len() {
                let due = slot(c, d).map(|[due, _]| {
                    amount += due;
                    amount
                });
                let measure = self.contract_measures[c].get(d);
                let observer = self.observer(
                    contract,
                    c,
                    measure,
                    self.baselines.components[c].get(d),
                    component.at[d],
                    due,
                );
                dates.push(observer.observe(treated, control, &self.entry_cycles, &self.planned));
            }
        }
        for &(_, c, d) in &self.measured {
            values.push(observations[c][d].impact);
        }
        let cancelled_after = decisions.terminated.map(|(at, _)| at);
        contract.settle_into(observations, horizon, cancelled_after, settlement);
        let mut without_impact = false;
        for (c, &paid) in settlement.by_component.iter().enumerate() {
            let (Some(m), Some(last)) = (contract.components[c].metric, self.contract_measures[c].last()) else {
                continue;
            };
            if paid <= 0.0 {
                continue; // the truth matters only for what was paid
            }
            let truth = last.evaluate(treated, &self.entry_cycles);
            if self.scenario.metrics[m].improvement(truth[BASELINE], truth[INTERVENTION]) <= 0.0 {
                without_impact = true;
            }
        }
        let per_participant = self.deadweight(settlement, &slot);
        Paid {
            without_impact,
            per_participant,
        }
    }

    /// Discounted per-participant outcome payments and their deadweight:
    /// each payment carries the deadweight share of the entitlement still
    /// outstanding when it is paid (all of it when nothing caps the
    /// payment), discounted to when it arrives.
    fn deadweight(&self, settlement: &Settlement, slot: &dyn Fn(usize, usize) -> Option<[f64; 2]>) -> [f64; 2] {
        let Some(contract) = &self.scenario.contract else {
            return [0.0; 2];
        };
        let horizon = self.scenario.time.horizon;
        let mut total = [0.0; 2];
        for (c, component) in contract.components.iter().enumerate() {
            if !component.pays_per_outcome() {
                continue;
            }
            let (mut owed, mut owed_deadweight) = (0.0, 0.0);
            for (d, &date) in component.at.iter().enumerate() {
                let [due, deadweight] = slot(c, d).unwrap_or([0.0; 2]);
                owed += due;
                owed_deadweight += deadweight;
                let paid = settlement.by_date[c][d];
                let carried = if owed != 0.0 {
                    paid * owed_deadweight / owed
                } else {
                    0.0
                };
                owed -= paid;
                owed_deadweight -= carried;
                let factor = self.payer_discount(contract.paid_in(c, date, horizon) + 1);
                total[0] += paid * factor;
                total[1] += carried * factor;
            }
        }
        total
    }
}
