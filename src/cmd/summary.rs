//! What `run`/`eval` print as JSON: each episode as a row, and the aggregates computed from the
//! rows alone. `embody merge` recomputes the aggregates from the rows of every shard with the
//! same function, which is why a merged run equals the unsharded one.

use std::collections::BTreeMap;

use embody_agent::{ControlTiming, FailureKind};
use embody_sim::clearance::Clearance;
use embody_sim::runner::EpisodeResult;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One episode, as much of it as the aggregates need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRow {
    pub seed: u64,
    pub success: bool,
    pub objects_cleared: usize,
    pub objects_total: usize,
    pub sim_time_s: f64,
    pub sim_steps: u64,
    pub state_hash: String,
    /// What the episode failed of (see [`episode_failure`]); none for a success.
    pub failure: Option<FailureKind>,
    /// Why each object that was not cleared was not, and the plan error.
    pub failure_details: Vec<String>,
    /// The failure kind of each failed skill attempt, in order.
    pub failed_attempts: Vec<FailureKind>,
    /// With --realtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_timing: Option<ControlTiming>,
    /// The TCP target's jump at each chunk hand-over within a skill attempt (m).
    #[serde(default)]
    pub boundary_jumps_m: Vec<f64>,
    /// Squared jerk of the commanded TCP target summed over its samples, and their count.
    #[serde(default)]
    pub jerk_sq_sum: f64,
    #[serde(default)]
    pub jerk_samples: u64,
    /// Objects disturbed during skills about other objects.
    #[serde(default)]
    pub disturbed_objects: usize,
    /// Commands and chunks the safety filter changed without stopping.
    #[serde(default)]
    pub safety_interventions: u64,
    /// The plan's keep-away constraints, measured (the hand's closest approach to each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_away: Vec<Clearance>,
    /// Whether the policy steered by them (`false`: measured only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints_steered: Option<bool>,
}

impl EpisodeRow {
    pub fn of(r: &EpisodeResult) -> Self {
        EpisodeRow {
            seed: r.seed,
            success: r.success,
            objects_cleared: r.objects_cleared,
            objects_total: r.objects_total,
            sim_time_s: r.sim_time_s,
            sim_steps: r.sim_steps,
            state_hash: r.state_hash.clone(),
            failure: episode_failure(r),
            failure_details: r
                .objects
                .iter()
                .filter_map(|o| o.failure.as_ref().map(|f| f.detail.clone()))
                .chain(r.report.plan_error.as_ref().map(|e| e.detail.clone()))
                .collect(),
            failed_attempts: r
                .report
                .skills
                .iter()
                .filter_map(|k| k.failure.as_ref().map(|f| f.kind))
                .collect(),
            control_timing: r.report.control_timing.clone(),
            boundary_jumps_m: r.report.smoothness.boundary_jumps_m.clone(),
            jerk_sq_sum: r.report.smoothness.jerk_sq_sum,
            jerk_samples: r.report.smoothness.jerk_samples,
            disturbed_objects: r.disturbed_objects.len(),
            safety_interventions: r.report.safety_interventions,
            keep_away: r.keep_away.clone(),
            constraints_steered: r.report.constraints_steered,
        }
    }
}

/// What a failed episode failed of: its stop, or else its plan error, its last failed attempt,
/// or the first object not where the goal wants it. `None` for a success.
pub fn episode_failure(r: &EpisodeResult) -> Option<FailureKind> {
    if r.success {
        return None;
    }
    let report = &r.report;
    report
        .stopped
        .as_ref()
        .or(report.plan_error.as_ref())
        .or_else(|| report.skills.iter().rev().find_map(|k| k.failure.as_ref()))
        .or_else(|| r.objects.iter().find_map(|o| o.failure.as_ref()))
        .map(|f| f.kind)
        // Judged a failure with no object out of place and no error: only an empty plan (no
        // goal at all) gets here.
        .or(Some(FailureKind::PlanInvalid))
}

/// The wall-clock side of a run, which no two runs share: excluded when runs are compared.
pub struct WallClock {
    pub wall_s: f64,
    pub threads: usize,
}

/// The JSON summary of one policy on one scenario. `rows` in seed order. Keys that depend on the
/// wall clock: `wall_s`, `threads`, `sim_steps_per_s`, `realtime_factor`; a merge
/// gives the shards' summed `wall_s` (core time, not elapsed time) and `threads`.
pub fn summarize(
    scenario: &str,
    policy: &str,
    rows: &[EpisodeRow],
    clock: &WallClock,
) -> serde_json::Value {
    let n = rows.len().max(1) as f64;
    let successes = rows.iter().filter(|r| r.success).count();
    let cleared: usize = rows.iter().map(|r| r.objects_cleared).sum();
    let total: usize = rows.iter().map(|r| r.objects_total).sum();
    let sim_s: f64 = rows.iter().map(|r| r.sim_time_s).sum();
    let steps: u64 = rows.iter().map(|r| r.sim_steps).sum();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let mut attempts: BTreeMap<FailureKind, usize> = BTreeMap::new();
    let mut episode_failures: BTreeMap<FailureKind, usize> = BTreeMap::new();
    for r in rows {
        for why in &r.failure_details {
            *failures.entry(why.clone()).or_default() += 1;
        }
        for kind in &r.failed_attempts {
            *attempts.entry(*kind).or_default() += 1;
        }
        if let Some(kind) = r.failure {
            *episode_failures.entry(kind).or_default() += 1;
        }
    }
    let per_object: Vec<f64> = rows
        .iter()
        .filter(|r| r.success && r.objects_cleared > 0)
        .map(|r| r.sim_time_s / r.objects_cleared as f64)
        .collect();
    let time_per_object = if per_object.is_empty() {
        None
    } else {
        Some(per_object.iter().sum::<f64>() / per_object.len() as f64)
    };
    let wall_s = clock.wall_s.max(1e-9);
    let mut jumps: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.boundary_jumps_m.iter().copied())
        .collect();
    jumps.sort_by(f64::total_cmp);
    let boundary_jump = (!jumps.is_empty()).then(|| {
        // Nearest-rank percentile.
        let rank = ((0.95 * jumps.len() as f64).ceil() as usize).clamp(1, jumps.len());
        json!({
            "mean": jumps.iter().sum::<f64>() / jumps.len() as f64,
            "p95": jumps[rank - 1],
            "max": jumps[jumps.len() - 1],
            "handovers": jumps.len(),
        })
    });
    let jerk_samples: u64 = rows.iter().map(|r| r.jerk_samples).sum();
    let jerk_rms = (jerk_samples > 0)
        .then(|| (rows.iter().map(|r| r.jerk_sq_sum).sum::<f64>() / jerk_samples as f64).sqrt());
    json!({
        "scenario": scenario,
        "policy": policy,
        "episodes": rows.len(),
        "success_rate": successes as f64 / n,
        "objects_cleared_rate": if total > 0 { cleared as f64 / total as f64 } else { 0.0 },
        "mean_episode_sim_s": sim_s / n,
        "sim_steps_per_s": steps as f64 / wall_s,
        "realtime_factor": sim_s / wall_s,
        "threads": clock.threads,
        "wall_s": clock.wall_s,
        "failures": failures,
        "failed_attempts_by_kind": attempts,
        "failed_episodes_by_kind": episode_failures,
        "time_per_object_s": time_per_object,
        "boundary_jump_m": boundary_jump,
        "disturbed_objects_per_episode": rows.iter().map(|r| r.disturbed_objects).sum::<usize>() as f64 / n,
        "safety_interventions_per_episode": rows.iter().map(|r| r.safety_interventions).sum::<u64>() as f64 / n,
        "tcp_jerk_rms": jerk_rms,
        "keep_away": keep_away_summary(rows),
        "state_hash": rows.iter().map(|r| json!({"seed": r.seed, "state_hash": r.state_hash})).collect::<Vec<_>>(),
        "control_timing": rows.iter().filter_map(|r| r.control_timing.as_ref().map(|t| json!({"seed": r.seed, "timing": t}))).collect::<Vec<_>>(),
        "per_episode": rows,
    })
}

/// A family's row: the policy's figures, the baseline's, and their ratios.
pub fn compare(
    summary: &serde_json::Value,
    baseline: Option<&serde_json::Value>,
) -> serde_json::Value {
    let ratio = |k: &str| {
        let b = baseline?[k].as_f64()?;
        let v = summary[k].as_f64()?;
        (b > 0.0).then_some(v / b)
    };
    json!({
        "scenario": summary["scenario"],
        "episodes": summary["episodes"],
        "success_rate": summary["success_rate"],
        "objects_cleared_rate": summary["objects_cleared_rate"],
        "time_per_object_s": summary["time_per_object_s"],
        "failed_episodes_by_kind": summary["failed_episodes_by_kind"],
        "baseline_success_rate": baseline.map(|b| b["success_rate"].clone()),
        "baseline_objects_cleared_rate": baseline.map(|b| b["objects_cleared_rate"].clone()),
        "baseline_time_per_object_s": baseline.map(|b| b["time_per_object_s"].clone()),
        "success_ratio": ratio("success_rate"),
        "time_per_object_ratio": ratio("time_per_object_s"),
    })
}

/// The JSON of a run over several families or with a baseline.
pub fn compared(
    baseline: Option<&str>,
    summaries: &[serde_json::Value],
    baselines: &[serde_json::Value],
) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = summaries
        .iter()
        .enumerate()
        .map(|(i, s)| compare(s, baselines.get(i)))
        .collect();
    json!({
        "policy": summaries.first().map(|s| s["policy"].clone()),
        "baseline": baseline,
        "families": rows,
        "results": summaries,
        "baseline_results": baselines,
    })
}

/// Over the episodes whose plan had keep-away constraints: the share in which the hand kept
/// every margin, and the closest approaches (m). `null` when no plan had one.
fn keep_away_summary(rows: &[EpisodeRow]) -> serde_json::Value {
    let with: Vec<&EpisodeRow> = rows.iter().filter(|r| !r.keep_away.is_empty()).collect();
    if with.is_empty() {
        return serde_json::Value::Null;
    }
    let kept_all = |r: &&&EpisodeRow| r.keep_away.iter().all(|c| c.held);
    let held = with.iter().filter(kept_all).count();
    let closest: Vec<f64> = with
        .iter()
        .flat_map(|r| r.keep_away.iter().map(|c| c.min_distance_m))
        .filter(|d| d.is_finite())
        .collect();
    let mean = closest.iter().sum::<f64>() / closest.len().max(1) as f64;
    let min = closest.iter().copied().fold(f64::INFINITY, f64::min);
    // Where some planned grasp cannot keep the margin, no policy can: the share among the
    // others is what steering is judged by.
    let clear: Vec<&&EpisodeRow> = with
        .iter()
        .filter(|r| r.keep_away.iter().all(|c| c.grasps_clear))
        .collect();
    let held_clear = clear.iter().copied().filter(kept_all).count();
    json!({
        "episodes": with.len(),
        "steered": with.iter().all(|r| r.constraints_steered == Some(true)),
        "held_rate": held as f64 / with.len() as f64,
        "episodes_grasps_clear": clear.len(),
        "held_rate_where_grasps_clear": (!clear.is_empty()).then(|| held_clear as f64 / clear.len() as f64),
        "min_distance_m": {"mean": mean, "min": if min.is_finite() { Some(min) } else { None }},
        "margin_m": with[0].keep_away[0].margin_m,
    })
}
