//! Per-participant payments, child by child (model.md §12): what each child
//! is owed for its own outcomes (counted ex post) and for starting the
//! programme, capped by `max_per_child`, and which of it is deadweight — an
//! outcome the same child also reaches in the baseline arm, which the
//! common random numbers reveal.

use crate::model::contract::{Contract, Rule};
use crate::model::ledger::{BASELINE, INTERVENTION};

/// What a child is paid for at one event.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Counted {
    /// Starting the programme (`per_enrolment`).
    Enrolled,
    /// An outcome: bit `spec` of the child's entries flags (`never`: its
    /// complement).
    Outcome { spec: u32, never: bool },
}

/// One payment event in a child's contract life.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ChildEvent {
    /// (component, date) slot.
    slot: usize,
    /// Per-participant component index (into `child_paid`).
    component: usize,
    /// Per outcome or per child.
    price: f64,
    counted: Counted,
}

/// The per-participant terms of a contract, compiled for the sampler.
#[derive(Debug, Clone, PartialEq)]
pub struct Participants {
    /// Per wave: the events of each of its children, in time order
    /// (components in file order within a date).
    events: Vec<Vec<ChildEvent>>,
    /// Slot of (component c, date 0); dates follow. None: not per participant.
    pub offsets: Vec<Option<usize>>,
    /// Number of (component, date) slots.
    pub slots: usize,
    /// Number of contract components (the width of the per-child scratch).
    pub components: usize,
    max_per_child: f64,
    clawback: bool,
}

impl Participants {
    /// Compiles the plan; `outcome_spec(c, d)` is the entries spec (and
    /// whether it counts the complement) of component c's measure at date d;
    /// `entries[w]` is wave w's entry cycle. None when no component pays per participant.
    pub fn new(
        contract: &Contract,
        entries: &[usize],
        outcome_spec: &dyn Fn(usize, usize) -> (usize, bool),
    ) -> Option<Participants> {
        if !contract.per_participant() {
            return None;
        }
        let mut offsets = Vec::with_capacity(contract.components.len());
        let mut slots = 0;
        for component in &contract.components {
            if component.per_participant() {
                offsets.push(Some(slots));
                slots += component.at.len();
            } else {
                offsets.push(None);
            }
        }
        let events = entries
            .iter()
            .map(|&entry| {
                let mut events: Vec<(usize, usize, ChildEvent)> = Vec::new();
                for (c, component) in contract.components.iter().enumerate() {
                    let Some(offset) = offsets[c] else { continue };
                    for (d, &date) in component.at.iter().enumerate() {
                        let (price, counted) = match component.rule {
                            Rule::PerEnrolment { price } if date == entry => (price, Counted::Enrolled),
                            Rule::PerEnrolment { .. } => continue,
                            Rule::RateCard { price } if date >= entry => {
                                let (spec, never) = outcome_spec(c, d);
                                (
                                    price,
                                    Counted::Outcome {
                                        spec: spec as u32,
                                        never,
                                    },
                                )
                            }
                            _ => continue,
                        };
                        let event = ChildEvent {
                            slot: offset + d,
                            component: c,
                            price,
                            counted,
                        };
                        events.push((date, c, event));
                    }
                }
                events.sort_by_key(|&(date, c, _)| (date, c));
                events.into_iter().map(|(_, _, e)| e).collect()
            })
            .collect();
        Some(Participants {
            events,
            offsets,
            slots,
            components: contract.components.len(),
            max_per_child: contract.max_per_child.unwrap_or(f64::INFINITY),
            clawback: contract.clawback,
        })
    }

    /// Adds one child of wave `w` (its entries `flags` per arm) to the
    /// accumulators: at each event, the child's cumulative entitlement
    /// (price when counted) less what it was paid, within `max_per_child`.
    #[inline]
    pub fn account(&self, w: usize, flags: [u64; 2], accumulators: &mut [f64], child_paid: &mut [f64]) {
        child_paid.fill(0.0);
        let mut total = 0.0;
        for event in &self.events[w] {
            let (programme, baseline) = match event.counted {
                Counted::Enrolled => (true, false),
                Counted::Outcome { spec, never } => (
                    (flags[INTERVENTION] >> spec & 1 == 1) != never,
                    (flags[BASELINE] >> spec & 1 == 1) != never,
                ),
            };
            let entitled = if programme { event.price } else { 0.0 };
            let mut due = entitled - child_paid[event.component];
            if due < 0.0 && !self.clawback {
                due = 0.0;
            }
            if due > 0.0 {
                due = due.min((self.max_per_child - total).max(0.0));
            }
            if due == 0.0 {
                continue;
            }
            child_paid[event.component] += due;
            total += due;
            let cell = (w * self.slots + event.slot) * 2;
            accumulators[cell] += due;
            if baseline {
                accumulators[cell + 1] += due;
            }
        }
    }

    /// The amount due and its deadweight at slot `slot`, over every wave (in
    /// wave order).
    pub fn at_slot(&self, accumulators: &[f64], slot: usize) -> [f64; 2] {
        let waves = self.events.len();
        let mut sum = [0.0; 2];
        for w in 0..waves {
            let cell = (w * self.slots + slot) * 2;
            sum[0] += accumulators[cell];
            sum[1] += accumulators[cell + 1];
        }
        sum
    }
}
