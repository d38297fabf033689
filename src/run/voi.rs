//! `voi`: what learning the uncertain inputs before deciding is worth.
//!
//! Two decisions, each between acting and not (worth 0):
//! - the payer signs the contract, worth its net savings (discounted);
//! - the investors invest, worth the NPV of their cash flows at their rate.
//!
//! **EVPI** (expected value of perfect information), from the run's
//! replications with their parameter draws: `E[max(NB, 0)] − max(E[NB], 0)`.
//! Its Monte Carlo se is that of the mean of max(−NB, 0) (or max(NB, 0)
//! when not acting is the better choice on average).
//!
//! **EVPPI** (partial: learning one group of inputs) for each group —
//! effect, transitions, costs, shock, measurement — by nonparametric
//! regression of NB on a one-number summary of the group's draw in each
//! replication, with √R equal-count bins (Strong & Oakley's
//! regression idea, with binning as the smoother):
//! `EVPPI = Σ_b (n_b/R)·max(mean NB in b, 0) − max(E[NB], 0)`.
//! The summary of effect, transitions and costs is the exact expected true
//! savings with that group drawn and every other input central (sibsim's
//! analytic forward model); of the shock, its path's mean; of measurement,
//! the error of the measured impact (measured − true). Binning is biased
//! upwards (noise in the bin means counts as information); the bias is
//! estimated as the mean EVPPI of 20 random bin assignments (which carry no
//! information) and reported, and the se by 50 bootstrap resamples, both on
//! fixed streams, so the figures are reproducible.

use super::job::Job;
use crate::error::{Error, Result};
use crate::model::{names, InterventionArm, Scenario};
use crate::report::charts::Picture;
use crate::report::json::finite_or_null as number;
use crate::report::page::{Page, Table};
use crate::scenario::Loaded;
use crate::sim::engine::Engine;
use crate::sim::parallel::RunOptions;
use crate::sim::parameters::{draw, shock_path};
use crate::sim::record::RunResults;
use crate::sim::reviews::enrolled;
use crate::stats::information::{evpi, evppi, Worth};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct VoiRequest {
    /// Scenario or portfolio file.
    pub scenario: PathBuf,
    /// `--set` overrides.
    pub sets: Vec<(String, String)>,
    /// Replications (default: the file's).
    pub replications: Option<u64>,
    /// Seed (default: the file's).
    pub seed: Option<u64>,
    /// Worker threads.
    pub threads: Option<usize>,
}

/// One decision's value of information.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// `payer` or `investors`.
    pub who: String,
    /// The contract (`None`: the whole scenario or the pooled portfolio).
    pub contract: Option<String>,
    /// The statistic used as net benefit.
    pub statistic: String,
    /// `E[NB]`, the mean net benefit.
    pub expected: f64,
    /// Whether acting is the better choice on average.
    pub act: bool,
    /// EVPI.
    pub evpi: Worth,
    /// EVPPI per input group that this scenario has.
    pub evppi: Vec<(String, Worth)>,
}

/// The analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Voi {
    /// Scenario or portfolio name.
    pub scenario: String,
    /// Replications.
    pub replications: u64,
    /// Seed.
    pub seed: u64,
    /// Every decision analysed.
    pub decisions: Vec<Decision>,
    /// The currency of every figure.
    pub currency: String,
    /// What the analysis leaves out (a scenario with no `[uncertainty]`).
    pub notes: Vec<String>,
}

/// The groups a contract's `[uncertainty]` draws.
fn groups_of(s: &Scenario) -> Vec<&'static str> {
    let mut groups = Vec::new();
    let Some(u) = &s.uncertainty else {
        return groups;
    };
    if u.effect_sd_log > 0.0 && matches!(s.intervention.arm, InterventionArm::Effects(ref e) if !e.is_empty()) {
        groups.push("effect");
    }
    let uncertain_rows = u.transition_concentration.is_some()
        || u.baseline_posterior.is_some()
        || s.population().matrices().any(|m| m.counts().is_some());
    if uncertain_rows {
        groups.push("transitions");
    }
    if u.risk_sd_log > 0.0 && s.baseline_risk.is_some() {
        groups.push("risk");
    }
    if u.cost_cv > 0.0 {
        groups.push("costs");
    }
    if u.enrolment.is_some_and(|e| e.mean < 1.0) {
        groups.push("enrolment");
    }
    groups
}

/// Exact expected true savings of `central` for the children each wave
/// enrolled in one replication (the engine's own draw, same stream).
fn enrolment_summary(central: &Scenario, seed: u64, contract: u64, replication: u64) -> f64 {
    let mut s = central.clone();
    let Some(enrolment) = s.uncertainty.take().and_then(|u| u.enrolment) else {
        return Engine::new(s).expected().true_savings();
    };
    let planned: Vec<u64> = s.cohort.waves.iter().map(|w| w.children).collect();
    let enrolled = enrolled(&enrolment, &planned, seed, contract, replication);
    for (wave, children) in s.cohort.waves.iter_mut().zip(enrolled) {
        wave.children = children;
    }
    Engine::new(s).expected().true_savings()
}

/// Exact expected true savings of `central` with only `group` taken from
/// one replication's `drawn` parameters.
fn group_summary(central: &Scenario, group: &str, drawn: &Scenario) -> f64 {
    let mut s = central.clone();
    s.uncertainty = None;
    match group {
        "effect" => s.intervention.arm = drawn.intervention.arm.clone(),
        "transitions" => {
            s.baseline = drawn.baseline.clone();
            // The drawn population's rows at the central risk multipliers.
            if let (Some(risk), Some(drawn_risk)) = (&mut s.baseline_risk, &drawn.baseline_risk) {
                risk.population = drawn_risk.population.clone();
                s.baseline = risk.transitions();
            }
            if let InterventionArm::Transitions(_) = &s.intervention.arm {
                s.intervention.arm = drawn.intervention.arm.clone();
            }
        }
        "risk" => {
            // The drawn multipliers on the central population's rows.
            if let (Some(risk), Some(drawn_risk)) = (&mut s.baseline_risk, &drawn.baseline_risk) {
                risk.multipliers = drawn_risk.multipliers.clone();
                s.baseline = risk.transitions();
            }
        }
        _ => s.states = drawn.states.clone(),
    }
    Engine::new(s).expected().true_savings()
}

/// One contract's summaries: `(group, one value per replication)`.
type GroupSummaries = Vec<(&'static str, Vec<f64>)>;

/// Each contract's one-number summary per input group, replication by
/// replication (one parameter draw per replication serves every group).
fn group_summaries(
    contracts: &[&Scenario],
    replications: u64,
    seed: u64,
    cancel: Option<&AtomicBool>,
) -> Result<Vec<GroupSummaries>> {
    let mut per_contract = Vec::with_capacity(contracts.len());
    for (c, s) in contracts.iter().enumerate() {
        let mut groups: GroupSummaries = groups_of(s)
            .into_iter()
            .map(|g| (g, Vec::with_capacity(replications as usize)))
            .collect();
        if !groups.is_empty() {
            for r in 0..replications {
                if cancel.is_some_and(|x| x.load(std::sync::atomic::Ordering::SeqCst)) {
                    return Err(Error::Interrupted);
                }
                // One draw per replication serves every group.
                let drawn = draw(s, seed, c as u64, r);
                for (group, values) in &mut groups {
                    values.push(match *group {
                        "enrolment" => enrolment_summary(s, seed, c as u64, r),
                        _ => group_summary(s, group, &drawn),
                    });
                }
            }
        }
        per_contract.push(groups);
    }
    Ok(per_contract)
}

/// The shock's summary per replication: its path's mean (the shared path in
/// a portfolio, the contract's own otherwise).
fn shock_summary(job: &Job, replications: u64, seed: u64) -> Option<Vec<f64>> {
    // Over the horizon the engine draws the path for (pooled in a portfolio).
    let shock = match job {
        Job::Portfolio(p) => p.portfolio.shock.clone().map(|sh| (sh, p.horizon)),
        Job::Single(e) => e
            .scenario
            .uncertainty
            .as_ref()
            .and_then(|u| u.shock.clone())
            .map(|sh| (sh, e.scenario.time.horizon)),
    };
    shock.map(|(sh, horizon)| {
        (0..replications)
            .map(|r| {
                let path = shock_path(&sh, horizon, seed, r);
                path.iter().sum::<f64>() / path.len().max(1) as f64
            })
            .collect()
    })
}

/// Net benefits of one decision: `(who, contract, statistic name)`.
fn decisions_of(loaded: &Loaded) -> Vec<(&'static str, Option<String>, String)> {
    let mut out = vec![
        ("payer", None, names::NET_SAVINGS.to_string()),
        ("investors", None, names::NPV.to_string()),
    ];
    if let Loaded::Portfolio(p) = loaded {
        for c in &p.contracts {
            out.push((
                "payer",
                Some(c.name.clone()),
                names::contract(&c.name, names::NET_SAVINGS),
            ));
            out.push(("investors", Some(c.name.clone()), names::contract(&c.name, names::NPV)));
        }
    }
    out
}

/// The measurement error of each replication: measured − true impact,
/// summed over the metrics the contract(s) measure (`prefix`: a contract's
/// `contracts.<name>.` in a portfolio, or empty).
fn measurement_error(results: &RunResults, prefix: &str) -> Option<Vec<f64>> {
    let mut total: Option<Vec<f64>> = None;
    for (k, name) in results.names.iter().enumerate() {
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some(metric) = rest.strip_prefix("measured.").and_then(|m| m.strip_suffix(".impact")) else {
            continue;
        };
        let Some(truth) = results.column(&format!("{prefix}{}", names::true_impact(metric))) else {
            continue;
        };
        let sum = total.get_or_insert_with(|| vec![0.0; results.columns[k].len()]);
        for ((s, m), t) in sum.iter_mut().zip(&results.columns[k]).zip(truth) {
            *s += m - t;
        }
    }
    total
}

/// Runs the scenario and analyses both decisions.
///
/// # Errors
/// The file's input errors; [`Error::Interrupted`] when cancelled.
pub fn voi(request: &VoiRequest, cancel: Option<&AtomicBool>) -> Result<Voi> {
    let loaded = crate::scenario::load_any_with(&request.scenario, &request.sets)?;
    let job = Job::from_loaded(loaded.clone());
    let (default_replications, default_seed) = job.defaults();
    let replications = request.replications.unwrap_or(default_replications);
    let seed = request.seed.unwrap_or(default_seed);
    let options = RunOptions {
        threads: request.threads,
        cancel,
        ..RunOptions::new(seed, replications)
    };
    let results = job.run(&options)?;
    let contracts = loaded.contracts();
    let portfolio = matches!(loaded, Loaded::Portfolio(_));
    let per_contract = group_summaries(&contracts, replications, seed, cancel)?;
    let shock_summary = shock_summary(&job, replications, seed);
    let mut decisions = Vec::new();
    for (index, (who, contract, statistic)) in decisions_of(&loaded).into_iter().enumerate() {
        let Some(net) = results.column(&statistic) else {
            continue;
        };
        let expected = net.iter().filter(|v| v.is_finite()).sum::<f64>()
            / net.iter().filter(|v| v.is_finite()).count().max(1) as f64;
        let mut summaries: Vec<(String, Vec<f64>)> = Vec::new();
        let own: Vec<usize> = match &contract {
            Some(name) => contracts.iter().position(|s| &s.name == name).into_iter().collect(),
            None => (0..contracts.len()).collect(),
        };
        for group in ["effect", "transitions", "risk", "costs", "enrolment"] {
            let mut sum: Option<Vec<f64>> = None;
            for &c in &own {
                if let Some((_, values)) = per_contract[c].iter().find(|(g, _)| *g == group) {
                    let total = sum.get_or_insert_with(|| vec![0.0; values.len()]);
                    for (t, v) in total.iter_mut().zip(values) {
                        *t += v;
                    }
                }
            }
            if let Some(values) = sum {
                summaries.push((group.to_string(), values));
            }
        }
        if let Some(values) = &shock_summary {
            summaries.push(("shock".to_string(), values.clone()));
        }
        let prefix = match (&contract, portfolio) {
            (Some(name), _) => names::contract(name, ""),
            (None, true) => "contracts.".to_string(),
            (None, false) => String::new(),
        };
        let measurement = if portfolio && contract.is_none() {
            // Pooled: the sum of every contract's measurement error.
            contracts
                .iter()
                .filter_map(|s| measurement_error(&results, &names::contract(&s.name, "")))
                .reduce(|a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect())
        } else {
            measurement_error(&results, &prefix)
        };
        if let Some(values) = measurement {
            if values.iter().any(|v| *v != 0.0) {
                summaries.push(("measurement".to_string(), values));
            }
        }
        let evppi = summaries
            .into_iter()
            .enumerate()
            .map(|(g, (group, summary))| (group, evppi(net, &summary, seed, (index * 16 + g) as u64)))
            .collect();
        decisions.push(Decision {
            who: who.to_string(),
            contract,
            statistic,
            expected,
            act: expected > 0.0,
            evpi: evpi(net),
            evppi,
        });
    }
    let mut notes = Vec::new();
    if contracts.iter().all(|s| s.uncertainty.is_none()) && !portfolio {
        notes.push(
            "the scenario has no [uncertainty]: only the children's own chance (and measurement) varies".to_string(),
        );
    }
    Ok(Voi {
        scenario: job.name().to_string(),
        replications,
        seed,
        decisions,
        notes,
        currency: job.currency().to_string(),
    })
}

fn worth_json(w: &Worth) -> Value {
    json!({"value": number(w.value), "se": number(w.se), "bias": number(w.bias)})
}

/// What learning a group before deciding means, in words.
fn learning(group: &str) -> &'static str {
    match group {
        "effect" => "the programme's true effect",
        "transitions" => "the true transition rates (how often children need care)",
        "risk" => "how much riskier the group is than the population (its risk multiplier)",
        "costs" => "the true costs of care",
        "shock" => "the coming years' systemic shock",
        "enrolment" => "how many children will enrol",
        "measurement" => "the true impact behind the measured one (what a comparison-group evaluation would tell)",
        _ => "this input",
    }
}

impl Decision {
    fn whom(&self) -> String {
        let who = if self.who == "payer" {
            "the payer (signing, on net savings)"
        } else {
            "the investors (investing, on NPV)"
        };
        match &self.contract {
            Some(c) => format!("{who}, contract {c}"),
            None => who.to_string(),
        }
    }
}

impl Voi {
    /// The analysis as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "replications": self.replications,
            "seed": self.seed,
            "method": "EVPI = E[max(NB,0)] - max(E[NB],0) over replications; EVPPI by binning NB on each group's one-number summary (sqrt(R) equal-count bins), bias = mean EVPPI of 20 random binnings, se = sd of 50 bootstrap resamples",
            "decisions": self.decisions.iter().map(|d| json!({
                "who": d.who,
                "contract": d.contract,
                "net_benefit": d.statistic,
                "expected": number(d.expected),
                "decision_on_average": if d.act { "act" } else { "do not act" },
                "evpi": worth_json(&d.evpi),
                "evppi": d.evppi.iter().map(|(g, w)| (g.clone(), worth_json(w))).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// `voi.csv`: one row per decision and group (group `all` is the EVPI).
    pub fn to_csv(&self) -> String {
        let header = [
            "who",
            "contract",
            "net_benefit",
            "expected",
            "group",
            "value",
            "se",
            "bias",
        ];
        let mut rows = vec![header.map(String::from).to_vec()];
        for d in &self.decisions {
            let base = [
                d.who.clone(),
                d.contract.clone().unwrap_or_default(),
                d.statistic.clone(),
                d.expected.to_string(),
            ];
            for (group, w) in std::iter::once(("all".to_string(), d.evpi)).chain(d.evppi.iter().cloned()) {
                let mut row = base.to_vec();
                row.extend([group, w.value.to_string(), w.se.to_string(), w.bias.to_string()]);
                rows.push(row);
            }
        }
        crate::report::csv::write_rows(rows)
    }

    /// What each figure means, in words (pooled decisions first).
    pub fn sentences(&self) -> Vec<String> {
        let money = |x: f64| crate::report::format::money(x, &self.currency);
        let mut out = Vec::new();
        for d in self.decisions.iter().filter(|d| d.contract.is_none()) {
            out.push(format!(
                "For {}: on average the better choice is to {} (expected {}). Knowing everything uncertain before deciding is worth {} ± {} (EVPI).",
                d.whom(),
                if d.act { "go ahead" } else { "decline" },
                money(d.expected),
                money(d.evpi.value),
                money(d.evpi.se)
            ));
            for (group, w) in &d.evppi {
                out.push(format!(
                    "Knowing {} before deciding is worth {} ± {} to {} (EVPPI; binning bias about {}).",
                    learning(group),
                    money(w.value),
                    money(w.se),
                    d.whom(),
                    money(w.bias)
                ));
            }
        }
        out
    }

    /// The files `voi` writes: `voi.json`, `voi.csv`, `voi_payer.svg`,
    /// `voi_investors.svg` and `report.html`.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let money = |x: f64| crate::report::format::money(x, &self.currency);
        let json = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default() + "\n";
        let rows = self
            .decisions
            .iter()
            .flat_map(|d| {
                std::iter::once(("all (EVPI)".to_string(), d.evpi))
                    .chain(d.evppi.iter().cloned())
                    .map(move |(group, w)| {
                        vec![
                            d.who.clone(),
                            d.contract.clone().unwrap_or_else(|| "all".to_string()),
                            group,
                            money(w.value),
                            money(w.se),
                            money(w.bias),
                        ]
                    })
            })
            .collect();
        let mut findings = self.sentences();
        findings.extend(self.notes.iter().cloned());
        let mut files = vec![
            ("voi.json".to_string(), json.into_bytes()),
            ("voi.csv".to_string(), self.to_csv().into_bytes()),
        ];
        let mut pictures = Vec::new();
        for d in self.decisions.iter().filter(|d| d.contract.is_none()) {
            // Each figure with a ±2 se box.
            let bars: Vec<(String, f64, f64, f64)> = std::iter::once(("all (EVPI)".to_string(), d.evpi))
                .chain(d.evppi.iter().cloned())
                .map(|(group, w)| (group, w.value - 2.0 * w.se, w.value, w.value + 2.0 * w.se))
                .collect();
            let title = format!("Value of information: {}", d.whom());
            let Some(svg) = crate::report::plot::interval_chart(
                &bars,
                &title,
                "discounted",
                crate::report::format::Ticks::Money(&self.currency),
            ) else {
                continue;
            };
            let file = format!("voi_{}.svg", d.who);
            files.push((file.clone(), svg.clone().into_bytes()));
            pictures.push(Picture {
                file,
                caption: format!("{title}: each figure (line) with ±2 se (box)"),
                svg,
            });
        }
        let page = Page {
            title: format!("{}: value of information", self.scenario),
            findings,
            tables: vec![Table {
                caption: "Value of information (money, discounted)".to_string(),
                header: ["who", "contract", "learning", "worth", "± se", "binning bias"]
                    .map(String::from)
                    .to_vec(),
                rows,
            }],
            pictures,
            meta: format!("{} replications · seed {}", self.replications, self.seed),
        };
        files.push(("report.html".to_string(), page.render().into_bytes()));
        files
    }
}
