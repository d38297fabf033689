//! `tornado`: one-way sensitivity. Every uncertain input is moved to its low
//! and then its high percentile while every other input stays at its
//! central value, on the same replications (common random numbers); the
//! bars are sorted by how far they move each statistic.
//!
//! The inputs, from the scenario's `[uncertainty]` (per contract in a
//! portfolio):
//! - each effect's relative risk: log-normal, RR · exp(sd · z_p);
//! - each state cost: gamma with the file's mean and cv (Wilson–Hilferty);
//! - each uncertain transition row (given as counts, or as a matrix under
//!   `transition_concentration`): the row's share of moves into the costly
//!   states (the shock's targets) at its Beta marginal's percentile, the
//!   other entries rescaled in proportion;
//! - the systemic shock, held at sd · z_p in every cycle;
//! - each contract term named with `--vary KEY=LO,HI`, at LO and HI.
//!
//! "Central" means the file's values with no parameter draws and no shock.

mod inputs;

use super::job::Job;
use crate::error::{Error, InputError, Result};
use crate::report::charts::Picture;
use crate::report::json::finite_or_null as number;
use crate::report::page::{Page, Table};
use crate::scenario::Loaded;
use crate::sim::parallel::RunOptions;
use crate::stats::distributions::normal_quantile;
use crate::stats::target::Target;
use crate::stats::RunSummary;
use inputs::{central, inputs, job_of, job_with, Change, Input};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// The default statistics: the payer's mean net savings and the investors'
/// median IRR.
pub const DEFAULT_STATISTICS: [&str; 2] = ["payer.net_savings.mean", "investor.irr.p50"];

/// Bars drawn in a chart (the widest).
pub const CHART_BARS: usize = 15;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct TornadoRequest {
    /// Scenario or portfolio file.
    pub scenario: PathBuf,
    /// `--set` overrides.
    pub sets: Vec<(String, String)>,
    /// The statistics (empty: [`DEFAULT_STATISTICS`]).
    pub statistics: Vec<Target>,
    /// Low percentile, in (0, 100).
    pub low: f64,
    /// High percentile, in (0, 100), above `low`.
    pub high: f64,
    /// Contract terms with their low and high values.
    pub vary: Vec<(String, f64, f64)>,
    /// Replications per run (default: the file's).
    pub replications: Option<u64>,
    /// Seed (default: the file's).
    pub seed: Option<u64>,
    /// Worker threads.
    pub threads: Option<usize>,
}

/// One bar: an input, its two values and the statistic at each.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The input.
    pub input: String,
    /// Its value at the low percentile (or LO).
    pub input_low: f64,
    /// Its value at the high percentile (or HI).
    pub input_high: f64,
    /// The statistic with the input low.
    pub at_low: f64,
    /// The statistic with the input high.
    pub at_high: f64,
}

impl Bar {
    /// How far the input moves the statistic.
    pub fn swing(&self) -> f64 {
        (self.at_high - self.at_low).abs()
    }
}

/// One statistic's tornado.
#[derive(Debug, Clone, PartialEq)]
pub struct Tornado {
    /// `NAME.FIELD`.
    pub statistic: String,
    /// The statistic with every input central.
    pub base: f64,
    /// Bars, widest first.
    pub bars: Vec<Bar>,
}

/// Every statistic's tornado.
#[derive(Debug, Clone, PartialEq)]
pub struct Tornadoes {
    /// Scenario or portfolio name.
    pub scenario: String,
    /// Low and high percentiles.
    pub percentiles: (f64, f64),
    /// One per statistic.
    pub tornadoes: Vec<Tornado>,
    /// Replications per run.
    pub replications: u64,
    /// Seed.
    pub seed: u64,
    /// The currency of money statistics.
    pub currency: String,
    /// What the central model holds that is not a bar (e.g. an enrolment
    /// share with no sd).
    pub notes: Vec<String>,
}

/// A note for each contract whose enrolment share has no sd: it stays at
/// its mean, and only the waves' binomial draws vary.
fn enrolment_notes(loaded: &Loaded) -> Vec<String> {
    loaded
        .contracts()
        .iter()
        .filter_map(|s| {
            let e = s.uncertainty.as_ref()?.enrolment?;
            (e.beta_parameters().is_none() && e.mean < 1.0).then(|| {
                format!(
                    "{}: the enrolment share has no sd, so it is no bar: every run enrols Binomial(children, {})",
                    s.name, e.mean
                )
            })
        })
        .collect()
}

/// Checks the request's percentiles and terms.
fn check(request: &TornadoRequest) -> Result<()> {
    for (flag, p) in [("--low", request.low), ("--high", request.high)] {
        if !(p > 0.0 && p < 100.0) {
            return Err(InputError::new(
                flag,
                "",
                format!("{p} is not a percentile; expected a number strictly between 0 and 100"),
            )
            .into());
        }
    }
    if request.low >= request.high {
        return Err(InputError::new(
            "--low",
            "",
            format!("--low {} is not below --high {}", request.low, request.high),
        )
        .into());
    }
    Ok(())
}

/// Runs the tornado; `cancel` stops it.
///
/// # Errors
/// Bad input (percentiles, statistics, terms); [`Error::Interrupted`].
pub fn tornado(request: &TornadoRequest, cancel: Option<&AtomicBool>) -> Result<Tornadoes> {
    check(request)?;
    let statistics: Vec<Target> = if request.statistics.is_empty() {
        DEFAULT_STATISTICS
            .iter()
            .map(|s| Target::parse(s, "--statistic"))
            .collect::<std::result::Result<_, _>>()?
    } else {
        request.statistics.clone()
    };
    let loaded = crate::scenario::load_any_with(&request.scenario, &request.sets)?;
    let base_job = Job::from_loaded(loaded.clone());
    let (default_replications, default_seed) = base_job.defaults();
    let replications = request.replications.unwrap_or(default_replications);
    let seed = request.seed.unwrap_or(default_seed);
    let centre = central(&loaded);
    let (p_low, p_high) = (request.low / 100.0, request.high / 100.0);
    let mut all = inputs(
        &loaded,
        (normal_quantile(p_low), normal_quantile(p_high)),
        (p_low, p_high),
    );
    for (key, low, high) in &request.vary {
        // Fails here, before any run, when the key or a value is wrong.
        crate::scenario::load_any_with(
            &request.scenario,
            &[request.sets.clone(), vec![(key.clone(), format!("{low:?}"))]].concat(),
        )
        .map_err(|mut e| {
            e.message = format!("--vary {key}: {}", e.message);
            e
        })?;
        all.push(Input {
            name: key.clone(),
            change: Change::Term { key: key.clone() },
            low: *low,
            high: *high,
        });
    }
    let run = |job: &Job| -> Result<Vec<f64>> {
        if cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
            return Err(Error::Interrupted);
        }
        let options = RunOptions {
            threads: request.threads,
            cancel,
            ..RunOptions::new(seed, replications)
        };
        let results = job.run(&options)?;
        let summary = RunSummary::new(&results, &job.expected());
        statistics
            .iter()
            .map(|t| {
                t.check(&results, "--statistic")?;
                Ok(t.evaluate(&summary, &results).value)
            })
            .collect()
    };
    let base = run(&job_of(centre.clone(), None))?;
    let mut tornadoes: Vec<Tornado> = statistics
        .iter()
        .zip(&base)
        .map(|(t, &b)| Tornado {
            statistic: format!("{}.{}", t.name, t.field),
            base: b,
            bars: Vec::new(),
        })
        .collect();
    for input in &all {
        let at_low = run(&job_with(request, &centre, &input.change, input.low)?)?;
        let at_high = run(&job_with(request, &centre, &input.change, input.high)?)?;
        for (k, t) in tornadoes.iter_mut().enumerate() {
            t.bars.push(Bar {
                input: input.name.clone(),
                input_low: input.low,
                input_high: input.high,
                at_low: at_low[k],
                at_high: at_high[k],
            });
        }
    }
    for t in &mut tornadoes {
        // Widest first; NaN swings last; ties in input order (stable sort).
        t.bars.sort_by(|a, b| {
            let (x, y) = (a.swing(), b.swing());
            match (x.is_nan(), y.is_nan()) {
                (false, false) => y.total_cmp(&x),
                (a_nan, b_nan) => a_nan.cmp(&b_nan),
            }
        });
    }
    Ok(Tornadoes {
        scenario: base_job.name().to_string(),
        percentiles: (request.low, request.high),
        tornadoes,
        replications,
        seed,
        currency: base_job.currency().to_string(),
        notes: enrolment_notes(&loaded),
    })
}

impl Tornadoes {
    /// The tornadoes as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "percentiles": [self.percentiles.0, self.percentiles.1],
            "replications": self.replications,
            "seed": self.seed,
            "statistics": self.tornadoes.iter().map(|t| json!({
                "statistic": t.statistic,
                "base": number(t.base),
                "bars": t.bars.iter().map(|b| json!({
                    "input": b.input,
                    "input_low": number(b.input_low),
                    "input_high": number(b.input_high),
                    "at_low": number(b.at_low),
                    "at_high": number(b.at_high),
                    "swing": number(b.swing()),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// `tornado.csv`: one row per statistic and input, widest first.
    pub fn to_csv(&self) -> String {
        let header = [
            "statistic",
            "input",
            "input_low",
            "input_high",
            "at_low",
            "at_high",
            "base",
            "swing",
        ];
        let mut rows = vec![header.map(String::from).to_vec()];
        for t in &self.tornadoes {
            for b in &t.bars {
                rows.push(vec![
                    t.statistic.clone(),
                    b.input.clone(),
                    b.input_low.to_string(),
                    b.input_high.to_string(),
                    b.at_low.to_string(),
                    b.at_high.to_string(),
                    t.base.to_string(),
                    b.swing().to_string(),
                ]);
            }
        }
        crate::report::csv::write_rows(rows)
    }

    /// A value of `statistic` in its unit.
    fn value(&self, x: f64, statistic: &str) -> String {
        crate::report::format::target_value(x, statistic, &self.currency)
    }

    /// A sentence per statistic: its widest input.
    pub fn sentences(&self) -> Vec<String> {
        self.tornadoes
            .iter()
            .map(|t| match t.bars.first() {
                Some(b) => format!(
                    "{}: the widest input is {} — from {} at its {} % value to {} at its {} % value, around a central {}.",
                    t.statistic,
                    b.input,
                    self.value(b.at_low, &t.statistic),
                    self.percentiles.0,
                    self.value(b.at_high, &t.statistic),
                    self.percentiles.1,
                    self.value(t.base, &t.statistic)
                ),
                None => format!("{}: the scenario has no uncertain input to move.", t.statistic),
            })
            .collect()
    }

    /// The files `tornado` writes: `tornado.json`, `tornado.csv`,
    /// `tornado.svg` (the first statistic), one `tornado_<statistic>.svg`
    /// per statistic, and `report.html`.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let json = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default() + "\n";
        let mut files = vec![
            ("tornado.json".to_string(), json.into_bytes()),
            ("tornado.csv".to_string(), self.to_csv().into_bytes()),
        ];
        let mut pictures = Vec::new();
        for (k, t) in self.tornadoes.iter().enumerate() {
            // The chart shows the widest bars; the CSV and the table have all.
            let rows: Vec<(String, f64, f64)> = t
                .bars
                .iter()
                .take(CHART_BARS)
                .map(|b| (b.input.clone(), b.at_low, b.at_high))
                .collect();
            let title = format!(
                "{}: each input at its p{} and p{}",
                t.statistic, self.percentiles.0, self.percentiles.1
            );
            let Some(svg) = crate::report::plot::tornado_chart(
                &rows,
                t.base,
                &title,
                &t.statistic,
                crate::report::format::Ticks::of_target(&t.statistic, &self.currency),
            ) else {
                continue;
            };
            let file = format!("tornado_{}.svg", t.statistic.replace('.', "_"));
            if k == 0 {
                files.push(("tornado.svg".to_string(), svg.clone().into_bytes()));
            }
            files.push((file.clone(), svg.clone().into_bytes()));
            pictures.push(Picture {
                file,
                caption: format!(
                    "{}: the {} widest bars, widest first; the red line is the central value",
                    t.statistic,
                    rows.len()
                ),
                svg,
            });
        }
        let tables = self
            .tornadoes
            .iter()
            .map(|t| Table {
                caption: t.statistic.clone(),
                header: [
                    "input",
                    "input low",
                    "input high",
                    "statistic low",
                    "statistic high",
                    "swing",
                ]
                .map(String::from)
                .to_vec(),
                rows: t
                    .bars
                    .iter()
                    .map(|b| {
                        vec![
                            b.input.clone(),
                            crate::report::format::table(b.input_low),
                            crate::report::format::table(b.input_high),
                            self.value(b.at_low, &t.statistic),
                            self.value(b.at_high, &t.statistic),
                            self.value(b.swing(), &t.statistic),
                        ]
                    })
                    .collect(),
            })
            .collect();
        let mut findings = self.sentences();
        findings.extend(self.notes.iter().cloned());
        let page = Page {
            title: format!("{}: one-way sensitivity", self.scenario),
            findings,
            tables,
            pictures,
            meta: format!(
                "{} replications per run · seed {} · every other input central",
                self.replications, self.seed
            ),
        };
        files.push(("report.html".to_string(), page.render().into_bytes()));
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_must_lie_strictly_inside_and_in_order() {
        let request = |low, high| TornadoRequest {
            low,
            high,
            ..TornadoRequest::default()
        };
        assert!(check(&request(10.0, 90.0)).is_ok());
        assert!(check(&request(0.0, 90.0)).is_err());
        assert!(check(&request(10.0, 100.0)).is_err());
        assert!(check(&request(60.0, 40.0)).is_err());
    }
}
