//! Calibration from register data: exact transition counts from an observed
//! panel, printed as a `[baseline]` table that loads as is.
//!
//! The panel is a CSV with header `child,cycle,age,state`, one row per child
//! per observed cycle, rows in any order. A transition is counted between
//! cycles c and c+1 of the same child, in the age band of its age at c;
//! gaps are skipped, never bridged.

use crate::error::InputError;
use std::collections::{BTreeMap, HashMap};

/// Observed transition counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// State names, in order.
    pub states: Vec<String>,
    /// Age band boundaries (empty: one band of all ages).
    pub age_bands: Vec<f64>,
    /// Prior added to every cell.
    pub prior: f64,
    /// Counts pooled over all ages (row-major).
    pub pooled: Vec<u64>,
    /// Counts per age band (row-major), one per `age_bands` window.
    pub bands: Vec<Vec<u64>>,
    /// Transitions whose age fell outside every band.
    pub outside_bands: u64,
}

#[derive(Debug, serde::Deserialize)]
struct Row {
    child: String,
    cycle: String,
    age: String,
    state: String,
}

/// Counts transitions in `text` (a CSV panel named `file`).
///
/// # Errors
/// An [`InputError`] naming the CSV line for a malformed row, an unknown
/// state, a cycle that is not a non-negative integer, an age that is not a
/// number, or a duplicate (child, cycle).
pub fn calibrate(
    text: &str,
    file: &str,
    states: &[String],
    age_bands: &[f64],
    prior: f64,
) -> Result<Calibration, InputError> {
    let n = states.len();
    let index: HashMap<&str, usize> = states.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| InputError::new(file, "line 1", format!("cannot read the header: {e}")))?
        .clone();
    let wanted = ["child", "cycle", "age", "state"];
    if headers.iter().collect::<Vec<_>>() != wanted {
        return Err(InputError::new(
            file,
            "line 1",
            format!(
                "the header is `{}`; expected `child,cycle,age,state`",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    // child → cycle → (state, age)
    let mut panel: BTreeMap<String, BTreeMap<u64, (usize, f64)>> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            InputError::new(
                file,
                format!("line {line}"),
                format!("malformed row: {e}; expected 4 fields child,cycle,age,state"),
            )
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let at = format!("line {line}");
        let row: Row = record
            .deserialize(Some(&headers))
            .map_err(|e| InputError::new(file, &at, format!("malformed row: {e}")))?;
        let cycle: u64 = row
            .cycle
            .parse()
            .map_err(|_| InputError::new(file, &at, format!("cycle `{}` is not a whole number ≥ 0", row.cycle)))?;
        let age: f64 = row
            .age
            .parse()
            .ok()
            .filter(|a: &f64| a.is_finite() && *a >= 0.0)
            .ok_or_else(|| InputError::new(file, &at, format!("age `{}` is not a number ≥ 0", row.age)))?;
        let state = *index.get(row.state.as_str()).ok_or_else(|| {
            InputError::new(
                file,
                &at,
                format!("unknown state `{}`; --states lists: {}", row.state, states.join(", ")),
            )
        })?;
        if row.child.is_empty() {
            return Err(InputError::new(file, &at, "empty child id"));
        }
        if panel
            .entry(row.child.clone())
            .or_default()
            .insert(cycle, (state, age))
            .is_some()
        {
            return Err(InputError::new(
                file,
                &at,
                format!("child `{}` has two rows for cycle {cycle}", row.child),
            ));
        }
    }
    let windows = age_bands.len().saturating_sub(1);
    let mut pooled = vec![0u64; n * n];
    let mut bands = vec![vec![0u64; n * n]; windows];
    let mut outside_bands = 0;
    for cycles in panel.values() {
        for ((&c, &(from, age)), (&next, &(to, _))) in cycles.iter().zip(cycles.iter().skip(1)) {
            if next != c + 1 {
                continue; // a gap: skipped, not bridged
            }
            pooled[from * n + to] += 1;
            if windows > 0 {
                match (0..windows).find(|&b| age >= age_bands[b] && age < age_bands[b + 1]) {
                    Some(b) => bands[b][from * n + to] += 1,
                    None => outside_bands += 1,
                }
            }
        }
    }
    Ok(Calibration {
        states: states.to_vec(),
        age_bands: age_bands.to_vec(),
        prior,
        pooled,
        bands,
        outside_bands,
    })
}

impl Calibration {
    /// Rows with no observations: (band label, state).
    pub fn empty_rows(&self) -> Vec<(String, String)> {
        let n = self.states.len();
        let mut out = Vec::new();
        let mut check = |label: String, counts: &[u64]| {
            for (i, s) in self.states.iter().enumerate() {
                if counts[i * n..(i + 1) * n].iter().all(|&c| c == 0) {
                    out.push((label.clone(), s.clone()));
                }
            }
        };
        check("all ages".to_string(), &self.pooled);
        for (b, counts) in self.bands.iter().enumerate() {
            check(
                format!("ages [{}, {})", self.age_bands[b], self.age_bands[b + 1]),
                counts,
            );
        }
        out
    }

    /// The central matrix (row-normalised counts + prior) of a count table.
    pub fn matrix(&self, counts: &[u64]) -> Vec<f64> {
        let n = self.states.len();
        let mut p = vec![0.0; n * n];
        for i in 0..n {
            let total: f64 = counts[i * n..(i + 1) * n].iter().map(|&c| c as f64).sum::<f64>() + self.prior * n as f64;
            for j in 0..n {
                p[i * n + j] = if total > 0.0 {
                    (counts[i * n + j] as f64 + self.prior) / total
                } else {
                    0.0
                };
            }
        }
        p
    }

    /// The `[baseline]` table, ready to paste into a scenario.
    pub fn to_toml(&self) -> String {
        let n = self.states.len();
        let table = |counts: &[u64]| {
            let mut s = String::from("[\n");
            for i in 0..n {
                let row: Vec<String> = counts[i * n..(i + 1) * n].iter().map(|c| c.to_string()).collect();
                s.push_str(&format!("  [{}],   # from {}\n", row.join(", "), self.states[i]));
            }
            s.push(']');
            s
        };
        // `{:?}` writes floats that read back as TOML floats (1.0, 1e20),
        // where `{}` writes 1e20 as an integer too large for TOML.
        let mut out = format!(
            "# Transition counts from `sibsim calibrate`; columns: {}\n[baseline]\nprior = {:?}\ncounts = {}\n",
            self.states.join(", "),
            self.prior,
            table(&self.pooled)
        );
        for (b, counts) in self.bands.iter().enumerate() {
            out.push_str(&format!(
                "[[baseline.bands]]\nages = [{:?}, {:?}]\nprior = {:?}\ncounts = {}\n",
                self.age_bands[b],
                self.age_bands[b + 1],
                self.prior,
                table(counts)
            ));
        }
        out
    }
}
