//! `[contract]`: how impact is measured and what each payment component pays.

use super::{sane, Ctx, R};
use crate::model::contract::{Baseline, Component, Contract, Measurement, Rule};
use crate::model::*;
use crate::scenario::raw::*;
use toml::Spanned;

/// `[contract]` with its payment components.
pub(super) fn contract(ctx: &Ctx, raw: &Spanned<RawContract>, metrics: &[Metric], horizon: usize) -> R<Contract> {
    let span = raw.span();
    let raw = raw.get_ref();
    let measurement = match raw.measurement.unwrap_or(RawMeasurement::FixedBaseline) {
        RawMeasurement::FixedBaseline => {
            if let Some(c) = &raw.control_size {
                return Err(ctx.err(
                    c.span(),
                    "contract.control_size",
                    "`control_size` is for `measurement = \"control_group\"`",
                ));
            }
            Measurement::FixedBaseline
        }
        RawMeasurement::ControlGroup => {
            let Some(size) = &raw.control_size else {
                return Err(ctx.err(span, "contract.control_size", "missing: `measurement = \"control_group\"` needs `control_size`, the number of children in the comparison group"));
            };
            Measurement::ControlGroup {
                size: ctx.children(size, "contract.control_size")?,
            }
        }
    };
    let cap = |v: &Option<Spanned<f64>>, path: &str| -> R<Option<f64>> {
        v.as_ref().map(|c| ctx.non_negative(c, path)).transpose()
    };
    let max_total = cap(&raw.max_total, "contract.max_total")?;
    let cap_per_date = cap(&raw.cap_per_date, "contract.cap_per_date")?;
    let mut components = Vec::new();
    for (k, p) in raw.payments.iter().flatten().enumerate() {
        components.push(component(ctx, k, p, metrics, horizon, measurement)?);
    }
    Ok(Contract {
        measurement,
        max_total,
        cap_per_date,
        clawback: raw.clawback.unwrap_or(false),
        components,
    })
}

/// One `[[contract.payments]]` component.
fn component(
    ctx: &Ctx,
    k: usize,
    p: &Spanned<RawPayment>,
    metrics: &[Metric],
    horizon: usize,
    measurement: Measurement,
) -> R<Component> {
    let cap = |v: &Option<Spanned<f64>>, path: &str| -> R<Option<f64>> {
        v.as_ref().map(|c| ctx.non_negative(c, path)).transpose()
    };
    let path = format!("contract.payments[{k}]");
    let rp = p.get_ref();
    let Some(metric) = metrics.iter().position(|m| &m.name == rp.metric.get_ref()) else {
        let known: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        return Err(ctx.err(
            rp.metric.span(),
            format!("{path}.metric"),
            format!(
                "no metric is called `{}`; define it under [[metrics]] (defined: {})",
                rp.metric.get_ref(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let at_values = rp.at.get_ref();
    if at_values.is_empty() {
        return Err(ctx.err(
            rp.at.span(),
            format!("{path}.at"),
            "no payment dates; give the cycles at whose end the component pays, e.g. [4, 8, 12]",
        ));
    }
    let mut at = Vec::new();
    for (d, &a) in at_values.iter().enumerate() {
        if a < 0 || a as usize >= horizon {
            return Err(ctx.err(
                rp.at.span(),
                format!("{path}.at[{d}]"),
                format!(
                    "cycle {a} is outside the horizon; payment dates must be cycles 0 ..= {}",
                    horizon - 1
                ),
            ));
        }
        if at.last().is_some_and(|&last| last >= a as usize) {
            return Err(ctx.err(
                rp.at.span(),
                format!("{path}.at[{d}]"),
                "payment dates must be strictly increasing",
            ));
        }
        at.push(a as usize);
    }
    let baseline = baseline(ctx, p, &path, &at, measurement)?;
    let rule = rule(ctx, p, &path)?;
    let threshold = match &rp.threshold {
        None => None,
        Some(t) => {
            let v = ctx.finite(t, &format!("{path}.threshold"))?;
            if !(0.0..=1.0).contains(&v) {
                return Err(ctx.err(
                    t.span(),
                    format!("{path}.threshold"),
                    format!(
                        "{v} is outside [0, 1]; the threshold is a relative effect (0.05 = 5 % better than baseline)"
                    ),
                ));
            }
            Some(v)
        }
    };
    Ok(Component {
        metric,
        baseline,
        rule,
        threshold,
        at,
        cap: cap(&rp.cap, &format!("{path}.cap"))?,
        cap_per_date: cap(&rp.cap_per_date, &format!("{path}.cap_per_date"))?,
    })
}

/// A component's payment rule, with the keys each rule needs and forbids.
fn rule(ctx: &Ctx, p: &Spanned<RawPayment>, path: &str) -> R<Rule> {
    let rp = p.get_ref();
    let misplaced = |key: &str, present: bool| -> R<()> {
        if present {
            Err(ctx.err(
                p.span(),
                format!("{path}.{key}"),
                format!("`{key}` does not apply to this rule"),
            ))
        } else {
            Ok(())
        }
    };
    let rule = match rp.rule {
        RawRule::RateCard => {
            misplaced("share", rp.share.is_some())?;
            misplaced("tiers", rp.tiers.is_some())?;
            let Some(price) = &rp.price else {
                return Err(ctx.err(
                    p.span(),
                    format!("{path}.price"),
                    "missing: `rule = \"rate_card\"` needs `price`, the payment per unit of measured impact",
                ));
            };
            Rule::RateCard {
                price: ctx.non_negative(price, &format!("{path}.price"))?,
            }
        }
        RawRule::SavingsShare => {
            misplaced("price", rp.price.is_some())?;
            misplaced("tiers", rp.tiers.is_some())?;
            let Some(share) = &rp.share else {
                return Err(ctx.err(
                    p.span(),
                    format!("{path}.share"),
                    "missing: `rule = \"savings_share\"` needs `share`, the share of measured avoided cost paid",
                ));
            };
            let v = ctx.non_negative(share, &format!("{path}.share"))?;
            if v > 1.0 {
                return Err(ctx.err(
                    share.span(),
                    format!("{path}.share"),
                    format!("{v} is not a share; expected a number in [0, 1]"),
                ));
            }
            Rule::SavingsShare { share: v }
        }
        RawRule::Tiers => {
            misplaced("price", rp.price.is_some())?;
            misplaced("share", rp.share.is_some())?;
            let Some(tiers) = &rp.tiers else {
                return Err(ctx.err(
                    p.span(),
                    format!("{path}.tiers"),
                    "missing: `rule = \"tiers\"` needs `tiers`, a list of [relative effect, cumulative payment] points",
                ));
            };
            let mut points: Vec<(f64, f64)> = Vec::new();
            for (i, point) in tiers.get_ref().iter().enumerate() {
                let tpath = format!("{path}.tiers[{i}]");
                if point.len() != 2 || !point.iter().all(|x| sane(*x)) {
                    return Err(ctx.err(
                        tiers.span(),
                        tpath,
                        "each tier is [relative effect, cumulative payment]: two finite numbers",
                    ));
                }
                let (e, pay) = (point[0], point[1]);
                if pay < 0.0 {
                    return Err(ctx.err(tiers.span(), tpath, format!("payment {pay} is negative; expected ≥ 0")));
                }
                if let Some(&(e0, p0)) = points.last() {
                    if e <= e0 || pay < p0 {
                        return Err(ctx.err(tiers.span(), tpath, format!("tiers must increase: effect {e} after {e0}, payment {pay} after {p0}; effects strictly increasing, payments not decreasing")));
                    }
                }
                points.push((e, pay));
            }
            if points.is_empty() {
                return Err(ctx.err(
                    tiers.span(),
                    format!("{path}.tiers"),
                    "no tiers; give at least one [relative effect, cumulative payment] point",
                ));
            }
            Rule::Tiers {
                points,
                linear: rp.interpolate == Some(RawInterpolate::Linear),
            }
        }
    };
    if rp.interpolate.is_some() && rp.rule != RawRule::Tiers {
        misplaced("interpolate", true)?;
    }
    Ok(rule)
}

/// A component's baseline: stated values (one per date), the exact
/// expectation, or the comparison group.
fn baseline(ctx: &Ctx, p: &Spanned<RawPayment>, path: &str, at: &[usize], measurement: Measurement) -> R<Baseline> {
    let rp = p.get_ref();
    let baseline = match (&rp.baseline, measurement) {
        (None, Measurement::FixedBaseline) => {
            return Err(ctx.err(p.span(), format!("{path}.baseline"), "missing: a fixed-baseline contract needs `baseline`: a number, a list (one per date in `at`) or \"expected\""));
        }
        (None, Measurement::ControlGroup { .. }) => Baseline::FromControl,
        (Some(b), Measurement::ControlGroup { .. }) => {
            return Err(ctx.err(
                b.span(),
                format!("{path}.baseline"),
                "a control-group contract measures its baseline on the comparison group; remove `baseline`",
            ));
        }
        (Some(b), Measurement::FixedBaseline) => match b.get_ref() {
            RawBaseline::Word(w) if w == "expected" => Baseline::Expected,
            RawBaseline::Word(w) => {
                return Err(ctx.err(
                    b.span(),
                    format!("{path}.baseline"),
                    format!("`{w}` is not a baseline; give a number, a list of numbers or \"expected\""),
                ));
            }
            RawBaseline::Number(x) => {
                if at.len() != 1 {
                    return Err(ctx.err(b.span(), format!("{path}.baseline"), format!("one number for {} payment dates; give a list of {} cumulative baseline values, one per date in `at`", at.len(), at.len())));
                }
                if !sane(*x) || *x < 0.0 {
                    return Err(ctx.err(
                        b.span(),
                        format!("{path}.baseline"),
                        format!("{x} is not a baseline value; expected a finite number ≥ 0"),
                    ));
                }
                Baseline::Stated(vec![*x])
            }
            RawBaseline::List(v) => {
                if v.len() != at.len() {
                    return Err(ctx.err(
                        b.span(),
                        format!("{path}.baseline"),
                        format!(
                            "{} values for {} payment dates; give one cumulative value per date in `at`",
                            v.len(),
                            at.len()
                        ),
                    ));
                }
                if let Some(x) = v.iter().find(|x| !sane(**x) || **x < 0.0) {
                    return Err(ctx.err(
                        b.span(),
                        format!("{path}.baseline"),
                        format!("{x} is not a baseline value; expected finite numbers ≥ 0"),
                    ));
                }
                Baseline::Stated(v.clone())
            }
        },
    };
    Ok(baseline)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, raw};
    use super::*;

    #[derive(serde::Deserialize)]
    struct Doc {
        contract: Spanned<RawContract>,
    }

    fn metrics() -> Vec<Metric> {
        vec![Metric {
            name: "care_years".to_string(),
            kind: MetricKind::StateCycles,
            states: vec![false, true],
            window: (0, 6),
            discount_rate: None,
        }]
    }

    fn check(payment: &str) -> R<Contract> {
        let text = format!("[contract]\n[[contract.payments]]\nmetric = \"care_years\"\nat = [2, 5]\n{payment}");
        let doc: Doc = raw(&text);
        contract(&ctx(&text, &["home", "care"]), &doc.contract, &metrics(), 6)
    }

    #[test]
    fn a_rate_card_pays_its_price_against_its_baseline() {
        let c = check("baseline = \"expected\"\nrule = \"rate_card\"\nprice = 100.0\n").unwrap();
        assert_eq!(c.components[0].rule, Rule::RateCard { price: 100.0 });
        assert_eq!(c.components[0].at, vec![2, 5]);
        assert_eq!(c.components[0].baseline, Baseline::Expected);
    }

    #[test]
    fn each_rule_names_what_it_misses() {
        let e = check("baseline = \"expected\"\nrule = \"rate_card\"\n").unwrap_err();
        assert_eq!(e.key_path, "contract.payments[0].price");
        let e = check("baseline = \"expected\"\nrule = \"tiers\"\ntiers = [[0.2, 10.0], [0.1, 20.0]]\n").unwrap_err();
        assert_eq!(e.key_path, "contract.payments[0].tiers[1]");
        let e = check("rule = \"rate_card\"\nprice = 1.0\n").unwrap_err();
        assert_eq!(e.key_path, "contract.payments[0].baseline");
        let e = check("baseline = \"expected\"\nrule = \"rate_card\"\nprice = 1.0\nthreshold = 1.5\n").unwrap_err();
        assert_eq!(e.key_path, "contract.payments[0].threshold");
    }
}
