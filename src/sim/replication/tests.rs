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
