//! `[time]`, `[run]`, `[[states]]` and `[cohort]`: the clock, the run
//! defaults, the states children move through and who enters when.

use super::{valid_name, Ctx, CYCLE_YEARS_RANGE, R, SUM_TOLERANCE};
use crate::model::*;
use crate::scenario::raw::*;
use toml::Spanned;

/// `[time]`: cycle length, horizon, calendar label of cycle 0.
pub(super) fn time(ctx: &Ctx, raw: &RawTime) -> R<Time> {
    let cycle_years = ctx.positive(
        &raw.cycle_years,
        "time.cycle_years",
        "a cycle length",
        "years > 0 (1 = annual, 0.25 = quarterly)",
    )?;
    if !(CYCLE_YEARS_RANGE.0..=CYCLE_YEARS_RANGE.1).contains(&cycle_years) {
        return Err(ctx.err(
            raw.cycle_years.span(),
            "time.cycle_years",
            format!("{cycle_years:e} years is not a usable cycle; expected a day (1/365 ≈ 0.00274) to 10 years"),
        ));
    }
    let horizon = ctx.count(&raw.horizon, "time.horizon", 1, "at least 1 cycle")?;
    if horizon > 100_000 {
        return Err(ctx.err(
            raw.horizon.span(),
            "time.horizon",
            format!("{horizon} cycles is more than the 100000 allowed"),
        ));
    }
    let start_year = match &raw.start_year {
        Some(y) => ctx.finite(y, "time.start_year")?,
        None => 0.0,
    };
    Ok(Time {
        cycle_years,
        horizon,
        start_year,
    })
}

/// `[run]`: defaults 1000 replications, seed 1.
pub(super) fn run_defaults(ctx: &Ctx, raw: &Option<RawRun>) -> R<RunDefaults> {
    let mut run = RunDefaults {
        replications: 1000,
        seed: 1,
        sampler: Sampler::Auto,
    };
    if let Some(r) = raw {
        if let Some(n) = &r.replications {
            run.replications = ctx.count(n, "run.replications", 1, "at least 1 replication")? as u64;
        }
        if let Some(s) = &r.seed {
            run.seed = ctx.count(s, "run.seed", 0, "a seed ≥ 0")? as u64;
        }
        if let Some(s) = &r.sampler {
            run.sampler = match s.get_ref() {
                RawSampler::Auto => Sampler::Auto,
                RawSampler::PerChild => Sampler::PerChild,
                RawSampler::Aggregate => Sampler::Aggregate,
            };
        }
    }
    Ok(run)
}

/// `[[states]]`: unique names, costs ≥ 0; registers the names in `ctx`.
pub(super) fn states(ctx: &mut Ctx, raw: &Spanned<Vec<RawState>>) -> R<Vec<State>> {
    if raw.get_ref().is_empty() {
        return Err(ctx.err(raw.span(), "states", "no states; give at least one [[states]] table"));
    }
    if raw.get_ref().len() > 64 {
        return Err(ctx.err(raw.span(), "states", "more than 64 states are not supported"));
    }
    let mut states = Vec::new();
    for (i, s) in raw.get_ref().iter().enumerate() {
        let path = format!("states[{i}]");
        let n = s.name.get_ref();
        if !valid_name(n) {
            return Err(ctx.err(
                s.name.span(),
                format!("{path}.name"),
                format!("`{n}` is not allowed; use only a-z, 0-9, `_` and `-` (not first), at most 100 characters"),
            ));
        }
        if ctx.names.insert(n.clone(), i).is_some() {
            return Err(ctx.err(
                s.name.span(),
                format!("{path}.name"),
                format!("state `{n}` is defined twice; names must be unique"),
            ));
        }
        ctx.state_names.push(n.clone());
        let cost = match &s.cost {
            Some(c) => ctx.non_negative(c, &format!("{path}.cost"))?,
            None => 0.0,
        };
        states.push(State {
            name: n.clone(),
            cost,
            absorbing: s.absorbing,
        });
    }
    Ok(states)
}

/// `[cohort]`: the optional age-out rule and the waves of children.
pub(super) fn cohort(ctx: &Ctx, raw: &Spanned<RawCohort>, horizon: usize, n: usize) -> R<Cohort> {
    let rc = raw.get_ref();
    let exit = match (&rc.exit_age, &rc.exit_state) {
        (None, None) => None,
        (Some(a), Some(s)) => {
            let age = ctx.non_negative(a, "cohort.exit_age")?;
            let state = ctx.state(s, "cohort.exit_state")?;
            Some(AgeOut { age, state })
        }
        (Some(a), None) => {
            return Err(ctx.err(
                a.span(),
                "cohort.exit_state",
                "`exit_age` needs `exit_state`: the state children move to when they age out",
            ))
        }
        (None, Some(s)) => {
            return Err(ctx.err(
                s.span(),
                "cohort.exit_age",
                "`exit_state` needs `exit_age`: the age (years) at which children move there",
            ))
        }
    };
    if rc.waves.get_ref().is_empty() {
        return Err(ctx.err(
            rc.waves.span(),
            "cohort.waves",
            "no waves; give at least one [[cohort.waves]] table",
        ));
    }
    let mut waves = Vec::new();
    for (k, w) in rc.waves.get_ref().iter().enumerate() {
        let path = format!("cohort.waves[{k}]");
        let rw = w.get_ref();
        let cycle = match &rw.cycle {
            Some(c) => ctx.count(c, &format!("{path}.cycle"), 0, "a cycle ≥ 0")?,
            None => 0,
        };
        if cycle >= horizon {
            let span = rw.cycle.as_ref().map_or(w.span(), |c| c.span());
            return Err(ctx.err(
                span,
                format!("{path}.cycle"),
                format!("entry cycle {cycle} is outside the horizon; expected 0 ≤ cycle < {horizon}"),
            ));
        }
        let children = ctx.children(&rw.children, &format!("{path}.children"))?;
        let age = ctx.non_negative(&rw.age, &format!("{path}.age"))?;
        if let Some(e) = exit {
            if age >= e.age - AGE_EPSILON {
                return Err(ctx.err(
                    rw.age.span(),
                    format!("{path}.age"),
                    format!(
                        "entry age {age} is at or past exit_age {}; children must enter younger",
                        e.age
                    ),
                ));
            }
        }
        let mut initial = vec![0.0; n];
        for (state, p) in rw.initial.get_ref() {
            let ipath = format!("{path}.initial.{state}");
            let Some(&i) = ctx.names.get(state) else {
                return Err(ctx.err(
                    rw.initial.span(),
                    ipath,
                    format!(
                        "unknown state `{state}`; the states are: {}",
                        ctx.state_names.join(", ")
                    ),
                ));
            };
            initial[i] = ctx.non_negative(p, &ipath)?;
        }
        let sum: f64 = initial.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(ctx.err(
                rw.initial.span(),
                format!("{path}.initial"),
                format!("sums to {sum}; the initial distribution must sum to 1 (within {SUM_TOLERANCE})"),
            ));
        }
        waves.push(Wave {
            cycle,
            children,
            age,
            initial,
        });
    }
    Ok(Cohort { exit, waves })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, raw};
    use super::*;

    #[test]
    fn time_refuses_a_cycle_outside_a_day_to_a_decade() {
        let text = "cycle_years = 20.0\nhorizon = 5\n";
        let e = time(&ctx(text, &[]), &raw(text)).unwrap_err();
        assert_eq!(e.key_path, "time.cycle_years");
        assert_eq!(e.position, Some((1, 15)));
        let text = "cycle_years = 0.25\nhorizon = 8\nstart_year = 2020.0\n";
        let t = time(&ctx(text, &[]), &raw(text)).unwrap();
        assert_eq!((t.cycle_years, t.horizon, t.start_year), (0.25, 8, 2020.0));
    }

    #[test]
    fn states_must_be_unique_and_register_their_names() {
        #[derive(serde::Deserialize)]
        struct Doc {
            states: toml::Spanned<Vec<RawState>>,
        }
        let text = "[[states]]\nname = \"home\"\n[[states]]\nname = \"care\"\ncost = 5.0\n";
        let mut c = ctx(text, &[]);
        let states = states(&mut c, &raw::<Doc>(text).states).unwrap();
        assert_eq!(states[1].cost, 5.0);
        assert_eq!(c.names["care"], 1);
        let text = "[[states]]\nname = \"home\"\n[[states]]\nname = \"home\"\n";
        let e = super::states(&mut ctx(text, &[]), &raw::<Doc>(text).states).unwrap_err();
        assert_eq!(e.key_path, "states[1].name");
    }

    #[test]
    fn a_wave_enters_inside_the_horizon_with_a_distribution() {
        #[derive(serde::Deserialize)]
        struct Doc {
            cohort: toml::Spanned<RawCohort>,
        }
        let wave = |cycle: u32, home: f64| {
            format!(
                "[cohort]\n[[cohort.waves]]\ncycle = {cycle}\nchildren = 10\nage = 7\ninitial = {{ home = {home} }}\n"
            )
        };
        let check = |text: &str| cohort(&ctx(text, &["home", "care"]), &raw::<Doc>(text).cohort, 5, 2);
        assert_eq!(check(&wave(2, 1.0)).unwrap().waves[0].initial, vec![1.0, 0.0]);
        assert_eq!(check(&wave(5, 1.0)).unwrap_err().key_path, "cohort.waves[0].cycle");
        assert_eq!(check(&wave(0, 0.5)).unwrap_err().key_path, "cohort.waves[0].initial");
    }
}
