//! One replication's trajectories: the hot loop.
//!
//! Each child draws one uniform per cycle, shared by both arms (common random
//! numbers), and each arm's next state is an integer-threshold lookup in the
//! matrix its schedule names. Nothing is allocated per child or per cycle;
//! the only output is occupancy counts (and entry counts), O(states × cycles).

use crate::model::ledger::{Layout, BASELINE, INTERVENTION};
use crate::model::schedule::{draw, Schedule, NO_FORCED_STATE};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

/// An `entries` metric as the sampler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntriesSpec {
    /// Bit s set when state s is in the set.
    pub mask: u64,
    /// Half-open cycle window.
    pub window: (usize, usize),
}

/// Per-thread scratch space, reused across replications.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Occupancy counts per arm, in the ledger's layout.
    pub occupancy: [Vec<u32>; 2],
    /// Entry counts per entries metric, per arm.
    pub entries: Vec<[u64; 2]>,
}

impl Workspace {
    /// Scratch space for a layout and a number of entries metrics.
    pub fn new(layout: Layout, entries_metrics: usize) -> Workspace {
        Workspace {
            occupancy: [vec![0; layout.len()], vec![0; layout.len()]],
            entries: vec![[0; 2]; entries_metrics],
        }
    }

    fn clear(&mut self) {
        self.occupancy[0].fill(0);
        self.occupancy[1].fill(0);
        self.entries.fill([0; 2]);
    }
}

/// Simulates every treated child in both arms with the trajectory stream `rng`
/// (positioned at word 0), filling `workspace`.
///
/// Child c (counted over waves in file order) uses words
/// `c·(horizon+1)` for its initial state and `c·(horizon+1) + 1 + t` for the
/// transition at the end of cycle t, so each draw is keyed by (child, cycle).
pub fn simulate_treated(
    schedule: &Schedule,
    layout: Layout,
    entries: &[EntriesSpec],
    rng: &mut ChaCha8Rng,
    workspace: &mut Workspace,
) {
    workspace.clear();
    // One instantiation per state count up to 8: rows become fixed-size
    // arrays, so the threshold comparisons unroll and vectorise.
    macro_rules! dispatch {
        ($entries:literal) => {
            match schedule.n {
                2 => run_children::<$entries, 2>(schedule, layout, entries, rng, workspace),
                3 => run_children::<$entries, 3>(schedule, layout, entries, rng, workspace),
                4 => run_children::<$entries, 4>(schedule, layout, entries, rng, workspace),
                5 => run_children::<$entries, 5>(schedule, layout, entries, rng, workspace),
                6 => run_children::<$entries, 6>(schedule, layout, entries, rng, workspace),
                7 => run_children::<$entries, 7>(schedule, layout, entries, rng, workspace),
                8 => run_children::<$entries, 8>(schedule, layout, entries, rng, workspace),
                _ => run_children::<$entries, 0>(schedule, layout, entries, rng, workspace),
            }
        };
    }
    if entries.is_empty() {
        dispatch!(false)
    } else {
        dispatch!(true)
    }
}

/// Next state from row `from` of matrix `matrix`; `N` = state count, or 0 for any.
#[inline(always)]
fn next_state<const N: usize>(schedule: &Schedule, matrix: u32, from: usize, uniform: u32) -> usize {
    if N > 0 {
        let start = (matrix as usize * N + from) * N;
        if let Some(row) = schedule.thresholds.get(start..).and_then(|r| r.first_chunk::<N>()) {
            let u = uniform >> 1;
            let mut k = 0;
            for &t in row {
                k += (t <= u) as usize;
            }
            return k;
        }
    }
    draw(schedule.row_thresholds(matrix, from), uniform)
}

#[inline(always)]
fn entered(spec: &EntriesSpec, t: usize, state: usize, previous: Option<usize>) -> bool {
    let inside = |s: usize| spec.mask >> s & 1 == 1;
    t >= spec.window.0 && t < spec.window.1 && inside(state) && previous.is_none_or(|p| !inside(p))
}

fn run_children<const ENTRIES: bool, const N: usize>(
    schedule: &Schedule,
    layout: Layout,
    entries: &[EntriesSpec],
    rng: &mut ChaCha8Rng,
    workspace: &mut Workspace,
) {
    let n = schedule.n;
    let words_per_child = schedule.horizon as u128 + 1;
    let mut position: u128 = 0;
    let mut child: u128 = 0;
    let [occupancy_baseline, occupancy_intervention] = &mut workspace.occupancy;
    for (w, wave) in schedule.waves.iter().enumerate() {
        let entry = wave.entry;
        for _ in 0..wave.children {
            let first = child * words_per_child;
            if position != first {
                rng.set_word_pos(first);
            }
            let start = draw(&wave.initial_thresholds, rng.next_u32());
            if entry > 0 {
                rng.set_word_pos(first + 1 + entry as u128);
            }
            let mut baseline = start;
            let mut intervention = start;
            let mut flags = [0u64; 2];
            let mut cell = layout.index(w, entry, 0);
            occupancy_baseline[cell + baseline] += 1;
            occupancy_intervention[cell + intervention] += 1;
            if ENTRIES {
                for (m, spec) in entries.iter().enumerate() {
                    for (arm, s) in [(BASELINE, baseline), (INTERVENTION, intervention)] {
                        if entered(spec, entry, s, None) {
                            flags[arm] |= 1 << m;
                            workspace.entries[m][arm] += 1;
                        }
                    }
                }
            }
            for (k, step) in wave.steps.iter().enumerate() {
                let uniform = rng.next_u32();
                let (next_baseline, next_intervention) = if step.forced_state != NO_FORCED_STATE {
                    (step.forced_state as usize, step.forced_state as usize)
                } else {
                    (
                        next_state::<N>(schedule, step.baseline, baseline, uniform),
                        next_state::<N>(schedule, step.intervention, intervention, uniform),
                    )
                };
                cell += n;
                occupancy_baseline[cell + next_baseline] += 1;
                occupancy_intervention[cell + next_intervention] += 1;
                if ENTRIES {
                    let t = entry + k + 1;
                    for (m, spec) in entries.iter().enumerate() {
                        let bit = 1u64 << m;
                        for (arm, previous, s) in [
                            (BASELINE, baseline, next_baseline),
                            (INTERVENTION, intervention, next_intervention),
                        ] {
                            if flags[arm] & bit == 0 && entered(spec, t, s, Some(previous)) {
                                flags[arm] |= bit;
                                workspace.entries[m][arm] += 1;
                            }
                        }
                    }
                }
                baseline = next_baseline;
                intervention = next_intervention;
            }
            child += 1;
            position = child * words_per_child;
        }
    }
}

/// Simulates `children` children of one wave in the baseline arm only (a
/// comparison group), adding to `occupancy` in the ledger's layout for wave `w`.
pub fn simulate_baseline_wave(
    schedule: &Schedule,
    layout: Layout,
    w: usize,
    children: u64,
    rng: &mut ChaCha8Rng,
    occupancy: &mut [u32],
) {
    let n = schedule.n;
    let wave = &schedule.waves[w];
    for _ in 0..children {
        let mut state = draw(&wave.initial_thresholds, rng.next_u32());
        let mut cell = layout.index(w, wave.entry, 0);
        occupancy[cell + state] += 1;
        for step in &wave.steps {
            let uniform = rng.next_u32();
            state = if step.forced_state != NO_FORCED_STATE {
                step.forced_state as usize
            } else {
                draw(schedule.row_thresholds(step.baseline, state), uniform)
            };
            cell += n;
            occupancy[cell + state] += 1;
        }
    }
}
