//! Published aggregate figures as functions of the baseline: the share of
//! children in some states at given ages, the share who ever entered them
//! before an age, and the mean cycles spent in them. Each is computed
//! exactly from the scenario's own cohort (its waves, entry ages and
//! `cycle_years`) in the baseline arm, by the same propagation as
//! `sibsim expected` — so a fit to them needs no simulation.

use super::expected::{expected_entries_by_wave, expected_occupancy};
use super::ledger::{Layout, BASELINE};
use super::schedule::Schedule;
use super::Scenario;

/// What a target measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// The share of children in the states, averaged over the cycles at
    /// ages [from, to).
    Prevalence,
    /// The share of children who were in the states at some cycle at ages
    /// [from, to) (being there at `from` counts).
    Ever,
    /// The mean number of cycles per child spent in the states at ages [from, to).
    MeanCycles,
}

impl TargetKind {
    /// Its name in a targets file.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Prevalence => "prevalence",
            TargetKind::Ever => "ever",
            TargetKind::MeanCycles => "mean_cycles",
        }
    }
}

/// One published figure with its standard error.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateTarget {
    /// Its line in the targets file (for errors and reports).
    pub line: usize,
    /// What it measures.
    pub kind: TargetKind,
    /// The states it counts (mask over the scenario's states).
    pub states: Vec<bool>,
    /// The states as written (`foster_care;institution`).
    pub label: String,
    /// Half-open age range in years.
    pub ages: (f64, f64),
    /// The published value.
    pub value: f64,
    /// Its standard error (> 0): sampling error and definitional mismatch.
    pub se: f64,
}

/// The cycles of a wave whose ages fall in `ages`: `(wave, first slot, end slot)`.
type Slots = Vec<(usize, usize, usize)>;

/// The waves that cover `ages` whole (entering at or before its start and
/// followed past its end), with the slots at those ages; empty when none does.
pub fn coverage(scenario: &Scenario, ages: (f64, f64)) -> Slots {
    let step = scenario.time.cycle_years;
    let horizon = scenario.time.horizon;
    let tolerance = 1e-9;
    scenario
        .cohort
        .waves
        .iter()
        .enumerate()
        .filter_map(|(w, wave)| {
            let age_at = |slot: usize| wave.age + (slot - wave.cycle) as f64 * step;
            if wave.cycle > horizon || wave.age > ages.0 + tolerance {
                return None;
            }
            // The last slot at an age below `ages.1` must exist.
            if age_at(horizon) + step < ages.1 - tolerance {
                return None;
            }
            let first = wave.cycle + ((ages.0 - wave.age) / step - tolerance).ceil().max(0.0) as usize;
            let end = (wave.cycle + ((ages.1 - wave.age) / step - tolerance).ceil().max(0.0) as usize).min(horizon + 1);
            (first < end).then_some((w, first, end))
        })
        .collect()
}

/// Each target's value under the scenario's baseline, in order.
pub fn predict(scenario: &Scenario, targets: &[AggregateTarget]) -> Vec<f64> {
    let schedule = Schedule::new(scenario);
    let layout = Layout::new(scenario);
    let [occupancy, _] = expected_occupancy(&schedule, layout);
    targets
        .iter()
        .map(|target| {
            let slots = coverage(scenario, target.ages);
            let children = |w: usize| scenario.cohort.waves[w].children as f64;
            let mut counted = 0.0;
            let mut per = 0.0;
            for &(w, first, end) in &slots {
                match target.kind {
                    TargetKind::Prevalence | TargetKind::MeanCycles => {
                        for slot in first..end {
                            for (s, &counts) in target.states.iter().enumerate() {
                                if counts {
                                    counted += occupancy[layout.index(w, slot, s)];
                                }
                            }
                        }
                        per += children(w)
                            * if target.kind == TargetKind::Prevalence {
                                (end - first) as f64
                            } else {
                                1.0
                            };
                    }
                    TargetKind::Ever => {
                        counted += expected_entries_by_wave(&schedule, &target.states, (first, end))[w][BASELINE];
                        per += children(w);
                    }
                }
            }
            if per > 0.0 {
                counted / per
            } else {
                f64::NAN
            }
        })
        .collect()
}
