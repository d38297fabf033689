//! `[intervention]`: the programme's duration, costs, who pays them, and
//! its effect: relative risks on the baseline, or full transitions.

use super::{Ctx, R};
use crate::model::*;
use crate::scenario::raw::*;
use toml::Spanned;

/// `[intervention]` (none: an arm identical to the baseline, no costs).
pub(super) fn intervention(
    ctx: &Ctx,
    raw: &Option<Spanned<RawIntervention>>,
    baseline: &Transitions,
    absorbing: &[bool],
    exit: Option<AgeOut>,
    horizon: usize,
) -> R<Intervention> {
    let n = absorbing.len();
    let default_stops: Vec<bool> = (0..n)
        .map(|i| absorbing[i] || exit.is_some_and(|e| e.state == i))
        .collect();
    Ok(match raw {
        None => Intervention {
            duration: 0,
            cost_per_child_cycle: 0.0,
            fixed_cost_per_cycle: 0.0,
            payer: ProgrammePayer::Fund,
            stops_in: default_stops,
            arm: InterventionArm::Effects(Vec::new()),
            ends_at: None,
        },
        Some(ri) => {
            let span = ri.span();
            let ri = ri.get_ref();
            let duration = match &ri.duration {
                Some(d) => ctx.count(d, "intervention.duration", 0, "a number of cycles ≥ 0")?,
                None => horizon,
            };
            let cost_per_child_cycle = match &ri.cost_per_child_cycle {
                Some(c) => ctx.non_negative(c, "intervention.cost_per_child_cycle")?,
                None => 0.0,
            };
            let fixed_cost_per_cycle = match &ri.fixed_cost_per_cycle {
                Some(c) => ctx.non_negative(c, "intervention.fixed_cost_per_cycle")?,
                None => 0.0,
            };
            let payer = match ri.payer {
                Some(RawPayer::Payer) => ProgrammePayer::Payer,
                _ => ProgrammePayer::Fund,
            };
            let stops_in = match &ri.stops_in {
                Some(s) => ctx.state_mask(s, "intervention.stops_in")?,
                None => default_stops,
            };
            let full = ri.matrix.is_some() || ri.counts.is_some() || ri.bands.is_some();
            let arm = if full {
                if let Some(e) = ri.effects.as_ref().and_then(|e| e.first()) {
                    return Err(ctx.err(
                        e.span(),
                        "intervention.effects",
                        "give either `effects` or full transitions (`matrix`/`counts`/`bands`), not both",
                    ));
                }
                if ri.matrix.is_none() && ri.counts.is_none() {
                    return Err(ctx.err(
                        span,
                        "intervention",
                        "`bands` need a default `matrix` or `counts` beside them",
                    ));
                }
                InterventionArm::Transitions(Transitions {
                    default: ctx.matrix(
                        &ri.matrix,
                        &ri.counts,
                        &ri.prior,
                        absorbing,
                        span.clone(),
                        "intervention",
                    )?,
                    bands: ctx.bands(&ri.bands, absorbing, "intervention.bands")?,
                })
            } else {
                effects(ctx, ri, span.clone(), baseline, absorbing)?
            };
            Intervention {
                duration,
                cost_per_child_cycle,
                fixed_cost_per_cycle,
                payer,
                stops_in,
                arm,
                ends_at: None,
            }
        }
    })
}

/// The programme's effects: relative risks on the baseline's moves, each
/// leaving every row of every baseline matrix a distribution.
fn effects(
    ctx: &Ctx,
    ri: &RawIntervention,
    span: std::ops::Range<usize>,
    baseline: &Transitions,
    absorbing: &[bool],
) -> R<InterventionArm> {
    let n = absorbing.len();
    if let Some(p) = &ri.prior {
        return Err(ctx.err(p.span(), "intervention.prior", "`prior` goes with `counts`"));
    }
    let mut effects = Vec::new();
    for (k, e) in ri.effects.iter().flatten().enumerate() {
        let path = format!("intervention.effects[{k}]");
        let re = e.get_ref();
        let relative_risk = ctx.non_negative(&re.relative_risk, &format!("{path}.relative_risk"))?;
        let targets = match &re.targets {
            Some(t) => ctx.state_mask(t, &format!("{path}.targets"))?,
            None => vec![true; n],
        };
        let from = match &re.from {
            Some(t) => ctx.state_mask(t, &format!("{path}.from"))?,
            None => vec![true; n],
        };
        ctx.names_a_move(&from, &targets, absorbing, e.span(), &path)?;
        let waning_cycles = match &re.waning_cycles {
            Some(w) => ctx.count(w, &format!("{path}.waning_cycles"), 0, "a number of cycles ≥ 0")?,
            None => 0,
        };
        effects.push(Effect {
            relative_risk,
            targets,
            from,
            waning_cycles,
            index: k,
        });
    }
    // A relative risk must leave every row a distribution, in every
    // matrix it can touch. The diagonal is multilinear in the risks,
    // so checking the full risks (and waning's RR = 1) suffices.
    for matrix in std::iter::once(&baseline.default).chain(baseline.bands.iter().map(|b| &b.matrix)) {
        let mut p = matrix.probabilities().to_vec();
        for (k, e) in effects.iter().enumerate() {
            if let Some(row) = e.apply(&mut p, n, e.relative_risk) {
                // effects[k] was built from the k-th raw effect, so it exists.
                let span = ri
                    .effects
                    .as_ref()
                    .and_then(|v| v.get(k))
                    .map_or(span.clone(), |r| r.get_ref().relative_risk.span());
                return Err(ctx.err(
                    span,
                    format!("intervention.effects[{k}].relative_risk"),
                    format!(
                        "relative risk {} would make the probability of staying in `{}` negative; the moves it scales out of that row sum to more than 1",
                        e.relative_risk, ctx.state_names[row]
                    ),
                ));
            }
        }
    }
    Ok(InterventionArm::Effects(effects))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, raw};
    use super::*;

    #[derive(serde::Deserialize)]
    struct Doc {
        intervention: Option<Spanned<RawIntervention>>,
    }

    fn baseline() -> Transitions {
        let matrix = StochasticMatrix::new(2, vec![0.8, 0.2, 0.1, 0.9], None).unwrap();
        Transitions {
            default: matrix,
            bands: Vec::new(),
        }
    }

    fn check(text: &str) -> R<Intervention> {
        let doc: Doc = raw(text);
        intervention(
            &ctx(text, &["home", "care"]),
            &doc.intervention,
            &baseline(),
            &[false, false],
            None,
            6,
        )
    }

    #[test]
    fn no_intervention_is_an_arm_without_effects_or_costs() {
        let none = check("").unwrap();
        assert!(matches!(none.arm, InterventionArm::Effects(ref e) if e.is_empty()));
        assert_eq!((none.duration, none.cost_per_child_cycle), (0, 0.0));
    }

    #[test]
    fn effects_default_to_every_state_and_the_whole_horizon() {
        let iv = check("[intervention]\n[[intervention.effects]]\nrelative_risk = 0.5\n").unwrap();
        assert_eq!(iv.duration, 6);
        let InterventionArm::Effects(effects) = iv.arm else {
            panic!("effects")
        };
        assert_eq!(effects[0].targets, vec![true, true]);
    }

    #[test]
    fn effects_and_full_transitions_exclude_each_other() {
        let text = "[intervention]\nmatrix = [[1.0, 0.0], [0.0, 1.0]]\n[[intervention.effects]]\nrelative_risk = 0.5\n";
        assert_eq!(check(text).unwrap_err().key_path, "intervention.effects");
    }

    #[test]
    fn a_risk_that_would_make_staying_negative_is_refused() {
        // Scaling home -> care (0.2) by 6 leaves −0.2 for staying home.
        let text = "[intervention]\n[[intervention.effects]]\nrelative_risk = 6.0\ntargets = [\"care\"]\n";
        let e = check(text).unwrap_err();
        assert_eq!(e.key_path, "intervention.effects[0].relative_risk");
        assert!(e.message.contains("`home`"), "{}", e.message);
    }
}
