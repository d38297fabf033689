//! Shards: a run split into contiguous ranges of replication indices, each
//! written as mergeable partial results, and merged into exactly the summary
//! an unsharded run writes.
//!
//! Quantiles are exact order statistics, so a shard keeps every
//! replication's values (not a sketch): `shard.json` holds what the shard is
//! (scenario digest, seed, engine version, its range) and `shard.bin` the
//! values, little-endian f64, one replication after another.

use super::{write_folder, ENGINE_VERSION};
use crate::error::{Error, InputError, Result};
use crate::sim::engine::RunResults;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format tag of `shard.json`.
pub const FORMAT: &str = "sibsim-shard-1";

/// Replication range of shard `index` (1-based) of `count` over `total`:
/// the I-th of N contiguous slices.
pub fn range(index: u64, count: u64, total: u64) -> (u64, u64) {
    let start = ((index - 1) as u128 * total as u128 / count as u128) as u64;
    let end = (index as u128 * total as u128 / count as u128) as u64;
    (start, end)
}

/// Parses `I/N` with 1 ≤ I ≤ N.
///
/// # Errors
/// An [`InputError`] naming `--shard` when the text is not `I/N`.
pub fn parse_spec(text: &str) -> std::result::Result<(u64, u64), InputError> {
    let bad = || {
        InputError::new(
            "--shard",
            "",
            format!("`{text}` is not a shard; expected I/N with 1 ≤ I ≤ N, e.g. 2/4"),
        )
    };
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let i: u64 = i.trim().parse().map_err(|_| bad())?;
    let n: u64 = n.trim().parse().map_err(|_| bad())?;
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// What a shard is: everything merge checks, and what the summary needs
/// besides the replication values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardMeta {
    /// [`FORMAT`].
    pub format: String,
    /// Scenario name.
    pub scenario: String,
    /// The scenario file as given on the command line.
    pub scenario_path: String,
    /// Digest of the scenario text and overrides.
    pub scenario_digest: String,
    /// Master seed.
    pub seed: u64,
    /// Engine version that wrote it.
    pub engine_version: String,
    /// Replications of the whole run.
    pub replications: u64,
    /// 1-based shard index.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
    /// First replication index (inclusive).
    pub first: u64,
    /// Last replication index (exclusive).
    pub end: u64,
    /// Statistic names.
    pub names: Vec<String>,
    /// Event names.
    pub event_names: Vec<String>,
    /// Cycles (length of the cash-flow paths).
    pub horizon: usize,
    /// Calendar label of cycle 0.
    pub start_year: f64,
    /// Years per cycle.
    pub cycle_years: f64,
    /// Exact expectations, as in the summary.
    pub expected: Vec<(String, f64)>,
    /// Whether replications.csv is wanted.
    pub keep_replications: bool,
    /// The run's `--set` overrides (KEY, VALUE), for the re-run command.
    #[serde(default)]
    pub sets: Vec<(String, String)>,
    /// Scenario description, for the report.
    pub description: String,
    /// Key terms, for the report.
    pub terms: Vec<(String, String)>,
}

/// Folder name of a shard.
pub fn folder_name(scenario: &str, index: u64, count: u64) -> String {
    format!("{scenario}.shard-{index}-of-{count}")
}

/// Writes one shard's results atomically into `parent/<name>.shard-I-of-N/`.
///
/// # Errors
/// [`Error::Io`] when writing fails.
pub fn write(parent: &Path, meta: &ShardMeta, results: &RunResults) -> Result<PathBuf> {
    let json = serde_json::to_vec_pretty(meta).map_err(|e| Error::Runtime(e.to_string()))?;
    let mut bin = Vec::new();
    for r in 0..results.replications() as usize {
        for column in &results.columns {
            bin.extend_from_slice(&column[r].to_le_bytes());
        }
        for column in &results.events {
            bin.push(column[r] as u8);
        }
        for path in results.investor_paths.iter().chain(&results.payer_paths) {
            bin.extend_from_slice(&path[r].to_le_bytes());
        }
    }
    write_folder(
        parent,
        &folder_name(&meta.scenario, meta.index, meta.count),
        &[("shard.json".to_string(), json), ("shard.bin".to_string(), bin)],
    )
}

/// A shard read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// Where it was read from.
    pub folder: PathBuf,
    /// Its description.
    pub meta: ShardMeta,
    /// The raw values.
    pub bytes: Vec<u8>,
}

fn merge_error(folder: &Path, message: impl Into<String>) -> Error {
    Error::Input(InputError::new(folder.display().to_string(), "", message))
}

/// Reads a shard folder.
///
/// # Errors
/// An input error naming the folder when it is not a complete shard.
pub fn read(folder: &Path) -> Result<Shard> {
    let json = std::fs::read(folder.join("shard.json"))
        .map_err(|e| merge_error(folder, format!("not a shard folder (shard.json: {e})")))?;
    let meta: ShardMeta =
        serde_json::from_slice(&json).map_err(|e| merge_error(folder, format!("shard.json is damaged: {e}")))?;
    if meta.format != FORMAT {
        return Err(merge_error(
            folder,
            format!("shard format `{}`; this sibsim reads `{FORMAT}`", meta.format),
        ));
    }
    let bytes = std::fs::read(folder.join("shard.bin")).map_err(|e| merge_error(folder, format!("shard.bin: {e}")))?;
    let per_replication = 8 * (meta.names.len() + 2 * meta.horizon) + meta.event_names.len();
    if meta.end < meta.first || bytes.len() as u64 != (meta.end - meta.first) * per_replication as u64 {
        return Err(merge_error(
            folder,
            "shard.bin does not hold the replications shard.json announces; re-run this shard",
        ));
    }
    Ok(Shard {
        folder: folder.to_path_buf(),
        meta,
        bytes,
    })
}

/// Finds shard folders: each argument is a shard folder, or a folder whose
/// subfolders are shards.
///
/// # Errors
/// An input error for an argument that is neither.
pub fn discover(arguments: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for argument in arguments {
        if argument.join("shard.json").is_file() {
            out.push(argument.clone());
            continue;
        }
        let entries = std::fs::read_dir(argument).map_err(|e| merge_error(argument, format!("cannot read: {e}")))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("shard.json").is_file())
            .collect();
        if found.is_empty() {
            return Err(merge_error(
                argument,
                "neither a shard folder (no shard.json) nor a folder of shards",
            ));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// The merged results plus what the summary needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// Replications in index order.
    pub results: RunResults,
    /// A shard's description (ranges aside, all shards agree).
    pub meta: ShardMeta,
}

/// Merges shards into the results of one run.
///
/// # Errors
/// An input error when shards come from different scenarios, seeds, engine
/// versions or run sizes, when two shards with the same index differ, or
/// when shards are missing (naming them and the command that re-runs them).
pub fn merge(shards: Vec<Shard>) -> Result<Merged> {
    let Some(first) = shards.first() else {
        return Err(Error::Input(InputError::new("merge", "", "no shards given")));
    };
    let reference = first.meta.clone();
    let first_folder = first.folder.clone();
    let mut by_index: Vec<Option<Shard>> = vec![None; reference.count as usize];
    for shard in shards {
        let m = &shard.meta;
        let differs = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            merge_error(
                &shard.folder,
                format!(
                    "{what} is {a} here but {b} in {}; shards of different runs cannot be merged",
                    first_folder.display()
                ),
            )
        };
        if m.scenario != reference.scenario || m.scenario_digest != reference.scenario_digest {
            return Err(differs(
                "the scenario",
                &format!("{} ({})", m.scenario, m.scenario_digest),
                &format!("{} ({})", reference.scenario, reference.scenario_digest),
            ));
        }
        if m.seed != reference.seed {
            return Err(differs("the seed", &m.seed, &reference.seed));
        }
        if m.engine_version != reference.engine_version || m.engine_version != ENGINE_VERSION {
            return Err(differs(
                "the engine version",
                &m.engine_version,
                &reference.engine_version,
            ));
        }
        if m.replications != reference.replications || m.count != reference.count {
            return Err(differs(
                "the run (replications/shards)",
                &format!("{}/{}", m.replications, m.count),
                &format!("{}/{}", reference.replications, reference.count),
            ));
        }
        if m.index == 0 || m.index > m.count || (m.first, m.end) != range(m.index, m.count, m.replications) {
            return Err(merge_error(
                &shard.folder,
                format!(
                    "shard {}/{} covers replications {}..{}, which is not its range; it overlaps another",
                    m.index, m.count, m.first, m.end
                ),
            ));
        }
        let slot = &mut by_index[m.index as usize - 1];
        match slot {
            Some(existing) if existing.bytes == shard.bytes && existing.meta == shard.meta => {} // a retried task wrote the same shard twice
            Some(existing) => {
                return Err(merge_error(
                    &shard.folder,
                    format!(
                        "shard {}/{} was also written to {} with different contents; delete the wrong one",
                        m.index,
                        m.count,
                        existing.folder.display()
                    ),
                ))
            }
            None => *slot = Some(shard),
        }
    }
    let missing: Vec<u64> = by_index
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| i as u64 + 1)
        .collect();
    if !missing.is_empty() {
        let out = first_folder
            .parent()
            .map_or_else(|| ".".to_string(), |p| p.display().to_string());
        let commands: Vec<String> = missing
            .iter()
            .map(|i| {
                format!(
                    "  sibsim run {}{} --shard {i}/{} --replications {} --seed {} --out {}{}",
                    super::slurm::quote(&reference.scenario_path),
                    reference
                        .sets
                        .iter()
                        .map(|(k, v)| format!(" --set {}", super::slurm::quote(&format!("{k}={v}"))))
                        .collect::<String>(),
                    reference.count,
                    reference.replications,
                    reference.seed,
                    super::slurm::quote(&out),
                    if reference.keep_replications {
                        " --keep-replications"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        return Err(Error::Input(InputError::new(
            "merge",
            "",
            format!(
                "missing shard{} {} of {}; re-run only {}:\n{}",
                if missing.len() > 1 { "s" } else { "" },
                missing.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
                reference.count,
                if missing.len() > 1 { "those" } else { "that one" },
                commands.join("\n")
            ),
        )));
    }
    let k = reference.names.len();
    let e = reference.event_names.len();
    let h = reference.horizon;
    let total = reference.replications as usize;
    let mut results = RunResults {
        scenario: reference.scenario.clone(),
        seed: reference.seed,
        first: 0,
        names: reference.names.clone(),
        columns: vec![Vec::with_capacity(total); k],
        event_names: reference.event_names.clone(),
        events: vec![Vec::with_capacity(total); e],
        investor_paths: vec![Vec::with_capacity(total); h],
        payer_paths: vec![Vec::with_capacity(total); h],
        start_year: reference.start_year,
        cycle_years: reference.cycle_years,
    };
    let f64_at = |bytes: &[u8], at: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        f64::from_le_bytes(word)
    };
    for shard in by_index.into_iter().flatten() {
        let mut at = 0;
        for _ in shard.meta.first..shard.meta.end {
            for column in results.columns.iter_mut() {
                column.push(f64_at(&shard.bytes, at));
                at += 8;
            }
            for column in results.events.iter_mut() {
                column.push(shard.bytes[at] != 0);
                at += 1;
            }
            for path in results.investor_paths.iter_mut().chain(results.payer_paths.iter_mut()) {
                path.push(f64_at(&shard.bytes, at));
                at += 8;
            }
        }
    }
    Ok(Merged {
        results,
        meta: reference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_tile_the_replications() {
        let mut next = 0;
        for i in 1..=7 {
            let (a, b) = range(i, 7, 100);
            assert_eq!(a, next);
            next = b;
        }
        assert_eq!(next, 100);
        assert_eq!(range(3, 4, 2), (1, 1));
    }

    #[test]
    fn spec_parsing() {
        assert_eq!(parse_spec("2/4"), Ok((2, 4)));
        assert!(parse_spec("0/4").is_err());
        assert!(parse_spec("5/4").is_err());
        assert!(parse_spec("x").is_err());
    }
}
