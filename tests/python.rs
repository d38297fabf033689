#![cfg(unix)]
//! The Python package (`python/`): builds its wheel from this checkout with
//! maturin, installs it in a virtual environment under `target/python/`,
//! and runs its pytest suite (against the `sibsim` binary cargo built) and
//! the example notebook, cell by cell.
//!
//! The environment and the extension's build folder are kept between runs,
//! so only what changed is rebuilt. Under CI a missing Python is a failure;
//! elsewhere the test says it was skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn python3() -> Option<PathBuf> {
    let found = Command::new("python3")
        .args(["-c", "import sys, venv; print(sys.executable)"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(PathBuf::from(String::from_utf8_lossy(&found.stdout).trim()))
}

/// Runs a command and fails the test with its output when it fails.
fn check(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_python_package_builds_installs_and_passes_its_tests() {
    let Some(python) = python3() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs python3 with venv for the Python package"
        );
        eprintln!("skipped: no python3 with venv on this machine");
        return;
    };
    let root = Path::new(ROOT);
    let work = root.join("target").join("python");
    let venv = work.join("venv");
    let bin = venv.join("bin");
    if !bin.join("python").exists() {
        check(Command::new(&python).args(["-m", "venv"]).arg(&venv), "python3 -m venv");
    }
    check(
        Command::new(bin.join("python"))
            .args(["-m", "pip", "install", "--quiet", "-r"])
            .arg(root.join("python/requirements-test.txt")),
        "pip install -r python/requirements-test.txt",
    );
    // The wheel, from this checkout, in its own build folder: cargo holds
    // the lock on the one running this test.
    let wheels = work.join("wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    check(
        Command::new(bin.join("maturin"))
            .args(["build", "--quiet", "-m"])
            .arg(root.join("python/Cargo.toml"))
            .arg("-o")
            .arg(&wheels)
            .arg("--interpreter")
            .arg(bin.join("python"))
            .env("CARGO_TARGET_DIR", work.join("build")),
        "maturin build",
    );
    let wheel = std::fs::read_dir(&wheels)
        .expect("wheels folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .expect("maturin built a wheel");
    check(
        Command::new(bin.join("python"))
            .args(["-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps"])
            .arg(&wheel),
        "pip install the wheel",
    );
    check(
        Command::new(bin.join("python"))
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(root.join("python/tests"))
            .env("SIBSIM_CLI", env!("CARGO_BIN_EXE_sibsim"))
            .current_dir(&work),
        "pytest python/tests",
    );
    // The notebook writes its Excel sheet beside itself: run a copy.
    let notebook = work.join("examples");
    let _ = std::fs::remove_dir_all(&notebook);
    std::fs::create_dir_all(&notebook).expect("notebook folder");
    std::fs::copy(root.join("examples/notebook.ipynb"), notebook.join("notebook.ipynb")).expect("copy");
    let scenarios = work.join("scenarios");
    if !scenarios.exists() {
        std::os::unix::fs::symlink(root.join("scenarios"), &scenarios).expect("link the scenarios");
    }
    check(
        Command::new(bin.join("python"))
            .arg(root.join("python/tests/run_notebook.py"))
            .arg(notebook.join("notebook.ipynb")),
        "examples/notebook.ipynb",
    );
    assert!(notebook.join("lapset-sib.xlsx").exists(), "the notebook exports Excel");
}
