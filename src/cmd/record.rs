//! `embody record`: scripted-expert demonstrations, one MCAP per seeded episode, and an index;
//! with a learned `--policy`, its runs with the expert's corrections (DAgger-style rounds).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use embody_agent::{EmbeddedPlanner, Policy};
use embody_policies::{ExpertConfig, ExpertTakeover, ScriptedExpert};
use embody_sim::runner::{run_batch, LogTarget, RunOptions};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::{load_scenario, progress, threads_or_all, PolicyArgs, PolicyFactory};

#[derive(Args)]
pub struct RecordArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    #[command(flatten)]
    pub batch: super::common::BatchArgs,
    /// Output folder: one MCAP per episode and index.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Here the policy defaults to the scripted expert (demonstrations). A learned policy
    /// (`--policy diffusion:MODEL`) records a correction round: it drives, the expert takes
    /// over (see --takeover), and training uses the expert's chunks from the states reached.
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// With a learned --policy: the probability, before each of its chunks, that the scripted
    /// expert takes over for the rest of the skill. 0.2 lets it drive ~4 chunks (~3 s) on
    /// average before a correction.
    #[arg(long, default_value_t = 0.2)]
    pub takeover: f64,
    /// Overwrite existing logs in the folder.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON line last.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: RecordArgs) -> Result<ExitCode> {
    let scenario = load_scenario(&a.scenario)?;
    let spec = a.policy.policy.clone().unwrap_or_else(|| "scripted".into());
    let policies = PolicyFactory::new(&a.policy, &spec)?;
    let learned = !matches!(policies, PolicyFactory::Scripted);
    if !(0.0..=1.0).contains(&a.takeover) {
        anyhow::bail!("--takeover {} is not a probability in [0, 1]", a.takeover);
    }
    let make = |seed: u64| -> Result<Box<dyn Policy>, embody_agent::PolicyError> {
        let p = policies.make()?;
        if !learned {
            return Ok(p);
        }
        Ok(Box::new(ExpertTakeover::new(
            p,
            ScriptedExpert::new(ExpertConfig::default()),
            a.takeover,
            seed,
        )))
    };
    let policy_name = if learned {
        format!("{spec} with expert takeover {}", a.takeover)
    } else {
        spec.clone()
    };
    let threads = threads_or_all(a.batch.threads);
    let seeds = a.batch.seeds(10)?;
    let shard = a.batch.shard_info(10);
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    // Shards of one recording share the folder; each writes its own index and `embody merge`
    // joins them into index.json.
    let index_path = a.out.join(match &shard {
        Some(s) => format!("index.{}.json", s.shard().tag()),
        None => "index.json".into(),
    });
    if index_path.exists() && !a.force {
        anyhow::bail!(
            "{} already exists; pass --force to overwrite the recording",
            index_path.display()
        );
    }
    let opts = RunOptions {
        log: Some(LogTarget::Dir(a.out.clone())),
        overwrite_logs: a.force,
        policy_name: policy_name.clone(),
        ..RunOptions::default()
    };
    let bar = progress(
        seeds.len() as u64,
        &format!("recording {} ({threads} threads)", scenario.name),
        a.batch.quiet,
    );
    let wall = Instant::now();
    let results = run_batch(
        &scenario,
        &seeds,
        threads,
        make,
        &EmbeddedPlanner::default(),
        &opts,
        |_| bar.inc(1),
    )?;
    let wall_s = wall.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let core_s: f64 = results.iter().map(|r| r.wall_s).sum();
    let episodes: Vec<IndexEpisode> = results.iter().map(IndexEpisode::of).collect();
    let head = json!({
        "scenario": scenario.source.display().to_string(),
        "scenario_name": scenario.name,
        "policy": policy_name,
        "takeover": learned.then_some(a.takeover),
        "build": embody_sim::build_info(),
    });
    let mut index = index_json(&head, &episodes, wall_s, threads, core_s);
    if let Some(info) = &shard {
        index["shard"] = serde_json::to_value(info)?;
    }
    std::fs::write(&index_path, serde_json::to_string_pretty(&index)?)
        .with_context(|| format!("cannot write {}", index_path.display()))?;
    println!(
        "recorded {} episodes ({} successful) into {} in {:.1} s: {:.0} episodes per core-hour, {:.0} kB per episode-minute",
        results.len(),
        index["successes"],
        a.out.display(),
        wall_s,
        index["episodes_per_core_hour"].as_f64().unwrap_or(0.0),
        index["bytes_per_episode_minute"].as_f64().unwrap_or(0.0) / 1e3
    );
    if a.json {
        let mut line = index.clone();
        line.as_object_mut().map(|o| o.remove("episodes"));
        println!("{}", serde_json::to_string(&line)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// One episode in a recording's index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexEpisode {
    pub seed: u64,
    pub file: Option<String>,
    pub success: bool,
    pub objects_cleared: usize,
    pub objects_total: usize,
    pub sim_time_s: f64,
    pub bytes: Option<u64>,
    pub messages: Option<u64>,
    pub state_hash: String,
}

impl IndexEpisode {
    fn of(r: &embody_sim::runner::EpisodeResult) -> Self {
        IndexEpisode {
            seed: r.seed,
            file: r
                .log
                .as_ref()
                .and_then(|l| l.path.file_name())
                .map(|f| f.to_string_lossy().to_string()),
            success: r.success,
            objects_cleared: r.objects_cleared,
            objects_total: r.objects_total,
            sim_time_s: r.sim_time_s,
            bytes: r.log.as_ref().map(|l| l.bytes),
            messages: r.log.as_ref().map(|l| l.messages),
            state_hash: r.state_hash.clone(),
        }
    }
}

/// A recording's index.json: `head` (scenario, policy, build) and figures computed from the
/// episodes (in seed order) alone, so `embody merge` rebuilds the unsharded index from shards.
/// `wall_s`, `threads`, `core_s` and `episodes_per_core_hour` are the wall-clock side.
pub fn index_json(
    head: &serde_json::Value,
    episodes: &[IndexEpisode],
    wall_s: f64,
    threads: usize,
    core_s: f64,
) -> serde_json::Value {
    let total_bytes: u64 = episodes.iter().filter_map(|e| e.bytes).sum();
    let sim_s: f64 = episodes.iter().map(|e| e.sim_time_s).sum();
    let mut index = head.clone();
    let fields = json!({
        "episodes": episodes,
        "successes": episodes.iter().filter(|e| e.success).count(),
        "total_bytes": total_bytes,
        "bytes_per_episode_minute": if sim_s > 0.0 { total_bytes as f64 / (sim_s / 60.0) } else { 0.0 },
        "wall_s": wall_s,
        "threads": threads,
        "core_s": core_s,
        "episodes_per_core_hour": if core_s > 0.0 { episodes.len() as f64 * 3600.0 / core_s } else { 0.0 },
    });
    if let (Some(o), Some(f)) = (index.as_object_mut(), fields.as_object()) {
        o.extend(f.clone());
    }
    index
}
