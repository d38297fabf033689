//! sibsim: a Monte Carlo engine for Social Impact Bonds.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod model;
pub mod scenario;
