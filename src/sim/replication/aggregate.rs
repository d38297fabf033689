//! The aggregate sampler: the counts of children in each joint (baseline,
//! intervention) state move by multinomial draws, instead of one draw a
//! child and cycle; the same coupling of the arms as the per-child path.

use super::{cancelled, Workspace};
use crate::model::ledger::Layout;
use crate::model::schedule::{Schedule, NO_FORCED_STATE};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::AtomicBool;

/// The joint (baseline, intervention) outcomes of one uniform drawn against
/// two rows of thresholds: calls `segment(baseline_state, intervention_state,
/// width)` for each interval of the top-31-bit uniform on which both draws
/// are constant, in increasing order; widths add up to 2^31. This is exactly
/// the common-random-numbers coupling of the per-child path.
#[inline]
fn joint_segments(row_baseline: &[u32], row_intervention: &[u32], mut segment: impl FnMut(usize, usize, u64)) {
    let n = row_baseline.len();
    let (mut a, mut b) = (0usize, 0usize);
    let mut low = 0u32;
    loop {
        while a < n && row_baseline[a] <= low {
            a += 1;
        }
        while b < n && row_intervention[b] <= low {
            b += 1;
        }
        if a >= n || b >= n {
            return;
        }
        let high = row_baseline[a].min(row_intervention[b]);
        segment(a, b, u64::from(high - low));
        low = high;
    }
}

/// Spreads `count` children over the segments of [`joint_segments`] with a
/// multinomial draw (sequential binomials on the remaining mass), adding them
/// to `joint` (n × n, baseline-major).
fn multinomial_into<R: rand::Rng>(
    rng: &mut R,
    count: u64,
    row_baseline: &[u32],
    row_intervention: &[u32],
    joint: &mut [u64],
) {
    let n = row_baseline.len();
    let mut left = count;
    let mut mass_left = crate::model::schedule::THRESHOLD_SCALE;
    joint_segments(row_baseline, row_intervention, |a, b, width| {
        if left == 0 {
            return;
        }
        let drawn = if width >= mass_left {
            left
        } else {
            let p = width as f64 / mass_left as f64;
            // p is in [0, 1): the constructor cannot fail; 0 if it ever did.
            rand_distr::Binomial::new(left, p).map_or(0, |d| rand_distr::Distribution::sample(&d, rng))
        };
        joint[a * n + b] += drawn;
        left -= drawn;
        mass_left -= width;
    });
}

/// The aggregate path: instead of one draw per child and cycle, the counts of
/// children in each joint (baseline, intervention) state move by multinomial
/// draws. Same distribution of occupancy counts as [`super::simulate_treated`] —
/// including the coupling of the arms — at a cost independent of the number
/// of children; no per-child history, so no `entries` metrics.
pub fn simulate_treated_aggregate(
    schedule: &Schedule,
    layout: Layout,
    children: &[u64],
    rng: &mut ChaCha8Rng,
    workspace: &mut Workspace,
    cancel: Option<&AtomicBool>,
) {
    workspace.start(children);
    let n = schedule.n;
    let Workspace {
        occupancy: [occupancy_baseline, occupancy_intervention],
        joint,
        ..
    } = workspace;
    let (current, next) = joint.split_at_mut(n * n);
    for (w, wave) in schedule.waves.iter().enumerate() {
        if cancelled(cancel) {
            break;
        }
        current.fill(0);
        multinomial_into(
            rng,
            children[w],
            &wave.initial_thresholds,
            &wave.initial_thresholds,
            current,
        );
        let mut cell = layout.index(w, wave.entry, 0);
        let record = |cell: usize, joint: &[u64], baseline: &mut [u32], intervention: &mut [u32]| {
            for (index, &count) in joint.iter().enumerate() {
                if count > 0 {
                    // Counts fit: a wave's children are a u32 count in the ledger.
                    baseline[cell + index / n] += count as u32;
                    intervention[cell + index % n] += count as u32;
                }
            }
        };
        record(cell, current, occupancy_baseline, occupancy_intervention);
        for step in &wave.steps {
            cell += n;
            next.fill(0);
            if step.forced_state != NO_FORCED_STATE {
                let forced = step.forced_state as usize;
                next[forced * n + forced] = current.iter().sum();
            } else {
                for (index, &count) in current.iter().enumerate() {
                    if count > 0 {
                        multinomial_into(
                            rng,
                            count,
                            schedule.row_thresholds(step.baseline, index / n),
                            schedule.row_thresholds(step.intervention, index % n),
                            next,
                        );
                    }
                }
            }
            current.copy_from_slice(next);
            record(cell, current, occupancy_baseline, occupancy_intervention);
        }
    }
    workspace.index_occupied();
}
