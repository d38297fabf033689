//! Every bundled scenario validates and runs with a few replications.

mod common;

#[test]
fn every_bundled_scenario_validates_and_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "bundled scenarios: {files:?}");
    for file in &files {
        let path = file.to_str().expect("utf-8");
        let out = common::run_in(dir.path(), &["validate", path]);
        assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
        let out = common::run_in(
            dir.path(),
            &["run", path, "--replications", "20", "--quiet", "--out", "out"],
        );
        assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(file).expect("read");
        assert!(
            text.lines().filter(|l| l.contains('#')).count() >= 5,
            "{path} cites its sources in comments"
        );
    }
}
