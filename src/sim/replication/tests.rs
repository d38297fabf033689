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
                proptest::prop_assert_eq!(within((low, width), u), stays, "state {} uniform {}", s, u);
            }
        }
    }
}

/// Runs `run_children` with rows of `N` states (0: the one-at-a-time path).
fn simulate_as<const N: usize>(
    schedule: &Schedule,
    layout: Layout,
    masks: &EntryMasks,
    children: &[u64],
    workspace: &mut Workspace,
) {
    workspace.start(children);
    let mut rng = crate::sim::rng::stream_for(11, 0, 4, crate::sim::rng::Purpose::Trajectories);
    run_children::<true, N>(schedule, layout, masks, None, &mut rng, workspace, None);
    workspace.gather();
    workspace.index_occupied();
}

/// A child in the same state in both arms is followed a stay at a time
/// (one comparison a step, its occupancy as two differences): the counts
/// and entries are those of drawing every child step by step, the path
/// taken with more than 8 states. Waves that start late, ageing out,
/// entries windows that open late, and blocks of fewer than 4 children.
#[test]
fn stays_count_what_drawing_every_step_counts() {
    for file in ["hameenlinna-icehearts", "vantaa-perhekumppani", "dwp-innovation-fund"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{file}.toml"));
        let scenario = crate::scenario::load(&path).expect("bundled");
        let engine = Engine::new(scenario);
        let (schedule, layout) = (&engine.schedule, engine.ledger.layout);
        let horizon = schedule.horizon;
        let specs = [
            EntriesSpec {
                mask: 0b0110,
                window: (0, horizon),
            },
            EntriesSpec {
                mask: 1 << (schedule.n - 1),
                window: (horizon / 3, horizon / 2),
            },
        ];
        let masks = EntryMasks::new(&specs, schedule.n, horizon);
        // Odd counts: every wave ends in a block of fewer than 4 children.
        let children: Vec<u64> = schedule.waves.iter().map(|w| w.children * 7 + 3).collect();
        let mut fast = Workspace::new(layout, specs.len(), None);
        let mut every_step = Workspace::new(layout, specs.len(), None);
        match schedule.n {
            2 => simulate_as::<2>(schedule, layout, &masks, &children, &mut fast),
            3 => simulate_as::<3>(schedule, layout, &masks, &children, &mut fast),
            4 => simulate_as::<4>(schedule, layout, &masks, &children, &mut fast),
            5 => simulate_as::<5>(schedule, layout, &masks, &children, &mut fast),
            n => panic!("{file}: {n} states"),
        }
        simulate_as::<0>(schedule, layout, &masks, &children, &mut every_step);
        assert!(fast.stay_runs.iter().any(|&d| d != 0), "{file}: no stay was run");
        assert_eq!(fast.occupancy, every_step.occupancy, "{file}");
        assert_eq!(fast.entries, every_step.entries, "{file}");
        assert!(fast.entries.iter().any(|e| e[0] > 0), "{file}: nobody entered");
        assert!(in_step(&fast));
    }
}
