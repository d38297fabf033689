//! Random streams keyed by what they mean.
//!
//! Every draw comes from a ChaCha8 stream whose key is (seed, purpose) and
//! whose 64-bit stream number is the replication index; positions inside a
//! stream are fixed by meaning too (child, cycle). So results do not depend on
//! threads, on shards, on which metrics are asked for, or on whether other
//! kinds of randomness are switched on.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Name of the generator, written into every result.
pub const RNG_ALGORITHM: &str = "ChaCha8 (rand_chacha 0.9), key = (seed, purpose), stream = replication";

/// What a stream is used for; each purpose has its own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// The treated children's trajectories: one uniform per child per cycle,
    /// shared by both arms (common random numbers).
    Trajectories = 1,
    /// The comparison group of a control-group contract.
    ControlGroup = 2,
    /// Parameter draws under uncertainty.
    Parameters = 3,
    /// The systemic shock path (shared by every contract of a portfolio).
    Shock = 4,
    /// Relative risks under uncertainty.
    Effects = 5,
    /// State costs under uncertainty.
    Costs = 6,
    /// Resampling in the analysis of finished runs (value of information's
    /// bootstrap and permutations), never in a simulation.
    Analysis = 7,
    /// Volume risk: each contract's enrolled share and each wave's enrolment.
    Enrolment = 8,
    /// Reviews that act by chance (policy change, payer default).
    Reviews = 9,
    /// The sampler of `calibrate --targets` (never in a simulation).
    Calibration = 10,
    /// Which draw of a fitted baseline posterior a replication takes.
    Posterior = 11,
    /// Risk multipliers of a derived baseline (`[[baseline.risk]]`).
    Risk = 12,
}

/// The stream for (seed, replication, purpose) of a single scenario.
pub fn stream(seed: u64, replication: u64, purpose: Purpose) -> ChaCha8Rng {
    stream_for(seed, 0, replication, purpose)
}

/// The stream for (seed, contract, replication, purpose): contract c of a
/// portfolio (0-based) has streams of its own; contract 0's are those of the
/// same scenario run alone.
pub fn stream_for(seed: u64, contract: u64, replication: u64, purpose: Purpose) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(purpose as u64).to_le_bytes());
    key[16..24].copy_from_slice(b"sibsim\0\0");
    key[24..32].copy_from_slice(&contract.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(replication);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn streams_differ_by_each_key_part() {
        let a = stream(1, 0, Purpose::Trajectories).next_u64();
        assert_ne!(a, stream(2, 0, Purpose::Trajectories).next_u64());
        assert_ne!(a, stream(1, 1, Purpose::Trajectories).next_u64());
        assert_ne!(a, stream(1, 0, Purpose::ControlGroup).next_u64());
        assert_eq!(a, stream(1, 0, Purpose::Trajectories).next_u64());
    }

    #[test]
    fn word_position_addresses_a_draw() {
        let mut r = stream(7, 3, Purpose::Trajectories);
        let words: Vec<u32> = (0..40).map(|_| r.next_u32()).collect();
        let mut r = stream(7, 3, Purpose::Trajectories);
        r.set_word_pos(37);
        assert_eq!(r.next_u32(), words[37]);
    }
}
