//! Calibration from a panel: exact counts, convergence, clear errors.

mod common;

use rand::{Rng, SeedableRng};
use sibsim::scenario::calibrate::calibrate;

const PANEL: &str = "child,cycle,age,state
a,0,6,home
a,1,7,open
a,2,8,home
b,0,12,home
b,2,14,open
b,3,15,open
c,1,9,open
c,0,8,home
";

fn states() -> Vec<String> {
    ["home", "open", "care"].map(String::from).to_vec()
}

#[test]
fn counts_are_exact_and_gaps_are_skipped() {
    let c = calibrate(PANEL, "p.csv", &states(), &[0.0, 7.0, 13.0, 18.0], 1.0).expect("valid");
    // a: home→open (age 6), open→home (7); b: the 0→2 gap is skipped, open→open (14); c: home→open (8).
    assert_eq!(c.pooled, vec![0, 2, 0, 1, 1, 0, 0, 0, 0]);
    assert_eq!(c.bands[0], vec![0, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(c.bands[1], vec![0, 1, 0, 1, 0, 0, 0, 0, 0]);
    assert_eq!(c.bands[2], vec![0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert!(c.empty_rows().contains(&("all ages".to_string(), "care".to_string())));
}

#[test]
fn printed_table_loads_as_a_scenario() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.csv"), PANEL).expect("write");
    let out = common::run_in(
        dir.path(),
        &[
            "calibrate",
            "p.csv",
            "--states",
            "home,open,care",
            "--age-bands",
            "0,7,13,18",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning"),
        "rows with no observations are warned about"
    );
    let table = String::from_utf8(out.stdout).expect("utf-8");
    let scenario = format!(
        "name = \"cal\"\n[time]\ncycle_years = 1.0\nhorizon = 5\n[[states]]\nname = \"home\"\n[[states]]\nname = \"open\"\n[[states]]\nname = \"care\"\n[cohort]\n[[cohort.waves]]\nchildren = 5\nage = 5\ninitial = {{ home = 1.0 }}\n{table}"
    );
    let s = sibsim::scenario::parse(&scenario, "cal.toml").expect("the printed table loads as is");
    // Row home pooled: counts [0, 2, 0] + prior 1 → [1/5, 3/5, 1/5].
    assert!((s.baseline.default.row(0)[1] - 0.6).abs() < 1e-12);
    assert_eq!(s.baseline.bands.len(), 3);
}

#[test]
fn the_matrix_converges_to_the_generating_one() {
    let truth = [[0.8, 0.15, 0.05], [0.3, 0.6, 0.1], [0.1, 0.2, 0.7]];
    let error = |children: usize| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut csv = String::from("child,cycle,age,state\n");
        let names = ["home", "open", "care"];
        for child in 0..children {
            let mut s = 0;
            for cycle in 0..6 {
                // Every fourth child misses cycle 3: a gap that must not be bridged.
                if !(child % 4 == 0 && cycle == 3) {
                    csv.push_str(&format!("k{child},{cycle},{},{}\n", 5 + cycle, names[s]));
                }
                let u: f64 = rng.random();
                let mut acc = 0.0;
                for (j, p) in truth[s].iter().enumerate() {
                    acc += p;
                    if u < acc {
                        s = j;
                        break;
                    }
                }
            }
        }
        let c = calibrate(&csv, "synthetic.csv", &states(), &[], 0.0).expect("valid");
        let m = c.matrix(&c.pooled);
        (0..9).map(|k| (m[k] - truth[k / 3][k % 3]).abs()).fold(0.0, f64::max)
    };
    let small = error(100);
    let large = error(10_000);
    assert!(large < 0.02, "max error {large} with 10,000 children");
    assert!(
        large < small / 3.0,
        "error {small} → {large}: should shrink like 1/√n (10x here)"
    );
}

#[test]
fn bad_panels_exit_2_naming_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("child,cycle,age,state\na,0,6,home\na,1,7\n", "line 3", "malformed"),
        (
            "child,cycle,age,state\na,0,6,home\na,1,7,lost\n",
            "line 3",
            "unknown state",
        ),
        (
            "child,cycle,age,state\na,0,6,home\na,1.5,7,home\n",
            "line 3",
            "whole number",
        ),
        ("child,cycle,age,state\na,0,6,home\na,0,6,open\n", "line 3", "two rows"),
        ("kid,cycle,age,state\na,0,6,home\n", "line 1", "header"),
    ];
    for (text, line, words) in cases {
        std::fs::write(dir.path().join("bad.csv"), text).expect("write");
        let out = common::run_in(dir.path(), &["calibrate", "bad.csv", "--states", "home,open,care"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("bad.csv") && stderr.contains(line) && stderr.contains(words),
            "{stderr}"
        );
    }
}

/// The two modes take different flags: a flag of the other mode is refused
/// (exit 2, naming it) instead of being silently ignored, as `--out` with
/// a panel once was (the table goes to standard output).
#[test]
fn a_flag_of_the_other_mode_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("panel.csv"),
        "child,cycle,age,state\na,0,6,home\na,1,7,open\n",
    )
    .expect("write");
    let panel = ["calibrate", "panel.csv", "--states", "home,open,care"];
    let ok = common::run_in(dir.path(), &panel);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let targets = ["calibrate", "--targets", "t.csv", "--scenario", "s.toml"];
    let cases: [(&[&str], &[&str], &str); 4] = [
        (&panel, &["--out", "fits"], "--out"),
        (&panel, &["--draws", "10"], "--draws"),
        (&panel, &["--set", "time.horizon=3"], "--set"),
        (&targets, &["--prior", "2"], "--prior"),
    ];
    for (mode, extra, flag) in cases {
        let out = common::run_in(dir.path(), &[mode, extra].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains("cannot be used with"),
            "{stderr}"
        );
    }
    assert!(!dir.path().join("fits").exists());
}
