//! The vocabulary shared by every room: states, observations, scene graphs, plans, actions.
//!
//! SI units throughout (metres, radians, seconds, newtons); poses are `Isometry3<f64>` whose
//! name says the frame (`ee_in_base`). The robot base frame is z up.

use nalgebra::{Isometry3, Vector3};
use serde::{Deserialize, Serialize};

/// Joint positions (rad or m), velocities and efforts of the arm, in `names` order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JointState {
    pub names: Vec<String>,
    pub position: Vec<f64>,
    pub velocity: Vec<f64>,
    pub effort: Vec<f64>,
    /// Seconds since the start of the run on the robot's clock.
    pub stamp: f64,
}

/// Opening of a parallel gripper (distance between the fingers) and the force it applies.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GripperState {
    pub width_m: f64,
    pub force_n: f64,
}

/// Pose of one object as the simulator knows it (privileged information).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectPose {
    pub id: String,
    pub pose_in_base: Isometry3<f64>,
}

/// Everything a body reports at one instant.
#[derive(Clone, Debug)]
pub struct Observation {
    pub stamp: f64,
    pub joints: JointState,
    pub gripper: GripperState,
    pub ee_in_base: Isometry3<f64>,
    /// The latest camera frame (shared: a frame outlives many control ticks).
    pub camera: Option<std::sync::Arc<CameraFrame>>,
    /// Ground truth, only in simulation: for scripted experts and metrics. Planners and learned
    /// policies work from perception, never from this.
    pub privileged: Option<Vec<ObjectPose>>,
}

/// One camera image set with its calibration.
#[derive(Clone, Debug)]
pub struct CameraFrame {
    pub stamp: f64,
    pub width: u32,
    pub height: u32,
    /// RGB8, row-major.
    pub rgb: Vec<u8>,
    /// Metres, row-major; NaN where nothing was hit.
    pub depth_m: Vec<f32>,
    /// Instance ids, row-major; 0 is background.
    pub segmentation: Vec<u32>,
    /// fx, fy, cx, cy in pixels.
    pub intrinsics: [f64; 4],
    pub camera_in_base: Isometry3<f64>,
}

/// Shape primitive of an object or container part, in its own frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapeKind {
    Box,
    Cylinder,
    Cup,
}

/// An object as perception reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneObject {
    pub id: String,
    pub class: String,
    pub color: String,
    pub shape: ShapeKind,
    pub pose_in_base: Isometry3<f64>,
    /// Full size along the object's own x, y, z axes (m).
    pub extents: Vector3<f64>,
}

/// An open-top container (a bin) as perception reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Container {
    pub id: String,
    pub class: String,
    /// Centre of the container's floor, top surface.
    pub pose_in_base: Isometry3<f64>,
    /// Inner size: x, y and wall height (m).
    pub inner_extents: Vector3<f64>,
}

impl Container {
    /// Whether a point (base frame) lies inside the container's inner volume, with a margin that
    /// shrinks the volume horizontally and lets it reach `above_m` above the walls.
    pub fn contains(&self, p_in_base: &nalgebra::Point3<f64>, margin_m: f64, above_m: f64) -> bool {
        let local = self.pose_in_base.inverse_transform_point(p_in_base);
        let hx = self.inner_extents.x / 2.0 - margin_m;
        let hy = self.inner_extents.y / 2.0 - margin_m;
        local.x.abs() <= hx
            && local.y.abs() <= hy
            && local.z >= -0.01
            && local.z <= self.inner_extents.z + above_m
    }
}

/// What the agent believes is on the table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SceneGraph {
    pub stamp: f64,
    pub objects: Vec<SceneObject>,
    pub containers: Vec<Container>,
    /// Height of the table surface in the base frame (m).
    pub table_height_m: f64,
}

impl SceneGraph {
    pub fn object(&self, id: &str) -> Option<&SceneObject> {
        self.objects.iter().find(|o| o.id == id)
    }
    pub fn container(&self, id: &str) -> Option<&Container> {
        self.containers.iter().find(|c| c.id == id)
    }
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "skill", rename_all = "snake_case", deny_unknown_fields)]
pub enum Skill {
    Pick { object: String },
    Place { object: String, into: String },
}

impl Skill {
    pub fn object(&self) -> &str {
        match self {
            Skill::Pick { object } | Skill::Place { object, .. } => object,
        }
    }
}

impl std::fmt::Display for Skill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skill::Pick { object } => write!(f, "pick {object}"),
            Skill::Place { object, into } => write!(f, "place {object} in {into}"),
        }
    }
}

/// A validated sequence of skills, and what must hold for the whole episode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Skill>,
    /// From the instruction ("keep away from the cup", "don't touch the blue box"): validated
    /// like a step, steered by a policy that can ([`crate::Policy::constrain`]), measured by a
    /// body that can ([`crate::Robot::constraints`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
}

/// How far (m) the hand keeps from an object it is told to keep away from, unless told
/// otherwise: about a finger's length, room for the hand to pass without brushing it.
pub const KEEP_AWAY_MARGIN_M: f64 = 0.05;

/// The largest keep-away margin a plan may ask for (m): beyond it the rest of a table-top
/// scene is out of reach.
pub const KEEP_AWAY_MARGIN_MAX_M: f64 = 0.3;

fn keep_away_margin() -> f64 {
    KEEP_AWAY_MARGIN_M
}

/// A rule for the whole episode, alongside the steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Constraint {
    /// The hand (palm and fingers) stays at least `margin_m` from `object`, which does not
    /// move.
    KeepAway {
        object: String,
        #[serde(default = "keep_away_margin")]
        margin_m: f64,
    },
}

impl Constraint {
    pub fn keep_away(object: impl Into<String>) -> Self {
        Constraint::KeepAway {
            object: object.into(),
            margin_m: KEEP_AWAY_MARGIN_M,
        }
    }

    /// The object the constraint is about.
    pub fn object(&self) -> &str {
        match self {
            Constraint::KeepAway { object, .. } => object,
        }
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Constraint::KeepAway { object, margin_m } => {
                write!(f, "keep {:.0} cm away from {object}", margin_m * 100.0)
            }
        }
    }
}

/// One commanded end-effector target.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub ee_target_in_base: Isometry3<f64>,
    /// Commanded gripper opening (m); 0 closes with the configured force.
    pub gripper_width_m: f64,
}

/// A chunk of future actions at a fixed period, as a policy emits it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionChunk {
    /// Time (robot clock) of the first action.
    pub start: f64,
    /// Period between actions (s).
    pub dt: f64,
    pub actions: Vec<Action>,
    /// How many of the actions the agent executes before asking again (Ta).
    pub execute: usize,
    /// The policy believes the skill is complete once these actions are executed
    /// (a scripted expert knows; a learned policy leaves it `false`).
    pub completes_skill: bool,
    /// Who made the chunk (logged with it and with the samples taken while it runs).
    #[serde(default, skip_serializing_if = "ChunkSource::is_policy")]
    pub source: ChunkSource,
}

/// Who made a chunk: the policy the agent runs, or an expert that took over from it to
/// correct it. Corrections are DAgger-style training data: the expert's actions from states
/// the learned policy reached (`embody record --policy MODEL --takeover P`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkSource {
    #[default]
    Policy,
    Correction,
    /// The agent's own withdrawal after a failed attempt (`recovery`): neither the policy's
    /// action nor a demonstration.
    Recovery,
}

impl ChunkSource {
    pub fn is_policy(&self) -> bool {
        *self == Self::Policy
    }
}

/// Command from the gripper's side of the controller.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GripperCommand {
    pub width_m: f64,
    pub max_force_n: f64,
}

/// Joint-space command sent to a body at the controller rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JointCommand {
    pub stamp: f64,
    pub positions: Vec<f64>,
    pub velocities: Vec<f64>,
    pub gripper: GripperCommand,
}
