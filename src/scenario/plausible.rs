//! Inputs that are valid but probably not meant: warnings, not errors (a
//! stress test may want a 30 % discount rate), printed before a run.

use crate::model::Scenario;

/// Annual rates above this are probably a percentage typed as a number
/// (`3` for 3 %).
pub const RATE_WARNING: f64 = 0.25;
/// Management fees above this share of capital a year are implausible.
pub const FEE_WARNING: f64 = 0.1;

/// Warnings about one scenario's inputs (`file: what and why`).
pub fn warnings(scenario: &Scenario) -> Vec<String> {
    let file = &scenario.source;
    let mut out = Vec::new();
    let d = &scenario.discounting;
    for (key, rate) in [
        ("discounting.payer_rate", Some(d.payer_rate)),
        ("discounting.investor_rate", Some(d.investor_rate)),
        ("discounting.payer_outcomes_rate", d.payer_outcomes_rate),
    ] {
        if let Some(r) = rate.filter(|r| r.abs() > RATE_WARNING) {
            out.push(format!(
                "{file}: {key} = {r} is {:.0} % a year; rates are fractions (0.03 = 3 %)",
                r * 100.0
            ));
        }
    }
    if let Some(fund) = &scenario.fund {
        out.extend(fee(file, fund));
    }
    out
}

/// The warning for a fund whose management fee looks like a percentage
/// typed as a number (a contract's fund, or a portfolio's pooled one).
pub fn fee(file: &str, fund: &crate::model::fund::Fund) -> Option<String> {
    (fund.management_fee > FEE_WARNING).then(|| {
        format!(
            "{file}: fund.management_fee = {} is {:.0} % of committed capital a year; fees are fractions (0.015 = 1.5 %)",
            fund.management_fee,
            fund.management_fee * 100.0
        )
    })
}

/// The warning after a run whose fund ran out of committed capital in more
/// than 1 % of replications.
pub fn overcommitted(name: &str, probability: f64) -> Option<String> {
    (probability > 0.01).then(|| {
        format!(
            "{name}: the fund calls more than its committed capital in {:.1} % of replications (fund.overcommitted); raise fund.capital or check the programme's costs",
            probability * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percentage_typed_as_a_number_is_flagged() {
        let text = "name = \"x\"\n[time]\ncycle_years = 1.0\nhorizon = 2\n[[states]]\nname = \"home\"\n\
                    [cohort]\n[[cohort.waves]]\nchildren = 1\nage = 5\ninitial = { home = 1.0 }\n\
                    [baseline]\nmatrix = [[1.0]]\n";
        let mut s = crate::scenario::parse(text, "x.toml").expect("a scenario");
        assert!(warnings(&s).is_empty());
        s.discounting.payer_rate = 3.0;
        let w = warnings(&s);
        assert!(w[0].contains("discounting.payer_rate = 3 is 300 %"), "{w:?}");
        assert!(overcommitted("x", 0.005).is_none());
        assert!(overcommitted("x", 0.2).expect("warning").contains("20.0 %"));
    }
}
