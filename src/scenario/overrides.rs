//! `--set KEY=VALUE`: change any key of a scenario by its path
//! (`contract.payments[0].price`) before it is checked, so a wrong path or a
//! wrong value is the same clear error as in a file.

use crate::error::InputError;

/// One path step: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str, flag: &str) -> Result<Vec<Step>, InputError> {
    let bad = |why: &str| {
        InputError::new(
            flag,
            path,
            format!("{why}; a key path looks like `contract.payments[0].price`"),
        )
    };
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(bad(&format!("`{part}` is not a key")));
        }
        steps.push(Step::Key(key.to_string()));
        while !rest.is_empty() {
            let close = rest.find(']').ok_or_else(|| bad("an unclosed `[`"))?;
            let index: usize = rest[1..close]
                .parse()
                .map_err(|_| bad(&format!("`{}` is not an index", &rest[1..close])))?;
            steps.push(Step::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(bad(&format!("unexpected `{rest}`")));
            }
        }
    }
    Ok(steps)
}

/// Parses VALUE as a TOML value (number, boolean, string, array, inline
/// table); anything else is taken as a string, except text that looks like
/// a number but is not one (an integer too large for 64 bits, `1e`),
/// which is an error rather than a surprising string.
fn parse_value(value: &str) -> Result<toml::Value, String> {
    match format!("v = {value}").parse::<toml::Table>() {
        Ok(mut t) => Ok(t.remove("v").unwrap_or_else(|| toml::Value::String(value.to_string()))),
        Err(_) => {
            let body = value.strip_prefix(['+', '-']).unwrap_or(value);
            let numeric = body.starts_with(|c: char| c.is_ascii_digit())
                && body.chars().all(|c| c.is_ascii_digit() || "_.eE+-".contains(c));
            if numeric && body.chars().all(|c| c.is_ascii_digit() || c == '_') {
                Err(format!(
                    "`{value}` overflows: integers must lie within ±9223372036854775807; write a float (e.g. 1e20) for larger numbers"
                ))
            } else if numeric {
                Err(format!("`{value}` is not a number (overflow or a malformed exponent)"))
            } else {
                Ok(toml::Value::String(value.to_string()))
            }
        }
    }
}

/// Splits `KEY=VALUE`.
///
/// # Errors
/// When there is no `=`.
pub fn split(assignment: &str, flag: &str) -> Result<(String, String), InputError> {
    let (k, v) = assignment.split_once('=').ok_or_else(|| {
        InputError::new(
            flag,
            assignment,
            "expected KEY=VALUE, e.g. contract.payments[0].price=30000",
        )
    })?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// Applies `(path, value)` overrides to scenario text and returns new text.
///
/// # Errors
/// An [`InputError`] naming `--set` and the path when a step does not exist.
pub fn apply(text: &str, file: &str, sets: &[(String, String)]) -> Result<String, InputError> {
    if sets.is_empty() {
        return Ok(text.to_string());
    }
    let root: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| InputError::new(file, "", e.message().to_string()))?;
    let mut document = toml::Value::Table(root);
    for (path, value) in sets {
        let flag = "--set";
        let steps = parse_path(path, flag)?;
        {
            let mut here = &mut document;
            for (k, step) in steps.iter().enumerate() {
                let last = k + 1 == steps.len();
                let done = path_prefix(&steps[..=k]);
                here = match (step, here) {
                    (Step::Key(key), toml::Value::Table(t)) => {
                        if last {
                            t.insert(
                                key.clone(),
                                parse_value(value).map_err(|m| InputError::new(flag, path, m))?,
                            );
                            break;
                        }
                        // A missing table on the way is created (`uncertainty.enrolment.mean`
                        // on a scenario without `[uncertainty]`); a missing list is not, as
                        // its index would be a guess.
                        if !t.contains_key(key) && matches!(steps[k + 1], Step::Key(_)) {
                            t.insert(key.clone(), toml::Value::Table(toml::Table::new()));
                        }
                        t.get_mut(key).ok_or_else(|| {
                            InputError::new(flag, path, format!("`{done}` does not exist in the scenario"))
                        })?
                    }
                    (Step::Index(i), toml::Value::Array(a)) => {
                        let len = a.len();
                        let slot = a.get_mut(*i).ok_or_else(|| {
                            InputError::new(flag, path, format!("`{done}` is out of range: there are {len}"))
                        })?;
                        if last {
                            *slot = parse_value(value).map_err(|m| InputError::new(flag, path, m))?;
                            break;
                        }
                        slot
                    }
                    (Step::Key(_), _) => {
                        return Err(InputError::new(
                            flag,
                            path,
                            format!("`{}` is not a table", path_prefix(&steps[..k])),
                        ))
                    }
                    (Step::Index(_), _) => {
                        return Err(InputError::new(
                            flag,
                            path,
                            format!("`{}` is not a list", path_prefix(&steps[..k])),
                        ))
                    }
                };
            }
        }
    }
    toml::to_string(&document).map_err(|e| InputError::new(file, "", format!("cannot apply --set: {e}")))
}

/// The value at a key path of scenario text, or None where the path does
/// not lead to a value.
///
/// # Errors
/// A malformed path (naming `flag`) or text that is not TOML.
pub fn get(text: &str, file: &str, path: &str, flag: &str) -> Result<Option<toml::Value>, InputError> {
    let steps = parse_path(path, flag)?;
    let root: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| InputError::new(file, "", e.message().to_string()))?;
    let mut here = &toml::Value::Table(root);
    for step in &steps {
        let next = match (step, here) {
            (Step::Key(key), toml::Value::Table(t)) => t.get(key),
            (Step::Index(i), toml::Value::Array(a)) => a.get(*i),
            _ => None,
        };
        match next {
            Some(value) => here = value,
            None => return Ok(None),
        }
    }
    Ok(Some(here.clone()))
}

fn path_prefix(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        match s {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_nested_keys() {
        let text = "a = 1\n[[p]]\nprice = 2\n[[p]]\nprice = 3\n";
        let out = apply(
            text,
            "f",
            &[("p[1].price".into(), "30".into()), ("a".into(), "\"x\"".into())],
        )
        .expect("applies");
        let t: toml::Table = out.parse().expect("toml");
        assert_eq!(t["p"][1]["price"].as_integer(), Some(30));
        assert_eq!(t["a"].as_str(), Some("x"));
        assert!(apply(text, "f", &[("p[2].price".into(), "1".into())]).is_err());
        assert!(apply(text, "f", &[("a.b".into(), "1".into())]).is_err());
        // Missing tables on the way are created; a missing list is refused.
        let made = apply(text, "f", &[("u.e.mean".into(), "0.5".into())]).expect("creates tables");
        let t: toml::Table = made.parse().expect("toml");
        assert_eq!(t["u"]["e"]["mean"].as_float(), Some(0.5));
        assert!(apply(text, "f", &[("q[0].price".into(), "1".into())]).is_err());
        assert!(apply(text, "f", &[("p[x]".into(), "1".into())]).is_err());
    }
}
