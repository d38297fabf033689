//! One replication's trajectories: the hot loop.
//!
//! Each child draws one uniform per cycle, shared by both arms (common random
//! numbers), and each arm's next state is an integer-threshold lookup in the
//! matrix its schedule names. Nothing is allocated per child or per cycle;
//! the only output is occupancy counts (and entry counts), O(states × cycles).

use super::participants::Participants;
use crate::model::ledger::{Layout, Occupied, BASELINE, INTERVENTION};
use crate::model::schedule::{draw, Schedule, WaveSchedule, NO_FORCED_STATE};
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a run was cancelled (checked every few thousand children, so a
/// huge replication still stops promptly).
#[inline]
fn cancelled(cancel: Option<&AtomicBool>) -> bool {
    cancel.is_some_and(|c| c.load(Ordering::Relaxed))
}

/// An `entries` metric as the sampler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntriesSpec {
    /// Bit s set when state s is in the set.
    pub mask: u64,
    /// Half-open cycle window.
    pub window: (usize, usize),
}

/// The entries specs as bit masks for the hot loop: bit m stands for spec
/// m, so one lookup per child, cycle and arm notes every spec at once, and
/// a child's entries are counted once, when it ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryMasks {
    specs: usize,
    states: usize,
    /// `moves[from * states + to]`: the specs whose set holds `to` but not `from`.
    moves: Vec<u64>,
    /// `inside[s]`: the specs whose set holds state s.
    inside: Vec<u64>,
    /// `open[t]`: the specs whose window holds cycle t (t = 0..=horizon).
    open: Vec<u64>,
}

impl EntryMasks {
    /// The masks of `specs` (at most 64) over `states` states and cycles
    /// 0..=`horizon`.
    pub fn new(specs: &[EntriesSpec], states: usize, horizon: usize) -> EntryMasks {
        // Bit m set where spec m passes `test`.
        let specs_where = |test: &dyn Fn(&EntriesSpec) -> bool| {
            specs
                .iter()
                .enumerate()
                .filter(|(_, spec)| test(spec))
                .fold(0u64, |bits, (m, _)| bits | 1 << m)
        };
        let inside: Vec<u64> = (0..states)
            .map(|s| specs_where(&|spec| spec.mask >> s & 1 == 1))
            .collect();
        let moves = (0..states * states)
            .map(|i| inside[i % states] & !inside[i / states])
            .collect();
        let open = (0..=horizon)
            .map(|t| specs_where(&|spec| t >= spec.window.0 && t < spec.window.1))
            .collect();
        EntryMasks {
            specs: specs.len(),
            states,
            moves,
            inside,
            open,
        }
    }

    /// No specs: nothing to note.
    pub fn is_empty(&self) -> bool {
        self.specs == 0
    }

    /// The specs a child entering at cycle `t` in `state` has entered.
    #[inline(always)]
    fn start(&self, state: usize, t: usize) -> u64 {
        self.inside[state] & self.open[t]
    }

    /// The specs a move from `from` to `to` into cycle `t` enters.
    #[inline(always)]
    fn step(&self, from: usize, to: usize, t: usize) -> u64 {
        self.moves[from * self.states + to] & self.open[t]
    }
}

/// Counts a finished child's entries (`flags[arm]`: the specs it entered)
/// into each spec's counts.
#[inline(always)]
fn count_entries(counts: &mut [[u64; 2]], flags: [u64; 2]) {
    for (m, count) in counts.iter_mut().enumerate() {
        for arm in [BASELINE, INTERVENTION] {
            count[arm] += flags[arm] >> m & 1;
        }
    }
}

/// Per-thread scratch space, reused across replications.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Occupancy counts per arm, in the ledger's layout.
    pub occupancy: [Vec<u32>; 2],
    /// The occupied cells of `occupancy` per arm, indexed when a simulation
    /// ends (and again when a wave is dropped); see [`Workspace::occupied`].
    occupied: [Occupied; 2],
    layout: Layout,
    /// Entry counts per wave and entries spec, per arm: `entries[w * specs + m]`.
    pub entries: Vec<[u64; 2]>,
    /// Entries specs (the width of a wave's row in `entries`).
    pub specs: usize,
    /// Children simulated in each wave (enrolled; 0 for a wave that never started).
    pub children: Vec<u64>,
    /// Per-participant payments worked out child by child, per wave and
    /// (component, date) slot: `[(w * slots + slot) * 2 + k]`, k = 0 the
    /// amount due, k = 1 the part of it that is deadweight.
    pub participant: Vec<f64>,
    /// What one child has been paid per component (scratch).
    child_paid: Vec<f64>,
    /// The uniforms of one block of children (GROUP × (horizon + 1) words).
    uniforms: Vec<u32>,
    /// Stays of children in the same state in both arms, as differences
    /// along the cycles (+1 where a stay begins, −1 after it ends, wrapping),
    /// in the ledger's layout: summed along each wave's cycles into both
    /// arms' occupancy when the simulation ends. A stay of many cycles costs
    /// two writes instead of two a cycle.
    stay_runs: Vec<u32>,
    /// Children per joint (baseline, intervention) state, now and next: the
    /// aggregate path's state (2 × states²).
    joint: Vec<u64>,
    /// A wave's stay segments, state-major (`stays[s * slots + k]`, see
    /// [`stay_segments`]): where a child in state s in both arms stays there
    /// at step k; (0, 0) at a forced step.
    stays: Vec<(u32, u32)>,
}

/// Children whose uniforms are fetched in one copy (their words are
/// consecutive in the stream).
const GROUP: usize = 4;

impl Workspace {
    /// Scratch space for a layout, a number of entries specs and the
    /// per-participant plan (if any).
    pub fn new(layout: Layout, entries_specs: usize, participants: Option<&Participants>) -> Workspace {
        let (slots, components) = participants.map_or((0, 0), |p| (p.slots, p.components));
        Workspace {
            occupancy: [vec![0; layout.len()], vec![0; layout.len()]],
            occupied: [Occupied::default(), Occupied::default()],
            layout,
            entries: vec![[0; 2]; entries_specs * layout.waves],
            specs: entries_specs,
            children: vec![0; layout.waves],
            participant: vec![0.0; layout.waves * slots * 2],
            child_paid: vec![0.0; components],
            uniforms: vec![0; GROUP * layout.slots],
            stay_runs: vec![0; layout.len()],
            joint: vec![0; 2 * layout.states * layout.states],
            stays: vec![(0, 0); layout.slots * layout.states],
        }
    }

    /// Empties the counts for a new replication of `children` (per wave),
    /// as both samplers start.
    fn start(&mut self, children: &[u64]) {
        self.children.copy_from_slice(children);
        self.occupancy[0].fill(0);
        self.occupancy[1].fill(0);
        self.entries.fill([0; 2]);
        self.participant.fill(0.0);
        self.stay_runs.fill(0);
    }

    /// Children counted by entries spec `spec` in each arm, over all waves
    /// (`never`: the children of waves started before `window_end` who did not enter).
    pub fn count(&self, spec: usize, never: bool, window_end: usize, entries: &[usize]) -> [f64; 2] {
        let mut total = [0u64; 2];
        for (w, &children) in self.children.iter().enumerate() {
            let entered = self.entries[w * self.specs + spec];
            for arm in [BASELINE, INTERVENTION] {
                total[arm] += if never {
                    if entries[w] < window_end {
                        children - entered[arm]
                    } else {
                        0
                    }
                } else {
                    entered[arm]
                };
            }
        }
        total.map(|x| x as f64)
    }

    /// Children who started by the end of cycle `date` (`entries[w]`: wave
    /// w's entry cycle).
    pub fn started_by(&self, date: usize, entries: &[usize]) -> u64 {
        self.children
            .iter()
            .zip(entries)
            .filter(|(_, &e)| e <= date)
            .map(|(c, _)| c)
            .sum()
    }

    /// Forgets everything about wave `w` (a wave that never started).
    pub fn drop_wave(&mut self, layout: Layout, w: usize) {
        let cells = layout.index(w, 0, 0)..layout.index(w + 1, 0, 0);
        self.occupancy[0][cells.clone()].fill(0);
        self.occupancy[1][cells].fill(0);
        self.entries[w * self.specs..(w + 1) * self.specs].fill([0; 2]);
        let slots = self.participant.len() / self.children.len().max(1);
        self.participant[w * slots..(w + 1) * slots].fill(0.0);
        self.children[w] = 0;
        self.index_occupied();
    }

    /// Arm `arm`'s occupied cells, as the simulation (and any dropped
    /// wave) left `occupancy`.
    pub fn occupied(&self, arm: usize) -> &Occupied {
        &self.occupied[arm]
    }

    /// Indexes both arms' occupied cells: the last step of every
    /// simulation and of [`Workspace::drop_wave`], the only writers of
    /// `occupancy`.
    fn index_occupied(&mut self) {
        for (occupied, occupancy) in self.occupied.iter_mut().zip(&self.occupancy) {
            occupied.index(occupancy, self.layout);
        }
    }

    /// Adds the stays (`stay_runs`, differences along each wave's cycles)
    /// into both arms' occupancy counts.
    fn gather(&mut self) {
        let layout = self.layout;
        let [baseline, intervention] = &mut self.occupancy;
        for w in 0..layout.waves {
            for s in 0..layout.states {
                let mut staying = 0u32;
                for t in 0..layout.slots {
                    let cell = layout.index(w, t, s);
                    staying = staying.wrapping_add(self.stay_runs[cell]);
                    baseline[cell] += staying;
                    intervention[cell] += staying;
                }
            }
        }
    }
}

/// Simulates every treated child in both arms with the trajectory stream `rng`
/// (positioned at word 0), filling `workspace`.
///
/// Child c (counted over the waves' planned children in file order) uses
/// words `c·(horizon+1)` for its initial state and `c·(horizon+1) + 1 + t`
/// for the transition at the end of cycle t, so each draw is keyed by
/// (child, cycle); wave w simulates `children[w]` children. With a
/// per-participant plan, each child's payments are worked out as it ends.
#[allow(clippy::too_many_arguments)]
pub fn simulate_treated(
    schedule: &Schedule,
    layout: Layout,
    entries: &EntryMasks,
    participants: Option<&Participants>,
    children: &[u64],
    rng: &mut ChaCha8Rng,
    workspace: &mut Workspace,
    cancel: Option<&AtomicBool>,
) {
    workspace.start(children);
    // One instantiation per state count up to 8: rows become fixed-size
    // arrays, so the threshold comparisons unroll and vectorise.
    macro_rules! dispatch {
        ($entries:literal) => {
            match schedule.n {
                2 => run_children::<$entries, 2>(schedule, layout, entries, participants, rng, workspace, cancel),
                3 => run_children::<$entries, 3>(schedule, layout, entries, participants, rng, workspace, cancel),
                4 => run_children::<$entries, 4>(schedule, layout, entries, participants, rng, workspace, cancel),
                5 => run_children::<$entries, 5>(schedule, layout, entries, participants, rng, workspace, cancel),
                6 => run_children::<$entries, 6>(schedule, layout, entries, participants, rng, workspace, cancel),
                7 => run_children::<$entries, 7>(schedule, layout, entries, participants, rng, workspace, cancel),
                8 => run_children::<$entries, 8>(schedule, layout, entries, participants, rng, workspace, cancel),
                _ => run_children::<$entries, 0>(schedule, layout, entries, participants, rng, workspace, cancel),
            }
        };
    }
    if entries.is_empty() {
        dispatch!(false)
    } else {
        dispatch!(true)
    }
    workspace.gather();
    workspace.index_occupied();
}

/// Where both arms stay in the same state: `out[s]` = (low, width) such
/// that a child in state s in both arms stays there in both exactly when
/// `low <= u < low + width`, the overlap of the two rows' segments for s
/// (width 0 when they do not overlap). The rows' draws count the thresholds
/// at or below u, so row s keeps s for `t[s-1] <= u < t[s]`. `baseline`
/// and `intervention` are the two arms' matrix indices.
#[inline(always)]
fn stay_segments<const N: usize>(rows: &[[u32; N]], baseline: usize, intervention: usize, out: &mut [(u32, u32)]) {
    for (s, segment) in out.iter_mut().enumerate() {
        let (row_baseline, row_intervention) = (&rows[baseline * N + s], &rows[intervention * N + s]);
        let low = if s == 0 {
            0
        } else {
            row_baseline[s - 1].max(row_intervention[s - 1])
        };
        let high = row_baseline[s].min(row_intervention[s]);
        *segment = (low, high.saturating_sub(low));
    }
}

/// Whether a half-width uniform lies in a stay segment (low, width).
#[inline(always)]
fn within((low, width): (u32, u32), half_uniform: u32) -> bool {
    half_uniform.wrapping_sub(low) < width
}

/// Row `state` of matrix `matrix` as a fixed-size array (`N` > 0).
#[inline(always)]
fn next_in<const N: usize>(rows: &[[u32; N]], matrix: usize, state: usize, half_uniform: u32) -> usize {
    let mut k = 0;
    for &t in &rows[matrix * N + state] {
        k += (t <= half_uniform) as usize;
    }
    k
}

fn run_children<const ENTRIES: bool, const N: usize>(
    schedule: &Schedule,
    layout: Layout,
    entries: &EntryMasks,
    participants: Option<&Participants>,
    rng: &mut ChaCha8Rng,
    workspace: &mut Workspace,
    cancel: Option<&AtomicBool>,
) {
    let words = schedule.horizon + 1;
    let slots = layout.slots;
    let specs = workspace.specs;
    let mut position: u128 = 0;
    let Workspace {
        occupancy: [occupancy_baseline, occupancy_intervention],
        entries: all_entry_counts,
        uniforms,
        stay_runs,
        children,
        participant,
        child_paid,
        stays,
        ..
    } = workspace;
    // Rows as fixed-size arrays; empty when N = 0 (more than 8 states), which
    // sends every child down the one-at-a-time path below.
    let rows: &[[u32; N]] = if N > 0 {
        schedule.thresholds.as_chunks::<N>().0
    } else {
        &[]
    };
    for (w, wave) in schedule.waves.iter().enumerate() {
        let entry = wave.entry;
        let steps = wave.steps.len();
        let wave_children = children[w];
        let mut child = wave.first_child as u128;
        let entry_counts = &mut all_entry_counts[w * specs..(w + 1) * specs];
        // What a child's end settles: its entries, and what it is paid.
        let mut child_ends = |flags: [u64; 2]| {
            if ENTRIES {
                count_entries(entry_counts, flags);
            }
            if let Some(plan) = participants {
                plan.account(w, flags, participant, child_paid);
            }
        };
        let first_cell = layout.index(w, entry, 0);
        if N == 0 {
            for one in 0..wave_children {
                if one % 16384 == 0 && cancelled(cancel) {
                    return;
                }
                let first = child * words as u128;
                if position != first {
                    rng.set_word_pos(first);
                }
                let occupancy = [&mut occupancy_baseline[..], &mut occupancy_intervention[..]];
                child_ends(run_one::<ENTRIES>(
                    schedule, wave, first_cell, entries, rng, first, occupancy,
                ));
                child += 1;
                position = child * words as u128;
            }
            continue;
        }
        // Each step's stay segments, state-major, once a wave.
        let mut segments = [(0u32, 0u32); N];
        for (k, step) in wave.steps.iter().enumerate() {
            if step.forced_state == NO_FORCED_STATE {
                stay_segments(rows, step.baseline as usize, step.intervention as usize, &mut segments);
            } else {
                segments = [(0, 0); N];
            }
            for (s, &segment) in segments.iter().enumerate() {
                stays[s * slots + k] = segment;
            }
        }
        // The wave's cells as rows of N states, one row a cycle from its entry.
        let wave_cells = first_cell..first_cell + (steps + 1) * N;
        let counts_baseline = occupancy_baseline[wave_cells.clone()].as_chunks_mut::<N>().0;
        let counts_intervention = occupancy_intervention[wave_cells.clone()].as_chunks_mut::<N>().0;
        let runs = stay_runs[wave_cells].as_chunks_mut::<N>().0;
        let mut left = wave_children;
        let mut block = 0u64;
        while left > 0 {
            if block.is_multiple_of(4096) && cancelled(cancel) {
                return;
            }
            block += 1;
            let count = left.min(GROUP as u64) as usize;
            left -= count as u64;
            let first = child * words as u128;
            if position != first {
                rng.set_word_pos(first);
            }
            // The block's words are consecutive in the stream: one copy.
            rng.fill(&mut uniforms[..count * words]);
            child += count as u128;
            position = child * words as u128;
            for own in uniforms[..count * words].chunks_exact(words) {
                // Word 0 draws the initial state, word 1 + t the move at the end of cycle t.
                let step_words = &own[1 + entry..1 + entry + steps];
                let start = draw(&wave.initial_thresholds, own[0]);
                counts_baseline[0][start] += 1;
                counts_intervention[0][start] += 1;
                let mut flags = if ENTRIES {
                    [entries.start(start, entry); 2]
                } else {
                    [0; 2]
                };
                let (mut baseline, mut intervention) = (start, start);
                let mut k = 0;
                while k < steps {
                    if baseline == intervention {
                        // In the same state in both arms, a child mostly
                        // stays (home, or an absorbing state): find the
                        // step it leaves at, one comparison a step, and note
                        // the stay as one run. Staying enters nothing.
                        let own_stays = &stays[baseline * slots..][..steps];
                        let mut leaves = k;
                        while leaves < steps && within(own_stays[leaves], step_words[leaves] >> 1) {
                            leaves += 1;
                        }
                        if leaves > k {
                            // In `baseline` for cycles entry + k + 1 ..= entry + leaves.
                            runs[k + 1][baseline] = runs[k + 1][baseline].wrapping_add(1);
                            if leaves < steps {
                                runs[leaves + 1][baseline] = runs[leaves + 1][baseline].wrapping_sub(1);
                            }
                            k = leaves;
                            if k == steps {
                                break;
                            }
                        }
                    }
                    let step = wave.steps[k];
                    let (next_baseline, next_intervention) = if step.forced_state != NO_FORCED_STATE {
                        (step.forced_state as usize, step.forced_state as usize)
                    } else {
                        let u = step_words[k] >> 1;
                        (
                            next_in::<N>(rows, step.baseline as usize, baseline, u),
                            next_in::<N>(rows, step.intervention as usize, intervention, u),
                        )
                    };
                    counts_baseline[k + 1][next_baseline] += 1;
                    counts_intervention[k + 1][next_intervention] += 1;
                    if ENTRIES {
                        let word = 1 + entry + k;
                        flags[BASELINE] |= entries.step(baseline, next_baseline, word);
                        flags[INTERVENTION] |= entries.step(intervention, next_intervention, word);
                    }
                    baseline = next_baseline;
                    intervention = next_intervention;
                    k += 1;
                }
                child_ends(flags);
            }
        }
    }
}

/// One child at a time, from the word at `first` (every child when there
/// are more than 8 states): the same words as the blocks of the
/// fixed-size path, so the same draws. `cell` is the child's first
/// occupancy cell. Returns which entries specs the child entered, per arm.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn run_one<const ENTRIES: bool>(
    schedule: &Schedule,
    wave: &WaveSchedule,
    mut cell: usize,
    entries: &EntryMasks,
    rng: &mut ChaCha8Rng,
    first: u128,
    [occupancy_baseline, occupancy_intervention]: [&mut [u32]; 2],
) -> [u64; 2] {
    let n = schedule.n;
    let entry = wave.entry;
    let start = draw(&wave.initial_thresholds, rng.next_u32());
    if entry > 0 {
        rng.set_word_pos(first + 1 + entry as u128);
    }
    let mut baseline = start;
    let mut intervention = start;
    let mut flags = if ENTRIES {
        [entries.start(start, entry); 2]
    } else {
        [0; 2]
    };
    occupancy_baseline[cell + baseline] += 1;
    occupancy_intervention[cell + intervention] += 1;
    for (k, step) in wave.steps.iter().enumerate() {
        let uniform = rng.next_u32();
        let (next_baseline, next_intervention) = if step.forced_state != NO_FORCED_STATE {
            (step.forced_state as usize, step.forced_state as usize)
        } else {
            (
                draw(schedule.row_thresholds(step.baseline, baseline), uniform),
                draw(schedule.row_thresholds(step.intervention, intervention), uniform),
            )
        };
        cell += n;
        occupancy_baseline[cell + next_baseline] += 1;
        occupancy_intervention[cell + next_intervention] += 1;
        if ENTRIES {
            flags[BASELINE] |= entries.step(baseline, next_baseline, entry + k + 1);
            flags[INTERVENTION] |= entries.step(intervention, next_intervention, entry + k + 1);
        }
        baseline = next_baseline;
        intervention = next_intervention;
    }
    flags
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

mod aggregate;
pub use aggregate::simulate_treated_aggregate;

#[cfg(test)]
mod tests;
