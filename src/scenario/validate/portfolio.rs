//! Portfolio files: several contract files pooled in one fund, with one
//! shared shock.

use super::cohort::run_defaults;
use super::fund::fund;
use super::uncertainty::uncertainty;
use super::{valid_name, Ctx};
use crate::error::InputError;
use crate::model::*;
use crate::scenario::raw::*;
use std::collections::HashMap;

/// Validates a portfolio file and loads its contracts.
pub fn validate_portfolio(
    raw: RawPortfolioFile,
    file: &str,
    text: &str,
    base: &std::path::Path,
    contract_sets: &[(String, String, String)],
) -> Result<crate::model::portfolio::Portfolio, InputError> {
    let ctx = Ctx {
        file,
        text,
        names: HashMap::new(),
        state_names: Vec::new(),
    };
    let name = raw.name.get_ref().clone();
    if !valid_name(&name) {
        return Err(ctx.err(
            raw.name.span(),
            "name",
            format!("`{name}` is not allowed; use only a-z, 0-9, `_` and `-` (not first), at most 100 characters (it names the results folder)"),
        ));
    }
    let run = run_defaults(&ctx, &raw.run)?;
    let list = raw.portfolio.get_ref().contracts.get_ref();
    if list.is_empty() {
        return Err(ctx.err(
            raw.portfolio.get_ref().contracts.span(),
            "portfolio.contracts",
            "no contracts; list the scenario files of the contracts",
        ));
    }
    let (contracts, digest_text) = load_contracts(&ctx, list, base, contract_sets)?;
    // One currency for the pooled fund: the portfolio's, or its contracts'.
    let currency = match &raw.currency {
        Some(_) => super::currency(&ctx, &raw.currency)?,
        None => contracts[0].currency.clone(),
    };
    if let Some((k, c)) = contracts.iter().enumerate().find(|(_, c)| c.currency != currency) {
        return Err(ctx.err(
            list[k].span(),
            format!("portfolio.contracts[{k}]"),
            format!(
                "`{}` counts money in {}, the portfolio in {currency}; a pooled fund needs one currency",
                c.name, c.currency
            ),
        ));
    }
    let start = contracts
        .iter()
        .map(|c| c.time.start_year)
        .fold(f64::INFINITY, f64::min);
    let step = contracts[0].time.cycle_years;
    let mut offsets = Vec::new();
    for (k, c) in contracts.iter().enumerate() {
        let offset = (c.time.start_year - start) / step;
        if (offset - offset.round()).abs() > 1e-9 {
            return Err(ctx.err(
                list[k].span(),
                format!("portfolio.contracts[{k}]"),
                format!(
                    "starts in {}, not a whole number of cycles after {start}",
                    c.time.start_year
                ),
            ));
        }
        offsets.push(offset.round() as usize);
    }
    let fund = match &raw.fund {
        Some(f) => fund(&ctx, f.get_ref())?,
        None => {
            return Err(ctx.err(
                raw.name.span(),
                "fund",
                "missing: a portfolio needs a pooled [fund] (capital, management_fee, distribute)",
            ))
        }
    };
    let shock = match &raw.uncertainty {
        None => None,
        Some(u) => {
            let ru = u.get_ref();
            if ru.transition_concentration.is_some()
                || ru.effect_sd_log.is_some()
                || ru.cost_cv.is_some()
                || ru.enrolment.is_some()
                || ru.baseline_posterior.is_some()
                || ru.risk_sd_log.is_some()
            {
                return Err(ctx.err(u.span(), "uncertainty", "a portfolio file takes only [uncertainty.shock]; parameter uncertainty belongs in each contract's file"));
            }
            if let Some(s) = &ru.shock {
                if let Some(t) = s.get_ref().targets.as_ref().and_then(|t| t.first()) {
                    return Err(ctx.err(t.span(), "uncertainty.shock.targets", "the shared shock's targets are each contract's own (its [uncertainty.shock] targets, or its costly states)"));
                }
            }
            // Only the shock is read here: no states, no baseline.
            let none = crate::model::Transitions {
                default: crate::model::StochasticMatrix::new(1, vec![1.0], None)
                    .map_err(|e| InputError::new(file, "uncertainty", e.to_string()))?,
                bands: Vec::new(),
            };
            uncertainty(&ctx, ru, &[], &none, &None)?.shock
        }
    };
    let investor_rate = match raw.discounting.as_ref() {
        Some(d) => {
            if d.payer_rate.is_some() || d.payer_outcomes_rate.is_some() {
                return Err(InputError::new(
                    file,
                    "discounting",
                    "a portfolio file takes only `investor_rate`; payer rates belong to each contract",
                ));
            }
            ctx.rate(&d.investor_rate, "discounting.investor_rate")?
        }
        None => None,
    }
    .unwrap_or(contracts[0].discounting.investor_rate);
    Ok(crate::model::portfolio::Portfolio {
        name,
        description: raw.description.unwrap_or_default(),
        currency,
        source: file.to_string(),
        digest: fnv1a(digest_text.as_bytes()),
        run,
        contracts,
        offsets,
        start_year: start,
        cycle_years: step,
        fund,
        investor_rate,
        shock,
    })
}

/// Loads the listed contract files (relative to `base`) with their
/// `--set contracts.<name>.<key>` overrides; checks unique names and one
/// cycle length. Returns the contracts and the text their digest covers.
fn load_contracts(
    ctx: &Ctx,
    list: &[toml::Spanned<String>],
    base: &std::path::Path,
    contract_sets: &[(String, String, String)],
) -> Result<(Vec<Scenario>, String), InputError> {
    let (file, text) = (ctx.file, ctx.text);
    let mut contracts: Vec<Scenario> = Vec::new();
    let mut digest_text = text.to_string();
    for (k, c) in list.iter().enumerate() {
        let path = base.join(c.get_ref());
        let note = |mut e: InputError| {
            e.message = format!("{} (contract {k} of portfolio {file})", e.message);
            e
        };
        let mut contract = crate::scenario::load(&path).map_err(note)?;
        // `--set contracts.<name>.<key>=...`: reload this contract with its overrides.
        let sets: Vec<(String, String)> = contract_sets
            .iter()
            .filter(|(name, _, _)| *name == contract.name)
            .map(|(_, key, value)| (key.clone(), value.clone()))
            .collect();
        if !sets.is_empty() {
            let prefix = format!("contracts.{}.", contract.name);
            contract = match crate::scenario::load_labelled(&path, &sets, &prefix).map_err(note)? {
                crate::scenario::Loaded::Single(s) => *s,
                crate::scenario::Loaded::Portfolio(_) => {
                    return Err(ctx.err(
                        c.span(),
                        format!("portfolio.contracts[{k}]"),
                        "a portfolio cannot hold a portfolio",
                    ))
                }
            };
        }
        if contracts.iter().any(|x| x.name == contract.name) {
            return Err(ctx.err(
                c.span(),
                format!("portfolio.contracts[{k}]"),
                format!("two contracts are named `{}`; names must be unique", contract.name),
            ));
        }
        if let Some(first) = contracts.first() {
            if (first.time.cycle_years - contract.time.cycle_years).abs() > 1e-12 {
                return Err(ctx.err(
                    c.span(),
                    format!("portfolio.contracts[{k}]"),
                    format!(
                        "cycles of {} years; the first contract's are {} years: a portfolio needs one cycle length",
                        contract.time.cycle_years, first.time.cycle_years
                    ),
                ));
            }
        }
        digest_text.push_str(&format!("\n--{}--\n{:016x}", c.get_ref(), contract.digest));
        contracts.push(contract);
    }
    if let Some((name, key, _)) = contract_sets
        .iter()
        .find(|(name, _, _)| !contracts.iter().any(|c| c.name == *name))
    {
        let names: Vec<&str> = contracts.iter().map(|c| c.name.as_str()).collect();
        return Err(InputError::new(
            "--set",
            format!("contracts.{name}.{key}"),
            format!(
                "no contract named `{name}` in this portfolio; its contracts: {}",
                names.join(", ")
            ),
        ));
    }
    Ok((contracts, digest_text))
}

#[cfg(test)]
mod tests {
    use super::super::testing::raw;
    use super::*;

    #[test]
    fn a_portfolio_needs_contracts_and_a_valid_name() {
        let check = |text: &str| validate_portfolio(raw(text), "p.toml", text, std::path::Path::new("."), &[]);
        let e = check("name = \"pool\"\n[portfolio]\ncontracts = []\n").unwrap_err();
        assert_eq!(e.key_path, "portfolio.contracts");
        let e = check("name = \"Pool!\"\n[portfolio]\ncontracts = [\"a.toml\"]\n").unwrap_err();
        assert_eq!(e.key_path, "name");
        let e = check("name = \"pool\"\n[portfolio]\ncontracts = [\"no-such-file.toml\"]\n").unwrap_err();
        assert!(e.message.contains("contract 0 of portfolio p.toml"), "{}", e.message);
    }
}
