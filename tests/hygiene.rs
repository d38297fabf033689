//! The repository stands on its own: no tracked file points at files that
//! exist only beside it, and the README's calibrate example runs on the
//! panel that ships.

mod common;

use std::path::Path;
use std::process::Command;

/// The tracked files (`git ls-files`), or every file outside build output
/// when git is not available.
fn tracked(root: &Path) -> Vec<String> {
    if let Ok(output) = Command::new("git").arg("ls-files").current_dir(root).output() {
        if output.status.success() && !output.stdout.is_empty() {
            return String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(String::from)
                .collect();
        }
    }
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable").flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if ["target", ".git", "results", "bin-device"].contains(&name.as_str()) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                files.push(relative.display().to_string());
            }
        }
    }
    files
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Spelled in pieces so that this file does not match itself.
    let needles = [["..", "shared"].join("/"), ["shared", "docs"].join("/")];
    let mut found = Vec::new();
    for file in tracked(root) {
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            continue; // binary
        };
        for (number, line) in text.lines().enumerate() {
            if needles.iter().any(|n| line.contains(n.as_str())) {
                found.push(format!("{file}:{}: {line}", number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "references outside the repository:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_readme_calibrate_example_runs_on_the_shipped_panel() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let line = readme
        .lines()
        .find(|l| l.starts_with("sibsim calibrate examples/panel.csv"))
        .expect("the README shows calibrate on examples/panel.csv");
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    let output = common::run_in(root, &args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("[baseline]") && table.contains("[[baseline.bands]]"),
        "{table}"
    );
}
