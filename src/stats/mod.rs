//! Statistics: every number computed from replications, with its Monte
//! Carlo standard error where one exists.

pub mod accumulate;
pub mod codec;
pub mod distributions;
pub mod fit;
pub mod information;
pub mod run;
pub mod state;
pub mod summary;
pub mod target;

pub use run::RunSummary;
pub use state::{PendingRows, RunState};
pub use summary::{expected_shortfall, quantile_sorted, Probability, Summary};
