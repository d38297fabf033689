//! Reading and writing files safely: inputs only from regular files of a
//! bounded size, results folders replaced whole (never half-written, never
//! absent while being replaced), never a folder sibsim did not write, and
//! single files a user names (a bench's exports) checked before the work
//! and written whole.

use crate::error::{Error, InputError, Result};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// Largest scenario or portfolio file read (bytes).
pub const SCENARIO_LIMIT: u64 = 4 << 20;
/// Largest calibration panel read (bytes).
pub const PANEL_LIMIT: u64 = 1 << 30;
/// Largest `shard.json` read (bytes).
pub const SHARD_META_LIMIT: u64 = 64 << 20;

/// The file that marks a folder as written by sibsim: only such folders are
/// ever replaced or deleted.
pub const MARKER: &str = ".sibsim";

/// Longest folder or scenario name: with the temporary suffix
/// (`.NAME.shard-I-of-N.tmp-PID-NANOS`) it stays under the 255 bytes most
/// file systems allow for one name.
pub const NAME_LIMIT: usize = 100;

/// Reads a whole regular file of at most `limit` bytes; `what` names it in
/// errors ("scenario", "panel"). Devices, FIFOs and sockets are refused
/// before they are opened, so `/dev/zero` or a pipe cannot hang or exhaust
/// memory.
///
/// # Errors
/// An [`InputError`] naming the file for a missing, unreadable, special or
/// oversized file.
pub fn read_regular(path: &Path, limit: u64, what: &str) -> std::result::Result<Vec<u8>, InputError> {
    let file = path.display().to_string();
    let fail = |why: String| InputError::new(&file, "", format!("cannot read the {what}: {why}"));
    let meta = std::fs::metadata(path).map_err(|e| fail(describe(&e)))?;
    if meta.is_dir() {
        return Err(fail("is a folder, not a file".to_string()));
    }
    if !meta.is_file() {
        return Err(fail(
            "is not a regular file (a device, pipe or socket); give a file on disk".to_string(),
        ));
    }
    if meta.len() > limit {
        return Err(fail(format!(
            "it is {} bytes; a {what} may have at most {limit} bytes",
            meta.len()
        )));
    }
    let handle = std::fs::File::open(path).map_err(|e| fail(describe(&e)))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // take() bounds a file that grows between the check and the read.
    handle
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(describe(&e)))?;
    if bytes.len() as u64 > limit {
        return Err(fail(format!("it grew past {limit} bytes while being read")));
    }
    Ok(bytes)
}

fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Checks, before any work, that `parent/name` can receive results: `parent`
/// is a folder (or can be made), and `parent/name` is absent or a folder
/// sibsim wrote. Returns the target path.
///
/// # Errors
/// An [`InputError`] (exit 2) when `parent` is a file, or when the target
/// exists and is not sibsim's (a user's folder, a plain file, a link).
pub fn check_target(parent: &Path, name: &str) -> Result<PathBuf> {
    if name.is_empty() || name.len() > NAME_LIMIT + 50 || name.contains('/') || name.starts_with('.') {
        return Err(InputError::new(
            parent.display().to_string(),
            "",
            format!("`{name}` cannot name a results folder"),
        )
        .into());
    }
    check_writable(parent)?;
    let target = parent.join(name);
    match std::fs::symlink_metadata(&target) {
        Err(_) => Ok(target),
        Ok(m) if m.is_dir() && is_ours(&target) => Ok(target),
        Ok(m) => {
            let what = if m.file_type().is_symlink() {
                "is a symbolic link"
            } else if m.is_dir() {
                "is a folder that sibsim did not write (it has no .sibsim marker)"
            } else {
                "is a file"
            };
            Err(InputError::new(
                target.display().to_string(),
                "--out",
                format!(
                    "{what}; sibsim replaces only results folders it wrote, so move it away or choose another --out"
                ),
            )
            .into())
        }
    }
}

/// Checks that the results can be made under `parent` without making
/// anything: `parent` is not a file, and the nearest folder of `parent`
/// that exists (itself, or where its first missing folder would be made)
/// takes a new folder, tried with a probe folder removed at once. Without this, a
/// run to an `--out` it cannot write (read-only, under `/proc`, below a
/// file) did all its work before it failed.
fn check_writable(parent: &Path) -> Result<()> {
    let mut existing = parent;
    let folder = loop {
        // An empty path (the parent of a relative name) is the current folder.
        let at = if existing.as_os_str().is_empty() {
            Path::new(".")
        } else {
            existing
        };
        match std::fs::metadata(at) {
            Ok(m) if m.is_dir() => break at,
            Ok(_) => {
                let message = if at == parent {
                    "is not a folder; give a folder (it is made if missing) for the results".to_string()
                } else {
                    format!(
                        "cannot be made: {} is a file, not a folder; give a folder you can write to",
                        at.display()
                    )
                };
                return Err(InputError::new(parent.display().to_string(), "--out", message).into());
            }
            // Missing, or below a file: look further up.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => match existing.parent() {
                Some(up) => existing = up,
                None => break at,
            },
            Err(e) => return Err(unwritable(parent, at, &e)),
        }
    };
    let probe = folder.join(probe_name());
    match std::fs::create_dir(&probe) {
        Ok(()) => {
            let _ = std::fs::remove_dir(&probe);
            Ok(())
        }
        // A probe of a process killed at this very point: the folder took it.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(unwritable(parent, folder, &e)),
    }
}

/// A name for a probe file or folder, made and removed at once to learn
/// whether a folder takes new entries.
fn probe_name() -> String {
    format!(
        ".sibsim-probe-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    )
}

/// Why a file or folder could not be made, in words.
fn making_failed(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::ReadOnlyFilesystem => "the file system is read-only".to_string(),
        _ => e.to_string(),
    }
}

/// The error for an `--out` (`parent`) whose folder `at` takes no folder.
fn unwritable(parent: &Path, at: &Path, e: &std::io::Error) -> Error {
    InputError::new(
        parent.display().to_string(),
        "--out",
        format!(
            "cannot hold the results: no folder can be made in {} ({}); give a folder you can write to (it is made if missing)",
            at.display(),
            making_failed(e)
        ),
    )
    .into()
}

/// Whether a folder was written by sibsim: it has the marker, or (results of
/// versions before the marker) it holds a summary, shard or Slurm script and
/// nothing but sibsim's kinds of output files.
fn is_ours(folder: &Path) -> bool {
    if folder.join(MARKER).is_file() {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(folder) else {
        return false;
    };
    let mut names = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { return false };
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            return false;
        }
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    let known = ["json", "csv", "svg", "html", "bin", "sbatch", "sh"];
    names
        .iter()
        .any(|n| n == "summary.json" || n == "shard.json" || n == "array.sbatch")
        && names
            .iter()
            .all(|n| n.rsplit_once('.').is_some_and(|(_, ext)| known.contains(&ext)))
}

/// Writes `files` into `parent/name/`, replacing an earlier results folder
/// whole: the files go to a temporary folder that is then swapped into place
/// (on Linux by `renameat2(RENAME_EXCHANGE)`, so at every instant either the
/// old or the new folder is there); a failure leaves the old folder as it
/// was. Leftover temporary folders of dead sibsim processes are removed.
///
/// # Errors
/// As for [`check_target`], and [`Error::Io`] when writing fails.
pub fn write_folder(parent: &Path, name: &str, files: &[(String, Vec<u8>)]) -> Result<PathBuf> {
    write_folder_with(parent, name, files, |_| Ok(()))
}

/// Like [`write_folder`], and `more` writes further files into the
/// temporary folder (its argument) before it is swapped into place.
///
/// # Errors
/// As for [`write_folder`], and whatever `more` returns.
pub fn write_folder_with(
    parent: &Path,
    name: &str,
    files: &[(String, Vec<u8>)],
    more: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let target = check_target(parent, name)?;
    let (temporary, unique) = temporary_folder(parent, name, "")?;
    let result = (|| -> Result<()> {
        for (file, bytes) in files {
            let path = temporary.join(file);
            std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
        }
        more(&temporary)?;
        swap_into_place(&temporary, &target, parent, name, &unique)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&temporary);
    }
    result.map(|()| target)
}

/// Creates `parent` if need be, removes dead processes' leftovers of
/// `name`, and makes a new temporary folder beside `parent/name`, marked as
/// ours: `.NAME.tmp-PID-NANOS` + `suffix`. Returns it and its `PID-NANOS`.
fn temporary_folder(parent: &Path, name: &str, suffix: &str) -> Result<(PathBuf, String)> {
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    clean_leftovers(parent, name);
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let temporary = parent.join(format!(".{name}.tmp-{unique}{suffix}"));
    std::fs::create_dir(&temporary).map_err(|e| Error::io(&temporary, e))?;
    let marker = temporary.join(MARKER);
    let marked = std::fs::write(&marker, format!("written by sibsim {}\n", env!("CARGO_PKG_VERSION")));
    if let Err(e) = marked {
        let _ = std::fs::remove_dir_all(&temporary);
        return Err(Error::io(&marker, e));
    }
    Ok((temporary, unique))
}

/// A scratch folder beside `parent/name` for files a run streams while it
/// runs; removed when dropped, and (named and marked like
/// [`write_folder`]'s temporary folders) by a later run if this process died.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// Creates the scratch folder (and `parent`).
    ///
    /// # Errors
    /// As for [`check_target`], and [`Error::Io`] when it cannot be created.
    pub fn new(parent: &Path, name: &str) -> Result<Scratch> {
        check_target(parent, name)?;
        let (path, _) = temporary_folder(parent, name, "-scratch")?;
        Ok(Scratch { path })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Checks, before any work is done, that `path` can receive a file that
/// `flag` (`--export-json`, …) asks for: its folder exists, and it is not
/// itself a folder.
///
/// # Errors
/// An [`InputError`] (exit 2) naming the path and the flag.
pub fn check_file_target(path: &Path, flag: &str) -> Result<()> {
    let folder = folder_of(path);
    let refuse = |message: String| Err(InputError::new(path.display().to_string(), flag, message).into());
    if path.file_name().is_none() {
        return refuse("names no file; give the path of a file".to_string());
    }
    if !folder.is_dir() {
        let what = if folder.exists() {
            "is a file, not a folder"
        } else {
            "does not exist"
        };
        return refuse(format!(
            "its folder {} {what}; make it first or write the file elsewhere",
            folder.display()
        ));
    }
    if path.is_dir() {
        return refuse("is a folder; give the path of a file (inside it, or anywhere else)".to_string());
    }
    // A file can be made there (write_file makes its temporary file beside
    // it): tried now, so that a bench does not run to fail at the end.
    let probe = folder.join(probe_name());
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => refuse(format!(
            "no file can be made in {} ({}); write the file elsewhere",
            folder.display(),
            making_failed(&e)
        )),
    }
}

/// The folder a file path lies in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` whole: into a temporary file beside it, then
/// renamed over it, so that a failure leaves any earlier file as it was
/// and never a half-written one.
///
/// # Errors
/// [`Error::Io`] when writing or renaming fails (the temporary file is
/// removed).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let folder = folder_of(path);
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let temporary = folder.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = std::fs::write(&temporary, bytes)
        .map_err(|e| Error::io(&temporary, e))
        .and_then(|()| std::fs::rename(&temporary, path).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Moves the finished `temporary` folder to `target`.
fn swap_into_place(temporary: &Path, target: &Path, parent: &Path, name: &str, unique: &str) -> Result<()> {
    // Check again just before replacing: something may have appeared there
    // while the files were written, and the old folder is deleted below.
    let exists = std::fs::symlink_metadata(target).is_ok();
    if exists {
        check_target(parent, name)?;
        if exchange(temporary, target)? {
            // The old results are now at the temporary path.
            let _ = std::fs::remove_dir_all(temporary);
            return Ok(());
        }
        // No atomic exchange here: two renames, with a short gap.
        let old = parent.join(format!(".{name}.old-{unique}"));
        std::fs::rename(target, &old).map_err(|e| Error::io(target, e))?;
        std::fs::rename(temporary, target).map_err(|e| Error::io(target, e))?;
        let _ = std::fs::remove_dir_all(&old);
        return Ok(());
    }
    match std::fs::rename(temporary, target) {
        Ok(()) => Ok(()),
        // Another run put its folder there in the meantime: swap with it.
        Err(_) if std::fs::symlink_metadata(target).is_ok() => {
            check_target(parent, name)?;
            if exchange(temporary, target)? {
                let _ = std::fs::remove_dir_all(temporary);
                Ok(())
            } else {
                Err(Error::Runtime(format!(
                    "{}: another process wrote it at the same time; run again",
                    target.display()
                )))
            }
        }
        Err(e) => Err(Error::io(target, e)),
    }
}

/// Atomically exchanges two paths; `Ok(false)` where the platform or file
/// system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<bool> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS || e == rustix::io::Errno::NOTSUP => {
            Ok(false)
        }
        Err(e) => Err(Error::io(b, std::io::Error::from_raw_os_error(e.raw_os_error()))),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> Result<bool> {
    Ok(false)
}

/// Removes `.NAME.tmp-PID-*` and `.NAME.old-PID-*` folders left by sibsim
/// processes that no longer run (killed by SIGKILL or a power cut).
fn clean_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefixes = [format!(".{name}.tmp-"), format!(".{name}.old-")];
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = prefixes.iter().find_map(|p| file_name.strip_prefix(p.as_str())) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) && is_ours(&entry.path()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether a process runs; where that cannot be known, assume it does (keep
/// its folder).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_folder_replaces_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = vec![("a.txt".to_string(), b"one".to_vec())];
        let target = write_folder(dir.path(), "x", &files).expect("write");
        assert_eq!(std::fs::read(target.join("a.txt")).expect("read"), b"one");
        let files = vec![("b.txt".to_string(), b"two".to_vec())];
        write_folder(dir.path(), "x", &files).expect("write");
        assert!(!target.join("a.txt").exists());
        assert_eq!(std::fs::read(target.join("b.txt")).expect("read"), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        assert_eq!(leftovers.len(), 1, "only the results folder remains");
    }

    #[test]
    fn a_foreign_folder_is_refused_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("x")).expect("mkdir");
        std::fs::write(dir.path().join("x/thesis.tex"), b"mine").expect("write");
        let e = write_folder(dir.path(), "x", &[]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(std::fs::read(dir.path().join("x/thesis.tex")).expect("kept"), b"mine");
    }

    #[test]
    fn a_file_target_is_checked_before_work_and_written_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("no/such/folder/bench.json");
        let e = check_file_target(&missing, "--export-json").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("does not exist") && e.to_string().contains("--export-json"),
            "{e}"
        );
        let e = check_file_target(dir.path(), "--export-csv").unwrap_err();
        assert!(e.to_string().contains("is a folder"), "{e}");
        let file = dir.path().join("bench.json");
        check_file_target(&file, "--export-json").expect("a new file in an existing folder");
        write_file(&file, b"one").expect("write");
        write_file(&file, b"two").expect("rewrite");
        assert_eq!(std::fs::read(&file).expect("read"), b"two");
        // A failed write leaves the earlier file as it was, and no
        // temporary file.
        std::fs::create_dir(dir.path().join("taken")).expect("mkdir");
        assert!(
            write_file(&dir.path().join("taken"), b"three").is_err(),
            "a folder is not replaced"
        );
        assert!(dir.path().join("taken").is_dir());
        assert_eq!(std::fs::read(&file).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        assert_eq!(names.len(), 2, "bench.json and the folder, nothing else");
    }

    #[test]
    fn special_files_are_refused() {
        let e = read_regular(Path::new("/dev/zero"), 10, "scenario").unwrap_err();
        assert!(e.message.contains("not a regular file"), "{e}");
    }
}
