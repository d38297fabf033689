//! Inputs that are valid but probably not meant: warnings, not errors (a
//! stress test may want a 30 % discount rate), printed before a run.

use crate::model::transitions::Transitions;
use crate::model::{Effect, InterventionArm, Scenario};

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
    if let InterventionArm::Effects(effects) = &scenario.intervention.arm {
        for effect in effects {
            out.extend(scales_nothing(
                scenario,
                &scenario.baseline,
                effect,
                "intervention.effects",
            ));
        }
    }
    if let Some(risk) = &scenario.baseline_risk {
        for multiplier in &risk.multipliers {
            out.extend(scales_nothing(scenario, &risk.population, multiplier, "baseline.risk"));
        }
    }
    out
}

/// Entry (i, j) of a band's matrix; 0 outside it (a scenario built by hand,
/// not validated, may name states the matrix lacks).
fn probability(transitions: &Transitions, band: Option<usize>, i: usize, j: usize) -> f64 {
    let matrix = transitions.matrix(band);
    let n = matrix.n();
    if i >= n || j >= n {
        return 0.0;
    }
    matrix.probabilities().get(i * n + j).copied().unwrap_or(0.0)
}

/// The warning for an effect or risk multiplier every move of which has
/// probability 0 in every matrix of `transitions` (the rows it scales),
/// so that it changes nothing: odds are scaled, and a move that never
/// happens stays at 0. A row a posterior draws (`baseline_posterior`) may
/// give the move mass, so it counts as a move; Dirichlet draws keep a 0
/// at 0 (its concentration is 0).
fn scales_nothing(scenario: &Scenario, transitions: &Transitions, effect: &Effect, table: &str) -> Option<String> {
    let posterior = scenario
        .uncertainty
        .as_ref()
        .and_then(|u| u.baseline_posterior.as_ref());
    let drawn = |band: Option<usize>, from: usize| {
        posterior.is_some_and(|p| p.rows.iter().any(|r| r.band == band && r.from == from))
    };
    let mut named = Vec::new();
    for (i, _) in effect.from.iter().enumerate().filter(|(_, &f)| f) {
        for (j, _) in effect.targets.iter().enumerate().filter(|(j, &t)| t && *j != i) {
            named.push((i, j));
        }
    }
    let bands = (0..transitions.bands.len()).map(Some);
    let moves = std::iter::once(None).chain(bands).any(|band| {
        named
            .iter()
            .any(|&(i, j)| drawn(band, i) || probability(transitions, band, i, j) > 0.0)
    });
    if moves || named.is_empty() {
        return None;
    }
    let name = |s: usize| scenario.states.get(s).map_or("?", |state| state.name.as_str());
    let mut shown: Vec<String> = named
        .iter()
        .take(4)
        .map(|&(i, j)| format!("{} → {}", name(i), name(j)))
        .collect();
    if named.len() > 4 {
        shown.push(format!("and {} more", named.len() - 4));
    }
    Some(format!(
        "{}: {table}[{}] changes nothing: every move it scales ({}) has probability 0 in every baseline matrix, and scaling odds leaves a 0 at 0; check its from and targets",
        scenario.source,
        effect.index,
        shown.join(", ")
    ))
}

/// Warnings about a loaded file: its scenario's, or each contract's of a
/// portfolio and its pooled fund's.
pub fn of_loaded(loaded: &crate::scenario::Loaded) -> Vec<String> {
    match loaded {
        crate::scenario::Loaded::Single(s) => of_contracts([s.as_ref()], None),
        crate::scenario::Loaded::Portfolio(p) => of_contracts(&p.contracts, Some((&p.source, &p.fund))),
    }
}

/// Warnings about contracts, in order, then about a portfolio's pooled
/// fund (`(file, fund)`) if there is one.
pub fn of_contracts<'a>(
    contracts: impl IntoIterator<Item = &'a Scenario>,
    pooled: Option<(&str, &crate::model::fund::Fund)>,
) -> Vec<String> {
    let mut out: Vec<String> = contracts.into_iter().flat_map(warnings).collect();
    if let Some((file, fund)) = pooled {
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

    #[test]
    fn an_effect_or_multiplier_on_zero_moves_is_flagged() {
        let text = "name = \"x\"\n[time]\ncycle_years = 1.0\nhorizon = 2\n\
                    [[states]]\nname = \"a\"\n[[states]]\nname = \"b\"\n[[states]]\nname = \"c\"\n\
                    [cohort]\n[[cohort.waves]]\nchildren = 1\nage = 5\ninitial = { a = 1.0 }\n\
                    [baseline]\nmatrix = [[0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 0.5]]\n\
                    [[baseline.bands]]\nages = [6.0, 9.0]\nmatrix = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]\n\
                    [[baseline.risk]]\nmultiplier = 2.0\nfrom = [\"a\"]\ntargets = [\"c\"]\n\
                    [intervention]\nduration = 1\ncost_per_child_cycle = 0.0\n\
                    [[intervention.effects]]\nrelative_risk = 0.5\nfrom = [\"b\"]\ntargets = [\"a\", \"c\"]\n\
                    [[intervention.effects]]\nrelative_risk = 0.5\nfrom = [\"c\"]\ntargets = [\"b\"]\n";
        let s = crate::scenario::parse(text, "x.toml").expect("a scenario");
        let w = warnings(&s);
        // b never leaves, and a never moves into c in any band; c moves into b.
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].contains("intervention.effects[0] changes nothing") && w[0].contains("b → a, b → c"),
            "{w:?}"
        );
        assert!(
            w[1].contains("baseline.risk[0] changes nothing") && w[1].contains("a → c"),
            "{w:?}"
        );
    }
}
