//! `[uncertainty]`: parameter uncertainty (Dirichlet rows, log-normal
//! effects, cost spread) and the systemic shock.

use super::{Ctx, R};
use crate::model::*;
use crate::scenario::raw::*;

pub(super) fn uncertainty(ctx: &Ctx, raw: &RawUncertainty, states: &[State]) -> R<Uncertainty> {
    let transition_concentration = raw
        .transition_concentration
        .as_ref()
        .map(|c| {
            ctx.positive(
                c,
                "uncertainty.transition_concentration",
                "a concentration",
                "a number > 0 (larger = less uncertain rows)",
            )
        })
        .transpose()?;
    let effect_sd_log = match &raw.effect_sd_log {
        Some(v) => ctx.non_negative(v, "uncertainty.effect_sd_log")?,
        None => 0.0,
    };
    let cost_cv = match &raw.cost_cv {
        Some(v) => ctx.non_negative(v, "uncertainty.cost_cv")?,
        None => 0.0,
    };
    let shock = match &raw.shock {
        None => None,
        Some(s) => {
            let rs = s.get_ref();
            let sd = ctx.non_negative(&rs.sd, "uncertainty.shock.sd")?;
            let autocorrelation = match &rs.autocorrelation {
                Some(a) => {
                    let v = ctx.finite(a, "uncertainty.shock.autocorrelation")?;
                    if v <= -1.0 || v >= 1.0 {
                        return Err(ctx.err(
                            a.span(),
                            "uncertainty.shock.autocorrelation",
                            format!("{v} is outside (−1, 1)"),
                        ));
                    }
                    v
                }
                None => 0.0,
            };
            let targets = match &rs.targets {
                Some(t) => ctx.state_mask(t, "uncertainty.shock.targets")?,
                // By default the shock moves children into the costly states.
                None => states.iter().map(|s| s.cost > 0.0 && !s.absorbing).collect(),
            };
            Some(Shock {
                sd,
                autocorrelation,
                targets,
            })
        }
    };
    let enrolment = match &raw.enrolment {
        Some(e) => Some(enrolment(ctx, e.get_ref())?),
        None => None,
    };
    Ok(Uncertainty {
        transition_concentration,
        effect_sd_log,
        cost_cv,
        shock,
        enrolment,
    })
}

/// `[uncertainty.enrolment]`: a mean share in (0, 1] and an sd a Beta with
/// that mean can have.
fn enrolment(ctx: &Ctx, raw: &RawEnrolment) -> R<Enrolment> {
    let mean = ctx.finite(&raw.mean, "uncertainty.enrolment.mean")?;
    if mean <= 0.0 || mean > 1.0 {
        return Err(ctx.err(
            raw.mean.span(),
            "uncertainty.enrolment.mean",
            format!("{mean} is outside (0, 1]; it is the expected share of each wave's planned children who enrol"),
        ));
    }
    let sd = match &raw.sd {
        Some(s) => {
            let sd = ctx.non_negative(s, "uncertainty.enrolment.sd")?;
            let max = Enrolment::max_sd(mean);
            if sd > 0.0 && sd >= max {
                return Err(ctx.err(
                    s.span(),
                    "uncertainty.enrolment.sd",
                    format!("{sd} is impossible for a Beta distribution with mean {mean}; its sd must be below √(mean·(1−mean)) = {max:.4}"),
                ));
            }
            sd
        }
        None => 0.0,
    };
    Ok(Enrolment { mean, sd })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, raw};
    use super::*;

    fn check(text: &str) -> R<Uncertainty> {
        #[derive(serde::Deserialize)]
        struct Doc {
            uncertainty: RawUncertainty,
        }
        let doc: Doc = raw(text);
        let states = [("home", 0.0), ("care", 100.0)].map(|(name, cost)| State {
            name: name.to_string(),
            cost,
            absorbing: false,
        });
        uncertainty(&ctx(text, &["home", "care"]), &doc.uncertainty, &states)
    }

    #[test]
    fn a_shock_is_stationary_and_targets_costly_states_by_default() {
        let u = check("[uncertainty]\n[uncertainty.shock]\nsd = 0.3\nautocorrelation = 0.6\n").unwrap();
        let shock = u.shock.expect("a shock");
        assert_eq!((shock.sd, shock.autocorrelation), (0.3, 0.6));
        assert_eq!(shock.targets, vec![false, true]);
        let e = check("[uncertainty]\n[uncertainty.shock]\nsd = 0.3\nautocorrelation = 1.0\n").unwrap_err();
        assert_eq!(e.key_path, "uncertainty.shock.autocorrelation");
        let e = check("[uncertainty]\ntransition_concentration = 0.0\n").unwrap_err();
        assert_eq!(e.key_path, "uncertainty.transition_concentration");
    }
}
