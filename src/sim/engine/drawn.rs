//! A replication's own parameters, drawn in place: each thread keeps one
//! compiled copy of the engine and rewrites, per replication, only what the
//! draws change (transition matrices and their thresholds, state costs and
//! the accounts built from them, the shock path). Nothing is recompiled and,
//! after the first replication, nothing is allocated; the values are bit
//! for bit those a fresh compile of the drawn scenario gives.

use super::super::parameters::{self, DrawBuffers, ShockPath};
use super::super::replication::Workspace;
use super::Engine;
use crate::contract::{Observation, Settlement};
use crate::fund::FundFlows;
use crate::model::schedule::Parameters;
use crate::sim::measure::Evaluate;

/// Per-thread scratch space of an engine's replications: the treated
/// children, the comparison group, the buffers of the settlement, and
/// (under `[uncertainty]` or a shock) the thread's drawn engine. Once its
/// buffers have their sizes, a replication allocates nothing.
#[derive(Debug, Clone)]
pub struct Workspaces {
    buffers: Buffers,
    drawn: Option<Box<Drawn>>,
}

/// What one replication writes to, whichever engine runs it.
#[derive(Debug, Clone)]
pub(super) struct Buffers {
    /// The treated children in both arms.
    pub(super) treated: Workspace,
    /// The comparison group, when the contract measures by one.
    pub(super) control: Workspace,
    /// The settlement's scratch.
    pub(super) settle: SettleBuffers,
}

/// The vectors a replication's settlement fills, kept between replications.
#[derive(Debug, Clone, Default)]
pub(super) struct SettleBuffers {
    /// Each wave's enrolled children under volume risk.
    pub(super) enrolled: Vec<u64>,
    /// Every metric in both arms.
    pub(super) metric_values: Vec<[f64; 2]>,
    /// `observations[c][d]`: component c measured at its d-th date.
    pub(super) observations: Vec<Vec<Observation>>,
    /// What the contract paid.
    pub(super) settlement: Settlement,
    /// Programme costs per cycle.
    pub(super) programme: Vec<f64>,
    /// The fund's cash flows.
    pub(super) flows: FundFlows,
    /// The payer's state costs avoided per cycle (its cash path).
    pub(super) payer: Vec<f64>,
}

impl Workspaces {
    pub(super) fn new(treated: Workspace, control: Workspace) -> Workspaces {
        Workspaces {
            buffers: Buffers {
                treated,
                control,
                settle: SettleBuffers::default(),
            },
            drawn: None,
        }
    }

    /// The treated children of the last replication, in both arms.
    pub fn treated(&self) -> &Workspace {
        &self.buffers.treated
    }

    pub(super) fn buffers(&mut self) -> &mut Buffers {
        &mut self.buffers
    }
}

/// A thread's drawn engine and the buffers its draws reuse.
#[derive(Debug, Clone)]
struct Drawn {
    engine: Engine,
    buffers: DrawBuffers,
    /// The shock path of the replication being drawn.
    path: Vec<f64>,
}

impl Engine {
    /// One replication of the central engine `self` with drawn parameters:
    /// the thread's drawn engine is rewritten from the draws, then runs it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn replicate_drawn(
        &self,
        seed: u64,
        contract: u64,
        replication: u64,
        shock: ShockPath,
        workspaces: &mut Workspaces,
        record: &mut super::Record,
        cancel: Option<&std::sync::atomic::AtomicBool>,
    ) {
        let Workspaces { buffers, drawn } = workspaces;
        let drawn = drawn.get_or_insert_with(|| {
            Box::new(Drawn {
                engine: self.clone(),
                buffers: DrawBuffers::default(),
                path: Vec::new(),
            })
        });
        let path = &mut drawn.path;
        let shocked = shock.fill(self.scenario.time.horizon, seed, replication, path);
        if drawn.engine.schedule.shocked() != shocked || drawn.engine.shock.is_some() != shocked {
            // The first replication, or a change of structure: compile once.
            let scenario = parameters::draw(&self.scenario, seed, contract, replication);
            let shock = shocked.then(|| (path.clone(), self.shock_targets()));
            drawn.engine = Engine::compile(scenario, shock, Some(self));
        } else {
            drawn
                .engine
                .redraw(self, seed, contract, replication, path, &mut drawn.buffers);
        }
        drawn
            .engine
            .replicate_core(seed, contract, replication, buffers, record, cancel);
    }

    /// Rewrites this engine (compiled from `central`'s scenario, with a
    /// shock exactly when `central`'s replications have one) for one
    /// replication's draws and shock `path`.
    fn redraw(
        &mut self,
        central: &Engine,
        seed: u64,
        contract: u64,
        replication: u64,
        path: &[f64],
        buffers: &mut DrawBuffers,
    ) {
        parameters::redraw(
            &central.scenario,
            &mut self.scenario,
            seed,
            contract,
            replication,
            buffers,
        );
        if let Some((own, _)) = &mut self.shock {
            own.clear();
            own.extend_from_slice(path);
        }
        let parameters = Parameters {
            baseline: &self.scenario.baseline,
            arm: &self.scenario.intervention.arm,
            shock: self
                .shock
                .as_ref()
                .map(|(path, targets)| (path.as_slice(), targets.as_slice())),
        };
        self.schedule.redraw(&parameters);
        if let Some((control, _)) = &mut self.control {
            control.copy_matrices_from(&self.schedule);
        }
        self.ledger.redraw(&self.scenario);
        self.redraw_cost_measures();
    }

    /// Rewrites the measures of every `cost` metric (the only ones drawn
    /// parameters move) from this engine's drawn state costs.
    fn redraw_cost_measures(&mut self) {
        let scenario = &self.scenario;
        let ledger = &self.ledger;
        let redraw = |measure: &mut Evaluate, m: usize, window: (usize, usize)| {
            if let (true, Evaluate::Linear(arms)) = (Engine::drawn_measure(scenario, m), measure) {
                ledger.redraw_cost_measure(arms, scenario, &scenario.metrics[m], window);
            }
        };
        for (m, measure) in self.metrics.iter_mut().enumerate() {
            redraw(measure, m, scenario.metrics[m].window);
        }
        let Some(contract) = &scenario.contract else {
            return;
        };
        for (component, measures) in contract.components.iter().zip(&mut self.contract_measures) {
            if let Some(m) = component.metric {
                for (&date, measure) in component.at.iter().zip(measures) {
                    redraw(measure, m, scenario.metrics[m].window_to(date));
                }
            }
        }
        for (review, measure) in contract.reviews.iter().zip(&mut self.review_measures) {
            if let (Some(measure), Some(c)) = (measure, review.component) {
                let m = contract.components[c].metric.unwrap_or(0);
                redraw(measure, m, scenario.metrics[m].window_to(review.at));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Engine, Record};
    use crate::sim::parameters;
    use std::path::Path;

    /// One replication as it was run before the in-place redraw: the drawn
    /// scenario compiled afresh.
    fn compiled(central: &Engine, replication: u64, shock: Option<f64>, record: &mut Record) {
        let horizon = central.scenario.time.horizon;
        let own = central.scenario.uncertainty.as_ref().and_then(|u| u.shock.as_ref());
        let path = match (shock, own) {
            (Some(level), _) => Some(vec![level; horizon]),
            (None, Some(own)) => Some(parameters::shock_path(own, horizon, 5, replication)),
            (None, None) => None,
        };
        let scenario = parameters::draw(&central.scenario, 5, 0, replication);
        let engine = Engine::compile(scenario, path.map(|p| (p, central.shock_targets())), Some(central));
        let mut workspaces = engine.workspace();
        engine.replicate_core(5, 0, replication, workspaces.buffers(), record, None);
    }

    fn bits(record: &Record) -> Vec<u64> {
        let paths = record
            .values
            .iter()
            .chain(&record.payments)
            .chain(&record.fund_spending);
        let paths = paths.chain(&record.investor_path).chain(&record.payer_path);
        paths.map(|v| v.to_bits()).collect()
    }

    #[test]
    fn a_redrawn_engine_replicates_as_a_freshly_compiled_one() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut checked = 0;
        for name in [
            "hameenlinna-icehearts",
            "vantaa-perhekumppani",
            "nyc-able",
            "helsinki",
            "essex-mst",
        ] {
            let scenario = crate::scenario::load(&folder.join(format!("{name}.toml"))).expect("a bundled scenario");
            let mut central = Engine::new(scenario);
            for shock in [None, Some(0.4)] {
                central.fixed_shock = shock;
                // One thread's workspaces across replications, as a run reuses them.
                let mut workspaces = central.workspace();
                for replication in 0..12 {
                    let (mut redrawn, mut fresh) = (Record::default(), Record::default());
                    central.replicate_in(5, 0, replication, None, &mut workspaces, &mut redrawn, None);
                    compiled(&central, replication, shock, &mut fresh);
                    assert_eq!(
                        bits(&redrawn),
                        bits(&fresh),
                        "{name}, shock {shock:?}, replication {replication}"
                    );
                    assert_eq!(redrawn.events, fresh.events, "{name}, replication {replication}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 120);
    }
}
