//! Volume risk and reviews (model.md §12): how many children each wave
//! enrols, and what the contract's reviews decide, each on its own keyed
//! stream so that switching them on moves no other draw.

use super::rng::{stream_for, Purpose};
use crate::model::Enrolment;
use rand_distr::{Beta, Binomial, Distribution};

/// Each wave's enrolled children: s ~ Beta(mean, sd) once for the contract,
/// then Binomial(planned, s) per wave, in file order.
pub fn enrolled(enrolment: &Enrolment, planned: &[u64], seed: u64, contract: u64, replication: u64) -> Vec<u64> {
    let mut out = Vec::with_capacity(planned.len());
    enrolled_into(enrolment, planned, seed, contract, replication, &mut out);
    out
}

/// [`enrolled`] written into `out` (cleared first), keeping its buffer.
pub fn enrolled_into(
    enrolment: &Enrolment,
    planned: &[u64],
    seed: u64,
    contract: u64,
    replication: u64,
    out: &mut Vec<u64>,
) {
    out.clear();
    let mut rng = stream_for(seed, contract, replication, Purpose::Enrolment);
    let share = match enrolment.beta_parameters() {
        // Valid by validation; the mean if the distribution ever refused.
        Some((alpha, beta)) => Beta::new(alpha, beta).map_or(enrolment.mean, |d| d.sample(&mut rng)),
        None => enrolment.mean,
    };
    out.extend(planned.iter().map(|&children| {
        if share >= 1.0 {
            children
        } else {
            Binomial::new(children, share.max(0.0)).map_or(0, |d| d.sample(&mut rng))
        }
    }));
}

/// The stream of whether each review acts by chance: one uniform `f64`
/// per review, in review order, drawn for every review.
pub fn chances(seed: u64, contract: u64, replication: u64) -> rand_chacha::ChaCha8Rng {
    stream_for(seed, contract, replication, Purpose::Reviews)
}

/// What the reviews of one replication decided.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Decisions {
    /// Waves entering after this cycle never start.
    pub enrolment_cutoff: Option<usize>,
    /// A `stop_enrolment` review acted.
    pub enrolment_stopped: bool,
    /// Terminated at the end of this cycle, the payer paying this share of
    /// the capital called to date.
    pub terminated: Option<(usize, f64)>,
}

impl Decisions {
    /// Whether wave entering at `entry` never starts.
    pub fn cancels(&self, entry: usize) -> bool {
        self.enrolment_cutoff.is_some_and(|cutoff| entry > cutoff)
    }

    /// Records a cut-off of enrolment after `at`.
    pub fn cut_enrolment(&mut self, at: usize) {
        self.enrolment_cutoff = Some(self.enrolment_cutoff.map_or(at, |c| c.min(at)));
    }
}
