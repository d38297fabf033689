//! The money side of a replication: programme costs per cycle, the payer's
//! discounted totals and the cumulative cash paths of payer and investors.

use super::super::record::{PayerTotals, Record};
use super::super::replication::Workspace;
use super::Engine;
use crate::fund::FundFlows;
use crate::model::discount_factor;
use crate::model::ledger::{in_programme, Occupied, BASELINE, INTERVENTION};
use crate::model::Counting;

impl Engine {
    /// The payer's discount factor at grid time k·Δ, from the ledger's table
    /// for the payer's rate (the value `discount_factor` gives).
    pub(super) fn payer_discount(&self, k: usize) -> f64 {
        let rate = self.scenario.discounting.payer_rate;
        self.ledger
            .discount_at(Some(rate), k)
            .unwrap_or_else(|| discount_factor(rate, k as f64 * self.scenario.time.cycle_years))
    }

    /// Adds `amount(wave, cycle, state) × occupancy` to `out[cycle]`, with the
    /// counting convention (undiscounted).
    pub(super) fn per_cycle(
        &self,
        occupied: &Occupied,
        sign: f64,
        amount: impl Fn(usize, usize, usize) -> f64,
        out: &mut [f64],
    ) {
        let layout = self.ledger.layout;
        let parts: &[(usize, f64)] = match self.scenario.counting {
            Counting::Start => &[(0, 1.0)],
            Counting::End => &[(1, 1.0)],
            Counting::HalfCycle => &[(0, 0.5), (1, 0.5)],
        };
        for (w, wave) in self.schedule.waves.iter().enumerate() {
            for (t, cell) in out.iter_mut().enumerate().skip(wave.entry) {
                // Summed in a local, not through `cell`: the same additions
                // in the same order, but the chain no longer waits on a store
                // and a reload each term (a third of this loop's time).
                let mut total = *cell;
                for &(offset, share) in parts {
                    // The occupied states of the slot, in state order.
                    let first = layout.index(w, t + offset, 0) as u32;
                    for &(at, count) in occupied.in_slot(layout, w, t + offset) {
                        let s = (at - first) as usize;
                        total += sign * share * amount(w, t, s) * count;
                    }
                }
                *cell = total;
            }
        }
    }

    /// Programme costs per cycle (undiscounted) in the intervention arm;
    /// fixed costs while some wave that started (`children`) is enrolled.
    pub(super) fn programme_by_cycle(&self, occupied: &Occupied, children: &[u64], out: &mut [f64]) {
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
            self.per_cycle(occupied, 1.0, amount, out);
        }
        for (t, cell) in out.iter_mut().enumerate() {
            if self.programme_running(children, t) {
                *cell += iv.fixed_cost_per_cycle;
            }
        }
    }

    /// Whether some wave that started is in the programme during cycle t.
    pub(super) fn programme_running(&self, children: &[u64], t: usize) -> bool {
        self.scenario
            .cohort
            .waves
            .iter()
            .zip(children)
            .any(|(w, &c)| c > 0 && in_programme(&self.scenario, w.cycle, t))
    }

    /// The payer's discounted totals: state costs avoided, payments less
    /// return-cap refunds, and the programme costs it bears.
    pub(super) fn payer_totals(&self, treated: &Workspace, payments: &[f64], flows: &FundFlows) -> PayerTotals {
        let state_cost =
            [BASELINE, INTERVENTION].map(|arm| self.ledger.state_cost[arm].of_occupied_counts(treated.occupied(arm)));
        let mut paid = 0.0;
        for (t, p) in payments.iter().enumerate() {
            paid += p * self.payer_discount(t + 1);
        }
        for (k, r) in flows.refunds.iter().enumerate() {
            paid -= r * self.payer_discount(k);
        }
        let programme_costs = self
            .ledger
            .payer_programme_cost
            .of_occupied(treated.occupied(INTERVENTION), &treated.children);
        PayerTotals {
            true_savings: state_cost[BASELINE] - state_cost[INTERVENTION],
            payments: paid,
            programme_costs,
        }
    }

    /// Cumulative cash paths at the end of each cycle: the investors' net
    /// flow, and the payer's undiscounted position (state costs avoided −
    /// payments + refunds − the programme costs it bears).
    /// The record's payments are the contract's, termination payment included;
    /// `payer` is scratch.
    pub(super) fn cash_paths(
        &self,
        treated: &Workspace,
        programme_by_payer: Option<&[f64]>,
        flows: &FundFlows,
        payer: &mut Vec<f64>,
        record: &mut Record,
    ) {
        let horizon = self.scenario.time.horizon;
        record.investor_path.clear();
        let mut cumulative = flows.investor[0];
        for t in 0..horizon {
            cumulative += flows.investor[t + 1];
            record.investor_path.push(cumulative);
        }
        payer.clear();
        payer.resize(horizon, 0.0);
        let costs = &self.scenario.states;
        let state_amount = |_: usize, _: usize, s: usize| costs[s].cost;
        self.per_cycle(treated.occupied(BASELINE), 1.0, state_amount, payer);
        self.per_cycle(treated.occupied(INTERVENTION), -1.0, state_amount, payer);
        let payments = &record.payments;
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
}
