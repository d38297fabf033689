#![cfg(unix)]
//! Every command the README shows in a `sh` block runs, as a newcomer
//! would type it in a fresh clone: the main job, the run, sweep, calibrate,
//! solve, tornado and voi examples, the shard loop and its merge, and the
//! Slurm script generation.
//!
//! Each line runs through bash in a scratch folder that sees the
//! repository's `scenarios/`, `examples/` and `data/`, with `sibsim` on PATH.
//! Two changes keep it quick, and neither changes what a command means:
//! replications are cut to 300 (the files ask for 10,000), and the Slurm
//! example writes its scripts under the scratch folder without `--submit`
//! (tests/slurm_cluster.rs submits to a real Slurm). Synopsis lines (with
//! placeholders such as SCENARIO), `cargo` and `pip` lines are left out:
//! they are this test run itself and tests/python.rs.

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const REPLICATIONS: &str = "300";

/// The command lines of the README's `sh` blocks, continuation lines joined.
fn shell_lines(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if let Some(lang) = line.strip_prefix("```") {
            in_sh = !in_sh && lang.trim() == "sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => pending.push_str(start),
            None => {
                pending.push_str(line);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    lines
}

/// Drops a trailing `# comment` outside quotes.
fn without_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '#' if !quoted && (i == 0 || line[..i].ends_with(' ')) => return line[..i].trim_end(),
            _ => {}
        }
    }
    line.trim_end()
}

/// The line as this test runs it, or None for a line it leaves out.
fn runnable(line: &str) -> Option<String> {
    let line = without_comment(line).trim();
    let line = line.replace("cargo run --release -- ", "sibsim ");
    let placeholder = ["SCENARIO", "PANEL", "DIR", "[--"].iter().any(|p| line.contains(p));
    let runs_sibsim = line.starts_with("sibsim ") || line.starts_with("for ");
    if line.is_empty() || placeholder || !runs_sibsim {
        return None;
    }
    let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
    // Fewer replications: replace the line's own, or add them.
    if let Some(k) = words.iter().position(|w| w == "--replications") {
        if k + 1 < words.len() {
            words[k + 1] = REPLICATIONS.to_string();
        }
    } else if let Some(k) = words
        .windows(2)
        .position(|w| w[0] == "sibsim" && ["run", "solve", "tornado", "voi", "slurm"].contains(&w[1].as_str()))
    {
        words.insert(k + 2, REPLICATIONS.to_string());
        words.insert(k + 2, "--replications".to_string());
    }
    words.retain(|w| w != "--submit");
    for w in &mut words {
        if let Some(rest) = w.strip_prefix("/scratch/") {
            *w = format!("scratch/{rest}");
        }
    }
    Some(words.join(" "))
}

#[test]
fn every_readme_command_runs_in_a_fresh_folder() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let commands: Vec<String> = shell_lines(&readme).iter().filter_map(|l| runnable(l)).collect();
    // The main job, the usage examples, the shard loop and the merge at least.
    assert!(commands.len() >= 12, "{commands:#?}");
    for wanted in [
        "sibsim run --replications 300 scenarios/lapset-sib.toml",
        "sibsim calibrate",
        "sibsim merge shards",
        "sibsim voi",
    ] {
        assert!(
            commands.iter().any(|c| c.starts_with(wanted) || c.contains(wanted)),
            "{wanted}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sibsim"), bin.join("sibsim")).expect("link sibsim");
    for folder in ["scenarios", "examples", "data"] {
        std::os::unix::fs::symlink(Path::new(ROOT).join(folder), dir.path().join(folder)).expect("link");
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    for command in &commands {
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", command])
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .expect("bash runs");
        assert!(
            output.status.success(),
            "`{command}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // What the commands promise to leave behind.
    for file in [
        "results/lapset-sib/report.html",
        "results/hameenlinna-icehearts/solve.json",
        "tornado/lapset-sib/tornado.svg",
        "voi/hameenlinna-icehearts/voi.json",
        "scratch/lapset/lapset-sib.slurm/array.sbatch",
    ] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
}

#[test]
fn the_command_rewriting_keeps_meaning() {
    assert_eq!(
        runnable("cargo run --release -- run scenarios/x.toml   # the main job").as_deref(),
        Some("sibsim run --replications 300 scenarios/x.toml")
    );
    assert_eq!(
        runnable("sibsim tornado f.toml --replications 1000 --out t").as_deref(),
        Some("sibsim tornado f.toml --replications 300 --out t")
    );
    assert_eq!(runnable("sibsim run SCENARIO... [--seed S]"), None);
    assert_eq!(runnable("cargo test --release"), None);
    assert_eq!(
        runnable("sibsim slurm f.toml --shards 4 --out /scratch/x --submit").as_deref(),
        Some("sibsim slurm --replications 300 f.toml --shards 4 --out scratch/x")
    );
    assert_eq!(
        runnable("sibsim run f.toml --set 'a=1 # not a comment'").as_deref(),
        Some("sibsim run --replications 300 f.toml --set 'a=1 # not a comment'")
    );
    assert_eq!(
        shell_lines("```sh\nsibsim solve a \\\n--range 0,1\n```\n```text\nsibsim x\n```"),
        ["sibsim solve a --range 0,1"]
    );
}
