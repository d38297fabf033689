//! Mergeable statistics of fixed size: what a run keeps of a statistic
//! instead of every replication's value.
//!
//! Everything here is exact or integer, so the result of adding values one
//! by one, or of merging accumulators built from any split of them (threads,
//! shards), is the same to the last bit:
//! - [`ExactSum`]: Shewchuk's non-overlapping partials (the algorithm of
//!   Python's `math.fsum`); its value is the correctly rounded exact sum.
//! - Squares and cross products enter as exact two-products (via FMA), so
//!   Σx², Σxy are exact too, and n·Σxy − Σx·Σy is formed exactly before
//!   its one rounding: a statistic that never varies has sd 0 exactly.
//! - [`Accumulator`] also keeps a sparse histogram whose bins are at most
//!   2⁻¹⁰ wide relative to their values (≤ 0.098 %), each with an integer
//!   count and the exact sum of its values (an integer of mantissas at the
//!   bin's binary exponent). A quantile is read at the mean of the bin that
//!   holds its order statistic, so its relative error is below 0.1 %, and
//!   exact when the bin holds one distinct value (counts, zeros, −100 %).

use super::summary::Summary;
use batch::{merge_runs, sortable, unsortable, Runs, PENDING};

mod batch;

/// Mantissa bits a histogram bin keeps: bins are 2⁻¹⁰ of their value wide.
pub const BIN_MANTISSA_BITS: u32 = 10;

/// The largest relative error of a quantile read from the histogram.
pub const QUANTILE_RELATIVE_ERROR: f64 = 1.0 / (1u64 << BIN_MANTISSA_BITS) as f64;

/// `a × b` as `(rounded, error)` with `rounded + error` exactly the product.
fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// 2^e as an `f64` (exact wherever the result is a normal number).
fn pow2(e: i32) -> f64 {
    if (-1022..=1023).contains(&e) {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        2f64.powi(e)
    }
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

/// One histogram bin: how many values fell in it and their exact sum, as
/// an integer count of the bin's smallest unit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bin {
    /// Values in the bin.
    pub count: u64,
    /// Sum of the values' signed mantissas at the bin's exponent, an `i128`
    /// kept as two words (a bin is 24 bytes, not 32 with an `i128`'s
    /// alignment).
    mantissas: [u64; 2],
}

impl Bin {
    /// A bin of `count` values whose mantissas sum to `mantissas`.
    pub(super) fn new(count: u64, mantissas: i128) -> Bin {
        Bin {
            count,
            mantissas: [mantissas as u64, (mantissas >> 64) as u64],
        }
    }

    /// The sum of the values' signed mantissas.
    pub(super) fn mantissas(&self) -> i128 {
        (i128::from(self.mantissas[1] as i64) << 64) | i128::from(self.mantissas[0])
    }

    /// Adds `count` values whose mantissas sum to `mantissas`.
    fn add(&mut self, count: u64, mantissas: i128) {
        *self = Bin::new(self.count + count, self.mantissas() + mantissas);
    }
}

/// The key of the bin holding `v`: 0 for zero, otherwise ± (the value's
/// sign, exponent and top mantissa bits + 1), so keys sort as values do.
fn key_of(v: f64) -> i64 {
    if v == 0.0 {
        return 0;
    }
    let k = (v.abs().to_bits() >> (52 - BIN_MANTISSA_BITS)) as i64 + 1;
    if v < 0.0 {
        -k
    } else {
        k
    }
}

/// The bits of the smallest magnitude in bin `key` (not the zero bin).
fn floor_bits(key: i64) -> u64 {
    (key.unsigned_abs() - 1) << (52 - BIN_MANTISSA_BITS)
}

/// The signed mantissa of the smallest magnitude in bin `key` (a finite,
/// nonzero bin), at the bin's unit.
pub(super) fn bin_floor_mantissa(key: i64) -> i128 {
    let floor = f64::from_bits(floor_bits(key));
    mantissa_of(if key < 0 { -floor } else { floor })
}

/// The binary exponent of the unit of a bin's mantissas.
fn unit_exponent(key: i64) -> i32 {
    let top = floor_bits(key) >> 52;
    if top == 0 {
        -1074
    } else {
        top as i32 - 1075
    }
}

/// `v`'s signed mantissa at its exponent's unit (finite `v`).
fn mantissa_of(v: f64) -> i128 {
    let bits = v.abs().to_bits();
    let fraction = bits & ((1u64 << 52) - 1);
    let m = if bits >> 52 == 0 {
        fraction
    } else {
        fraction | 1u64 << 52
    };
    if v < 0.0 {
        -(m as i128)
    } else {
        m as i128
    }
}

/// Key of the bin of +∞ (−∞ is its negative); such bins hold no sum.
pub(super) fn infinite_key() -> i64 {
    key_of(f64::INFINITY)
}

impl Bin {
    /// The exact sum of the bin's values, added into `total`.
    fn add_sum_to(&self, key: i64, total: &mut ExactSum) {
        if key.abs() >= infinite_key() {
            let infinity = if key > 0 { f64::INFINITY } else { f64::NEG_INFINITY };
            total.add(infinity);
            return;
        }
        let mantissas = self.mantissas();
        if mantissas == 0 {
            return;
        }
        // 48-bit chunks are exact as f64, and so are their scaled values.
        let unit = unit_exponent(key);
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

    /// The mean of the bin's values.
    fn mean(&self, key: i64) -> f64 {
        if key.abs() >= infinite_key() {
            return if key > 0 { f64::INFINITY } else { f64::NEG_INFINITY };
        }
        let mut total = ExactSum::new();
        self.add_sum_to(key, &mut total);
        total.value() / self.count as f64
    }
}

/// A statistic's mergeable state: count, exact sums of values and squares,
/// extremes and the histogram. NaN (an undefined value) is left out.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    pub(super) n: u64,
    /// No separate sum of the values: the bins hold it exactly.
    pub(super) squares: ExactSum,
    pub(super) min: f64,
    pub(super) max: f64,
    /// The histogram's bins in use, in increasing order of key (of value).
    pub(super) bins: Vec<(i64, Bin)>,
    /// Values counted in `n`, `min` and `max` but not yet in `squares` and
    /// `bins` (at most [`PENDING`]), as [`sortable`] bits.
    pub(super) pending: Vec<u64>,
}

/// Equal when they hold the same values' state, whatever is still pending.
impl PartialEq for Accumulator {
    fn eq(&self, other: &Accumulator) -> bool {
        let (a, b) = (self.binned(), other.binned());
        let (squares, theirs) = (a.squares.canonical(), b.squares.canonical());
        // An infinite value's square leaves a NaN in the special part.
        let special = squares.special == theirs.special || (squares.special.is_nan() && theirs.special.is_nan());
        a.n == b.n
            && a.min.to_bits() == b.min.to_bits()
            && a.max.to_bits() == b.max.to_bits()
            && squares.partials == theirs.partials
            && special
            && a.bins == b.bins
    }
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Accumulator {
        Accumulator::default()
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
    /// order they came), then their bins, sorted, into the histogram.
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        for &bits in &self.pending {
            let v = unsortable(bits);
            let (square, error) = two_product(v, v);
            self.squares.add(square);
            self.squares.add(error);
        }
        self.pending.sort_unstable();
        merge_runs(&mut self.bins, Runs(&self.pending));
        self.pending.clear();
    }

    /// This accumulator with nothing pending: itself, or a binned copy.
    fn binned(&self) -> std::borrow::Cow<'_, Accumulator> {
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

    /// Adds one replication's value.
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
        let mut a = Accumulator::new();
        for &v in values.iter().filter(|v| !v.is_nan()) {
            a.note(v);
            a.pending.push(sortable(v));
        }
        a.flush();
        a
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
        merge_runs(&mut self.bins, other.bins.iter().copied());
        // Its pending values join this one's, binned with them.
        self.pending.extend_from_slice(&other.pending);
        if self.pending.len() >= PENDING {
            self.flush();
        }
    }

    /// The bins in increasing order of key (of value), pending values binned.
    pub(super) fn sorted_bins(&self) -> std::borrow::Cow<'_, [(i64, Bin)]> {
        match self.binned() {
            std::borrow::Cow::Borrowed(a) => std::borrow::Cow::Borrowed(&a.bins),
            std::borrow::Cow::Owned(a) => std::borrow::Cow::Owned(a.bins),
        }
    }

    /// The histogram as (mean of a bin's values, their count), in
    /// increasing order of value.
    pub fn points(&self) -> Vec<(f64, u64)> {
        self.sorted_bins()
            .iter()
            .map(|(key, bin)| (bin.mean(*key), bin.count))
            .collect()
    }

    /// The exact sum of the values.
    pub fn sum(&self) -> ExactSum {
        let mut total = ExactSum::new();
        for (key, bin) in self.sorted_bins().iter() {
            bin.add_sum_to(*key, &mut total);
        }
        total
    }

    /// The exact sum of the squares of the values.
    pub(super) fn squares(&self) -> std::borrow::Cow<'_, ExactSum> {
        match self.binned() {
            std::borrow::Cow::Borrowed(a) => std::borrow::Cow::Borrowed(&a.squares),
            std::borrow::Cow::Owned(a) => std::borrow::Cow::Owned(a.squares),
        }
    }

    /// The value of order statistic `rank` (0-based): the exact minimum and
    /// maximum at the ends, otherwise the mean of its bin.
    fn order_statistic(&self, sorted: &[(i64, Bin)], rank: u64) -> f64 {
        if rank == 0 {
            return self.min;
        }
        if rank + 1 >= self.n {
            return self.max;
        }
        let mut below = 0;
        for (key, bin) in sorted {
            if rank < below + bin.count {
                return bin.mean(*key).clamp(self.min, self.max);
            }
            below += bin.count;
        }
        self.max
    }

    /// The type-7 quantile (linear between order statistics, as R's
    /// default), from the histogram; NaN when empty.
    pub fn quantile(&self, p: f64) -> f64 {
        self.quantile_of(&self.sorted_bins(), p)
    }

    /// [`Accumulator::quantile`] from the bins sorted once.
    fn quantile_of(&self, sorted: &[(i64, Bin)], p: f64) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        super::summary::type7(self.n, p, |rank| self.order_statistic(sorted, rank))
    }

    /// Mean of the lowest `share` of values (at least one): whole bins by
    /// their exact sums, the last bin's share at its mean.
    pub fn shortfall(&self, share: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let k = ((self.n as f64 * share).ceil() as u64).clamp(1, self.n);
        let mut total = ExactSum::new();
        let mut taken = 0;
        for (key, bin) in self.sorted_bins().iter() {
            if taken + bin.count <= k {
                bin.add_sum_to(*key, &mut total);
                taken += bin.count;
            } else {
                total.add((k - taken) as f64 * bin.mean(*key));
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
        let sd = if self.n > 1 {
            // n·Σx² − (Σx)² ≥ 0 exactly; it rounds to ≥ 0.
            let spread = centred(self.n, &binned.squares, &sum, &sum).max(0.0);
            (spread / n / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let sorted = &binned.bins;
        let q = |p: f64| self.quantile_of(sorted, p);
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
        })
    }
}

/// Exact co-moments of two statistics, for their correlation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comoments {
    pub(super) n: u64,
    pub(super) x: ExactSum,
    pub(super) y: ExactSum,
    pub(super) xx: ExactSum,
    pub(super) yy: ExactSum,
    pub(super) xy: ExactSum,
}

impl Comoments {
    /// Adds one replication's pair (left out when either is NaN).
    pub fn add(&mut self, x: f64, y: f64) {
        if x.is_nan() || y.is_nan() {
            return;
        }
        self.n += 1;
        self.x.add(x);
        self.y.add(y);
        for (sum, a, b) in [(&mut self.xx, x, x), (&mut self.yy, y, y), (&mut self.xy, x, y)] {
            let (high, low) = two_product(a, b);
            sum.add(high);
            sum.add(low);
        }
    }

    /// Adds everything `other` holds.
    pub fn merge(&mut self, other: &Comoments) {
        self.n += other.n;
        for (mine, theirs) in [
            (&mut self.x, &other.x),
            (&mut self.y, &other.y),
            (&mut self.xx, &other.xx),
            (&mut self.yy, &other.yy),
            (&mut self.xy, &other.xy),
        ] {
            mine.add_sum(theirs);
        }
    }

    /// Pearson's correlation (NaN when either side never varies).
    pub fn correlation(&self) -> f64 {
        let xy = centred(self.n, &self.xy, &self.x, &self.y);
        let xx = centred(self.n, &self.xx, &self.x, &self.x);
        let yy = centred(self.n, &self.yy, &self.y, &self.y);
        xy / (xx * yy).sqrt()
    }
}

#[cfg(test)]
mod tests;
