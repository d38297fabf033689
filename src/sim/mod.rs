//! Monte Carlo simulation: random streams, the per-replication kernel, and
//! the parallel engine.

pub mod engine;
pub mod measure;
pub mod parallel;
pub mod parameters;
pub mod participants;
pub mod portfolio;
pub mod record;
pub mod replication;
pub mod reviews;
pub mod rng;
