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
        },
    );
    for (i, p) in c.components.iter().enumerate() {
        let rule = match &p.rule {
            Rule::RateCard { price } => format!("rate card, {price} per unit of impact"),
            Rule::SavingsShare { share } => format!("{} % of measured savings", share * 100.0),
            Rule::Tiers { points, linear } => {
                format!("tiers {:?} ({})", points, if *linear { "linear" } else { "step" })
            }
        };
        let baseline = match &p.baseline {
            Baseline::Stated(v) => format!("baseline {v:?}"),
            Baseline::Expected => "baseline = exact expectation".to_string(),
            Baseline::FromControl => "baseline from the comparison group".to_string(),
        };
        let mut text = format!(
            "on `{}`: {rule}; {baseline}; paid at the end of cycles {:?}",
            scenario.metrics[p.metric].name, p.at
        );
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
    add("clawback", if c.clawback { "yes" } else { "no" }.to_string());
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
