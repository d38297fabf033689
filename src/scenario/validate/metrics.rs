//! `[counting]`, `[discounting]` and `[[metrics]]`: how occupancy is
//! counted and discounted, and what is measured.

use super::{valid_name, Ctx, R};
use crate::error::InputError;
use crate::model::*;
use crate::scenario::raw::*;

/// `[counting]`: which end of a cycle occupancy is counted at.
pub(super) fn counting(raw: &Option<RawCounting>) -> Counting {
    match raw.as_ref().and_then(|c| c.occupancy) {
        None | Some(RawOccupancy::Start) => Counting::Start,
        Some(RawOccupancy::End) => Counting::End,
        Some(RawOccupancy::HalfCycle) => Counting::HalfCycle,
    }
}

/// `[discounting]`: payer, investor and outcome rates (default 0).
pub(super) fn discounting(ctx: &Ctx, raw: &Option<RawDiscounting>) -> R<Discounting> {
    Ok(match raw {
        None => Discounting {
            payer_rate: 0.0,
            investor_rate: 0.0,
            payer_outcomes_rate: None,
        },
        Some(d) => Discounting {
            payer_rate: ctx.rate(&d.payer_rate, "discounting.payer_rate")?.unwrap_or(0.0),
            investor_rate: ctx.rate(&d.investor_rate, "discounting.investor_rate")?.unwrap_or(0.0),
            payer_outcomes_rate: ctx.rate(&d.payer_outcomes_rate, "discounting.payer_outcomes_rate")?,
        },
    })
}

/// `[[metrics]]`: unique names, states, windows, and discounting.
pub(super) fn metrics(
    ctx: &Ctx,
    raw: &Option<Vec<toml::Spanned<RawMetric>>>,
    raw_run: &Option<RawRun>,
    run: &RunDefaults,
    discounting: &Discounting,
    horizon: usize,
    n: usize,
) -> R<Vec<Metric>> {
    let mut metrics: Vec<Metric> = Vec::new();
    for (k, m) in raw.iter().flatten().enumerate() {
        // In file order: the name's form, then uniqueness, then the rest.
        let name = m.get_ref().name.get_ref();
        if valid_name(name) && metrics.iter().any(|x| &x.name == name) {
            return Err(ctx.err(
                m.get_ref().name.span(),
                format!("metrics[{k}].name"),
                format!("metric `{name}` is defined twice; names must be unique"),
            ));
        }
        let metric = metric(ctx, k, m, discounting, horizon, n)?;
        metrics.push(metric);
    }
    let entries = metrics.iter().filter(|m| m.per_child()).count();
    if entries > 0 && run.sampler == Sampler::Aggregate {
        return Err(super::aggregate_refused(
            ctx,
            raw_run,
            "`entries` and `never_entered` metrics",
        ));
    }
    if entries > 64 {
        return Err(InputError::new(
            ctx.file,
            "metrics",
            "more than 64 `entries` and `never_entered` metrics are not supported",
        ));
    }
    Ok(metrics)
}

/// One `[[metrics]]` table (its name not yet checked for uniqueness).
fn metric(
    ctx: &Ctx,
    k: usize,
    m: &toml::Spanned<RawMetric>,
    discounting: &Discounting,
    horizon: usize,
    n: usize,
) -> R<Metric> {
    let path = format!("metrics[{k}]");
    let rm = m.get_ref();
    let name = rm.name.get_ref().clone();
    if !valid_name(&name) {
        return Err(ctx.err(
            rm.name.span(),
            format!("{path}.name"),
            format!("`{name}` is not allowed; use only a-z, 0-9, `_` and `-` (not first), at most 100 characters"),
        ));
    }
    let states = match (&rm.states, rm.kind) {
        (Some(s), RawMetricKind::Cost) => {
            let span = s.first().map_or(m.span(), |x| x.span());
            return Err(ctx.err(
                span,
                format!("{path}.states"),
                "a `cost` metric counts every state's cost; remove `states`",
            ));
        }
        (None, RawMetricKind::Cost) => vec![true; n],
        (Some(s), _) => ctx.state_mask(s, &format!("{path}.states"))?,
        (None, _) => {
            return Err(ctx.err(
                m.span(),
                format!("{path}.states"),
                "missing: this kind of metric needs `states`, a list of state names",
            ))
        }
    };
    let window = match &rm.window {
        None => (0, horizon),
        Some(w) => {
            let v = w.get_ref();
            if v.len() != 2 || v[0] < 0 || v[0] >= v[1] || v[1] as usize > horizon {
                return Err(ctx.err(
                    w.span(),
                    format!("{path}.window"),
                    format!("{v:?} is not a window; expected [from, to) with 0 ≤ from < to ≤ horizon ({horizon})"),
                ));
            }
            (v[0] as usize, v[1] as usize)
        }
    };
    let kind = match rm.kind {
        RawMetricKind::StateCycles => MetricKind::StateCycles,
        RawMetricKind::Entries => MetricKind::Entries,
        RawMetricKind::NeverEntered => MetricKind::NeverEntered,
        RawMetricKind::Cost => MetricKind::Cost,
        RawMetricKind::OccupancyAt => {
            let Some(at) = &rm.at else {
                return Err(ctx.err(
                    m.span(),
                    format!("{path}.at"),
                    "missing: `occupancy_at` needs `at`, the cycle at which to count",
                ));
            };
            let t = ctx.count(at, &format!("{path}.at"), 0, "a cycle ≥ 0")?;
            if t > horizon {
                return Err(ctx.err(at.span(), format!("{path}.at"), format!("cycle {t} is outside the horizon; expected 0 ≤ at ≤ {horizon} ({horizon} = after the last transition)")));
            }
            MetricKind::OccupancyAt(t)
        }
    };
    if rm.at.is_some() && !matches!(kind, MetricKind::OccupancyAt(_)) {
        return Err(ctx.err(
            rm.at.as_ref().map_or(m.span(), |a| a.span()),
            format!("{path}.at"),
            "`at` is only for `occupancy_at` metrics",
        ));
    }
    if rm.discounted.is_some()
        && matches!(
            kind,
            MetricKind::Entries | MetricKind::NeverEntered | MetricKind::OccupancyAt(_)
        )
    {
        return Err(ctx.err(
            m.span(),
            format!("{path}.discounted"),
            "`discounted` is only for `cost` and `state_cycles` metrics",
        ));
    }
    let discount_rate = match kind {
        MetricKind::Cost => rm.discounted.unwrap_or(true).then_some(discounting.payer_rate),
        MetricKind::StateCycles => match rm.discounted {
            Some(true) => Some(discounting.payer_outcomes_rate.unwrap_or(discounting.payer_rate)),
            Some(false) => None,
            None => discounting.payer_outcomes_rate,
        },
        _ => None,
    };
    Ok(Metric {
        name,
        kind,
        states,
        window,
        discount_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, raw};
    use super::*;

    #[derive(serde::Deserialize)]
    struct Doc {
        metrics: Option<Vec<toml::Spanned<RawMetric>>>,
        run: Option<RawRun>,
        discounting: Option<RawDiscounting>,
    }

    fn check(text: &str, sampler: Sampler) -> R<Vec<Metric>> {
        let doc: Doc = raw(text);
        let c = ctx(text, &["home", "care"]);
        let discounting = discounting(&c, &doc.discounting)?;
        let run = RunDefaults {
            replications: 1,
            seed: 1,
            sampler,
        };
        metrics(&c, &doc.metrics, &doc.run, &run, &discounting, 6, 2)
    }

    #[test]
    fn windows_lie_inside_the_horizon_and_names_are_unique() {
        let one = "[[metrics]]\nname = \"care_years\"\nkind = \"state_cycles\"\nstates = [\"care\"]\n";
        let m = check(one, Sampler::Auto).unwrap();
        assert_eq!((m[0].window, m[0].states.clone()), ((0, 6), vec![false, true]));
        let twice = format!("{one}{one}");
        assert_eq!(check(&twice, Sampler::Auto).unwrap_err().key_path, "metrics[1].name");
        let wide = format!("{one}window = [2, 9]\n");
        assert_eq!(check(&wide, Sampler::Auto).unwrap_err().key_path, "metrics[0].window");
    }

    #[test]
    fn cost_metrics_are_discounted_at_the_payer_rate_by_default() {
        let text = "[discounting]\npayer_rate = 0.03\n[[metrics]]\nname = \"cost\"\nkind = \"cost\"\n";
        assert_eq!(check(text, Sampler::Auto).unwrap()[0].discount_rate, Some(0.03));
    }

    #[test]
    fn entries_need_the_per_child_sampler() {
        let text = "[[metrics]]\nname = \"entered\"\nkind = \"entries\"\nstates = [\"care\"]\n";
        assert!(check(text, Sampler::Auto).is_ok());
        assert_eq!(check(text, Sampler::Aggregate).unwrap_err().key_path, "run.sampler");
    }
}
