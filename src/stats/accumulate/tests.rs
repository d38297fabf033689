//! Unit tests of the exact accumulators.

use super::*;
use crate::stats::summary::quantile_sorted;

/// A deterministic spread of awkward values: mixed signs and scales,
/// repeats, zeros, a NaN.
fn values() -> Vec<f64> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::new();
    for k in 0..5000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (state >> 11) as f64 / (1u64 << 53) as f64;
        out.push(match k % 7 {
            0 => 0.0,
            1 => -1.0,
            2 => (u * 20.0).floor(),
            3 => 1e6 * (u - 0.3),
            4 => 1e-3 * u,
            5 if k == 5 => f64::NAN,
            _ => -2.5e5 * u * u,
        });
    }
    out
}

#[test]
fn an_exact_sum_is_the_correctly_rounded_sum_in_any_order() {
    let v = [1e16, 1.0, -1e16, 1e-3, 3.0, -1e-3];
    let mut forward = ExactSum::new();
    v.iter().for_each(|&x| forward.add(x));
    let mut backward = ExactSum::new();
    v.iter().rev().for_each(|&x| backward.add(x));
    assert_eq!(forward.value(), 4.0);
    assert_eq!(backward.value(), 4.0);
    // 0.1 ten times is exactly 1.0000000000000000555…, which rounds to 1.
    let mut tenths = ExactSum::new();
    (0..10).for_each(|_| tenths.add(0.1));
    assert_eq!(tenths.value(), 1.0);
}

#[test]
fn any_split_merges_to_the_same_bits() {
    let v = values();
    let mut whole = Accumulator::new();
    v.iter().for_each(|&x| whole.add(x));
    assert_eq!(Accumulator::of(&v), whole, "at once or one by one");
    for parts in [2usize, 3, 7, 64] {
        let mut merged = Accumulator::new();
        // Uneven chunks, merged in reverse order.
        let size = v.len() / parts + 1;
        let mut chunks: Vec<Accumulator> = v
            .chunks(size)
            .map(|c| {
                let mut a = Accumulator::new();
                c.iter().for_each(|&x| a.add(x));
                a
            })
            .collect();
        chunks.reverse();
        chunks.iter().for_each(|c| merged.merge(c));
        assert_eq!(merged.summary(), whole.summary(), "{parts} parts");
        assert_eq!(merged.shortfall(0.05), whole.shortfall(0.05));
    }
}

#[test]
fn merging_from_a_chunk_it_may_coarsen_is_merging_a_copy() {
    // Chunks of magnitudes that rise and fall, so that a chunk's floor is
    // sometimes below the total's (coarsened in place) and sometimes above
    // it (the total is coarsened).
    let v = values();
    let (mut by_copy, mut in_place) = (Accumulator::new(), Accumulator::new());
    let mut coarsened = 0;
    for (k, chunk) in v.chunks(613).enumerate() {
        let scale = [1.0, 1e-4, 1e3, 1e-2][k % 4];
        let scaled: Vec<f64> = chunk.iter().map(|&x| x * scale).collect();
        let mut a = Accumulator::new();
        scaled.iter().for_each(|&x| a.add(x));
        a.flush();
        let below = a.floor < in_place.floor;
        by_copy.merge(&a);
        in_place.merge_from(&mut a);
        assert_eq!(in_place, by_copy, "chunk {k}");
        if below {
            assert_eq!(a.floor, in_place.floor, "chunk {k} was coarsened to the total's floor");
            coarsened += 1;
        }
    }
    assert!(coarsened > 0, "some chunk lay below the total's floor");
    assert_eq!(in_place.summary(), by_copy.summary());
}

#[test]
fn a_quantiles_only_accumulator_has_the_same_histogram_and_no_spread() {
    let v = values();
    let (full, lean) = (Accumulator::of(&v), Accumulator::quantiles_of(&v));
    assert!(full.keeps_moments() && !lean.keeps_moments());
    let mut one_by_one = Accumulator::quantiles_only();
    v.iter().for_each(|&x| one_by_one.add(x));
    assert_eq!(one_by_one, lean, "at once or one by one");
    let mut merged = Accumulator::quantiles_only();
    v.chunks(777).for_each(|c| merged.merge(&Accumulator::quantiles_of(c)));
    assert_eq!(merged, lean, "merged in uneven chunks");
    merged.clear();
    assert!(!merged.keeps_moments(), "clearing keeps the kind");
    let (full, lean) = (full.summary().unwrap(), lean.summary().unwrap());
    assert!(lean.sd.is_nan() && lean.se.is_nan() && full.sd > 0.0);
    let same = |s: &crate::stats::summary::Summary| {
        [s.mean, s.min, s.max, s.p01, s.p05, s.p25, s.p50, s.p75, s.p95, s.p99].map(f64::to_bits)
    };
    assert_eq!(same(&full), same(&lean));
}

#[test]
fn quantiles_are_within_the_stated_precision_of_the_order_statistics() {
    let v = values();
    let mut a = Accumulator::new();
    v.iter().for_each(|&x| a.add(x));
    let mut sorted: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    for k in 0..=100 {
        let p = k as f64 / 100.0;
        let exact = quantile_sorted(&sorted, p);
        let approximate = a.quantile(p);
        // Linear interpolation between two order statistics, each read
        // within the bound, stays within the bound of the larger one.
        let lo = sorted[((sorted.len() - 1) as f64 * p).floor() as usize];
        let hi = sorted[(((sorted.len() - 1) as f64 * p).floor() as usize + 1).min(sorted.len() - 1)];
        let bound = (QUANTILE_RELATIVE_ERROR * lo.abs().max(hi.abs())).max(a.quantile_absolute_error());
        assert!((approximate - exact).abs() <= bound, "p {p}: {approximate} vs {exact}");
    }
    let s = a.summary().expect("values");
    let exact_mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
    assert!((s.mean - exact_mean).abs() <= 1e-9 * exact_mean.abs().max(1.0));
    assert_eq!(s.n, sorted.len() as u64);
    assert_eq!((s.min, s.max), (sorted[0], sorted[sorted.len() - 1]));
    let es = a.shortfall(0.05).expect("values");
    let k = (sorted.len() as f64 * 0.05).ceil() as usize;
    let exact_es = sorted[..k].iter().sum::<f64>() / k as f64;
    assert!(
        (es - exact_es).abs() <= QUANTILE_RELATIVE_ERROR * exact_es.abs() + a.quantile_absolute_error(),
        "{es} vs {exact_es}"
    );
}

#[test]
fn discrete_values_are_read_exactly_and_a_constant_has_no_spread() {
    let mut a = Accumulator::new();
    for k in 0..1001 {
        a.add(f64::from(k % 5));
    }
    let s = a.summary().expect("values");
    assert_eq!((s.p05, s.p25, s.p50, s.p75, s.p95), (0.0, 1.0, 2.0, 3.0, 4.0));
    let mut constant = Accumulator::new();
    (0..1000).for_each(|_| constant.add(0.1 + 1e6));
    let s = constant.summary().expect("values");
    assert_eq!((s.sd, s.se), (0.0, 0.0));
    assert_eq!(s.mean, 0.1 + 1e6);
}

#[test]
fn correlations_come_from_exact_comoments() {
    let mut c = Comoments::default();
    let mut halves = [Comoments::default(), Comoments::default()];
    for k in 0..200 {
        let x = f64::from(k);
        let y = 3.0 * x + 7.0;
        c.add(x, y);
        halves[k as usize % 2].add(x, y);
    }
    assert!((c.correlation() - 1.0).abs() < 1e-15);
    let [mut even, odd] = halves;
    even.merge(&odd);
    assert_eq!(even.correlation(), c.correlation());
    let mut flat = Comoments::default();
    (0..10).for_each(|k| flat.add(f64::from(k), 2.0));
    assert!(flat.correlation().is_nan());
}

/// Co-moments summed in batches hold the exact sums of adding each pair's
/// values and two-products to the partials one by one (the way they were
/// summed before batches), at any split into merged pieces: huge values
/// (past the fixed-point and squaring ranges), subnormals, infinities.
#[test]
fn batched_comoments_are_the_exact_sums_of_each_pair() {
    let mut pairs: Vec<[f64; 2]> = values()
        .iter()
        .zip(values().iter().rev())
        .map(|(&x, &y)| [x, 0.5 * y + 3.0])
        .collect();
    pairs.extend([
        [2f64.powi(900), -3.0],
        [1e-310, 2f64.powi(450)],
        [-2f64.powi(401), 2f64.powi(-401)],
        [f64::INFINITY, 1.0],
        [1.0, f64::NAN],
    ]);
    let mut reference = [
        ExactSum::new(),
        ExactSum::new(),
        ExactSum::new(),
        ExactSum::new(),
        ExactSum::new(),
    ];
    let mut counted = 0;
    for &[x, y] in &pairs {
        if x.is_nan() || y.is_nan() {
            continue;
        }
        counted += 1;
        reference[0].add(x);
        reference[1].add(y);
        for (k, (a, b)) in [(2, (x, x)), (3, (y, y)), (4, (x, y))] {
            let (high, low) = two_product(a, b);
            reference[k].add(high);
            reference[k].add(low);
        }
    }
    let check = |c: &Comoments, what: &str| {
        let c = c.flushed();
        assert_eq!(c.n, counted, "{what}");
        for (mine, theirs) in [&c.x, &c.y, &c.xx, &c.yy, &c.xy].into_iter().zip(&reference) {
            assert!(
                mine.same_sum(theirs),
                "{what}: {:?} vs {:?}",
                mine.canonical(),
                theirs.canonical()
            );
        }
    };
    let mut whole = Comoments::default();
    pairs.iter().for_each(|&[x, y]| whole.add(x, y));
    check(&whole, "one by one");
    for size in [1, PENDING - 1, PENDING + 1, 3 * PENDING] {
        let mut merged = Comoments::default();
        for piece in pairs.chunks(size) {
            let mut part = Comoments::default();
            piece.iter().for_each(|&[x, y]| part.add(x, y));
            merged.merge(&part);
        }
        check(&merged, &format!("pieces of {size}"));
        assert_eq!(merged, whole);
    }
    // The finite pairs' correlation, from the same sums either way.
    let finite: Vec<[f64; 2]> = pairs
        .iter()
        .copied()
        .filter(|p| p.iter().all(|v| v.abs() < 1e100))
        .collect();
    let (mut batched, mut flushed_often) = (Comoments::default(), Comoments::default());
    for &[x, y] in &finite {
        batched.add(x, y);
        flushed_often.add(x, y);
        flushed_often.flush();
    }
    assert_eq!(batched.correlation().to_bits(), flushed_often.correlation().to_bits());
    assert!(batched.correlation().is_finite());
}

#[test]
fn batched_bins_are_those_of_binning_each_value() {
    let mut v = values();
    v.extend([
        f64::INFINITY,
        -0.0,
        f64::NEG_INFINITY,
        0.0,
        f64::INFINITY,
        5e-324,
        -5e-324,
    ]);
    // The reference: each value's bin at the floor of the largest, looked
    // up in an ordered map.
    let floor = v
        .iter()
        .filter(|x| x.is_finite() && **x != 0.0)
        .map(|&x| bins::floor_for(x))
        .max()
        .expect("values");
    let mut reference = std::collections::BTreeMap::<i64, (u64, i128)>::new();
    let mut tiny = [ExactSum::new(), ExactSum::new()];
    for &x in v.iter().filter(|x| !x.is_nan()) {
        let key = bins::key_at(x, floor);
        let bin = reference.entry(key).or_default();
        bin.0 += 1;
        if holds_mantissas(key, floor) {
            bin.1 += bins::mantissa_at(x, unit_exponent(key, floor));
        } else if is_tiny(key, floor) {
            tiny[usize::from(x > 0.0)].add(x);
        }
    }
    assert!(
        reference.keys().any(|&k| is_tiny(k, floor)) && reference.len() > 100,
        "the values reach the tiny and many other bins"
    );
    let expected: Vec<(i64, u64, i128)> = reference.into_iter().map(|(k, (c, m))| (k, c, m)).collect();
    let bins = |a: &Accumulator| -> Vec<(i64, u64, i128)> {
        let a = a.binned();
        assert_eq!(a.floor, floor);
        for (mine, theirs) in a.tiny.iter().zip(&tiny) {
            assert_eq!(mine.value().to_bits(), theirs.value().to_bits());
        }
        a.bins.iter().map(|(k, b)| (*k, b.count, b.mantissas())).collect()
    };
    let mut one_by_one = Accumulator::new();
    v.iter().for_each(|&x| one_by_one.add(x));
    assert_eq!(
        bins(&one_by_one),
        expected,
        "added one by one (flushed every {PENDING})"
    );
    assert_eq!(bins(&Accumulator::of(&v)), expected, "at once");
    // Merged from pieces of every size around the batch, some with values pending.
    for size in [1, 7, PENDING - 1, PENDING, PENDING + 1, 3 * PENDING] {
        let mut merged = Accumulator::new();
        for piece in v.chunks(size).rev() {
            let mut a = Accumulator::new();
            piece.iter().for_each(|&x| a.add(x));
            merged.merge(&a);
        }
        assert_eq!(bins(&merged), expected, "pieces of {size}");
        assert_eq!(merged, one_by_one, "pieces of {size}");
        assert_eq!(merged.count(), one_by_one.count());
    }
}

#[test]
fn a_rising_floor_merges_bins_exactly_and_bounds_the_histogram() {
    // Magnitudes grow tenfold every 20,000 values, so the floor rises many
    // times while values come one by one, and once for all of them at once.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let v: Vec<f64> = (0..200_000)
        .map(|k| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            10f64.powi(k / 20_000 - 3) * (u - 0.4)
        })
        .collect();
    let mut one_by_one = Accumulator::new();
    v.iter().for_each(|&x| one_by_one.add(x));
    let at_once = Accumulator::of(&v);
    assert_eq!(one_by_one, at_once);
    let mut reversed = Accumulator::new();
    v.iter().rev().for_each(|&x| reversed.add(x));
    assert_eq!(reversed, at_once);
    let mut exact = ExactSum::new();
    v.iter().for_each(|&x| exact.add(x));
    assert_eq!(one_by_one.sum().value().to_bits(), exact.value().to_bits());
    let most = (2 * (FLOOR_OCTAVES as usize + 2)) << BIN_MANTISSA_BITS;
    assert!(one_by_one.bin_count() <= most, "{} bins", one_by_one.bin_count());
    assert!(one_by_one.quantile_absolute_error() > 0.0);
}
