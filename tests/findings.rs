//! The README's "What the numbers say" section and its pictures are exactly
//! what `sibsim findings` produces from the bundled scenarios today: a change
//! to the engine or a scenario that moves a number fails here until the
//! section is regenerated and committed.

mod common;

use std::path::Path;

#[test]
fn readme_findings_match_a_fresh_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = root.join("README.md");
    let out = common::run_in(
        root,
        &["findings", "--check", "--readme", readme.to_str().expect("utf-8")],
    );
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
    let readme = d.join("README.md");
    let text = format!("# x\n\n{}\n{}\n", sibsim::findings::BEGIN, sibsim::findings::END);
    std::fs::write(&readme, &text).expect("write");
    let path = readme.to_str().expect("utf-8");
    let out = common::run_in(d, &["findings", "--check", "--readme", path, "--replications", "50"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stale"));
    assert_eq!(std::fs::read_to_string(&readme).expect("read"), text);
    assert!(!d.join("docs").exists());
    // Without --check the section is written, and then it checks clean.
    let out = common::run_in(d, &["findings", "--readme", path, "--replications", "50"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(&readme).expect("read");
    assert!(
        written.contains("| **lapset-sib** (pooled fund, shared shock) |"),
        "{written}"
    );
    assert!(d.join("docs/findings/shock_sweep_irr.svg").exists());
    let out = common::run_in(d, &["findings", "--check", "--readme", path, "--replications", "50"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A README without the markers is bad input.
    std::fs::write(&readme, "# no section\n").expect("write");
    let out = common::run_in(d, &["findings", "--readme", path, "--replications", "50"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("findings:begin"));
}
