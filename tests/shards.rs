//! Shards merge into exactly the unsharded summary; faults are named.

mod common;

use std::path::Path;

fn scenario() -> String {
    common::bundled("hameenlinna-icehearts.toml")
        .to_str()
        .expect("utf-8")
        .to_string()
}

fn run(dir: &Path, extra: &[&str]) -> std::process::Output {
    let s = scenario();
    let mut args = vec!["run", s.as_str(), "--replications", "600", "--quiet"];
    args.extend_from_slice(extra);
    common::run_in(dir, &args)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn four_shards_merge_bitwise_into_one_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(run(d, &["--out", "full", "--keep-replications"]).status.success());
    for i in 1..=4 {
        let out = run(
            d,
            &[
                "--shard",
                &format!("{i}/4"),
                "--out",
                "shards",
                "--threads",
                &format!("{}", 1 + i % 2),
                "--keep-replications",
            ],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let merged = common::run_in(d, &["merge", "shards", "--out", "merged"]);
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    for file in ["summary.json", "summary.csv", "cashflows.csv", "replications.csv"] {
        assert_eq!(
            read(&d.join("full/hameenlinna-icehearts").join(file)),
            read(&d.join("merged/hameenlinna-icehearts").join(file)),
            "{file}"
        );
    }
    let rows = String::from_utf8(read(&d.join("full/hameenlinna-icehearts/replications.csv"))).expect("utf-8");
    assert_eq!(rows.lines().count(), 601, "a header and one row per replication");
}

/// A portfolio split into 1, 3 and 7 shards (uneven, on 1 or 2 threads)
/// merges into the unsharded run's files bit for bit, every picture
/// included; its shards carry state, not values: 10 times the replications
/// make a shard.bin far less than 10 times as large.
#[test]
fn shards_carry_state_and_any_split_merges_bitwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let portfolio = common::bundled("lapset-sib.toml");
    let portfolio = portfolio.to_str().expect("utf-8");
    let run = |replications: &str, extra: &[&str]| {
        let mut args = vec!["run", portfolio, "--replications", replications, "--quiet"];
        args.extend_from_slice(extra);
        let out = common::run_in(d, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run("200", &["--out", "full", "--threads", "2"]);
    let files = std::fs::read_dir(d.join("full/lapset-sib"))
        .expect("results")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .filter(|f| !f.starts_with('.'))
        .collect::<Vec<_>>();
    assert!(files.len() >= 8, "{files:?}");
    for count in [1u64, 3, 7] {
        let folder = format!("shards{count}");
        for i in 1..=count {
            let threads = format!("{}", 1 + i % 2);
            run(
                "200",
                &[
                    "--shard",
                    &format!("{i}/{count}"),
                    "--out",
                    &folder,
                    "--threads",
                    &threads,
                ],
            );
        }
        let merged = format!("merged{count}");
        let out = common::run_in(d, &["merge", &folder, "--out", &merged]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for file in &files {
            assert!(
                read(&d.join("full/lapset-sib").join(file)) == read(&d.join(&merged).join("lapset-sib").join(file)),
                "{file} differs after merging {count} shards"
            );
        }
    }
    // Size: a contract's shard of 2,000 and of 20,000 replications, and the
    // latter keeping its replications (streamed to its replications.csv).
    let contract = scenario();
    let shard_bytes = |replications: &str, folder: &str, keep: bool| {
        let mut args = vec!["run", contract.as_str(), "--replications", replications, "--quiet"];
        args.extend(["--shard", "1/1", "--out", folder]);
        if keep {
            args.push("--keep-replications");
        }
        let out = common::run_in(d, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let bin = d.join(folder).join("hameenlinna-icehearts.shard-1-of-1/shard.bin");
        std::fs::metadata(bin).expect("shard.bin").len()
    };
    let small = shard_bytes("2000", "small", false);
    let large = shard_bytes("20000", "large", false);
    let kept = shard_bytes("20000", "kept", true);
    assert!(large < 8 * small, "2,000 replications: {small} bytes; 20,000: {large}");
    let folder = |out: &str| d.join(out).join("hameenlinna-icehearts.shard-1-of-1");
    assert_eq!(kept, large, "keeping replications leaves the state as it is");
    assert_eq!(
        read(&folder("kept").join("shard.bin")),
        read(&folder("large").join("shard.bin"))
    );
    let rows = String::from_utf8(read(&folder("kept").join("replications.csv"))).expect("utf-8");
    assert_eq!(rows.lines().count(), 20_001, "a header and one row per replication");
}

#[test]
fn a_missing_shard_is_named_with_the_command_that_reruns_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(run(d, &["--out", "full"]).status.success());
    for i in [1, 2, 4] {
        assert!(run(d, &["--shard", &format!("{i}/4"), "--out", "shards"])
            .status
            .success());
    }
    let merged = common::run_in(d, &["merge", "shards", "--out", "merged"]);
    assert_eq!(merged.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert!(stderr.contains("missing shard 3 of 4"), "{stderr}");
    assert!(!d.join("merged").exists());
    // Run exactly the printed command, then merge again.
    let command = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("sibsim run"))
        .expect("a command");
    let words: Vec<&str> = command.split_whitespace().skip(1).collect();
    let rerun = common::run_in(d, &words);
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
    let merged = common::run_in(d, &["merge", "shards", "--out", "merged"]);
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    assert_eq!(
        read(&d.join("full/hameenlinna-icehearts/summary.json")),
        read(&d.join("merged/hameenlinna-icehearts/summary.json"))
    );
}

#[test]
fn duplicates_are_kept_once_if_identical_and_refused_otherwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for i in 1..=2 {
        assert!(run(d, &["--shard", &format!("{i}/2"), "--out", "a"]).status.success());
    }
    // A retried task: the same shard written again elsewhere, on another
    // number of threads (the state's bytes do not depend on them).
    assert!(run(d, &["--shard", "2/2", "--out", "b", "--threads", "1"])
        .status
        .success());
    let ok = common::run_in(d, &["merge", "a", "b", "--out", "merged"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    // A different seed for the same index is refused.
    assert!(run(d, &["--shard", "2/2", "--out", "c", "--seed", "5"])
        .status
        .success());
    let bad = common::run_in(d, &["merge", "a", "c", "--out", "merged2"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("seed"));
    assert!(!d.join("merged2").exists());
}

#[test]
fn shards_of_different_scenarios_or_sizes_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(run(d, &["--shard", "1/2", "--out", "a"]).status.success());
    let s = scenario();
    let other = common::run_in(
        d,
        &[
            "run",
            s.as_str(),
            "--replications",
            "700",
            "--quiet",
            "--shard",
            "2/2",
            "--out",
            "a",
        ],
    );
    assert!(other.status.success());
    let bad = common::run_in(d, &["merge", "a", "--out", "merged"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("replications"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let hiv = common::bundled("hiv-chancellor.toml");
    let bad_spec = common::run_in(d, &["run", hiv.to_str().expect("utf-8"), "--shard", "5/4"]);
    assert_eq!(bad_spec.status.code(), Some(2));
}

#[test]
fn bench_prints_a_scaling_table() {
    let out = common::sibsim()
        .args(["bench", "--threads", "1,2", "--replications", "4", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = json["results"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["speedup"], 1.0);
    assert!(rows[1]["pairs_per_second"].as_f64().expect("rate") > 0.0);
    // The bare kernel ran on the same shape, and each row is a share of it.
    let kernel = json["kernel"]["pairs_per_second"].as_f64().expect("kernel rate");
    assert!(kernel > 0.0);
    let ratio = rows[0]["kernel_ratio"].as_f64().expect("ratio");
    let per_thread = rows[0]["pairs_per_second"].as_f64().expect("rate");
    assert!((ratio - per_thread / kernel).abs() <= 1e-9 * ratio, "{ratio}");
    if cfg!(target_os = "linux") {
        assert!(json["peak_resident_bytes"].as_u64().expect("peak memory") > 1_000_000);
    }
}

/// A bench that could not finish in a day, or whose export could not be
/// written, is refused as bad input before anything is timed (were it
/// timed, 2^64 − 1 replications would never end).
#[test]
fn bench_refuses_runaway_runs_and_unwritable_exports_before_timing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let bench = |args: &[&str]| {
        let out = common::run_in(d, &[&["bench", "--threads", "1"], args].concat());
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "nothing timed or printed");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = bench(&["--replications", &u64::MAX.to_string()]);
    assert!(
        err.contains("--replications") && err.contains("more than a day") && err.contains("--force"),
        "{err}"
    );
    let err = bench(&["--replications", "4", "--export-json", "missing/bench.json"]);
    assert!(err.contains("--export-json") && err.contains("does not exist"), "{err}");
    std::fs::create_dir(d.join("folder")).expect("mkdir");
    let err = bench(&["--replications", "4", "--export-csv", "folder"]);
    assert!(err.contains("--export-csv") && err.contains("is a folder"), "{err}");
    assert!(!d.join("missing").exists());
    std::fs::write(d.join("afile"), "x").expect("write");
    let err = bench(&["--replications", "4", "--export-json", "afile/bench.json"]);
    assert!(
        err.contains("afile") && err.contains("is a file, not a folder"),
        "{err}"
    );
    if cfg!(target_os = "linux") {
        // No file can be made in /proc, even by root: refused before the bench.
        let err = bench(&["--replications", "4", "--export-markdown", "/proc/sibsim-bench.md"]);
        assert!(
            err.contains("--export-markdown") && err.contains("no file can be made"),
            "{err}"
        );
    }
}

#[test]
fn bench_times_portfolios_in_hyperfines_style_and_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let portfolio = common::bundled("lapset-sib.toml");
    let out = common::run_in(
        dir.path(),
        &[
            "bench",
            portfolio.to_str().unwrap(),
            "--threads",
            "1",
            "--replications",
            "3",
            "--runs",
            "2",
            "--warmup",
            "0",
            "--json",
            "--export-csv",
            "bench.csv",
            "--export-markdown",
            "bench.md",
            "--export-json",
            "bench.json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["sampler"], "portfolio");
    let row = &json["results"][0];
    assert_eq!(row["times"].as_array().expect("times").len(), 2);
    assert!(row["min"].as_f64().unwrap() <= row["mean"].as_f64().unwrap());
    let csv = std::fs::read_to_string(dir.path().join("bench.csv")).expect("bench.csv");
    assert!(csv.starts_with("threads,mean,stddev,min,max,"), "{csv}");
    assert!(std::fs::read_to_string(dir.path().join("bench.md"))
        .expect("bench.md")
        .contains("| threads |"));
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("bench.json")).expect("bench.json"))
            .expect("json");
    assert_eq!(exported["runs"], 2);
}

/// A shard run with --set is re-run with the same overrides: the printed
/// command carries them, and running it repairs the merge bit for bit.
#[test]
fn the_rerun_command_keeps_the_overrides() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let scenario = common::bundled("hameenlinna-icehearts.toml");
    let s = scenario.to_str().expect("utf-8");
    let set = "contract.payments[0].price=45000";
    for shard in ["1/3", "3/3"] {
        let out = common::run_in(
            d,
            &[
                "run",
                s,
                "--set",
                set,
                "--shard",
                shard,
                "--replications",
                "90",
                "--out",
                "shards",
                "--quiet",
            ],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = common::run_in(d, &["merge", "shards", "--out", "merged"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.trim_start().starts_with("sibsim run"))
        .expect("a re-run command");
    assert!(
        line.contains(&format!("--set '{set}'")) && line.contains("--shard 2/3"),
        "{line}"
    );
    // Run exactly that command (its words, unquoted as a shell would).
    let words: Vec<String> = line
        .split_whitespace()
        .skip(1)
        .map(|w| w.trim_matches('\'').to_string())
        .collect();
    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    let out = common::run_in(d, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = common::run_in(d, &["merge", "shards", "--out", "merged"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = common::run_in(
        d,
        &[
            "run",
            s,
            "--set",
            set,
            "--replications",
            "90",
            "--out",
            "local",
            "--quiet",
        ],
    );
    assert!(out.status.success());
    let read = |p: &str| std::fs::read(d.join(p)).expect("summary");
    assert_eq!(
        read("merged/hameenlinna-icehearts/summary.json"),
        read("local/hameenlinna-icehearts/summary.json")
    );
}
