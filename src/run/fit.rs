//! `calibrate --targets`: fit a scenario's baseline to published aggregate
//! figures (stats::fit) and say how well it fits: the fitted `[baseline]`
//! table, `posterior.csv`, `fit.csv`, `fit.svg` and `fit.html`.

use crate::error::{InputError, Result};
use crate::model::targets::{predict, AggregateTarget};
use crate::model::Scenario;
use crate::report::charts::Picture;
use crate::report::format::{self, Ticks};
use crate::report::page::{Page, Table};
use crate::stats::fit::{fit, with_rows, FitOptions, Posterior};
use crate::stats::summary::quantile_sorted;
use std::path::PathBuf;

/// What to fit.
#[derive(Debug, Clone)]
pub struct FitRequest {
    /// The targets CSV.
    pub targets: PathBuf,
    /// The scenario whose baseline is fitted (a single contract).
    pub scenario: PathBuf,
    /// `--set` overrides of the scenario.
    pub sets: Vec<(String, String)>,
    /// The sampler's options.
    pub options: FitOptions,
}

/// One target against the fit.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetFit {
    /// The target.
    pub target: AggregateTarget,
    /// Its value under the file's baseline.
    pub prior_value: f64,
    /// Posterior mean and 95 % interval of its value.
    pub fitted: (f64, f64, f64),
}

impl TargetFit {
    /// (posterior mean − target) / se.
    pub fn z(&self) -> f64 {
        (self.fitted.0 - self.target.value) / self.target.se
    }

    /// `ever foster_care;institution, ages [0, 18)`.
    pub fn label(&self) -> String {
        let t = &self.target;
        format!("{} {}, ages [{}, {})", t.kind.name(), t.label, t.ages.0, t.ages.1)
    }
}

/// A finished fit.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The scenario's name.
    pub name: String,
    /// Its state names, in order (the columns of `posterior.csv`).
    pub states: Vec<String>,
    /// The fitted `[baseline]` (posterior mean), ready to paste.
    pub toml: String,
    /// Each target against the fit.
    pub fits: Vec<TargetFit>,
    /// The posterior sample.
    pub posterior: Posterior,
    /// Poor fit or poor mixing, one line each.
    pub warnings: Vec<String>,
}

/// Fits the scenario's baseline to the targets.
///
/// # Errors
/// Bad targets (file and CSV line), a bad scenario, a portfolio, or bad
/// sampler options.
pub fn fit_targets(request: &FitRequest) -> Result<Fitted> {
    let scenario = match crate::scenario::load_any_with(&request.scenario, &request.sets)? {
        crate::scenario::Loaded::Single(s) => *s,
        crate::scenario::Loaded::Portfolio(_) => {
            return Err(InputError::new(
                request.scenario.display().to_string(),
                "",
                "a portfolio has no single baseline; fit each contract's scenario (or a national one) instead",
            )
            .into())
        }
    };
    if scenario.baseline_risk.is_some() {
        return Err(InputError::new(
            request.scenario.display().to_string(),
            "baseline.risk",
            "this baseline is derived from a population's by risk multipliers; fit the population's own file (without `[[baseline.risk]]`, e.g. scenarios/finland-national.toml) and read its posterior.csv here with `[uncertainty] baseline_posterior`",
        )
        .into());
    }
    let o = &request.options;
    if o.draws < 10 || o.draws > 1_000_000 {
        return Err(InputError::new("--draws", "", format!("{} draws; expected 10 to 1,000,000", o.draws)).into());
    }
    if !(o.concentration > 0.0 && o.concentration < 1e12) {
        return Err(InputError::new(
            "--concentration",
            "",
            format!("{} is not a prior weight; expected a number > 0", o.concentration),
        )
        .into());
    }
    let file = request.targets.display().to_string();
    let bytes = crate::files::read_regular(&request.targets, crate::files::PANEL_LIMIT, "targets")?;
    let text =
        String::from_utf8(bytes).map_err(|_| InputError::new(&file, "", "the targets file is not UTF-8 text"))?;
    let targets = crate::scenario::targets::parse_targets(&text, &file, &scenario)?;
    let posterior = fit(&scenario, &targets, o);
    if posterior.rows.is_empty() {
        return Err(InputError::new(
            request.scenario.display().to_string(),
            "baseline",
            "no row of the baseline can move: every row is absorbing or has a single non-zero entry",
        )
        .into());
    }
    let prior_values = predict(&scenario, &targets);
    let fits: Vec<TargetFit> = targets
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let mut values: Vec<f64> = posterior.predicted.iter().map(|p| p[k]).collect();
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            values.sort_by(f64::total_cmp);
            TargetFit {
                target: t.clone(),
                prior_value: prior_values[k],
                fitted: (mean, quantile_sorted(&values, 0.025), quantile_sorted(&values, 0.975)),
            }
        })
        .collect();
    let mut warnings: Vec<String> = fits
        .iter()
        .filter(|f| f.z().abs() > 3.0)
        .map(|f| {
            format!(
                "{file}: line {}: {} is fitted at {:.4}, {:.1} se from the target {:.4}: the baseline's shape cannot reach it (check the target's definition, its se, or the bands)",
                f.target.line,
                f.label(),
                f.fitted.0,
                f.z(),
                f.target.value
            )
        })
        .collect();
    if posterior.ess < 200.0 {
        warnings.push(format!(
            "effective sample size {:.0} is below 200: run more --draws (the chain mixes slowly)",
            posterior.ess
        ));
    }
    let toml = fitted_toml(&scenario, &posterior, &file, targets.len());
    Ok(Fitted {
        name: scenario.name.clone(),
        states: scenario.states.iter().map(|s| s.name.clone()).collect(),
        toml,
        fits,
        posterior,
        warnings,
    })
}

/// The posterior mean of every free row, each renormalised.
fn posterior_mean(posterior: &Posterior) -> Vec<f64> {
    let n = posterior.draws.len().max(1) as f64;
    let mut mean = vec![0.0; posterior.draws.first().map_or(0, Vec::len)];
    for draw in &posterior.draws {
        for (m, v) in mean.iter_mut().zip(draw) {
            *m += v / n;
        }
    }
    let mut k = 0;
    for r in &posterior.rows {
        let row = &mut mean[k..k + r.columns.len()];
        let total: f64 = row.iter().sum();
        row.iter_mut().for_each(|v| *v /= total);
        k += r.columns.len();
    }
    mean
}

/// The fitted `[baseline]` table (posterior mean), in the file's bands.
fn fitted_toml(scenario: &Scenario, posterior: &Posterior, file: &str, targets: usize) -> String {
    let fitted = with_rows(scenario, &posterior.rows, &posterior_mean(posterior));
    let names: Vec<&str> = scenario.states.iter().map(|s| s.name.as_str()).collect();
    let matrix = |m: &crate::model::StochasticMatrix| {
        let mut out = String::from("[\n");
        for (i, name) in names.iter().enumerate() {
            let row: Vec<String> = m.row(i).iter().map(|p| format!("{p:?}")).collect();
            out.push_str(&format!("  [{}],   # from {name}\n", row.join(", ")));
        }
        out.push(']');
        out
    };
    let mut out = format!(
        "# Baseline fitted by `sibsim calibrate --targets {file}` to {targets} targets: the posterior mean of {} draws; columns: {}\n[baseline]\nmatrix = {}\n",
        posterior.draws.len(),
        names.join(", "),
        matrix(&fitted.baseline.default)
    );
    for band in &fitted.baseline.bands {
        out.push_str("[[baseline.bands]]\n");
        if let Some((from, to)) = band.cycles {
            out.push_str(&format!("cycles = [{from}, {to}]\n"));
        }
        if let Some((from, to)) = band.ages {
            out.push_str(&format!("ages = [{from:?}, {to:?}]\n"));
        }
        out.push_str(&format!("matrix = {}\n", matrix(&band.matrix)));
    }
    out
}

impl Fitted {
    /// `posterior.csv`: one row a draw, a column per entry of every free
    /// row, named `default/<from>/<to>` or `band<k>/<from>/<to>`.
    pub fn posterior_csv(&self) -> String {
        let scenario_states = &self.states;
        let mut header = Vec::new();
        for r in &self.posterior.rows {
            let matrix = r.band.map_or("default".to_string(), |b| format!("band{b}"));
            for &j in &r.columns {
                header.push(format!("{matrix}/{}/{}", scenario_states[r.row], scenario_states[j]));
            }
        }
        let mut rows = vec![header];
        for draw in &self.posterior.draws {
            rows.push(draw.iter().map(|p| format!("{p:?}")).collect());
        }
        crate::report::csv::write_rows(rows)
    }

    /// `fit.csv`: one row a target.
    pub fn fit_csv(&self) -> String {
        let mut rows = vec![[
            "line",
            "kind",
            "states",
            "age_from",
            "age_to",
            "target",
            "se",
            "file_baseline",
            "fitted_mean",
            "fitted_p025",
            "fitted_p975",
            "z",
        ]
        .map(String::from)
        .to_vec()];
        for f in &self.fits {
            let t = &f.target;
            rows.push(vec![
                t.line.to_string(),
                t.kind.name().to_string(),
                t.label.clone(),
                t.ages.0.to_string(),
                t.ages.1.to_string(),
                t.value.to_string(),
                t.se.to_string(),
                f.prior_value.to_string(),
                f.fitted.0.to_string(),
                f.fitted.1.to_string(),
                f.fitted.2.to_string(),
                f.z().to_string(),
            ]);
        }
        crate::report::csv::write_rows(rows)
    }

    /// How the sampler did, in one line.
    pub fn diagnostics(&self) -> String {
        format!(
            "{} draws of {} free rows ({} parameters); acceptance {}; effective sample size {:.0} (smallest over parameters)",
            self.posterior.draws.len(),
            self.posterior.rows.len(),
            self.posterior.draws.first().map_or(0, Vec::len),
            format::percent(self.posterior.acceptance),
            self.posterior.ess
        )
    }

    /// The files of the fit: `posterior.csv`, `fit.csv`, `fit.svg`,
    /// `fit.html` and `baseline.toml`.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let value = |f: &TargetFit, x: f64| match f.target.kind {
            crate::model::targets::TargetKind::MeanCycles => format!("{x:.3}"),
            _ => format::percent(x),
        };
        let rows: Vec<(String, f64, f64, f64)> = self
            .fits
            .iter()
            .map(|f| {
                let se = f.target.se;
                (
                    f.label(),
                    (f.fitted.1 - f.target.value) / se,
                    f.z(),
                    (f.fitted.2 - f.target.value) / se,
                )
            })
            .collect();
        let svg = crate::report::plot::interval_chart(
            &rows,
            "Fitted against published: distance from each target",
            "standard errors from the target (95 % posterior interval, mean marked)",
            Ticks::Plain,
        );
        let mut files = vec![
            ("baseline.toml".to_string(), self.toml.clone().into_bytes()),
            ("posterior.csv".to_string(), self.posterior_csv().into_bytes()),
            ("fit.csv".to_string(), self.fit_csv().into_bytes()),
        ];
        let mut pictures = Vec::new();
        if let Some(svg) = svg {
            files.push(("fit.svg".to_string(), svg.clone().into_bytes()));
            pictures.push(Picture {
                file: "fit.svg".to_string(),
                caption: "Each target: the fitted value's 95 % posterior interval and mean, in standard errors from the published value (within ±2 is a good fit)".to_string(),
                svg,
            });
        }
        let table = Table {
            caption: "Targets against the fit".to_string(),
            header: [
                "target",
                "published ± se",
                "file's baseline",
                "fitted mean",
                "95 % interval",
                "z",
            ]
            .map(String::from)
            .to_vec(),
            rows: self
                .fits
                .iter()
                .map(|f| {
                    vec![
                        f.label(),
                        format!("{} ± {}", value(f, f.target.value), value(f, f.target.se)),
                        value(f, f.prior_value),
                        value(f, f.fitted.0),
                        format!("{} – {}", value(f, f.fitted.1), value(f, f.fitted.2)),
                        format!("{:.2}", f.z()).replacen('-', "\u{2212}", 1),
                    ]
                })
                .collect(),
        };
        let mut findings = vec![self.diagnostics()];
        findings.extend(self.warnings.iter().cloned());
        let page = Page {
            title: format!("{}: baseline fitted to published targets", self.name),
            findings,
            tables: vec![table],
            pictures,
            meta: "adaptive Metropolis on each row's log-ratios, Dirichlet prior around the file's baseline, normal likelihood on each target".to_string(),
        };
        files.push(("fit.html".to_string(), page.render().into_bytes()));
        files
    }
}
