//! A compact little-endian encoding of a [`RunState`], for shard files.
//!
//! Its size depends on the statistics, the horizon and how many histogram
//! bins the values touched, not on the number of replications. Decoding
//! treats the bytes as untrusted: every length, count and sum is checked
//! against what the shard's description allows before it is used, so that
//! merging hostile shards can neither panic nor overflow.

use super::accumulate::bins::{
    bin_floor_mantissa, floor_of_bin, holds_mantissas, infinite_key, is_bin, is_tiny, mantissa_width, HIGHEST_FLOOR,
    LOWEST_FLOOR,
};
use super::accumulate::{Accumulator, Bin, Comoments, ExactSum};
use super::state::RunState;

/// More partials than an exact sum of finite doubles ever needs.
const PARTIALS_LIMIT: u64 = 128;

/// The largest partial accepted (far above any sum of statistics, far
/// enough below overflow that adding partials stays finite).
const PARTIAL_LIMIT: f64 = 1e290;

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

/// LEB128: seven bits a byte, low first, the high bit set on all but the last.
fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Zig-zag: small magnitudes of either sign become small unsigned numbers.
fn zigzag(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

fn unzigzag(v: u128) -> i128 {
    ((v >> 1) as i128) ^ -((v & 1) as i128)
}

fn put_sum(out: &mut Vec<u8>, sum: &ExactSum) {
    // Canonical, so that a shard re-run on other threads is the same bytes.
    let sum = sum.canonical();
    put_f64(out, sum.special);
    put_u64(out, sum.partials.len() as u64);
    sum.partials.iter().for_each(|&p| put_f64(out, p));
}

fn put_accumulator(out: &mut Vec<u8>, a: &Accumulator) {
    let a = a.binned();
    put_u64(out, a.n);
    put_f64(out, a.min);
    put_f64(out, a.max);
    // The sum is written (the format has it), and derived from the bins when read.
    put_sum(out, &a.sum());
    put_sum(out, &a.squares);
    put_varint(out, zigzag(i128::from(a.floor)));
    // Bins as varints: the gap to the previous key, the count, and the
    // mantissa sum's distance from count × the bin's smallest mantissa
    // (small, since a bin's values share their leading bits).
    put_u64(out, a.bins.len() as u64);
    let mut previous = before_first_key();
    for (key, bin) in &a.bins {
        put_varint(out, key.abs_diff(previous) as u128);
        put_varint(out, u128::from(bin.count));
        put_varint(out, zigzag(bin.mantissas() - base(*key, a.floor, bin.count)));
        previous = *key;
    }
    a.tiny.iter().for_each(|sum| put_sum(out, sum));
}

fn put_comoments(out: &mut Vec<u8>, c: &Comoments) {
    let c = c.flushed();
    put_u64(out, c.n);
    for sum in [&c.x, &c.y, &c.xx, &c.yy, &c.xy] {
        put_sum(out, sum);
    }
}

/// The state's bytes.
pub fn encode(state: &RunState) -> Vec<u8> {
    let mut out = Vec::new();
    put_u64(&mut out, state.replications);
    state.statistics.iter().for_each(|a| put_accumulator(&mut out, a));
    state.events.iter().for_each(|&k| put_u64(&mut out, k));
    for a in state.investor_paths.iter().chain(&state.payer_paths) {
        put_accumulator(&mut out, a);
    }
    state.payment_pairs.iter().for_each(|c| put_comoments(&mut out, c));
    out
}

/// Below every bin's key (that of −∞): where key gaps are counted from.
fn before_first_key() -> i64 {
    -infinite_key() - 1
}

/// `count` × the signed mantissa of bin `key`'s smallest magnitude at
/// `floor` (0 for bins that keep no mantissas): what a bin's mantissa sum
/// is stored relative to.
fn base(key: i64, floor: i32, count: u64) -> i128 {
    if !holds_mantissas(key, floor) {
        return 0;
    }
    bin_floor_mantissa(key, floor) * i128::from(count)
}

/// Reads fields off the front of untrusted bytes.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let (head, rest) = self.bytes.split_first_chunk::<N>().ok_or("the state ends early")?;
        self.bytes = rest;
        Ok(*head)
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    fn varint(&mut self) -> Result<u128, String> {
        let mut v: u128 = 0;
        for shift in (0..128).step_by(7) {
            let [byte] = self.take::<1>()?;
            v |= u128::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number longer than 128 bits".to_string())
    }

    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(u64::from_le_bytes(self.take()?)))
    }

    fn sum(&mut self) -> Result<ExactSum, String> {
        let special = self.f64()?;
        let len = self.u64()?;
        if len > PARTIALS_LIMIT {
            return Err(format!("an exact sum with {len} partials"));
        }
        let mut partials = Vec::with_capacity(len as usize);
        for _ in 0..len {
            let p = self.f64()?;
            if !p.is_finite() || p.abs() > PARTIAL_LIMIT {
                return Err(format!("a partial sum of {p}"));
            }
            partials.push(p);
        }
        Ok(ExactSum { partials, special })
    }

    /// An accumulator of at most `most` values.
    fn accumulator(&mut self, most: u64) -> Result<Accumulator, String> {
        let n = self.u64()?;
        let (min, max) = (self.f64()?, self.f64()?);
        if n > most {
            return Err(format!("{n} values in a shard of {most} replications"));
        }
        if n > 0 && (min.is_nan() || max.is_nan() || min > max) {
            return Err("a statistic's minimum is above its maximum".to_string());
        }
        let (sum, squares) = (self.sum()?, self.sum()?);
        let floor = i32::try_from(unzigzag(self.varint()?))
            .ok()
            .filter(|f| (LOWEST_FLOOR..=HIGHEST_FLOOR).contains(f))
            .ok_or("a histogram floor out of range")?;
        let bins = self.u64()?;
        if bins > n {
            return Err(format!("{bins} histogram bins for {n} values"));
        }
        let mut accumulator = Accumulator {
            n,
            squares,
            min,
            max,
            floor,
            ..Accumulator::default()
        };
        let mut counted: u64 = 0;
        let mut previous = before_first_key();
        let mut asked = LOWEST_FLOOR;
        for _ in 0..bins {
            let gap = i64::try_from(self.varint()?).map_err(|_| "a histogram key out of range")?;
            let key = previous.checked_add(gap).ok_or("a histogram key out of range")?;
            let count = u64::try_from(self.varint()?).map_err(|_| "a histogram count out of range")?;
            if count == 0 || count > n {
                return Err(format!("a histogram bin of {count} values"));
            }
            if !is_bin(key, floor) {
                return Err(format!("histogram bin {key} is not a bin a run writes"));
            }
            let base = base(key, floor, count);
            let mantissas = unzigzag(self.varint()?)
                .checked_add(base)
                .ok_or("a histogram sum out of range")?;
            // Every value of a bin lies in it, so the mean of the bin's
            // mantissas does too (and later sums stay far from overflow).
            let lowest = base.unsigned_abs();
            let highest = if holds_mantissas(key, floor) {
                lowest + u128::from(count) * mantissa_width(key, floor)
            } else {
                0
            };
            let magnitude = mantissas.unsigned_abs();
            let signed = mantissas == 0 || (mantissas < 0) == (key < 0);
            if key <= previous || !signed || magnitude < lowest || magnitude > highest {
                return Err(format!("histogram bin {key} is not a bin a run writes"));
            }
            counted = counted.checked_add(count).ok_or("histogram counts overflow")?;
            previous = key;
            asked = asked.max(floor_of_bin(key, floor));
            accumulator.bins.push((key, Bin::new(count, mantissas)));
        }
        if counted != n {
            return Err(format!("histogram bins hold {counted} values, the statistic {n}"));
        }
        if asked != floor {
            return Err(format!(
                "a histogram floor of 2^{floor} where its values ask for 2^{asked}"
            ));
        }
        for (side, key) in [(0, -1), (1, 1)] {
            let tiny = self.sum()?;
            let held = accumulator
                .bins
                .iter()
                .any(|(k, _)| k.signum() == key && is_tiny(*k, floor));
            if tiny.special != 0.0 || (!held && !tiny.partials.is_empty()) {
                return Err("a histogram's tiny bin sum is not one a run writes".to_string());
            }
            accumulator.tiny[side] = tiny;
        }
        // The bins hold the sum; the one written must be theirs.
        let (written, held) = (sum.canonical(), accumulator.sum().canonical());
        if written.partials() != held.partials() || written.value().to_bits() != held.value().to_bits() {
            return Err("a statistic's sum differs from its histogram's".to_string());
        }
        Ok(accumulator)
    }

    fn comoments(&mut self, most: u64) -> Result<Comoments, String> {
        let n = self.u64()?;
        if n > most {
            return Err(format!("{n} pairs in a shard of {most} replications"));
        }
        Ok(Comoments {
            n,
            x: self.sum()?,
            y: self.sum()?,
            xx: self.sum()?,
            yy: self.sum()?,
            xy: self.sum()?,
            pending: Vec::new(),
        })
    }
}

/// Fills `empty` (a state made for the shard's names, events and horizon)
/// from `bytes`, which must hold exactly `replications` replications.
///
/// # Errors
/// A sentence saying what in the bytes is not what a run writes.
pub fn decode(bytes: &[u8], mut empty: RunState, replications: u64) -> Result<RunState, String> {
    let mut r = Reader { bytes };
    let announced = r.u64()?;
    if announced != replications {
        return Err(format!(
            "the state holds {announced} replications, the shard {replications}"
        ));
    }
    empty.replications = replications;
    for a in empty.statistics.iter_mut() {
        *a = r.accumulator(replications)?;
    }
    for k in empty.events.iter_mut() {
        *k = r.u64()?;
        if *k > replications {
            return Err(format!("an event happened {k} times in {replications} replications"));
        }
    }
    for a in empty.investor_paths.iter_mut().chain(empty.payer_paths.iter_mut()) {
        // A fan keeps no squares: any a shard carries (an older sibsim's)
        // are dropped, so that states merged from any shards are equal.
        let quantiles_only = !a.keeps_moments();
        *a = r.accumulator(replications)?;
        if quantiles_only {
            a.drop_moments();
        }
    }
    for c in empty.payment_pairs.iter_mut() {
        *c = r.comoments(replications)?;
    }
    if !r.bytes.is_empty() {
        return Err(format!("{} bytes after the state", r.bytes.len()));
    }
    Ok(empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> RunState {
        let names = vec!["a".to_string(), "contracts.x.payer.payments".to_string()];
        let names = [names, vec!["contracts.y.payer.payments".to_string()]].concat();
        let mut s = RunState::new("s", 1, names, vec!["e".to_string()], 2, 2020.0, 1.0);
        for k in 0..50 {
            let x = f64::from(k);
            s.add(&[x * 0.1, -x, f64::NAN], &[k % 3 == 0], &[x, 2.0 * x], &[1e6 - x, 0.0]);
        }
        s
    }

    fn empty() -> RunState {
        let s = state();
        RunState::new("s", 1, s.names, s.event_names, 2, 2020.0, 1.0)
    }

    #[test]
    fn a_bin_whose_sum_lies_outside_it_or_a_wrong_floor_is_refused() {
        let mut s = state();
        s.flush();
        assert!(decode(&encode(&s), empty(), 50).is_ok());
        let a = &s.statistics[0];
        let at = a
            .bins
            .iter()
            .position(|(k, _)| holds_mantissas(*k, a.floor))
            .expect("a bin with a sum");
        let (key, bin) = a.bins[at];
        let wide = i128::try_from(mantissa_width(key, a.floor)).expect("small") * i128::from(bin.count);
        for outside in [wide + 1, -(bin.mantissas() - 1)] {
            let mut bad = s.clone();
            bad.statistics[0].bins[at].1 = Bin::new(bin.count, bin.mantissas() + outside);
            let refused = decode(&encode(&bad), empty(), 50).expect_err("refused");
            assert!(refused.contains("not a bin a run writes"), "{refused}");
        }
        let mut bad = s.clone();
        bad.statistics[0].floor -= 1;
        assert!(decode(&encode(&bad), empty(), 50).is_err());
    }

    #[test]
    fn a_state_reads_back_exactly() {
        let s = state();
        let bytes = encode(&s);
        let back = decode(&bytes, empty(), 50).expect("decodes");
        assert_eq!(encode(&back), bytes);
        // Debug text: equal NaNs (an undefined correlation) compare equal.
        let summary = |state: &RunState| format!("{:?}", crate::stats::RunSummary::from_state(state, &[]));
        assert_eq!(summary(&back), summary(&s));
    }

    #[test]
    fn a_fan_read_back_keeps_no_squares() {
        let s = state();
        assert!(s
            .investor_paths
            .iter()
            .all(|a| !a.keeps_moments() && a.squares.partials().is_empty()));
        // A shard whose fans carry squares (as an older sibsim wrote them)
        // reads back as the same state as one without.
        let mut with_squares = s.clone();
        for (k, a) in with_squares.investor_paths.iter_mut().enumerate() {
            let values: Vec<f64> = (0..50).map(|r| f64::from(r) * (k + 1) as f64).collect();
            *a = Accumulator::of(&values);
        }
        let back = decode(&encode(&with_squares), empty(), 50).expect("decodes");
        assert!(back.investor_paths.iter().all(|a| !a.keeps_moments()));
        assert_eq!(back, s);
    }

    #[test]
    fn the_bytes_do_not_depend_on_how_replications_were_grouped() {
        let whole = state();
        // The same 50 replications as 7 uneven states merged in reverse.
        let mut parts: Vec<RunState> = (0..7).map(|_| empty()).collect();
        for k in 0..50 {
            let x = f64::from(k);
            parts[(k * k % 7) as usize].add(&[x * 0.1, -x, f64::NAN], &[k % 3 == 0], &[x, 2.0 * x], &[1e6 - x, 0.0]);
        }
        let mut merged = empty();
        parts.iter().rev().for_each(|p| merged.merge(p));
        assert_eq!(encode(&merged), encode(&whole));
    }

    #[test]
    fn damaged_states_are_refused_without_panicking() {
        let bytes = encode(&state());
        assert!(decode(&bytes, empty(), 49).is_err());
        assert!(decode(&bytes[..bytes.len() - 1], empty(), 50).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, empty(), 50).is_err());
        // Every single-byte change either fails or decodes to some state:
        // it never panics.
        for at in (0..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[at] ^= 0xa5;
            let _ = decode(&bad, empty(), 50);
        }
    }
}
