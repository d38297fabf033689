//! `solve`, `tornado` and `voi` against answers known in closed form, and
//! their bad-input errors.

mod common;

use common::{bundled, run_in, write};
use serde_json::Value;
use std::path::Path;

/// Ten children who all go into care next year unless the programme (risk 0)
/// keeps them home; the fund pays 1000 a child at the start, and the payer
/// pays `price` per care year avoided at the end of cycle 1 (k = 2). So the
/// investors put in 10,000 at k = 0 and get 10·price at k = 2, whatever the
/// draws: IRR = (price / 1000)^(1/2) − 1.
const DETERMINISTIC: &str = r#"name = "det"
[time]
cycle_years = 1.0
horizon = 2
[run]
replications = 20
seed = 1
[[states]]
name = "home"
[[states]]
name = "care"
cost = 100.0
[cohort]
[[cohort.waves]]
children = 10
age = 7
initial = { home = 1.0 }
[baseline]
matrix = [[0.0, 1.0], [0.0, 1.0]]
[intervention]
duration = 1
cost_per_child_cycle = 1000.0
[[intervention.effects]]
relative_risk = 0.0
targets = ["care"]
[[metrics]]
name = "care_years"
kind = "state_cycles"
states = ["care"]
[contract]
[[contract.payments]]
metric = "care_years"
baseline = "expected"
rule = "rate_card"
price = 1000.0
at = [1]
[fund]
capital = 20000.0
"#;

fn json(stdout: &[u8]) -> Value {
    serde_json::from_slice(stdout).expect("JSON on stdout")
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn solve_finds_the_closed_form_price() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "det.toml", DETERMINISTIC);
    let args = [
        "solve",
        path.to_str().unwrap(),
        "--vary",
        "contract.payments[0].price",
        "--target",
        "investor.irr.p50=0.05",
        "--out",
        "out",
    ];
    let output = run_in(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let answer = json(&output.stdout);
    let price = answer["value"].as_f64().expect("value");
    // (price / 1000)^(1/2) = 1.05; the search range is 0..2000, tolerance 2e-3.
    assert!((price - 1102.5).abs() < 0.01, "{price}");
    assert!((answer["achieved"]["value"].as_f64().unwrap() - 0.05).abs() < 1e-5);
    // No Monte Carlo error, so no interval.
    assert!(answer["interval_2se"].is_null());
    for file in ["solve.json", "solve.csv", "solve.svg", "report.html"] {
        assert!(dir.path().join("out/det").join(file).exists(), "{file}");
    }
}

#[test]
fn the_solve_interval_contains_where_a_sweep_crosses_the_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = bundled("hameenlinna-icehearts.toml");
    let common = ["--replications", "400", "--seed", "7"];
    let mut args = vec![
        "solve",
        scenario.to_str().unwrap(),
        "--vary",
        "contract.payments[0].price",
        "--target",
        "payer.net_savings.mean=400000",
        "--range",
        "20000,150000",
        "--out",
        "solve",
    ];
    args.extend(common);
    let output = run_in(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let answer = json(&output.stdout);
    let interval = &answer["interval_2se"];
    let (low, high) = (interval[0].as_f64().unwrap(), interval[1].as_f64().unwrap());
    let value = answer["value"].as_f64().unwrap();
    assert!(low < value && value < high, "{low} {value} {high}");
    // A sweep on the same replications: net savings fall with the price
    // (down to the total cap), and cross 400,000 between two grid points.
    let grid: Vec<String> = (0..=12).map(|k| format!("{}", 20000 + k * 10000)).collect();
    let sweep = format!("contract.payments[0].price={}", grid.join(","));
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--sweep",
        &sweep,
        "--out",
        "sweep",
        "--quiet",
    ];
    args.extend(common);
    let output = run_in(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let csv = std::fs::read_to_string(dir.path().join("sweep/hameenlinna-icehearts/sweep.csv")).expect("sweep.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header
        .iter()
        .position(|h| *h == "payer.net_savings.mean")
        .expect("column");
    let rows: Vec<(f64, f64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].parse().unwrap(), cells[column].parse().unwrap())
        })
        .collect();
    let goal = 400000.0;
    let crossing = rows
        .windows(2)
        .find(|w| w[0].1 >= goal && w[1].1 < goal)
        .expect("a crossing");
    // Linear between the grid points: where the sweep says the goal is reached.
    let (x0, y0, x1, y1) = (crossing[0].0, crossing[0].1, crossing[1].0, crossing[1].1);
    let swept = x0 + (x1 - x0) * (y0 - goal) / (y0 - y1);
    assert!(low <= swept && swept <= high, "{low} {swept} {high}");
}

#[test]
fn solve_refuses_what_it_cannot_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "det.toml", DETERMINISTIC);
    let file = path.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "--vary",
                "contract.payments[0].price",
                "--target",
                "investor.irr.p50=0.9",
            ],
            "not bracketed",
        ),
        (
            &[
                "--vary",
                "contract.payments[0].price",
                "--target",
                "investor.nope.mean=1",
            ],
            "no statistic `investor.nope`",
        ),
        (
            &[
                "--vary",
                "contract.payments[0].price",
                "--target",
                "investor.irr.median=1",
            ],
            "FIELD one of",
        ),
        (
            &[
                "--vary",
                "contract.payments[0].rule",
                "--target",
                "investor.irr.p50=0.05",
                "--range",
                "0,1",
            ],
            "not a number",
        ),
        (
            &[
                "--vary",
                "contract.payments[0].price",
                "--target",
                "investor.irr.p50=0.05",
                "--range",
                "5,5",
            ],
            "empty range",
        ),
        (
            &["--vary", "contract.payments[0].price", "--target", "investor.irr.p50"],
            "STAT=VALUE",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["solve", file, "--out", "out"];
        args.extend_from_slice(extra);
        let output = run_in(dir.path(), &args);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(message), "{extra:?}: {}", stderr(&output));
        assert!(
            !Path::new(&dir.path().join("out/det")).exists(),
            "{extra:?} wrote results"
        );
    }
}

#[test]
fn solve_varies_a_contract_of_a_portfolio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let portfolio = bundled("lapset-sib.toml");
    let args = [
        "solve",
        portfolio.to_str().unwrap(),
        "--vary",
        "contracts.hameenlinna-icehearts.contract.payments[0].price",
        "--target",
        "contracts.hameenlinna-icehearts.payer.payments.mean=500000",
        "--replications",
        "100",
        "--out",
        "out",
    ];
    let output = run_in(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let answer = json(&output.stdout);
    assert!(answer["value"].as_f64().unwrap() > 0.0);
    assert!(
        (answer["achieved"]["value"].as_f64().unwrap() - 500000.0).abs()
            < 2.0 * answer["achieved"]["se"].as_f64().unwrap() + 1.0
    );
}

/// Home → care → clinic for sure, unless the programme (risk 0) keeps the
/// child home: per child, one care year (100) and one clinic year (10)
/// avoided. Costs are gamma with cv 0.3, so moving the cost of care moves
/// the true savings ten times as far as moving the cost of the clinic,
/// and the effect (0 × a log-normal factor) moves nothing.
const THREE_STATES: &str = r#"name = "three"
[time]
cycle_years = 1.0
horizon = 3
[run]
replications = 10
seed = 3
[[states]]
name = "home"
[[states]]
name = "care"
cost = 100.0
[[states]]
name = "clinic"
cost = 10.0
[cohort]
[[cohort.waves]]
children = 10
age = 5
initial = { home = 1.0 }
[baseline]
matrix = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
[intervention]
[[intervention.effects]]
relative_risk = 0.0
targets = ["care"]
[[metrics]]
name = "care_years"
kind = "state_cycles"
states = ["care"]
[uncertainty]
cost_cv = 0.3
effect_sd_log = 0.5
"#;

#[test]
fn tornado_ranks_the_input_with_the_larger_analytic_swing_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "three.toml", THREE_STATES);
    let args = [
        "tornado",
        path.to_str().unwrap(),
        "--statistic",
        "payer.true_savings.mean",
        "--out",
        "out",
    ];
    let output = run_in(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let answer = json(&output.stdout);
    let tornado = &answer["statistics"][0];
    assert_eq!(tornado["base"].as_f64().unwrap(), 1100.0);
    let bars = tornado["bars"].as_array().unwrap();
    let names: Vec<&str> = bars.iter().map(|b| b["input"].as_str().unwrap()).collect();
    assert_eq!(names, ["cost of `care`", "cost of `clinic`", "effect 0 relative risk"]);
    // Each cost bar is 10 children × (its p90 − its p10) care years' worth.
    let swing = |k: usize| bars[k]["swing"].as_f64().unwrap();
    let cost_range = |k: usize| bars[k]["input_high"].as_f64().unwrap() - bars[k]["input_low"].as_f64().unwrap();
    assert!((swing(0) - 10.0 * cost_range(0)).abs() < 1e-6, "{}", swing(0));
    assert!((swing(1) - 10.0 * cost_range(1)).abs() < 1e-6);
    assert!((swing(0) / swing(1) - 10.0).abs() < 1e-9);
    assert_eq!(swing(2), 0.0);
    for file in ["tornado.csv", "tornado.svg", "tornado.json", "report.html"] {
        assert!(dir.path().join("out/three").join(file).exists(), "{file}");
    }
}

#[test]
fn tornado_refuses_bad_percentiles_and_terms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "three.toml", THREE_STATES);
    let file = path.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--low", "0"], "strictly between 0 and 100"),
        (&["--low", "60", "--high", "40"], "is not below --high"),
        (&["--statistic", "payer.nothing.mean"], "no statistic `payer.nothing`"),
        (&["--vary", "contract.payments[0].price=1,2"], "--vary"),
        (&["--vary", "states[1].cost=5"], "LO,HI"),
    ];
    for (extra, message) in cases {
        let mut args = vec!["tornado", file, "--out", "out"];
        args.extend_from_slice(extra);
        let output = run_in(dir.path(), &args);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(message), "{extra:?}: {}", stderr(&output));
    }
}

/// 2000 children; the programme's effect (RR 0.6, log-sd 0.6) is the one
/// uncertain input, so it drives nearly all the spread of net savings.
const UNCERTAIN_EFFECT: &str = r#"name = "eff"
[time]
cycle_years = 1.0
horizon = 3
[run]
replications = 400
seed = 5
[[states]]
name = "home"
[[states]]
name = "care"
cost = 1000.0
[cohort]
[[cohort.waves]]
children = 2000
age = 7
initial = { home = 1.0 }
[baseline]
matrix = [[0.8, 0.2], [0.0, 1.0]]
[intervention]
cost_per_child_cycle = 100.0
duration = 1
[[intervention.effects]]
relative_risk = 0.6
targets = ["care"]
[[metrics]]
name = "care_years"
kind = "state_cycles"
states = ["care"]
[contract]
[[contract.payments]]
metric = "care_years"
baseline = "expected"
rule = "rate_card"
price = 700.0
at = [2]
[uncertainty]
effect_sd_log = 0.6
"#;

fn voi_json(dir: &Path, file: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["voi", file.to_str().unwrap(), "--out", "voi"];
    args.extend_from_slice(extra);
    let output = run_in(dir, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    json(&output.stdout)
}

fn decision<'a>(voi: &'a Value, who: &str) -> &'a Value {
    voi["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["who"] == who && d["contract"].is_null())
        .expect("the decision")
}

#[test]
fn evpi_is_zero_when_no_replication_changes_the_decision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "det.toml", DETERMINISTIC);
    let voi = voi_json(dir.path(), &path, &[]);
    for who in ["payer", "investors"] {
        assert_eq!(decision(&voi, who)["evpi"]["value"].as_f64(), Some(0.0), "{who}");
    }
}

#[test]
fn evpi_of_a_two_point_net_benefit_is_the_closed_form() {
    // One child who goes into care (cost 100 a year) with probability 0.5
    // unless the programme keeps it home: the payer saves 100 or 0 and pays
    // a constant 30 (the price of 0.5 expected care years avoided × 60).
    let two_point = DETERMINISTIC
        .replace("children = 10", "children = 1")
        .replace("matrix = [[0.0, 1.0], [0.0, 1.0]]", "matrix = [[0.5, 0.5], [0.0, 1.0]]")
        .replace("price = 1000.0", "price = 60.0")
        .replace("replications = 20", "replications = 4000");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "two.toml", &two_point);
    let voi = voi_json(dir.path(), &path, &[]);
    let payer = decision(&voi, "payer");
    // The same replications, one row each: the two values and their shares.
    let output = run_in(
        dir.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--out",
            "run",
            "--keep-replications",
            "--quiet",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let csv = std::fs::read_to_string(dir.path().join("run/det/replications.csv")).expect("replications.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "payer.net_savings").unwrap();
    let net: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(column).unwrap().parse().unwrap())
        .collect();
    let (a, b) = (70.0, -30.0);
    assert!(
        net.iter().all(|&v| (v - a).abs() < 1e-9 || (v - b).abs() < 1e-9),
        "two points"
    );
    let q = net.iter().filter(|&&v| v > 0.0).count() as f64 / net.len() as f64;
    let closed = q * a - (q * a + (1.0 - q) * b).max(0.0);
    let evpi = payer["evpi"]["value"].as_f64().unwrap();
    assert!((evpi - closed).abs() < 1e-9, "{evpi} {closed}");
    // And near the exact value at q = 0.5: 35 − 20 = 15.
    let se = payer["evpi"]["se"].as_f64().unwrap();
    assert!((evpi - 15.0).abs() < 5.0 * se + 1e-9, "{evpi} ± {se}");
}

#[test]
fn evppi_is_at_most_evpi_and_nearly_all_of_it_for_the_driving_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "eff.toml", UNCERTAIN_EFFECT);
    let voi = voi_json(dir.path(), &path, &[]);
    let payer = decision(&voi, "payer");
    let evpi = payer["evpi"]["value"].as_f64().unwrap();
    let evpi_se = payer["evpi"]["se"].as_f64().unwrap();
    assert!(evpi > 0.0);
    let groups = payer["evppi"].as_object().unwrap();
    for (group, w) in groups {
        let value = w["value"].as_f64().unwrap();
        assert!(value <= evpi + 3.0 * evpi_se, "{group}: {value} > {evpi}");
    }
    let effect = groups["effect"]["value"].as_f64().unwrap();
    assert!(effect >= 0.8 * evpi, "effect {effect} of {evpi}");
    // Measurement noise of 2000 children is small next to the effect.
    let measurement = &groups["measurement"];
    let net_of_bias = measurement["value"].as_f64().unwrap() - measurement["bias"].as_f64().unwrap();
    assert!(net_of_bias < 0.3 * evpi, "{net_of_bias}");
}

#[test]
fn a_price_sweep_has_acceptability_and_a_negotiation_frontier() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = bundled("hameenlinna-icehearts.toml");
    let sweep = "contract.payments[0].price=30000,60000,90000";
    let args = [
        "run",
        scenario.to_str().unwrap(),
        "--sweep",
        sweep,
        "--replications",
        "300",
        "--out",
        "out",
        "--quiet",
    ];
    let output = run_in(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let folder = dir.path().join("out/hameenlinna-icehearts");
    let read = |name: &str| std::fs::read_to_string(folder.join(name)).expect(name);
    let column = |csv: &str, name: &str| -> Vec<f64> {
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let k = header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"));
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').nth(k).unwrap().parse().unwrap())
            .collect()
    };
    let (acceptability, sweep) = (read("acceptability.csv"), read("sweep.csv"));
    // Investors are made whole exactly when they make no loss.
    let whole = column(&acceptability, "p_investor_multiple_at_least_1");
    let loss = column(&sweep, "P(investor.loss)");
    for (w, l) in whole.iter().zip(&loss) {
        assert!((w + l - 1.0).abs() < 1e-12, "{w} {l}");
    }
    // A higher price: the investors more often whole, the payer less often ahead.
    let payer = column(&acceptability, "p_payer_net_savings_positive");
    assert!(whole[0] <= whole[2] && payer[0] >= payer[2], "{whole:?} {payer:?}");
    for file in [
        "acceptability.svg",
        "frontier_loss.svg",
        "frontier_savings.svg",
        "report.html",
    ] {
        assert!(folder.join(file).exists(), "{file}");
    }
    assert!(read("frontier_loss.svg").contains("60000"));
}

#[test]
fn tornado_and_voi_run_on_a_portfolio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let portfolio = bundled("lapset-sib.toml");
    let path = portfolio.to_str().unwrap();
    let output = run_in(
        dir.path(),
        &["tornado", path, "--replications", "40", "--out", "tornado"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let tornado = json(&output.stdout);
    let inputs: Vec<&str> = tornado["statistics"][0]["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["input"].as_str().unwrap())
        .collect();
    assert!(inputs.contains(&"shared shock, held every cycle"), "{inputs:?}");
    assert!(inputs.iter().any(|i| i.starts_with("helsinki: ")), "{inputs:?}");
    let voi = voi_json(dir.path(), &portfolio, &["--replications", "60"]);
    let decisions = voi["decisions"].as_array().unwrap();
    assert!(decisions
        .iter()
        .any(|d| d["contract"] == "helsinki" && d["who"] == "payer"));
    let pooled = decision(&voi, "payer");
    assert!(pooled["evppi"].as_object().unwrap().contains_key("shock"));
    for file in ["voi.json", "voi.csv", "voi_payer.svg", "report.html"] {
        assert!(dir.path().join("voi/lapset-sib").join(file).exists(), "{file}");
    }
}

/// DETERMINISTIC with volume risk: each child enrolled saves the payer
/// exactly 100 (`sibsim expected`: 500 for 10 children at share 0.5).
fn with_volume_risk(text: &str) -> String {
    format!("{text}[uncertainty]\n[uncertainty.enrolment]\nmean = 0.5\nsd = 0.2\n")
}

#[test]
fn tornado_moves_the_enrolment_share_to_its_beta_percentiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "volume.toml", &with_volume_risk(DETERMINISTIC));
    let replications = 2000.0;
    let output = run_in(
        dir.path(),
        &[
            "tornado",
            path.to_str().unwrap(),
            "--statistic",
            "payer.true_savings.mean",
            "--replications",
            "2000",
            "--out",
            "out",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let answer = json(&output.stdout);
    let tornado = &answer["statistics"][0];
    let bars = tornado["bars"].as_array().unwrap();
    assert_eq!(bars.len(), 1);
    let bar = &bars[0];
    assert_eq!(bar["input"], "enrolment share");
    let (low, high) = (bar["input_low"].as_f64().unwrap(), bar["input_high"].as_f64().unwrap());
    // Beta(mean 0.5, sd 0.2) is symmetric: its 10th and 90th percentiles mirror.
    assert!(
        (low + high - 1.0).abs() < 1e-6 && low > 0.2 && low < 0.3,
        "{low} {high}"
    );
    // At share v each replication enrols Binomial(10, v) children, each saving
    // 100: the mean is 1000 v within 5 Monte Carlo se.
    for (share, got) in [
        (0.5, tornado["base"].as_f64().unwrap()),
        (low, bar["at_low"].as_f64().unwrap()),
        (high, bar["at_high"].as_f64().unwrap()),
    ] {
        let se = 100.0 * (10.0 * share * (1.0 - share) / replications).sqrt();
        assert!((got - 1000.0 * share).abs() < 5.0 * se, "share {share}: {got} ± {se}");
    }
}

#[test]
fn voi_prices_knowing_the_enrolment_when_it_decides_the_investment() {
    // The fund pays 1000 a child and a fixed 2000; the payer pays 1500 a
    // child kept home: the investors' NPV is linear in the children
    // enrolled and changes sign near 6 of 10, so enrolment is all the
    // uncertainty there is and its EVPPI is the EVPI.
    let text = DETERMINISTIC
        .replace(
            "cost_per_child_cycle = 1000.0",
            "cost_per_child_cycle = 1000.0\nfixed_cost_per_cycle = 2000.0",
        )
        .replace("price = 1000.0", "price = 1500.0");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "volume.toml", &with_volume_risk(&text));
    let voi = voi_json(dir.path(), &path, &["--replications", "2000"]);
    let investors = decision(&voi, "investors");
    let evpi = investors["evpi"]["value"].as_f64().unwrap();
    let se = investors["evpi"]["se"].as_f64().unwrap();
    assert!(evpi > 5.0 * se, "{evpi} ± {se}");
    let enrolment = &investors["evppi"]["enrolment"];
    let value = enrolment["value"].as_f64().unwrap();
    assert!((value - evpi).abs() <= 3.0 * se, "enrolment {value} of {evpi}");
    assert!(voi["notes"].as_array().unwrap().is_empty(), "{}", voi["notes"]);
}
