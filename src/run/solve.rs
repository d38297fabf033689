//! `solve`: the value of one key at which a statistic reaches a target.
//!
//! Every evaluation runs the same replications on the same seed (common
//! random numbers), so the statistic is a deterministic function of the
//! value — usually monotone, often a step function. The search brackets the
//! target in the range and bisects to a relative width of 1e-6. It stops
//! with a clear message when the target is not bracketed, and when the
//! points it evaluated show the function is not monotone. The honest
//! precision of the answer is the interval of values whose statistic lies
//! within 2 Monte Carlo standard errors of the target (found the same way).

use super::job::Job;
use crate::error::{Error, InputError, Result};
use crate::report::json::finite_or_null as number;
use crate::sim::parallel::RunOptions;
use crate::stats::target::{Estimate, Target};
use crate::stats::RunSummary;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bisection stops when the bracket is narrower than this share of the range.
pub const RELATIVE_TOLERANCE: f64 = 1e-6;
/// At most this many evaluations per root.
pub const MAX_STEPS: usize = 60;

/// What to solve.
#[derive(Debug, Clone, Default)]
pub struct SolveRequest {
    /// Scenario or portfolio file.
    pub scenario: PathBuf,
    /// `--set` overrides applied at every evaluation.
    pub sets: Vec<(String, String)>,
    /// The key that varies (`contract.payments[0].price`, or
    /// `contracts.<name>.<key>` in a portfolio).
    pub key: String,
    /// The statistic and field to reach.
    pub target: Option<Target>,
    /// Its target value.
    pub value: f64,
    /// Where to search (default: 0 to twice the file's value).
    pub range: Option<(f64, f64)>,
    /// Replications per evaluation (default: the file's).
    pub replications: Option<u64>,
    /// Seed (default: the file's).
    pub seed: Option<u64>,
    /// Worker threads.
    pub threads: Option<usize>,
}

/// One evaluated value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The key's value.
    pub value: f64,
    /// The statistic there.
    pub statistic: Estimate,
}

/// The answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Scenario or portfolio name.
    pub scenario: String,
    /// The varied key.
    pub key: String,
    /// The statistic (`NAME.FIELD`).
    pub statistic: String,
    /// Its target value.
    pub target: f64,
    /// The key's value that reaches the target.
    pub value: f64,
    /// The statistic at that value.
    pub achieved: Estimate,
    /// Values whose statistic lies within 2 se of the target (None when the
    /// statistic has no se); an end is `None` when it lies outside the range.
    pub interval: Option<(Option<f64>, Option<f64>)>,
    /// The searched range.
    pub range: (f64, f64),
    /// Whether the key takes whole numbers.
    pub integer: bool,
    /// Every evaluation, in value order.
    pub points: Vec<Point>,
    /// Replications per evaluation.
    pub replications: u64,
    /// Seed.
    pub seed: u64,
    /// The currency of money statistics.
    pub currency: String,
}

/// The search: loads and runs the file at a value of the key.
struct Search<'a> {
    request: &'a SolveRequest,
    target: &'a Target,
    seed: u64,
    replications: u64,
    integer: bool,
    cancel: Option<&'a AtomicBool>,
    points: Vec<Point>,
}

fn text_of(value: f64, integer: bool) -> String {
    if integer {
        format!("{}", value.round() as i64)
    } else {
        // Debug keeps a decimal point (45000.0), so TOML reads a float.
        format!("{value:?}")
    }
}

impl Search<'_> {
    /// The statistic at `value` (cached: the same value gives the same bits).
    fn at(&mut self, value: f64) -> Result<Estimate> {
        if let Some(p) = self.points.iter().find(|p| p.value == value) {
            return Ok(p.statistic);
        }
        if self.cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
            return Err(Error::Interrupted);
        }
        let mut sets = self.request.sets.clone();
        sets.push((self.request.key.clone(), text_of(value, self.integer)));
        let job = Job::load(&self.request.scenario, &sets)?;
        let options = RunOptions {
            threads: self.request.threads,
            cancel: self.cancel,
            ..RunOptions::new(self.seed, self.replications)
        };
        let results = job.run(&options)?;
        self.target.check(&results, "--target")?;
        let summary = RunSummary::new(&results, &job.expected());
        let statistic = self.target.evaluate(&summary, &results);
        self.points.push(Point { value, statistic });
        Ok(statistic)
    }

    /// The boundary in [lo, hi] where the statistic crosses `goal`, when it
    /// does (`None`: not bracketed). Bisects on the sign of statistic − goal.
    fn root(&mut self, goal: f64, lo: f64, hi: f64) -> Result<Option<f64>> {
        let (mut a, mut b) = (lo, hi);
        let fa = self.at(a)?.value - goal;
        let fb = self.at(b)?.value - goal;
        if fa.is_nan() || fb.is_nan() {
            return Ok(None);
        }
        if fa == 0.0 {
            return Ok(Some(a));
        }
        if fb == 0.0 {
            return Ok(Some(b));
        }
        if fa.signum() == fb.signum() {
            return Ok(None);
        }
        // Start from the tightest bracket among the points already known:
        // walking from `a` towards `b`, the last point on a's side and the
        // first past the crossing.
        let (low, high) = (a.min(b), a.max(b));
        let mut inside: Vec<Point> = self
            .points
            .iter()
            .copied()
            .filter(|p| p.value > low && p.value < high && !p.statistic.value.is_nan())
            .collect();
        let start = a;
        inside.sort_by(|p, q| (p.value - start).abs().total_cmp(&(q.value - start).abs()));
        for p in inside {
            if (p.statistic.value - goal).signum() == fa.signum() {
                a = p.value;
            } else {
                b = p.value;
                break;
            }
        }
        let tolerance = (hi - lo).abs() * RELATIVE_TOLERANCE;
        for _ in 0..MAX_STEPS {
            if (b - a).abs() <= tolerance || (self.integer && (b - a).abs() <= 1.0) {
                break;
            }
            let mut middle = a + (b - a) / 2.0;
            if self.integer {
                middle = middle.round();
                if middle == a || middle == b {
                    break;
                }
            }
            let f = self.at(middle)?.value - goal;
            if f == 0.0 {
                return Ok(Some(middle));
            }
            if f.is_nan() || f.signum() == fa.signum() {
                a = middle;
            } else {
                b = middle;
            }
        }
        // The end that reaches the goal (the first value past the crossing).
        Ok(Some(b))
    }

    /// Fails when the evaluated points go up and down.
    fn check_monotone(&self) -> Result<()> {
        let mut points: Vec<&Point> = self.points.iter().filter(|p| p.statistic.value.is_finite()).collect();
        points.sort_by(|p, q| p.value.total_cmp(&q.value));
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return Ok(());
        };
        let direction = (last.statistic.value - first.statistic.value).signum();
        for w in points.windows(2) {
            let step = w[1].statistic.value - w[0].statistic.value;
            let scale = w[0].statistic.value.abs().max(w[1].statistic.value.abs()).max(1e-300);
            if step.signum() == -direction && step.abs() > 1e-12 * scale {
                let name = self.target_name();
                return Err(Error::Input(InputError::new(
                    "--vary",
                    &self.request.key,
                    format!(
                        "{name} is not monotone in `{}` where it was searched: {} at {}, {} at {}, but {} at {} and {} at {}; narrow --range to one side of the turn",
                        self.request.key,
                        first.statistic.value,
                        first.value,
                        last.statistic.value,
                        last.value,
                        w[0].statistic.value,
                        w[0].value,
                        w[1].statistic.value,
                        w[1].value
                    ),
                )));
            }
        }
        Ok(())
    }

    fn target_name(&self) -> String {
        format!("{}.{}", self.target.name, self.target.field)
    }
}

/// The search range: the request's, or 0 to twice the file's value.
fn range_of(request: &SolveRequest, current: Option<&toml::Value>) -> Result<(f64, f64)> {
    if let Some((lo, hi)) = request.range {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(InputError::new(
                "--range",
                "",
                format!("{lo},{hi} is not a range; expected LO,HI with LO < HI"),
            )
            .into());
        }
        return Ok((lo, hi));
    }
    let value = current.and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)));
    match value {
        Some(v) if v > 0.0 && v.is_finite() => Ok((0.0, 2.0 * v)),
        _ => Err(InputError::new(
            "--range",
            &request.key,
            "give --range LO,HI: the file's value of the key is not a positive number to search around",
        )
        .into()),
    }
}

/// Solves for the key's value; `cancel` stops between and within runs.
///
/// # Errors
/// Bad input (a key that is not numeric, an unknown statistic, an empty
/// range, a target not bracketed, a function that is not monotone);
/// [`Error::Interrupted`] when cancelled.
pub fn solve(request: &SolveRequest, cancel: Option<&AtomicBool>) -> Result<Solution> {
    let target = request
        .target
        .as_ref()
        .ok_or_else(|| InputError::new("--target", "", "missing: give --target STAT=VALUE"))?;
    if !request.value.is_finite() {
        return Err(InputError::new("--target", "", "the target value must be a finite number").into());
    }
    if request.sets.iter().any(|(k, _)| *k == request.key) {
        return Err(InputError::new(
            "--vary",
            &request.key,
            "the key is also given with --set; vary it or set it, not both",
        )
        .into());
    }
    let current = crate::scenario::value_at(&request.scenario, &request.key, &request.sets, "--vary")?;
    let integer = match &current {
        Some(toml::Value::Integer(_)) => true,
        Some(toml::Value::Float(_)) | None => false,
        Some(other) => {
            return Err(InputError::new(
                "--vary",
                &request.key,
                format!("`{}` is {other}, not a number; solve varies a numeric key", request.key),
            )
            .into())
        }
    };
    let (lo, hi) = range_of(request, current.as_ref())?;
    let base = Job::load(&request.scenario, &request.sets)?;
    let (default_replications, default_seed) = base.defaults();
    let mut search = Search {
        request,
        target,
        seed: request.seed.unwrap_or(default_seed),
        replications: request.replications.unwrap_or(default_replications),
        integer,
        cancel,
        points: Vec::new(),
    };
    let name = search.target_name();
    let Some(value) = search.root(request.value, lo, hi)? else {
        let (a, b) = (search.at(lo)?.value, search.at(hi)?.value);
        return Err(InputError::new(
            "--range",
            &request.key,
            format!(
                "the target {name} = {} is not bracketed in [{lo}, {hi}]: it is {a} at {lo} and {b} at {hi}; widen --range or change the target",
                request.value
            ),
        )
        .into());
    };
    search.check_monotone()?;
    let achieved = search.at(value)?;
    let interval = if achieved.se.is_finite() && achieved.se > 0.0 {
        let low = search.root(request.value - 2.0 * achieved.se, lo, hi)?;
        let high = search.root(request.value + 2.0 * achieved.se, lo, hi)?;
        search.check_monotone()?;
        let (a, b) = match (low, high) {
            (Some(x), Some(y)) if x > y => (Some(y), Some(x)),
            (x, y) => (x, y),
        };
        Some((a, b))
    } else {
        None
    };
    let mut points = search.points;
    points.sort_by(|p, q| p.value.total_cmp(&q.value));
    Ok(Solution {
        scenario: base.name().to_string(),
        key: request.key.clone(),
        statistic: name,
        target: request.value,
        value,
        achieved,
        interval,
        range: (lo, hi),
        integer,
        points,
        replications: search.replications,
        seed: search.seed,
        currency: base.currency().to_string(),
    })
}

impl Solution {
    /// The answer as JSON (what the command prints).
    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "vary": self.key,
            "target": {"statistic": self.statistic, "value": self.target},
            "value": self.value,
            "achieved": {"value": number(self.achieved.value), "se": number(self.achieved.se)},
            "interval_2se": self.interval.map(|(a, b)| json!([a.map(number), b.map(number)])),
            "interval_note": match self.interval {
                None => "the statistic has no Monte Carlo se here, so no interval is given",
                Some((None, _)) | Some((_, None)) => "values within 2 se of the target; a null end lies outside the searched range",
                Some(_) => "values whose statistic lies within 2 Monte Carlo se of the target",
            },
            "range": [self.range.0, self.range.1],
            "evaluations": self.points.len(),
            "replications": self.replications,
            "seed": self.seed,
        })
    }

    /// One sentence that says what was found.
    pub fn sentence(&self) -> String {
        let interval = match self.interval {
            Some((Some(a), Some(b))) => format!("; values from {a} to {b} reach it within 2 standard errors"),
            Some((a, b)) => format!(
                "; values from {} to {} reach it within 2 standard errors (an open end lies outside the range searched)",
                a.map_or("below the range".to_string(), |a| a.to_string()),
                b.map_or("above the range".to_string(), |b| b.to_string())
            ),
            None => String::new(),
        };
        format!(
            "{} reaches {} = {} at {} = {} (achieved {} ± {}){interval}.",
            self.scenario, self.statistic, self.target, self.key, self.value, self.achieved.value, self.achieved.se
        )
    }

    /// `solve.csv`: every evaluated value with the statistic and its se.
    pub fn to_csv(&self) -> String {
        let header = vec!["value".to_string(), self.statistic.clone(), "se".to_string()];
        let rows = self.points.iter().map(|p| {
            vec![
                p.value.to_string(),
                p.statistic.value.to_string(),
                p.statistic.se.to_string(),
            ]
        });
        crate::report::csv::write_rows(std::iter::once(header).chain(rows))
    }
}

impl Solution {
    /// The files `solve` writes: `solve.json`, `solve.csv`, `solve.svg`
    /// and `report.html`.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let json = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default() + "\n";
        let mut files = vec![
            ("solve.json".to_string(), json.into_bytes()),
            ("solve.csv".to_string(), self.to_csv().into_bytes()),
        ];
        let xy: Vec<(f64, f64)> = self.points.iter().map(|p| (p.value, p.statistic.value)).collect();
        let chart = crate::report::plot::solve_chart(
            &xy,
            self.target,
            Some((self.value, self.achieved.value)),
            &format!("{} against {}", self.statistic, self.key),
            &self.key,
            (
                &self.statistic,
                crate::report::format::Ticks::of_target(&self.statistic, &self.currency),
            ),
        );
        let mut pictures = Vec::new();
        if let Some(svg) = chart {
            files.push(("solve.svg".to_string(), svg.clone().into_bytes()));
            pictures.push(crate::report::charts::Picture {
                file: "solve.svg".to_string(),
                caption: "Every evaluated value (common random numbers), the target (dashed) and the answer (circled)"
                    .to_string(),
                svg,
            });
        }
        let table = crate::report::page::Table {
            caption: "Evaluations".to_string(),
            header: vec![self.key.clone(), self.statistic.clone(), "± se".to_string()],
            rows: self
                .points
                .iter()
                .map(|p| {
                    vec![
                        p.value.to_string(),
                        crate::report::format::target_value(p.statistic.value, &self.statistic, &self.currency),
                        crate::report::format::target_value(p.statistic.se, &self.statistic, &self.currency),
                    ]
                })
                .collect(),
        };
        let page = crate::report::page::Page {
            title: format!("{}: solve for {}", self.scenario, self.key),
            findings: vec![self.sentence()],
            tables: vec![table],
            pictures,
            meta: format!("{} replications per evaluation · seed {}", self.replications, self.seed),
        };
        files.push(("report.html".to_string(), page.render().into_bytes()));
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_toml_type() {
        assert_eq!(text_of(45000.0, false), "45000.0");
        assert_eq!(text_of(0.125, false), "0.125");
        assert_eq!(text_of(12.6, true), "13");
    }

    #[test]
    fn points_that_go_up_and_down_are_reported_as_not_monotone() {
        let request = SolveRequest {
            key: "contract.payments[0].price".to_string(),
            ..SolveRequest::default()
        };
        let target = Target::parse("investor.irr.p50", "--target").unwrap();
        let point = |value: f64, statistic: f64| Point {
            value,
            statistic: Estimate {
                value: statistic,
                se: 0.0,
            },
        };
        let mut search = Search {
            request: &request,
            target: &target,
            seed: 1,
            replications: 1,
            integer: false,
            cancel: None,
            points: vec![point(0.0, 0.0), point(2.0, 2.0), point(1.0, 1.0)],
        };
        assert!(search.check_monotone().is_ok());
        search.points.push(point(1.5, 0.5));
        let error = search.check_monotone().unwrap_err().to_string();
        assert!(error.contains("not monotone"), "{error}");
    }

    #[test]
    fn a_range_must_be_ordered_and_finite() {
        let request = SolveRequest {
            range: Some((5.0, 1.0)),
            ..SolveRequest::default()
        };
        assert!(range_of(&request, None).is_err());
        let request = SolveRequest::default();
        assert_eq!(range_of(&request, Some(&toml::Value::Float(3.0))).unwrap(), (0.0, 6.0));
        assert!(range_of(&request, Some(&toml::Value::Float(0.0))).is_err());
    }
}
