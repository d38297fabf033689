//! Internal rate of return from cash flows on a regular grid.
//!
//! Flows sit at times k·Δ years (k = 0..K). With x = (1 + r)^(−Δ), the net
//! present value is the polynomial Σ F_k x^k, evaluated by Horner's rule (no
//! `powf` in the solver). Its roots with x > 0 are the IRRs (r > −100 %).
//! Descartes' rule of signs: one sign change in the flows means exactly one
//! IRR; otherwise the solver scans for every root and reports when there is
//! none or more than one, rather than inventing a rate.

/// The outcome of solving for an IRR.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Irr {
    /// The unique annual rate.
    Rate(f64),
    /// Money went in and nothing ever came back: −100 %.
    TotalLoss,
    /// No rate makes the NPV zero (e.g. only inflows).
    None,
    /// Several rates make the NPV zero.
    NotUnique,
}

impl Irr {
    /// As a number: the rate, −1 for a total loss, NaN when undefined.
    pub fn value(self) -> f64 {
        match self {
            Irr::Rate(r) => r,
            Irr::TotalLoss => -1.0,
            Irr::None | Irr::NotUnique => f64::NAN,
        }
    }
}

/// NPV of grid flows at log-discount u = ln x.
fn npv_at(flows: &[f64], u: f64) -> f64 {
    let x = u.exp();
    flows.iter().rev().fold(0.0, |acc, &f| acc * x + f)
}

/// NPVs at several log-discounts at once: independent Horner chains side
/// by side, each with the operations of [`npv_at`] (so the same bits), which
/// the processor overlaps where one chain alone waits on each step.
#[inline(always)]
fn npv_at_each<const K: usize>(flows: &[f64], u: [f64; K]) -> [f64; K] {
    let x = u.map(f64::exp);
    let mut acc = [0.0; K];
    for &f in flows.iter().rev() {
        for (acc, x) in acc.iter_mut().zip(x) {
            *acc = *acc * x + f;
        }
    }
    acc
}

/// One halving of the bracket from `a` (NPV `fa`) to `b` at its midpoint
/// `m` (NPV `fm`): the half where the sign changes is kept. Returns
/// whether that is the upper half (m to b).
#[inline(always)]
fn halve((a, fa): (&mut f64, &mut f64), b: &mut f64, (m, fm): (f64, f64)) -> bool {
    if (fm < 0.0) == (*fa < 0.0) {
        *a = m;
        *fa = fm;
        true
    } else {
        *b = m;
        false
    }
}

/// The most halvings [`bisect`] makes.
const MOST_HALVINGS: usize = 200;

/// Finds a root of `npv_at` in u between `a` and `b` (signs differ) by
/// bisection, two halvings a round: the NPV at the midpoint and at both
/// midpoints that can follow it are worked out together (about the time
/// one takes), so this visits the same midpoints with the same values as
/// one halving at a time and returns the same bits with half the serial
/// Horner chains (the IRR was 5 % of a `hameenlinna-icehearts` run; the
/// three `exp` calls a round now dominate, and the gain measured 11 %).
fn bisect(flows: &[f64], mut a: f64, mut b: f64) -> f64 {
    let mut fa = npv_at(flows, a);
    let mut halvings = 0;
    while halvings < MOST_HALVINGS {
        let m = 0.5 * (a + b);
        if m == a || m == b {
            break;
        }
        let [fm, f_left, f_right] = npv_at_each(flows, [m, 0.5 * (a + m), 0.5 * (m + b)]);
        if fm == 0.0 {
            return m;
        }
        let f_next = if halve((&mut a, &mut fa), &mut b, (m, fm)) {
            f_right
        } else {
            f_left
        };
        halvings += 1;
        // The second halving: its midpoint is the one worked out above.
        let m = 0.5 * (a + b);
        if halvings == MOST_HALVINGS || m == a || m == b {
            break;
        }
        if f_next == 0.0 {
            return m;
        }
        halve((&mut a, &mut fa), &mut b, (m, f_next));
        halvings += 1;
    }
    0.5 * (a + b)
}

/// The NPV at log-discount `u` (with exactly the operations of [`npv_at`],
/// so the same bits and sign) and its slope in u, Σ k·F_k·x^k.
#[inline(always)]
fn npv_and_slope(flows: &[f64], u: f64) -> (f64, f64) {
    let x = u.exp();
    let (mut value, mut slope) = (0.0, 0.0);
    for &f in flows.iter().rev() {
        slope = slope * x + value;
        value = value * x + f;
    }
    (value, slope * x)
}

/// Newton steps [`solve_from`] takes at most towards its estimate.
const MOST_NEWTON_STEPS: usize = 40;

/// Whether every flow of one sign comes before every flow of the other
/// (zeros anywhere): then, with `early` the sum of |F_k|·x^k over the
/// first sign's flows and `late` over the other's, early/late falls as x
/// grows (each flow's power against the split's), which [`certain_sides`]
/// relies on. Returns whether the first sign is negative, when they do.
fn signs_split_once(flows: &[f64]) -> Option<bool> {
    let mut signs = flows.iter().filter(|f| **f != 0.0).map(|f| *f < 0.0);
    let first_negative = signs.next()?;
    let mut sign = first_negative;
    let mut changes = 0;
    for s in signs {
        if s != sign {
            changes += 1;
            sign = s;
        }
    }
    (changes == 1).then_some(first_negative)
}

/// Whether `early` against `late` (the sums [`certain_sides`] forms for
/// `count` flows) makes the sign certain below the root, or above it.
fn side_is_certain(count: usize, early: f64, late: f64, below: bool) -> bool {
    if !(early.is_finite() && late.is_finite()) {
        return false;
    }
    let room = 8.0 * (count + 1) as f64 * f64::EPSILON;
    let (leading, trailing) = if below { (early, late) } else { (late, early) };
    leading * (1.0 - room) > trailing * (1.0 + room)
}

/// Whether the computed NPV at every u' at least [`SIDE_GAP`] below
/// `below`, and at every u' at least that above `above`, surely has the
/// sign of the true NPV there, the sign of the first (below) or last
/// (above) flows: Horner's result at x is within γ·Σ|F_k|·x^k of the true
/// value (γ = (2K+2)·ε, K flows), so the sign is sure where |early − late|
/// exceeds that with room for the rounding of the two sums; early/late
/// only moves further from 1 on the way out, and `exp` keeps the order of
/// arguments [`SIDE_GAP`] apart. `first_negative`: the sign
/// [`signs_split_once`] found first. The two sides' sums are formed side
/// by side, so that neither chain waits for the other.
fn certain_sides(flows: &[f64], first_negative: bool, below: f64, above: f64) -> [bool; 2] {
    let x = [below.exp(), above.exp()];
    let (mut early, mut late) = ([0.0f64; 2], [0.0f64; 2]);
    for &f in flows.iter().rev() {
        let (e, l) = if (f < 0.0) == first_negative {
            (f.abs(), 0.0)
        } else {
            (0.0, f.abs())
        };
        for side in 0..2 {
            early[side] = early[side] * x[side] + e;
            late[side] = late[side] * x[side] + l;
        }
    }
    [
        side_is_certain(flows.len(), early[0], late[0], true),
        side_is_certain(flows.len(), early[1], late[1], false),
    ]
}

/// How far (in u) outside a certified point [`solve_from`] takes a sign on
/// trust: `exp` is within an ulp, so arguments this far apart keep their
/// order once exponentiated.
const SIDE_GAP: f64 = 8.0 * f64::EPSILON;

/// [`solve_from`] with the NPVs at the ends worked out here.
#[cfg(test)]
fn solve(flows: &[f64], a: f64, b: f64) -> f64 {
    let [fa, fb] = npv_at_each(flows, [a, b]);
    solve_from(flows, (a, fa), (b, fb))
}

/// Finds a root of `npv_at` in u between `a` and `b` (signs differ), to
/// the bit where [`bisect`] finds it, with a dozen or two NPVs where
/// bisection takes some 60 (each with an `exp`: the IRR was 7 % of a
/// `hameenlinna-icehearts` run). Bisection's answer depends only on the
/// computed NPV's sign at its midpoints. Newton's steps find the root
/// first; then, when the flows' signs split once (a fund's: money in, then
/// money out), two points either side of it where the computed NPV's sign
/// is provably the true one ([`certain_sides`]) fence a window outside which
/// every midpoint's computed sign is known without working it out. The
/// halvings are then bisection's own, NPVs taken only inside the window.
/// Other flows, or a search that does not settle, are bisected in full.
///
/// The NPVs at both ends, `fa` and `fb`, are known (as [`npv_at`] gives
/// them): the first Newton step starts where the chord between them
/// crosses zero, nearer the root than the middle.
fn solve_from(flows: &[f64], (a, fa): (f64, f64), (b, fb): (f64, f64)) -> f64 {
    let Some(first_negative) = signs_split_once(flows) else {
        return bisect(flows, a, b);
    };
    let ((mut low, f_low), (mut high, f_high)) = if a < b { ((a, fa), (b, fb)) } else { ((b, fb), (a, fa)) };
    let low_negative = f_low < 0.0;
    let middle = 0.5 * (low + high);
    // The chord's zero, kept a sixteenth of the bracket inside it (the NPV
    // bends, and an end's NPV may be far larger than the other's).
    let chord = low - f_low * (high - low) / (f_high - f_low);
    let margin = 0.0625 * (high - low);
    let mut u = if chord.is_finite() {
        // (max and min: `clamp` would panic on a NaN bound)
        chord.max(low + margin).min(high - margin)
    } else {
        middle
    };
    let mut step = high - low;
    let mut settled = false;
    for _ in 0..MOST_NEWTON_STEPS {
        let (value, slope) = npv_and_slope(flows, u);
        if value == 0.0 {
            settled = true;
            break;
        }
        if (value < 0.0) == low_negative {
            low = u;
        } else {
            high = u;
        }
        let middle = 0.5 * (low + high);
        if middle == low || middle == high {
            settled = true;
            break;
        }
        let newton = u - value / slope;
        let previous = step;
        step = (newton - u).abs();
        // Outside the bracket, or not converging: a halving instead.
        if !(newton > low && newton < high) || step > 0.5 * previous {
            u = middle;
            step = high - low;
            continue;
        }
        u = newton;
        // exp(u) moves by ε·|du| relative, so below |u| = 1 the NPV
        // cannot place the root closer than a few ε in u.
        if step <= 4.0 * f64::EPSILON * u.abs().max(1.0) {
            settled = true;
            break;
        }
    }
    if !settled {
        return bisect(flows, a, b);
    }
    // At 16 ε the sides were certain for one fund-like flow in twenty, at
    // 128 ε for nearly all: start there.
    let mut reach = step.max(128.0 * f64::EPSILON * u.abs().max(1.0));
    for _ in 0..12 {
        let (below, above) = (u - reach, u + reach);
        if certain_sides(flows, first_negative, below, above) == [true, true] {
            let sign_below = if first_negative { -1.0 } else { 1.0 };
            return bisect_outside(flows, a, b, below - SIDE_GAP, above + SIDE_GAP, sign_below);
        }
        reach *= 8.0;
    }
    bisect(flows, a, b)
}

/// Points worked out at once inside [`bisect_outside`]'s window: a tree of
/// three halvings.
const TREE: usize = 7;

/// One halving at a time from (a, b), as [`bisect`] halves, but taking
/// the sign at a midpoint below `below` as that of the first flows' and
/// above `above` as the last flows' without working out the NPV
/// ([`certain_sides`] showed those are the computed signs): `sign_below`
/// is ±1, the first flows' sign.
fn bisect_outside(flows: &[f64], mut a: f64, mut b: f64, below: f64, above: f64, sign_below: f64) -> f64 {
    let npv = |u: f64| {
        if u < below {
            sign_below
        } else if u > above {
            -sign_below
        } else {
            npv_at(flows, u)
        }
    };
    let inside = |u: f64| !(u < below || u > above);
    let mut fa = npv(a);
    let mut halvings = 0;
    while halvings < MOST_HALVINGS {
        let m = 0.5 * (a + b);
        if m == a || m == b {
            break;
        }
        if !inside(m) {
            // Outside the window: a sign known, one halving.
            halve((&mut a, &mut fa), &mut b, (m, npv(m)));
            halvings += 1;
            continue;
        }
        // Inside: three halvings a round, the NPVs at the midpoint and at
        // every midpoint the next two halvings can reach (a tree of seven,
        // each node's children the midpoints of its two halves) worked out
        // side by side; a sign is taken as known where a point lies
        // outside. Each halving then reads its midpoint's NPV from the
        // tree: the same midpoints with the same values as one at a time.
        let mut points = [0.0f64; TREE];
        let mut brackets = [(a, b); TREE];
        for node in 0..TREE {
            let (low, high) = brackets[node];
            let point = 0.5 * (low + high);
            points[node] = point;
            if 2 * node + 2 < TREE {
                brackets[2 * node + 1] = (low, point);
                brackets[2 * node + 2] = (point, high);
            }
        }
        let mut values = npv_at_each(flows, points);
        for (value, &point) in values.iter_mut().zip(&points) {
            if !inside(point) {
                *value = npv(point);
            }
        }
        let mut node = 0;
        while node < TREE {
            let m = 0.5 * (a + b);
            if halvings == MOST_HALVINGS || m == a || m == b {
                return 0.5 * (a + b);
            }
            let fm = values[node];
            if fm == 0.0 {
                return m;
            }
            let upper = halve((&mut a, &mut fa), &mut b, (m, fm));
            node = 2 * node + 1 + usize::from(upper);
            halvings += 1;
        }
    }
    0.5 * (a + b)
}

/// Annual IRR of `flows[k]` at time k·`step_years` (positive = to the investor).
pub fn irr(flows: &[f64], step_years: f64) -> Irr {
    let tolerance = 1e-9 * flows.iter().map(|f| f.abs()).fold(0.0, f64::max);
    // The signs of the flows that are not negligible, counted in one pass.
    let (mut positive, mut negative, mut changes, mut last) = (0usize, 0usize, 0usize, None);
    for &f in flows.iter().filter(|f| f.abs() > tolerance) {
        let sign = f > 0.0;
        if sign {
            positive += 1;
        } else {
            negative += 1;
        }
        if last.is_some_and(|l| l != sign) {
            changes += 1;
        }
        last = Some(sign);
    }
    if positive + negative == 0 {
        return Irr::None;
    }
    if positive == 0 {
        return Irr::TotalLoss;
    }
    if negative == 0 {
        return Irr::None;
    }
    // Search u = ln x over a wide range: u = −Δ·ln(1 + r), so u ∈ [−40, 40]
    // covers annual rates from about −100 % to e^(40/Δ) − 1.
    let limit = 40.0;
    let to_rate = |u: f64| (-u / step_years).exp() - 1.0;
    if changes == 1 {
        // Exactly one positive root: bracket it by widening from r = 0.
        // r = 0 and both ends of each width side by side (the same
        // operations as one at a time, so the same bits).
        let mut width = 0.125;
        let [f0, mut above, mut below] = npv_at_each(flows, [0.0, width, -width]);
        if f0 == 0.0 {
            return Irr::Rate(0.0);
        }
        while width <= limit {
            for ends in [((0.0, f0), (width, above)), ((-width, below), (0.0, f0))] {
                let ((_, fa), (_, fb)) = ends;
                if (fa < 0.0) != (fb < 0.0) {
                    return Irr::Rate(to_rate(solve_from(flows, ends.0, ends.1)));
                }
            }
            width *= 2.0;
            [above, below] = npv_at_each(flows, [width, -width]);
        }
        return Irr::None;
    }
    // Several sign changes: count the roots on a fine grid.
    let steps = 4000;
    let (mut roots, mut first) = (0usize, 0.0);
    let mut previous = (-limit, npv_at(flows, -limit));
    for i in 1..=steps {
        let u = -limit + 2.0 * limit * i as f64 / steps as f64;
        let f = npv_at(flows, u);
        if f == 0.0 || (f < 0.0) != (previous.1 < 0.0) {
            if roots == 0 {
                first = if f == 0.0 {
                    u
                } else {
                    solve_from(flows, previous, (u, f))
                };
            }
            roots += 1;
        }
        previous = (u, f);
    }
    match roots {
        0 => Irr::None,
        1 => Irr::Rate(to_rate(first)),
        _ => Irr::NotUnique,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One halving at a time: what [`bisect`] must equal, bit for bit.
    fn bisect_one_at_a_time(flows: &[f64], mut a: f64, mut b: f64) -> f64 {
        let mut fa = npv_at(flows, a);
        for _ in 0..MOST_HALVINGS {
            let m = 0.5 * (a + b);
            if m == a || m == b {
                break;
            }
            let fm = npv_at(flows, m);
            if fm == 0.0 {
                return m;
            }
            if (fm < 0.0) == (fa < 0.0) {
                a = m;
                fa = fm;
            } else {
                b = m;
            }
        }
        0.5 * (a + b)
    }

    /// A fund's flows: contributions for a few years, then distributions
    /// (one sign change, so one root), of the sizes a contract pays.
    fn fund_flows(rng: &mut impl rand::Rng) -> Vec<f64> {
        let years = rng.random_range(3..20);
        let paying = rng.random_range(1..years);
        (0..years)
            .map(|k| {
                if k < paying {
                    -rng.random_range(1e4..2e5)
                } else if rng.random_bool(0.3) {
                    0.0
                } else {
                    rng.random_range(0.0..1e6)
                }
            })
            .collect()
    }

    /// The search ends where bisection does, to the bit, for fund-like
    /// flows, whose roots it finds by Newton's steps and a window (which
    /// must be wide enough: a window of no width failed this).
    #[test]
    fn the_search_ends_where_bisection_does() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut cases = 0;
        for _ in 0..40_000 {
            if cases == 20_000 {
                break;
            }
            let mut flows = fund_flows(&mut rng);
            // Half of them with a rate near 0, where the doubles are dense
            // and the computed NPV's sign is noisy over hundreds of them.
            let last = flows.len() - 1;
            let others: f64 = flows[..last].iter().sum();
            if rng.random_bool(0.5) && others < 0.0 {
                flows[last] = -others * (1.0 + rng.random_range(-1e-3..1e-3));
            }
            let (a, b) = if npv_at(&flows, 0.0) < 0.0 {
                (0.0, 40.0)
            } else {
                (-40.0, 0.0)
            };
            if (npv_at(&flows, a) < 0.0) == (npv_at(&flows, b) < 0.0) {
                continue;
            }
            cases += 1;
            let (searched, bisected) = (solve(&flows, a, b), bisect_one_at_a_time(&flows, a, b));
            assert_eq!(
                searched.to_bits(),
                bisected.to_bits(),
                "{flows:?}: {searched:e} vs {bisected:e}"
            );
        }
        assert_eq!(cases, 20_000, "too few bracketed flows");
    }

    /// Flows whose signs split once: `early` magnitudes with one sign, then
    /// `late` ones with the other (zeros among both), scaled by 2^`scale`.
    fn split_flows(early: &[f64], late: &[f64], negative_first: bool, scale: i32) -> Vec<f64> {
        let sign = if negative_first { -1.0 } else { 1.0 };
        let factor = 2f64.powi(scale);
        early
            .iter()
            .map(|m| sign * m * factor)
            .chain(late.iter().map(|m| -sign * m * factor))
            .collect()
    }

    proptest::proptest! {
        /// For any flows whose signs split once, of any size, and any
        /// bracket, the search ends where bisection does, to the bit (and
        /// other flows are bisected).
        #[test]
        fn the_search_is_bisection(
            early in proptest::collection::vec(proptest::prop_oneof![
                1 => proptest::prelude::Just(0.0f64),
                1 => proptest::prelude::Just(1.0f64),
                4 => 0.0..1e6f64,
            ], 1..10),
            late in proptest::collection::vec(proptest::prop_oneof![
                1 => proptest::prelude::Just(0.0f64),
                1 => proptest::prelude::Just(1.0f64),
                4 => 0.0..1e6f64,
            ], 1..10),
            negative_first in proptest::prelude::any::<bool>(),
            scale in -1100i32..1000,
            a in -41.0..41.0f64,
            b in -41.0..41.0f64,
            at_zero in proptest::prelude::any::<bool>(),
        ) {
            let flows = split_flows(&early, &late, negative_first, scale);
            let (a, b) = if at_zero { (0.0, b) } else { (a, b) };
            let (searched, bisected) = (solve(&flows, a, b), bisect_one_at_a_time(&flows, a, b));
            proptest::prop_assert!(searched.to_bits() == bisected.to_bits(), "{searched:e} vs {bisected:e}");
        }

        /// Two halvings a round visit the midpoints one at a time does,
        /// for any flows and bracket (roots at u = 0 run into the cap on
        /// halvings; flows like [-1, 1] hit an NPV of exactly 0).
        #[test]
        fn bisection_by_rounds_is_bisection(
            flows in proptest::collection::vec(proptest::prop_oneof![
                1 => proptest::prelude::Just(0.0f64),
                1 => proptest::prelude::Just(-1.0f64),
                1 => proptest::prelude::Just(1.0f64),
                4 => -1e6..1e6f64,
            ], 1..16),
            a in -41.0..41.0f64,
            b in -41.0..41.0f64,
            at_zero in proptest::prelude::any::<bool>(),
        ) {
            let (a, b) = if at_zero { (0.0, b) } else { (a, b) };
            let by_rounds = bisect(&flows, a, b);
            let one_at_a_time = bisect_one_at_a_time(&flows, a, b);
            proptest::prop_assert!(by_rounds.to_bits() == one_at_a_time.to_bits(), "{by_rounds:e} vs {one_at_a_time:e}");
        }
    }

    #[test]
    fn bisection_by_rounds_keeps_the_cap_and_exact_zeros() {
        // A root at u = 0 approached from [0, w]: the halvings go on toward
        // the subnormals until the cap.
        for flows in [vec![-1.0, 1.0], vec![-100.0, 0.0, 100.0], vec![-3.0, 1.0, 1.0, 1.0]] {
            for (a, b) in [(0.0, 0.125), (-0.125, 0.0), (-1.0, 0.5), (0.0, 40.0)] {
                assert_eq!(
                    bisect(&flows, a, b).to_bits(),
                    bisect_one_at_a_time(&flows, a, b).to_bits()
                );
            }
        }
    }

    fn rate(flows: &[f64], step: f64) -> f64 {
        match irr(flows, step) {
            Irr::Rate(r) => r,
            other => panic!("expected a rate, got {other:?}"),
        }
    }

    #[test]
    fn simple_rates() {
        assert!((rate(&[-100.0, 110.0], 1.0) - 0.10).abs() < 1e-12);
        assert!((rate(&[-100.0, 0.0, 121.0], 1.0) - 0.10).abs() < 1e-12);
        // Quarterly grid: 110 back after four quarters is 10 % a year.
        assert!((rate(&[-100.0, 0.0, 0.0, 0.0, 110.0], 0.25) - 0.10).abs() < 1e-12);
        assert!((rate(&[-100.0, 50.0], 1.0) + 0.5).abs() < 1e-12);
    }

    #[test]
    fn total_loss_and_undefined() {
        assert_eq!(irr(&[-100.0, 0.0, 0.0], 1.0), Irr::TotalLoss);
        assert_eq!(irr(&[0.0, 10.0], 1.0), Irr::None);
        assert_eq!(irr(&[0.0, 0.0], 1.0), Irr::None);
        assert!(irr(&[0.0, 0.0], 1.0).value().is_nan());
    }

    #[test]
    fn two_roots_are_not_unique() {
        // −100 + 230x − 132x² has roots at r = 10 % and r = 20 %.
        assert_eq!(irr(&[-100.0, 230.0, -132.0], 1.0), Irr::NotUnique);
    }

    #[test]
    fn several_sign_changes_with_one_root() {
        // −100, +50, −10, +80: three sign changes, one real IRR.
        let r = rate(&[-100.0, 50.0, -10.0, 80.0], 1.0);
        let npv: f64 = [-100.0, 50.0, -10.0, 80.0]
            .iter()
            .enumerate()
            .map(|(k, f)| f / (1.0 + r).powi(k as i32))
            .sum();
        assert!(npv.abs() < 1e-9, "npv {npv} at {r}");
    }

    #[test]
    fn payment_before_contribution() {
        // Receive 100 now, pay 110 in a year: the rate of that loan is 10 %.
        assert!((rate(&[100.0, -110.0], 1.0) - 0.10).abs() < 1e-12);
    }
}
