//! # sibsim: a Monte Carlo engine for Social Impact Bonds
//!
//! A Social Impact Bond pays investors back only for measured results. sibsim
//! draws cohort trajectories of children through calibrated transition
//! probabilities, in two arms — `baseline` (no programme) and `intervention`
//! — with common random numbers, and reports the distributions of what the
//! outcome payer saves and what investors get back.
//!
//! The pipeline, one module per stage, each using only the ones before it
//! (see `docs/architecture.md`):
//! [`model`] (the validated types, the transition schedule, linear
//! accounts, exact expectation, output names) ← [`scenario`] (TOML →
//! checked [`model::Scenario`]) ← [`contract`] and [`fund`] (what the terms
//! pay, the fund's cash flows) ← [`sim`] (parallel, reproducible
//! replications) ← [`stats`] (every number computed from replications) ←
//! [`report`] (one exporter per output format) ← [`cluster`] (shards, merge,
//! Slurm) ← [`run`] (one call per command: what the CLI and any other front
//! end call).
//!
//! ```
//! let text = r#"
//! name = "demo"
//! [time]
//! cycle_years = 1.0
//! horizon = 5
//! [[states]]
//! name = "home"
//! [[states]]
//! name = "care"
//! cost = 40000.0
//! [cohort]
//! [[cohort.waves]]
//! children = 100
//! age = 7
//! initial = { home = 1.0 }
//! [baseline]
//! matrix = [[0.9, 0.1], [0.2, 0.8]]
//! [intervention]
//! duration = 5
//! [[intervention.effects]]
//! relative_risk = 0.5
//! targets = ["care"]
//! [[metrics]]
//! name = "care_years"
//! kind = "state_cycles"
//! states = ["care"]
//! "#;
//! let scenario = sibsim::scenario::parse(text, "demo.toml").unwrap();
//! let engine = sibsim::sim::engine::Engine::new(scenario);
//! let exact = engine.expected();
//! let results = engine.run(&sibsim::sim::parallel::RunOptions::new(42, 200)).unwrap();
//! let mean = sibsim::stats::Summary::of(results.column("arm.baseline.care_years").unwrap()).unwrap();
//! let expected = exact.metrics[0].1[0];
//! assert!((mean.mean - expected).abs() < 5.0 * mean.se);
//! ```
//!
//! Every random draw comes from a ChaCha8 stream keyed by (seed, purpose) and
//! numbered by replication, at a word position fixed by (child, cycle): the
//! same seed gives bitwise the same results on any number of threads.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cluster;
pub mod contract;
pub mod error;
pub mod files;
pub mod fund;
pub mod model;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod stats;
