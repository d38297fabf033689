//! Runs split across processes and machines: the shard file format, the
//! merge that turns shards back into exactly an unsharded run's results, and
//! Slurm scripts that run the shards as a job array.

pub mod shard;
pub mod slurm;
