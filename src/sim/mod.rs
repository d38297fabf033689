//! Monte Carlo simulation: random streams, the per-replication kernel, and
//! the parallel engine.

pub mod engine;
pub mod parallel;
pub mod parameters;
pub mod portfolio;
pub mod record;
pub mod replication;
pub mod rng;
