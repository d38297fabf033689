//! Binning values in sorted batches: an accumulator's values wait as
//! integers that sort as the values do, and a batch joins the sorted bins
//! in one pass.

use super::bins::{holds_mantissas, mantissa_at, unit_exponent, Bin, Binning};

/// Values an accumulator takes before it bins them: binning one value at a
/// time costs a lookup in a large table (a cache miss, measured as most of
/// the fold's time); binning a sorted batch walks the bins once.
/// Every statistic of every worker's state holds a batch's room (8 bytes a
/// value): 1,024 took 1.7 MB a worker for `lapset-sib`'s 214 statistics.
pub(super) const PENDING: usize = 256;

thread_local! {
    /// A thread's room for the runs of the batch it is binning: reused, so
    /// a flush neither allocates nor zeroes a buffer (an 8 KB array on the
    /// stack, zeroed each flush, was 1 % of a run's instructions).
    static RUNS: std::cell::RefCell<Vec<(i64, Bin)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `each` with the thread's runs buffer, emptied.
pub(super) fn with_runs(each: impl FnOnce(&mut Vec<(i64, Bin)>)) {
    RUNS.with(|runs| {
        let mut runs = runs.borrow_mut();
        runs.clear();
        each(&mut runs);
    });
}

/// `v`'s bits as an integer that sorts as the values do (−0 before +0).
pub(super) fn sortable(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The value whose [`sortable`] bits these are.
pub(super) fn unsortable(bits: u64) -> f64 {
    f64::from_bits(if bits >> 63 == 1 { bits & !(1 << 63) } else { !bits })
}

/// Bits of a value below its top 10 mantissa bits: values whose
/// [`sortable`] bits agree above these share a relative bin, and lie inside
/// one linear bin (a linear bin is a whole number of relative bins' widths,
/// aligned), so a run of one key is mostly found without binning each value.
const BELOW_BIN_BITS: u32 = 52 - super::bins::BIN_MANTISSA_BITS;

/// No value's group (its bits shifted down by [`BELOW_BIN_BITS`]).
const NO_GROUP: u64 = u64::MAX;

/// Whether `bits` ([`sortable`]) are those of −0 or +0.
#[inline]
fn is_zero(bits: u64) -> bool {
    bits.wrapping_sub(sortable(-0.0)) < 2
}

/// Calls `each` with the bin of every run of one key in `values` (sorted
/// [`sortable`] bits) binned at `floor`, in increasing order of key: the
/// run's count and exact mantissa sum.
#[inline]
pub(super) fn for_each_run(values: &[u64], floor: i32, mut each: impl FnMut(i64, Bin)) {
    let binning = Binning::new(floor);
    let mut rest = values;
    while let Some(&first) = rest.first() {
        let key = binning.key(unsortable(first));
        // Zero's bin is its own, but its group holds the least subnormals:
        // zeros, and the values after one, are binned each.
        let mut group = if key == 0 { NO_GROUP } else { first >> BELOW_BIN_BITS };
        let mut length = 1;
        for &bits in &rest[1..] {
            if bits >> BELOW_BIN_BITS != group || is_zero(bits) {
                // A new group may still be the same (linear) bin.
                if binning.key(unsortable(bits)) != key {
                    break;
                }
                if key != 0 {
                    group = bits >> BELOW_BIN_BITS;
                }
            }
            length += 1;
        }
        let (run, after) = rest.split_at(length);
        rest = after;
        each(key, bin_of(key, floor, run));
    }
}

/// The bin of `run`, values of one `key` at `floor`.
#[inline]
fn bin_of(key: i64, floor: i32, run: &[u64]) -> Bin {
    if !holds_mantissas(key, floor) {
        return Bin::new(run.len() as u64, 0);
    }
    let unit = unit_exponent(key, floor);
    let mantissas = run.iter().map(|&bits| mantissa_at(unsortable(bits), unit)).sum();
    Bin::new(run.len() as u64, mantissas)
}

/// Adds `runs` (bins in increasing order of key) to the sorted `bins` in
/// place: bins both hold are added in one forward walk, then the new ones
/// are merged in from the back, so nothing but `bins`' own growth allocates.
pub(super) fn merge_runs(bins: &mut Vec<(i64, Bin)>, runs: &[(i64, Bin)]) {
    let mut new = 0;
    let mut at = 0;
    for &(key, bin) in runs {
        while at < bins.len() && bins[at].0 < key {
            at += 1;
        }
        match bins.get_mut(at) {
            Some((held, mine)) if *held == key => mine.add(bin.count, bin.mantissas()),
            _ => new += 1,
        }
    }
    if new == 0 {
        return;
    }
    let old = bins.len();
    bins.resize(old + new, (0, Bin::default()));
    let (mut read, mut write) = (old, old + new);
    for &(key, bin) in runs.iter().rev() {
        while read > 0 && bins[read - 1].0 > key {
            read -= 1;
            write -= 1;
            bins[write] = bins[read];
        }
        if read > 0 && bins[read - 1].0 == key {
            continue; // added in the forward walk
        }
        write -= 1;
        bins[write] = (key, bin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Awkward values: zeros of both signs, the least subnormals, powers of
    /// two around the floor (where relative bins become linear and linear
    /// ones tiny), infinities, and any finite bits.
    fn awkward() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            (1u64..4).prop_map(f64::from_bits),
            (1u64..4).prop_map(|b| -f64::from_bits(b)),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            (-30i32..30, -3i32..3, any::<bool>()).prop_map(|(e, ulps, negative)| {
                let v = f64::from_bits((2f64.powi(e).to_bits() as i64 + i64::from(ulps)) as u64);
                if negative {
                    -v
                } else {
                    v
                }
            }),
            any::<u64>()
                .prop_map(f64::from_bits)
                .prop_filter("not NaN", |v| !v.is_nan()),
        ]
    }

    proptest! {
        /// Runs found by groups of bits are those of binning each value.
        #[test]
        fn runs_are_the_bins_of_each_value(
            mut values in proptest::collection::vec(awkward(), 1..300),
            floor in prop_oneof![Just(super::super::bins::LOWEST_FLOOR), -12i32..12, Just(1000)],
        ) {
            values.sort_by_key(|&v| sortable(v));
            let bits: Vec<u64> = values.iter().map(|&v| sortable(v)).collect();
            let binning = Binning::new(floor);
            let mut expected = BTreeMap::<i64, (u64, i128)>::new();
            for &v in &values {
                let key = binning.key(v);
                let bin = expected.entry(key).or_default();
                bin.0 += 1;
                if holds_mantissas(key, floor) {
                    bin.1 += mantissa_at(v, unit_exponent(key, floor));
                }
            }
            let mut got = Vec::new();
            for_each_run(&bits, floor, |key, bin| got.push((key, bin.count, bin.mantissas())));
            let expected: Vec<(i64, u64, i128)> = expected.into_iter().map(|(k, (c, m))| (k, c, m)).collect();
            prop_assert_eq!(got, expected);
        }

        /// Merging sorted bins into sorted bins adds the shared keys and
        /// inserts the new ones in order, as an ordered map would.
        #[test]
        fn merged_bins_are_an_ordered_maps(
            held in proptest::collection::btree_map(-300i64..300, 1u64..5, 0..200),
            added in proptest::collection::btree_map(-300i64..300, 1u64..5, 0..200),
        ) {
            let as_bins = |map: &BTreeMap<i64, u64>| -> Vec<(i64, Bin)> {
                map.iter().map(|(&k, &c)| (k, Bin::new(c, i128::from(k) * 3))).collect()
            };
            let mut bins = as_bins(&held);
            merge_runs(&mut bins, &as_bins(&added));
            let mut expected = held.clone();
            for (k, c) in &added {
                *expected.entry(*k).or_default() += c;
            }
            let got: Vec<(i64, u64, i128)> = bins.iter().map(|(k, b)| (*k, b.count, b.mantissas())).collect();
            let want: Vec<(i64, u64, i128)> = expected
                .iter()
                .map(|(&k, &c)| {
                    let shares = u64::from(held.contains_key(&k)) + u64::from(added.contains_key(&k));
                    (k, c, i128::from(k) * 3 * i128::from(shares))
                })
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
