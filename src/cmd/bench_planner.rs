//! `embody bench planner`: how long the embedded planner takes per request, on one thread.
//!
//! The requests are the planner suite (`tests/data/planner_requests.toml`, shipped in the
//! binary), each planned in its own seeded scene, so refusals, long requests and the largest
//! scenes are all in the figures. The reference is the budget the planner must keep: 50 ms per
//! request on one core.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use embody_agent::{EmbeddedPlanner, Instruction, Planner};
use embody_sim::runner::initial_scene;
use serde::Deserialize;
use serde_json::json;

use super::common::load_scenario;

const SUITE: &str = include_str!("../../tests/data/planner_requests.toml");
const BUDGET_MS: f64 = 50.0;

#[derive(Args)]
pub struct PlannerBench {
    /// Folder with the suite's scenario files.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Times each request is planned (the median counts).
    #[arg(long, default_value_t = 20)]
    pub repeats: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Deserialize)]
struct Suite {
    request: Vec<Request>,
}

#[derive(Deserialize)]
struct Request {
    scenario: String,
    seed: u64,
    text: String,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn bench_planner(b: PlannerBench) -> Result<ExitCode> {
    if b.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    let suite: Suite = toml::from_str(SUITE).context("the shipped planner suite")?;
    let planner = EmbeddedPlanner::default();
    let mut scenes = HashMap::new();
    let mut medians_ms = Vec::new();
    let mut slowest = (0.0, String::new());
    for r in &suite.request {
        let key = (r.scenario.clone(), r.seed);
        if !scenes.contains_key(&key) {
            let scenario = load_scenario(&b.scenarios.join(&r.scenario))?;
            scenes.insert(key.clone(), initial_scene(&scenario, r.seed)?);
        }
        let scene = &scenes[&key];
        let instruction = Instruction::new(r.text.as_str());
        // The planner's warnings (talk it skipped, words it did not check) would be printed
        // once per run of every such request; they are not what is timed.
        let quiet = tracing::subscriber::NoSubscriber::default();
        let mut times: Vec<f64> = tracing::subscriber::with_default(quiet, || {
            (0..b.repeats)
                .map(|_| {
                    let t = Instant::now();
                    let _ = std::hint::black_box(planner.plan(&instruction, scene, None));
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect()
        });
        times.sort_by(f64::total_cmp);
        let median = percentile(&times, 0.5);
        if median > slowest.0 {
            slowest = (median, r.text.clone());
        }
        medians_ms.push(median);
    }
    medians_ms.sort_by(f64::total_cmp);
    let p50 = percentile(&medians_ms, 0.5);
    let p99 = percentile(&medians_ms, 0.99);
    let max = slowest.0;
    println!(
        "embedded planner, one thread, {} requests of the planner suite (median of {} runs each):",
        medians_ms.len(),
        b.repeats
    );
    println!(
        "  per request: p50 {p50:.3} ms  p99 {p99:.3} ms  max {max:.3} ms ({:?})",
        slowest.1
    );
    println!(
        "  against the {BUDGET_MS} ms budget: p99 is {:.4}x, the slowest {:.4}x",
        p99 / BUDGET_MS,
        max / BUDGET_MS
    );
    if b.json {
        println!(
            "{}",
            json!({"bench": "planner", "requests": medians_ms.len(), "repeats": b.repeats,
                   "p50_ms": p50, "p99_ms": p99, "max_ms": max, "slowest": slowest.1,
                   "budget_ms": BUDGET_MS, "p99_over_budget": p99 / BUDGET_MS})
        );
    }
    Ok(if max <= BUDGET_MS {
        ExitCode::SUCCESS
    } else {
        eprintln!("the slowest request took {max:.1} ms, over the {BUDGET_MS} ms budget");
        ExitCode::from(1)
    })
}
