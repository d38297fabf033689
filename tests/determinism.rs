//! The same seed gives bitwise the same results on any number of threads.

mod common;

fn summary(dir: &std::path::Path, threads: &str, seed: &str) -> Vec<u8> {
    let out = common::run_in(
        dir,
        &[
            "run",
            common::bundled("hameenlinna-icehearts.toml")
                .to_str()
                .expect("utf-8 path"),
            "--replications",
            "3000",
            "--seed",
            seed,
            "--threads",
            threads,
            "--quiet",
            "--out",
            threads,
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(dir.join(threads).join("hameenlinna-icehearts/summary.json")).expect("summary.json")
}

#[test]
fn one_and_four_threads_give_identical_summaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = summary(dir.path(), "1", "77");
    let four = summary(dir.path(), "4", "77");
    assert_eq!(one, four, "summary.json differs between 1 and 4 threads");
    let json: serde_json::Value = serde_json::from_slice(&one).expect("json");
    assert_eq!(json["seed"], 77);
    assert_eq!(json["replications"], 3000);
    assert!(json["engine_version"].is_string());
    assert!(json["rng"].as_str().expect("rng").contains("ChaCha8"));
}

#[test]
fn a_different_seed_gives_different_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = summary(dir.path(), "2", "77");
    let b = std::fs::read(dir.path().join("2/hameenlinna-icehearts/summary.json")).expect("read");
    assert_eq!(a, b);
    let c = common::run_in(
        dir.path(),
        &[
            "run",
            common::bundled("hameenlinna-icehearts.toml").to_str().expect("utf-8"),
            "--replications",
            "3000",
            "--seed",
            "78",
            "--quiet",
            "--out",
            "other",
        ],
    );
    assert!(c.status.success());
    let c = std::fs::read(dir.path().join("other/hameenlinna-icehearts/summary.json")).expect("read");
    assert_ne!(a, c);
}

/// Pinned values, as rand's own Monte Carlo example pins its result: a
/// change to the streams, their keys or the draw order shows up here.
#[test]
fn first_draws_are_pinned() {
    use rand::RngCore;
    let mut rng = sibsim::sim::rng::stream(20181001, 0, sibsim::sim::rng::Purpose::Trajectories);
    let first: Vec<u32> = (0..3).map(|_| rng.next_u32()).collect();
    assert_eq!(first, [3296122490, 3451905659, 2750464626]);
    let scenario = sibsim::scenario::load(&common::bundled("hiv-chancellor.toml")).expect("loads");
    let engine = sibsim::sim::engine::Engine::new(scenario);
    let results = engine
        .run(&sibsim::sim::parallel::RunOptions::new(1, 1000))
        .expect("runs");
    let life_years: f64 = results.column("arm.baseline.life_years").expect("column").iter().sum();
    // One patient, 1000 replications: total life years is an integer count.
    assert_eq!(life_years.fract(), 0.0);
    // 7780 life years in 1000 single-patient replications (exact mean 7.9912,
    // sd ~4.7, so 7.780 is within 2 SE): pinned to catch any change of stream.
    let pinned = 7780.0;
    assert_eq!(life_years, pinned);
    let results = engine
        .run(&sibsim::sim::parallel::RunOptions {
            threads: Some(3),
            ..sibsim::sim::parallel::RunOptions::new(1, 1000)
        })
        .expect("runs");
    assert_eq!(
        results
            .column("arm.baseline.life_years")
            .expect("column")
            .iter()
            .sum::<f64>(),
        pinned
    );
}

/// A run folded into its state as replications finish (what `sibsim run`
/// does unless the replications are kept) summarises to the kept
/// replications' numbers, bit for bit, on 1, 2 or 4 threads, for a contract
/// and for the portfolio.
#[test]
fn the_streamed_state_is_the_kept_runs_on_any_threads() {
    use sibsim::run::job::Job;
    use sibsim::sim::parallel::RunOptions;
    use sibsim::stats::{RunState, RunSummary};
    for file in ["hameenlinna-icehearts.toml", "lapset-sib.toml"] {
        let job = Job::load(&common::bundled(file), &[]).expect("loads");
        let summary = |state: &RunState| RunSummary::from_state(state, &[]);
        let kept = summary(&RunState::of(&job.run(&RunOptions::new(17, 90)).expect("runs")));
        for threads in [1, 2, 4] {
            let options = RunOptions {
                threads: Some(threads),
                ..RunOptions::new(17, 90)
            };
            // The states' partial sums may be grouped differently; every
            // number drawn from them is the same.
            let streamed = summary(&job.run_state(&options).expect("runs"));
            assert!(streamed == kept, "{file} on {threads} threads");
        }
    }
}

/// Every quantile a run reports is within the stated relative precision of
/// the exact order statistics of the same replications (as
/// `--keep-replications` writes them), and means are the exact means
/// rounded once.
#[test]
fn reported_quantiles_are_within_the_stated_precision_of_the_replications() {
    use sibsim::run::job::Job;
    use sibsim::sim::parallel::RunOptions;
    use sibsim::stats::accumulate::QUANTILE_RELATIVE_ERROR;
    use sibsim::stats::{quantile_sorted, RunSummary};
    let job = Job::load(&common::bundled("lapset-sib.toml"), &[]).expect("loads");
    let results = job.run(&RunOptions::new(5, 400)).expect("runs");
    let summary = RunSummary::new(&results, &[]);
    for (name, column) in results.names.iter().zip(&results.columns) {
        let mut sorted: Vec<f64> = column.iter().copied().filter(|v| !v.is_nan()).collect();
        let Some(s) = summary.statistic(name) else {
            assert!(sorted.is_empty(), "{name}");
            continue;
        };
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        for (level, reported) in sibsim::stats::summary::QUANTILES.iter().zip(s.quantiles()) {
            let h = (n - 1) as f64 * level.1;
            let (lo, hi) = (sorted[h.floor() as usize], sorted[(h.floor() as usize + 1).min(n - 1)]);
            let exact = quantile_sorted(&sorted, level.1);
            let bound = (QUANTILE_RELATIVE_ERROR * lo.abs().max(hi.abs())).max(s.quantile_absolute_error);
            assert!(
                (reported - exact).abs() <= bound,
                "{name} {}: {reported} vs {exact}",
                level.0
            );
        }
        let exact_mean = sorted.iter().sum::<f64>() / n as f64;
        assert!(
            (s.mean - exact_mean).abs() <= 1e-12 * exact_mean.abs().max(1.0),
            "{name} mean"
        );
    }
}

/// Rows streamed for `--keep-replications` stay in their worker's part
/// file while its chunks follow one another: one thread writes one part
/// (it wrote one a chunk, eight here), and the rows joined from three
/// threads' parts are the same bytes.
#[test]
fn streamed_rows_are_one_part_a_worker_stretch() {
    use sibsim::run::job::Job;
    use sibsim::sim::parallel::RunOptions;
    let job = Job::load(&common::bundled("hameenlinna-icehearts.toml"), &[]).expect("loads");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut joined = Vec::new();
    for threads in [1, 3] {
        let parts = dir.path().join(format!("parts-{threads}"));
        std::fs::create_dir(&parts).expect("parts folder");
        let options = RunOptions {
            threads: Some(threads),
            ..RunOptions::new(3, 3000)
        };
        let (state, spool) = job.run_state_spooled(&options, Some(&parts)).expect("runs");
        let written = std::fs::read_dir(&parts).expect("parts").count();
        if threads == 1 {
            assert_eq!(written, 1, "one thread's rows in one part");
        }
        let target = dir.path().join(format!("replications-{threads}.csv"));
        spool
            .expect("a spool")
            .assemble(&state.names, &state.event_names, &target)
            .expect("joins");
        let rows = std::fs::read(&target).expect("replications.csv");
        assert_eq!(
            rows.iter().filter(|&&b| b == b'\n').count(),
            3001,
            "a header and 3000 rows"
        );
        joined.push(rows);
    }
    assert!(joined[0] == joined[1], "the same rows from one and three threads");
}
