//! Exact co-moments of two statistics (a portfolio's pairs of contract
//! payments), for their correlation: the same to the bit for any split of
//! the pairs, as the accumulators are.

use super::batch::PENDING;
use super::fixed::FixedSum;
use super::{add_exactly, add_square_exactly, centred, two_product, ExactSum};

/// Exact co-moments of two statistics, for their correlation.
#[derive(Debug, Clone, Default)]
pub struct Comoments {
    /// Pairs added (NaN pairs left out), pending ones included.
    pub(in crate::stats) n: u64,
    pub(in crate::stats) x: ExactSum,
    pub(in crate::stats) y: ExactSum,
    pub(in crate::stats) xx: ExactSum,
    pub(in crate::stats) yy: ExactSum,
    pub(in crate::stats) xy: ExactSum,
    /// Pairs counted in `n` but not yet in the sums (at most [`PENDING`]):
    /// a batch adds in fixed point, where each pair passed over five sums'
    /// partials (3 % of a `lapset-sib` run, with its 28 pairs of contracts).
    pub(in crate::stats) pending: Vec<[f64; 2]>,
}

/// Equal when they hold the same pairs' sums, whatever is still pending.
impl PartialEq for Comoments {
    fn eq(&self, other: &Comoments) -> bool {
        let (a, b) = (self.flushed(), other.flushed());
        a.n == b.n
            && a.x.same_sum(&b.x)
            && a.y.same_sum(&b.y)
            && a.xx.same_sum(&b.xx)
            && a.yy.same_sum(&b.yy)
            && a.xy.same_sum(&b.xy)
    }
}

impl Comoments {
    /// Adds one replication's pair (left out when either is NaN).
    pub fn add(&mut self, x: f64, y: f64) {
        if x.is_nan() || y.is_nan() {
            return;
        }
        self.n += 1;
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(PENDING);
        }
        self.pending.push([x, y]);
        if self.pending.len() >= PENDING {
            self.flush();
        }
    }

    /// Adds the pending pairs to the sums, exactly: values, squares and
    /// products (as exact two-products, or squares as integers) in fixed
    /// point, then into the partials a few parts a sum.
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut fixed: [FixedSum; 5] = std::array::from_fn(|_| FixedSum::new());
        let [fx, fy, fxx, fyy, fxy] = &mut fixed;
        // A batch is at most PENDING pairs, each at most two additions a
        // sum: far below MOST_ADDS.
        for &[x, y] in &self.pending {
            add_exactly(fx, &mut self.x, x);
            add_exactly(fy, &mut self.y, y);
            add_square_exactly(fxx, &mut self.xx, x);
            add_square_exactly(fyy, &mut self.yy, y);
            let (high, low) = two_product(x, y);
            add_exactly(fxy, &mut self.xy, high);
            add_exactly(fxy, &mut self.xy, low);
        }
        for (fixed, sum) in fixed
            .iter_mut()
            .zip([&mut self.x, &mut self.y, &mut self.xx, &mut self.yy, &mut self.xy])
        {
            fixed.drain_into(sum);
        }
        self.pending.clear();
    }

    /// These co-moments with nothing pending: themselves, or a flushed copy.
    pub(in crate::stats) fn flushed(&self) -> std::borrow::Cow<'_, Comoments> {
        if self.pending.is_empty() {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut copy = self.clone();
        copy.flush();
        std::borrow::Cow::Owned(copy)
    }

    /// Empties the co-moments, keeping the batch's room.
    pub fn clear(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.clear();
        *self = Comoments {
            pending,
            ..Comoments::default()
        };
    }

    /// Adds everything `other` holds.
    pub fn merge(&mut self, other: &Comoments) {
        self.flush();
        let other = other.flushed();
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
        let c = self.flushed();
        let xy = centred(c.n, &c.xy, &c.x, &c.y);
        let xx = centred(c.n, &c.xx, &c.x, &c.x);
        let yy = centred(c.n, &c.yy, &c.y, &c.y);
        xy / (xx * yy).sqrt()
    }
}
