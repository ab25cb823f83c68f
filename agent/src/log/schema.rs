//! The log schema: the channels of an embody log and the JSON records on embody's own
//! channels. The recorder writes these types and every reader (replay, the viewer, the
//! dataset builder) decodes them; there is no second declaration anywhere.

use serde::{Deserialize, Serialize};

use crate::outcome::{Failure, ObjectOutcome};
use crate::types::{ActionChunk, Skill};

pub const SCENARIO_TOPIC: &str = "/embody/scenario";
pub const PLAN_TOPIC: &str = "/embody/plan";
pub const CHUNK_TOPIC: &str = "/embody/action_chunk";
pub const EVENTS_TOPIC: &str = "/embody/events";
pub const OUTCOME_TOPIC: &str = "/embody/outcome";
pub const SAMPLE_TOPIC: &str = "/embody/policy_sample";
pub const JOINT_STATES_TOPIC: &str = "/joint_states";
pub const TF_TOPIC: &str = "/tf";
pub const IMAGE_TOPIC: &str = "/camera/color/image_raw";
pub const CAMERA_INFO_TOPIC: &str = "/camera/color/camera_info";

/// What a learned policy would have seen at one instant and what the running policy commanded
/// (10 Hz while skills run): the training pairs of a demonstration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SampleRecord {
    pub t: f64,
    pub skill: crate::types::Skill,
    pub ee_in_base: nalgebra::Isometry3<f64>,
    pub gripper_width_m: f64,
    /// Perception's scene graph at `t`.
    pub scene: crate::types::SceneGraph,
    /// The controller's end-effector target at `t`.
    pub target_in_base: nalgebra::Isometry3<f64>,
    pub gripper_command_m: f64,
    /// Who made the chunk being executed (absent: the policy itself).
    #[serde(default, skip_serializing_if = "crate::types::ChunkSource::is_policy")]
    pub source: crate::types::ChunkSource,
}

/// First record of every log: what replay needs to rebuild the world exactly.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ScenarioRecord {
    /// The scenario file's text and where it was read from.
    pub scenario_text: String,
    pub scenario_path: String,
    /// The robot description's text (so a later edit of the file cannot change a replay).
    pub urdf_text: String,
    pub seed: u64,
    pub instruction: String,
    pub policy: String,
    pub build: BuildInfo,
    /// Physics settings as the run used them (informational; the scenario text is authoritative).
    pub physics: serde_json::Value,
}

/// What must match for a bit-exact replay, and the commit that recorded the log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BuildInfo {
    pub embody_version: String,
    pub physics_engine: String,
    pub features: Vec<String>,
    /// The git commit of the build (absent when it was not built from a git checkout).
    #[serde(default)]
    pub commit: Option<String>,
}

impl BuildInfo {
    /// Whether a log recorded by `self` replays bit-exactly on `other`: same physics and
    /// features. The commit may differ (a change elsewhere keeps the physics); replay reports it.
    pub fn same_physics(&self, other: &BuildInfo) -> bool {
        self.physics_engine == other.physics_engine && self.features == other.features
    }
}

/// `/embody/plan`: the plan the agent runs, when it was made.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanRecord {
    pub t: f64,
    pub instruction: String,
    pub steps: Vec<Skill>,
}

/// One action of a recorded chunk: the end-effector target in the base frame and the gripper.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ActionRecord {
    pub position: [f64; 3],
    pub rotation_xyzw: [f64; 4],
    pub rotation_6d: [f64; 6],
    pub gripper_width_m: f64,
}

/// `/embody/action_chunk`: a chunk the policy sent, as it sent it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ChunkRecord {
    pub skill: Skill,
    pub start: f64,
    pub dt: f64,
    pub execute: usize,
    pub completes_skill: bool,
    pub actions: Vec<ActionRecord>,
    #[serde(default, skip_serializing_if = "crate::types::ChunkSource::is_policy")]
    pub source: crate::types::ChunkSource,
}

impl ChunkRecord {
    pub fn new(skill: &Skill, chunk: &ActionChunk) -> Self {
        let actions = chunk
            .actions
            .iter()
            .map(|a| {
                let p = a.ee_target_in_base.translation.vector;
                let q = a.ee_target_in_base.rotation.quaternion();
                ActionRecord {
                    position: [p.x, p.y, p.z],
                    rotation_xyzw: [q.i, q.j, q.k, q.w],
                    rotation_6d: crate::rotation::to_6d(&a.ee_target_in_base.rotation),
                    gripper_width_m: a.gripper_width_m,
                }
            })
            .collect();
        Self {
            skill: skill.clone(),
            start: chunk.start,
            dt: chunk.dt,
            execute: chunk.execute,
            completes_skill: chunk.completes_skill,
            actions,
            source: chunk.source,
        }
    }
}

/// Last record of every log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutcomeRecord {
    pub success: bool,
    pub objects_cleared: usize,
    pub objects_total: usize,
    pub objects: Vec<ObjectOutcome>,
    pub sim_time_s: f64,
    pub sim_steps: u64,
    pub state_hash: String,
    pub stopped: Option<Failure>,
    pub plan_error: Option<Failure>,
}

/// rosbag2's `offered_qos_profiles` for a reliable, volatile publisher (what `ros2 bag record`
/// writes for ordinary topics).
pub const OFFERED_QOS: &str = "- history: 3\n  depth: 0\n  reliability: 1\n  durability: 2\n  deadline:\n    sec: 9223372036\n    nsec: 854775807\n  lifespan:\n    sec: 9223372036\n    nsec: 854775807\n  liveliness: 1\n  liveliness_lease_duration:\n    sec: 9223372036\n    nsec: 854775807\n  avoid_ros_namespace_conventions: false\n";
