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

/// Sorted values (as [`sortable`] bits) as bins at a floor: each run of
/// one key, with its count and exact mantissa sum.
pub(super) struct Runs<'a> {
    values: &'a [u64],
    binning: Binning,
}

impl Runs<'_> {
    /// The runs of `values` (sorted [`sortable`] bits) binned at `floor`.
    pub(super) fn new(values: &[u64], floor: i32) -> Runs<'_> {
        Runs {
            values,
            binning: Binning::new(floor),
        }
    }

    fn key(&self, bits: u64) -> i64 {
        self.binning.key(unsortable(bits))
    }

    /// The bin of `run`, values of one `key`.
    fn bin(&self, key: i64, run: &[u64]) -> (i64, Bin) {
        let floor = self.binning.floor;
        if !holds_mantissas(key, floor) {
            return (key, Bin::new(run.len() as u64, 0));
        }
        let unit = unit_exponent(key, floor);
        let mantissas = run.iter().map(|&bits| mantissa_at(unsortable(bits), unit)).sum();
        (key, Bin::new(run.len() as u64, mantissas))
    }
}

impl Iterator for Runs<'_> {
    type Item = (i64, Bin);

    fn next(&mut self) -> Option<(i64, Bin)> {
        let key = self.key(*self.values.first()?);
        let length = 1 + self.values[1..].iter().take_while(|&&b| self.key(b) == key).count();
        let (run, rest) = self.values.split_at(length);
        self.values = rest;
        Some(self.bin(key, run))
    }
}

/// Adds `runs` (bins in increasing order of key) to the sorted `bins` in
/// place: bins both hold are added in one forward walk, then the new ones
/// are merged in from the back, so nothing but `bins`' own growth allocates.
pub(super) fn merge_runs<I>(bins: &mut Vec<(i64, Bin)>, runs: I)
where
    I: DoubleEndedIterator<Item = (i64, Bin)> + Clone,
{
    let mut new = 0;
    let mut at = 0;
    for (key, bin) in runs.clone() {
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
    for (key, bin) in runs.rev() {
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

    proptest! {
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
            merge_runs(&mut bins, as_bins(&added).into_iter());
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
