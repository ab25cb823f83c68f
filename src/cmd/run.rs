//! `embody run`: seeded episodes of a scenario, a results table and a JSON summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use embody_agent::{Pace, WatchdogConfig};
use embody_sim::camera::CameraSpec;
use embody_sim::contact_sheet::{self, SheetEntry};
use embody_sim::runner::{run_batch, EpisodeResult, LogTarget, RunOptions, Workers};

use super::common::{load_scenario, progress, threads_or_all};
use super::summary::{self, EpisodeRow};

#[derive(Args)]
pub struct RunArgs {
    /// Scenario files (TOML): one, or several scene families evaluated on the same seeds.
    #[arg(required = true, num_args = 1..)]
    pub scenarios: Vec<PathBuf>,
    /// Also run this policy (e.g. `scripted`, the expert) on the same seeds, and report each
    /// family's learned/baseline ratios.
    #[arg(long, value_name = "POLICY")]
    pub baseline: Option<String>,
    #[command(flatten)]
    pub batch: super::common::BatchArgs,
    #[command(flatten)]
    pub policy: super::common::PolicyArgs,
    /// Instruction (default: the scenario's).
    #[arg(long)]
    pub instruction: Option<String>,
    #[command(flatten)]
    pub planner: super::common::PlannerArgs,
    /// Print one JSON summary line last.
    #[arg(long)]
    pub json: bool,
    /// Record the run as MCAP: a file for one episode, a folder (one file per seed) for several.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Overwrite existing logs.
    #[arg(long)]
    pub force: bool,
    /// Write every episode's full result (plan, skill attempts, object outcomes) as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Run on the wall clock, as on a real robot: the control stage ticks in real time with
    /// its watchdog armed, and the tick jitter is reported. One episode at a time.
    #[arg(long)]
    pub realtime: bool,
    /// Control rate (Hz) instead of the scenario's; the physics step shrinks to fit if needed.
    #[arg(long, value_name = "HZ")]
    pub control_hz: Option<f64>,
    /// With --realtime: longest the policy may be late with its next chunk before the watchdog
    /// holds the arm (ms).
    #[arg(long, value_name = "MS", default_value_t = 200.0)]
    pub policy_deadline_ms: f64,
    /// A soak: keep running episodes (seeds from --seed on) until this much wall time has
    /// passed; the running episodes finish first. --episodes, if given, still bounds their
    /// number.
    #[arg(long, value_name = "S")]
    pub duration_s: Option<f64>,
    /// Write a PNG of the results: success per family (and the baseline's), failures by cause.
    #[arg(long, value_name = "PNG")]
    pub plot: Option<PathBuf>,
    /// Write a contact sheet: each episode's first and last camera image (the scenario's first
    /// camera, else one in front of the table), framed green (success) or red, with its seed.
    #[arg(long, value_name = "PNG")]
    pub contact_sheet: Option<PathBuf>,
    /// Longest one skill attempt may take before it is given up and retried (s, robot clock).
    #[arg(long, value_name = "S", default_value_t = RunOptions::default().skill_timeout_s)]
    pub skill_timeout_s: f64,
    /// Attempts per skill before its object is given up.
    #[arg(long, value_name = "N", default_value_t = RunOptions::default().max_attempts)]
    pub max_attempts: usize,
}

pub fn run(a: RunArgs) -> Result<ExitCode> {
    if !(a.skill_timeout_s.is_finite() && a.skill_timeout_s > 0.0) {
        anyhow::bail!(
            "--skill-timeout-s must be a positive number of seconds, got {}",
            a.skill_timeout_s
        );
    }
    if a.max_attempts == 0 {
        anyhow::bail!("--max-attempts must be at least 1");
    }
    if let Some(d) = a.duration_s {
        if !(d.is_finite() && d > 0.0) {
            anyhow::bail!("--duration-s must be a positive number of seconds, got {d}");
        }
        if a.batch.shard.is_some() {
            anyhow::bail!(
                "--duration-s and --shard do not go together: a shard is a fixed block of seeds"
            );
        }
    }
    if a.log.is_some() && (a.scenarios.len() > 1 || a.baseline.is_some()) {
        anyhow::bail!("--log records one scenario's run: drop --baseline or the other scenarios");
    }
    let mut families = Vec::new();
    for path in &a.scenarios {
        let runs = run_family(&a, path)?;
        families.push(runs);
    }
    let compared = families.len() > 1 || a.baseline.is_some();
    if !compared {
        let family = families.remove(0);
        if let Some(png) = &a.plot {
            super::plot::eval_png(png, std::slice::from_ref(&family.summary), &[])?;
            eprintln!("plot: {}", png.display());
        }
        if a.json {
            let mut line = family.summary;
            if let Some(info) = a.batch.shard_info(1) {
                line["shard"] = serde_json::to_value(info)?;
            }
            println!("{}", serde_json::to_string(&line)?);
        } else {
            print_line(&family.summary);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let summaries: Vec<serde_json::Value> = families.iter().map(|f| f.summary.clone()).collect();
    let baselines: Vec<serde_json::Value> =
        families.iter().filter_map(|f| f.baseline.clone()).collect();
    let mut out = summary::compared(a.baseline.as_deref(), &summaries, &baselines);
    print_families(&out);
    if let Some(png) = &a.plot {
        super::plot::eval_png(png, &summaries, &baselines)?;
        eprintln!("plot: {}", png.display());
    }
    if a.json {
        if let Some(info) = a.batch.shard_info(1) {
            out["shard"] = serde_json::to_value(info)?;
        }
        println!("{}", serde_json::to_string(&out)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The table of a run over several families or with a baseline.
pub fn print_families(out: &serde_json::Value) {
    let rows = out["families"].as_array().cloned().unwrap_or_default();
    println!();
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>9} {:>9}  failed episodes",
        "family", "success", "baseline", "ratio", "s/object", "ratio"
    );
    for r in &rows {
        let num = |k: &str| {
            r[k].as_f64()
                .map(|v| format!("{v:.3}"))
                .unwrap_or("-".into())
        };
        println!(
            "{:<28} {:>8} {:>8} {:>8} {:>9} {:>9}  {}",
            r["scenario"].as_str().unwrap_or_default(),
            num("success_rate"),
            num("baseline_success_rate"),
            num("success_ratio"),
            r["time_per_object_s"]
                .as_f64()
                .map(|v| format!("{v:.1}"))
                .unwrap_or("-".into()),
            num("time_per_object_ratio"),
            r["failed_episodes_by_kind"]
        );
    }
}

/// One scene family's run: the policy's summary and, with `--baseline`, the baseline's on the
/// same seeds.
struct FamilyRun {
    summary: serde_json::Value,
    baseline: Option<serde_json::Value>,
}

fn run_family(a: &RunArgs, path: &std::path::Path) -> Result<FamilyRun> {
    let mut scenario = load_scenario(path)?;
    if let Some(hz) = a.control_hz {
        scenario = std::sync::Arc::new(scenario.with_control_rate(hz)?);
    }
    let summary = run_policy(a, &scenario, &a.policy, false)?;
    let baseline = match &a.baseline {
        None => None,
        Some(spec) => {
            let mut args = a.policy.clone();
            args.policy = Some(spec.clone());
            Some(run_policy(a, &scenario, &args, true)?)
        }
    };
    Ok(FamilyRun { summary, baseline })
}

/// The seeds a run takes: a fixed list, or (a soak without --episodes) every seed from one on.
enum Seeds {
    List(Vec<u64>),
    From(u64),
}

impl Seeds {
    fn list(&self) -> &[u64] {
        match self {
            Seeds::List(l) => l,
            Seeds::From(_) => &[],
        }
    }

    /// Up to `n` seeds starting at the `skip`-th.
    fn take(&self, skip: usize, n: usize) -> Vec<u64> {
        match self {
            Seeds::List(l) => l.iter().skip(skip).take(n).copied().collect(),
            Seeds::From(first) => (0..n as u64)
                .filter_map(|k| first.checked_add(skip as u64 + k))
                .collect(),
        }
    }
}

pub fn print_line(summary: &serde_json::Value) {
    println!(
        "success {:.3}, objects cleared {:.3}, {:.0} steps/s wall, {:.1}x real time",
        summary["success_rate"].as_f64().unwrap_or(0.0),
        summary["objects_cleared_rate"].as_f64().unwrap_or(0.0),
        summary["sim_steps_per_s"].as_f64().unwrap_or(0.0),
        summary["realtime_factor"].as_f64().unwrap_or(0.0),
    );
}

/// Runs the seeds of one scenario with one policy; prints its table; the summary.
fn run_policy(
    a: &RunArgs,
    scenario: &std::sync::Arc<embody_sim::Scenario>,
    policy_args: &super::common::PolicyArgs,
    is_baseline: bool,
) -> Result<serde_json::Value> {
    let (policy, policies) = policy_args.resolve(Some(scenario))?;
    let (lo, hi) = scenario.tcp_workspace();
    let policies = policies.with_guidance_workspace(lo, hi);
    let policies = if a.realtime {
        policies.with_answer_within(std::time::Duration::from_secs_f64(
            a.policy_deadline_ms / 1e3 + 0.5,
        ))
    } else {
        policies
    };
    let planner = super::common::make_planner(&a.planner)?;
    // A soak (--duration-s) without --episodes has no last seed.
    let seeds = match (a.duration_s, a.batch.episodes) {
        (Some(_), None) => Seeds::From(a.batch.seed),
        _ => Seeds::List(a.batch.seeds(1)?),
    };
    // Real-time episodes side by side would only compete for the cores they are timed on.
    let threads = if a.realtime {
        a.batch.threads.unwrap_or(1)
    } else {
        threads_or_all(a.batch.threads)
    };
    // A soak's bar counts seconds, not episodes.
    let bar = progress(
        match (a.duration_s, &seeds) {
            (Some(d), _) => d.ceil() as u64,
            (None, Seeds::List(l)) => l.len() as u64,
            (None, Seeds::From(_)) => 0,
        },
        &format!("{} {} ({} threads)", scenario.name, policy, threads),
        a.batch.quiet,
    );
    let log = a.log.as_ref().map(|p| {
        if matches!(&seeds, Seeds::List(l) if l.len() == 1)
            && p.extension().is_some_and(|e| e == "mcap")
        {
            LogTarget::File(p.clone())
        } else {
            LogTarget::Dir(p.clone())
        }
    });
    let opts = RunOptions {
        instruction: a.instruction.clone(),
        log,
        overwrite_logs: a.force,
        policy_name: policy.clone(),
        pace: if a.realtime {
            Pace::WallClock(WatchdogConfig {
                policy_deadline_s: a.policy_deadline_ms / 1e3,
                ..WatchdogConfig::default()
            })
        } else {
            Pace::Lockstep
        },
        snapshots: a.contact_sheet.as_ref().map(|_| sheet_camera(scenario)),
        skill_timeout_s: a.skill_timeout_s,
        max_attempts: a.max_attempts,
        ..RunOptions::default()
    };
    let wall = Instant::now();
    let results = match a.duration_s {
        None => run_batch(
            scenario,
            seeds.list(),
            threads,
            |_| policies.make(),
            planner.as_ref(),
            &opts,
            |_| bar.inc(1),
        )?,
        Some(limit) => {
            // As many seeds at a time as there are threads, until the time is up, on the same
            // worker threads throughout.
            let workers = Workers::new(threads)?;
            let mut results = Vec::new();
            let mut next = 0usize;
            while wall.elapsed().as_secs_f64() < limit {
                let batch = seeds.take(next, threads);
                if batch.is_empty() {
                    break;
                }
                next += batch.len();
                results.extend(workers.run_batch(
                    scenario,
                    &batch,
                    |_| policies.make(),
                    planner.as_ref(),
                    &opts,
                    |_| bar.set_position((wall.elapsed().as_secs_f64() as u64).min(limit as u64)),
                )?);
            }
            results
        }
    };
    let wall_s = wall.elapsed().as_secs_f64();
    bar.finish_and_clear();

    if let Some(path) = &a.report {
        let path = per_family(path, a, &scenario.name, is_baseline);
        std::fs::write(&path, serde_json::to_string_pretty(&results)?)
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    if a.scenarios.len() > 1 || a.baseline.is_some() {
        println!("{} with {policy}:", scenario.name);
    }
    print_table(&results);
    for r in &results {
        if let Some(l) = &r.log {
            eprintln!(
                "log: {} ({} messages, {} bytes)",
                l.path.display(),
                l.messages,
                l.bytes
            );
        }
    }
    print_timing(&results);
    if let Some(stats) = policies.remote_stats() {
        eprintln!("policy server: {stats}");
    }
    if let Some(png) = &a.contact_sheet {
        let png = per_family(png, a, &scenario.name, is_baseline);
        let entries: Vec<SheetEntry> = results
            .iter()
            .filter_map(|r| {
                let (first, last) = r.snapshots.as_ref()?;
                Some(SheetEntry {
                    seed: r.seed,
                    success: r.success,
                    first: first.downsample(2),
                    last: last.downsample(2),
                })
            })
            .collect();
        contact_sheet::write(&png, &entries, 6)
            .with_context(|| format!("cannot write the contact sheet {}", png.display()))?;
        eprintln!("contact sheet: {}", png.display());
    }
    let rows: Vec<EpisodeRow> = results.iter().map(EpisodeRow::of).collect();
    Ok(summary::summarize(
        &scenario.name,
        &policy,
        &rows,
        &summary::WallClock { wall_s, threads },
    ))
}

/// `path` for a one-scenario run; with several families or a baseline, one file each:
/// `NAME.<scenario>[.baseline].EXT`.
fn per_family(path: &std::path::Path, a: &RunArgs, scenario: &str, is_baseline: bool) -> PathBuf {
    if a.scenarios.len() == 1 && a.baseline.is_none() {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let tag = if is_baseline { ".baseline" } else { "" };
    path.with_file_name(format!("{stem}.{scenario}{tag}{ext}"))
}

/// The scenario's first camera at 320x240, else one in front of the table.
fn sheet_camera(scenario: &embody_sim::Scenario) -> CameraSpec {
    let mut spec = scenario
        .cameras
        .first()
        .cloned()
        .unwrap_or_else(CameraSpec::front_of_table);
    // Keep the aspect ratio; thumbnails need no more.
    let scale = 320.0 / spec.width as f64;
    spec.width = 320;
    spec.height = ((spec.height as f64 * scale).round() as u32).max(2);
    spec
}

/// The control stage's wall-clock timing, for runs that had one.
fn print_timing(results: &[EpisodeResult]) {
    for r in results {
        if let Some(t) = &r.report.control_timing {
            println!(
                "seed {}: control at {:.0} Hz on the wall clock, tick start lateness p50 {:.0} us, \
                 p99 {:.0} us, max {:.0} us; {} of {} ticks over a period late; longest tick \
                 {:.0} us",
                r.seed,
                t.rate_hz,
                t.late_p50_us,
                t.late_p99_us,
                t.late_max_us,
                t.overruns,
                t.ticks,
                t.work_max_us
            );
        }
    }
}

fn print_table(results: &[EpisodeResult]) {
    println!(
        "{:>6}  {:>7}  {:>7}  {:>7}  {:<16}  notes",
        "seed", "success", "cleared", "sim s", "state hash"
    );
    for r in results {
        let notes: Vec<String> = r
            .objects
            .iter()
            .filter_map(|o| o.failure.as_ref().map(|why| format!("{}: {why}", o.id)))
            .chain(r.report.plan_error.as_ref().map(|f| f.to_string()))
            .chain(r.report.stopped.as_ref().map(|f| f.to_string()))
            .collect();
        println!(
            "{:>6}  {:>7}  {:>3}/{:<3}  {:>7.1}  {:<16}  {}",
            r.seed,
            if r.success { "yes" } else { "no" },
            r.objects_cleared,
            r.objects_total,
            r.sim_time_s,
            r.state_hash,
            notes.join("; ")
        );
    }
}
