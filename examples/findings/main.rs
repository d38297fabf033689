//! The README generator: regenerates (or with `--check`, verifies) the
//! README's "What the numbers say" section and its pictures (docs/findings/)
//! from the bundled scenarios.
//!
//! ```text
//! cargo run --release --example findings [-- --replications 4000 --check]
//! ```
//!
//! It lives outside the library because it knows this repository's files;
//! `tests/findings.rs` runs it with `--check`, so a change that moves a
//! published number fails CI until the section is refreshed and committed.

mod generate;

use clap::Parser;
use generate::{generate, splice, FindingsOptions, BEGIN, END};
use sibsim::error::{Error, InputError, Result};
use sibsim::files::write_folder;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by Ctrl-C: the runs stop and nothing is written.
static CANCEL: AtomicBool = AtomicBool::new(false);

#[derive(Parser)]
#[command(
    name = "findings",
    about = "Regenerate the README's findings section from the bundled scenarios"
)]
struct Flags {
    /// The README to update; scenarios are found beside it.
    #[arg(long, default_value = "README.md")]
    readme: PathBuf,
    /// Replications per run.
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u64).range(1..))]
    replications: u64,
    /// Worker threads (default: all cores; results do not depend on it).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// Write nothing; fail (exit 1) if the README or the pictures differ from a fresh run.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let flags = Flags::parse();
    let _ = ctrlc::set_handler(|| CANCEL.store(true, Ordering::SeqCst));
    match findings(&flags) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Regenerates (or with `check`, verifies) the README's findings section.
fn findings(flags: &Flags) -> Result<String> {
    let readme = flags.readme.as_path();
    let replications = flags.replications;
    let text = std::fs::read_to_string(readme).map_err(|e| Error::io(readme, e))?;
    let root = readme
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let options = FindingsOptions {
        replications,
        threads: flags.threads.map(|t| t as usize),
        cancel: Some(&CANCEL),
    };
    let missing_markers = || {
        Error::Input(InputError::new(
            readme.display().to_string(),
            "",
            format!("no findings section: put the lines `{BEGIN}` and `{END}` where it belongs"),
        ))
    };
    // Fail on missing markers before the (long) runs.
    splice(&text, "").ok_or_else(missing_markers)?;
    let found = generate(root, &options)?;
    let updated = splice(&text, &found.markdown).ok_or_else(missing_markers)?;
    let pictures = root.join("docs");
    if flags.check {
        let mut stale = Vec::new();
        if updated != text {
            stale.push(readme.display().to_string());
        }
        for (name, bytes) in &found.pictures {
            let path = pictures.join("findings").join(name);
            if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
                stale.push(path.display().to_string());
            }
        }
        if !stale.is_empty() {
            return Err(Error::Runtime(format!(
                "the findings are stale in {}; run `cargo run --release --example findings -- \
                 --replications {replications}` and commit",
                stale.join(", ")
            )));
        }
        return Ok(format!("findings up to date ({replications} replications per run)"));
    }
    let folder = write_folder(&pictures, "findings", &found.pictures)?;
    // The README, like a results folder, is replaced whole.
    let temporary = readme.with_extension("md.tmp");
    std::fs::write(&temporary, &updated).map_err(|e| Error::io(&temporary, e))?;
    std::fs::rename(&temporary, readme).map_err(|e| Error::io(readme, e))?;
    Ok(format!(
        "wrote the findings section of {} and {} pictures in {}",
        readme.display(),
        found.pictures.len(),
        folder.display()
    ))
}
