//! Mergeable statistics of fixed size: what a run keeps of a statistic
//! instead of every replication's value.
//!
//! Everything here is exact or integer, so the result of adding values one
//! by one, or of merging accumulators built from any split of them (threads,
//! shards), is the same to the last bit:
//! - [`ExactSum`]: Shewchuk's non-overlapping partials (the algorithm of
//!   Python's `math.fsum`); its value is the correctly rounded exact sum.
//! - Squares enter exactly (most as the integer square of the mantissa in a
//!   fixed-point sum, the rest as exact two-products via FMA) and cross
//!   products as exact two-products, so Σx², Σxy are exact too, and
//!   n·Σxy − Σx·Σy is formed exactly before its one rounding: a statistic
//!   that never varies has sd 0 exactly.
//! - [`Accumulator`] also keeps a sparse histogram of bounded size (see
//!   `accumulate/bins.rs`): bins at most 2⁻¹⁰ wide relative to their values
//!   (≤ 0.098 %) above the statistic's floor, 2⁻¹⁰ of the floor wide below
//!   it, each with an integer count and the exact sum of its values. A
//!   quantile is read at the mean of the bin that holds its order
//!   statistic, so its error is below 0.1 % of its value or 2⁻¹⁰ of the
//!   floor, whichever is larger, and it is exact when the bin holds one
//!   distinct value (counts, zeros, −100 %).

use super::summary::Summary;
use batch::{for_each_run, merge_runs, sortable, unsortable, with_runs, PENDING};
use bins::{floor_for, holds_mantissas, infinite_key, is_tiny, linear_width, pow2, unit_exponent, LOWEST_FLOOR};
pub use bins::{Bin, BIN_MANTISSA_BITS, FLOOR_OCTAVES};
pub use comoments::Comoments;
use fixed::{FixedSum, MOST_ADDS};

mod batch;
pub(super) mod bins;
mod comoments;
mod fixed;

/// The largest relative error of a quantile read from the histogram.
pub const QUANTILE_RELATIVE_ERROR: f64 = 1.0 / (1u64 << BIN_MANTISSA_BITS) as f64;

/// `a × b` as `(rounded, error)` with `rounded + error` exactly the product.
fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// Adds `x` exactly to `fixed`, or to `sum` where `fixed` does not take it.
fn add_exactly(fixed: &mut FixedSum, sum: &mut ExactSum, x: f64) {
    if !fixed.add(x) {
        sum.add(x);
    }
}

/// Adds `v`² exactly to `fixed` (whole where it can, see
/// [`FixedSum::add_square`], else as an exact two-product), or to `sum`
/// the parts `fixed` does not take; nothing for a zero.
#[inline(always)]
fn add_square_exactly(fixed: &mut FixedSum, sum: &mut ExactSum, v: f64) {
    // A zero's square adds nothing (and zeros are common: a contract that
    // paid nothing), so it never takes the slow path below.
    if v != 0.0 && !fixed.add_square(v) {
        add_square_outside(fixed, sum, v);
    }
}

/// [`add_square_exactly`] of a magnitude the fixed-point square does not
/// take (rare): kept out of the flush's loop.
#[cold]
#[inline(never)]
fn add_square_outside(fixed: &mut FixedSum, sum: &mut ExactSum, v: f64) {
    let (square, error) = two_product(v, v);
    add_exactly(fixed, sum, square);
    add_exactly(fixed, sum, error);
}

/// An exact sum of `f64` values. Two sums of the same values may hold
/// different partials (`==` compares those); their [`ExactSum::value`]s
/// are the same bits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExactSum {
    /// Non-overlapping partials in increasing magnitude; their exact sum is
    /// the sum of every finite value added.
    pub(super) partials: Vec<f64>,
    /// The sum of the non-finite values added (0 when there were none).
    pub(super) special: f64,
}

impl ExactSum {
    /// An empty sum.
    pub fn new() -> ExactSum {
        ExactSum::default()
    }

    /// Adds `x` exactly (allocates only when the partials grow, at most a
    /// few dozen of them for finite values).
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.special += x;
            return;
        }
        let mut x = x;
        let mut kept = 0;
        for k in 0..self.partials.len() {
            let mut y = self.partials[k];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let high = x + y;
            let low = y - (high - x);
            if low != 0.0 {
                self.partials[kept] = low;
                kept += 1;
            }
            x = high;
        }
        self.partials.truncate(kept);
        self.partials.push(x);
    }

    /// Adds every value of `other`.
    pub fn add_sum(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
        self.special += other.special;
    }

    /// The partials whose exact sum this is.
    pub fn partials(&self) -> &[f64] {
        &self.partials
    }

    /// The same exact sum in its one canonical form: the correctly rounded
    /// value, then the correctly rounded rest, and so on (smallest first).
    /// Sums of the same values added in any order or grouping hold
    /// different partials but have the same canonical form, so files written
    /// from it are the same bytes.
    pub fn canonical(&self) -> ExactSum {
        let mut rest = self.clone();
        rest.special = 0.0;
        let mut parts = Vec::new();
        // Each rest is below half an ulp of the part before it, so this ends
        // within about 40 steps; a nonzero exact sum of doubles is at least
        // 2^-1074, so it never rounds to 0.
        loop {
            let high = rest.value();
            if high == 0.0 || !high.is_finite() {
                break;
            }
            parts.push(high);
            rest.add(-high);
        }
        parts.reverse();
        ExactSum {
            partials: parts,
            special: self.special,
        }
    }

    /// Whether both are the same exact sum (same canonical form; any NaN
    /// special part is the same, as an infinite value's square leaves one).
    pub(super) fn same_sum(&self, other: &ExactSum) -> bool {
        let (x, y) = (self.canonical(), other.canonical());
        x.partials == y.partials && (x.special == y.special || (x.special.is_nan() && y.special.is_nan()))
    }

    /// The exact sum, rounded once to the nearest `f64` (ties to even).
    pub fn value(&self) -> f64 {
        if self.special != 0.0 || self.special.is_nan() {
            return self.special;
        }
        let p = &self.partials;
        let Some(&last) = p.last() else {
            return 0.0;
        };
        // Python's fsum: add from the top until the rest cannot matter, then
        // correct a half-way case by the sign of what lies below.
        let mut n = p.len() - 1;
        let mut high = last;
        let mut low = 0.0;
        while n > 0 {
            let x = high;
            n -= 1;
            let y = p[n];
            high = x + y;
            low = y - (high - x);
            if low != 0.0 {
                break;
            }
        }
        if n > 0 && ((low < 0.0 && p[n - 1] < 0.0) || (low > 0.0 && p[n - 1] > 0.0)) {
            let y = low * 2.0;
            let x = high + y;
            if y == x - high {
                high = x;
            }
        }
        high
    }
}

/// `n·Σxy − Σx·Σy`, formed exactly from exact sums and rounded once: n
/// times the co-moment about the mean.
fn centred(n: u64, cross: &ExactSum, x: &ExactSum, y: &ExactSum) -> f64 {
    let mut total = ExactSum::new();
    let count = n as f64;
    for &p in cross.partials() {
        let (high, low) = two_product(count, p);
        total.add(high);
        total.add(low);
    }
    for &a in x.partials() {
        for &b in y.partials() {
            let (high, low) = two_product(a, b);
            total.add(-high);
            total.add(-low);
        }
    }
    total.value()
}

/// A statistic's mergeable state: count, exact sums of values and squares,
/// extremes and the histogram. NaN (an undefined value) is left out.
#[derive(Debug, Clone)]
pub struct Accumulator {
    pub(super) n: u64,
    /// No separate sum of the values: the bins and `tiny` hold it exactly.
    pub(super) squares: ExactSum,
    pub(super) min: f64,
    pub(super) max: f64,
    /// The histogram's floor, 2^`floor` (see `bins.rs`): that of the
    /// largest finite magnitude binned.
    pub(super) floor: i32,
    /// The histogram's bins in use, in increasing order of key (of value).
    pub(super) bins: Vec<(i64, Bin)>,
    /// The exact sums of the tiny bins' values, negative then positive.
    pub(super) tiny: [ExactSum; 2],
    /// Values counted in `n`, `min` and `max` but not yet in `squares` and
    /// `bins` (at most [`PENDING`]), as [`sortable`] bits.
    pub(super) pending: Vec<u64>,
    /// Whether `squares` is kept (see [`Accumulator::quantiles_only`]).
    pub(super) moments: bool,
}

impl Default for Accumulator {
    fn default() -> Accumulator {
        Accumulator {
            n: 0,
            squares: ExactSum::default(),
            min: 0.0,
            max: 0.0,
            floor: LOWEST_FLOOR,
            bins: Vec::new(),
            tiny: Default::default(),
            pending: Vec::new(),
            moments: true,
        }
    }
}

/// Equal when they hold the same values' state, whatever is still pending.
impl PartialEq for Accumulator {
    fn eq(&self, other: &Accumulator) -> bool {
        let (a, b) = (self.binned(), other.binned());
        a.n == b.n
            && a.moments == b.moments
            && a.min.to_bits() == b.min.to_bits()
            && a.max.to_bits() == b.max.to_bits()
            && a.squares.same_sum(&b.squares)
            && a.floor == b.floor
            && a.bins == b.bins
            && a.tiny[0].same_sum(&b.tiny[0])
            && a.tiny[1].same_sum(&b.tiny[1])
    }
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Accumulator {
        Accumulator::default()
    }

    /// An empty accumulator that keeps no sum of squares: for a statistic
    /// read only by its quantiles and extremes (a cash-flow fan's cycle),
    /// whose squares, worked out exactly, were an eighth of the fold's
    /// work for nothing. Its summary's sd and se are NaN.
    pub fn quantiles_only() -> Accumulator {
        Accumulator {
            moments: false,
            ..Accumulator::default()
        }
    }

    /// Makes this a [`Accumulator::quantiles_only`] one, dropping any sum
    /// of squares it held (a shard's fan written by an older sibsim), so
    /// that it equals one that never kept them.
    pub fn drop_moments(&mut self) {
        self.moments = false;
        self.squares = ExactSum::default();
    }

    /// Whether it keeps the sum of squares (sd and se), as
    /// [`Accumulator::new`] does and [`Accumulator::quantiles_only`] does not.
    pub fn keeps_moments(&self) -> bool {
        self.moments
    }

    /// Empties the accumulator, keeping its bins' and batch's room (and
    /// whether it keeps moments).
    pub fn clear(&mut self) {
        let (mut bins, mut pending) = (std::mem::take(&mut self.bins), std::mem::take(&mut self.pending));
        bins.clear();
        pending.clear();
        *self = Accumulator {
            bins,
            pending,
            moments: self.moments,
            ..Accumulator::default()
        };
    }

    /// Values added (NaN left out).
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Histogram bins in use.
    pub fn bin_count(&self) -> usize {
        self.binned().bins.len()
    }

    /// Bins the pending values: their squares into the exact sum (in the
    /// order they came), the floor raised to theirs, then their bins,
    /// sorted, into the histogram.
    #[inline(never)]
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut floor = self.floor;
        let raise = |floor: &mut i32, v: f64| {
            if v.is_finite() && v != 0.0 {
                *floor = (*floor).max(floor_for(v));
            }
        };
        if self.moments {
            // The squares in fixed point, then into the partials a few parts at
            // a time (a batch of `Accumulator::of` may hold any number of values).
            let mut squares = FixedSum::new();
            for batch in self.pending.chunks(MOST_ADDS / 2) {
                for &bits in batch {
                    let v = unsortable(bits);
                    add_square_exactly(&mut squares, &mut self.squares, v);
                    raise(&mut floor, v);
                }
                squares.drain_into(&mut self.squares);
            }
        } else {
            for &bits in &self.pending {
                raise(&mut floor, unsortable(bits));
            }
        }
        self.coarsen(floor);
        self.pending.sort_unstable();
        let tiny_below = linear_width(floor);
        for &bits in &self.pending {
            let v = unsortable(bits);
            if v != 0.0 && v.abs() < tiny_below {
                self.tiny[usize::from(v > 0.0)].add(v);
            }
        }
        // The runs worked out once into the thread's buffer (merge_runs
        // walks them twice, and a run's key costs a binning), at most
        // PENDING at a time (`Accumulator::of` may bin any number).
        let (pending, bins) = (&self.pending, &mut self.bins);
        with_runs(|runs| {
            for_each_run(pending, floor, |key, bin| {
                if runs.len() == PENDING {
                    merge_runs(bins, runs);
                    runs.clear();
                }
                runs.push((key, bin));
            });
            merge_runs(bins, runs);
        });
        self.pending.clear();
    }

    /// Raises the floor to `floor` (when above it): the bins under the new
    /// floor merge into its wider linear bins, exactly.
    fn coarsen(&mut self, floor: i32) {
        let from = self.floor;
        if floor <= from {
            return;
        }
        self.floor = floor;
        let mut kept = 0;
        for read in 0..self.bins.len() {
            let (key, bin) = self.bins[read];
            let (new_key, shift) = bins::coarser(key, from, floor);
            let mantissas = match shift {
                Some(shift) if shift >= 0 => bin.mantissas() >> shift,
                Some(shift) => bin.mantissas() << -shift,
                None => {
                    if holds_mantissas(key, from) {
                        // Its values are tiny now: their sum joins the tiny sum.
                        Accumulator::add_mantissas_to(key, from, &bin, &mut self.tiny[usize::from(key > 0)]);
                    }
                    0
                }
            };
            match self.bins[..kept].last_mut() {
                Some((last, held)) if *last == new_key => held.add(bin.count, mantissas),
                _ => {
                    self.bins[kept] = (new_key, Bin::new(bin.count, mantissas));
                    kept += 1;
                }
            }
        }
        self.bins.truncate(kept);
    }

    /// This accumulator with nothing pending: itself, or a binned copy.
    pub(super) fn binned(&self) -> std::borrow::Cow<'_, Accumulator> {
        if self.pending.is_empty() {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut copy = self.clone();
        copy.flush();
        std::borrow::Cow::Owned(copy)
    }

    /// Counts `v` (not NaN) in the count and extremes.
    fn note(&mut self, v: f64) {
        if self.n == 0 {
            (self.min, self.max) = (v, v);
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.n += 1;
    }

    /// Adds one replication's value. Inlined into a state's loop over its
    /// statistics (a call a value was about 1 % of a run); the flush it
    /// makes every batch of values stays a call.
    #[inline(always)]
    pub fn add(&mut self, v: f64) {
        if v.is_nan() {
            return;
        }
        self.note(v);
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(PENDING);
        }
        self.pending.push(sortable(v));
        if self.pending.len() >= PENDING {
            self.flush();
        }
    }

    /// The accumulator of `values` at once: the same, to the bit, as adding
    /// them one by one.
    pub fn of(values: &[f64]) -> Accumulator {
        Accumulator::new().with_all(values)
    }

    /// [`Accumulator::of`] for an [`Accumulator::quantiles_only`].
    pub fn quantiles_of(values: &[f64]) -> Accumulator {
        Accumulator::quantiles_only().with_all(values)
    }

    /// This empty accumulator with `values` added at once.
    fn with_all(mut self, values: &[f64]) -> Accumulator {
        for &v in values.iter().filter(|v| !v.is_nan()) {
            self.note(v);
            self.pending.push(sortable(v));
        }
        self.flush();
        self
    }

    /// Adds everything `other` holds (the result is the same as adding its
    /// values one by one, to the bit).
    pub fn merge(&mut self, other: &Accumulator) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            (self.min, self.max) = (other.min, other.max);
        } else {
            self.min = self.min.min(other.min);
            self.max = self.max.max(other.max);
        }
        self.n += other.n;
        self.squares.add_sum(&other.squares);
        // Both at the higher floor first (a copy of the other when it is
        // lower: this happens once a chunk, not once a value).
        self.coarsen(other.floor);
        let coarsened;
        let other = if other.floor < self.floor {
            let mut copy = other.clone();
            copy.coarsen(self.floor);
            coarsened = copy;
            &coarsened
        } else {
            other
        };
        merge_runs(&mut self.bins, &other.bins);
        for (mine, theirs) in self.tiny.iter_mut().zip(&other.tiny) {
            mine.add_sum(theirs);
        }
        // Its pending values join this one's, binned with them.
        self.pending.extend_from_slice(&other.pending);
        if self.pending.len() >= PENDING {
            self.flush();
        }
    }

    /// [`Accumulator::merge`] of an accumulator this one may rearrange (a
    /// chunk's state, merged and then cleared): one binned at a lower floor
    /// is coarsened in place to this one's, exactly as the merge bins it,
    /// rather than copied first. The same result, to the bit.
    pub fn merge_from(&mut self, other: &mut Accumulator) {
        if other.n != 0 && other.floor < self.floor {
            other.coarsen(self.floor);
        }
        self.merge(other);
    }

    /// The histogram as (mean of a bin's values, their count), in
    /// increasing order of value.
    pub fn points(&self) -> Vec<(f64, u64)> {
        let binned = self.binned();
        binned
            .bins
            .iter()
            .map(|(key, bin)| (binned.bin_mean(*key, bin), bin.count))
            .collect()
    }

    /// The exact sum of the values.
    pub fn sum(&self) -> ExactSum {
        let binned = self.binned();
        let mut total = ExactSum::new();
        for (key, bin) in &binned.bins {
            binned.add_bin_sum(*key, bin, &mut total);
        }
        total
    }

    /// The largest error of a quantile read from the histogram, beside the
    /// relative [`QUANTILE_RELATIVE_ERROR`]: the width of a linear bin,
    /// 2⁻¹⁰ of the floor.
    pub fn quantile_absolute_error(&self) -> f64 {
        linear_width(self.binned().floor)
    }

    /// Adds the exact sum of the values of bin `key` (binned at `floor`,
    /// one that holds mantissas) into `total`.
    fn add_mantissas_to(key: i64, floor: i32, bin: &Bin, total: &mut ExactSum) {
        let mantissas = bin.mantissas();
        if mantissas == 0 {
            return;
        }
        // 48-bit chunks are exact as f64, and so are their scaled values.
        let unit = unit_exponent(key, floor);
        let sign = if mantissas < 0 { -1.0 } else { 1.0 };
        let mut rest = mantissas.unsigned_abs();
        let mut shift = 0;
        while rest != 0 {
            let chunk = (rest & ((1u128 << 48) - 1)) as u64;
            total.add(sign * chunk as f64 * pow2(unit + shift));
            rest >>= 48;
            shift += 48;
        }
    }

    /// Adds the exact sum of bin `key`'s values into `total`.
    fn add_bin_sum(&self, key: i64, bin: &Bin, total: &mut ExactSum) {
        if key.abs() >= infinite_key() {
            total.add(if key > 0 { f64::INFINITY } else { f64::NEG_INFINITY });
        } else if is_tiny(key, self.floor) {
            total.add_sum(&self.tiny[usize::from(key > 0)]);
        } else if key != 0 {
            Accumulator::add_mantissas_to(key, self.floor, bin, total);
        }
    }

    /// The mean of bin `key`'s values.
    fn bin_mean(&self, key: i64, bin: &Bin) -> f64 {
        if key.abs() >= infinite_key() {
            return if key > 0 { f64::INFINITY } else { f64::NEG_INFINITY };
        }
        let mut total = ExactSum::new();
        self.add_bin_sum(key, bin, &mut total);
        total.value() / bin.count as f64
    }

    /// The value of order statistic `rank` (0-based) of a binned
    /// accumulator: the exact minimum and maximum at the ends, otherwise
    /// the mean of its bin.
    fn order_statistic(&self, rank: u64) -> f64 {
        if rank == 0 {
            return self.min;
        }
        if rank + 1 >= self.n {
            return self.max;
        }
        let mut below = 0;
        for (key, bin) in &self.bins {
            if rank < below + bin.count {
                return self.bin_mean(*key, bin).clamp(self.min, self.max);
            }
            below += bin.count;
        }
        self.max
    }

    /// The type-7 quantile (linear between order statistics, as R's
    /// default), from the histogram; NaN when empty.
    pub fn quantile(&self, p: f64) -> f64 {
        self.binned().binned_quantile(p)
    }

    /// [`Accumulator::quantile`] of a binned accumulator.
    fn binned_quantile(&self, p: f64) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        super::summary::type7(self.n, p, |rank| self.order_statistic(rank))
    }

    /// Mean of the lowest `share` of values (at least one): whole bins by
    /// their exact sums, the last bin's share at its mean.
    pub fn shortfall(&self, share: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let k = ((self.n as f64 * share).ceil() as u64).clamp(1, self.n);
        let binned = self.binned();
        let mut total = ExactSum::new();
        let mut taken = 0;
        for (key, bin) in &binned.bins {
            if taken + bin.count <= k {
                binned.add_bin_sum(*key, bin, &mut total);
                taken += bin.count;
            } else {
                total.add((k - taken) as f64 * binned.bin_mean(*key, bin));
                taken = k;
            }
            if taken == k {
                break;
            }
        }
        Some(total.value() / k as f64)
    }

    /// Mean, sd, se, extremes and quantiles; `None` when no value was added.
    pub fn summary(&self) -> Option<Summary> {
        if self.n == 0 {
            return None;
        }
        let binned = self.binned();
        let n = self.n as f64;
        let sum = binned.sum();
        let mean = sum.value() / n;
        let sd = if !self.moments {
            f64::NAN
        } else if self.n > 1 {
            // n·Σx² − (Σx)² ≥ 0 exactly; it rounds to ≥ 0.
            let spread = centred(self.n, &binned.squares, &sum, &sum).max(0.0);
            (spread / n / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let q = |p: f64| binned.binned_quantile(p);
        Some(Summary {
            mean,
            se: sd / n.sqrt(),
            sd,
            min: self.min,
            max: self.max,
            p01: q(0.01),
            p05: q(0.05),
            p25: q(0.25),
            p50: q(0.50),
            p75: q(0.75),
            p95: q(0.95),
            p99: q(0.99),
            n: self.n,
            quantile_absolute_error: linear_width(binned.floor),
        })
    }
}

#[cfg(test)]
mod tests;
