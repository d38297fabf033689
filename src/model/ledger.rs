//! Linear accounting of occupancy: every per-child per-cycle amount (state
//! costs, programme costs, state-cycles, occupancy) is a weighted sum over
//! occupancy counts indexed by (wave, slot, state), where slot t is the state
//! during cycle t and slot `horizon` the state after the last transition.
//!
//! The same weights serve the exact expectation (expected occupancy) and the
//! Monte Carlo (sampled counts), so the two can only differ by sampling.

use super::{discount_factor, Counting, MetricKind, ProgrammePayer, Scenario};

/// Arm index of the counterfactual.
pub const BASELINE: usize = 0;
/// Arm index of the intervention.
pub const INTERVENTION: usize = 1;

/// Occupancy layout: `(wave * slots + slot) * states + state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Number of waves.
    pub waves: usize,
    /// horizon + 1.
    pub slots: usize,
    /// Number of states.
    pub states: usize,
}

impl Layout {
    /// The layout for a scenario.
    pub fn new(scenario: &Scenario) -> Layout {
        Layout {
            waves: scenario.cohort.waves.len(),
            slots: scenario.time.horizon + 1,
            states: scenario.state_count(),
        }
    }

    /// Total cells.
    pub fn len(&self) -> usize {
        self.waves * self.slots * self.states
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flat index.
    #[inline(always)]
    pub fn index(&self, wave: usize, slot: usize, state: usize) -> usize {
        (wave * self.slots + slot) * self.states + state
    }
}

/// A linear functional of occupancy plus a constant.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// One weight per occupancy cell.
    pub weights: Vec<f64>,
    /// Amounts that do not depend on occupancy (fixed programme costs),
    /// when every planned wave starts.
    pub constant: f64,
    /// The fixed programme costs behind `constant`, cycle by cycle, with
    /// the cycles each wave is in the programme: fixed costs run only while
    /// a wave that started is enrolled, so a wave that enrols nobody or is
    /// cancelled by a review removes the cycles no other wave covers.
    pub fixed: Option<Box<FixedCosts>>,
}

/// Fixed programme costs by cycle (discounted as the account is) and the
/// half-open programme cycles of each wave.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedCosts {
    /// `(cycle, amount)` for each cycle of the window some wave is in the programme.
    pub by_cycle: Vec<(usize, f64)>,
    /// Each wave's programme cycles.
    pub programme: Vec<(usize, usize)>,
}

impl FixedCosts {
    /// The fixed costs of the cycles in which some wave that started
    /// (`children[w]` > 0) is in the programme, summed from 0 in cycle order.
    fn running(&self, children: &[u64]) -> f64 {
        let mut sum = 0.0;
        for &(t, amount) in &self.by_cycle {
            let running = self
                .programme
                .iter()
                .zip(children)
                .any(|(&(from, to), &c)| c > 0 && (from..to).contains(&t));
            if running {
                sum += amount;
            }
        }
        sum
    }
}

/// The occupied cells of one arm's occupancy counts, in cell order, as
/// `(cell, count)`, and where each (wave, slot)'s cells begin: every
/// account sums over these instead of over every cell, most of which are
/// empty (no child of a wave before it starts, few in the rare states).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Occupied {
    /// `layout.len()` entries; the first `len` are the occupied cells.
    cells: Vec<(u32, f64)>,
    len: usize,
    /// `starts[wave * slots + slot]`: the first occupied cell of that
    /// (wave, slot) in `cells`; one more entry ends the last.
    starts: Vec<u32>,
}

impl Occupied {
    /// Indexes `occupancy` (in `layout`), replacing what was here.
    pub fn index(&mut self, occupancy: &[u32], layout: Layout) {
        self.cells.resize(occupancy.len(), (0, 0.0));
        self.starts.resize(layout.waves * layout.slots + 1, 0);
        // Slots as fixed-size rows up to 8 states: the state loop unrolls.
        let len = match layout.states {
            2 => self.index_rows::<2>(occupancy),
            3 => self.index_rows::<3>(occupancy),
            4 => self.index_rows::<4>(occupancy),
            5 => self.index_rows::<5>(occupancy),
            6 => self.index_rows::<6>(occupancy),
            7 => self.index_rows::<7>(occupancy),
            8 => self.index_rows::<8>(occupancy),
            states => {
                let mut len = 0;
                for (wave_slot, counts) in occupancy.chunks_exact(states.max(1)).enumerate() {
                    self.starts[wave_slot] = len as u32;
                    let first = (wave_slot * states) as u32;
                    for (state, &count) in counts.iter().enumerate() {
                        // Written always and kept when occupied: no branch to mispredict.
                        self.cells[len] = (first + state as u32, count as f64);
                        len += (count != 0) as usize;
                    }
                }
                len
            }
        };
        self.starts[layout.waves * layout.slots] = len as u32;
        self.len = len;
    }

    /// [`Occupied::index`]'s cells and slot starts for `N` states; returns
    /// how many cells are occupied.
    fn index_rows<const N: usize>(&mut self, occupancy: &[u32]) -> usize {
        let mut len = 0;
        let rows = occupancy.as_chunks::<N>().0;
        for (wave_slot, (counts, start)) in rows.iter().zip(&mut self.starts).enumerate() {
            *start = len as u32;
            let first = (wave_slot * N) as u32;
            for (state, &count) in counts.iter().enumerate() {
                // Written always and kept when occupied: no branch to mispredict.
                self.cells[len] = (first + state as u32, count as f64);
                len += (count != 0) as usize;
            }
        }
        len
    }

    /// Every occupied cell, in cell order.
    pub fn cells(&self) -> &[(u32, f64)] {
        &self.cells[..self.len]
    }

    /// The occupied cells of `slot` of `wave` (in `layout`), in state order.
    pub fn in_slot(&self, layout: Layout, wave: usize, slot: usize) -> &[(u32, f64)] {
        let at = wave * layout.slots + slot;
        match (self.starts.get(at), self.starts.get(at + 1)) {
            (Some(&from), Some(&to)) => &self.cells[from as usize..to as usize],
            _ => &[],
        }
    }
}

impl Linear {
    /// No weights, nothing constant (a placeholder).
    pub const EMPTY: Linear = Linear {
        weights: Vec::new(),
        constant: 0.0,
        fixed: None,
    };

    fn zero(layout: Layout) -> Linear {
        Linear {
            weights: vec![0.0; layout.len()],
            constant: 0.0,
            fixed: None,
        }
    }

    /// Value for sampled occupancy counts when wave w enrolled
    /// `children[w]`: as [`Linear::of_counts`], with fixed costs only for
    /// the cycles a wave that started is in the programme.
    pub fn of_run(&self, occupancy: &[u32], children: &[u64]) -> f64 {
        let mut sum = self.start(children);
        for (w, &c) in self.weights.iter().zip(occupancy) {
            if c != 0 {
                sum += w * c as f64;
            }
        }
        sum
    }

    /// [`Linear::of_run`] over the occupied cells only: the same terms in
    /// the same order, so the same bits, without passing over the empty
    /// cells (a replication evaluates a dozen accounts or more on one
    /// occupancy).
    pub fn of_occupied(&self, occupied: &Occupied, children: &[u64]) -> f64 {
        self.sum_occupied(self.start(children), occupied)
    }

    /// What a run's sum starts from: the constant when every planned wave
    /// started (`children[w]` > 0), else the fixed costs of the cycles some
    /// started wave is in the programme.
    fn start(&self, children: &[u64]) -> f64 {
        match self.fixed.as_deref().filter(|_| children.contains(&0)) {
            None => self.constant,
            Some(fixed) => fixed.running(children),
        }
    }

    /// [`Linear::of_counts`] over the occupied cells only (the same bits).
    pub fn of_occupied_counts(&self, occupied: &Occupied) -> f64 {
        self.sum_occupied(self.constant, occupied)
    }

    /// [`Linear::of_occupied`] of `K` accounts on the same cells at once:
    /// their sums are independent chains the processor overlaps (one sum
    /// alone waits on each addition), each added in its own order, so the
    /// same bits as one at a time.
    pub fn of_occupied_each<const K: usize>(accounts: [&Linear; K], occupied: &Occupied, children: &[u64]) -> [f64; K] {
        let mut sums = accounts.map(|a| a.start(children));
        for &(cell, count) in occupied.cells() {
            for (sum, account) in sums.iter_mut().zip(accounts) {
                *sum += account.weights[cell as usize] * count;
            }
        }
        sums
    }

    // Never inlined: inlined into the settlement (a large function), the
    // sum was kept on the stack, a store and a reload on every term's chain.
    #[inline(never)]
    fn sum_occupied(&self, start: f64, occupied: &Occupied) -> f64 {
        let mut sum = start;
        for &(cell, count) in occupied.cells() {
            sum += self.weights[cell as usize] * count;
        }
        sum
    }

    /// Value for sampled occupancy counts; summed in a fixed order.
    pub fn of_counts(&self, occupancy: &[u32]) -> f64 {
        let mut sum = self.constant;
        for (w, &c) in self.weights.iter().zip(occupancy) {
            if c != 0 {
                sum += w * c as f64;
            }
        }
        sum
    }

    /// Value for expected occupancy.
    pub fn of_expected(&self, occupancy: &[f64]) -> f64 {
        let mut sum = self.constant;
        for (w, &c) in self.weights.iter().zip(occupancy) {
            sum += w * c;
        }
        sum
    }
}

/// How a metric is measured in each arm.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// A linear functional per arm.
    Linear([Linear; 2]),
    /// Children entering a set of states (or, with `never`, children who
    /// did not); needs each child's history.
    Entries {
        /// State mask.
        states: Vec<bool>,
        /// Half-open cycle window.
        window: (usize, usize),
        /// Count the children who never entered instead.
        never: bool,
    },
}

/// All linear accounts of a scenario.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// Occupancy layout.
    pub layout: Layout,
    /// One per scenario metric, in order.
    pub metrics: Vec<Measure>,
    /// The payer's state costs over the whole horizon, discounted at the payer's rate.
    pub state_cost: [Linear; 2],
    /// The programme costs the payer bears (intervention arm), discounted likewise.
    pub payer_programme_cost: Linear,
    discount_tables: DiscountTables,
}

/// A `cost` metric's per-child weights in both arms over `window`, rewritten
/// from drawn state costs; its fixed programme costs are not drawn and stay.
fn redraw_cost(arms: &mut [Linear; 2], scenario: &Scenario, window: (usize, usize), discount: &[f64]) {
    redraw_arms(arms, scenario, window, discount, CostParts::Both);
}

/// Rewrites both arms' weights of a payer-cost account. The arms differ
/// only by the programme's costs ([`counts_programme`]); without them the
/// intervention arm's weights are the baseline's, copied rather than
/// worked out again (the same values).
fn redraw_arms(
    arms: &mut [Linear; 2],
    scenario: &Scenario,
    window: (usize, usize),
    discount: &[f64],
    parts: CostParts,
) {
    let [baseline, intervention] = arms;
    baseline.weights.fill(0.0);
    payer_cost_weights(baseline, scenario, BASELINE, window, discount, parts);
    if counts_programme(scenario, INTERVENTION, parts) {
        intervention.weights.fill(0.0);
        payer_cost_weights(intervention, scenario, INTERVENTION, window, discount, parts);
    } else {
        intervention.weights.clone_from(&baseline.weights);
    }
}

/// Discount factors at the start of each slot 0 ..= horizon + 1 (`rate`
/// None: all 1): computed once per account rather than once per wave and
/// cycle, the same values `discount_factor` gives.
fn discount_table(rate: Option<f64>, cycle_years: f64, horizon: usize) -> Vec<f64> {
    (0..horizon + 2)
        .map(|slot| rate.map_or(1.0, |r| discount_factor(r, slot as f64 * cycle_years)))
        .collect()
}

/// Adds `amount(state)` for cycle `t` of `wave` to `linear`, with the
/// counting convention and the discount factors of [`discount_table`].
fn add_cycle(
    linear: &mut Linear,
    layout: Layout,
    counting: Counting,
    discount: &[f64],
    (wave, t): (usize, usize),
    amount: impl Fn(usize) -> f64,
) {
    let parts: &[(usize, f64)] = match counting {
        Counting::Start => &[(0, 1.0)],
        Counting::End => &[(1, 1.0)],
        Counting::HalfCycle => &[(0, 0.5), (1, 0.5)],
    };
    for &(offset, share) in parts {
        let slot = t + offset;
        let d = discount[slot] * share;
        let cells = layout.index(wave, slot, 0)..layout.index(wave, slot, layout.states);
        for (s, weight) in linear.weights[cells].iter_mut().enumerate() {
            *weight += amount(s) * d;
        }
    }
}

/// Cycles `t` during which a wave entering at `entry` is enrolled:
/// e ≤ t < e + duration (cut short by a termination).
pub fn in_programme(scenario: &Scenario, entry: usize, t: usize) -> bool {
    t >= entry && t < entry + scenario.intervention.cycles_for(entry)
}

/// What [`payer_cost`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostParts {
    /// State costs only.
    States,
    /// The programme's costs only, when the payer bears them.
    Programme,
    /// Both: the `cost` metric.
    Both,
}

/// Whether a payer-cost account of `parts` in `arm` counts the programme's
/// costs: in the intervention arm, when the payer bears them.
fn counts_programme(scenario: &Scenario, arm: usize, parts: CostParts) -> bool {
    parts != CostParts::States && arm == INTERVENTION && scenario.intervention.payer == ProgrammePayer::Payer
}

/// The payer's cost in `arm` over cycles in `window`: state costs and/or the
/// programme's when the payer bears it (per child while enrolled and not in
/// `stops_in`; fixed costs at the start of every cycle some wave is enrolled).
pub fn payer_cost(
    scenario: &Scenario,
    arm: usize,
    window: (usize, usize),
    rate: Option<f64>,
    parts: CostParts,
) -> Linear {
    let mut linear = Linear::zero(Layout::new(scenario));
    let discount = discount_table(rate, scenario.time.cycle_years, scenario.time.horizon);
    payer_cost_weights(&mut linear, scenario, arm, window, &discount, parts);
    let programme = counts_programme(scenario, arm, parts);
    let iv = &scenario.intervention;
    if programme && iv.fixed_cost_per_cycle != 0.0 {
        let mut fixed = FixedCosts {
            by_cycle: Vec::new(),
            programme: scenario
                .cohort
                .waves
                .iter()
                .map(|w| (w.cycle, w.cycle + iv.cycles_for(w.cycle)))
                .collect(),
        };
        for (t, &d) in discount.iter().enumerate().take(window.1).skip(window.0) {
            if scenario.cohort.waves.iter().any(|w| in_programme(scenario, w.cycle, t)) {
                linear.constant += iv.fixed_cost_per_cycle * d;
                fixed.by_cycle.push((t, iv.fixed_cost_per_cycle * d));
            }
        }
        linear.fixed = Some(Box::new(fixed));
    }
    linear
}

/// The per-child weights of [`payer_cost`] (its fixed costs aside), added
/// to `linear`'s, with `discount` the account's [`discount_table`].
fn payer_cost_weights(
    linear: &mut Linear,
    scenario: &Scenario,
    arm: usize,
    window: (usize, usize),
    discount: &[f64],
    parts: CostParts,
) {
    let layout = Layout::new(scenario);
    let programme = counts_programme(scenario, arm, parts);
    let states = if parts == CostParts::Programme { 0.0 } else { 1.0 };
    let iv = &scenario.intervention;
    for (w, wave) in scenario.cohort.waves.iter().enumerate() {
        for t in window.0.max(wave.cycle)..window.1 {
            let enrolled = programme && in_programme(scenario, wave.cycle, t);
            let amount = |s: usize| {
                let mut a = states * scenario.states[s].cost;
                if enrolled && !iv.stops_in[s] {
                    a += iv.cost_per_child_cycle;
                }
                a
            };
            add_cycle(linear, layout, scenario.counting, discount, (w, t), amount);
        }
    }
}

/// Discount tables by rate, worked out once per ledger: a replication's
/// redraw of its cost accounts then calls no `pow`.
#[derive(Debug, Clone, Default)]
struct DiscountTables(Vec<(Option<f64>, Vec<f64>)>);

impl DiscountTables {
    fn new(scenario: &Scenario) -> DiscountTables {
        let mut tables = DiscountTables::default();
        let rates = std::iter::once(Some(scenario.discounting.payer_rate))
            .chain(scenario.metrics.iter().map(|m| m.discount_rate));
        for rate in rates {
            if !tables.0.iter().any(|(known, _)| *known == rate) {
                let table = discount_table(rate, scenario.time.cycle_years, scenario.time.horizon);
                tables.0.push((rate, table));
            }
        }
        tables
    }

    /// The table for `rate` (every rate of the scenario has one).
    fn get(&self, scenario: &Scenario, rate: Option<f64>) -> std::borrow::Cow<'_, [f64]> {
        match self.0.iter().find(|(known, _)| *known == rate) {
            Some((_, table)) => std::borrow::Cow::Borrowed(table),
            None => discount_table(rate, scenario.time.cycle_years, scenario.time.horizon).into(),
        }
    }
}

impl Ledger {
    /// How `metric` is measured over `window` (which may be shorter than
    /// the metric's own, for a contract's cumulative measurement to a date).
    pub fn measure(scenario: &Scenario, m: &super::Metric, window: (usize, usize)) -> Measure {
        let layout = Layout::new(scenario);
        match m.kind {
            MetricKind::Entries | MetricKind::NeverEntered => Measure::Entries {
                states: m.states.clone(),
                window,
                never: m.kind == MetricKind::NeverEntered,
            },
            MetricKind::Cost => Measure::Linear(
                [BASELINE, INTERVENTION].map(|arm| payer_cost(scenario, arm, window, m.discount_rate, CostParts::Both)),
            ),
            MetricKind::StateCycles => {
                let mut linear = Linear::zero(layout);
                let discount = discount_table(m.discount_rate, scenario.time.cycle_years, scenario.time.horizon);
                for (w, wave) in scenario.cohort.waves.iter().enumerate() {
                    for t in window.0.max(wave.cycle)..window.1 {
                        let amount = |s: usize| if m.states[s] { 1.0 } else { 0.0 };
                        add_cycle(&mut linear, layout, scenario.counting, &discount, (w, t), amount);
                    }
                }
                Measure::Linear([linear.clone(), linear])
            }
            MetricKind::OccupancyAt(at) => {
                let mut linear = Linear::zero(layout);
                for (w, wave) in scenario.cohort.waves.iter().enumerate() {
                    if at >= wave.cycle {
                        for s in 0..layout.states {
                            if m.states[s] {
                                linear.weights[layout.index(w, at, s)] = 1.0;
                            }
                        }
                    }
                }
                Measure::Linear([linear.clone(), linear])
            }
        }
    }

    /// Builds every account of a scenario.
    pub fn new(scenario: &Scenario) -> Ledger {
        Ledger::reusing(scenario, None)
    }

    /// [`Ledger::new`], taking the measures that do not depend on drawn
    /// parameters (every metric but `cost`) from `central`, a ledger of
    /// the same scenario's structure.
    pub fn reusing(scenario: &Scenario, central: Option<&Ledger>) -> Ledger {
        let layout = Layout::new(scenario);
        let horizon = scenario.time.horizon;
        let metrics = scenario
            .metrics
            .iter()
            .enumerate()
            .map(|(k, m)| match central {
                Some(central) if m.kind != MetricKind::Cost => central.metrics[k].clone(),
                _ => Ledger::measure(scenario, m, m.window),
            })
            .collect();
        let rate = Some(scenario.discounting.payer_rate);
        Ledger {
            layout,
            metrics,
            state_cost: [BASELINE, INTERVENTION]
                .map(|arm| payer_cost(scenario, arm, (0, horizon), rate, CostParts::States)),
            payer_programme_cost: payer_cost(scenario, INTERVENTION, (0, horizon), rate, CostParts::Programme),
            discount_tables: match central {
                Some(central) => central.discount_tables.clone(),
                None => DiscountTables::new(scenario),
            },
        }
    }

    /// The factor at slot `slot` (time `slot`·Δ) of the discount table for
    /// `rate`, worked out once per ledger (the value `discount_factor`
    /// gives); `None` past the table or for a rate the scenario does not use.
    pub fn discount_at(&self, rate: Option<f64>, slot: usize) -> Option<f64> {
        let (_, table) = self.discount_tables.0.iter().find(|(known, _)| *known == rate)?;
        table.get(slot).copied()
    }

    /// Rewrites in place, from `scenario`'s (drawn) state costs, the state
    /// costs' accounts: the weights [`Ledger::new`] gives, bit for bit,
    /// without allocating. The programme's account does not depend on drawn
    /// parameters. The `cost` metrics' accounts in `metrics` keep the
    /// values they were built with: a replication evaluates the measures
    /// its engine compiled from them, and redraws those
    /// ([`Ledger::redraw_cost_measure`]) rather than both.
    pub fn redraw(&mut self, scenario: &Scenario) {
        let horizon = scenario.time.horizon;
        let payer_rate = Some(scenario.discounting.payer_rate);
        let discount = self.discount_tables.get(scenario, payer_rate);
        redraw_arms(
            &mut self.state_cost,
            scenario,
            (0, horizon),
            &discount,
            CostParts::States,
        );
    }

    /// Rewrites in place a `cost` metric's accounts over `window` (as
    /// [`Ledger::measure`] builds them) from `scenario`'s drawn costs.
    /// Call after [`Ledger::redraw`]: where the metric's account is the
    /// payer's state costs over the whole horizon at the payer's rate (a
    /// discounted `cost` metric without a window, when the payer does not
    /// bear the programme), its weights are those, copied rather than
    /// worked out again (the same operations on the same values).
    pub fn redraw_cost_measure(
        &self,
        arms: &mut [Linear; 2],
        scenario: &Scenario,
        metric: &super::Metric,
        window: (usize, usize),
    ) {
        let same_account = window == (0, scenario.time.horizon)
            && metric.discount_rate.map(f64::to_bits) == Some(scenario.discounting.payer_rate.to_bits())
            && !counts_programme(scenario, INTERVENTION, CostParts::Both);
        if same_account {
            for (arm, drawn) in arms.iter_mut().zip(&self.state_cost) {
                arm.weights.clone_from(&drawn.weights);
            }
            return;
        }
        let discount = self.discount_tables.get(scenario, metric.discount_rate);
        redraw_cost(arms, scenario, window, &discount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The occupied cells give every account the bits the dense sums give.
        #[test]
        fn occupied_sums_match_the_dense_sums(
            (layout, occupancy, weights) in (1usize..4, 1usize..6, 1usize..7).prop_flat_map(|(waves, slots, states)| {
                let len = waves * slots * states;
                (
                    Just(Layout { waves, slots, states }),
                    proptest::collection::vec(prop_oneof![3 => Just(0u32), 1 => 0u32..500], len),
                    proptest::collection::vec(-1e6f64..1e6, len),
                )
            }),
            constant in -10.0f64..10.0,
            children in proptest::collection::vec(0u64..3, 1..4),
        ) {
            let fixed = FixedCosts {
                by_cycle: vec![(0, 1.5), (1, 2.25), (3, 7.0)],
                programme: children.iter().enumerate().map(|(w, _)| (w, w + 2)).collect(),
            };
            let mut occupied = Occupied::default();
            occupied.index(&occupancy, layout);
            for fixed in [None, Some(Box::new(fixed))] {
                let linear = Linear { weights: weights.clone(), constant, fixed };
                prop_assert_eq!(linear.of_occupied(&occupied, &children).to_bits(), linear.of_run(&occupancy, &children).to_bits());
                prop_assert_eq!(linear.of_occupied_counts(&occupied).to_bits(), linear.of_counts(&occupancy).to_bits());
                // Side by side with another account, each sum keeps its bits.
                let scaled = Linear { weights: weights.iter().map(|w| w * 0.37 - 1.0).collect(), constant: 1.0, fixed: None };
                let each = Linear::of_occupied_each([&linear, &scaled, &linear], &occupied, &children);
                let one_at_a_time = [&linear, &scaled, &linear].map(|a| a.of_occupied(&occupied, &children));
                prop_assert_eq!(each.map(f64::to_bits), one_at_a_time.map(f64::to_bits));
            }
            for w in 0..layout.waves {
                for slot in 0..layout.slots {
                    let dense: Vec<(u32, f64)> = (0..layout.states)
                        .map(|s| layout.index(w, slot, s))
                        .filter(|&i| occupancy[i] != 0)
                        .map(|i| (i as u32, occupancy[i] as f64))
                        .collect();
                    prop_assert_eq!(occupied.in_slot(layout, w, slot), dense.as_slice());
                }
            }
            prop_assert!(occupied.in_slot(layout, layout.waves, 0).is_empty());
        }
    }
}
