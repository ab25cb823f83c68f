//! `embody cluster k8s|slurm`: renders a Kubernetes Indexed Job or a Slurm array script that
//! runs an `embody run/eval/record` as N shards, shard = the scheduler's task index. The
//! schedulers do the dispatching and retrying; embody only splits the seeds (`--shard`) and
//! merges (`embody merge`).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

#[derive(Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub target: Target,
}

#[derive(Subcommand)]
pub enum Target {
    /// A Kubernetes Job with `completionMode: Indexed`: pod i runs shard i
    /// (`JOB_COMPLETION_INDEX`) and writes its output to a shared volume.
    K8s(K8sArgs),
    /// A Slurm array job script: task i runs shard i (`SLURM_ARRAY_TASK_ID`).
    Slurm(SlurmArgs),
}

/// What both schedulers need.
#[derive(Args)]
pub struct JobArgs {
    /// Number of shards (pods, array tasks).
    #[arg(long)]
    pub shards: u64,
    /// Most shards running at once (default: all).
    #[arg(long)]
    pub parallelism: Option<u64>,
    /// CPUs per shard: the resource request and embody's --threads.
    #[arg(long, default_value_t = 1)]
    pub cpus_per_shard: u64,
    /// Folder, shared by every node, for the shards' outputs (shard-IIII-of-NNNN.json).
    #[arg(long)]
    pub out_dir: String,
    /// Job name.
    #[arg(long, default_value = "embody")]
    pub name: String,
    /// The embody command to shard (run, eval or record, without --shard/--json), after --.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Args)]
pub struct K8sArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Container image with embody, the scenarios and the models (see deploy/Dockerfile).
    #[arg(long, default_value = "embody:latest")]
    pub image: String,
    /// PersistentVolumeClaim mounted at --out-dir in every pod.
    #[arg(long, default_value = "embody-out")]
    pub claim: String,
    /// Retries of a failed shard (`backoffLimitPerIndex`, Kubernetes >= 1.29).
    #[arg(long, default_value_t = 3)]
    pub retries: u64,
}

#[derive(Args)]
pub struct SlurmArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Where the tasks run (scenario and model paths are relative to it; default: where
    /// `sbatch` was called, as Slurm does).
    #[arg(long)]
    pub workdir: Option<String>,
    /// The embody binary on the compute nodes.
    #[arg(long, default_value = "embody")]
    pub embody: String,
}

pub fn run(a: ClusterArgs) -> Result<ExitCode> {
    let text = match &a.target {
        Target::K8s(k) => k8s(k)?,
        Target::Slurm(s) => slurm(s)?,
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn check(job: &JobArgs) -> Result<()> {
    if job.shards == 0 {
        bail!("--shards must be at least 1");
    }
    if job.cpus_per_shard == 0 {
        bail!("--cpus-per-shard must be at least 1");
    }
    match job.command.first().map(String::as_str) {
        Some("run" | "eval" | "record") => {}
        other => bail!(
            "the command after -- must be embody run, eval or record, not {:?}",
            other.unwrap_or("nothing")
        ),
    }
    for flag in ["--shard", "--json"] {
        if job
            .command
            .iter()
            .any(|c| c == flag || c.starts_with(&format!("{flag}=")))
        {
            bail!("leave {flag} out of the command; the job adds it");
        }
    }
    if !job
        .name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || job.name.is_empty()
    {
        bail!(
            "--name {:?}: a job name is lowercase letters, digits and '-'",
            job.name
        );
    }
    Ok(())
}

/// `s` as one word for a POSIX shell.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=,+-@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The shell lines one shard runs: embody with `--shard $INDEX/N`, its JSON line written to
/// the shared folder through a temporary name, so a half-written file is never merged.
fn shard_lines(job: &JobArgs, embody: &str, index_var: &str) -> Vec<String> {
    let n = job.shards;
    let out = quote(&job.out_dir);
    let command: Vec<String> = job.command.iter().map(|c| quote(c)).collect();
    vec![
        format!("shard=$(printf '%04d' \"${index_var}\")"),
        format!("file={out}/shard-$shard-of-{n:04}.json"),
        format!(
            "{} {} --shard \"${index_var}/{n}\" --json --quiet --threads {} > \"$file.part\"",
            quote(embody),
            command.join(" "),
            job.cpus_per_shard
        ),
        "mv \"$file.part\" \"$file\"".into(),
    ]
}

fn header(job: &JobArgs, comment: &str, index_var: &str) -> String {
    let n = job.shards;
    let mut h = String::new();
    let _ = writeln!(
        h,
        "{comment} Rendered by `embody cluster`: `embody {}` as {n} shards; shard i = ${index_var}.",
        job.command.iter().map(|c| quote(c)).collect::<Vec<_>>().join(" ")
    );
    let _ = writeln!(
        h,
        "{comment} Each writes {}/shard-IIII-of-{n:04}.json. When all have finished:",
        job.out_dir
    );
    if job.command[0] == "record" {
        let _ = writeln!(
            h,
            "{comment}   embody merge <record --out>/index.shard-*-of-{n:04}.json"
        );
    } else {
        let _ = writeln!(
            h,
            "{comment}   embody merge {}/shard-*-of-{n:04}.json --json > merged.json",
            job.out_dir
        );
    }
    h
}

/// A Kubernetes Indexed Job.
pub fn k8s(a: &K8sArgs) -> Result<String> {
    let job = &a.job;
    check(job)?;
    let parallelism = job.parallelism.unwrap_or(job.shards).min(job.shards);
    let mut y = header(job, "#", "JOB_COMPLETION_INDEX");
    let script: String = std::iter::once("set -eu".to_string())
        .chain(shard_lines(job, "embody", "JOB_COMPLETION_INDEX"))
        .map(|l| format!("              {l}\n"))
        .collect();
    let _ = write!(
        y,
        "apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  completionMode: Indexed
  completions: {n}
  parallelism: {parallelism}
  backoffLimitPerIndex: {retries}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: embody
          image: {image}
          workingDir: /embody
          command: [\"/bin/sh\", \"-c\"]
          args:
            - |
{script}          resources:
            requests:
              cpu: \"{cpus}\"
            limits:
              cpu: \"{cpus}\"
          volumeMounts:
            - name: out
              mountPath: {out}
      volumes:
        - name: out
          persistentVolumeClaim:
            claimName: {claim}
",
        name = job.name,
        n = job.shards,
        retries = a.retries,
        image = a.image,
        cpus = job.cpus_per_shard,
        out = job.out_dir,
        claim = a.claim,
    );
    Ok(y)
}

/// A Slurm array job script.
pub fn slurm(a: &SlurmArgs) -> Result<String> {
    let job = &a.job;
    check(job)?;
    let throttle = match job.parallelism {
        Some(p) if p < job.shards => format!("%{p}"),
        _ => String::new(),
    };
    let mut s = String::from("#!/bin/bash\n");
    s += &header(job, "#", "SLURM_ARRAY_TASK_ID");
    let _ = writeln!(s, "#SBATCH --job-name={}", job.name);
    let _ = writeln!(s, "#SBATCH --array=0-{}{throttle}", job.shards - 1);
    let _ = writeln!(s, "#SBATCH --cpus-per-task={}", job.cpus_per_shard);
    let _ = writeln!(s, "#SBATCH --output={}/slurm-%A_%a.log", job.out_dir);
    // A preempted or failed node's task is queued again; its shard is re-run from scratch.
    s += "#SBATCH --requeue\n";
    s += "set -euo pipefail\n";
    if let Some(dir) = &a.workdir {
        let _ = writeln!(s, "cd {}", quote(dir));
    }
    for l in shard_lines(job, &a.embody, "SLURM_ARRAY_TASK_ID") {
        s += &l;
        s.push('\n');
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_keeps_words_whole() {
        assert_eq!(quote("scenarios/a.toml"), "scenarios/a.toml");
        assert_eq!(quote("clear the table"), "'clear the table'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }
}
