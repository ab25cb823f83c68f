//! A recorded log as a scene and its timeline.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use embody_agent::log::{
    read_log, ChunkRecord, OutcomeRecord, PlanRecord, CHUNK_TOPIC, EVENTS_TOPIC,
    JOINT_STATES_TOPIC, OUTCOME_TOPIC, PLAN_TOPIC, TF_TOPIC,
};
use embody_agent::observer::Event;
use embody_agent::ros_msgs::RosMessage;
use embody_agent::ros_msgs::{JointStateMsg, TfMessage};
use nalgebra::Isometry3;

use crate::scenario::Scenario;
use crate::world::World;

use super::*;

/// A recorded log as a scene and its timeline: the scene from the log's scenario record, poses
/// from `/joint_states` and `/tf`, the overlay from `/embody/*`. A truncated log plays up to
/// where it was cut (`lost` says why).
pub fn load_log(path: &Path) -> Result<(SceneModel, Timeline, Option<String>), ViewError> {
    let log = read_log(path)?;
    let names = crate::replay::names_of(&log)?;
    let shown = path.display().to_string();
    let rec = crate::replay::scenario_record(&log)?;
    let scenario_err = |message: String| ViewError::Scenario {
        path: shown.clone(),
        message,
    };
    let scenario = Scenario::from_str_at(&rec.scenario_text, Path::new(&rec.scenario_path))
        .map_err(|e| scenario_err(e.to_string()))?;
    let world = World::with_urdf_text(Arc::new(scenario), rec.seed, &rec.urdf_text)
        .map_err(|e| scenario_err(e.to_string()))?;
    let mut scene = SceneModel::from_world(&world)?;
    scene.instruction = rec.instruction.clone();
    let bad = |topic: &str, t: f64, e: &dyn std::fmt::Display| ViewError::BadRecord {
        path: shown.clone(),
        topic: topic.to_string(),
        t,
        message: e.to_string(),
    };
    let mut timeline = Timeline::default();
    let mut joints: HashMap<String, f64> = HashMap::new();
    let mut have_joints = false;
    let mut objects: HashMap<String, Isometry3<f64>> = HashMap::new();
    // Until the first joint state: the gripper open.
    let open_half = world
        .arm
        .gripper
        .as_ref()
        .map_or(0.0, |g| g.max_width_m / 2.0);
    let finger_half = |joints: &HashMap<String, f64>| {
        names
            .finger_joints
            .first()
            .and_then(|f| joints.get(f))
            .copied()
            .unwrap_or(open_half)
    };
    for m in &log.messages {
        let t = m.time_s();
        match m.topic.as_str() {
            JOINT_STATES_TOPIC => {
                let js = JointStateMsg::from_cdr(&m.data).map_err(|e| bad(&m.topic, t, &e))?;
                for (n, q) in js.name.iter().zip(&js.position) {
                    joints.insert(n.clone(), *q);
                }
                have_joints = true;
            }
            // The recorder writes /tf right after /joint_states for the same instant: one frame.
            TF_TOPIC if have_joints => {
                let tf = TfMessage::from_cdr(&m.data).map_err(|e| bad(&m.topic, t, &e))?;
                for tr in &tf.transforms {
                    objects.insert(tr.child_frame_id.clone(), tr.to_isometry());
                }
                let frame = scene.frame(
                    t,
                    &joints,
                    2.0 * finger_half(&joints),
                    &objects,
                    timeline.frames.last(),
                );
                timeline.push(ViewUpdate::Frame(frame));
            }
            PLAN_TOPIC => {
                let p: PlanRecord =
                    serde_json::from_slice(&m.data).map_err(|e| bad(&m.topic, t, &e))?;
                timeline.push(ViewUpdate::Plan(PlanView {
                    t: p.t,
                    instruction: p.instruction,
                    steps: p.steps,
                }));
            }
            EVENTS_TOPIC => {
                let e: Event = serde_json::from_slice(&m.data).map_err(|e| bad(&m.topic, t, &e))?;
                timeline.push(ViewUpdate::Event(e));
            }
            CHUNK_TOPIC => {
                let c: ChunkRecord =
                    serde_json::from_slice(&m.data).map_err(|e| bad(&m.topic, t, &e))?;
                timeline.push(ViewUpdate::Chunk(ChunkView {
                    t: c.start,
                    dt: c.dt,
                    skill: c.skill,
                    targets: c.actions.iter().map(|a| a.position).collect(),
                    execute: c.execute,
                }));
            }
            OUTCOME_TOPIC => {
                let o: OutcomeRecord =
                    serde_json::from_slice(&m.data).map_err(|e| bad(&m.topic, t, &e))?;
                timeline.push(ViewUpdate::Outcome(Box::new(o)));
            }
            _ => {}
        }
    }
    if timeline.frames.is_empty() {
        return Err(ViewError::Empty { path: shown });
    }
    Ok((scene, timeline, log.lost))
}
