//! Reading a targets file: published aggregate figures to fit a baseline to.
//!
//! A CSV with the header `kind,states,age_from,age_to,value,se` (further
//! columns, such as `source`, are kept for people and ignored here), one
//! target a row:
//! - `kind`: `prevalence`, `ever` or `mean_cycles` (model::targets);
//! - `states`: scenario state names separated by `;`;
//! - `age_from`, `age_to`: the ages [from, to) in years;
//! - `value`: the published figure (a share in [0, 1], or cycles ≥ 0);
//! - `se`: its standard error (> 0), which should carry definitional
//!   mismatch as well as sampling error.

use crate::error::InputError;
use crate::model::targets::{coverage, AggregateTarget, TargetKind};
use crate::model::Scenario;

const HEADER: [&str; 6] = ["kind", "states", "age_from", "age_to", "value", "se"];

/// Reads and checks `text` (the targets file `file`) against `scenario`.
///
/// # Errors
/// An [`InputError`] naming the file and the CSV line: a wrong header, an
/// unknown kind or state, ages that are not an increasing pair ≥ 0 or that
/// the scenario's cohort does not cover, an se that is not > 0, a share
/// outside [0, 1] or negative cycles.
pub fn parse_targets(text: &str, file: &str, scenario: &Scenario) -> Result<Vec<AggregateTarget>, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| InputError::new(file, "line 1", format!("cannot read the header: {e}")))?
        .clone();
    if headers.len() < HEADER.len() || headers.iter().take(HEADER.len()).ne(HEADER) {
        return Err(InputError::new(
            file,
            "line 1",
            format!(
                "the header must begin `{}` (more columns, e.g. source, may follow)",
                HEADER.join(",")
            ),
        ));
    }
    let names: Vec<&str> = scenario.states.iter().map(|s| s.name.as_str()).collect();
    let mut targets = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            InputError::new(file, format!("line {line}"), format!("not a CSV row: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line()) as usize;
        let at = format!("line {line}");
        let bad = |column: &str, message: String| InputError::new(file, format!("{at}, {column}"), message);
        let number = |k: usize, column: &str| -> Result<f64, InputError> {
            record[k]
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(column, format!("`{}` is not a number", &record[k])))
        };
        let kind = match &record[0] {
            "prevalence" => TargetKind::Prevalence,
            "ever" => TargetKind::Ever,
            "mean_cycles" => TargetKind::MeanCycles,
            other => {
                return Err(bad(
                    "kind",
                    format!("unknown kind `{other}`; expected prevalence, ever or mean_cycles"),
                ))
            }
        };
        let mut states = vec![false; names.len()];
        for name in record[1].split(';').map(str::trim) {
            match names.iter().position(|n| *n == name) {
                Some(s) => states[s] = true,
                None => {
                    return Err(bad(
                        "states",
                        format!(
                            "unknown state `{name}`; the scenario's states: {} (separate several with `;`)",
                            names.join(", ")
                        ),
                    ))
                }
            }
        }
        let ages = (number(2, "age_from")?, number(3, "age_to")?);
        if ages.0 < 0.0 || ages.1 <= ages.0 {
            return Err(bad(
                "age_to",
                format!(
                    "ages [{}, {}) are not a range; expected 0 ≤ age_from < age_to",
                    ages.0, ages.1
                ),
            ));
        }
        if coverage(scenario, ages).is_empty() {
            let entries: Vec<String> = scenario.cohort.waves.iter().map(|w| format!("{}", w.age)).collect();
            return Err(bad(
                "age_from",
                format!(
                    "no wave of the scenario's cohort covers ages [{}, {}): its waves enter at ages {} and are followed for {} cycles of {} years; fit to a cohort that enters by age_from and is followed past age_to",
                    ages.0,
                    ages.1,
                    entries.join(", "),
                    scenario.time.horizon,
                    scenario.time.cycle_years
                ),
            ));
        }
        let value = number(4, "value")?;
        let share = kind != TargetKind::MeanCycles;
        if share && !(0.0..=1.0).contains(&value) {
            return Err(bad(
                "value",
                format!("{value} is not a share; a {} target lies in [0, 1]", kind.name()),
            ));
        }
        if !share && value < 0.0 {
            return Err(bad("value", format!("{value} cycles is negative")));
        }
        let se = number(5, "se")?;
        if se <= 0.0 {
            return Err(bad(
                "se",
                format!("{se} is not a standard error; expected a number > 0"),
            ));
        }
        targets.push(AggregateTarget {
            line,
            kind,
            states,
            label: record[1].to_string(),
            ages,
            value,
            se,
        });
    }
    if targets.is_empty() {
        return Err(InputError::new(
            file,
            "",
            "no targets: the file has a header and no rows",
        ));
    }
    Ok(targets)
}
