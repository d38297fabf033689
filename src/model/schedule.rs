//! The transition schedule: which matrix each wave uses at each cycle, in each
//! arm, compiled once into integer thresholds for the sampler and kept as
//! probabilities for the exact propagation.
//!
//! Every child of a wave shares its entry cycle and age, so the matrix in force
//! depends only on (wave, cycle, arm): the inner loop looks it up, never
//! computes it.

use super::{Effect, InterventionArm, Scenario, Transitions};

/// 2^31: a draw takes the top 31 bits of a uniform `u32` and compares them
/// with cumulative probabilities scaled by this, one integer comparison per
/// state. 31 bits keep every threshold, including "never" (2^31), in a u32,
/// which halves the table and lets the comparisons vectorise; the resolution,
/// 2^-31 ≈ 4.7e-10, is finer than the 1e-9 to which rows must sum.
pub const THRESHOLD_SCALE: u64 = 1 << 31;

/// Marker for "no forced exit" in [`Step::forced_state`].
pub const NO_FORCED_STATE: u8 = u8::MAX;

/// Cumulative integer thresholds of a distribution: state k is drawn for a
/// uniform u32 `u` when `thr[k-1] <= u < thr[k]`, i.e. `k = #{j : thr[j] <= u}`.
/// The last state with positive probability ends at 2^32 exactly, so rounding
/// never gives a zero-probability state any mass.
pub fn thresholds(probabilities: &[f64]) -> Vec<u32> {
    let mut out = vec![0; probabilities.len()];
    thresholds_into(probabilities, &mut out);
    out
}

/// [`thresholds`] written into `out` (of the same length).
pub fn thresholds_into(probabilities: &[f64], out: &mut [u32]) {
    let last_positive = probabilities.iter().rposition(|&p| p > 0.0).unwrap_or(0);
    let mut cumulative = 0.0;
    for (j, (&p, t)) in probabilities.iter().zip(out).enumerate() {
        cumulative += p;
        *t = if j >= last_positive {
            THRESHOLD_SCALE
        } else {
            round_half_away(cumulative * THRESHOLD_SCALE as f64).min(THRESHOLD_SCALE)
        } as u32;
    }
}

/// [`thresholds_into`] for a row of `N` states: the same bits, with the
/// rounding done on a value first clamped to [0, 2^31] (so that the
/// conversion is one signed instruction) and no branches. Rebuilding the
/// thresholds of every shocked matrix was 12 % of a `lapset-sib` run.
#[inline(always)]
fn thresholds_fixed<const N: usize>(probabilities: &[f64; N], out: &mut [u32; N]) {
    let mut last_positive = 0;
    for (j, &p) in probabilities.iter().enumerate() {
        if p > 0.0 {
            last_positive = j;
        }
    }
    let mut cumulative = 0.0;
    for (j, (&p, t)) in probabilities.iter().zip(out.iter_mut()).enumerate() {
        cumulative += p;
        let rounded = round_clamped(cumulative * THRESHOLD_SCALE as f64);
        *t = if j >= last_positive {
            THRESHOLD_SCALE as u32
        } else {
            rounded
        };
    }
}

/// `round_half_away(x).min(THRESHOLD_SCALE)`, for every `x` (NaN and
/// negatives give 0, as the saturating cast does): rounding the clamped
/// value gives the same result, and below 2^31 truncation is exact in i64.
#[inline(always)]
fn round_clamped(x: f64) -> u32 {
    let scale = THRESHOLD_SCALE as f64;
    let x = if x >= 0.0 { x.min(scale) } else { 0.0 };
    let whole = x as i64;
    (whole + i64::from(x - whole as f64 >= 0.5)) as u32
}

/// `x.round() as u64` without the libm call (`round` is not inlined without
/// SSE4.1 and was 3 % of a `lapset-sib` run, which rebuilds its shocked
/// thresholds every replication): the same value for every `x`, including
/// negative, non-finite and out-of-range ones (the cast saturates).
#[inline]
fn round_half_away(x: f64) -> u64 {
    let whole = x as u64;
    // Exact below 2^52 (the fraction of x); 0 above, where x is whole.
    if x - whole as f64 >= 0.5 {
        whole.saturating_add(1)
    } else {
        whole
    }
}

/// Draws an index from thresholds built by [`thresholds`].
#[inline(always)]
pub fn draw(thresholds: &[u32], uniform: u32) -> usize {
    let u = uniform >> 1;
    // Branch-free count; rows are short (a handful of states).
    thresholds.iter().map(|&t| (t <= u) as usize).sum()
}

/// The transition made at the end of one cycle by one wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Matrix index for the baseline arm.
    pub baseline: u32,
    /// Matrix index for the intervention arm.
    pub intervention: u32,
    /// Exit state forced by ageing out, or [`NO_FORCED_STATE`].
    pub forced_state: u8,
}

/// One wave's compiled schedule.
#[derive(Debug, Clone)]
pub struct WaveSchedule {
    /// Entry cycle.
    pub entry: usize,
    /// Number of children planned.
    pub children: u64,
    /// Planned children of the waves before it (in file order): its children's
    /// place in the trajectory stream, so that a wave's draws do not depend on
    /// how many children other waves enrolled.
    pub first_child: u64,
    /// Initial distribution.
    pub initial: Vec<f64>,
    /// Thresholds of the initial distribution.
    pub initial_thresholds: Vec<u32>,
    /// `steps[t - entry]` is the transition at the end of cycle t, t = entry..horizon.
    pub steps: Vec<Step>,
}

/// The whole compiled schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Number of states.
    pub n: usize,
    /// Number of cycles.
    pub horizon: usize,
    /// Distinct probability matrices (row-major, n × n each).
    pub matrices: Vec<Vec<f64>>,
    /// Thresholds of every matrix, flattened: matrix, row, column.
    pub thresholds: Vec<u32>,
    /// Per wave.
    pub waves: Vec<WaveSchedule>,
    /// Where each matrix comes from (and the cycle whose shock it carries):
    /// what [`Schedule::redraw`] rebuilds in place.
    sources: Vec<(Source, Option<usize>)>,
    /// Scratch for [`Schedule::redraw`]: e^z for each cycle of a shock path.
    shock_factors: Vec<f64>,
    /// Per state, whether its rows can change from draw to draw: false for
    /// an absorbing state, whose row is 1 on the diagonal in every matrix
    /// (validation holds every source to that, and neither effects, risk
    /// multipliers nor a shock can give a zero move mass), so that
    /// [`Schedule::redraw`] leaves its rows and thresholds as compiled.
    moving: Vec<bool>,
    /// Scratch for [`Schedule::redraw`]: each source of a shocked matrix
    /// built once a redraw (whether it is built yet, and its matrix before
    /// the shock), so that its cycles' matrices copy it rather than apply
    /// the effects again.
    unshocked: Vec<(Source, bool, Vec<f64>)>,
}

/// Where a matrix comes from; used to build each distinct matrix once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    Baseline(Option<usize>),
    Full(Option<usize>),
    /// Baseline band with effects; `after` = cycles since the programme ended.
    Effects(Option<usize>, Option<usize>),
}

/// The parameters a schedule is built from: central values, or one
/// replication's draws under parameter uncertainty.
#[derive(Debug, Clone)]
pub struct Parameters<'a> {
    /// Baseline transitions.
    pub baseline: &'a Transitions,
    /// Intervention arm.
    pub arm: &'a InterventionArm,
    /// A systemic shock: z_t per cycle and the target states.
    pub shock: Option<(&'a [f64], &'a [bool])>,
}

impl Schedule {
    /// Compiles the schedule from the scenario's central parameters.
    pub fn new(scenario: &Scenario) -> Schedule {
        Schedule::with_parameters(
            scenario,
            &Parameters {
                baseline: &scenario.baseline,
                arm: &scenario.intervention.arm,
                shock: None,
            },
        )
    }

    /// Compiles the schedule from given parameters.
    pub fn with_parameters(scenario: &Scenario, parameters: &Parameters) -> Schedule {
        let n = scenario.state_count();
        let horizon = scenario.time.horizon;
        let mut builder = Builder {
            n,
            parameters,
            matrices: Vec::new(),
            sources: Vec::new(),
            index: Vec::new(),
        };
        let max_waning = match parameters.arm {
            InterventionArm::Effects(effects) => effects.iter().map(|e| e.waning_cycles).max().unwrap_or(0),
            InterventionArm::Transitions(_) => 0,
        };
        let mut waves = Vec::new();
        let mut first_child = 0u64;
        for wave in &scenario.cohort.waves {
            let duration = scenario.intervention.cycles_for(wave.cycle);
            let mut steps = Vec::with_capacity(horizon - wave.cycle);
            for t in wave.cycle..horizon {
                let age = wave.age_at(t, scenario.time.cycle_years);
                let band = parameters.baseline.band_for(t, age);
                let shocked = parameters.shock.map(|_| t);
                let baseline = builder.get((Source::Baseline(band), shocked));
                let k = t - wave.cycle;
                let intervention_source = match parameters.arm {
                    InterventionArm::Transitions(full) if k < duration => Source::Full(full.band_for(t, age)),
                    InterventionArm::Transitions(_) => Source::Baseline(band),
                    InterventionArm::Effects(e) if e.is_empty() => Source::Baseline(band),
                    InterventionArm::Effects(_) if k < duration => Source::Effects(band, None),
                    InterventionArm::Effects(_) if k - duration < max_waning => {
                        Source::Effects(band, Some(k - duration))
                    }
                    InterventionArm::Effects(_) => Source::Baseline(band),
                };
                let intervention = builder.get((intervention_source, shocked));
                let age_next = wave.age_at(t + 1, scenario.time.cycle_years);
                let forced_state = match scenario.cohort.exit {
                    Some(exit) if age_next >= exit.age - super::AGE_EPSILON => exit.state as u8,
                    _ => NO_FORCED_STATE,
                };
                steps.push(Step {
                    baseline,
                    intervention,
                    forced_state,
                });
            }
            waves.push(WaveSchedule {
                entry: wave.cycle,
                children: wave.children,
                first_child,
                initial: wave.initial.clone(),
                initial_thresholds: thresholds(&wave.initial),
                steps,
            });
            first_child += wave.children;
        }
        let mut schedule = Schedule {
            n,
            horizon,
            thresholds: vec![0; builder.matrices.len() * n * n],
            matrices: builder.matrices,
            waves,
            sources: builder.sources,
            shock_factors: Vec::new(),
            unshocked: Vec::new(),
            moving: scenario.states.iter().map(|s| !s.absorbing).collect(),
        };
        schedule.fill_thresholds();
        schedule
    }

    /// Works out every row's thresholds.
    fn fill_thresholds(&mut self) {
        let every = vec![true; self.n];
        fill_thresholds_of(&self.matrices, &mut self.thresholds, self.n, &every);
    }

    /// Whether its matrices carry a shock cycle by cycle.
    pub fn shocked(&self) -> bool {
        self.sources.iter().any(|(_, shocked)| shocked.is_some())
    }

    /// Rebuilds every matrix and threshold in place from new `parameters`
    /// of the same structure (a replication's draws): the schedule
    /// [`Schedule::with_parameters`] would build, bit for bit, without
    /// allocating once its scratch has its sizes (after the first redraw).
    /// The waves' steps do not depend on the values, only on
    /// the structure, and a shock must be given exactly when
    /// [`Schedule::shocked`] (a schedule built without a shock may still
    /// take one whose path is all zeros, and so the other way round).
    pub fn redraw(&mut self, parameters: &Parameters) {
        let n = self.n;
        // e^z once per cycle, not once per matrix shocked at that cycle.
        if let Some((path, _)) = parameters.shock {
            self.shock_factors.clear();
            self.shock_factors.extend(path.iter().map(|z| z.exp()));
        }
        for (_, built, _) in &mut self.unshocked {
            *built = false;
        }
        for (matrix, &(source, shocked)) in self.matrices.iter_mut().zip(&self.sources) {
            let Some(t) = shocked else {
                build_into(parameters, source, n, matrix);
                continue;
            };
            // A shocked matrix: its source's, built once, then its cycle's shock.
            let at = match self.unshocked.iter().position(|(known, _, _)| *known == source) {
                Some(at) => at,
                None => {
                    self.unshocked.push((source, false, Vec::new()));
                    self.unshocked.len() - 1
                }
            };
            let (_, built, unshocked) = &mut self.unshocked[at];
            if !*built {
                build_into(parameters, source, n, unshocked);
                *built = true;
            }
            matrix.clone_from(unshocked);
            if let Some((path, targets)) = parameters.shock {
                if path.get(t).is_some_and(|&z| z != 0.0) {
                    scale_odds(matrix, n, self.shock_factors[t], targets, &self.moving);
                }
            }
        }
        // An absorbing state's rows and thresholds stay as compiled
        // (a fifth of lapset-sib's rows, rebuilt every replication).
        fill_thresholds_of(&self.matrices, &mut self.thresholds, n, &self.moving);
    }

    /// Takes `other`'s matrices and thresholds (a schedule of the same
    /// structure), keeping its own waves: the comparison group's schedule
    /// follows the treated one's draws.
    pub fn copy_matrices_from(&mut self, other: &Schedule) {
        self.matrices.clone_from(&other.matrices);
        self.thresholds.clone_from(&other.thresholds);
        self.sources.clone_from(&other.sources);
    }

    /// Thresholds of row `from` of matrix `matrix`.
    #[inline(always)]
    pub fn row_thresholds(&self, matrix: u32, from: usize) -> &[u32] {
        let start = (matrix as usize * self.n + from) * self.n;
        &self.thresholds[start..start + self.n]
    }
}

struct Builder<'a> {
    n: usize,
    parameters: &'a Parameters<'a>,
    matrices: Vec<Vec<f64>>,
    sources: Vec<(Source, Option<usize>)>,
    /// Per source (a handful), the matrix index for each shocked cycle t at
    /// slot t + 1 and unshocked at slot 0 (`u32::MAX`: not built yet): a
    /// compile looks matrices up per wave and cycle, and hashing the key
    /// cost more than the lookup (callgrind).
    index: Vec<(Source, Vec<u32>)>,
}

impl Builder<'_> {
    /// The matrix index for a source, shocked at cycle `shocked` if given.
    fn get(&mut self, key: (Source, Option<usize>)) -> u32 {
        let slot = key.1.map_or(0, |t| t + 1);
        let source = match self.index.iter().position(|(source, _)| *source == key.0) {
            Some(k) => k,
            None => {
                self.index.push((key.0, Vec::new()));
                self.index.len() - 1
            }
        };
        if let Some(&i) = self.index[source].1.get(slot).filter(|&&i| i != u32::MAX) {
            return i;
        }
        let mut matrix = Vec::new();
        build_into(self.parameters, key.0, self.n, &mut matrix);
        if let (Some(t), Some((path, targets))) = (key.1, self.parameters.shock) {
            apply_shock(&mut matrix, self.n, path.get(t).copied().unwrap_or(0.0), targets);
        }
        let i = self.matrices.len() as u32;
        self.matrices.push(matrix);
        self.sources.push(key);
        let slots = &mut self.index[source].1;
        if slots.len() <= slot {
            slots.resize(slot + 1, u32::MAX);
        }
        slots[slot] = i;
        i
    }
}

/// Works out, into `thresholds` (matrix, row, column), the thresholds of
/// the rows of `matrices` (each `n` × `n`) from the states `rows` marks;
/// the others keep theirs.
fn fill_thresholds_of(matrices: &[Vec<f64>], thresholds: &mut [u32], n: usize, rows: &[bool]) {
    macro_rules! fixed {
        ($($width:literal)*) => {
            match n {
                $($width => if let Ok(rows) = <&[bool; $width]>::try_from(rows) {
                    return fill_thresholds_fixed::<$width>(matrices, thresholds, rows);
                },)*
                _ => {}
            }
        };
    }
    fixed!(2 3 4 5 6 7 8);
    for (m, out) in matrices.iter().zip(thresholds.chunks_mut(n * n)) {
        for ((row, row_out), _) in m.chunks(n).zip(out.chunks_mut(n)).zip(rows).filter(|(_, &r)| r) {
            thresholds_into(row, row_out);
        }
    }
}

/// [`fill_thresholds_of`] for `N` states: rows as fixed-size arrays, so
/// that each unrolls.
fn fill_thresholds_fixed<const N: usize>(matrices: &[Vec<f64>], thresholds: &mut [u32], rows: &[bool; N]) {
    for (m, out) in matrices.iter().zip(thresholds.chunks_exact_mut(N * N)) {
        let rows_out = out.as_chunks_mut::<N>().0;
        for ((row, row_out), &fill) in m.as_chunks::<N>().0.iter().zip(rows_out).zip(rows) {
            if fill {
                thresholds_fixed(row, row_out);
            }
        }
    }
}

/// Writes the probabilities of the matrix from `source` into `matrix`
/// (keeping its buffer when it has the size).
fn build_into(parameters: &Parameters, source: Source, n: usize, matrix: &mut Vec<f64>) {
    match source {
        Source::Baseline(band) => refill(matrix, parameters.baseline.matrix(band).probabilities()),
        Source::Full(band) => match parameters.arm {
            InterventionArm::Transitions(t) => refill(matrix, t.matrix(band).probabilities()),
            InterventionArm::Effects(_) => {
                unreachable!("full matrices only come from a full intervention")
            }
        },
        Source::Effects(band, after) => {
            refill(matrix, parameters.baseline.matrix(band).probabilities());
            if let InterventionArm::Effects(effects) = parameters.arm {
                apply_effects(effects, matrix, n, after);
            }
        }
    }
}

/// Replaces `matrix`'s values with `values`, keeping its buffer.
fn refill(matrix: &mut Vec<f64>, values: &[f64]) {
    matrix.clear();
    matrix.extend_from_slice(values);
}

/// Multiplies the odds of every off-diagonal move into `targets` by e^z;
/// the diagonal absorbs the change (if it cannot, the moves are scaled to
/// fill the row and the diagonal is 0).
pub fn apply_shock(probabilities: &mut [f64], n: usize, z: f64, targets: &[bool]) {
    if z != 0.0 {
        scale_odds(probabilities, n, z.exp(), targets, &vec![true; n]);
    }
}

/// [`apply_shock`] with the odds' factor e^z given (z ≠ 0), on the rows
/// `rows` marks (the others, rows of absorbing states, would not change).
fn scale_odds(probabilities: &mut [f64], n: usize, factor: f64, targets: &[bool], rows: &[bool]) {
    macro_rules! fixed {
        ($($width:literal)*) => {
            match n {
                $($width => if let (Ok(targets), Ok(rows)) = (<&[bool; $width]>::try_from(targets), <&[bool; $width]>::try_from(rows)) {
                    let matrix = probabilities.as_chunks_mut::<$width>().0;
                    return scale_odds_fixed(matrix, factor, targets, rows);
                },)*
                _ => {}
            }
        };
    }
    fixed!(2 3 4 5 6 7 8);
    scale_odds_rows(probabilities, n, factor, targets, rows);
}

/// [`scale_odds`] on rows of any width, one move at a time.
fn scale_odds_rows(probabilities: &mut [f64], n: usize, factor: f64, targets: &[bool], rows: &[bool]) {
    for i in (0..n).filter(|&i| rows.get(i).copied().unwrap_or(true)) {
        let row = &mut probabilities[i * n..(i + 1) * n];
        let mut off_diagonal = 0.0;
        for (j, p) in row.iter_mut().enumerate() {
            if j == i {
                continue;
            }
            if targets[j] && *p > 0.0 && *p < 1.0 {
                *p = *p * factor / (1.0 - *p + *p * factor);
            }
            off_diagonal += *p;
        }
        settle_diagonal(row, i, off_diagonal);
    }
}

/// Gives row `i`'s diagonal what its moves leave (`off_diagonal`, their
/// sum), or, when they sum past 1, scales them to fill the row.
#[inline(always)]
fn settle_diagonal(row: &mut [f64], i: usize, off_diagonal: f64) {
    if off_diagonal > 1.0 {
        for (j, p) in row.iter_mut().enumerate() {
            if j != i {
                *p /= off_diagonal;
            }
        }
        row[i] = 0.0;
    } else {
        row[i] = 1.0 - off_diagonal;
    }
}

/// [`scale_odds`] for rows of `N` states: each target column's division
/// worked out and the scaled odds selected without a branch, so that the
/// divisions of a row overlap (a shared shock rescales every matrix of
/// `lapset-sib` each replication); the other columns' divisions, never
/// kept, are not made (−0.75 % of `lapset-sib`'s
/// instructions). The same operations in the same order, so the same bits.
#[inline(always)]
fn scale_odds_fixed<const N: usize>(matrix: &mut [[f64; N]], factor: f64, targets: &[bool; N], rows: &[bool; N]) {
    // The target columns once a matrix: the divisions are only theirs.
    let mut columns = [0usize; N];
    let mut count = 0;
    for (j, &target) in targets.iter().enumerate() {
        columns[count] = j;
        count += usize::from(target);
    }
    let columns = &columns[..count];
    for (i, (row, _)) in matrix.iter_mut().zip(rows).enumerate().filter(|(_, (_, &r))| r) {
        for &j in columns {
            let p = row[j];
            let scaled = p * factor / (1.0 - p + p * factor);
            if j != i && p > 0.0 && p < 1.0 {
                row[j] = scaled;
            }
        }
        let mut off_diagonal = 0.0;
        for (j, &p) in row.iter().enumerate() {
            if j != i {
                off_diagonal += p;
            }
        }
        settle_diagonal(row, i, off_diagonal);
    }
}

/// Applies effects in file order with the risks in force `after` cycles
/// since the programme ended (`None` = in the programme).
pub fn apply_effects(effects: &[Effect], probabilities: &mut [f64], n: usize, after: Option<usize>) {
    for e in effects {
        // Validation has rejected risks that break a row; sampled risks are clamped.
        let _ = e.apply(probabilities, n, e.relative_risk_at(after));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_give_exact_integer_probabilities() {
        let t = thresholds(&[0.25, 0.0, 0.75, 0.0]);
        assert_eq!(t, vec![1 << 29, 1 << 29, 1 << 31, 1 << 31]);
        // A draw uses the top 31 bits: u32 values below 2^31 give 0.25 of the range.
        assert_eq!(draw(&t, 0), 0);
        assert_eq!(draw(&t, (1 << 30) - 1), 0);
        assert_eq!(draw(&t, 1 << 30), 2);
        assert_eq!(draw(&t, u32::MAX), 2);
    }

    #[test]
    fn round_half_away_matches_round() {
        let mut cases = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            -0.4,
            -0.6,
            -7.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            (1u64 << 52) as f64 + 1.0,
            (1u64 << 53) as f64,
            1.8e19,
            u64::MAX as f64,
            4e19,
            f64::MAX,
        ];
        // Every cumulative probability a row of tenths or thirds can give.
        for k in 0..=30 {
            cases.push(k as f64 / 30.0 * THRESHOLD_SCALE as f64);
            cases.push((k as f64 * 0.1) * THRESHOLD_SCALE as f64);
        }
        for x in cases {
            assert_eq!(round_half_away(x), x.round() as u64, "{x:e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn round_half_away_matches_round_on_any_bits(bits in proptest::prelude::any::<u64>(), small in 0.0..4.3e9f64) {
            let x = f64::from_bits(bits);
            proptest::prop_assert_eq!(round_half_away(x), x.round() as u64);
            proptest::prop_assert_eq!(round_half_away(small), small.round() as u64);
        }
    }

    proptest::proptest! {
        /// The fixed-width rows give the bits the general rows give, for
        /// rows of any values (zeros, ones, sums a little over or under 1).
        #[test]
        fn fixed_rows_match_general_rows(
            row in proptest::collection::vec(proptest::prop_oneof![
                2 => proptest::prelude::Just(0.0f64),
                1 => proptest::prelude::Just(1.0f64),
                4 => 0.0..1.0f64,
                1 => proptest::prelude::any::<f64>(),
            ], 5),
        ) {
            let row: [f64; 5] = row.try_into().unwrap();
            let mut fixed = [0u32; 5];
            thresholds_fixed(&row, &mut fixed);
            proptest::prop_assert_eq!(fixed.to_vec(), thresholds(&row));
        }

        #[test]
        fn round_clamped_matches_round_half_away(bits in proptest::prelude::any::<u64>(), small in -1.0..2.2e9f64) {
            for x in [f64::from_bits(bits), small, small.floor() + 0.5] {
                proptest::prop_assert_eq!(u64::from(round_clamped(x)), round_half_away(x).min(THRESHOLD_SCALE));
            }
        }
    }

    proptest::proptest! {
        /// The fixed-width shock gives the bits of the general one, for
        /// rows of any values and any targets.
        #[test]
        fn fixed_shock_matches_general_shock(
            values in proptest::collection::vec(proptest::prop_oneof![
                2 => proptest::prelude::Just(0.0f64),
                1 => proptest::prelude::Just(1.0f64),
                4 => 0.0..0.6f64,
                1 => proptest::prelude::any::<f64>(),
            ], 16),
            targets in proptest::collection::vec(proptest::prelude::any::<bool>(), 4),
            z in -3.0..3.0f64,
        ) {
            let mut expected = values.clone();
            scale_odds_rows(&mut expected, 4, z.exp(), &targets, &[true; 4]);
            let mut matrix = values.clone();
            scale_odds(&mut matrix, 4, z.exp(), &targets, &[true; 4]);
            let bits = |m: &[f64]| m.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            proptest::prop_assert_eq!(bits(&matrix), bits(&expected));
        }
    }

    proptest::proptest! {
        /// Leaving out an absorbing state's row (1 on the diagonal) leaves
        /// what scaling it would have: the same bits, fixed width or not.
        #[test]
        fn an_absorbing_row_is_left_as_scaling_leaves_it(
            values in proptest::collection::vec(0.0..0.6f64, 16),
            absorbing in 0usize..4,
            targets in proptest::collection::vec(proptest::prelude::any::<bool>(), 4),
            z in -3.0..3.0f64,
        ) {
            let mut values = values;
            for (j, p) in values[absorbing * 4..(absorbing + 1) * 4].iter_mut().enumerate() {
                *p = if j == absorbing { 1.0 } else { 0.0 };
            }
            let every = [true; 4];
            let mut moving = every;
            moving[absorbing] = false;
            let bits = |m: &[f64]| m.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let mut expected = values.clone();
            scale_odds(&mut expected, 4, z.exp(), &targets, &every);
            for fixed in [true, false] {
                let mut matrix = values.clone();
                if fixed {
                    scale_odds(&mut matrix, 4, z.exp(), &targets, &moving);
                } else {
                    scale_odds_rows(&mut matrix, 4, z.exp(), &targets, &moving);
                }
                proptest::prop_assert_eq!(bits(&matrix), bits(&expected));
            }
        }
    }

    #[test]
    fn zero_probability_state_is_never_drawn() {
        let t = thresholds(&[0.0, 1.0]);
        assert_eq!(draw(&t, 0), 1);
        assert_eq!(draw(&t, u32::MAX), 1);
    }
}
