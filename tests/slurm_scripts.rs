//! The generated Slurm scripts run shards and merge them into the unsharded
//! summary. Here each array task is run by bash with SLURM_ARRAY_TASK_ID set,
//! as Slurm would, so it runs anywhere; tests/slurm_cluster.rs submits them
//! to a real Slurm.

mod common;

use std::process::Command;

#[test]
fn array_tasks_and_merge_reproduce_the_unsharded_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let scenario = common::bundled("hameenlinna-icehearts.toml");
    let s = scenario.to_str().expect("utf-8");
    let out = common::run_in(
        d,
        &["slurm", s, "--shards", "3", "--replications", "300", "--out", "cluster"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let jobs = d.join("cluster/hameenlinna-icehearts.slurm");
    for task in 1..=3 {
        let status = Command::new("bash")
            .arg(jobs.join("array.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .status()
            .expect("bash");
        assert!(status.success(), "task {task}");
    }
    let status = Command::new("bash")
        .arg(jobs.join("merge.sbatch"))
        .status()
        .expect("bash");
    assert!(status.success());
    let full = common::run_in(d, &["run", s, "--replications", "300", "--quiet", "--out", "local"]);
    assert!(full.status.success());
    let read = |p: std::path::PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert_eq!(
        read(d.join("cluster/hameenlinna-icehearts/summary.json")),
        read(d.join("local/hameenlinna-icehearts/summary.json"))
    );
}
