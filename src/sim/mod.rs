//! Monte Carlo simulation: random streams, the per-replication kernel, and
//! the parallel engine.

pub mod engine;
pub mod replication;
pub mod rng;
