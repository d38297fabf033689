//! A batch's exact sum in fixed point: every double below 2^[`BELOW_EXPONENT`]
//! is an integer multiple of 2⁻¹⁰⁷⁴, so a batch of them adds exactly as
//! integers in 32-bit chunks (Neal's "small superaccumulator",
//! arXiv:1505.05571), O(1) an addition. The batch then joins an
//! [`ExactSum`] as a few chunk-sized parts, where adding each value to the
//! partials took a pass over them. The exact sum is the same, so every
//! figure read from it is the same to the bit.

use super::bins::pow2;
use super::ExactSum;

/// Doubles of magnitude 2^this and up (and the non-finite) are not taken:
/// the caller adds them to the [`ExactSum`] itself. Chunks then never
/// overflow below [`MOST_ADDS`] additions, and every drained part is finite.
const BELOW_EXPONENT: i32 = 848;

/// Values of magnitude within 2^±this square exactly into the chunks (the
/// square stays well above 2⁻¹⁰⁷⁴ and below 2^[`BELOW_EXPONENT`]).
const SQUARED_EXPONENT: i32 = 400;

/// The exponent of a double's smallest unit (the least subnormal).
const UNIT_EXPONENT: i32 = -1074;

/// Bits a chunk holds once carried; the other 32 of its `i64` take the
/// carries of up to 2³¹ additions.
const CHUNK_BITS: u32 = 32;

/// Chunks from 2⁻¹⁰⁷⁴ up to the carry above a batch of the largest values.
const CHUNKS: usize = 64;

/// Additions a sum takes before it must be drained.
pub(super) const MOST_ADDS: usize = 1 << 30;

/// An exact sum of at most [`MOST_ADDS`] doubles below 2^[`BELOW_EXPONENT`].
pub(super) struct FixedSum {
    /// `chunks[i]` counts units of 2^(32·i − 1074), signed, not yet carried.
    chunks: [i64; CHUNKS],
}

impl FixedSum {
    /// Zero.
    pub(super) fn new() -> FixedSum {
        FixedSum { chunks: [0; CHUNKS] }
    }

    /// Adds `x` exactly and says so, or leaves it (non-finite, or of
    /// magnitude 2^[`BELOW_EXPONENT`] or more) and returns false.
    #[inline]
    pub(super) fn add(&mut self, x: f64) -> bool {
        let bits = x.to_bits();
        let biased = (bits >> 52 & 0x7ff) as i32;
        if biased >= 1023 + BELOW_EXPONENT {
            return false;
        }
        let fraction = bits & ((1 << 52) - 1);
        // x = ±mantissa · 2^exponent, exponent ≥ −1074.
        let (mantissa, exponent) = if biased == 0 {
            (fraction, UNIT_EXPONENT)
        } else {
            (fraction | 1 << 52, biased - 1075)
        };
        let position = (exponent - UNIT_EXPONENT) as u32;
        let index = (position / CHUNK_BITS) as usize;
        let wide = u128::from(mantissa) << (position % CHUNK_BITS);
        let mask = (1u128 << CHUNK_BITS) - 1;
        let pieces = [wide & mask, wide >> CHUNK_BITS & mask, wide >> (2 * CHUNK_BITS)].map(|p| p as i64);
        let negative = bits >> 63 == 1;
        for (chunk, piece) in self.chunks[index..index + 3].iter_mut().zip(pieces) {
            *chunk += if negative { -piece } else { piece };
        }
        true
    }

    /// Adds `v`² exactly and says so, or leaves it (zero, non-finite, or of
    /// magnitude outside 2^±[`SQUARED_EXPONENT`]) and returns false: the
    /// square of the 53-bit mantissa is an integer of at most 106 bits, so
    /// it joins the chunks without the rounded product and its error term
    /// (an FMA the portable build calls as a library function, once a value,
    /// which measured as much as the rest of this sum).
    #[inline]
    pub(super) fn add_square(&mut self, v: f64) -> bool {
        let bits = v.to_bits();
        let biased = (bits >> 52 & 0x7ff) as i32;
        if (biased - 1023).abs() > SQUARED_EXPONENT {
            return false;
        }
        let mantissa = u128::from(bits & ((1 << 52) - 1) | 1 << 52);
        // v² = mantissa² · 2^(2·exponent), exponent = biased − 1075.
        let position = (2 * (biased - 1075) - UNIT_EXPONENT) as u32;
        let index = (position / CHUNK_BITS) as usize;
        let shift = position % CHUNK_BITS;
        let square = mantissa * mantissa;
        let mask = (1u128 << CHUNK_BITS) - 1;
        // Below 2^95 and 2^73 once shifted: neither overflows.
        let low = (square & u128::from(u64::MAX)) << shift;
        let high = (square >> 64) << shift;
        // Each chunk gains less than 2^33 (two pieces below 2^32 at most),
        // as two `add`s would: the bound of MOST_ADDS / 2 values holds.
        let pieces = [
            low & mask,
            low >> CHUNK_BITS & mask,
            (low >> (2 * CHUNK_BITS)) + (high & mask),
            high >> CHUNK_BITS & mask,
            high >> (2 * CHUNK_BITS),
        ];
        for (chunk, piece) in self.chunks[index..index + 5].iter_mut().zip(pieces) {
            *chunk += piece as i64;
        }
        true
    }

    /// Adds this sum to `sum` exactly, as one part a chunk (after the
    /// carries, each part is below 2³² of its unit, so exact as a double),
    /// and empties it.
    pub(super) fn drain_into(&mut self, sum: &mut ExactSum) {
        for i in 0..CHUNKS - 1 {
            let carry = self.chunks[i] >> CHUNK_BITS;
            self.chunks[i] -= carry << CHUNK_BITS;
            self.chunks[i + 1] += carry;
        }
        for (i, chunk) in self.chunks.iter_mut().enumerate() {
            if *chunk != 0 {
                sum.add(*chunk as f64 * pow2(CHUNK_BITS as i32 * i as i32 + UNIT_EXPONENT));
                *chunk = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{add_exactly, two_product};
    use super::*;

    /// Adds through a `FixedSum` where it takes the value, directly otherwise.
    fn through_fixed(values: &[f64]) -> ExactSum {
        let (mut fixed, mut sum) = (FixedSum::new(), ExactSum::new());
        for &v in values {
            if !fixed.add(v) {
                sum.add(v);
            }
        }
        fixed.drain_into(&mut sum);
        sum
    }

    fn direct(values: &[f64]) -> ExactSum {
        let mut sum = ExactSum::new();
        values.iter().for_each(|&v| sum.add(v));
        sum
    }

    #[test]
    fn the_same_exact_sum_as_the_partials() {
        let cases: Vec<Vec<f64>> = vec![
            vec![],
            vec![1.0, -1.0],
            vec![0.1, 0.2, 0.3, -0.6],
            vec![1e300, 1.0, -1e300],
            vec![
                f64::from_bits(1),
                f64::from_bits(1),
                -f64::from_bits(3),
                2f64.powi(-1022),
            ],
            vec![2f64.powi(847) * 1.5, -2f64.powi(847), 3.0e-310, -1e-200, 7.0],
            vec![f64::MAX, 1.0, f64::INFINITY, -5.0],
            vec![-0.0, 0.0, -1e-320],
            (0..5000)
                .map(|i| ((i * 7919) % 1000) as f64 * 1.0001f64.powi(i) - 480.0)
                .collect(),
        ];
        for values in &cases {
            let (a, b) = (through_fixed(values), direct(values));
            assert_eq!(a.canonical(), b.canonical(), "{values:?}");
            assert_eq!(a.value().to_bits(), b.value().to_bits());
        }
    }

    /// Squares added whole are the exact sums of the two-product parts
    /// the other path adds (values inside and just outside the range, and
    /// those the caller must take).
    #[test]
    fn squares_add_exactly() {
        let edge = pow2(SQUARED_EXPONENT);
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -3.0,
            0.1,
            1e6 / 3.0,
            -2.5e5 * 0.7,
            f64::from_bits(1),
            1e-300,
        ];
        for base in [edge, 1.0 / edge, 2.0 * edge, 0.5 / edge] {
            values.extend([base, -base, base * (2.0 - f64::EPSILON), base * (1.0 + f64::EPSILON)]);
        }
        values.extend((0..3000).map(|i| ((i * 7919) % 1000) as f64 * 1.0001f64.powi(i) - 480.0));
        let (mut whole, mut parts) = (FixedSum::new(), FixedSum::new());
        let (mut whole_sum, mut parts_sum) = (ExactSum::new(), ExactSum::new());
        let mut taken = 0;
        for &v in &values {
            let (square, error) = two_product(v, v);
            for part in [square, error] {
                add_exactly(&mut parts, &mut parts_sum, part);
            }
            if whole.add_square(v) {
                taken += 1;
            } else {
                for part in [square, error] {
                    add_exactly(&mut whole, &mut whole_sum, part);
                }
            }
        }
        assert!(taken > 3000 && taken < values.len(), "{taken} of {}", values.len());
        whole.drain_into(&mut whole_sum);
        parts.drain_into(&mut parts_sum);
        assert_eq!(whole_sum.canonical(), parts_sum.canonical());
        assert!(!FixedSum::new().add_square(2.0 * edge));
        assert!(FixedSum::new().add_square(edge * (2.0 - f64::EPSILON)));
        assert!(!FixedSum::new().add_square(f64::NAN));
    }

    #[test]
    fn large_and_non_finite_values_are_left_to_the_caller() {
        let mut fixed = FixedSum::new();
        assert!(!fixed.add(f64::NAN));
        assert!(!fixed.add(f64::NEG_INFINITY));
        assert!(!fixed.add(2f64.powi(BELOW_EXPONENT)));
        assert!(fixed.add(-2f64.powi(BELOW_EXPONENT - 1) * 1.999));
        assert!(fixed.add(f64::from_bits(1)));
    }

    #[test]
    fn many_additions_carry_exactly() {
        // 2^20 copies of a value whose pieces fill every bit of their chunks.
        let v = f64::from_bits(0x7fe0_0000_0000_0000 - (1 << 62) + 0xf_ffff_ffff_ffff);
        let mut fixed = FixedSum::new();
        for _ in 0..1 << 20 {
            assert!(fixed.add(v));
        }
        let mut sum = ExactSum::new();
        fixed.drain_into(&mut sum);
        assert_eq!(sum.value(), v * (1u64 << 20) as f64);
    }
}
