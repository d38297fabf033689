//! The key terms of a contract, in words, for the report: what a reader
//! checks first (the cohort, the programme, each payment rule, the fund).

use crate::model::contract::{Baseline, Contract, Measurement, Rule};
use crate::model::fund::{Distribute, Fund};
use crate::model::{ProgrammePayer, Scenario};

/// The scenario's key terms, for the report.
pub fn key_terms(scenario: &Scenario) -> Vec<(String, String)> {
    let mut terms = Vec::new();
    let mut add = |k: &str, v: String| terms.push((k.to_string(), v));
    let time = &scenario.time;
    add(
        "time",
        format!(
            "{} cycles of {} years from {}",
            time.horizon, time.cycle_years, time.start_year
        ),
    );
    add(
        "cohort",
        format!(
            "{} children in {} wave(s)",
            scenario.children(),
            scenario.cohort.waves.len()
        ),
    );
    add(
        "states",
        scenario
            .states
            .iter()
            .map(|s| format!("{} ({}/cycle)", s.name, s.cost))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let iv = &scenario.intervention;
    add(
        "programme",
        format!(
            "{} cycles per child, {} per child per cycle, {} fixed per cycle, paid by the {}",
            iv.duration,
            iv.cost_per_child_cycle,
            iv.fixed_cost_per_cycle,
            if iv.payer == ProgrammePayer::Fund {
                "fund"
            } else {
                "outcome payer"
            }
        ),
    );
    add(
        "discounting",
        format!(
            "payer {} %, investors {} % a year",
            scenario.discounting.payer_rate * 100.0,
            scenario.discounting.investor_rate * 100.0
        ),
    );
    if let Some(c) = &scenario.contract {
        contract_terms(scenario, c, &mut add);
    }
    if let Some(f) = &scenario.fund {
        fund_terms(f, &mut add);
    }
    terms
}

/// The measurement, each payment component, the total cap and clawback.
fn contract_terms(scenario: &Scenario, c: &Contract, add: &mut impl FnMut(&str, String)) {
    add(
        "measurement",
        match c.measurement {
            Measurement::FixedBaseline => "against a fixed baseline".to_string(),
            Measurement::ControlGroup { size } => format!("against a comparison group of {size} children"),
            Measurement::ExPost => "ex post: outcomes counted in the programme group, no counterfactual".to_string(),
        },
    );
    for (i, p) in c.components.iter().enumerate() {
        let rule = match &p.rule {
            Rule::RateCard { price } => format!("rate card, {price} per unit of impact"),
            Rule::SavingsShare { share } => format!("{} % of measured savings", share * 100.0),
            Rule::Tiers { points, linear } => {
                format!("tiers {:?} ({})", points, if *linear { "linear" } else { "step" })
            }
            Rule::PerEnrolment { price } => format!("{price} per child who starts the programme"),
        };
        let baseline = match &p.baseline {
            Baseline::Stated(v) => format!("baseline {v:?}"),
            Baseline::Expected => "baseline = exact expectation".to_string(),
            Baseline::FromControl => "baseline from the comparison group".to_string(),
            Baseline::ExPost => "per outcome counted in the programme group (ex post, no counterfactual)".to_string(),
            Baseline::Enrolment => "paid at the end of each wave's entry cycle".to_string(),
        };
        let mut text = match p.metric {
            Some(m) => format!(
                "on `{}`: {rule}; {baseline}; paid at the end of cycles {:?}",
                scenario.metrics[m].name, p.at
            ),
            None => format!("{rule}; {baseline} (cycles {:?})", p.at),
        };
        if let Some(t) = p.threshold {
            text.push_str(&format!("; threshold {} %", t * 100.0));
        }
        if let Some(cap) = p.cap {
            text.push_str(&format!("; cap {cap}"));
        }
        if let Some(cap) = p.cap_per_date {
            text.push_str(&format!("; cap per date {cap}"));
        }
        add(&format!("payment {}", i + 1), text);
    }
    if let Some(m) = c.max_total {
        add("total cap", format!("{m}"));
    }
    if let Some(m) = c.max_per_child {
        add(
            "cap per child",
            format!("{m} on all per-participant payments for one child"),
        );
    }
    if c.lag_cycles > 0 {
        add(
            "payment lag",
            format!("outcome payments arrive {} cycle(s) after their date", c.lag_cycles),
        );
    }
    add("clawback", if c.clawback { "yes" } else { "no" }.to_string());
    for (i, r) in c.reviews.iter().enumerate() {
        let mut when = Vec::new();
        if let (Some(below), Some(component)) = (r.below, r.component) {
            let metric = c.components[component]
                .metric
                .map_or("", |m| scenario.metrics[m].name.as_str());
            when.push(format!(
                "if the measured relative effect on `{metric}` is below {below}"
            ));
        }
        if r.probability > 0.0 {
            when.push(format!("with probability {} anyway", r.probability));
        }
        let action = match r.action {
            crate::model::contract::ReviewAction::StopEnrolment => {
                "stop enrolling (later waves never start)".to_string()
            }
            crate::model::contract::ReviewAction::Terminate { payment_share } => format!(
                "terminate (the payer pays {} % of the capital called to date)",
                payment_share * 100.0
            ),
        };
        add(
            &format!("review {}", i + 1),
            format!("at the end of cycle {}: {action} {}", r.at, when.join(", or ")),
        );
    }
}

/// Capital, fees, distribution, tranches, guarantee and return cap.
fn fund_terms(f: &Fund, add: &mut impl FnMut(&str, String)) {
    add(
        "fund",
        format!(
            "capital {}, fee {} % a year, distributed {}",
            f.capital,
            f.management_fee * 100.0,
            if f.distribute == Distribute::AtEnd {
                "at the end"
            } else {
                "on receipt"
            }
        ),
    );
    if f.tranches.len() > 1 {
        add(
            "tranches",
            f.tranches
                .iter()
                .map(|t| format!("{} {} % (coupon {} %)", t.name, t.share * 100.0, t.coupon * 100.0))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    if let Some(g) = f.first_loss {
        add(
            "guarantee",
            format!("first loss {} % of junior capital loss", g * 100.0),
        );
    }
    if let Some(m) = f.return_cap_multiple {
        add("return cap", format!("{m} x capital"));
    }
}
