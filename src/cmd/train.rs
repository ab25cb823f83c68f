//! `embody dataset`, `embody train` and `embody distill`: demonstrations to training arrays
//! (with the runtime's own feature code), then policies/train/train.py to an exported model, or
//! policies/train/distill.py to a one- or two-step model distilled from a trained one.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};
use clap::Args;
use embody_policies::dataset;
use embody_policies::features::Layout;

use super::common::python;

#[derive(Args)]
pub struct DatasetArgs {
    /// Folder of recorded episodes (`embody record --out`).
    pub logs: PathBuf,
    /// Output folder (default: LOGS/dataset).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The frame of the features: `skill` (at the object or drop spot, turned with the grasp:
    /// one motion for every table layout) or `base` (the robot's base frame, the first models').
    #[arg(long, default_value = "skill")]
    pub layout: Layout,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub format: ExportFormat,
}

#[derive(clap::Subcommand)]
pub enum ExportFormat {
    /// The LeRobot v3.0 dataset layout (meta/info.json, stats.json, tasks.parquet, episodes
    /// and data parquet), for LeRobot's policies (policies/train/export_lerobot.py).
    Lerobot(LerobotArgs),
}

#[derive(Args)]
pub struct LerobotArgs {
    /// Folder of recorded episodes (`embody record --out`).
    pub logs: PathBuf,
    /// Output folder (must not exist or be empty).
    pub out: PathBuf,
    /// Frames per second of the samples (embody records policy samples at 10 Hz).
    #[arg(long, default_value_t = 10)]
    pub fps: u32,
    #[arg(long, default_value = "franka_panda")]
    pub robot_type: String,
    #[arg(long)]
    pub json: bool,
}

pub fn export(a: ExportArgs) -> Result<ExitCode> {
    let ExportFormat::Lerobot(a) = a.format;
    // The runtime's own feature code makes the arrays; the script lays them out.
    let tmp = tempfile::tempdir().context("cannot make a temporary folder")?;
    // Base-frame features: a LeRobot policy knows nothing of embody's skill frames.
    build_dataset(&a.logs, Layout::Base, tmp.path())?;
    let script = crate::home::script("policies/train/export_lerobot.py")?;
    let py = python()?;
    let out = Command::new(&py)
        .arg(&script)
        .arg(tmp.path())
        .arg(&a.out)
        .arg("--fps")
        .arg(a.fps.to_string())
        .arg("--robot-type")
        .arg(&a.robot_type)
        .output()
        .with_context(|| format!("cannot run {}", py.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "the LeRobot export failed ({}): {}\n(pyarrow and pandas come with scripts/setup.sh)",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let v: serde_json::Value = serde_json::from_str(line.lines().last().unwrap_or_default())
        .with_context(|| format!("unexpected output from the exporter: {line}"))?;
    eprintln!(
        "LeRobot v3.0 dataset: {} episodes, {} frames, {} tasks -> {}",
        v["episodes"],
        v["frames"],
        v["tasks"],
        a.out.display()
    );
    if a.json {
        println!("{v}");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct TrainArgs {
    /// Folder of recorded episodes (`embody record --out`), searched with its subfolders: one
    /// subfolder per scene family or DAgger round trains one policy on all of them.
    pub logs: PathBuf,
    /// Model path without extension: writes OUT.onnx, OUT.json, OUT.loss.png, OUT.train.json.
    #[arg(long)]
    pub out: PathBuf,
    /// The frame of the features (see `embody dataset --layout`).
    #[arg(long, default_value = "skill")]
    pub layout: Layout,
    /// Optimizer steps.
    #[arg(long, default_value_t = 20000)]
    pub steps: u64,
    /// U-Net widths.
    #[arg(long, default_value = "64,128,256")]
    pub down_dims: String,
    #[arg(long, default_value_t = 256)]
    pub batch: u64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Stop after this many minutes (0: run all steps).
    #[arg(long, default_value_t = 0.0)]
    pub max_minutes: f64,
    /// Continue the training in OUT.pt (written every `--checkpoint-minutes` and at the end) up
    /// to `--steps`: a run stopped by `--max-minutes`, a logout or a kill goes on from there.
    #[arg(long)]
    pub resume: bool,
    /// Continue another run's checkpoint (a `.pt`) and write this run to OUT: a correction
    /// round goes on from the previous round's model and keeps it for comparison. Or start from
    /// an exported model (its `.json`, the ONNX file beside it: a shipped model, or one exported
    /// on another machine whose checkpoint is gone): its network, weights and normalization,
    /// with a fresh optimizer and learning-rate schedule over `--steps`.
    #[arg(long, value_name = "CHECKPOINT_OR_MODEL", conflicts_with = "resume")]
    pub from: Option<PathBuf>,
    /// Write the checkpoint OUT.pt this often during training (0: only at the end).
    #[arg(long, default_value_t = 10.0)]
    pub checkpoint_minutes: f64,
    /// PyTorch CPU threads per process (0: the cores shared out over --nproc). One leaves a
    /// core to the rest of the machine.
    #[arg(long, default_value_t = 0)]
    pub threads: u32,
    /// Training processes (DistributedDataParallel through torchrun: gloo on CPU, nccl with
    /// `--device cuda`, one GPU each). --batch stays the global batch.
    #[arg(long, default_value_t = 1)]
    pub nproc: u32,
    /// More options passed to train.py as they are (after `--`).
    #[arg(last = true)]
    pub extra: Vec<String>,
}

fn build_dataset(
    logs: &std::path::Path,
    layout: Layout,
    out: &std::path::Path,
) -> Result<dataset::DatasetSummary> {
    let files = dataset::logs_in(logs)?;
    if files.is_empty() {
        bail!(
            "{} holds no .mcap logs: record some with `embody record`",
            logs.display()
        );
    }
    let s = dataset::build(&files, layout, out)?;
    eprintln!(
        "dataset ({} frame): {} samples ({} of them expert corrections) in {} segments from {} episodes ({} failed ones left out) -> {}",
        layout.name(),
        s.samples,
        s.correction_samples,
        s.segments,
        s.episodes,
        s.skipped_failed,
        out.display()
    );
    Ok(s)
}

pub fn dataset(a: DatasetArgs) -> Result<ExitCode> {
    let out = a.out.unwrap_or_else(|| a.logs.join("dataset"));
    let s = build_dataset(&a.logs, a.layout, &out)?;
    if a.json {
        let mut v = serde_json::to_value(&s)?;
        v["out"] = out.display().to_string().into();
        if let Some(o) = v.as_object_mut() {
            o.remove("logs");
            o.remove("segment_skills");
        }
        println!("{v}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The checkpoint a training or distillation writing OUT keeps: OUT.pt.
fn checkpoint_of(out: &std::path::Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".pt");
    out.with_file_name(name)
}

pub fn train(a: TrainArgs) -> Result<ExitCode> {
    let checkpoint = checkpoint_of(&a.out);
    let start_from = match (&a.from, a.resume) {
        (Some(from), _) => Some(from.clone()),
        (None, true) => Some(checkpoint),
        (None, false) => None,
    };
    if let Some(c) = &start_from {
        if !c.is_file() {
            bail!(
                "there is no checkpoint or model {} to continue (a run writes OUT.pt every --checkpoint-minutes, and OUT.json at the end)",
                c.display()
            );
        }
    }
    let data = a.logs.join("dataset");
    build_dataset(&a.logs, a.layout, &data)?;
    let script = crate::home::script("policies/train/train.py")?;
    let py = python()?;
    if a.nproc == 0 {
        bail!("--nproc must be at least 1");
    }
    if !a.batch.is_multiple_of(u64::from(a.nproc)) {
        bail!(
            "--batch {} does not split evenly over --nproc {}",
            a.batch,
            a.nproc
        );
    }
    let threads = match (a.threads, a.nproc) {
        (0, 1) => 0,
        // Processes that each take every core only fight over them.
        (0, n) => (crate::cmd::common::threads_or_all(None) as u32 / n).max(1),
        (t, _) => t,
    };
    let mut cmd = Command::new(&py);
    if a.nproc > 1 {
        cmd.args(["-m", "torch.distributed.run", "--standalone"])
            .arg(format!("--nproc_per_node={}", a.nproc));
    }
    cmd.arg(&script)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&a.out)
        .args(["--steps", &a.steps.to_string()])
        .args(["--down-dims", &a.down_dims])
        .args(["--batch", &a.batch.to_string()])
        .args(["--seed", &a.seed.to_string()])
        .args(["--device", &a.device])
        .args(["--max-minutes", &a.max_minutes.to_string()])
        .args(["--checkpoint-minutes", &a.checkpoint_minutes.to_string()])
        .args(["--threads", &threads.to_string()])
        .arg("--command")
        .arg(std::env::args().collect::<Vec<_>>().join(" "))
        .args(&a.extra);
    // The script runs from the cache, outside any checkout: the commit is the one of the
    // repository the command runs in, marked when it has uncommitted changes.
    if let Some(commit) = repository_commit() {
        cmd.arg("--commit").arg(commit);
    }
    if let Some(c) = &start_from {
        let exported = c.extension().is_some_and(|e| e == "json");
        cmd.arg(if exported { "--init-model" } else { "--resume" })
            .arg(c);
    }
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {}", py.display()))?;
    if !status.success() {
        bail!("training failed ({status}); PyTorch comes with `scripts/setup.sh --train`");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct DistillArgs {
    /// The trained model to distill (its `.json`; the ONNX file beside it).
    pub teacher: PathBuf,
    /// Folder of recorded episodes whose observations the teacher is run on (searched with its
    /// subfolders; the teacher's own demonstrations are the natural choice).
    pub logs: PathBuf,
    /// Model path without extension: writes OUT.onnx, OUT.json (sampler `consistency`),
    /// OUT.loss.png, OUT.train.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Optimizer steps (the step to reach when resuming).
    #[arg(long, default_value_t = 8000)]
    pub steps: u64,
    /// Teacher trajectories (observation windows, each with its own noise) to distill from.
    #[arg(long, default_value_t = 40000)]
    pub pairs: u64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Stop after this many minutes (0: run all steps).
    #[arg(long, default_value_t = 0.0)]
    pub max_minutes: f64,
    /// Continue OUT.pt (and reuse the teacher trajectories in OUT.pairs.pt) up to `--steps`.
    #[arg(long)]
    pub resume: bool,
    /// PyTorch CPU threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: u32,
    /// More options passed to distill.py as they are (after `--`).
    #[arg(last = true)]
    pub extra: Vec<String>,
}

pub fn distill(a: DistillArgs) -> Result<ExitCode> {
    let (meta, _) = embody_policies::meta::ModelMeta::load(&a.teacher)
        .with_context(|| format!("cannot read the teacher {}", a.teacher.display()))?;
    let checkpoint = checkpoint_of(&a.out);
    if a.resume && !checkpoint.is_file() {
        bail!(
            "there is no checkpoint {} to continue (a run writes OUT.pt every 10 minutes)",
            checkpoint.display()
        );
    }
    // The teacher's own feature frame, so that its inputs are what it was trained on.
    let data = a.logs.join("dataset");
    build_dataset(&a.logs, meta.layout(), &data)?;
    let script = crate::home::script("policies/train/distill.py")?;
    let py = python()?;
    let mut cmd = Command::new(&py);
    cmd.arg(&script)
        .arg("--teacher")
        .arg(&a.teacher)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&a.out)
        .args(["--steps", &a.steps.to_string()])
        .args(["--pairs", &a.pairs.to_string()])
        .args(["--seed", &a.seed.to_string()])
        .args(["--device", &a.device])
        .args(["--max-minutes", &a.max_minutes.to_string()])
        .args(["--threads", &a.threads.to_string()])
        .arg("--command")
        .arg(std::env::args().collect::<Vec<_>>().join(" "))
        .args(&a.extra);
    if let Some(commit) = repository_commit() {
        cmd.arg("--commit").arg(commit);
    }
    if a.resume {
        cmd.arg("--resume").arg(&checkpoint);
    }
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {}", py.display()))?;
    if !status.success() {
        bail!("distillation failed ({status}); PyTorch comes with `scripts/setup.sh --train`");
    }
    Ok(ExitCode::SUCCESS)
}

/// `git rev-parse HEAD` of the current folder's repository, with "-dirty" when tracked files
/// differ from it; `None` outside a repository or without git.
fn repository_commit() -> Option<String> {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = run(&["rev-parse", "HEAD"]).filter(|h| !h.is_empty())?;
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}
