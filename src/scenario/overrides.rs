//! `--set KEY=VALUE`: change any key of a scenario by its path
//! (`contract.payments[0].price`) before it is checked, so a wrong path or a
//! wrong value is the same clear error as in a file.

use crate::error::InputError;
use toml_edit::{DocumentMut, Item, Table, TableLike, Value};

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
fn parse_value(value: &str) -> Result<Value, String> {
    let parsed = format!("v = {value}")
        .parse::<DocumentMut>()
        .ok()
        .and_then(|d| d.get("v").and_then(|v| v.as_value()).cloned());
    match parsed {
        Some(mut v) => {
            v.decor_mut().clear();
            Ok(v)
        }
        None => {
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
                Ok(Value::from(value))
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

/// Scenario text with overrides applied, and where each of its lines came
/// from, so that an error in it can point at the user's file or flag.
#[derive(Debug, Clone)]
pub struct Overridden {
    /// The changed text (the file's own formatting and comments kept).
    pub text: String,
    /// For each line of `text`, its line in the original file (0-based), or
    /// None for a line an override wrote.
    origin: Vec<Option<usize>>,
    /// `file` as given, and each override as `--set KEY=VALUE`.
    file: String,
    flags: Vec<(String, String)>,
}

impl Overridden {
    /// An error found in the changed text, pointed at what the user wrote:
    /// an error at a key an override set names that `--set` (and its
    /// text); one elsewhere names the file, at its own line, and says the
    /// file was checked as changed by the overrides.
    pub fn relocate(&self, mut error: InputError) -> InputError {
        if error.file != self.file || self.flags.is_empty() {
            return error;
        }
        let by_flag = self.flags.iter().find(|(path, _)| {
            !error.key_path.is_empty()
                && (error.key_path == *path
                    || error.key_path.starts_with(&format!("{path}."))
                    || error.key_path.starts_with(&format!("{path}[")))
        });
        let line = error
            .position
            .map(|(line, column)| (self.origin.get(line.saturating_sub(1)).copied().flatten(), column));
        // The flag behind it: the one whose key the error names, or the only
        // one when the error sits on a line an override wrote.
        let flag = by_flag.map(|(_, f)| f).or(match line {
            Some((None, _)) if self.flags.len() == 1 => Some(&self.flags[0].1),
            _ => None,
        });
        if let Some(flag) = flag {
            error.file = flag.clone();
            error.position = None;
            return error;
        }
        error.position = match line {
            Some((Some(line), column)) => Some((line + 1, column)),
            _ => None,
        };
        error.message = format!("{} (with {})", error.message, self.shown());
        error
    }

    fn shown(&self) -> String {
        self.flags.iter().map(|(_, f)| f.as_str()).collect::<Vec<_>>().join(" ")
    }
}

/// Where the node a path leads to lives in the document.
enum Node<'a> {
    Item(&'a mut Item),
    Table(&'a mut Table),
    Value(&'a mut Value),
}

impl<'a> Node<'a> {
    fn table_like(self) -> Option<&'a mut dyn TableLike> {
        match self {
            Node::Item(item) => item.as_table_like_mut(),
            Node::Table(table) => Some(table),
            Node::Value(Value::InlineTable(table)) => Some(table),
            Node::Value(_) => None,
        }
    }

    /// The `index`-th entry of a list: Err(None) when this is not a list,
    /// Err(Some(len)) when the index is out of range.
    fn entry(self, index: usize) -> Result<Node<'a>, Option<usize>> {
        match self {
            Node::Item(Item::ArrayOfTables(tables)) => {
                let len = tables.len();
                tables.get_mut(index).map(Node::Table).ok_or(Some(len))
            }
            Node::Item(Item::Value(Value::Array(values))) | Node::Value(Value::Array(values)) => {
                let len = values.len();
                values.get_mut(index).map(Node::Value).ok_or(Some(len))
            }
            _ => Err(None),
        }
    }
}

/// Puts `value` where `old` was, keeping `old`'s comments.
fn replace(old: &mut Value, mut value: Value) {
    *value.decor_mut() = old.decor().clone();
    *old = value;
}

/// Sets one key path of a document.
fn set_one(document: &mut DocumentMut, steps: &[Step], path: &str, value: Value, flag: &str) -> Result<(), InputError> {
    let mut here = Node::Table(document.as_table_mut());
    for (k, step) in steps.iter().enumerate() {
        let last = k + 1 == steps.len();
        let done = path_prefix(&steps[..=k]);
        let above = path_prefix(&steps[..k]);
        here = match step {
            Step::Key(key) => {
                let table = here
                    .table_like()
                    .ok_or_else(|| InputError::new(flag, path, format!("`{above}` is not a table")))?;
                if last {
                    match table.get_mut(key) {
                        Some(Item::Value(old)) => replace(old, value),
                        Some(Item::Table(_) | Item::ArrayOfTables(_)) => {
                            return Err(InputError::new(
                                flag,
                                path,
                                format!("`{done}` is a table; set one of its keys"),
                            ))
                        }
                        _ => {
                            table.insert(key, Item::Value(value));
                        }
                    }
                    return Ok(());
                }
                // A missing table on the way is created (`uncertainty.enrolment.mean`
                // on a scenario without `[uncertainty]`); a missing list is not, as
                // its index would be a guess.
                if table.get(key).is_none() && matches!(steps[k + 1], Step::Key(_)) {
                    let mut created = Table::new();
                    created.set_implicit(true);
                    table.insert(key, Item::Table(created));
                }
                let item = table
                    .get_mut(key)
                    .ok_or_else(|| InputError::new(flag, path, format!("`{done}` does not exist in the scenario")))?;
                Node::Item(item)
            }
            Step::Index(index) => {
                let node = here.entry(*index).map_err(|len| match len {
                    Some(len) => InputError::new(flag, path, format!("`{done}` is out of range: there are {len}")),
                    None => InputError::new(flag, path, format!("`{above}` is not a list")),
                })?;
                if last {
                    match node {
                        Node::Value(old) => replace(old, value),
                        _ => {
                            return Err(InputError::new(
                                flag,
                                path,
                                format!("`{done}` is a table; set one of its keys"),
                            ))
                        }
                    }
                    return Ok(());
                }
                node
            }
        };
    }
    Ok(())
}

/// For each line of `new`, its line in `old`, or None for a line that is
/// not there: overrides replace a value in place or add lines, so the old
/// lines appear in order, and a run of new lines that differ ends where
/// the old text picks up again.
fn line_origins(old: &str, new: &str) -> Vec<Option<usize>> {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let mut origin = Vec::with_capacity(new.len());
    let mut i = 0;
    for (j, line) in new.iter().enumerate() {
        if old.get(i) == Some(line) {
            origin.push(Some(i));
            i += 1;
            continue;
        }
        origin.push(None);
        // Skip the old lines a changed value replaced, up to where the
        // next new line is found again (an added line skips nothing).
        if let Some(next) = new.get(j + 1) {
            if old.get(i) != Some(next) {
                if let Some(found) = old[i.min(old.len())..].iter().position(|l| l == next) {
                    i += found;
                }
            }
        }
    }
    origin
}

/// Applies `(path, value)` overrides to scenario text and returns new text.
///
/// # Errors
/// An [`InputError`] naming `--set` and the path when a step does not exist.
pub fn apply(text: &str, file: &str, sets: &[(String, String)]) -> Result<String, InputError> {
    Ok(apply_mapped(text, file, sets, "")?.text)
}

/// As [`apply`], keeping the file's formatting and comments and where each
/// line came from, for [`Overridden::relocate`]; the overrides were given
/// as `--set {prefix}KEY=VALUE`.
///
/// # Errors
/// As for [`apply`].
pub fn apply_mapped(text: &str, file: &str, sets: &[(String, String)], prefix: &str) -> Result<Overridden, InputError> {
    let flags = sets
        .iter()
        .map(|(k, v)| (k.clone(), format!("--set {prefix}{k}={v}")))
        .collect();
    if sets.is_empty() {
        return Ok(Overridden {
            text: text.to_string(),
            origin: (0..text.lines().count()).map(Some).collect(),
            file: file.to_string(),
            flags,
        });
    }
    let mut document: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| InputError::new(file, "", e.message().to_string()))?;
    for (path, value) in sets {
        let flag = "--set";
        let shown = format!("{prefix}{path}");
        let steps = parse_path(path, flag).map_err(|e| InputError {
            key_path: shown.clone(),
            ..e
        })?;
        let value = parse_value(value).map_err(|m| InputError::new(flag, &shown, m))?;
        set_one(&mut document, &steps, path, value, flag).map_err(|e| InputError {
            key_path: shown.clone(),
            ..e
        })?;
    }
    let changed = document.to_string();
    Ok(Overridden {
        origin: line_origins(text, &changed),
        text: changed,
        file: file.to_string(),
        flags,
    })
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
