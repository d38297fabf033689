//! Which histogram bin a value falls in, and what a bin holds.
//!
//! A statistic's histogram has a *floor* F = 2^f, [`FLOOR_OCTAVES`]
//! octaves below the largest finite magnitude it has seen:
//! - at or above F, bins are 2^-10 of their value wide (keyed by the
//!   value's sign, exponent and top 10 mantissa bits), so a quantile read
//!   there is within 0.1 % of its value;
//! - below F, bins are F·2^-10 wide (linear), so a quantile read there is
//!   within F·2^-10 of its value;
//! - the lowest linear bin of each sign (0 < |v| < F·2^-10, "tiny") keeps
//!   its values' sum apart, as an exact sum, since their units can be as
//!   fine as 2^-1074; exact zero has its own bin.
//!
//! So a histogram has at most (`FLOOR_OCTAVES` + 2) × 1,024 bins a sign,
//! however many values it holds. Relative bins alone keep opening bins
//! nearer zero as values accumulate (about 7,000 more per statistic for
//! every tenfold of a continuous one's replications).
//!
//! The floor depends only on the largest magnitude, so it is the same for
//! any split of the values, and raising it merges bins exactly: every bin
//! below the new floor lies inside one coarser bin, and its exact sum
//! converts to the coarser bin's unit without loss.

/// Mantissa bits a relative bin keeps: bins are 2⁻¹⁰ of their value wide.
pub const BIN_MANTISSA_BITS: u32 = 10;

/// Octaves of relative bins below a statistic's largest magnitude: the
/// floor is 2^(⌊log₂ max |v|⌋ + 1 − `FLOOR_OCTAVES`).
pub const FLOOR_OCTAVES: i32 = 8;

/// The lowest floor, that of a statistic whose values are all zero (low
/// enough that no value a model produces falls under it, high enough that
/// scaling by 2^(10 − f) stays finite).
pub(in crate::stats) const LOWEST_FLOOR: i32 = -1012;

/// The highest floor: that of the largest finite double.
pub(in crate::stats) const HIGHEST_FLOOR: i32 = 1024 - FLOOR_OCTAVES;

/// Linear bins below the floor, a sign.
const LINEAR_BINS: i64 = 1 << BIN_MANTISSA_BITS;

/// 2^e as an `f64`, exactly (0 below 2^-1074, ∞ above 2^1023), from its
/// bits: no `powi` call.
pub(super) fn pow2(e: i32) -> f64 {
    match e {
        -1022..=1023 => f64::from_bits(((e + 1023) as u64) << 52),
        -1074..=-1023 => f64::from_bits(1u64 << (e + 1074)),
        ..=-1075 => 0.0,
        _ => f64::INFINITY,
    }
}

/// The width of a linear bin at `floor`, F·2⁻¹⁰: the tiny bins hold the
/// magnitudes below it, and it bounds a quantile's error below the floor.
pub(super) fn linear_width(floor: i32) -> f64 {
    pow2(floor - BIN_MANTISSA_BITS as i32)
}

/// The floor a finite, nonzero `v` asks for.
pub(super) fn floor_for(v: f64) -> i32 {
    let exponent = ((v.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    (exponent + 1 - FLOOR_OCTAVES).clamp(LOWEST_FLOOR, HIGHEST_FLOOR)
}

/// The key of the positive tiny bin at `floor` (the lowest linear bin);
/// the relative bins start [`LINEAR_BINS`] above it, at the key of F.
pub(super) fn tiny_key(floor: i32) -> i64 {
    (i64::from(floor + 1022) << BIN_MANTISSA_BITS) + 1
}

/// The magnitude part of a relative bin's key: the value's bits above the
/// kept mantissa, plus one (zero has key 0).
fn relative_key(magnitude: f64) -> i64 {
    (magnitude.to_bits() >> (52 - BIN_MANTISSA_BITS)) as i64 + 1
}

/// Key of the bin of +∞ (−∞ is its negative); such bins hold no sum.
pub(in crate::stats) fn infinite_key() -> i64 {
    relative_key(f64::INFINITY)
}

/// The key of the bin holding `v` (not NaN) at `floor`: 0 for zero,
/// otherwise ± a magnitude key, so that keys sort as values do.
pub(super) fn key_at(v: f64, floor: i32) -> i64 {
    Binning::new(floor).key(v)
}

/// A floor with the two powers of two that binning at it needs, worked out
/// once for a batch of values.
#[derive(Debug, Clone, Copy)]
pub(super) struct Binning {
    /// The floor's exponent.
    pub(super) floor: i32,
    /// 2^floor: magnitudes from here up have relative bins.
    lowest_relative: f64,
    /// 2^(10 − floor): a magnitude below the floor times this is its
    /// linear bin.
    linear_scale: f64,
}

impl Binning {
    /// Binning at `floor`.
    pub(super) fn new(floor: i32) -> Binning {
        Binning {
            floor,
            lowest_relative: pow2(floor),
            linear_scale: pow2(BIN_MANTISSA_BITS as i32 - floor),
        }
    }

    /// The key of the bin holding `v` (not NaN), as [`key_at`].
    #[inline]
    pub(super) fn key(&self, v: f64) -> i64 {
        if v == 0.0 {
            return 0;
        }
        let magnitude = v.abs();
        let k = if magnitude >= self.lowest_relative {
            relative_key(magnitude)
        } else {
            // Below 1,024 exactly: a scaling by a power of two.
            tiny_key(self.floor) + (magnitude * self.linear_scale) as i64
        };
        if v < 0.0 {
            -k
        } else {
            k
        }
    }
}

/// Whether `key` is a tiny bin at `floor`.
pub(in crate::stats) fn is_tiny(key: i64, floor: i32) -> bool {
    key.abs() == tiny_key(floor)
}

/// Whether `key` is a bin of a finite, nonzero value that keeps its sum as
/// mantissas (not zero, not infinite, not tiny).
pub(in crate::stats) fn holds_mantissas(key: i64, floor: i32) -> bool {
    key != 0 && key.abs() < infinite_key() && !is_tiny(key, floor)
}

/// Whether `key` can be a bin at `floor`.
pub(in crate::stats) fn is_bin(key: i64, floor: i32) -> bool {
    let k = key.abs();
    k == 0 || (tiny_key(floor)..=infinite_key()).contains(&k)
}

/// The binary exponent of the unit a bin's mantissas count, for a bin that
/// [`holds_mantissas`]: the values' own unit in a relative bin; in a linear
/// one the unit of its smallest possible value, F·2^-10.
pub(super) fn unit_exponent(key: i64, floor: i32) -> i32 {
    let k = key.abs();
    if k < tiny_key(floor) + LINEAR_BINS {
        return (floor - 62).max(-1074);
    }
    let exponent = ((k - 1) >> BIN_MANTISSA_BITS) as i32;
    if exponent == 0 {
        -1074
    } else {
        exponent - 1075
    }
}

/// The smallest magnitude in bin `key` at `floor` (not zero, not infinite).
fn lower_bound(key: i64, floor: i32) -> f64 {
    let k = key.abs();
    if k < tiny_key(floor) + LINEAR_BINS {
        (k - tiny_key(floor)) as f64 * linear_width(floor)
    } else {
        f64::from_bits(((k - 1) as u64) << (52 - BIN_MANTISSA_BITS))
    }
}

/// `v`'s signed mantissa at its own exponent's unit (finite `v`).
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

/// `v` (finite, a multiple of 2^unit below 2^(unit + 64)) as a signed
/// count of 2^unit.
pub(super) fn mantissa_at(v: f64, unit: i32) -> i128 {
    let exponent = ((v.abs().to_bits() >> 52) as i32).max(1) - 1075;
    mantissa_of(v) << (exponent - unit)
}

/// The signed mantissa of the smallest magnitude in bin `key` (one that
/// [`holds_mantissas`]) at the bin's unit.
pub(in crate::stats) fn bin_floor_mantissa(key: i64, floor: i32) -> i128 {
    let lowest = lower_bound(key, floor);
    mantissa_at(if key < 0 { -lowest } else { lowest }, unit_exponent(key, floor))
}

/// The floor the values of bin `key` (at `floor`) ask for: that of its
/// smallest magnitude, which shares their exponent (the lowest floor for
/// bins without mantissas).
pub(in crate::stats) fn floor_of_bin(key: i64, floor: i32) -> i32 {
    if holds_mantissas(key, floor) {
        floor_for(lower_bound(key, floor))
    } else {
        LOWEST_FLOOR
    }
}

/// How many units wide bin `key` (one that [`holds_mantissas`]) is: every
/// value in it has a mantissa at least [`bin_floor_mantissa`]'s and below
/// that plus this, in magnitude.
pub(in crate::stats) fn mantissa_width(key: i64, floor: i32) -> u128 {
    if key.abs() < tiny_key(floor) + LINEAR_BINS {
        1 << (floor - BIN_MANTISSA_BITS as i32 - unit_exponent(key, floor))
    } else {
        1 << (52 - BIN_MANTISSA_BITS)
    }
}

/// Where bin `key` at floor `from` lies at the higher floor `to`: its key
/// there, and the shift that takes its mantissas to the new unit (positive:
/// divide; negative: multiply), or `None` when it becomes tiny.
pub(super) fn coarser(key: i64, from: i32, to: i32) -> (i64, Option<i32>) {
    if !holds_mantissas(key, from) {
        let tiny = if key < 0 { -tiny_key(to) } else { tiny_key(to) };
        return (if is_tiny(key, from) { tiny } else { key }, None);
    }
    let lowest = lower_bound(key, from);
    let new = key_at(if key < 0 { -lowest } else { lowest }, to);
    if is_tiny(new, to) {
        return (new, None);
    }
    (new, Some(unit_exponent(new, to) - unit_exponent(key, from)))
}

/// One histogram bin: how many values fell in it and their exact sum, as
/// an integer count of the bin's unit (a tiny bin's sum is kept apart).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bin {
    /// Values in the bin.
    pub count: u64,
    /// Sum of the values' signed mantissas at the bin's unit, an `i128`
    /// kept as two words (a bin is 24 bytes, not 32 with an `i128`'s
    /// alignment).
    mantissas: [u64; 2],
}

impl Bin {
    /// A bin of `count` values whose mantissas sum to `mantissas`.
    pub(in crate::stats) fn new(count: u64, mantissas: i128) -> Bin {
        Bin {
            count,
            mantissas: [mantissas as u64, (mantissas >> 64) as u64],
        }
    }

    /// The sum of the values' signed mantissas.
    pub(in crate::stats) fn mantissas(&self) -> i128 {
        (i128::from(self.mantissas[1] as i64) << 64) | i128::from(self.mantissas[0])
    }

    /// Adds `count` values whose mantissas sum to `mantissas`.
    pub(super) fn add(&mut self, count: u64, mantissas: i128) {
        *self = Bin::new(self.count + count, self.mantissas() + mantissas);
    }
}
