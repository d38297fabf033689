//! The library is laid out by stage, and nothing lower imports anything
//! higher (docs/architecture.md). This test reads every source file and
//! fails on an import that goes up the pipeline, or across between two
//! stages of the same level.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stages from the bottom up; a stage may use only lower levels.
const LEVELS: [(&str, u32); 13] = [
    ("error", 0),
    ("files", 1),
    ("model", 2),
    ("scenario", 3),
    ("contract", 4),
    ("fund", 4),
    ("sim", 5),
    ("stats", 6),
    ("report", 7),
    ("cluster", 8),
    ("run", 9),
    // The binary sits on top of everything.
    ("cli", 10),
    ("main", 10),
];

fn level(module: &str) -> Option<u32> {
    LEVELS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/sim/engine.rs` → `sim`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src/");
    let first = relative.components().next().expect("a component");
    first.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string()
}

/// Every `crate::<module>` (or `sibsim::<module>`) named in code, not in comments.
fn uses(text: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let after = &rest[at + prefix.len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((number + 1, name));
            }
            rest = after;
        }
    }
    found
}

#[test]
fn no_stage_imports_a_higher_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" {
            continue;
        }
        let own = level(&module).unwrap_or_else(|| panic!("{}: module `{module}` has no level", file.display()));
        seen.insert(module.clone(), own);
        let text = std::fs::read_to_string(file).expect("readable");
        let prefix = if own == 10 { "sibsim::" } else { "crate::" };
        for (line, used) in uses(&text, prefix) {
            if used == module {
                continue;
            }
            let Some(theirs) = level(&used) else {
                continue; // an item of lib.rs, not a module
            };
            if theirs >= own {
                violations.push(format!(
                    "{}:{line}: `{module}` (level {own}) uses `{used}` (level {theirs})",
                    file.display()
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports up the pipeline:\n{}",
        violations.join("\n")
    );
    // Every stage exists, so the table cannot silently go stale.
    for (module, _) in LEVELS {
        assert!(seen.contains_key(module), "no source for stage `{module}`");
    }
}

#[test]
fn the_scanner_sees_imports_and_skips_comments() {
    let text = "use crate::sim::engine::Engine; // crate::run is only named here\n/// [`crate::report`]\nlet x = crate::stats::Summary::of(&v);";
    let found: Vec<String> = uses(text, "crate::").into_iter().map(|(_, m)| m).collect();
    assert_eq!(found, vec!["sim", "stats"]);
}
