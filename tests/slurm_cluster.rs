//! Sharded runs on a real single-node Slurm (slurmctld, slurmd and munged
//! started by `tests/slurm/single-node.sh`): the 4-task array and its afterok
//! merge reproduce the unsharded summary.json bit for bit, and a task killed
//! on purpose is reported missing with a re-run command that repairs it.
//!
//! `.ci/run` installs Debian's `slurm-wlm` and `munge`; under CI their absence
//! is a failure, elsewhere (or when not root) the test says it was skipped.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn job_array_on_a_real_slurm_merges_bitwise_and_repairs_a_killed_task() {
    let installed = [
        "/usr/sbin/slurmctld",
        "/usr/sbin/slurmd",
        "/usr/sbin/munged",
        "/usr/bin/sbatch",
    ]
    .iter()
    .all(|p| Path::new(p).exists());
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !(installed && root) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run as root with slurm-wlm and munge installed (.ci/run installs them)"
        );
        eprintln!("skipped: needs root and Debian's slurm-wlm and munge");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm/single-node.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_sibsim"))
        .arg(common::bundled("hameenlinna-icehearts.toml"))
        .arg(dir.path())
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "single-node Slurm test failed\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("reproduce the local summary.json bit for bit"),
        "{stdout}"
    );
    assert!(
        stdout.contains("its re-run command repairs the merge bit for bit"),
        "{stdout}"
    );
}
