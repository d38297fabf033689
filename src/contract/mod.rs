//! The outcome contract: how impact is measured and what it pays (model.md §7–8).
//!
//! Each payment component is tied to a metric and evaluated at the end of the
//! cycles in `at`, on the cumulative measurement to date; what it already
//! paid is deducted. A component's entitlement is never negative; a negative
//! true-up (paying back) happens only with `clawback = true`.

use crate::model::contract::{Contract, Rule};

impl Rule {
    /// Cumulative entitlement before caps, for a measured impact and a
    /// relative effect (impact / baseline value).
    pub fn entitlement(&self, impact: f64, relative_effect: f64) -> f64 {
        let value = match self {
            Rule::RateCard { price } => price * impact,
            Rule::SavingsShare { share } => share * impact,
            Rule::Tiers { points, linear } => tier_payment(points, *linear, relative_effect),
            Rule::PerEnrolment { price } => price * impact,
        };
        value.max(0.0)
    }
}

/// Tier table: nothing below the first point; the last point's payment above it.
pub fn tier_payment(points: &[(f64, f64)], linear: bool, effect: f64) -> f64 {
    let Some(k) = points.iter().rposition(|&(e, _)| effect >= e) else {
        return 0.0;
    };
    if !linear || k + 1 == points.len() {
        return points[k].1;
    }
    let (e0, p0) = points[k];
    let (e1, p1) = points[k + 1];
    p0 + (p1 - p0) * (effect - e0) / (e1 - e0)
}

/// A component's measurement at one payment date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Measured (cumulative) impact to date.
    pub impact: f64,
    /// The baseline value it is relative to (ex post: the children
    /// enrolled, so the relative effect is the outcome rate).
    pub baseline: f64,
    /// The cumulative entitlement worked out child by child (per-participant
    /// components, after `max_per_child`); None: the rule prices `impact`.
    pub amount: Option<f64>,
}

impl Observation {
    /// Measured impact relative to the baseline value (0 when the baseline is 0).
    pub fn relative_effect(&self) -> f64 {
        if self.baseline == 0.0 {
            0.0
        } else {
            self.impact / self.baseline
        }
    }
}

/// What the contract paid in one replication.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settlement {
    /// Payment at the end of each cycle (negative: paid back), lag included.
    pub by_cycle: Vec<f64>,
    /// Total paid per component.
    pub by_component: Vec<f64>,
    /// `by_date[c][d]`: what component c paid for its d-th date (0 for a
    /// date cancelled by termination).
    pub by_date: Vec<Vec<f64>>,
}

impl Contract {
    /// The cycle at whose end a date's payment arrives: `lag_cycles` later
    /// for outcome payments, at the horizon's end at the latest.
    pub fn paid_in(&self, component: usize, date: usize, horizon: usize) -> usize {
        let lag = if self.components[component].pays_outcomes() {
            self.lag_cycles
        } else {
            0
        };
        (date + lag).min(horizon - 1)
    }

    /// Settles the contract: `observations[c][d]` is component c's
    /// measurement at its d-th date. Dates are processed in time order,
    /// components in file order within a date; dates after `cancelled_after`
    /// (a termination) pay nothing.
    pub fn settle(
        &self,
        observations: &[Vec<Observation>],
        horizon: usize,
        cancelled_after: Option<usize>,
    ) -> Settlement {
        let mut settlement = Settlement::default();
        self.settle_into(observations, horizon, cancelled_after, &mut settlement);
        settlement
    }

    /// [`Contract::settle`] written into `out`, whose buffers are kept: no
    /// allocation once it has held this contract's settlement. A
    /// component's payment dates are strictly increasing (validation).
    pub fn settle_into(
        &self,
        observations: &[Vec<Observation>],
        horizon: usize,
        cancelled_after: Option<usize>,
        out: &mut Settlement,
    ) {
        let components = self.components.len();
        out.by_cycle.clear();
        out.by_cycle.resize(horizon, 0.0);
        out.by_component.clear();
        out.by_component.resize(components, 0.0);
        out.by_date.truncate(components);
        out.by_date.resize_with(components, Vec::new);
        for (dates, component) in out.by_date.iter_mut().zip(&self.components) {
            dates.clear();
            dates.resize(component.at.len(), 0.0);
        }
        let Settlement {
            by_cycle,
            by_component: paid,
            by_date,
        } = out;
        let mut total = 0.0;
        for t in 0..horizon {
            if cancelled_after.is_some_and(|end| t > end) {
                break;
            }
            let mut at_date = 0.0;
            for (c, component) in self.components.iter().enumerate() {
                // The date paid at t, if any: the dates before t are settled.
                let d = component.at.partition_point(|&date| date < t);
                if component.at.get(d) != Some(&t) {
                    continue;
                }
                let observation = observations[c][d];
                let effect = observation.relative_effect();
                let mut entitled = if component.threshold.is_some_and(|th| effect < th) {
                    0.0
                } else {
                    match observation.amount {
                        Some(amount) => amount,
                        None => component.rule.entitlement(observation.impact, effect),
                    }
                };
                if let Some(cap) = component.cap {
                    entitled = entitled.min(cap);
                }
                let mut due = entitled - paid[c];
                if due < 0.0 && !self.clawback {
                    due = 0.0;
                }
                if due > 0.0 {
                    if let Some(cap) = component.cap_per_date {
                        due = due.min(cap);
                    }
                    if let Some(cap) = self.cap_per_date {
                        due = due.min((cap - at_date).max(0.0));
                    }
                    if let Some(max) = self.max_total {
                        due = due.min((max - total).max(0.0));
                    }
                }
                paid[c] += due;
                total += due;
                at_date += due;
                by_date[c][d] = due;
                by_cycle[self.paid_in(c, t, horizon)] += due;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::contract::{Baseline, Component, Measurement};

    fn component(rule: Rule, at: Vec<usize>) -> Component {
        Component {
            metric: Some(0),
            baseline: Baseline::Expected,
            rule,
            threshold: None,
            at,
            cap: None,
            cap_per_date: None,
        }
    }

    fn obs(impact: f64, baseline: f64) -> Observation {
        Observation {
            impact,
            baseline,
            amount: None,
        }
    }

    #[test]
    fn tiers_step_and_linear() {
        let points = vec![(0.1, 100.0), (0.2, 300.0)];
        assert_eq!(tier_payment(&points, false, 0.05), 0.0);
        assert_eq!(tier_payment(&points, false, 0.15), 100.0);
        assert!((tier_payment(&points, true, 0.15) - 200.0).abs() < 1e-9);
        assert_eq!(tier_payment(&points, true, 0.5), 300.0);
    }

    #[test]
    fn cumulative_payments_deduct_what_was_paid_and_respect_caps() {
        let contract = Contract {
            measurement: Measurement::FixedBaseline,
            control_size: None,
            max_total: Some(250.0),
            cap_per_date: None,
            clawback: false,
            lag_cycles: 0,
            max_per_child: None,
            reviews: Vec::new(),
            components: vec![Component {
                cap_per_date: Some(120.0),
                ..component(Rule::RateCard { price: 10.0 }, vec![1, 3, 4])
            }],
        };
        // entitlements 100, 300, 200: pays 100, then min(200, 120) = 120,
        // then the total cap leaves 30 (entitled 200 − paid 220 < 0: nothing).
        let s = contract.settle(&[vec![obs(10.0, 50.0), obs(30.0, 50.0), obs(20.0, 50.0)]], 5, None);
        assert_eq!(s.by_cycle, vec![0.0, 100.0, 0.0, 120.0, 0.0]);
        assert_eq!(s.by_date, vec![vec![100.0, 120.0, 0.0]]);
        let clawback = Contract {
            clawback: true,
            max_total: None,
            ..contract
        };
        let s = clawback.settle(&[vec![obs(10.0, 50.0), obs(30.0, 50.0), obs(20.0, 50.0)]], 5, None);
        assert_eq!(s.by_cycle, vec![0.0, 100.0, 0.0, 120.0, -20.0]);
    }

    #[test]
    fn a_lag_moves_outcome_payments_later_and_termination_cancels_later_dates() {
        let lagged = Contract {
            measurement: Measurement::FixedBaseline,
            control_size: None,
            max_total: None,
            cap_per_date: None,
            clawback: false,
            lag_cycles: 2,
            max_per_child: None,
            reviews: Vec::new(),
            components: vec![
                component(Rule::RateCard { price: 10.0 }, vec![1, 3]),
                Component {
                    baseline: Baseline::Enrolment,
                    ..component(Rule::PerEnrolment { price: 1.0 }, vec![0])
                },
            ],
        };
        let observations = [vec![obs(1.0, 5.0), obs(3.0, 5.0)], vec![obs(7.0, 7.0)]];
        // 10 due at cycle 1 arrives at 3; 20 due at cycle 3 would arrive at
        // 5, beyond the horizon: paid at its end (4). Enrolment is not lagged.
        let s = lagged.settle(&observations, 5, None);
        assert_eq!(s.by_cycle, vec![7.0, 0.0, 0.0, 10.0, 20.0]);
        let s = lagged.settle(&observations, 5, Some(2));
        assert_eq!(s.by_cycle, vec![7.0, 0.0, 0.0, 10.0, 0.0]);
        assert_eq!(s.by_date[0], vec![10.0, 0.0]);
    }
}
