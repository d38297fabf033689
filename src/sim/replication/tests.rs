//! Unit tests of the trajectory loop's workspace.

use super::*;
use crate::sim::engine::Engine;

/// Whether `workspace`'s occupied cells are exactly its nonzero counts.
fn in_step(workspace: &Workspace) -> bool {
    (0..2).all(|arm| {
        let dense: Vec<(u32, f64)> = workspace.occupancy[arm]
            .iter()
            .enumerate()
            .filter(|(_, &c)| c != 0)
            .map(|(i, &c)| (i as u32, c as f64))
            .collect();
        workspace.occupied(arm).cells() == dense.as_slice()
    })
}

#[test]
fn occupied_cells_follow_every_simulation_and_dropped_wave() {
    let scenario =
        crate::scenario::parse(include_str!("../../../scenarios/bench-6x1000x20.toml"), "bench.toml").expect("bundled");
    let engine = Engine::new(scenario);
    let layout = engine.ledger.layout;
    let children: Vec<u64> = engine.schedule.waves.iter().map(|w| w.children / 10).collect();
    let mut workspace = Workspace::new(layout, 0, None);
    for aggregate in [false, true] {
        let mut rng = crate::sim::rng::stream_for(3, 0, 1, crate::sim::rng::Purpose::Trajectories);
        if aggregate {
            simulate_treated_aggregate(&engine.schedule, layout, &children, &mut rng, &mut workspace, None);
        } else {
            let masks = EntryMasks::default();
            simulate_treated(
                &engine.schedule,
                layout,
                &masks,
                None,
                &children,
                &mut rng,
                &mut workspace,
                None,
            );
        }
        assert!(!workspace.occupied(BASELINE).cells().is_empty());
        assert!(in_step(&workspace));
        workspace.drop_wave(layout, 0);
        assert!(in_step(&workspace));
    }
}

/// Thresholds of a random row of `N` probabilities (some exactly zero, as
/// absorbing and unreachable states give).
fn random_row<const N: usize>(weights: &[u32]) -> [u32; N] {
    let total: u32 = weights.iter().sum::<u32>().max(1);
    let probabilities: Vec<f64> = weights.iter().map(|&w| w as f64 / total as f64).collect();
    let mut row = [0; N];
    row.copy_from_slice(&crate::model::schedule::thresholds(&probabilities));
    row
}

proptest::proptest! {
    /// The stay segments are exactly the uniforms for which both arms'
    /// draws keep a child in its state: the fast path changes no draw.
    #[test]
    fn stay_segments_are_where_both_draws_stay(
        weights in proptest::collection::vec(proptest::collection::vec(0u32..5, 5), 10),
        uniforms in proptest::collection::vec(0u32..(1 << 31), 64),
    ) {
        const N: usize = 5;
        let rows: Vec<[u32; N]> = weights.iter().map(|w| random_row::<N>(w)).collect();
        let mut segments = [(0, 0); N];
        stay_segments(&rows, 0, 1, &mut segments);
        for (s, &(low, width)) in segments.iter().enumerate() {
            // Random uniforms and every segment edge, where an off-by-one would show.
            let edges = rows[s].iter().chain(&rows[N + s]).flat_map(|&t| [t.saturating_sub(1), t]);
            for u in uniforms.iter().copied().chain(edges).filter(|&u| u < 1 << 31) {
                let stays = next_in::<N>(&rows, 0, s, u) == s && next_in::<N>(&rows, 1, s, u) == s;
                proptest::prop_assert_eq!(u.wrapping_sub(low) < width, stays, "state {} uniform {}", s, u);
            }
        }
    }
}
