//! `embody run`: seeded episodes of a scenario, a results table and a JSON summary.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use embody_agent::{Pace, WatchdogConfig};
use embody_sim::camera::CameraSpec;
use embody_sim::contact_sheet::{self, SheetEntry};
use embody_sim::runner::{run_batch, EpisodeResult, LogTarget, RunOptions};
use serde_json::json;

use super::common::{load_scenario, progress, threads_or_all};

#[derive(Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Number of episodes; seeds are seed, seed+1, ...
    #[arg(long, default_value_t = 1)]
    pub episodes: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub policy: super::common::PolicyArgs,
    /// Instruction (default: the scenario's).
    #[arg(long)]
    pub instruction: Option<String>,
    #[command(flatten)]
    pub planner: super::common::PlannerArgs,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
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
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
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
    /// Write a PNG of the results: success, objects cleared, failures by cause
    /// (scripts/plot_eval.py, matplotlib from scripts/setup.sh).
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
    let mut scenario = load_scenario(&a.scenario)?;
    if let Some(hz) = a.control_hz {
        scenario = std::sync::Arc::new(scenario.with_control_rate(hz)?);
    }
    let (policy, policies) = a.policy.resolve(Some(&scenario))?;
    let planner = super::common::make_planner(&a.planner)?;
    let seeds: Vec<u64> = (a.seed..a.seed + a.episodes).collect();
    // Real-time episodes side by side would only compete for the cores they are timed on.
    let threads = if a.realtime {
        a.threads.unwrap_or(1)
    } else {
        threads_or_all(a.threads)
    };
    let bar = progress(
        seeds.len() as u64,
        &format!("{} ({} threads)", scenario.name, threads),
        a.quiet,
    );
    let log = a.log.as_ref().map(|p| {
        if a.episodes == 1 && p.extension().is_some_and(|e| e == "mcap") {
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
        snapshots: a.contact_sheet.as_ref().map(|_| sheet_camera(&scenario)),
        skill_timeout_s: a.skill_timeout_s,
        max_attempts: a.max_attempts,
        ..RunOptions::default()
    };
    let wall = Instant::now();
    let results = run_batch(
        &scenario,
        &seeds,
        threads,
        || policies.make(),
        planner.as_ref(),
        &opts,
        |_| bar.inc(1),
    )?;
    let wall_s = wall.elapsed().as_secs_f64();
    bar.finish_and_clear();

    if let Some(path) = &a.report {
        std::fs::write(path, serde_json::to_string_pretty(&results)?)
            .with_context(|| format!("cannot write report {}", path.display()))?;
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
    let summary = summarize(&scenario.name, &policy, &results, wall_s, threads);
    if let Some(png) = &a.plot {
        plot(&summary, png)?;
        eprintln!("plot: {}", png.display());
    }
    if let Some(png) = &a.contact_sheet {
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
        contact_sheet::write(png, &entries, 6)
            .with_context(|| format!("cannot write the contact sheet {}", png.display()))?;
        eprintln!("contact sheet: {}", png.display());
    }
    if a.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!(
            "success {:.3}, objects cleared {:.3}, {:.0} steps/s wall, {:.1}x real time",
            summary["success_rate"].as_f64().unwrap_or(0.0),
            summary["objects_cleared_rate"].as_f64().unwrap_or(0.0),
            summary["sim_steps_per_s"].as_f64().unwrap_or(0.0),
            summary["realtime_factor"].as_f64().unwrap_or(0.0),
        );
    }
    Ok(ExitCode::SUCCESS)
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

fn plot(summary: &serde_json::Value, png: &std::path::Path) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("summary.json");
    std::fs::write(&json, serde_json::to_string(summary)?)?;
    let py = super::common::python()?;
    let script = super::bench::repo_file("scripts/plot_eval.py")?;
    let out = std::process::Command::new(&py)
        .arg(&script)
        .arg(&json)
        .arg(png)
        .output()
        .with_context(|| format!("cannot run {}", py.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "plotting failed ({}): {}\nmatplotlib comes with scripts/setup.sh",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
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
            .filter_map(|o| o.reason.as_ref().map(|why| format!("{}: {why}", o.id)))
            .chain(r.report.plan_error.clone())
            .chain(r.report.stopped.clone())
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

/// The kind of a failure reason, for breakdowns.
pub fn failure_kind(reason: &str) -> &'static str {
    let r = reason.to_lowercase();
    if r.contains("safety stop") {
        "safety_stop"
    } else if r.contains("watchdog") {
        "watchdog"
    } else if r.starts_with("robot:") || r.starts_with("stalled:") {
        "robot_error"
    } else if r.contains("missed grasp") {
        "missed_grasp"
    } else if r.contains("dropped") {
        "drop"
    } else if r.contains("timed out") || r.contains("time limit") {
        "timeout"
    } else if r.contains("still in the gripper") {
        "not_released"
    } else if r.contains("still on the table") {
        // No attempt failed, yet the object stayed: its skills were given up or never reached.
        "left_on_table"
    } else if r.contains("fell") {
        "fell_off_table"
    } else if r.contains("no longer seen") || r.contains("does not see") {
        "lost_object"
    } else if r.contains("plan") {
        "plan"
    } else {
        "other"
    }
}

pub fn summarize(
    scenario: &str,
    policy: &str,
    results: &[EpisodeResult],
    wall_s: f64,
    threads: usize,
) -> serde_json::Value {
    let n = results.len().max(1) as f64;
    let successes = results.iter().filter(|r| r.success).count();
    let cleared: usize = results.iter().map(|r| r.objects_cleared).sum();
    let total: usize = results.iter().map(|r| r.objects_total).sum();
    let sim_s: f64 = results.iter().map(|r| r.sim_time_s).sum();
    let steps: u64 = results.iter().map(|r| r.sim_steps).sum();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for r in results {
        for o in &r.objects {
            if let Some(why) = &o.reason {
                *failures.entry(why.clone()).or_default() += 1;
            }
        }
        if let Some(e) = &r.report.plan_error {
            *failures.entry(format!("plan: {e}")).or_default() += 1;
        }
    }
    let mut attempts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut episode_failures: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        for k in &r.report.skills {
            if let Some(why) = &k.reason {
                *attempts.entry(failure_kind(why)).or_default() += 1;
            }
        }
        if !r.success {
            // The episode's failure is its stop, or else its last failed attempt.
            let why = r
                .report
                .stopped
                .clone()
                .or_else(|| r.report.plan_error.clone())
                .or_else(|| r.report.skills.iter().rev().find_map(|k| k.reason.clone()))
                .or_else(|| r.objects.iter().find_map(|o| o.reason.clone()));
            *episode_failures
                .entry(why.as_deref().map(failure_kind).unwrap_or("other"))
                .or_default() += 1;
        }
    }
    let per_object: Vec<f64> = results
        .iter()
        .filter(|r| r.success && r.objects_cleared > 0)
        .map(|r| r.sim_time_s / r.objects_cleared as f64)
        .collect();
    let time_per_object = if per_object.is_empty() {
        None
    } else {
        Some(per_object.iter().sum::<f64>() / per_object.len() as f64)
    };
    json!({
        "scenario": scenario,
        "policy": policy,
        "episodes": results.len(),
        "success_rate": successes as f64 / n,
        "objects_cleared_rate": if total > 0 { cleared as f64 / total as f64 } else { 0.0 },
        "mean_episode_sim_s": sim_s / n,
        "sim_steps_per_s": steps as f64 / wall_s.max(1e-9),
        "realtime_factor": sim_s / wall_s.max(1e-9),
        "threads": threads,
        "wall_s": wall_s,
        "failures": failures,
        "failed_attempts_by_kind": attempts,
        "failed_episodes_by_kind": episode_failures,
        "time_per_object_s": time_per_object,
        "state_hash": results.iter().map(|r| json!({"seed": r.seed, "state_hash": r.state_hash})).collect::<Vec<_>>(),
        "control_timing": results.iter().filter_map(|r| r.report.control_timing.as_ref().map(|t| json!({"seed": r.seed, "timing": t}))).collect::<Vec<_>>(),
    })
}
