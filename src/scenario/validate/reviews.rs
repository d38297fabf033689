//! `[[contract.reviews]]`: decisions taken during the contract (stop
//! enrolling, or terminate), triggered by the measured effect or by chance.

use super::{Ctx, R};
use crate::model::contract::{Component, Review, ReviewAction};
use crate::model::Metric;
use crate::scenario::raw::{RawReview, RawReviewAction};
use toml::Spanned;

/// Every review, in time order (ties keep file order).
pub(super) fn reviews(
    ctx: &Ctx,
    raw: &[Spanned<RawReview>],
    metrics: &[Metric],
    components: &[Component],
    horizon: usize,
) -> R<Vec<Review>> {
    let last_date = components.iter().filter_map(|c| c.at.last().copied()).max();
    let mut out = Vec::new();
    for (k, r) in raw.iter().enumerate() {
        out.push(review(ctx, k, r, metrics, components, horizon, last_date)?);
    }
    out.sort_by_key(|r| r.at);
    Ok(out)
}

fn review(
    ctx: &Ctx,
    k: usize,
    r: &Spanned<RawReview>,
    metrics: &[Metric],
    components: &[Component],
    horizon: usize,
    last_date: Option<usize>,
) -> R<Review> {
    let path = format!("contract.reviews[{k}]");
    let rr = r.get_ref();
    let at = *rr.at.get_ref();
    let Some(last) = last_date else {
        return Err(ctx.err(
            r.span(),
            path,
            "a review needs a contract with payment components: it decides about their later payments",
        ));
    };
    if at < 0 || at as usize >= horizon {
        return Err(ctx.err(
            rr.at.span(),
            format!("{path}.at"),
            format!(
                "cycle {at} is outside the horizon; a review is at the end of a cycle 0 ..= {}",
                horizon - 1
            ),
        ));
    }
    if at as usize > last {
        return Err(ctx.err(
            rr.at.span(),
            format!("{path}.at"),
            format!("cycle {at} is after the last payment date ({last}); a review must come while the contract still has something to decide"),
        ));
    }
    let below = rr
        .below
        .as_ref()
        .map(|b| ctx.finite(b, &format!("{path}.below")))
        .transpose()?;
    let component = match (&rr.metric, below) {
        (None, Some(_)) => {
            return Err(ctx.err(
                r.span(),
                format!("{path}.metric"),
                "missing: `below` compares a measured effect, so the review needs `metric`, the metric of a payment component",
            ));
        }
        (None, None) => None,
        (Some(name), _) => {
            let Some(metric) = metrics.iter().position(|m| &m.name == name.get_ref()) else {
                return Err(ctx.err(
                    name.span(),
                    format!("{path}.metric"),
                    format!(
                        "no metric is called `{}`; name the metric of a payment component",
                        name.get_ref()
                    ),
                ));
            };
            let Some(c) = components.iter().position(|c| c.metric == Some(metric)) else {
                return Err(ctx.err(
                    name.span(),
                    format!("{path}.metric"),
                    format!(
                        "no payment component pays on `{}`; a review reads the measurement of a payment component",
                        name.get_ref()
                    ),
                ));
            };
            Some(c)
        }
    };
    let probability = match &rr.probability {
        Some(p) => {
            let v = ctx.finite(p, &format!("{path}.probability"))?;
            if !(0.0..=1.0).contains(&v) {
                return Err(ctx.err(
                    p.span(),
                    format!("{path}.probability"),
                    format!("{v} is not a probability; expected a number in [0, 1]"),
                ));
            }
            v
        }
        None => 0.0,
    };
    if below.is_none() && probability == 0.0 {
        return Err(ctx.err(
            r.span(),
            format!("{path}.below"),
            "this review can never act; give `below` (a relative effect) and/or `probability` > 0",
        ));
    }
    let action = match (rr.action.get_ref(), &rr.termination_payment) {
        (RawReviewAction::StopEnrolment, Some(t)) => {
            return Err(ctx.err(
                t.span(),
                format!("{path}.termination_payment"),
                "`termination_payment` is for `action = \"terminate\"`",
            ));
        }
        (RawReviewAction::StopEnrolment, None) => ReviewAction::StopEnrolment,
        (RawReviewAction::Terminate, t) => {
            let share = match t {
                Some(t) => {
                    let v = ctx.finite(t, &format!("{path}.termination_payment"))?;
                    if !(0.0..=1.0).contains(&v) {
                        return Err(ctx.err(
                            t.span(),
                            format!("{path}.termination_payment"),
                            format!("{v} is outside [0, 1]; it is the share of the capital called to date that the payer pays on termination"),
                        ));
                    }
                    v
                }
                None => 0.0,
            };
            ReviewAction::Terminate { payment_share: share }
        }
    };
    Ok(Review {
        at: at as usize,
        component,
        below,
        probability,
        action,
    })
}
