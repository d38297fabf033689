//! Throughput of the engine in child-cycle pairs per second (both arms of one
//! child for one cycle): one replication, and a full parallel run.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sibsim::sim::engine::Engine;
use sibsim::sim::parallel::RunOptions;
use std::path::Path;

fn engine(file: &str) -> Engine {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
    Engine::new(sibsim::scenario::load(&path).expect("bundled scenario loads"))
}

/// Child-cycle pairs simulated in one replication.
fn pairs(engine: &Engine) -> u64 {
    let horizon = engine.scenario.time.horizon as u64;
    engine
        .scenario
        .cohort
        .waves
        .iter()
        .map(|w| w.children * (horizon - w.cycle as u64))
        .sum()
}

fn one_replication(c: &mut Criterion) {
    let mut group = c.benchmark_group("one_replication");
    for file in ["hameenlinna-icehearts.toml", "bench-6x1000x20.toml"] {
        let engine = engine(file);
        group.throughput(Throughput::Elements(pairs(&engine)));
        let mut workspaces = engine.workspace();
        let mut record = sibsim::sim::record::Record::default();
        let mut replication = 0u64;
        group.bench_function(file, |b| {
            b.iter_batched(
                || {
                    replication += 1;
                    replication
                },
                |r| engine.replicate(7, r, &mut workspaces, &mut record),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// The draw kernel alone: trajectories of both arms, no accounting.
fn kernel(c: &mut Criterion) {
    use sibsim::sim::replication::{simulate_treated, EntryMasks, Workspace};
    let mut group = c.benchmark_group("kernel");
    let engine = engine("bench-6x1000x20.toml");
    group.throughput(Throughput::Elements(pairs(&engine)));
    let mut workspace = Workspace::new(engine.ledger.layout, 0, None);
    let children: Vec<u64> = engine.schedule.waves.iter().map(|w| w.children).collect();
    let mut replication = 0u64;
    group.bench_function("bench-6x1000x20", |b| {
        b.iter(|| {
            replication += 1;
            let mut rng = sibsim::sim::rng::stream(7, replication, sibsim::sim::rng::Purpose::Trajectories);
            simulate_treated(
                &engine.schedule,
                engine.ledger.layout,
                &EntryMasks::default(),
                None,
                &children,
                &mut rng,
                &mut workspace,
                None,
            );
        })
    });
    group.finish();
}

fn full_run(c: &mut Criterion) {
    let mut group = c.benchmark_group("full_run");
    group.sample_size(10);
    let engine = engine("bench-6x1000x20.toml");
    let replications = 200;
    group.throughput(Throughput::Elements(pairs(&engine) * replications));
    group.bench_function("bench-6x1000x20 x200", |b| {
        b.iter(|| engine.run(&RunOptions::new(7, replications)).expect("runs"))
    });
    group.finish();
}

/// `merge`'s work for two shards of 10,000 replications of a contract
/// with uncertainty: decode both states and merge them.
fn merge_two_shards(c: &mut Criterion) {
    use sibsim::stats::{codec, RunState};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hameenlinna-icehearts.toml");
    let job = sibsim::run::job::Job::load(&path, &[]).expect("bundled scenario loads");
    let shard = |first: u64| {
        let options = RunOptions {
            first,
            ..RunOptions::new(7, 10_000)
        };
        job.run_state(&options).expect("runs")
    };
    let (a, b) = (shard(0), shard(10_000));
    let empty = || {
        let horizon = a.investor_paths.len();
        let names = (a.names.clone(), a.event_names.clone());
        RunState::new(
            &a.scenario,
            a.seed,
            names.0,
            names.1,
            horizon,
            a.start_year,
            a.cycle_years,
        )
    };
    let bytes = [codec::encode(&a), codec::encode(&b)];
    let mut group = c.benchmark_group("merge");
    group.sample_size(20);
    group.bench_function("two shards of 10^4 hameenlinna-icehearts", |bench| {
        bench.iter(|| {
            let mut merged = codec::decode(&bytes[0], empty(), 10_000).expect("decodes");
            merged.merge(&codec::decode(&bytes[1], empty(), 10_000).expect("decodes"));
            merged
        })
    });
    group.finish();
}

/// Folding values into a statistic's accumulator: one chunk of 2,000
/// replications (what a worker folds before it merges), of a continuous
/// money-like statistic and of a discrete count.
fn fold(c: &mut Criterion) {
    use rand::{Rng, SeedableRng};
    use sibsim::stats::accumulate::Accumulator;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut uniform = move || rng.random::<f64>();
    let continuous: Vec<f64> = (0..2000).map(|_| 4.0e5 * (uniform() - 0.3)).collect();
    let counts: Vec<f64> = (0..2000).map(|_| (uniform() * 12.0).floor()).collect();
    let mut group = c.benchmark_group("fold");
    for (name, values) in [("continuous", &continuous), ("counts", &counts)] {
        group.throughput(Throughput::Elements(values.len() as u64));
        let mut accumulator = Accumulator::new();
        group.bench_function(name, |b| {
            b.iter(|| {
                accumulator.clear();
                for &v in values {
                    accumulator.add(v);
                }
                accumulator.flush();
                accumulator.count()
            })
        });
    }
    group.finish();
}

/// The investor's IRR of fund-like flows (14 cycles: money in for the first
/// few, then payments back, some cycles paying nothing), one a replication
/// in a run: its root search is a chain of NPVs, each waiting on the last.
fn irr(c: &mut Criterion) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let funds: Vec<Vec<f64>> = (0..1000)
        .map(|_| {
            let paying = rng.random_range(2..8);
            (0..14)
                .map(|k| {
                    if k < paying {
                        -rng.random_range(1e4..2e5)
                    } else if rng.random_bool(0.3) {
                        0.0
                    } else {
                        rng.random_range(0.0..2e5)
                    }
                })
                .collect()
        })
        .collect();
    let mut group = c.benchmark_group("irr");
    group.throughput(Throughput::Elements(funds.len() as u64));
    group.bench_function("1000 fund-like flows", |b| {
        b.iter(|| {
            funds
                .iter()
                .map(|flows| sibsim::fund::irr::irr(flows, 1.0).value())
                .filter(|r| r.is_finite())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, kernel, one_replication, full_run, merge_two_shards, fold, irr);
criterion_main!(benches);
