//! The key terms of a contract, in words, for the report: what a reader
//! checks first (the cohort, the programme, each payment rule, the fund).

use super::format::{money, percent};
use crate::model::contract::{Baseline, Contract, Measurement, Rule};
use crate::model::fund::{Distribute, Fund};
use crate::model::{ProgrammePayer, Scenario};

/// The calendar time at the end of cycle `t`: `2022`, or `2022.5`.
fn end_of(scenario: &Scenario, t: usize) -> String {
    let year = scenario.time.start_year + (t + 1) as f64 * scenario.time.cycle_years;
    if (year - year.round()).abs() < 1e-9 {
        format!("{year:.0}")
    } else {
        format!("{year:.2}").trim_end_matches('0').to_string()
    }
}

/// "the end of 2022, 2025 and 2028 (cycles 3, 6, 9)".
fn dates(scenario: &Scenario, at: &[usize]) -> String {
    let years: Vec<String> = at.iter().map(|&t| end_of(scenario, t)).collect();
    let listed = match years.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    let cycles: Vec<String> = at.iter().map(|t| t.to_string()).collect();
    let word = if at.len() == 1 { "cycle" } else { "cycles" };
    format!("the end of {listed} ({word} {})", cycles.join(", "))
}

/// `n` and a noun, plural unless `n` is 1: `1 wave`, `2 waves`.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The scenario's key terms, for the report.
pub fn key_terms(scenario: &Scenario) -> Vec<(String, String)> {
    let mut terms = Vec::new();
    let mut add = |k: &str, v: String| terms.push((k.to_string(), v));
    let time = &scenario.time;
    let cash = |x: f64| money(x, &scenario.currency);
    let cycle = if time.cycle_years == 1.0 {
        "yearly cycles".to_string()
    } else {
        format!("cycles of {} years", time.cycle_years)
    };
    add(
        "time",
        format!(
            "{} {cycle}, from {} to the end of {}",
            time.horizon,
            time.start_year,
            end_of(scenario, time.horizon.saturating_sub(1))
        ),
    );
    add(
        "cohort",
        format!(
            "{} children in {}",
            scenario.children(),
            counted(scenario.cohort.waves.len(), "wave")
        ),
    );
    add(
        "states",
        scenario
            .states
            .iter()
            .map(|s| format!("{} ({} a cycle)", s.name, cash(s.cost)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let iv = &scenario.intervention;
    add(
        "programme",
        format!(
            "{} cycles per child, {} per child per cycle, {} fixed per cycle, paid by the {}",
            iv.duration,
            cash(iv.cost_per_child_cycle),
            cash(iv.fixed_cost_per_cycle),
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
            "payer {}, investors {} a year",
            percent(scenario.discounting.payer_rate),
            percent(scenario.discounting.investor_rate)
        ),
    );
    if let Some(c) = &scenario.contract {
        contract_terms(scenario, c, &mut add);
    }
    if let Some(f) = &scenario.fund {
        fund_terms(f, &scenario.currency, &mut add);
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
    let cash = |x: f64| money(x, &scenario.currency);
    for (i, p) in c.components.iter().enumerate() {
        let rule = match &p.rule {
            Rule::RateCard { price } if p.baseline == Baseline::ExPost => {
                format!("{} per child counted with the outcome", cash(*price))
            }
            Rule::RateCard { price } => format!("{} per unit of impact", cash(*price)),
            Rule::SavingsShare { share } => format!("{} of the measured savings", percent(*share)),
            Rule::Tiers { points, linear } => {
                let steps: Vec<String> = points
                    .iter()
                    .map(|(effect, amount)| {
                        format!(
                            "{} in all from a relative effect of {}",
                            cash(*amount),
                            percent(*effect)
                        )
                    })
                    .collect();
                let shape = if *linear {
                    "linear between the points"
                } else {
                    "in steps"
                };
                format!("tiers ({shape}): {}", steps.join("; "))
            }
            Rule::PerEnrolment { price } => format!("{} per child who starts the programme", cash(*price)),
        };
        let baseline = match &p.baseline {
            Baseline::Stated(v) => {
                let values: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
                format!("against a stated baseline of {}", values.join(", "))
            }
            Baseline::Expected => "against the exact expected baseline".to_string(),
            Baseline::FromControl => "against the comparison group".to_string(),
            Baseline::ExPost => "in the programme group (ex post, no counterfactual)".to_string(),
            Baseline::Enrolment => "paid at the end of each wave's entry cycle".to_string(),
        };
        let paid = match c.lag_cycles {
            0 => " and paid then".to_string(),
            lag => format!(", paid {} later", counted(lag, "cycle")),
        };
        let mut text = match p.metric {
            Some(m) => format!(
                "on `{}`: {rule}, {baseline}; measured to {}{paid}",
                scenario.metrics[m].name,
                dates(scenario, &p.at)
            ),
            None => format!("{rule}, {baseline}"),
        };
        if let Some(t) = p.threshold {
            text.push_str(&format!("; nothing below a relative effect of {}", percent(t)));
        }
        if let Some(cap) = p.cap {
            text.push_str(&format!("; at most {} in all", cash(cap)));
        }
        if let Some(cap) = p.cap_per_date {
            text.push_str(&format!("; at most {} a date", cash(cap)));
        }
        add(&format!("payment {}", i + 1), text);
    }
    // The payments by date: what is measured and paid at the end of each cycle.
    let mut by_date: std::collections::BTreeMap<usize, Vec<String>> = std::collections::BTreeMap::new();
    for (i, p) in c.components.iter().enumerate() {
        for &t in p.at.iter().filter(|_| p.metric.is_some()) {
            let paid_at = (t + c.lag_cycles).min(scenario.time.horizon.saturating_sub(1));
            by_date.entry(paid_at).or_default().push(format!("payment {}", i + 1));
        }
    }
    if !by_date.is_empty() {
        let lines: Vec<String> = by_date
            .iter()
            .map(|(&t, which)| format!("end of {}: {}", end_of(scenario, t), which.join(", ")))
            .collect();
        add("payment schedule", lines.join("; "));
    }
    if let Some(m) = c.max_total {
        add("total cap", cash(m));
    }
    if let Some(m) = c.max_per_child {
        add(
            "cap per child",
            format!("{} on all per-participant payments for one child", cash(m)),
        );
    }
    if c.lag_cycles > 0 {
        add(
            "payment lag",
            format!(
                "outcome payments arrive {} after their date",
                counted(c.lag_cycles, "cycle")
            ),
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
                "if the measured relative effect on `{metric}` is below {}",
                percent(below)
            ));
        }
        if r.probability > 0.0 {
            when.push(format!("with probability {} anyway", percent(r.probability)));
        }
        let action = match r.action {
            crate::model::contract::ReviewAction::StopEnrolment => {
                "stop enrolling (later waves never start)".to_string()
            }
            crate::model::contract::ReviewAction::Terminate { payment_share } => format!(
                "terminate (the payer pays {} of the capital called to date)",
                percent(payment_share)
            ),
        };
        add(
            &format!("review {}", i + 1),
            format!(
                "at the end of {} (cycle {}): {action} {}",
                end_of(scenario, r.at),
                r.at,
                when.join(", or ")
            ),
        );
    }
}

/// Capital, fees, distribution, tranches, guarantee and return cap.
fn fund_terms(f: &Fund, currency: &str, add: &mut impl FnMut(&str, String)) {
    add(
        "fund",
        format!(
            "capital {}, fee {} a year, distributed {}",
            money(f.capital, currency),
            percent(f.management_fee),
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
                .map(|t| format!("{} {} (coupon {})", t.name, percent(t.share), percent(t.coupon)))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    if let Some(g) = f.first_loss {
        add(
            "guarantee",
            format!("first loss: covers {} of the junior capital lost", percent(g)),
        );
    }
    if let Some(m) = f.return_cap_multiple {
        add("return cap", format!("{m}× capital"));
    }
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_is_singular_and_the_rest_plural() {
        assert_eq!(counted(1, "wave"), "1 wave");
        assert_eq!(counted(2, "wave"), "2 waves");
        assert_eq!(counted(0, "cycle"), "0 cycles");
    }
}
