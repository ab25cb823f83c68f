//! What a viewer draws, without drawing it: the scene's bodies with their shapes and colours
//! (taken once from the world), and a timeline of body poses, plans, events and action chunks,
//! filled from an episode while it runs ([`LiveFeed`]) or from a recorded log ([`load_log`]).
//! Both fill poses the same way, from joint positions through the robot description's
//! kinematics and from object frames, so a log from a real arm plays like a simulated one.
//! The Bevy front end (`embody-viewer`) only mirrors these poses; there is no second physics
//! world.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use embody_agent::log::{
    read_log, ChunkRecord, OutcomeRecord, PlanRecord, RecorderConfig, CHUNK_TOPIC, EVENTS_TOPIC,
    JOINT_STATES_TOPIC, OUTCOME_TOPIC, PLAN_TOPIC, TF_TOPIC,
};
use embody_agent::observer::{EpisodeObserver, Event, EventKind};
use embody_agent::ros_msgs::RosMessage;
use embody_agent::ros_msgs::{JointStateMsg, TfMessage};
use embody_agent::types::{ActionChunk, JointCommand, Observation, Plan, Skill};
use embody_agent::Instruction;
use nalgebra::{Isometry3, Translation3, UnitQuaternion, Vector3};

use crate::camera::{color_rgb, nearest_container, ROBOT_RGB, TABLE_RGB};
use crate::convert::from_rapier;
use crate::groups;
use crate::scenario::Scenario;
use crate::world::World;

/// Errors of loading a log for viewing.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(transparent)]
    Log(#[from] embody_agent::log::LogError),
    #[error(transparent)]
    Replay(#[from] crate::replay::ReplayError),
    #[error("{path}: the log's scenario cannot be rebuilt: {message}")]
    Scenario { path: String, message: String },
    #[error("{path}: {topic} at t = {t:.3} s: {message}")]
    BadRecord {
        path: String,
        topic: String,
        t: f64,
        message: String,
    },
    #[error("{path}: no robot state in the log (no {JOINT_STATES_TOPIC} messages)")]
    Empty { path: String },
}

/// A primitive in its body's frame. Axes as rapier's: cylinders and capsules along y.
#[derive(Clone, Debug, PartialEq)]
pub enum ShapeModel {
    Cuboid { half_extents: [f32; 3] },
    Cylinder { half_height: f32, radius: f32 },
    Capsule { half_height: f32, radius: f32 },
    Ball { radius: f32 },
}

/// One collider of a body: its shape, where it sits in the body, and its colour.
#[derive(Clone, Debug)]
pub struct PartModel {
    pub shape: ShapeModel,
    pub in_body: Isometry3<f64>,
    pub rgb: [f32; 3],
}

/// What a body is, which also says where its pose comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum BodyRole {
    /// Table, floor, containers: never move.
    Fixed,
    /// A link of the robot, posed by the kinematics from joint positions.
    Link(String),
    /// A scenario object, posed by its frame.
    Object(String),
}

#[derive(Clone, Debug)]
pub struct BodyModel {
    pub name: String,
    pub role: BodyRole,
    pub parts: Vec<PartModel>,
    /// The pose at the start of the episode.
    pub initial: Isometry3<f64>,
}

/// Everything static about a scene, for drawing it.
#[derive(Clone, Debug)]
pub struct SceneModel {
    pub scenario: String,
    pub seed: u64,
    pub instruction: String,
    pub bodies: Vec<BodyModel>,
    /// Centre of the table's top, where a viewer looks first.
    pub focus: [f64; 3],
    kinematics: LinkTree,
}

impl SceneModel {
    /// The bodies of `world` (in rapier's body order, which is deterministic) with their
    /// colliders' shapes.
    pub fn from_world(world: &World) -> Result<Self, ViewError> {
        let scenario = &world.scenario;
        let link_of: HashMap<_, _> = world
            .robot
            .link_bodies
            .iter()
            .map(|(l, h)| (*h, l.clone()))
            .collect();
        let object_of: HashMap<_, _> = world
            .objects
            .iter()
            .map(|o| (o.body, &o.instance))
            .collect();
        let table_thickness = scenario.table.size[2];
        let mut bodies = Vec::new();
        for (handle, body) in world.physics.bodies.iter() {
            let (name, role, rgb) = if let Some(link) = link_of.get(&handle) {
                (link.clone(), BodyRole::Link(link.clone()), ROBOT_RGB)
            } else if let Some(o) = object_of.get(&handle) {
                (
                    o.id.clone(),
                    BodyRole::Object(o.id.clone()),
                    color_rgb(&o.color),
                )
            } else {
                ("fixed".to_string(), BodyRole::Fixed, TABLE_RGB)
            };
            let initial = from_rapier(body.position());
            let mut parts = Vec::new();
            for ch in body.colliders() {
                let Some(c) = world.physics.colliders.get(*ch) else {
                    continue;
                };
                let in_body = c
                    .position_wrt_parent()
                    .map(from_rapier)
                    .unwrap_or_else(Isometry3::identity);
                let member = c.collision_groups().memberships;
                let rgb = if member == groups::CONTAINER.memberships {
                    container_rgb(world, &(initial * in_body))
                } else if member == groups::FINGER.memberships {
                    [0.25, 0.25, 0.27]
                } else if member == groups::TABLE.memberships
                    && in_body.translation.z < -table_thickness
                {
                    // The floor under the table.
                    [0.30, 0.31, 0.33]
                } else {
                    rgb
                };
                let Some((shape, fix)) = shape_model(c.shape()) else {
                    tracing::debug!("viewer: a collider of {name} has a shape it cannot draw");
                    continue;
                };
                parts.push(PartModel {
                    shape,
                    in_body: in_body * fix,
                    rgb: rgb.map(|v| v as f32),
                });
            }
            bodies.push(BodyModel {
                name,
                role,
                parts,
                initial,
            });
        }
        let urdf =
            urdf_rs::read_from_string(&world.urdf_text).map_err(|e| ViewError::Scenario {
                path: world.scenario.source.display().to_string(),
                message: format!("malformed URDF: {e}"),
            })?;
        let t = &scenario.table;
        Ok(Self {
            scenario: scenario.name.clone(),
            seed: world.seed,
            instruction: scenario.instruction.clone(),
            bodies,
            focus: [t.center[0], t.center[1], 0.0],
            kinematics: LinkTree::new(&urdf, &world.arm.base_link),
        })
    }

    /// Every body's pose for joint positions (by joint name; prismatic finger joints missing
    /// from `joints` open to `gripper_width_m / 2`) and object frames (objects missing keep
    /// `fallback`'s pose).
    pub fn frame(
        &self,
        t: f64,
        joints: &HashMap<String, f64>,
        gripper_width_m: f64,
        objects: &HashMap<String, Isometry3<f64>>,
        fallback: Option<&ViewFrame>,
    ) -> ViewFrame {
        let links = self.kinematics.link_poses(joints, gripper_width_m / 2.0);
        let poses = self
            .bodies
            .iter()
            .enumerate()
            .map(|(i, b)| match &b.role {
                BodyRole::Fixed => b.initial,
                BodyRole::Link(l) => links.get(l).copied().unwrap_or(b.initial),
                BodyRole::Object(id) => objects
                    .get(id)
                    .copied()
                    .or_else(|| fallback.map(|f| f.poses[i]))
                    .unwrap_or(b.initial),
            })
            .collect();
        ViewFrame { t, poses }
    }

    /// The frame at the start of the episode.
    pub fn initial_frame(&self) -> ViewFrame {
        ViewFrame {
            t: 0.0,
            poses: self.bodies.iter().map(|b| b.initial).collect(),
        }
    }
}

fn container_rgb(world: &World, p: &Isometry3<f64>) -> [f64; 3] {
    let k = nearest_container(world, &p.translation.vector);
    world
        .scenario
        .containers
        .get(k)
        .map(|c| color_rgb(&c.color))
        .unwrap_or(TABLE_RGB)
}

/// The drawable form of a collider shape, and the pose that puts it along its axis.
fn shape_model(shape: &dyn rapier3d::parry::shape::Shape) -> Option<(ShapeModel, Isometry3<f64>)> {
    let id = Isometry3::identity();
    if let Some(c) = shape.as_cuboid() {
        let h = c.half_extents;
        return Some((
            ShapeModel::Cuboid {
                half_extents: [h.x, h.y, h.z],
            },
            id,
        ));
    }
    if let Some(c) = shape.as_cylinder() {
        return Some((
            ShapeModel::Cylinder {
                half_height: c.half_height,
                radius: c.radius,
            },
            id,
        ));
    }
    if let Some(b) = shape.as_ball() {
        return Some((ShapeModel::Ball { radius: b.radius }, id));
    }
    if let Some(c) = shape.as_capsule() {
        // A capsule is a segment with a radius; drawn as one along y through the segment.
        let a = Vector3::new(c.segment.a.x, c.segment.a.y, c.segment.a.z).cast::<f64>();
        let b = Vector3::new(c.segment.b.x, c.segment.b.y, c.segment.b.z).cast::<f64>();
        let axis = b - a;
        let rot = UnitQuaternion::rotation_between(&Vector3::y(), &axis).unwrap_or_else(|| {
            UnitQuaternion::from_axis_angle(&Vector3::x_axis(), std::f64::consts::PI)
        });
        let mid = (a + b) / 2.0;
        return Some((
            ShapeModel::Capsule {
                half_height: (axis.norm() / 2.0) as f32,
                radius: c.radius,
            },
            Isometry3::from_parts(Translation3::from(mid), rot),
        ));
    }
    None
}

/// The robot description's joint tree, for link poses from joint positions.
#[derive(Clone, Debug)]
struct LinkTree {
    base_link: String,
    /// Joints parents-first.
    joints: Vec<TreeJoint>,
}

#[derive(Clone, Debug)]
struct TreeJoint {
    name: String,
    parent: String,
    child: String,
    origin: Isometry3<f64>,
    axis: Vector3<f64>,
    kind: JointKind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum JointKind {
    Fixed,
    Revolute,
    Prismatic,
}

impl LinkTree {
    fn new(urdf: &urdf_rs::Robot, base_link: &str) -> Self {
        let joints = embody_agent::urdf::tree_joints(urdf, base_link)
            .into_iter()
            .map(|j| TreeJoint {
                name: j.name.clone(),
                parent: j.parent.link.clone(),
                child: j.child.link.clone(),
                origin: embody_agent::urdf::urdf_pose(&j.origin),
                axis: Vector3::from(j.axis.xyz.0),
                kind: match j.joint_type {
                    urdf_rs::JointType::Revolute | urdf_rs::JointType::Continuous => {
                        JointKind::Revolute
                    }
                    urdf_rs::JointType::Prismatic => JointKind::Prismatic,
                    _ => JointKind::Fixed,
                },
            })
            .collect();
        Self {
            base_link: base_link.to_string(),
            joints,
        }
    }

    fn link_poses(
        &self,
        positions: &HashMap<String, f64>,
        finger_default: f64,
    ) -> HashMap<String, Isometry3<f64>> {
        let mut poses = HashMap::with_capacity(self.joints.len() + 1);
        poses.insert(self.base_link.clone(), Isometry3::identity());
        for j in &self.joints {
            let parent = poses
                .get(&j.parent)
                .copied()
                .unwrap_or_else(Isometry3::identity);
            let motion = match j.kind {
                JointKind::Fixed => Isometry3::identity(),
                JointKind::Revolute => {
                    let q = positions.get(&j.name).copied().unwrap_or(0.0);
                    let axis =
                        nalgebra::Unit::try_new(j.axis, 1e-12).unwrap_or_else(Vector3::x_axis);
                    Isometry3::from_parts(
                        Translation3::identity(),
                        UnitQuaternion::from_axis_angle(&axis, q),
                    )
                }
                JointKind::Prismatic => {
                    let q = positions.get(&j.name).copied().unwrap_or(finger_default);
                    Isometry3::from_parts(
                        Translation3::from(j.axis.normalize() * q),
                        UnitQuaternion::identity(),
                    )
                }
            };
            poses.insert(j.child.clone(), parent * j.origin * motion);
        }
        poses
    }
}

/// Every body's pose at one instant, in [`SceneModel::bodies`] order.
#[derive(Clone, Debug)]
pub struct ViewFrame {
    pub t: f64,
    pub poses: Vec<Isometry3<f64>>,
}

/// A plan as the overlay lists it.
#[derive(Clone, Debug)]
pub struct PlanView {
    pub t: f64,
    pub instruction: String,
    pub steps: Vec<Skill>,
}

/// An action chunk's end-effector targets (base frame), for the trail.
#[derive(Clone, Debug)]
pub struct ChunkView {
    pub t: f64,
    pub dt: f64,
    pub skill: Skill,
    pub targets: Vec<[f64; 3]>,
    /// How many of the targets the agent executes before asking again.
    pub execute: usize,
}

/// Something for the timeline, from a running episode.
#[derive(Clone, Debug)]
pub enum ViewUpdate {
    Frame(ViewFrame),
    Plan(PlanView),
    Event(Event),
    Chunk(ChunkView),
    Outcome(Box<OutcomeRecord>),
    /// The episode could not run.
    Failed(String),
}

/// The whole run so far.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    pub frames: Vec<ViewFrame>,
    pub plans: Vec<PlanView>,
    pub events: Vec<Event>,
    pub chunks: Vec<ChunkView>,
    pub outcome: Option<OutcomeRecord>,
    pub failure: Option<String>,
}

impl Timeline {
    pub fn push(&mut self, update: ViewUpdate) {
        match update {
            // Frames arrive in time order; anything else would break the searches below.
            ViewUpdate::Frame(f) => {
                if self.frames.last().is_none_or(|l| f.t >= l.t) {
                    self.frames.push(f)
                }
            }
            ViewUpdate::Plan(p) => self.plans.push(p),
            ViewUpdate::Event(e) => self.events.push(e),
            ViewUpdate::Chunk(c) => self.chunks.push(c),
            ViewUpdate::Outcome(o) => self.outcome = Some(*o),
            ViewUpdate::Failed(m) => self.failure = Some(m),
        }
    }

    pub fn start(&self) -> f64 {
        self.frames.first().map_or(0.0, |f| f.t)
    }

    pub fn end(&self) -> f64 {
        self.frames.last().map_or(0.0, |f| f.t)
    }

    /// The last frame at or before `t` (the first one before the run starts).
    pub fn frame_at(&self, t: f64) -> Option<&ViewFrame> {
        let n = self.frames.partition_point(|f| f.t <= t);
        self.frames.get(n.saturating_sub(1))
    }

    /// The plan in force at `t`.
    pub fn plan_at(&self, t: f64) -> Option<&PlanView> {
        self.plans.iter().rev().find(|p| p.t <= t)
    }

    /// The skill running at `t`: the last started and not yet ended, with its attempt.
    pub fn skill_at(&self, t: f64) -> Option<(&Skill, usize)> {
        let mut current = None;
        for e in self.events.iter().take_while(|e| e.t <= t) {
            match e.kind {
                EventKind::SkillStart => {
                    current = e.skill.as_ref().map(|s| (s, e.attempt.unwrap_or(1)))
                }
                EventKind::SkillEnd => current = None,
                k if k.ends_episode() => current = None,
                _ => {}
            }
        }
        current
    }

    /// Index of the plan step running at `t`: the step of the current skill, counting skills
    /// that ended successfully before it (a plan may name a skill twice).
    pub fn step_at(&self, t: f64) -> Option<usize> {
        let plan = self.plan_at(t)?;
        let (skill, _) = self.skill_at(t)?;
        let done = self
            .events
            .iter()
            .filter(|e| {
                e.t >= plan.t
                    && e.t <= t
                    && e.kind == EventKind::SkillEnd
                    && e.success == Some(true)
            })
            .filter(|e| e.skill.as_ref() == Some(skill))
            .count();
        plan.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| *s == skill)
            .nth(done)
            .map(|(i, _)| i)
    }

    /// Plan steps that ended successfully by `t`.
    pub fn steps_done(&self, t: f64) -> usize {
        let since = self.plan_at(t).map_or(0.0, |p| p.t);
        self.events
            .iter()
            .filter(|e| {
                e.t >= since && e.t <= t && e.kind == EventKind::SkillEnd && e.success == Some(true)
            })
            .count()
    }

    /// The chunk being executed at `t`.
    pub fn chunk_at(&self, t: f64) -> Option<&ChunkView> {
        let n = self.chunks.partition_point(|c| c.t <= t);
        let c = self.chunks.get(n.checked_sub(1)?)?;
        let horizon = c.t + c.dt * c.targets.len() as f64;
        (t <= horizon).then_some(c)
    }

    /// Events up to `t`, the latest last.
    pub fn events_until(&self, t: f64) -> &[Event] {
        let n = self.events.partition_point(|e| e.t <= t);
        &self.events[..n]
    }
}

/// A line for an event, as the overlay shows it.
pub fn describe_event(e: &Event) -> String {
    let skill = e.skill.as_ref().map(|s| s.to_string()).unwrap_or_default();
    let detail = e.detail.as_deref().unwrap_or("");
    let failure = e.failure.map(|k| format!(" [{k}]")).unwrap_or_default();
    match e.kind {
        EventKind::SkillStart => match e.attempt {
            Some(n) if n > 1 => format!("start {skill} (attempt {n})"),
            _ => format!("start {skill}"),
        },
        EventKind::SkillEnd if e.success == Some(true) => format!("done  {skill}"),
        EventKind::SkillEnd => format!("FAILED {skill}{failure}: {detail}"),
        EventKind::PlanRefused => format!("plan refused{failure}: {detail}"),
        EventKind::Stopped
        | EventKind::SafetyStop
        | EventKind::Watchdog
        | EventKind::RobotError
        | EventKind::Stalled => format!("STOPPED{failure}: {detail}"),
        EventKind::Replan | EventKind::SafetyIntervention | EventKind::Hold => {
            let name = serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            if detail.is_empty() {
                format!("{name} {skill}")
            } else {
                format!("{name} {skill}: {detail}")
            }
        }
    }
}

/// A recorded log as a scene and its timeline: the scene from the log's scenario record, poses
/// from `/joint_states` and `/tf`, the overlay from `/embody/*`. A truncated log plays up to
/// where it was cut (`lost` says why).
pub fn load_log(path: &Path) -> Result<(SceneModel, Timeline, Option<String>), ViewError> {
    let names = RecorderConfig::default();
    let log = read_log(path)?;
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
    let finger_half = |joints: &HashMap<String, f64>| {
        names
            .finger_joints
            .first()
            .and_then(|f| joints.get(f))
            .copied()
            .unwrap_or(0.04)
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

/// Play/pause and speed, shared by a viewer and the episode it watches.
#[derive(Debug)]
pub struct PlaybackControl {
    speed_bits: AtomicU64,
    paused: AtomicBool,
    /// The viewer is gone: run the rest unpaced.
    closed: AtomicBool,
}

impl PlaybackControl {
    pub fn new(speed: f64) -> Self {
        Self {
            speed_bits: AtomicU64::new(speed.to_bits()),
            paused: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }
    pub fn speed(&self) -> f64 {
        f64::from_bits(self.speed_bits.load(Ordering::Relaxed))
    }
    pub fn set_speed(&self, speed: f64) {
        self.speed_bits
            .store(speed.clamp(1.0 / 64.0, 64.0).to_bits(), Ordering::Relaxed);
    }
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }
    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }
}

/// An episode observer that feeds a viewer: every control tick's poses, the plan, events and
/// chunks, released so that simulated time advances at the viewer's speed and stops while it is
/// paused. Observers run on the episode's recorder thread, so the simulation itself is never
/// slowed: it runs ahead and the feed holds what the viewer has not reached yet.
pub struct LiveFeed {
    scene: Arc<SceneModel>,
    tx: Sender<ViewUpdate>,
    control: Arc<PlaybackControl>,
    /// Sim time and wall time at the last change of speed.
    anchor: Option<(f64, Instant, f64)>,
    last: Option<ViewFrame>,
}

impl LiveFeed {
    pub fn new(
        scene: Arc<SceneModel>,
        tx: Sender<ViewUpdate>,
        control: Arc<PlaybackControl>,
    ) -> Self {
        Self {
            scene,
            tx,
            control,
            anchor: None,
            last: None,
        }
    }

    fn send(&mut self, u: ViewUpdate) {
        if self.tx.send(u).is_err() {
            self.control.close();
        }
    }

    fn pace(&mut self, t: f64) {
        loop {
            if self.control.closed() {
                return;
            }
            if self.control.paused() {
                self.anchor = None;
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            let speed = self.control.speed();
            let (t0, wall0, _) = match self.anchor {
                Some(a) if a.2 == speed => a,
                _ => {
                    let a = (t, Instant::now(), speed);
                    self.anchor = Some(a);
                    a
                }
            };
            let due = wall0 + Duration::from_secs_f64(((t - t0) / speed).max(0.0));
            let now = Instant::now();
            if due <= now {
                return;
            }
            // Short sleeps, so a pause or a change of speed takes effect at once.
            std::thread::sleep((due - now).min(Duration::from_millis(20)));
        }
    }
}

impl EpisodeObserver for LiveFeed {
    fn plan(&mut self, t: f64, instruction: &Instruction, plan: &Plan) {
        self.send(ViewUpdate::Plan(PlanView {
            t,
            instruction: instruction.text.clone(),
            steps: plan.steps.clone(),
        }));
    }

    fn event(&mut self, event: &Event) {
        self.send(ViewUpdate::Event(event.clone()));
    }

    fn chunk(&mut self, skill: &Skill, chunk: &ActionChunk) {
        self.send(ViewUpdate::Chunk(ChunkView {
            t: chunk.start,
            dt: chunk.dt,
            skill: skill.clone(),
            targets: chunk
                .actions
                .iter()
                .map(|a| a.ee_target_in_base.translation.vector.into())
                .collect(),
            execute: chunk.execute,
        }));
    }

    fn command(&mut self, _cmd: &JointCommand) {}

    fn state(&mut self, obs: &Observation) {
        let joints: HashMap<String, f64> = obs
            .joints
            .names
            .iter()
            .cloned()
            .zip(obs.joints.position.iter().copied())
            .collect();
        let objects: HashMap<String, Isometry3<f64>> = obs
            .privileged
            .iter()
            .flatten()
            .map(|o| (o.id.clone(), o.pose_in_base))
            .collect();
        let frame = self.scene.frame(
            obs.stamp,
            &joints,
            obs.gripper.width_m,
            &objects,
            self.last.as_ref(),
        );
        self.last = Some(frame.clone());
        self.send(ViewUpdate::Frame(frame));
        self.pace(obs.stamp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embody_agent::Robot;

    fn scenario() -> Arc<Scenario> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/table_clearing.toml");
        Arc::new(Scenario::from_file(&path).unwrap())
    }

    #[test]
    fn scene_has_every_body_with_shapes() {
        let world = World::new(scenario(), 3).unwrap();
        let scene = SceneModel::from_world(&world).unwrap();
        let objects = scene
            .bodies
            .iter()
            .filter(|b| matches!(b.role, BodyRole::Object(_)))
            .count();
        assert_eq!(objects, world.objects.len());
        let links = scene
            .bodies
            .iter()
            .filter(|b| matches!(b.role, BodyRole::Link(_)))
            .count();
        assert_eq!(links, world.robot.link_bodies.len());
        assert!(
            scene.bodies.iter().all(|b| !b.parts.is_empty()),
            "a body with nothing to draw"
        );
    }

    /// Link poses from the joint positions must put every robot body where the physics has it,
    /// after the arm has moved: that is what makes log playback show what happened.
    #[test]
    fn kinematics_matches_physics_bodies() {
        let world = World::new(scenario(), 1).unwrap();
        let scene = SceneModel::from_world(&world).unwrap();
        let mut robot = crate::SimRobot::new(world);
        let mut q = robot.world.scenario.robot.home.clone();
        q[0] += 0.4;
        q[3] += 0.3;
        q[5] -= 0.2;
        for _ in 0..400 {
            robot.world.set_targets(&q, &vec![0.0; q.len()], 0.03, 20.0);
            robot.world.step();
        }
        let obs = robot.observe().unwrap();
        let joints: HashMap<String, f64> = obs
            .joints
            .names
            .iter()
            .cloned()
            .zip(obs.joints.position.iter().copied())
            .collect();
        let frame = scene.frame(0.0, &joints, obs.gripper.width_m, &HashMap::new(), None);
        for (b, pose) in scene.bodies.iter().zip(&frame.poses) {
            let BodyRole::Link(link) = &b.role else {
                continue;
            };
            let h = robot
                .world
                .robot
                .link_bodies
                .iter()
                .find(|(l, _)| l == link)
                .unwrap()
                .1;
            let truth = robot.world.body_pose(h);
            let dp = (truth.translation.vector - pose.translation.vector).norm();
            let da = truth.rotation.angle_to(&pose.rotation);
            assert!(dp < 1e-4 && da < 1e-4, "{link}: {dp} m, {da} rad off");
        }
    }

    #[test]
    fn timeline_finds_current_step() {
        let skill = |o: &str| Skill::Pick { object: o.into() };
        let ev = |t, kind: EventKind, s: &str, ok: Option<bool>| Event {
            t,
            kind,
            skill: Some(skill(s)),
            attempt: Some(1),
            success: ok,
            failure: None,
            detail: None,
        };
        let mut tl = Timeline::default();
        tl.push(ViewUpdate::Plan(PlanView {
            t: 0.0,
            instruction: "x".into(),
            steps: vec![skill("a"), skill("b"), skill("a")],
        }));
        for e in [
            ev(1.0, EventKind::SkillStart, "a", None),
            ev(2.0, EventKind::SkillEnd, "a", Some(true)),
            ev(3.0, EventKind::SkillStart, "b", None),
            ev(4.0, EventKind::SkillEnd, "b", Some(true)),
            ev(5.0, EventKind::SkillStart, "a", None),
        ] {
            tl.push(ViewUpdate::Event(e));
        }
        assert_eq!(tl.step_at(1.5), Some(0));
        assert_eq!(tl.step_at(2.5), None);
        assert_eq!(tl.step_at(3.5), Some(1));
        assert_eq!(tl.step_at(5.5), Some(2));
        assert_eq!(tl.steps_done(4.5), 2);
        assert_eq!(tl.events_until(3.0).len(), 3);
    }
}
