//! Reading scenario files: parse (shape and types) in one stage, validate
//! (meaning) in the next, into a [`Scenario`] that cannot hold invalid values.

pub mod calibrate;
pub mod overrides;
pub mod plausible;
pub mod raw;
pub mod targets;
pub mod validate;

use crate::error::InputError;
use crate::model::Scenario;
use std::path::Path;

/// Reads and validates a scenario file.
///
/// # Errors
/// An [`InputError`] naming the file, line:column, key path and problem for a
/// missing or unreadable file, a file that is not UTF-8, an empty file, TOML
/// syntax, unknown, missing or mistyped keys, and every semantic check.
pub fn load(path: &Path) -> Result<Scenario, InputError> {
    let (file, text) = read_text(path)?;
    if is_portfolio(&text) {
        return Err(InputError::new(
            &file,
            "portfolio",
            "this is a portfolio file; it runs with `sibsim run`, not as a single contract",
        ));
    }
    parse(&text, &file)
}

/// A scenario file or a portfolio file, as loaded.
#[derive(Debug, Clone)]
pub enum Loaded {
    /// One contract.
    Single(Box<Scenario>),
    /// Several contracts with a pooled fund.
    Portfolio(Box<crate::model::portfolio::Portfolio>),
}

impl Loaded {
    /// Its contracts, in file order (one for a single scenario).
    pub fn contracts(&self) -> Vec<&Scenario> {
        match self {
            Loaded::Single(s) => vec![s],
            Loaded::Portfolio(p) => p.contracts.iter().collect(),
        }
    }
}

/// Loads a scenario or, when the file has a `[portfolio]` table, a portfolio
/// (its contracts are loaded from their own files, relative to it).
///
/// # Errors
/// As for [`load`], for the portfolio file and each contract file.
pub fn load_any(path: &Path) -> Result<Loaded, InputError> {
    load_any_with(path, &[])
}

/// As [`load_any`], with `--set` overrides `(key path, value)` applied to
/// the file before it is checked.
///
/// # Errors
/// As for [`load`]; an override with a wrong path or value names `--set`.
pub fn load_any_with(path: &Path, sets: &[(String, String)]) -> Result<Loaded, InputError> {
    load_labelled(path, sets, "")
}

/// [`load_any_with`], where the overrides were given as `--set
/// {prefix}KEY=VALUE` (a portfolio's `contracts.<name>.`).
pub(crate) fn load_labelled(path: &Path, sets: &[(String, String)], prefix: &str) -> Result<Loaded, InputError> {
    let (file, text) = read_text(path)?;
    // In a portfolio, `contracts.<name>.<key>` addresses a key of the
    // contract named <name>; every other key is the portfolio file's.
    let (contract_sets, sets): (Vec<_>, Vec<_>) = if is_portfolio(&text) {
        sets.iter().cloned().partition(|(k, _)| k.starts_with("contracts."))
    } else {
        (Vec::new(), sets.to_vec())
    };
    let contract_sets = contract_sets
        .into_iter()
        .map(|(k, v)| {
            let rest = &k["contracts.".len()..];
            match rest.split_once('.') {
                Some((name, key)) if !name.is_empty() && !key.is_empty() => Ok((name.to_string(), key.to_string(), v)),
                _ => Err(InputError::new(
                    "--set",
                    &k,
                    "expected contracts.<contract name>.<key>, e.g. contracts.helsinki.contract.payments[0].price",
                )),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Errors in the changed text point at the user's file, or at the flag.
    let changed = overrides::apply_mapped(&text, &file, &sets, prefix)?;
    let text = &changed.text;
    let relocate = |e: InputError| changed.relocate(e);
    if !is_portfolio(text) {
        return Ok(Loaded::Single(Box::new(parse(text, &file).map_err(relocate)?)));
    }
    let deserializer = toml::Deserializer::parse(text).map_err(|e| relocate(toml_error(&e, &file, text, "")))?;
    let raw: raw::RawPortfolioFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = clean_path(&e.path().to_string());
        relocate(toml_error(e.inner(), &file, text, &key))
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(Loaded::Portfolio(Box::new(
        validate::validate_portfolio(raw, &file, text, base, &contract_sets).map_err(relocate)?,
    )))
}

/// The value of `key` in a scenario file as written (with `sets` applied
/// first); in a portfolio, `contracts.<name>.<key>` reads the key of the
/// contract named `<name>`. None where the file does not give the key.
///
/// # Errors
/// An unreadable file, a malformed key, or an unknown contract.
pub fn value_at(
    path: &Path,
    key: &str,
    sets: &[(String, String)],
    flag: &str,
) -> Result<Option<toml::Value>, InputError> {
    let (file, text) = read_text(path)?;
    if is_portfolio(&text) {
        if let Some((name, inner)) = key.strip_prefix("contracts.").and_then(|rest| rest.split_once('.')) {
            // Loaded without overrides, so each contract's source is its file.
            let Loaded::Portfolio(portfolio) = load_any_with(path, &[])? else {
                return Ok(None);
            };
            let Some(contract) = portfolio.contracts.iter().find(|c| c.name == name) else {
                let names: Vec<&str> = portfolio.contracts.iter().map(|c| c.name.as_str()).collect();
                return Err(InputError::new(
                    flag,
                    key,
                    format!(
                        "no contract named `{name}` in this portfolio; its contracts: {}",
                        names.join(", ")
                    ),
                ));
            };
            let contract_sets: Vec<(String, String)> = sets
                .iter()
                .filter_map(|(k, v)| {
                    let rest = k.strip_prefix("contracts.")?.strip_prefix(name)?.strip_prefix('.')?;
                    Some((rest.to_string(), v.clone()))
                })
                .collect();
            let (contract_file, contract_text) = read_text(Path::new(&contract.source))?;
            let changed = overrides::apply(&contract_text, &contract_file, &contract_sets)?;
            return overrides::get(&changed, &contract_file, inner, flag);
        }
    }
    let own: Vec<(String, String)> = sets
        .iter()
        .filter(|(k, _)| !k.starts_with("contracts."))
        .cloned()
        .collect();
    let changed = overrides::apply(&text, &file, &own)?;
    overrides::get(&changed, &file, key, flag)
}

/// Whether a text is a portfolio file (has a top-level `portfolio` table).
fn is_portfolio(text: &str) -> bool {
    text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("portfolio"))
}

/// Reads a file as UTF-8 text, with clear errors.
fn read_text(path: &Path) -> Result<(String, String), InputError> {
    let file = path.display().to_string();
    let bytes = crate::files::read_regular(path, crate::files::SCENARIO_LIMIT, "scenario")?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or("");
        InputError::at(
            &file,
            valid,
            offset,
            "",
            "the file is not valid UTF-8; save it as UTF-8 text",
        )
    })?;
    Ok((file, text))
}

/// Parses and validates scenario text; `file` is used in error messages.
///
/// # Errors
/// As for [`load`].
pub fn parse(text: &str, file: &str) -> Result<Scenario, InputError> {
    let raw = parse_raw(text, file)?;
    validate::validate(raw, file, text)
}

/// The first stage: TOML syntax, shapes and types.
///
/// # Errors
/// As for [`load`], without the semantic checks.
pub fn parse_raw(text: &str, file: &str) -> Result<raw::RawScenario, InputError> {
    let blank = text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#')
    });
    if blank {
        return Err(InputError::new(
            file,
            "",
            "the file is empty; a scenario needs at least `name`, [time], [[states]], [cohort] and [baseline]",
        ));
    }
    let deserializer = toml::Deserializer::parse(text).map_err(|e| toml_error(&e, file, text, ""))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = clean_path(&e.path().to_string());
        toml_error(e.inner(), file, text, &path)
    })
}

/// serde_path_to_error shows toml's span wrapper in the path; users should not see it.
fn clean_path(path: &str) -> String {
    let p = path.replace(".$__serde_spanned_private_value", "");
    if p == "." {
        String::new()
    } else {
        p
    }
}

fn toml_error(e: &toml::de::Error, file: &str, text: &str, path: &str) -> InputError {
    let message = e.message().trim().to_string();
    if message.contains("recursion") || message.contains("recurse") {
        return too_deep(file, text);
    }
    if message.starts_with("duplicate key") {
        if let Some(span) = e.span() {
            return duplicate_key(file, text, span.start);
        }
    }
    let message = explain(&message);
    match e.span() {
        Some(span)
            if !(span.start == 0 && span.end == 0 && path.is_empty() && !message.contains("missing"))
                || span.end > 0 =>
        {
            InputError::at(file, text, span.start, path, message)
        }
        _ => InputError::new(file, path, message),
    }
}

/// The nesting-limit error, at the first line that nests deeply, naming
/// its first key.
fn too_deep(file: &str, text: &str) -> InputError {
    let depth = |line: &str| {
        let mut deepest = 0usize;
        let mut open = 0usize;
        for c in line.chars() {
            match c {
                '[' | '{' => {
                    open += 1;
                    deepest = deepest.max(open);
                }
                ']' | '}' => open = open.saturating_sub(1),
                _ => {}
            }
        }
        let key = line.split('=').next().unwrap_or("");
        deepest.max(key.matches('.').count())
    };
    let deepest = text
        .lines()
        .enumerate()
        .max_by_key(|(i, l)| (depth(l), std::cmp::Reverse(*i)));
    let message = "values or tables nest too deeply for the parser; a scenario nests at most 4 levels (e.g. contract.payments[0].tiers)";
    match deepest {
        Some((i, line)) => {
            let key: String = line
                .trim_start()
                .trim_start_matches('[')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            // split_inclusive keeps each line's own ending (\n or \r\n) in its length.
            let offset: usize = text.split_inclusive('\n').take(i).map(str::len).sum();
            InputError::at(file, text, offset.min(text.len()), key, message)
        }
        None => InputError::new(file, "", message),
    }
}

/// The duplicate-key error naming the key (with the table it is in).
fn duplicate_key(file: &str, text: &str, offset: usize) -> InputError {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let key: String = text[at..]
        .trim_start_matches(['[', ' '])
        .chars()
        .take_while(|c| !c.is_whitespace() && !"=]".contains(*c))
        .collect();
    let key = key.trim_matches('"').to_string();
    // The table the key is in: the last [header] above it, unless the key is a header itself.
    let table = if text[at..].starts_with('[') {
        String::new()
    } else {
        text[..at]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))
            .map(|l| l.trim_matches(['[', ']']).trim().to_string())
            .unwrap_or_default()
    };
    let path = if table.is_empty() {
        key.clone()
    } else {
        format!("{table}.{key}")
    };
    InputError::at(
        file,
        text,
        at,
        path,
        format!("duplicate key `{key}`: it is given twice in the same table; keep one"),
    )
}

/// Makes serde's wording say what is allowed.
fn explain(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("missing key {rest}");
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return format!("unknown key {rest}");
    }
    message
        .replace("expected f64", "expected a number")
        .replace("expected i64", "expected an integer")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
[time]
cycle_years = 1.0
horizon = 3
[[states]]
name = "a"
[[states]]
name = "b"
cost = 10
[cohort]
[[cohort.waves]]
children = 2
age = 0
initial = { a = 1.0 }
[baseline]
matrix = [[0.5, 0.5], [0.0, 1.0]]
"#;

    #[test]
    fn minimal_scenario_loads() {
        let s = parse(MINIMAL, "t.toml").expect("valid");
        assert_eq!(s.states.len(), 2);
        assert_eq!(s.states[1].cost, 10.0);
        assert_eq!(s.time.horizon, 3);
    }

    #[test]
    fn unknown_key_names_path_and_position() {
        let text = MINIMAL.replace("horizon = 3", "horizon = 3\nhorizn = 4");
        let e = parse(&text, "t.toml").unwrap_err();
        assert_eq!(e.key_path, "time.horizn");
        assert!(e.message.contains("unknown key"), "{e}");
        assert_eq!(e.position.map(|p| p.0), Some(6));
    }

    #[test]
    fn row_not_summing_to_one_is_an_error() {
        let text = MINIMAL.replace("[0.5, 0.5]", "[0.5, 0.4]");
        let e = parse(&text, "t.toml").unwrap_err();
        assert_eq!(e.key_path, "baseline.matrix[0]");
        assert!(e.message.contains("sums to"), "{e}");
    }

    #[test]
    fn mistyped_value_is_an_error() {
        let text = MINIMAL.replace("cost = 10", "cost = \"ten\"");
        let e = parse(&text, "t.toml").unwrap_err();
        assert_eq!(e.key_path, "states[1].cost");
    }
}
