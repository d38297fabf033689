//! `replications.csv` (on request): one row per replication, written from
//! kept results, or streamed to disk as replications finish.

use super::csv::write_rows;
use super::{Exporter, RunOutput};
use crate::error::{Error, Result};
use crate::sim::record::RunResults;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `replications.csv`.
pub struct Replications;

impl Exporter for Replications {
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
        run.results
            .map(|results| ("replications.csv".to_string(), replications_csv(results).into_bytes()))
            .into_iter()
            .collect()
    }
}

/// The header of `replications.csv`.
fn header(names: &[String], event_names: &[String]) -> Vec<String> {
    std::iter::once("replication".to_string())
        .chain(names.iter().chain(event_names).cloned())
        .collect()
}

/// One row: the replication's index, every statistic and every event (0/1).
fn row(replication: u64, values: impl Iterator<Item = f64>, events: impl Iterator<Item = bool>) -> Vec<String> {
    std::iter::once(replication.to_string())
        .chain(values.map(|v| v.to_string()))
        .chain(events.map(|e| if e { "1" } else { "0" }.to_string()))
        .collect()
}

/// `replications.csv`: one row per replication, its index, every statistic
/// and every event (0/1).
pub fn replications_csv(results: &RunResults) -> String {
    let rows = (0..results.replications() as usize).map(|r| {
        row(
            results.first + r as u64,
            results.columns.iter().map(|column| column[r]),
            results.events.iter().map(|column| column[r]),
        )
    });
    write_rows(std::iter::once(header(&results.names, &results.event_names)).chain(rows))
}

/// Rows of `replications.csv` written as replications finish: each worker
/// writes a stretch of consecutive replications to its own part file,
/// named by the stretch's first replication, so that [`RowSpool::assemble`]
/// joins the parts in replication order. Nothing is held in memory.
#[derive(Debug)]
pub struct RowSpool {
    folder: PathBuf,
    /// The part being written and the replication its next row must be.
    open: Option<(u64, ::csv::Writer<BufWriter<File>>)>,
    /// The first failure (later rows are then dropped).
    error: Option<Error>,
}

impl RowSpool {
    /// A spool writing its parts into `folder` (which must exist).
    pub fn new(folder: &Path) -> RowSpool {
        RowSpool {
            folder: folder.to_path_buf(),
            open: None,
            error: None,
        }
    }

    /// The file of the part whose first replication is `first`.
    fn part(&self, first: u64) -> PathBuf {
        // Zero-padded: file names sort as replication indices do.
        self.folder.join(format!("part-{first:020}.csv"))
    }

    /// Writes replication `replication`'s row.
    pub fn write(&mut self, replication: u64, values: &[f64], events: &[bool]) {
        if self.error.is_some() {
            return;
        }
        if self.open.as_ref().is_none_or(|(next, _)| *next != replication) {
            self.close();
            let path = self.part(replication);
            match File::create(&path) {
                Ok(file) => {
                    let writer = ::csv::WriterBuilder::new().from_writer(BufWriter::new(file));
                    self.open = Some((replication, writer));
                }
                Err(e) => {
                    self.error = Some(Error::io(&path, e));
                    return;
                }
            }
        }
        let Some((next, writer)) = self.open.as_mut() else {
            return;
        };
        let fields = row(replication, values.iter().copied(), events.iter().copied());
        if let Err(e) = writer.write_record(&fields) {
            self.error = Some(Error::Runtime(format!("writing replications.csv: {e}")));
        }
        *next += 1;
    }

    /// Flushes the part being written.
    fn close(&mut self) {
        if let Some((_, writer)) = self.open.take() {
            let flushed = writer
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(|mut w| w.flush());
            if let Err(e) = flushed {
                if self.error.is_none() {
                    self.error = Some(Error::io(&self.folder, e));
                }
            }
        }
    }

    /// Takes in another worker's spool (of the same folder): its part is
    /// closed, and its failure kept if this one has none.
    pub fn absorb(&mut self, mut other: RowSpool) {
        other.close();
        if self.error.is_none() {
            self.error = other.error;
        }
    }

    /// Closes the spool and writes `replications.csv` at `target`: the
    /// header, then every part in replication order.
    ///
    /// # Errors
    /// The first failure to write a row, or to read or write the files.
    pub fn assemble(mut self, names: &[String], event_names: &[String], target: &Path) -> Result<()> {
        self.close();
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut parts: Vec<PathBuf> = std::fs::read_dir(&self.folder)
            .map_err(|e| Error::io(&self.folder, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("part-")))
            .collect();
        parts.sort();
        let head = write_rows(std::iter::once(header(names, event_names)));
        join(target, head.as_bytes(), &parts, |_| false)
    }
}

/// Writes `head`, then every part in order (without its first line where
/// `skip_header(k)` says so for part k) into `target`, reading in blocks.
fn join(target: &Path, head: &[u8], parts: &[PathBuf], skip_header: impl Fn(usize) -> bool) -> Result<()> {
    use std::io::BufRead;
    let file = File::create(target).map_err(|e| Error::io(target, e))?;
    let mut out = BufWriter::new(file);
    out.write_all(head).map_err(|e| Error::io(target, e))?;
    for (k, part) in parts.iter().enumerate() {
        let mut input = std::io::BufReader::new(File::open(part).map_err(|e| Error::io(part, e))?);
        if skip_header(k) {
            let mut header = Vec::new();
            input.read_until(b'\n', &mut header).map_err(|e| Error::io(part, e))?;
        }
        std::io::copy(&mut input, &mut out).map_err(|e| Error::io(target, e))?;
    }
    out.flush().map_err(|e| Error::io(target, e))
}

/// Joins files of `replications.csv` rows that each start with the same
/// header (shards' rows, in replication order) into `target`: the header
/// once, then every file's rows, read in blocks.
///
/// # Errors
/// Failures to read a part or write `target`.
pub fn concatenate(parts: &[PathBuf], target: &Path) -> Result<()> {
    // Every part repeats the header; keep the first one's.
    join(target, b"", parts, |k| k > 0)
}
