//! A bounded fuzz harness on stable Rust (proptest): mutated scenario files
//! never panic the parser, validation or the exact model, and mutated shard
//! files never panic `merge`. Runs in CI with fixed case counts and a fixed
//! random seed, so a failure reproduces.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sibsim::cluster::shard;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Values that have broken parsers and numeric code elsewhere.
const SPECIAL: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-300",
    "nan",
    "inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "4294967296",
    "1e15",
    "0.0",
    "\"\"",
    "[]",
    "{}",
    "[[]]",
    "true",
    "\"../../x\"",
    "\"a\\u0000b\"",
    "1979-05-27",
    "[1e308, -1e308]",
    "100000",
    "100001",
];

fn bundled_texts() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .expect("scenarios")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .filter(|t| !t.contains("[portfolio]"))
        .collect();
    texts.sort();
    texts
}

/// One mutation of a text: replace a value after `=`, flip a byte, cut a
/// range, duplicate a line.
#[derive(Debug, Clone)]
enum Mutation {
    Value { line: usize, special: usize },
    Byte { at: usize, value: u8 },
    Cut { at: usize, length: usize },
    DuplicateLine { line: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0..SPECIAL.len()).prop_map(|(line, special)| Mutation::Value { line, special }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Byte { at, value }),
        1 => (any::<usize>(), 1usize..40).prop_map(|(at, length)| Mutation::Cut { at, length }),
        1 => any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
    ]
}

fn apply(text: &str, m: &Mutation) -> Vec<u8> {
    let lines: Vec<&str> = text.lines().collect();
    match *m {
        Mutation::Value { line, special } => {
            let targets: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains('=')).collect();
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if let Some(&i) = targets.get(line % targets.len().max(1)) {
                let key = lines[i].split('=').next().unwrap_or("");
                out[i] = format!("{key}= {}", SPECIAL[special]);
            }
            out.join("\n").into_bytes()
        }
        Mutation::Byte { at, value } => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = value;
            }
            bytes
        }
        Mutation::Cut { at, length } => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes.drain(i..(i + length).min(bytes.len()));
            }
            bytes
        }
        Mutation::DuplicateLine { line } => {
            let mut out: Vec<&str> = lines.clone();
            if !lines.is_empty() {
                let i = line % lines.len();
                out.insert(i, lines[i]);
            }
            out.join("\n").into_bytes()
        }
    }
}

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
}

#[test]
fn mutated_scenarios_never_panic() {
    let texts = bundled_texts();
    let tried = AtomicU64::new(0);
    let rejected = AtomicU64::new(0);
    let strategy = (0..texts.len(), proptest::collection::vec(mutation(), 1..4));
    runner(20_000)
        .run(&strategy, |(which, mutations)| {
            let mut text = texts[which].clone();
            for m in &mutations {
                text = String::from_utf8_lossy(&apply(&text, m)).into_owned();
            }
            tried.fetch_add(1, Ordering::Relaxed);
            match sibsim::scenario::parse(&text, "fuzz.toml") {
                Ok(scenario) => {
                    // A valid scenario must also compile and give its exact expectation.
                    let engine = sibsim::sim::engine::Engine::new(scenario);
                    let _ = engine.expected();
                }
                Err(e) => {
                    rejected.fetch_add(1, Ordering::Relaxed);
                    prop_assert!(!e.message.is_empty());
                    prop_assert!(e.file == "fuzz.toml");
                }
            }
            Ok(())
        })
        .expect("no panic and a message for every rejection");
    println!(
        "fuzz: {} mutated scenarios, {} rejected as bad input, none panicked",
        tried.load(Ordering::Relaxed),
        rejected.load(Ordering::Relaxed)
    );
}

/// Writes a real two-shard run of a small scenario.
fn real_shards(dir: &Path) -> Vec<std::path::PathBuf> {
    let scenario = std::env::var("CARGO_MANIFEST_DIR").expect("dir") + "/scenarios/hameenlinna-icehearts.toml";
    let mut folders = Vec::new();
    for i in 1..=2 {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_sibsim"))
            .current_dir(dir)
            .args(["run", &scenario, "--replications", "6", "--quiet", "--out", "shards"])
            .args(["--shard", &format!("{i}/2")])
            .status()
            .expect("runs");
        assert!(status.success());
        folders.push(dir.join(format!("shards/hameenlinna-icehearts.shard-{i}-of-2")));
    }
    folders
}

#[derive(Debug, Clone)]
enum ShardMutation {
    /// Replace the n-th number in shard.json by a special number.
    Number { nth: usize, value: usize },
    /// Flip a byte of shard.json.
    JsonByte { at: usize, value: u8 },
    /// Flip a byte of shard.bin.
    BinByte { at: usize, value: u8 },
    /// Truncate or extend shard.bin.
    BinLength { length: usize },
}

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "4611686018427387904",
    "4611686018427387916",
    "18446744073709551615",
    "1000000000000",
    "1e308",
    "NaN",
    "3",
    "6",
    "7",
];

fn shard_mutation() -> impl Strategy<Value = ShardMutation> {
    prop_oneof![
        4 => (any::<usize>(), 0..NUMBERS.len()).prop_map(|(nth, value)| ShardMutation::Number { nth, value }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, value)| ShardMutation::JsonByte { at, value }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, value)| ShardMutation::BinByte { at, value }),
        1 => (0usize..20_000).prop_map(|length| ShardMutation::BinLength { length }),
    ]
}

#[test]
fn mutated_shards_never_panic_merge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folders = real_shards(dir.path());
    let originals: Vec<(Vec<u8>, Vec<u8>)> = folders
        .iter()
        .map(|f| {
            (
                std::fs::read(f.join("shard.json")).expect("json"),
                std::fs::read(f.join("shard.bin")).expect("bin"),
            )
        })
        .collect();
    let tried = AtomicU64::new(0);
    let strategy = (0usize..2, proptest::collection::vec(shard_mutation(), 1..3));
    runner(3000)
        .run(&strategy, |(which, mutations)| {
            for (f, (json, bin)) in folders.iter().zip(&originals) {
                std::fs::write(f.join("shard.json"), json).expect("restore");
                std::fs::write(f.join("shard.bin"), bin).expect("restore");
            }
            let (mut json, mut bin) = originals[which].clone();
            for m in &mutations {
                match *m {
                    ShardMutation::Number { nth, value } => {
                        let text = String::from_utf8_lossy(&json).into_owned();
                        let starts: Vec<usize> = text
                            .char_indices()
                            .filter(|&(i, c)| {
                                c.is_ascii_digit()
                                    && !text[..i].ends_with(|p: char| p.is_ascii_alphanumeric() || p == '.')
                            })
                            .map(|(i, _)| i)
                            .collect();
                        if let Some(&start) = starts.get(nth % starts.len().max(1)) {
                            let end = text[start..]
                                .find(|c: char| !(c.is_ascii_digit() || ".eE+-".contains(c)))
                                .map_or(text.len(), |e| start + e);
                            json = format!("{}{}{}", &text[..start], NUMBERS[value], &text[end..]).into_bytes();
                        }
                    }
                    ShardMutation::JsonByte { at, value } => {
                        let i = at % json.len();
                        json[i] = value;
                    }
                    ShardMutation::BinByte { at, value } => {
                        if !bin.is_empty() {
                            let i = at % bin.len();
                            bin[i] = value;
                        }
                    }
                    ShardMutation::BinLength { length } => bin.resize(length, 0),
                }
            }
            let folder = &folders[which];
            std::fs::write(folder.join("shard.json"), &json).expect("write");
            std::fs::write(folder.join("shard.bin"), &bin).expect("write");
            tried.fetch_add(1, Ordering::Relaxed);
            let read: Result<Vec<_>, _> = folders.iter().map(|f| shard::read(f)).collect();
            if let Ok(shards) = read {
                let _ = shard::merge(shards);
            }
            Ok(())
        })
        .expect("merge never panics");
    println!(
        "fuzz: {} mutated shard pairs, none panicked",
        tried.load(Ordering::Relaxed)
    );
}
