//! Shards: a run split into contiguous ranges of replication indices, each
//! written as mergeable partial results, and merged into exactly the summary
//! an unsharded run writes.
//!
//! A shard carries its replications' state, not their values: the exact,
//! order-free accumulators of [`crate::stats::accumulate`], so the merged
//! summary equals the unsharded one to the bit. `shard.json` holds what the
//! shard is (scenario digest, seed, engine version, its range) and
//! `shard.bin` the state. With `--keep-replications` the shard also streams
//! its rows of `replications.csv` to its folder, and the merge joins them.
//!
//! Shards are untrusted input: every field of `shard.json` is checked as a
//! scenario would be (the name, ranges, sizes with checked arithmetic),
//! `shard.bin` must match the SHA-256 digest that `shard.json` carries and
//! the size it announces (read only after that size is checked against the
//! file), and every field the shards share must agree.

use crate::error::{Error, InputError, Result};
use crate::files::write_folder_with;
use crate::report::replications::RowSpool;
use crate::report::ENGINE_VERSION;
use crate::stats::RunState;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format tag of `shard.json`.
pub const FORMAT: &str = "sibsim-shard-5";

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
    /// The currency of every amount (shards written before it existed: EUR).
    #[serde(default = "default_currency")]
    pub currency: String,
    /// The investors' discount rate (absent in shards written before it was kept).
    #[serde(default)]
    pub investor_rate: Option<f64>,
    /// Key terms, for the report.
    pub terms: Vec<(String, String)>,
    /// Bytes of the run state: the size of `shard.bin`.
    pub state_bytes: u64,
    /// SHA-256 of `shard.bin`, lower-case hex.
    pub digest: String,
    /// Bytes of the shard's `replications.csv` (with `keep_replications`).
    #[serde(default)]
    pub rows_bytes: u64,
    /// SHA-256 of the shard's `replications.csv`, lower-case hex (with
    /// `keep_replications`; empty otherwise).
    #[serde(default)]
    pub rows_digest: String,
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// Bytes as lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file, read in blocks, as lower-case hex, and its size.
fn file_digest(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut block)?;
        if read == 0 {
            break;
        }
        hasher.update(&block[..read]);
        size += read as u64;
    }
    Ok((hex(&hasher.finalize()), size))
}

/// Checks a shard specification against the run size: a run cannot have
/// more shards than replications (every shard would be empty or the count a
/// typo).
///
/// # Errors
/// An [`InputError`] naming `--shard`.
pub fn check_spec(index: u64, count: u64, total: u64) -> std::result::Result<(), InputError> {
    if count > total {
        return Err(InputError::new(
            "--shard",
            "",
            format!("{index}/{count}: {count} shards of {total} replications; use at most {total} shards"),
        ));
    }
    Ok(())
}

/// Folder name of a shard.
pub fn folder_name(scenario: &str, index: u64, count: u64) -> String {
    format!("{scenario}.shard-{index}-of-{count}")
}

/// The name of a shard's rows of `replications.csv`.
const ROWS: &str = "replications.csv";

/// Writes one shard atomically into `parent/<name>.shard-I-of-N/`: its
/// state, and (with `keep_replications`) its rows of `replications.csv`
/// from `rows`, the spool its run streamed them to.
///
/// # Errors
/// [`Error::Io`] when writing fails.
pub fn write(parent: &Path, meta: &ShardMeta, state: &RunState, rows: Option<RowSpool>) -> Result<PathBuf> {
    let bin = crate::stats::codec::encode(state);
    let mut meta = ShardMeta {
        digest: digest(&bin),
        state_bytes: bin.len() as u64,
        ..meta.clone()
    };
    let folder = folder_name(&meta.scenario, meta.index, meta.count);
    // shard.json is written last, once the rows' digest is known.
    write_folder_with(parent, &folder, &[("shard.bin".to_string(), bin)], |dir| {
        if let Some(rows) = rows.filter(|_| meta.keep_replications) {
            let csv = dir.join(ROWS);
            rows.assemble(&meta.names, &meta.event_names, &csv)?;
            (meta.rows_digest, meta.rows_bytes) = file_digest(&csv).map_err(|e| Error::io(&csv, e))?;
        }
        let json = serde_json::to_vec_pretty(&meta).map_err(|e| Error::Runtime(e.to_string()))?;
        let path = dir.join("shard.json");
        std::fs::write(&path, json).map_err(|e| Error::io(&path, e))
    })
}

/// A shard read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// Where it was read from.
    pub folder: PathBuf,
    /// Its description.
    pub meta: ShardMeta,
    /// The raw state.
    pub bytes: Vec<u8>,
    /// Its rows of `replications.csv` (checked against the digest), with
    /// `keep_replications`.
    pub rows: Option<PathBuf>,
}

fn merge_error(folder: &Path, message: impl Into<String>) -> Error {
    Error::Input(InputError::new(folder.display().to_string(), "", message))
}

/// Longest cash-flow path a shard may announce (the scenario limit).
const HORIZON_LIMIT: usize = 100_000;
/// Most statistics or events a shard may announce.
const NAMES_LIMIT: usize = 1_000_000;

/// Reads a shard folder, checking every field before trusting it.
///
/// # Errors
/// An input error naming the folder when it is not a complete, intact shard.
pub fn read(folder: &Path) -> Result<Shard> {
    let json = crate::files::read_regular(
        &folder.join("shard.json"),
        crate::files::SHARD_META_LIMIT,
        "shard description",
    )
    .map_err(|e| merge_error(folder, format!("not a shard folder: {}", e.message)))?;
    let meta: ShardMeta =
        serde_json::from_slice(&json).map_err(|e| merge_error(folder, format!("shard.json is damaged: {e}")))?;
    if meta.format != FORMAT {
        return Err(merge_error(
            folder,
            format!(
                "shard format `{}`; this sibsim reads `{FORMAT}`: re-run the shards with this sibsim",
                meta.format
            ),
        ));
    }
    check_meta(&meta).map_err(|why| merge_error(folder, format!("shard.json: {why}")))?;
    let size =
        bin_size(&meta).ok_or_else(|| merge_error(folder, "shard.json announces more data than any shard can hold"))?;
    let bin = folder.join("shard.bin");
    let on_disk = std::fs::metadata(&bin).map_err(|e| merge_error(folder, format!("shard.bin: {e}")))?;
    if !on_disk.is_file() || on_disk.len() != size {
        return Err(merge_error(
            folder,
            format!(
                "shard.bin has {} bytes but shard.json announces {size}; re-run this shard",
                on_disk.len()
            ),
        ));
    }
    let bytes = crate::files::read_regular(&bin, size, "shard data").map_err(|e| merge_error(folder, e.message))?;
    if bytes.len() as u64 != size || digest(&bytes) != meta.digest {
        return Err(merge_error(
            folder,
            "shard.bin does not match the digest in shard.json (damaged, or from another shard); re-run this shard",
        ));
    }
    let rows = check_rows(folder, &meta)?;
    Ok(Shard {
        folder: folder.to_path_buf(),
        meta,
        bytes,
        rows,
    })
}

/// The most bytes of run state a shard may announce.
const STATE_LIMIT: u64 = 1 << 32;

/// Bytes of `shard.bin` for a shard, or `None` when it announces too many.
fn bin_size(meta: &ShardMeta) -> Option<u64> {
    (meta.state_bytes <= STATE_LIMIT).then_some(meta.state_bytes)
}

/// Checks a shard's rows of `replications.csv` against its description,
/// reading them in blocks (they can be far larger than memory).
fn check_rows(folder: &Path, meta: &ShardMeta) -> Result<Option<PathBuf>> {
    if !meta.keep_replications {
        return Ok(None);
    }
    let csv = folder.join(ROWS);
    let regular = std::fs::symlink_metadata(&csv).is_ok_and(|m| m.is_file());
    let read = if regular { file_digest(&csv).ok() } else { None };
    match read {
        Some((digest, size)) if size == meta.rows_bytes && digest == meta.rows_digest => Ok(Some(csv)),
        Some(_) => Err(merge_error(
            folder,
            format!(
                "{ROWS} does not match the digest in shard.json (damaged, or from another shard); re-run this shard"
            ),
        )),
        None => Err(merge_error(
            folder,
            format!("{ROWS} is missing or not a regular file, but the run keeps replications; re-run this shard"),
        )),
    }
}

/// The checks a scenario's own values get, applied to a shard's description.
fn check_meta(m: &ShardMeta) -> std::result::Result<(), String> {
    if !crate::scenario::validate::valid_name(&m.scenario) {
        return Err(format!(
            "scenario name `{}` is not allowed; names use only a-z, 0-9, `_` and `-`, at most {} characters",
            m.scenario.escape_default(),
            crate::files::NAME_LIMIT
        ));
    }
    if m.replications == 0 || m.count == 0 || m.count > m.replications {
        return Err(format!(
            "{} shards of {} replications is not a run; expected 1 ≤ shards ≤ replications",
            m.count, m.replications
        ));
    }
    if m.index == 0 || m.index > m.count || (m.first, m.end) != range(m.index, m.count, m.replications) {
        return Err(format!(
            "shard {}/{} covers replications {}..{}, which is not its range",
            m.index, m.count, m.first, m.end
        ));
    }
    if m.horizon == 0 || m.horizon > HORIZON_LIMIT {
        return Err(format!("horizon {} is outside 1..={HORIZON_LIMIT}", m.horizon));
    }
    if m.names.is_empty() || m.names.len() > NAMES_LIMIT || m.event_names.len() > NAMES_LIMIT {
        return Err("the lists of statistic and event names have impossible lengths".to_string());
    }
    let statistic_name = |n: &String| {
        !n.is_empty()
            && n.len() <= 400
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
    };
    if let Some(bad) = m.names.iter().chain(&m.event_names).find(|n| !statistic_name(n)) {
        return Err(format!("`{}` is not a statistic name", bad.escape_default()));
    }
    if !m.cycle_years.is_finite() || m.cycle_years <= 0.0 || !m.start_year.is_finite() {
        return Err("cycle_years or start_year is not a finite time".to_string());
    }
    if m.digest.len() != 64 || !m.digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the digest is not a SHA-256 hex string".to_string());
    }
    Ok(())
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
            // `.NAME.tmp-*` and `.NAME.old-*` are unfinished or replaced writes.
            .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
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

/// The merged run plus what the summary needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The state of every replication, merged.
    pub state: RunState,
    /// The shards' rows of `replications.csv` in replication order, when
    /// the run keeps them.
    pub rows: Vec<PathBuf>,
    /// A shard's description (ranges aside, all shards agree).
    pub meta: ShardMeta,
}

fn default_currency() -> String {
    "EUR".to_string()
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
    if reference.engine_version != ENGINE_VERSION {
        return Err(merge_error(
            &first_folder,
            format!(
                "written by sibsim engine {}; this is engine {ENGINE_VERSION}: re-run the shards with this sibsim",
                reference.engine_version
            ),
        ));
    }
    let reference_shared = shared_json(&reference);
    let json = |m: &ShardMeta| serde_json::to_value(m).unwrap_or_default();
    let mut by_index: std::collections::BTreeMap<u64, Shard> = std::collections::BTreeMap::new();
    for shard in shards {
        check_belongs(&shard, &reference, &reference_shared, &first_folder)?;
        let m = &shard.meta;
        match by_index.get(&m.index) {
            Some(existing) if existing.bytes == shard.bytes && json(&existing.meta) == json(&shard.meta) => {} // a retried task wrote the same shard twice
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
            None => {
                by_index.insert(m.index, shard);
            }
        }
    }
    if let Some(error) = missing_shards(&reference, &by_index, &first_folder) {
        return Err(error);
    }
    let mut state = empty_state(&reference);
    for shard in by_index.values() {
        let m = &shard.meta;
        let part = &shard.bytes[..(m.state_bytes as usize).min(shard.bytes.len())];
        let own = crate::stats::codec::decode(part, empty_state(&reference), m.end - m.first)
            .map_err(|why| merge_error(&shard.folder, format!("shard.bin: {why}; re-run this shard")))?;
        // Exact accumulators: the merged state is the unsharded run's.
        state.merge(&own);
    }
    let rows = by_index.into_values().filter_map(|shard| shard.rows).collect();
    Ok(Merged {
        state,
        rows,
        meta: reference,
    })
}

/// An empty state of the run a shard belongs to.
fn empty_state(m: &ShardMeta) -> RunState {
    RunState::new(
        &m.scenario,
        m.seed,
        m.names.clone(),
        m.event_names.clone(),
        m.horizon,
        m.start_year,
        m.cycle_years,
    )
}

/// What every shard of one run shares: all but its own range and digest,
/// as JSON (exact for finite floats, and NaN equals NaN).
fn shared_json(m: &ShardMeta) -> serde_json::Value {
    let shared = ShardMeta {
        index: 0,
        first: 0,
        end: 0,
        state_bytes: 0,
        digest: String::new(),
        rows_bytes: 0,
        rows_digest: String::new(),
        ..m.clone()
    };
    serde_json::to_value(shared).unwrap_or_default()
}

/// Checks that `shard` belongs to the run of `reference` (read from
/// `first_folder`) and covers its own range.
fn check_belongs(
    shard: &Shard,
    reference: &ShardMeta,
    reference_shared: &serde_json::Value,
    first_folder: &Path,
) -> Result<()> {
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
    if m.engine_version != reference.engine_version {
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
    let here = shared_json(m);
    if &here != reference_shared {
        // The first field that differs, from the description itself, so
        // a field added to ShardMeta is checked and named without more code.
        let field = here
            .as_object()
            .and_then(|o| o.iter().find(|(k, v)| reference_shared.get(k.as_str()) != Some(*v)))
            .map_or("format", |(k, _)| k.as_str());
        return Err(merge_error(
            &shard.folder,
            format!(
                "`{field}` in shard.json differs from {}; shards of different runs cannot be merged",
                first_folder.display()
            ),
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
    Ok(())
}

/// The error that lists missing shards (at most 20) with the commands that
/// re-run them, or None when every shard is present.
fn missing_shards(
    reference: &ShardMeta,
    by_index: &std::collections::BTreeMap<u64, Shard>,
    first_folder: &Path,
) -> Option<Error> {
    // Shards present are at most the folders given, so this count is small
    // even when a damaged count is huge; list at most 20 of the missing.
    let missing_count = reference.count - by_index.len() as u64;
    let missing: Vec<u64> = (1..=reference.count)
        .filter(|i| !by_index.contains_key(i))
        .take(20)
        .collect();
    if missing_count > 0 {
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
        let more = if missing_count > missing.len() as u64 {
            format!(" and {} more", missing_count - missing.len() as u64)
        } else {
            String::new()
        };
        return Some(Error::Input(InputError::new(
            "merge",
            "",
            format!(
                "missing shard{} {}{more} of {}; re-run only {}:\n{}",
                if missing_count > 1 { "s" } else { "" },
                missing.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
                reference.count,
                if missing_count > 1 { "those" } else { "that one" },
                commands.join("\n")
            ),
        )));
    }
    None
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
