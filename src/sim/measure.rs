//! How the engine measures: metrics and a contract's cumulative measures,
//! compiled to linear functionals or entries specs, and a component's
//! observation at a date (model.md §7, §12).

use super::replication::{EntriesSpec, Workspace};
use crate::contract::Observation;
use crate::model::contract::{Baseline, Component};
use crate::model::expected::expected_count_by_wave;
use crate::model::ledger::{Layout, Linear, Measure, BASELINE, INTERVENTION};
use crate::model::schedule::Schedule;
use crate::model::Metric;

/// Linear measures [`Evaluate::evaluate_all`] sums side by side.
const EVALUATED_TOGETHER: usize = 4;

/// A placeholder for the group's unfilled places.
static NO_ARMS: [Linear; 2] = [Linear::EMPTY, Linear::EMPTY];

/// A measure as the engine evaluates it.
#[derive(Debug, Clone)]
pub enum Evaluate {
    /// A linear functional of occupancy per arm.
    Linear(Box<[Linear; 2]>),
    /// Children counted by an entries spec.
    Entries {
        /// Index into the engine's entries specs.
        spec: usize,
        /// Count those who never entered (of the waves started by `end`).
        never: bool,
        /// The end of the window.
        end: usize,
    },
}

impl Evaluate {
    /// Compiles a measure, adding its entries spec to `specs` if new.
    pub fn compile(measure: Measure, specs: &mut Vec<EntriesSpec>) -> Evaluate {
        match measure {
            Measure::Linear(l) => Evaluate::Linear(Box::new(l)),
            Measure::Entries { states, window, never } => {
                let spec = EntriesSpec {
                    mask: states
                        .iter()
                        .enumerate()
                        .filter(|(_, &b)| b)
                        .fold(0u64, |acc, (s, _)| acc | 1 << s),
                    window,
                };
                let index = specs.iter().position(|e| *e == spec).unwrap_or_else(|| {
                    specs.push(spec);
                    specs.len() - 1
                });
                Evaluate::Entries {
                    spec: index,
                    never,
                    end: window.1,
                }
            }
        }
    }

    /// Its value in each arm on one simulation's workspace; `entries[w]` is
    /// wave w's entry cycle.
    pub fn evaluate(&self, workspace: &Workspace, entries: &[usize]) -> [f64; 2] {
        match self {
            Evaluate::Linear(l) => {
                [BASELINE, INTERVENTION].map(|arm| l[arm].of_occupied(workspace.occupied(arm), &workspace.children))
            }
            Evaluate::Entries { spec, never, end } => workspace.count(*spec, *never, *end, entries),
        }
    }

    /// Its value in arm `arm` alone: [`Evaluate::evaluate`]`[arm]`, without
    /// summing the other arm.
    pub fn evaluate_arm(&self, workspace: &Workspace, entries: &[usize], arm: usize) -> f64 {
        match self {
            Evaluate::Linear(l) => l[arm].of_occupied(workspace.occupied(arm), &workspace.children),
            Evaluate::Entries { .. } => self.evaluate(workspace, entries)[arm],
        }
    }

    /// Appends the value of every measure in `measures`, in order, to
    /// `out`: [`Evaluate::evaluate`] of each, with the linear ones summed
    /// four at a time on each arm's cells (the same bits).
    pub fn evaluate_all(measures: &[Evaluate], workspace: &Workspace, entries: &[usize], out: &mut Vec<[f64; 2]>) {
        let first = out.len();
        out.extend(measures.iter().map(|m| match m {
            Evaluate::Linear(_) => [0.0; 2],
            Evaluate::Entries { .. } => m.evaluate(workspace, entries),
        }));
        let mut group = [(0usize, &NO_ARMS); EVALUATED_TOGETHER];
        let mut grouped = 0;
        let linear = measures.iter().enumerate().filter_map(|(k, m)| match m {
            Evaluate::Linear(arms) => Some((k, &**arms)),
            Evaluate::Entries { .. } => None,
        });
        for (k, arms) in linear {
            group[grouped] = (k, arms);
            grouped += 1;
            if grouped == EVALUATED_TOGETHER {
                for arm in [BASELINE, INTERVENTION] {
                    let sums = Linear::of_occupied_each(
                        group.map(|(_, arms)| &arms[arm]),
                        workspace.occupied(arm),
                        &workspace.children,
                    );
                    for ((k, _), sum) in group.iter().zip(sums) {
                        out[first + k][arm] = sum;
                    }
                }
                grouped = 0;
            }
        }
        for &(k, arms) in &group[..grouped] {
            out[first + k] =
                [BASELINE, INTERVENTION].map(|arm| arms[arm].of_occupied(workspace.occupied(arm), &workspace.children));
        }
    }

    /// Its exact expectation in the baseline arm, wave by wave, from
    /// expected occupancy.
    pub fn expected_by_wave(
        &self,
        schedule: &Schedule,
        layout: Layout,
        occupancy: &[f64],
        specs: &[EntriesSpec],
    ) -> Vec<f64> {
        match self {
            Evaluate::Linear(l) => (0..layout.waves)
                .map(|w| {
                    let cells = layout.index(w, 0, 0)..layout.index(w + 1, 0, 0);
                    let mut sum = 0.0;
                    for (weight, x) in l[BASELINE].weights[cells.clone()].iter().zip(&occupancy[cells]) {
                        sum += weight * x;
                    }
                    sum
                })
                .collect(),
            Evaluate::Entries { spec, never, .. } => {
                let spec = specs[*spec];
                let states: Vec<bool> = (0..schedule.n).map(|s| spec.mask >> s & 1 == 1).collect();
                expected_count_by_wave(schedule, &states, spec.window, *never)
                    .into_iter()
                    .map(|x| x[BASELINE])
                    .collect()
            }
        }
    }
}

/// The exact baseline-arm expectation of a measure from the central
/// parameters: in total for the planned children, and wave by wave, so that
/// a replication that enrolled fewer children compares with the expectation
/// for the children it actually enrolled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpectedBaseline {
    /// For every planned child.
    pub total: f64,
    /// Per wave, for its planned children.
    pub by_wave: Vec<f64>,
}

impl ExpectedBaseline {
    /// The expectation for `children[w]` children in each wave of `planned[w]`.
    pub fn for_children(&self, children: &[u64], planned: &[u64]) -> f64 {
        if children == planned {
            return self.total;
        }
        let mut sum = 0.0;
        for ((&value, &c), &p) in self.by_wave.iter().zip(children).zip(planned) {
            if p > 0 {
                sum += value * c as f64 / p as f64;
            }
        }
        sum
    }
}

/// What a component's observation at a date needs to know.
pub struct Observe<'a> {
    /// The component.
    pub component: &'a Component,
    /// Its metric (None for `per_enrolment`).
    pub metric: Option<&'a Metric>,
    /// The measure over the component's window up to the date (None for
    /// `per_enrolment`, which measures only who started).
    pub measure: Option<&'a Evaluate>,
    /// Its central expectation (None for `per_enrolment`).
    pub expected: Option<&'a ExpectedBaseline>,
    /// The stated baseline at the date (prorated for a review between dates).
    pub stated: Option<f64>,
    /// The date (end of this cycle).
    pub date: usize,
    /// The per-participant amount to date, if it pays child by child.
    pub amount: Option<f64>,
}

impl Observe<'_> {
    /// The component's observation on the treated children and comparison group.
    pub fn observe(&self, treated: &Workspace, control: &Workspace, entries: &[usize], planned: &[u64]) -> Observation {
        let started = treated.started_by(self.date, entries);
        let improvement = |baseline: f64, observed: f64| match self.metric {
            Some(m) => m.improvement(baseline, observed),
            None => baseline - observed,
        };
        let evaluate =
            |workspace: &Workspace, arm: usize| self.measure.map_or(0.0, |m| m.evaluate_arm(workspace, entries, arm));
        let observed = || evaluate(treated, INTERVENTION);
        let (impact, baseline) = match &self.component.baseline {
            Baseline::ExPost => (observed(), started as f64),
            Baseline::Enrolment => (started as f64, started as f64),
            Baseline::Stated(_) => {
                let baseline = self.stated.unwrap_or(0.0);
                (improvement(baseline, observed()), baseline)
            }
            Baseline::Expected => {
                let baseline = self
                    .expected
                    .map_or(0.0, |e| e.for_children(&treated.children, planned));
                (improvement(baseline, observed()), baseline)
            }
            Baseline::FromControl => {
                let size: u64 = control.children.iter().sum();
                let treated_children: u64 = treated.children.iter().sum();
                let control_value = evaluate(control, BASELINE);
                let baseline = if size > 0 {
                    control_value / size as f64 * treated_children as f64
                } else {
                    0.0
                };
                (improvement(baseline, observed()), baseline)
            }
        };
        Observation {
            impact,
            baseline,
            amount: self.amount,
        }
    }
}
