//! `embody replay`: what a log holds, and whether it re-simulates bit-exactly.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use embody_agent::log::{read_log, OutcomeRecord, OUTCOME_TOPIC, PLAN_TOPIC};
use embody_sim::replay::{scenario_record, verify};
use serde_json::json;

#[derive(Args)]
pub struct ReplayArgs {
    /// The MCAP log.
    pub log: PathBuf,
    /// Re-simulate from the log and compare every recorded state bit for bit.
    #[arg(long)]
    pub verify: bool,
    /// Print what is in the log (the default when nothing else is asked).
    #[arg(long)]
    pub summary: bool,
    /// Print one JSON line last.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub to_ros: super::replay_ros::ToRosArgs,
}

pub fn run(a: ReplayArgs) -> Result<ExitCode> {
    let log = read_log(&a.log)?;
    if let Some(lost) = &log.lost {
        eprintln!(
            "warning: {}: the log is damaged; using what could be read: {lost}",
            log.path
        );
    }
    let mut out = serde_json::Map::new();
    out.insert("log".into(), json!(log.path));
    out.insert("complete".into(), json!(log.complete()));
    out.insert("lost".into(), json!(log.lost));
    let mut code = ExitCode::SUCCESS;
    if a.to_ros.to_ros {
        if a.verify || a.summary {
            anyhow::bail!(
                "--to-ros sends the log to a robot: run --verify or --summary on their own"
            );
        }
        let ok = super::replay_ros::run(&log, &a.to_ros, a.json)?;
        return Ok(if ok { code } else { ExitCode::from(1) });
    }

    if a.summary || !a.verify {
        let s = summary(&log)?;
        print_summary(&s);
        out.insert("summary".into(), s);
    }
    if a.verify {
        let report = verify(&log, &embody_sim::replay::names_of(&log)?)?;
        if let Some((recorded, now)) = &report.other_commit {
            let show = |c: &Option<String>| c.clone().unwrap_or_else(|| "unknown".into());
            eprintln!(
                "note: recorded by commit {}, replayed by {} (same physics; a divergence may \
                 come from the code between them)",
                show(recorded),
                show(now)
            );
        }
        if report.bit_exact {
            println!(
                "bit-exact: {} commands re-applied, {} states ({} values) and the final state hash match",
                report.commands_applied, report.states_compared, report.values_compared
            );
        } else if let Some(d) = &report.divergence {
            println!(
                "DIVERGED at t = {:.4} s on {}: {} {} recorded {} replayed {} (error {:.3e})",
                d.t, d.channel, d.item, d.field, d.recorded, d.replayed, d.error
            );
            code = ExitCode::from(1);
        }
        out.insert("verify".into(), serde_json::to_value(&report)?);
    }
    if a.json {
        println!("{}", serde_json::Value::Object(out));
    }
    Ok(code)
}

fn summary(log: &embody_agent::log::RecoveredLog) -> Result<serde_json::Value> {
    let mut channels: BTreeMap<String, (String, String, usize, u64)> = BTreeMap::new();
    for m in &log.messages {
        let e = channels.entry(m.topic.clone()).or_insert((
            m.schema_name.clone(),
            m.encoding.clone(),
            0,
            0,
        ));
        e.2 += 1;
        e.3 += m.data.len() as u64;
    }
    let start = log
        .messages
        .iter()
        .map(|m| m.log_time_ns)
        .min()
        .unwrap_or(0);
    let end = log
        .messages
        .iter()
        .map(|m| m.log_time_ns)
        .max()
        .unwrap_or(0);
    let scenario = scenario_record(log).ok();
    let plan: Option<serde_json::Value> = log
        .on(PLAN_TOPIC)
        .next()
        .and_then(|m| serde_json::from_slice(&m.data).ok());
    let outcome: Option<OutcomeRecord> = log
        .on(OUTCOME_TOPIC)
        .last()
        .map(|m| serde_json::from_slice(&m.data))
        .transpose()
        .with_context(|| format!("{}: malformed /embody/outcome record", log.path))?;
    Ok(json!({
        "file_bytes": log.file_bytes,
        "duration_s": (end - start) as f64 * 1e-9,
        "messages": log.messages.len(),
        "channels": channels.iter().map(|(t, (s, e, n, b))| json!({"topic": t, "schema": s, "encoding": e, "messages": n, "bytes": b})).collect::<Vec<_>>(),
        "scenario": scenario.as_ref().map(|s| json!({"path": s.scenario_path, "seed": s.seed, "instruction": s.instruction, "policy": s.policy, "build": s.build})),
        "plan": plan,
        "outcome": outcome,
    }))
}

fn print_summary(s: &serde_json::Value) {
    println!(
        "{} messages over {:.2} s, {} bytes",
        s["messages"],
        s["duration_s"].as_f64().unwrap_or(0.0),
        s["file_bytes"]
    );
    if let Some(sc) = s["scenario"].as_object() {
        println!(
            "scenario {} seed {} policy {} instruction {:?}",
            sc["path"].as_str().unwrap_or("?"),
            sc["seed"],
            sc["policy"].as_str().unwrap_or("?"),
            sc["instruction"].as_str().unwrap_or("")
        );
    } else {
        println!("no /embody/scenario record: not replayable");
    }
    println!(
        "{:<40} {:<38} {:>8} {:>10}",
        "channel", "schema", "messages", "bytes"
    );
    for c in s["channels"].as_array().into_iter().flatten() {
        println!(
            "{:<40} {:<38} {:>8} {:>10}",
            c["topic"].as_str().unwrap_or(""),
            c["schema"].as_str().unwrap_or(""),
            c["messages"],
            c["bytes"]
        );
    }
    if let Some(steps) = s["plan"]["steps"].as_array() {
        let text: Vec<String> = steps
            .iter()
            .map(|st| {
                format!(
                    "{} {}",
                    st["skill"].as_str().unwrap_or("?"),
                    st["object"].as_str().unwrap_or("?")
                )
            })
            .collect();
        println!("plan: {}", text.join(", "));
    }
    if let Some(o) = s["outcome"].as_object() {
        println!(
            "outcome: success {}, {}/{} objects cleared, {:.1} s simulated, state hash {}",
            o["success"],
            o["objects_cleared"],
            o["objects_total"],
            o["sim_time_s"].as_f64().unwrap_or(0.0),
            o["state_hash"].as_str().unwrap_or("?")
        );
    } else {
        println!("outcome: none recorded (a run on a robot, or one that did not finish)");
    }
}
