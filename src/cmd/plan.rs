//! `embody plan`: what the planner would do with an instruction in a seeded scene; no motion.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use embody_agent::Instruction;
use embody_sim::runner::initial_scene;
use serde_json::json;

use super::common::load_scenario;

#[derive(Args)]
pub struct PlanArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Instruction (default: the scenario's).
    #[arg(long)]
    pub instruction: Option<String>,
    #[command(flatten)]
    pub planner: super::common::PlannerArgs,
    /// Print one JSON line last.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: PlanArgs) -> Result<ExitCode> {
    let scenario = load_scenario(&a.scenario)?;
    let scene = initial_scene(&scenario, a.seed)?;
    let instruction = Instruction::new(
        a.instruction
            .clone()
            .unwrap_or_else(|| scenario.instruction.clone()),
    );
    println!("scene (seed {}, simulated perception):", a.seed);
    for o in &scene.objects {
        let p = o.pose_in_base.translation.vector;
        println!(
            "  {:<14} {:<6} {:<7} at ({:+.3}, {:+.3}, {:+.3}) m",
            o.id, o.class, o.color, p.x, p.y, p.z
        );
    }
    for c in &scene.containers {
        println!("  {:<14} {:<6} (container)", c.id, c.class);
    }
    let result = super::common::make_planner(&a.planner)?.plan(&instruction, &scene, None);
    let (code, value) = match &result {
        Ok(plan) => {
            println!("plan for {:?}:", instruction.text);
            for (i, s) in plan.steps.iter().enumerate() {
                println!("  {}. {s}", i + 1);
            }
            for c in &plan.constraints {
                println!("  throughout: {c}");
            }
            (
                ExitCode::SUCCESS,
                json!({"instruction": instruction.text, "seed": a.seed, "plan": plan.steps,
                       "constraints": plan.constraints}),
            )
        }
        Err(e) => {
            // The kind ("unsafe", "not_understood", ...) is what a caller acts on.
            let kind = e.refusal_kind().map(|k| k.as_str());
            match kind {
                Some(k) => println!("refused ({k}): {e}"),
                None => println!("refused: {e}"),
            }
            (
                ExitCode::from(1),
                json!({"instruction": instruction.text, "seed": a.seed, "refused": e.to_string(),
                       "refusal_kind": kind}),
            )
        }
    };
    if a.json {
        println!("{value}");
    }
    Ok(code)
}
