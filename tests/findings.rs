//! The README's "What the numbers say" section and its pictures are exactly
//! what the README generator (`cargo run --release --example findings`)
//! produces from the bundled scenarios today: a change to the engine or a
//! scenario that moves a number fails here until the section is regenerated
//! and committed.

#[allow(dead_code)]
#[path = "../examples/findings/generate.rs"]
mod generate;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The generator, built by `cargo test` beside the test binaries
/// (`target/<profile>/examples/findings`).
fn generator() -> PathBuf {
    let deps = std::env::current_exe().expect("test binary path");
    let profile = deps.parent().and_then(Path::parent).expect("target/<profile>");
    let path = profile
        .join("examples")
        .join(format!("findings{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is missing: cargo test builds it", path.display());
    path
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(generator())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("findings runs")
}

#[test]
fn readme_findings_match_a_fresh_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = root.join("README.md");
    let out = run_in(root, &["--check", "--readme", readme.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_stale_section_is_reported_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // A copy of the project's scenarios with a README whose section is empty.
    std::fs::create_dir(d.join("scenarios")).expect("mkdir");
    for entry in std::fs::read_dir(root.join("scenarios")).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|x| x == "toml") {
            std::fs::copy(&path, d.join("scenarios").join(path.file_name().expect("name"))).expect("copy");
        }
    }
    // The Lapset contracts read the national posterior from data/.
    std::fs::create_dir(d.join("data")).expect("mkdir");
    std::fs::copy(
        root.join("data/finland-posterior.csv"),
        d.join("data/finland-posterior.csv"),
    )
    .expect("copy");
    let readme = d.join("README.md");
    let text = format!("# x\n\n{}\n{}\n", generate::BEGIN, generate::END);
    std::fs::write(&readme, &text).expect("write");
    let path = readme.to_str().expect("utf-8");
    let out = run_in(d, &["--check", "--readme", path, "--replications", "50"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stale"));
    assert_eq!(std::fs::read_to_string(&readme).expect("read"), text);
    assert!(!d.join("docs").exists());
    // Without --check the section is written, and then it checks clean.
    let out = run_in(d, &["--readme", path, "--replications", "50"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(&readme).expect("read");
    assert!(
        written.contains("| **lapset-sib** (pooled fund, shared shock) |"),
        "{written}"
    );
    assert!(d.join("docs/findings/shock_sweep_irr.svg").exists());
    let out = run_in(d, &["--check", "--readme", path, "--replications", "50"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A README without the markers is bad input.
    std::fs::write(&readme, "# no section\n").expect("write");
    let out = run_in(d, &["--readme", path, "--replications", "50"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("findings:begin"));
}
