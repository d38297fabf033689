//! Regression tests for hostile input, one per observed failure (in the
//! style of ripgrep's tests/regression.rs). Each names what was observed
//! before the fix.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

fn hameenlinna() -> String {
    common::bundled("hameenlinna-icehearts.toml")
        .to_str()
        .expect("utf-8")
        .to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Bad input: exit 2, an `error:` line, and no panic.
fn assert_bad_input(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2, got {:?}: {err}",
        out.status
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
}

/// Writes two shards (1/2 and 2/2) of a 10-replication run under `d/shards`.
fn two_shards(d: &Path) -> (PathBuf, PathBuf) {
    let s = hameenlinna();
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let out = common::run_in(
            d,
            &[
                "run",
                &s,
                "--replications",
                "10",
                "--shard",
                &shard,
                "--out",
                "shards",
                "--quiet",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    (
        d.join("shards/hameenlinna-icehearts.shard-1-of-2"),
        d.join("shards/hameenlinna-icehearts.shard-2-of-2"),
    )
}

/// Edits a field of shard.json.
fn edit_meta(folder: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = folder.join("shard.json");
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    edit(&mut meta);
    std::fs::write(&path, serde_json::to_vec(&meta).expect("json")).expect("write");
}

fn merge(d: &Path) -> Output {
    common::run_in(d, &["merge", "shards", "--out", "merged"])
}

// ---- Shards and merge ----

#[test]
fn crafted_shard_name_cannot_write_outside_out() {
    // Was: results landed two levels above --out and replaced a folder there, exit 0.
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("a/b");
    std::fs::create_dir_all(&d).expect("mkdir");
    let victim = dir.path().join("a/victim");
    std::fs::create_dir_all(&victim).expect("mkdir");
    std::fs::write(victim.join("keep.txt"), b"mine").expect("write");
    let (one, two) = two_shards(&d);
    for f in [&one, &two] {
        edit_meta(f, |m| m["scenario"] = "./../../victim".into());
    }
    assert_bad_input(&merge(&d), "is not allowed");
    assert_eq!(std::fs::read(victim.join("keep.txt")).expect("kept"), b"mine");
}

#[test]
fn huge_shard_count_does_not_panic() {
    // Was: "capacity overflow" panic.
    let dir = tempfile::tempdir().expect("tempdir");
    let (one, _) = two_shards(dir.path());
    edit_meta(&one, |m| m["count"] = (1u64 << 62).into());
    assert_bad_input(&merge(dir.path()), "shard.json");
}

#[test]
fn huge_horizon_does_not_wrap() {
    // Was: a size check wrapped, then a panic.
    let dir = tempfile::tempdir().expect("tempdir");
    let (one, _) = two_shards(dir.path());
    edit_meta(&one, |m| m["horizon"] = ((1u64 << 62) + 12).into());
    assert_bad_input(&merge(dir.path()), "horizon");
}

#[test]
fn more_shards_than_replications_is_refused() {
    // Was: accepted, then merge aborted allocating 392 TB.
    let dir = tempfile::tempdir().expect("tempdir");
    let s = hameenlinna();
    let out = common::run_in(
        dir.path(),
        &[
            "run",
            &s,
            "--replications",
            "10",
            "--shard",
            "1/1000000000000",
            "--out",
            "shards",
        ],
    );
    assert_bad_input(&out, "use at most 10 shards");
    assert!(!dir.path().join("shards").exists());
}

#[test]
fn a_flipped_byte_is_caught_by_the_digest() {
    // Was: merged with exit 0 and different numbers.
    let dir = tempfile::tempdir().expect("tempdir");
    let (one, _) = two_shards(dir.path());
    let path = one.join("shard.bin");
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[3] ^= 0x10;
    std::fs::write(&path, bytes).expect("write");
    assert_bad_input(&merge(dir.path()), "digest");
}

#[test]
fn nan_and_zeros_are_caught_by_the_digest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (one, two) = two_shards(dir.path());
    let len = std::fs::metadata(one.join("shard.bin")).expect("meta").len() as usize;
    std::fs::write(one.join("shard.bin"), vec![0u8; len]).expect("write");
    assert_bad_input(&merge(dir.path()), "digest");
    let mut bytes = std::fs::read(two.join("shard.bin")).expect("read");
    bytes[..8].copy_from_slice(&f64::NAN.to_le_bytes());
    std::fs::write(two.join("shard.bin"), bytes).expect("write");
    assert_bad_input(&merge(dir.path()), "digest");
}

#[test]
fn another_shards_data_of_the_same_length_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (one, two) = two_shards(dir.path());
    let a = std::fs::read(one.join("shard.bin")).expect("read");
    let b = std::fs::read(two.join("shard.bin")).expect("read");
    // Each shard announces the other's size, so only the digest can tell.
    edit_meta(&one, |m| m["state_bytes"] = (b.len() as u64).into());
    edit_meta(&two, |m| m["state_bytes"] = (a.len() as u64).into());
    std::fs::write(one.join("shard.bin"), b).expect("write");
    std::fs::write(two.join("shard.bin"), a).expect("write");
    assert_bad_input(&merge(dir.path()), "digest");
}

#[test]
fn a_shards_kept_rows_are_checked_against_its_digest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let s = hameenlinna();
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let args = ["run", &s, "--replications", "10", "--shard", &shard, "--out", "shards"];
        let out = common::run_in(d, &[&args[..], &["--quiet", "--keep-replications"]].concat());
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let rows = d.join("shards/hameenlinna-icehearts.shard-2-of-2/replications.csv");
    let original = std::fs::read(&rows).expect("read");
    let merged = merge(d);
    assert!(merged.status.success(), "{}", stderr(&merged));
    let joined = std::fs::read_to_string(d.join("merged/hameenlinna-icehearts/replications.csv")).expect("read");
    assert_eq!(joined.lines().count(), 11, "one header, ten rows");
    // A changed digit (same length), then a missing file.
    let mut changed = original.clone();
    let last_digit = changed.iter().rposition(u8::is_ascii_digit).expect("a digit");
    changed[last_digit] = if changed[last_digit] == b'1' { b'2' } else { b'1' };
    std::fs::write(&rows, &changed).expect("write");
    assert_bad_input(&merge(d), "replications.csv does not match the digest");
    std::fs::remove_file(&rows).expect("remove");
    assert_bad_input(&merge(d), "replications.csv is missing");
}

#[test]
fn shared_fields_are_cross_checked() {
    // Was: `expected`, `names`, `horizon` … were taken from the first shard unchecked.
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, two) = two_shards(dir.path());
    edit_meta(&two, |m| m["expected"][0][1] = 12345.0.into());
    assert_bad_input(&merge(dir.path()), "`expected`");
    edit_meta(&two, |m| m["description"] = "another run".into());
    assert_bad_input(&merge(dir.path()), "differs");
}

#[test]
fn engine_version_mismatch_names_both_versions() {
    // Was: the same version printed twice.
    let dir = tempfile::tempdir().expect("tempdir");
    let (one, two) = two_shards(dir.path());
    for f in [&one, &two] {
        edit_meta(f, |m| m["engine_version"] = "0.0.0-old".into());
    }
    let out = merge(dir.path());
    assert_bad_input(&out, "0.0.0-old");
    assert!(stderr(&out).contains(env!("CARGO_PKG_VERSION")), "{}", stderr(&out));
}

#[test]
fn leftover_temporary_shard_folders_are_ignored_by_merge() {
    // Was: a `.NAME.tmp-*` left by a killed task blocked merge for good.
    let dir = tempfile::tempdir().expect("tempdir");
    let (one, _) = two_shards(dir.path());
    let leftover = dir
        .path()
        .join("shards/.hameenlinna-icehearts.shard-1-of-2.tmp-999999999-1");
    std::fs::create_dir(&leftover).expect("mkdir");
    std::fs::write(leftover.join("shard.json"), b"{ half written").expect("write");
    let _ = one;
    let out = merge(dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
}

// ---- Huge numbers and output files ----

fn run_with(set: &str) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    common::run_in(
        dir.path(),
        &[
            "run",
            &hameenlinna(),
            "--replications",
            "20",
            "--set",
            set,
            "--out",
            "out",
            "--quiet",
        ],
    )
}

#[test]
fn enormous_cycle_length_is_bad_input() {
    // Was: validated, then plotters looped for ever.
    assert_bad_input(&run_with("time.cycle_years=1e308"), "time.cycle_years");
}

#[test]
fn enormous_cost_is_bad_input() {
    // Was: validated, then plotters looped for ever.
    assert_bad_input(&run_with("states[1].cost=1e308"), "states[1].cost");
}

#[test]
fn costs_that_overflow_statistics_are_bad_input() {
    // Was: exit 0 with `null` statistics.
    assert_bad_input(&run_with("states[1].cost=1e200"), "within ±1e15");
}

#[test]
fn a_tiny_cycle_length_is_bad_input() {
    // Was: exit 0 with `null` statistics.
    assert_bad_input(&run_with("time.cycle_years=1e-300"), "time.cycle_years");
}

#[test]
fn overlong_names_are_refused_before_anything_runs() {
    // Was: "File name too long" after simulating, with earlier results already replaced.
    let dir = tempfile::tempdir().expect("tempdir");
    let long = format!("name={}", "a".repeat(230));
    let first = hameenlinna();
    let out = common::run_in(
        dir.path(),
        &["run", &first, "--replications", "20", "--set", &long, "--out", "out"],
    );
    assert_bad_input(&out, "at most 100 characters");
    assert!(!dir.path().join("out").exists(), "nothing written");
}

// ---- Unbounded resources ----

#[test]
fn one_huge_replication_stops_on_sigint() {
    // Was: `children = 4e9` ran over 155 s on one replication, ignoring SIGINT.
    let s = hameenlinna();
    common::stops_on(
        "-INT",
        &[
            "run",
            &s,
            "--replications",
            "1",
            "--set",
            "cohort.waves[0].children=4000000000",
            "--out",
            "out",
            "--quiet",
        ],
        Duration::from_millis(800),
    );
}

#[test]
fn sigterm_and_sighup_stop_like_sigint() {
    // Was: SIGTERM (Slurm's time limit) killed the run and left `.NAME.tmp-*` folders.
    let s = common::bundled("bench-6x1000x20.toml");
    let s = s.to_str().expect("utf-8");
    for signal in ["-TERM", "-HUP"] {
        common::stops_on(
            signal,
            &["run", s, "--replications", "2000000", "--out", "out", "--quiet"],
            Duration::from_millis(700),
        );
    }
}

#[test]
fn absurd_replication_counts_are_refused_with_an_estimate() {
    // Was: `replications = 1e12` grew without bound.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::run_in(
        dir.path(),
        &["run", &hameenlinna(), "--replications", "1000000000000", "--out", "out"],
    );
    assert_bad_input(&out, "--force");
    assert!(stderr(&out).contains("days"), "{}", stderr(&out));
}

#[test]
fn a_long_horizon_with_many_replications_is_refused_for_memory() {
    // Was: `horizon = 100000` took 586 MB for one replication, with no warning at any size.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::run_in(
        dir.path(),
        &[
            "run",
            &hameenlinna(),
            "--replications",
            "10000000",
            "--set",
            "time.horizon=100000",
            "--out",
            "out",
        ],
    );
    assert_bad_input(&out, "memory");
}

#[test]
fn a_huge_sweep_is_refused_before_loading_its_points() {
    // Was: a 100×100×100 sweep loaded 10⁶ jobs before running any, ignoring SIGINT.
    let dir = tempfile::tempdir().expect("tempdir");
    let values = (1..=100).map(|v| v.to_string()).collect::<Vec<_>>().join(",");
    let started = Instant::now();
    let out = common::run_in(
        dir.path(),
        &[
            "run",
            &hameenlinna(),
            "--sweep",
            &format!("contract.payments[0].price={values}"),
            "--sweep",
            &format!("seed={values}"),
            "--sweep",
            &format!("run.replications={values}"),
        ],
    );
    assert_bad_input(&out, "1000000 points");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn special_files_are_not_read() {
    // Was: /dev/zero read until out of memory, /dev/urandom never ended, a FIFO blocked.
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    for path in ["/dev/zero", "/dev/urandom", fifo.to_str().expect("utf-8")] {
        let started = Instant::now();
        let out = common::run_in(dir.path(), &["validate", path]);
        assert_bad_input(&out, "not a regular file");
        assert!(started.elapsed() < Duration::from_secs(10), "{path}");
    }
    let out = common::run_in(dir.path(), &["calibrate", "/dev/zero", "--states", "a,b"]);
    assert_bad_input(&out, "not a regular file");
}

// ---- Signals and writes ----

#[test]
fn replacing_results_leaves_no_old_or_temporary_folders() {
    // Was: two renames with a gap; concurrent runs failed with "Directory not empty".
    let dir = tempfile::tempdir().expect("tempdir");
    let s = hameenlinna();
    let spawn = || {
        common::sibsim()
            .current_dir(dir.path())
            .args(["run", &s, "--replications", "200", "--out", "out", "--quiet"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts")
    };
    for _ in 0..3 {
        let runs: Vec<_> = (0..3).map(|_| spawn()).collect();
        for run in runs {
            let out = run.wait_with_output().expect("wait");
            assert!(out.status.success(), "{}", stderr(&out));
        }
    }
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["hameenlinna-icehearts".to_string()], "{names:?}");
    assert!(dir.path().join("out/hameenlinna-icehearts/summary.json").is_file());
}

#[test]
fn a_folder_sibsim_did_not_write_is_never_deleted() {
    // Was: `results/<name>` was deleted recursively; a thesis.tex was lost.
    let dir = tempfile::tempdir().expect("tempdir");
    let mine = dir.path().join("out/hameenlinna-icehearts");
    std::fs::create_dir_all(&mine).expect("mkdir");
    std::fs::write(mine.join("thesis.tex"), b"years of work").expect("write");
    let out = common::run_in(
        dir.path(),
        &["run", &hameenlinna(), "--replications", "20", "--out", "out"],
    );
    assert_bad_input(&out, "did not write");
    assert_eq!(std::fs::read(mine.join("thesis.tex")).expect("kept"), b"years of work");
}

#[test]
fn a_plain_file_in_the_way_is_kept_and_refused() {
    // Was: the file survived as a stray `.old` file.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("out")).expect("mkdir");
    std::fs::write(dir.path().join("out/hameenlinna-icehearts"), b"notes").expect("write");
    let out = common::run_in(
        dir.path(),
        &["run", &hameenlinna(), "--replications", "20", "--out", "out"],
    );
    assert_bad_input(&out, "is a file");
    assert_eq!(std::fs::read_dir(dir.path().join("out")).expect("list").count(), 1);
}

#[test]
fn a_dangling_symlink_is_refused_before_the_run() {
    // Was: failed after the whole run.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("out")).expect("mkdir");
    std::os::unix::fs::symlink("/nonexistent/x", dir.path().join("out/hameenlinna-icehearts")).expect("link");
    let out = common::run_in(
        dir.path(),
        &["run", &hameenlinna(), "--replications", "20", "--out", "out"],
    );
    assert_bad_input(&out, "symbolic link");
}

#[test]
fn out_pointing_at_a_file_is_bad_input() {
    // Was: exit 1.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("file"), b"x").expect("write");
    let out = common::run_in(
        dir.path(),
        &["run", &hameenlinna(), "--replications", "20", "--out", "file"],
    );
    assert_bad_input(&out, "not a folder");
}

/// Runs sibsim with its standard output closed at once (a reader that
/// went away) and with it on /dev/full.
fn check_stdout_failures(args: &[&str], dir: &Path) {
    let mut child = common::sibsim()
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: a closed pipe exits quietly: {err}"
    );
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = common::sibsim()
        .current_dir(dir)
        .args(args)
        .stdout(full)
        .output()
        .expect("runs");
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}: a full disk is a runtime error: {err}"
    );
    assert!(err.contains("standard output"), "{args:?}: {err}");
}

#[test]
fn broken_or_full_stdout_never_panics() {
    // Was: exit 101 with a backtrace for `| true` and `> /dev/full`.
    let dir = tempfile::tempdir().expect("tempdir");
    let s = hameenlinna();
    std::fs::write(
        dir.path().join("p.csv"),
        "child,cycle,age,state\na,0,6,home\na,1,7,care\n",
    )
    .expect("write");
    let cases: Vec<Vec<&str>> = vec![
        vec!["expected", &s],
        vec!["validate", &s],
        vec!["run", &s, "--replications", "20", "--out", "out"],
        vec!["calibrate", "p.csv", "--states", "home,care"],
        vec!["slurm", &s, "--shards", "2", "--out", "slurm"],
        vec!["bench", "--threads", "1", "--replications", "2"],
    ];
    for args in &cases {
        check_stdout_failures(args, dir.path());
    }
}

// ---- Command-line inputs ----

#[test]
fn slurm_options_cannot_inject_commands() {
    // Was: a newline in --time or --partition became a new line of array.sbatch.
    let dir = tempfile::tempdir().expect("tempdir");
    let s = hameenlinna();
    let out = common::run_in(
        dir.path(),
        &["slurm", &s, "--shards", "2", "--time", "01:00:00\ntouch /tmp/pwned"],
    );
    assert_bad_input(&out, "--time");
    let out = common::run_in(
        dir.path(),
        &["slurm", &s, "--shards", "2", "--partition", "a\nb; rm -rf ~"],
    );
    assert_bad_input(&out, "--partition");
    assert!(!dir.path().join("results").exists(), "no scripts written");
    for good in ["30", "1:00:00", "2-12", "2-12:30:00", "UNLIMITED"] {
        let out = common::run_in(dir.path(), &["slurm", &s, "--shards", "2", "--time", good]);
        assert!(out.status.success(), "{good}: {}", stderr(&out));
    }
}

#[test]
fn calibrate_prints_floats_it_can_read_back() {
    // Was: `--prior 1e20` printed a bare integer its own loader refused.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("p.csv"),
        "child,cycle,age,state\na,0,6,home\na,1,7,care\n",
    )
    .expect("write");
    let out = common::run_in(
        dir.path(),
        &["calibrate", "p.csv", "--states", "home,care", "--prior", "1e20"],
    );
    assert_bad_input(&out, "--prior");
    let out = common::run_in(
        dir.path(),
        &["calibrate", "p.csv", "--states", "home,care", "--prior", "1e14"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let table: toml::Table = text.parse().expect("the output is TOML");
    assert_eq!(table["baseline"]["prior"].as_float(), Some(1e14));
}

#[test]
fn set_overflow_says_overflow() {
    // Was: "invalid type: string".
    let out = run_with("contract.payments[0].price=99999999999999999999");
    assert_bad_input(&out, "overflow");
    assert!(stderr(&out).contains("--set"));
}

#[test]
fn sweeping_a_key_twice_is_an_error() {
    // Was: the last value list silently won.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::run_in(
        dir.path(),
        &[
            "run",
            &hameenlinna(),
            "--sweep",
            "contract.payments[0].price=1,2",
            "--sweep",
            "contract.payments[0].price=3",
        ],
    );
    assert_bad_input(&out, "swept twice");
}

#[test]
fn the_name_cannot_be_swept() {
    // Was: `--sweep name=a,b` wrote both runs to `a/`.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::run_in(dir.path(), &["run", &hameenlinna(), "--sweep", "name=a,b"]);
    assert_bad_input(&out, "cannot be swept");
    assert!(!dir.path().join("results").exists());
}

#[test]
fn sweep_errors_name_the_sweep() {
    // Was: `--sweep` errors called themselves `--set`.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::run_in(
        dir.path(),
        &["run", &hameenlinna(), "--sweep", "contract.payments[0].threshold=x,y"],
    );
    assert_bad_input(&out, "--sweep contract.payments[0].threshold=x");
}

#[test]
fn keep_replications_works_with_sweeps() {
    // Was: ignored under --sweep.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::run_in(
        dir.path(),
        &[
            "run",
            &hameenlinna(),
            "--replications",
            "30",
            "--sweep",
            "contract.payments[0].price=30000,60000",
            "--keep-replications",
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for k in 1..=2 {
        let path = dir
            .path()
            .join(format!("out/hameenlinna-icehearts/replications-{k}.csv"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(text.lines().count(), 31, "a header and 30 rows");
    }
}

#[test]
fn deep_nesting_names_line_and_key() {
    // Was: "recursion limit" with no line or key.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!("name = \"x\"\n[{}]\n", vec!["deep"; 400].join("."));
    common::write(dir.path(), "deep.toml", &text);
    let out = common::run_in(dir.path(), &["validate", "deep.toml"]);
    assert_bad_input(&out, "deep.toml:2:1: deep: ");
    assert!(stderr(&out).contains("nest too deeply"));
}

#[test]
fn duplicate_keys_are_named() {
    // Was: "duplicate key" without the key.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::BASE.replace("horizon = 6", "horizon = 6\nhorizon = 7");
    common::write(dir.path(), "dup.toml", &text);
    let out = common::run_in(dir.path(), &["validate", "dup.toml"]);
    assert_bad_input(&out, "dup.toml:5:1: time.horizon: duplicate key `horizon`");
}

#[test]
fn every_null_in_the_summary_has_a_stated_reason() {
    // Was: `null` statistics with exit 0 and no word why.
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["hiv-chancellor.toml", "hameenlinna-icehearts.toml"] {
        let s = common::bundled(name);
        let out = common::run_in(
            dir.path(),
            &[
                "run",
                s.to_str().expect("utf-8"),
                "--replications",
                "50",
                "--out",
                "out",
                "--quiet",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let stem = name.trim_end_matches(".toml");
        let summary: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("out").join(stem).join("summary.json")).expect("read"),
        )
        .expect("json");
        let reasons = summary["null_reasons"].as_object().expect("null_reasons");
        let mut nulls = Vec::new();
        for (section, value) in summary.as_object().expect("object") {
            match value {
                serde_json::Value::Null => nulls.push(section.clone()),
                serde_json::Value::Object(map) => {
                    for (key, v) in map {
                        if v.is_null() || v.get("value").is_some_and(|x| x.is_null()) {
                            nulls.push(format!("{section}.{key}"));
                        }
                    }
                }
                _ => {}
            }
        }
        if name.starts_with("hiv") {
            assert!(
                !nulls.is_empty(),
                "the HIV model has no investors, so some statistics are null"
            );
        }
        for null in nulls {
            assert!(reasons.contains_key(&null), "{name}: {null} is null without a reason");
        }
    }
}
