//! Bad input: exit status 2, a message naming the file and key, nothing written.

mod common;

use common::BASE;

/// Runs `sibsim run` on `bytes` and checks the failure.
fn rejects(bytes: &[u8], key: &str, words: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, bytes).expect("write");
    let out = common::run_in(
        dir.path(),
        &["run", "bad.toml", "--out", "out", "--quiet", "--replications", "5"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit status for {key}: {stderr}");
    assert!(stderr.contains("bad.toml"), "names the file: {stderr}");
    assert!(stderr.contains(key), "names `{key}`: {stderr}");
    assert!(
        stderr.to_lowercase().contains(&words.to_lowercase()),
        "says `{words}`: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dir.path().join("out").exists(), "nothing written for {key}");
    let validate = common::run_in(dir.path(), &["validate", "bad.toml"]);
    assert_eq!(validate.status.code(), Some(2));
}

fn edit(from: &str, to: &str) -> Vec<u8> {
    assert!(BASE.contains(from), "test edit `{from}` must apply");
    BASE.replacen(from, to, 1).into_bytes()
}

#[test]
fn the_base_scenario_is_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.toml"), BASE).expect("write");
    let out = common::run_in(
        dir.path(),
        &["run", "ok.toml", "--out", "out", "--quiet", "--replications", "5"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("out/base/summary.json").exists());
}

#[test]
fn toml_syntax() {
    rejects(&edit("horizon = 6", "horizon = = 6"), "bad.toml:4:", "");
}

#[test]
fn unknown_key() {
    rejects(
        &edit("horizon = 6", "horizon = 6\nhorizn = 7"),
        "time.horizn",
        "unknown key",
    );
}

#[test]
fn missing_key() {
    rejects(&edit("horizon = 6\n", ""), "time", "missing key `horizon`");
}

#[test]
fn mistyped_key() {
    rejects(&edit("horizon = 6", "horizon = \"six\""), "time.horizon", "expected");
}

#[test]
fn unknown_state_in_initial() {
    rejects(
        &edit("{ home = 0.9, care = 0.1 }", "{ home = 0.9, cair = 0.1 }"),
        "cohort.waves[0].initial.cair",
        "unknown state",
    );
}

#[test]
fn unknown_state_in_effect_targets() {
    rejects(
        &edit("targets = [\"care\"]", "targets = [\"kare\"]"),
        "intervention.effects[0].targets[0]",
        "unknown state",
    );
}

/// A relative-risk table that names no move (an empty list, or a state
/// into itself: staying put is what is left of a row) would scale nothing.
#[test]
fn an_effect_or_risk_that_names_no_move() {
    rejects(
        &edit("targets = [\"care\"]", "targets = []"),
        "intervention.effects[0].targets",
        "names no move",
    );
    rejects(
        &edit("targets = [\"care\"]", "targets = [\"care\"]\nfrom = [\"care\"]"),
        "intervention.effects[0].targets",
        "names no move",
    );
    rejects(
        &edit("targets = [\"care\"]", "targets = [\"care\"]\nfrom = [\"out\"]"),
        "intervention.effects[0].targets",
        "absorbing",
    );
    rejects(
        &edit(
            "[intervention]",
            "[[baseline.risk]]\nmultiplier = 2.0\ntargets = [\"home\"]\nfrom = [\"home\"]\n[intervention]",
        ),
        "baseline.risk[0].targets",
        "names no move",
    );
}

#[test]
fn unknown_state_in_metric() {
    rejects(
        &edit("states = [\"care\"]", "states = [\"home\", \"nowhere\"]"),
        "metrics[0].states[1]",
        "unknown state",
    );
}

#[test]
fn unknown_state_in_stops_in() {
    rejects(
        &edit("duration = 3", "duration = 3\nstops_in = [\"gone\"]"),
        "intervention.stops_in[0]",
        "unknown state",
    );
}

#[test]
fn exit_state_not_a_state() {
    rejects(
        &edit("exit_state = \"out\"", "exit_state = \"away\""),
        "cohort.exit_state",
        "unknown state",
    );
}

#[test]
fn row_not_summing_to_one() {
    rejects(
        &edit("[0.9, 0.1, 0.0]", "[0.9, 0.2, 0.0]"),
        "baseline.matrix[0]",
        "sums to",
    );
}

#[test]
fn ragged_matrix() {
    rejects(
        &edit("[0.3, 0.7, 0.0]", "[0.3, 0.7]"),
        "baseline.matrix[1]",
        "has 2 entries; expected 3",
    );
}

#[test]
fn wrongly_sized_matrix() {
    rejects(
        &edit("  [0.0, 0.0, 1.0],\n", ""),
        "baseline.matrix",
        "has 2 rows; expected 3",
    );
}

#[test]
fn negative_cost() {
    rejects(&edit("cost = 40000.0", "cost = -40000.0"), "states[1].cost", "negative");
}

#[test]
fn nan_cost() {
    rejects(
        &edit("cost = 40000.0", "cost = nan"),
        "states[1].cost",
        "not a finite number",
    );
}

#[test]
fn infinite_probability() {
    rejects(
        &edit("[0.9, 0.1, 0.0]", "[inf, 0.1, 0.0]"),
        "baseline.matrix[0][0]",
        "not a finite number",
    );
}

#[test]
fn negative_probability() {
    rejects(
        &edit("[0.9, 0.1, 0.0]", "[1.1, -0.1, 0.0]"),
        "baseline.matrix[0][0]",
        "not a probability",
    );
}

#[test]
fn horizon_zero() {
    rejects(&edit("horizon = 6", "horizon = 0"), "time.horizon", "at least 1");
}

#[test]
fn entry_age_at_exit_age() {
    rejects(
        &edit("age = 14", "age = 18"),
        "cohort.waves[0].age",
        "at or past exit_age",
    );
}

#[test]
fn relative_risk_making_a_probability_negative() {
    rejects(
        &edit("relative_risk = 0.5", "relative_risk = 20.0"),
        "intervention.effects[0].relative_risk",
        "negative",
    );
}

#[test]
fn bad_name() {
    rejects(&edit("name = \"base\"", "name = \"Base Case!\""), "name", "a-z, 0-9");
}

#[test]
fn empty_file() {
    rejects(b"", "bad.toml", "empty");
    rejects(b"  \n# only a comment\n", "bad.toml", "empty");
}

#[test]
fn not_utf8() {
    let mut bytes = BASE.as_bytes().to_vec();
    bytes.splice(0..0, b"# caf\xe9\n".iter().copied());
    rejects(&bytes, "bad.toml:1:6", "UTF-8");
}

#[test]
fn metric_window_outside_horizon() {
    rejects(
        &edit("states = [\"care\"]", "states = [\"care\"]\nwindow = [0, 9]"),
        "metrics[0].window",
        "horizon",
    );
}

#[test]
fn initial_distribution_not_summing_to_one() {
    rejects(
        &edit("{ home = 0.9, care = 0.1 }", "{ home = 0.9, care = 0.2 }"),
        "cohort.waves[0].initial",
        "sums to",
    );
}

#[test]
fn unknown_enum_value() {
    rejects(
        &edit("[discounting]", "[counting]\noccupancy = \"middle\"\n[discounting]"),
        "counting.occupancy",
        "start",
    );
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::run_in(dir.path(), &["run", "nowhere.toml", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nowhere.toml") && stderr.contains("no such file"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn zero_replications() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.toml"), BASE).expect("write");
    let out = common::run_in(dir.path(), &["run", "ok.toml", "--replications", "0", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replications"));
    assert!(!dir.path().join("out").exists());
}

/// An `--out` that cannot take the results is bad input, found before the
/// work (it used to fail with status 1 once every replication had run).
#[test]
fn an_out_that_cannot_be_written_is_refused_before_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.toml"), BASE).expect("write");
    std::fs::write(dir.path().join("afile"), "not a folder").expect("write");
    let mut outs = vec!["afile/results".to_string(), "afile/deeper/results".to_string()];
    if cfg!(target_os = "linux") {
        // No folder can be made in /proc, whoever runs the test (even root).
        outs.push("/proc/sibsim-test-results".to_string());
    }
    for out in &outs {
        let run = common::run_in(
            dir.path(),
            &["run", "ok.toml", "--replications", "5", "--quiet", "--out", out],
        );
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "--out {out}: {stderr}");
        assert!(stderr.contains(out.as_str()) && stderr.contains("--out"), "{stderr}");
        assert!(stderr.contains("give a folder you can write to"), "{stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("afile")).expect("read"),
        "not a folder"
    );
    // Missing folders on the way are made, as before.
    let run = common::run_in(
        dir.path(),
        &[
            "run",
            "ok.toml",
            "--replications",
            "5",
            "--quiet",
            "--out",
            "new/deeper",
        ],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(dir.path().join("new/deeper").is_dir());
    // And nothing is left of the probe.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("probe"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn one_bad_file_means_nothing_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.toml"), BASE).expect("write");
    std::fs::write(dir.path().join("bad.toml"), edit("horizon = 6", "horizon = 0")).expect("write");
    let out = common::run_in(dir.path(), &["run", "ok.toml", "bad.toml", "--out", "out", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("out").exists());
}

const CONTRACT: &str = r#"
[contract]
max_total = 100000.0
[[contract.payments]]
metric = "care_years"
baseline = "expected"
rule = "rate_card"
price = 1000.0
threshold = 0.05
at = [2, 5]
cap = 50000.0
[fund]
capital = 50000.0
management_fee = 0.01
"#;

fn with_contract(from: &str, to: &str) -> Vec<u8> {
    let text = format!("{BASE}{CONTRACT}");
    assert!(text.contains(from), "test edit `{from}` must apply");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn the_contract_scenario_is_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ok.toml"), format!("{BASE}{CONTRACT}")).expect("write");
    let out = common::run_in(
        dir.path(),
        &["run", "ok.toml", "--out", "out", "--quiet", "--replications", "5"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for file in ["summary.json", "summary.csv", "cashflows.csv"] {
        assert!(dir.path().join("out/base").join(file).exists(), "{file}");
    }
}

#[test]
fn payment_on_undefined_metric() {
    rejects(
        &with_contract("metric = \"care_years\"\nbaseline", "metric = \"placements\"\nbaseline"),
        "contract.payments[0].metric",
        "no metric",
    );
}

#[test]
fn payment_date_outside_horizon() {
    rejects(
        &with_contract("at = [2, 5]", "at = [2, 6]"),
        "contract.payments[0].at[1]",
        "outside the horizon",
    );
}

#[test]
fn negative_price() {
    rejects(
        &with_contract("price = 1000.0", "price = -1000.0"),
        "contract.payments[0].price",
        "negative",
    );
}

#[test]
fn negative_share() {
    rejects(
        &with_contract(
            "rule = \"rate_card\"\nprice = 1000.0",
            "rule = \"savings_share\"\nshare = -0.5",
        ),
        "contract.payments[0].share",
        "negative",
    );
}

#[test]
fn negative_cap() {
    rejects(
        &with_contract("cap = 50000.0", "cap = -1.0"),
        "contract.payments[0].cap",
        "negative",
    );
    rejects(
        &with_contract("max_total = 100000.0", "max_total = -5.0"),
        "contract.max_total",
        "negative",
    );
}

#[test]
fn tiers_not_increasing() {
    rejects(
        &with_contract(
            "rule = \"rate_card\"\nprice = 1000.0",
            "rule = \"tiers\"\ntiers = [[0.2, 100.0], [0.1, 200.0]]",
        ),
        "contract.payments[0].tiers[1]",
        "increase",
    );
}

#[test]
fn threshold_outside_unit_interval() {
    rejects(
        &with_contract("threshold = 0.05", "threshold = 1.5"),
        "contract.payments[0].threshold",
        "outside [0, 1]",
    );
}

#[test]
fn capital_not_positive() {
    rejects(
        &with_contract("capital = 50000.0", "capital = 0.0"),
        "fund.capital",
        "capital > 0",
    );
}

#[test]
fn tranche_shares_not_summing_to_one() {
    let text = format!("{BASE}{CONTRACT}[[fund.tranches]]\nname = \"senior\"\nshare = 0.7\n[[fund.tranches]]\nname = \"junior\"\nshare = 0.2\n");
    rejects(text.as_bytes(), "fund.tranches", "sum to 1");
}

#[test]
fn single_baseline_number_for_several_dates() {
    rejects(
        &with_contract("baseline = \"expected\"", "baseline = 30.0"),
        "contract.payments[0].baseline",
        "give a list",
    );
}

#[test]
fn control_group_without_size() {
    rejects(
        &with_contract("max_total = 100000.0", "measurement = \"control_group\""),
        "contract.control_size",
        "missing",
    );
}

/// Occupancy is counted in 32 bits: a wave larger than that is refused, not wrapped.
#[test]
fn too_many_children_in_a_wave() {
    rejects(
        &edit("children = 20", "children = 5000000000"),
        "cohort.waves[0].children",
        "too many",
    );
}

#[test]
fn an_unknown_sampler() {
    rejects(
        &edit("[time]", "[run]\nsampler = \"fast\"\n[time]"),
        "run.sampler",
        "per_child",
    );
}
