//! Slurm job scripts for a sharded run: an sbatch job array, one task per
//! shard, and a merge job that runs after the whole array succeeded.
//! Plain shell scripts a user can read and edit; no daemon of ours.

use crate::error::{Error, InputError};
use std::path::Path;

/// What the scripts run.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmJob {
    /// The sibsim binary (absolute path, so compute nodes find it).
    pub sibsim: String,
    /// The scenario file (absolute path).
    pub scenario: String,
    /// Scenario name (job names, results folder).
    pub name: String,
    /// Number of shards = array tasks.
    pub shards: u64,
    /// Total replications.
    pub replications: u64,
    /// Master seed.
    pub seed: u64,
    /// Results folder; shards go to `<out>/shards`.
    pub out: String,
    /// Partition, if any.
    pub partition: Option<String>,
    /// Time limit per task, if any (Slurm syntax, e.g. 01:00:00).
    pub time: Option<String>,
}

/// Submits the scripts written in `folder`: the array, then the merge with
/// `--dependency=afterok:<array>`. Returns the two job ids.
///
/// # Errors
/// [`Error::Runtime`] when `sbatch` cannot run or refuses a script.
pub fn submit(folder: &Path) -> Result<(String, String), Error> {
    let sbatch = |args: &[&str]| -> Result<String, Error> {
        let o = std::process::Command::new("sbatch")
            .current_dir(folder)
            .args(args)
            .output()
            .map_err(|e| Error::Runtime(format!("cannot run sbatch: {e}")))?;
        if !o.status.success() {
            return Err(Error::Runtime(format!(
                "sbatch failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )));
        }
        let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
        Ok(id.split(';').next().unwrap_or("").to_string())
    };
    let array = sbatch(&["--parsable", "array.sbatch"])?;
    let merge = sbatch(&["--parsable", &format!("--dependency=afterok:{array}"), "merge.sbatch"])?;
    Ok((array, merge))
}

/// Checks a `--partition` value: Slurm partition names, comma-separated.
///
/// # Errors
/// An [`InputError`] naming `--partition` for anything else (a newline or
/// other control character would start a new line in the batch script).
pub fn check_partition(value: &str) -> Result<(), InputError> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "_.,-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(InputError::new(
            "--partition",
            "",
            format!(
                "`{}` is not a partition; expected names of letters, digits, `_`, `.` and `-`, separated by commas",
                value.escape_default()
            ),
        ))
    }
}

/// Checks a `--time` value against Slurm's formats: `M`, `M:S`, `H:M:S`,
/// `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED` / `INFINITE`.
///
/// # Errors
/// An [`InputError`] naming `--time` otherwise.
pub fn check_time(value: &str) -> Result<(), InputError> {
    let number = |p: &str| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit());
    let ok = match value {
        "UNLIMITED" | "INFINITE" | "unlimited" | "infinite" => true,
        _ => match value.split_once('-') {
            Some((days, rest)) => {
                let parts: Vec<&str> = rest.split(':').collect();
                number(days) && (1..=3).contains(&parts.len()) && parts.iter().all(|p| number(p))
            }
            None => {
                let parts: Vec<&str> = value.split(':').collect();
                (1..=3).contains(&parts.len()) && parts.iter().all(|p| number(p))
            }
        },
    };
    if ok {
        Ok(())
    } else {
        Err(InputError::new(
            "--time",
            "",
            format!(
                "`{}` is not a Slurm time; expected MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS, DAYS-HOURS, DAYS-HOURS:MINUTES, DAYS-HOURS:MINUTES:SECONDS or UNLIMITED",
                value.escape_default()
            ),
        ))
    }
}

/// Quotes a word for a POSIX shell.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

impl SlurmJob {
    fn header(&self, job: &str) -> String {
        let mut h = format!(
            "#!/bin/bash\n#SBATCH --job-name={}\n#SBATCH --output={}/slurm-%x-%A_%a.log\n",
            quote(&format!("{}-{job}", self.name)),
            quote(&self.out)
        );
        if let Some(p) = &self.partition {
            h.push_str(&format!("#SBATCH --partition={}\n", quote(p)));
        }
        if let Some(t) = &self.time {
            h.push_str(&format!("#SBATCH --time={}\n", quote(t)));
        }
        h
    }

    /// The three files of `<out>/<name>.slurm/` (`target`): the array, the
    /// merge job and `submit.sh`.
    pub fn files(&self, target: &Path) -> Vec<(String, Vec<u8>)> {
        vec![
            ("array.sbatch".to_string(), self.array_script().into_bytes()),
            ("merge.sbatch".to_string(), self.merge_script().into_bytes()),
            (
                "submit.sh".to_string(),
                self.submit_script(&target.display().to_string()).into_bytes(),
            ),
        ]
    }

    /// The job array: task I runs shard I of N.
    pub fn array_script(&self) -> String {
        format!(
            "{}#SBATCH --array=1-{}\n#SBATCH --ntasks=1\n# One shard per array task; re-running a task rewrites the same shard.\nset -euo pipefail\nexec {} run {} --shard \"$((SLURM_ARRAY_TASK_ID))/{}\" --replications {} --seed {} --out {} --quiet --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"\n",
            self.header("shards"),
            self.shards,
            quote(&self.sibsim),
            quote(&self.scenario),
            self.shards,
            self.replications,
            self.seed,
            quote(&format!("{}/shards", self.out))
        )
    }

    /// The merge job (submitted with --dependency=afterok:ARRAY_ID).
    pub fn merge_script(&self) -> String {
        format!(
            "{}#SBATCH --ntasks=1\nset -euo pipefail\nexec {} merge {} --out {}\n",
            self.header("merge"),
            quote(&self.sibsim),
            quote(&format!("{}/shards", self.out)),
            quote(&self.out)
        )
    }

    /// A submit script: the array, then the merge after it succeeded.
    pub fn submit_script(&self, folder: &str) -> String {
        format!(
            "#!/bin/bash\n# Submits the shard array, then the merge once every task succeeded.\nset -euo pipefail\ncd {}\nmkdir -p {}\narray=$(sbatch --parsable array.sbatch)\narray=${{array%%;*}}\nmerge=$(sbatch --parsable --dependency=afterok:$array merge.sbatch)\nmerge=${{merge%%;*}}\necho \"array $array merge $merge\"\n",
            quote(folder),
            quote(&format!("{}/shards", self.out))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_run_one_shard_per_task_and_merge_after_the_array() {
        let job = SlurmJob {
            sibsim: "/opt/sibsim".into(),
            scenario: "/data/my scenario.toml".into(),
            name: "x".into(),
            shards: 4,
            replications: 1000,
            seed: 7,
            out: "/data/results".into(),
            partition: Some("debug".into()),
            time: None,
        };
        let array = job.array_script();
        assert!(array.contains("#SBATCH --array=1-4"));
        assert!(array.contains("--shard \"$((SLURM_ARRAY_TASK_ID))/4\""));
        assert!(array.contains("'/data/my scenario.toml'"));
        assert!(array.contains("#SBATCH --partition=debug"));
        assert!(job
            .merge_script()
            .contains("merge /data/results/shards --out /data/results"));
        assert!(job.submit_script("/data/jobs").contains("--dependency=afterok:$array"));
    }
}
