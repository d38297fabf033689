//! `[contract]`: how impact is measured and what each payment component pays.

use super::{sane, Ctx, R};
use crate::model::contract::{Baseline, Component, Contract, Measurement, Review, Rule};
use crate::model::*;
use crate::scenario::raw::*;
use toml::Spanned;

/// `[contract]` with its payment components and reviews.
pub(super) fn contract(
    ctx: &Ctx,
    raw: &Spanned<RawContract>,
    metrics: &[Metric],
    cohort: &Cohort,
    horizon: usize,
) -> R<Contract> {
    let span = raw.span();
    let raw = raw.get_ref();
    let default = raw.measurement.unwrap_or(RawMeasurement::FixedBaseline);
    let uses_control = default == RawMeasurement::ControlGroup
        || raw
            .payments
            .iter()
            .flatten()
            .any(|p| p.get_ref().measurement.as_ref().map(|m| *m.get_ref()) == Some(RawMeasurement::ControlGroup));
    let control_size = match (&raw.control_size, uses_control) {
        (Some(c), false) => {
            return Err(ctx.err(
                c.span(),
                "contract.control_size",
                "`control_size` is for `measurement = \"control_group\"`",
            ));
        }
        (None, true) => {
            return Err(ctx.err(span, "contract.control_size", "missing: `measurement = \"control_group\"` needs `control_size`, the number of children in the comparison group"));
        }
        (Some(c), true) => Some(ctx.children(c, "contract.control_size")?),
        (None, false) => None,
    };
    let measurement = match default {
        RawMeasurement::FixedBaseline => Measurement::FixedBaseline,
        RawMeasurement::ExPost => Measurement::ExPost,
        RawMeasurement::ControlGroup => Measurement::ControlGroup {
            size: control_size.unwrap_or(0),
        },
    };
    let cap = |v: &Option<Spanned<f64>>, path: &str| -> R<Option<f64>> {
        v.as_ref().map(|c| ctx.non_negative(c, path)).transpose()
    };
    let max_total = cap(&raw.max_total, "contract.max_total")?;
    let cap_per_date = cap(&raw.cap_per_date, "contract.cap_per_date")?;
    let terms = Terms {
        metrics,
        horizon,
        default,
        control_size,
        entry_cycles: entry_cycles(cohort),
    };
    let mut components = Vec::new();
    for (k, p) in raw.payments.iter().flatten().enumerate() {
        components.push(component(ctx, k, p, &terms)?);
    }
    let lag_cycles = match &raw.lag_cycles {
        Some(v) => ctx.count(v, "contract.lag_cycles", 0, "a whole number of cycles ≥ 0")?,
        None => 0,
    };
    let max_per_child = match &raw.max_per_child {
        Some(v) => Some(ctx.positive(
            v,
            "contract.max_per_child",
            "a cap per child",
            "an amount > 0 (leave it out for no cap)",
        )?),
        None => None,
    };
    let reviews = super::reviews::reviews(
        ctx,
        raw.reviews.as_deref().unwrap_or(&[]),
        metrics,
        &components,
        horizon,
    )?;
    let windows = per_child_windows(metrics, &components, &reviews);
    if windows > 64 {
        return Err(ctx.err(
            span,
            "contract.payments",
            format!("the contract measures {windows} distinct per-child windows (`entries` and `never_entered` metrics, each cut at every payment and review date); at most 64 are supported: use fewer dates on those metrics"),
        ));
    }
    Ok(Contract {
        measurement,
        control_size,
        max_total,
        cap_per_date,
        clawback: raw.clawback.unwrap_or(false),
        components,
        lag_cycles,
        max_per_child,
        reviews,
    })
}

/// The distinct (states, window) pairs the per-child sampler flags for each
/// child: every per-child metric's own window, and its window cut at each
/// payment date and reviewed date of a component on it.
fn per_child_windows(metrics: &[Metric], components: &[Component], reviews: &[Review]) -> usize {
    fn add<'a>(windows: &mut Vec<(&'a [bool], (usize, usize))>, metric: &'a Metric, window: (usize, usize)) {
        let key = (metric.states.as_slice(), window);
        if metric.per_child() && !windows.contains(&key) {
            windows.push(key);
        }
    }
    let mut windows = Vec::new();
    for m in metrics {
        add(&mut windows, m, m.window);
    }
    for c in components {
        if let Some(m) = c.metric {
            for &date in &c.at {
                add(&mut windows, &metrics[m], metrics[m].window_to(date));
            }
        }
    }
    for r in reviews {
        if let (Some(c), Some(_)) = (r.component, r.below) {
            if let Some(m) = components[c].metric {
                add(&mut windows, &metrics[m], metrics[m].window_to(r.at));
            }
        }
    }
    windows.len()
}

/// The waves' distinct entry cycles, in time order: the dates of a
/// `per_enrolment` component.
fn entry_cycles(cohort: &Cohort) -> Vec<usize> {
    let mut cycles: Vec<usize> = cohort.waves.iter().map(|w| w.cycle).collect();
    cycles.sort_unstable();
    cycles.dedup();
    cycles
}

/// What every component is checked against.
struct Terms<'a> {
    metrics: &'a [Metric],
    horizon: usize,
    default: RawMeasurement,
    control_size: Option<u64>,
    entry_cycles: Vec<usize>,
}

/// The metric a component names.
fn named_metric(ctx: &Ctx, metric: &Spanned<String>, path: &str, metrics: &[Metric]) -> R<usize> {
    metrics.iter().position(|m| &m.name == metric.get_ref()).ok_or_else(|| {
        let known: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        ctx.err(
            metric.span(),
            format!("{path}.metric"),
            format!(
                "no metric is called `{}`; define it under [[metrics]] (defined: {})",
                metric.get_ref(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        )
    })
}

/// A component's payment dates.
fn dates(ctx: &Ctx, at: &Spanned<Vec<i64>>, path: &str, horizon: usize) -> R<Vec<usize>> {
    if at.get_ref().is_empty() {
        return Err(ctx.err(
            at.span(),
            format!("{path}.at"),
            "no payment dates; give the cycles at whose end the component pays, e.g. [4, 8, 12]",
        ));
    }
    let mut out: Vec<usize> = Vec::new();
    for (d, &a) in at.get_ref().iter().enumerate() {
        if a < 0 || a as usize >= horizon {
            return Err(ctx.err(
                at.span(),
                format!("{path}.at[{d}]"),
                format!(
                    "cycle {a} is outside the horizon; payment dates must be cycles 0 ..= {}",
                    horizon - 1
                ),
            ));
        }
        if out.last().is_some_and(|&last| last >= a as usize) {
            return Err(ctx.err(
                at.span(),
                format!("{path}.at[{d}]"),
                "payment dates must be strictly increasing",
            ));
        }
        out.push(a as usize);
    }
    Ok(out)
}

/// A `per_enrolment` component: a price per child, at each wave's entry.
fn enrolment_component(ctx: &Ctx, p: &Spanned<RawPayment>, path: &str, terms: &Terms) -> R<Component> {
    let rp = p.get_ref();
    let misplaced = [
        ("metric", rp.metric.is_some()),
        ("measurement", rp.measurement.is_some()),
        ("baseline", rp.baseline.is_some()),
        ("at", rp.at.is_some()),
        ("threshold", rp.threshold.is_some()),
        ("share", rp.share.is_some()),
        ("tiers", rp.tiers.is_some()),
        ("interpolate", rp.interpolate.is_some()),
    ];
    if let Some((key, _)) = misplaced.iter().find(|(_, present)| *present) {
        return Err(ctx.err(
            p.span(),
            format!("{path}.{key}"),
            format!("`{key}` does not apply to `rule = \"per_enrolment\"`, which pays `price` per child who starts the programme, at the end of its entry cycle"),
        ));
    }
    let Some(price) = &rp.price else {
        return Err(ctx.err(
            p.span(),
            format!("{path}.price"),
            "missing: `rule = \"per_enrolment\"` needs `price`, the payment per child who starts the programme",
        ));
    };
    let cap = |v: &Option<Spanned<f64>>, key: &str| -> R<Option<f64>> {
        v.as_ref()
            .map(|c| ctx.non_negative(c, &format!("{path}.{key}")))
            .transpose()
    };
    Ok(Component {
        metric: None,
        baseline: Baseline::Enrolment,
        rule: Rule::PerEnrolment {
            price: ctx.non_negative(price, &format!("{path}.price"))?,
        },
        threshold: None,
        at: terms.entry_cycles.clone(),
        cap: cap(&rp.cap, "cap")?,
        cap_per_date: cap(&rp.cap_per_date, "cap_per_date")?,
    })
}

/// One `[[contract.payments]]` component.
fn component(ctx: &Ctx, k: usize, p: &Spanned<RawPayment>, terms: &Terms) -> R<Component> {
    let cap = |v: &Option<Spanned<f64>>, path: &str| -> R<Option<f64>> {
        v.as_ref().map(|c| ctx.non_negative(c, path)).transpose()
    };
    let path = format!("contract.payments[{k}]");
    let rp = p.get_ref();
    if rp.rule == RawRule::PerEnrolment {
        return enrolment_component(ctx, p, &path, terms);
    }
    let Some(metric_name) = &rp.metric else {
        return Err(ctx.err(
            p.span(),
            format!("{path}.metric"),
            "missing: a payment component needs `metric`, the [[metrics]] name it pays on (only `rule = \"per_enrolment\"` has none)",
        ));
    };
    let metric = named_metric(ctx, metric_name, &path, terms.metrics)?;
    let Some(at_values) = &rp.at else {
        return Err(ctx.err(
            p.span(),
            format!("{path}.at"),
            "missing: give `at`, the cycles at whose end the component pays, e.g. [4, 8, 12]",
        ));
    };
    let at = dates(ctx, at_values, &path, terms.horizon)?;
    let measurement = rp.measurement.as_ref().map_or(terms.default, |m| *m.get_ref());
    let baseline = if measurement == RawMeasurement::ExPost {
        ex_post(ctx, p, &path, &terms.metrics[metric])?
    } else {
        baseline(ctx, p, &path, &at, measurement, terms.control_size)?
    };
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
                        "{v} is outside [0, 1]; the threshold is a relative effect (0.05 = 5 % better than baseline; ex post: the share of children with the outcome)"
                    ),
                ));
            }
            Some(v)
        }
    };
    Ok(Component {
        metric: Some(metric),
        baseline,
        rule,
        threshold,
        at,
        cap: cap(&rp.cap, &format!("{path}.cap"))?,
        cap_per_date: cap(&rp.cap_per_date, &format!("{path}.cap_per_date"))?,
    })
}

/// An ex-post component: a price per child counted with the outcome in the
/// programme group, no baseline.
fn ex_post(ctx: &Ctx, p: &Spanned<RawPayment>, path: &str, metric: &Metric) -> R<Baseline> {
    let rp = p.get_ref();
    let span = rp.measurement.as_ref().map_or(p.span(), |m| m.span());
    if !metric.per_child() {
        return Err(ctx.err(
            span,
            format!("{path}.measurement"),
            format!(
                "\"ex_post\" counts a 0/1 outcome per child, but metric `{}` is not counted per child; use an `entries` or `never_entered` metric",
                metric.name
            ),
        ));
    }
    if rp.rule != RawRule::RateCard {
        return Err(ctx.err(
            span,
            format!("{path}.rule"),
            "\"ex_post\" pays `price` per counted outcome: use `rule = \"rate_card\"`",
        ));
    }
    if let Some(b) = &rp.baseline {
        return Err(ctx.err(
            b.span(),
            format!("{path}.baseline"),
            "\"ex_post\" has no counterfactual; remove `baseline`",
        ));
    }
    Ok(Baseline::ExPost)
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
        // Checked by `enrolment_component`.
        RawRule::PerEnrolment => Rule::PerEnrolment { price: 0.0 },
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
fn baseline(
    ctx: &Ctx,
    p: &Spanned<RawPayment>,
    path: &str,
    at: &[usize],
    measurement: RawMeasurement,
    control_size: Option<u64>,
) -> R<Baseline> {
    let rp = p.get_ref();
    if measurement == RawMeasurement::ControlGroup && control_size.is_none() {
        return Err(ctx.err(p.span(), "contract.control_size", "missing: `measurement = \"control_group\"` needs `control_size`, the number of children in the comparison group"));
    }
    let baseline = match (&rp.baseline, measurement) {
        (_, RawMeasurement::ExPost) => Baseline::ExPost,
        (None, RawMeasurement::FixedBaseline) => {
            return Err(ctx.err(p.span(), format!("{path}.baseline"), "missing: a fixed-baseline contract needs `baseline`: a number, a list (one per date in `at`) or \"expected\""));
        }
        (None, RawMeasurement::ControlGroup) => Baseline::FromControl,
        (Some(b), RawMeasurement::ControlGroup) => {
            return Err(ctx.err(
                b.span(),
                format!("{path}.baseline"),
                "a control-group contract measures its baseline on the comparison group; remove `baseline`",
            ));
        }
        (Some(b), RawMeasurement::FixedBaseline) => match b.get_ref() {
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
        let cohort = Cohort {
            exit: None,
            waves: vec![Wave {
                cycle: 0,
                children: 10,
                age: 0.0,
                initial: vec![1.0, 0.0],
            }],
        };
        contract(&ctx(&text, &["home", "care"]), &doc.contract, &metrics(), &cohort, 6)
    }

    #[test]
    fn a_rate_card_pays_its_price_against_its_baseline() {
        let c = check("baseline = \"expected\"\nrule = \"rate_card\"\nprice = 100.0\n").unwrap();
        assert_eq!(c.components[0].rule, Rule::RateCard { price: 100.0 });
        assert_eq!(c.components[0].at, vec![2, 5]);
        assert_eq!(c.components[0].baseline, Baseline::Expected);
    }

    #[test]
    fn more_per_child_windows_than_the_sampler_flags_are_refused() {
        let text = "[contract]\n[[contract.payments]]\nmetric = \"entered\"\nmeasurement = \"ex_post\"\nrule = \"rate_card\"\nprice = 1.0\nat = [0, 1, 2, 3, 4, 5]\n";
        let doc: Doc = raw(text);
        let cohort = Cohort {
            exit: None,
            waves: vec![Wave {
                cycle: 0,
                children: 10,
                age: 0.0,
                initial: vec![1.0, 0.0],
            }],
        };
        let metric = |k: usize, window: (usize, usize)| Metric {
            name: if k == 0 { "entered".to_string() } else { format!("m{k}") },
            kind: MetricKind::Entries,
            states: vec![false, true],
            window,
            discount_rate: None,
        };
        let check = |metrics: &[Metric]| contract(&ctx(text, &["home", "care"]), &doc.contract, metrics, &cohort, 100);
        // 60 metrics on one window, cut at 6 dates: 6 distinct windows.
        let same: Vec<Metric> = (0..60).map(|k| metric(k, (0, 6))).collect();
        assert!(check(&same).is_ok());
        // 60 distinct windows and 6 cuts of the first: 66.
        let distinct: Vec<Metric> = (0..60).map(|k| metric(k, (k, 61))).collect();
        let e = check(&distinct).unwrap_err();
        assert_eq!(e.key_path, "contract.payments");
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
