//! Jobs: what a command does, from a checked scenario to results, in one
//! call per command. The command line, the README generator and any other
//! front end call this layer and only print what it returns.

pub mod bench;
pub mod commands;
pub mod estimate;
pub mod fit;
pub mod job;
pub mod simulate;
pub mod solve;
pub mod sweep;
pub mod tornado;
pub mod voi;
