//! The simulator as a ROS 2 robot: on the wall clock, it publishes joint states every control
//! tick, TF, object poses and the scene description, and follows joint trajectories and gripper
//! commands the way ros2_control's controllers do (interpolating from the state at receipt
//! through each point's `time_from_start`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use embody_agent::clock::{LatencyHistogram, WallRate};
use embody_agent::ros_msgs::{
    CameraInfoMsg, Detection3DArrayMsg, GripperCommandMsg, Header, ImageMsg, JointStateMsg,
    JointTrajectoryMsg, StringMsg, TfMessage, Time, TransformStamped,
};
use embody_agent::Plan;
use embody_sim::camera::render;
use embody_sim::runner::judge;
use embody_sim::{Scenario, World};
use serde_json::json;

use crate::sim_actions::{ArmActions, GripperActions};
use crate::transport::{default_qos, drain, latched_qos, RosNode};
use crate::{RosConfig, RosError, SceneInfo};
use embody_sim::camera_spec::CameraSpec;
use ros2_client::{Publisher, Subscription};

#[derive(Clone, Debug, Default)]
pub struct SimNodeOptions {
    pub cfg: RosConfig,
    pub seed: u64,
    /// End once embody's status says the run finished (and print the outcome).
    pub exit_when_done: bool,
    /// End after this long (s) of wall time.
    pub duration_s: Option<f64>,
    /// When embody's status says a run finished, judge the table, then set a new one (the
    /// next seed; the arm back home) and publish its scene: a cell that is reset between
    /// tasks, for runs and soaks of many episodes. Takes the place of `exit_when_done`.
    pub new_scene_when_done: bool,
    /// Fault injection: stop publishing joint states this long (s) after the first trajectory.
    pub silence_joint_states_after_s: Option<f64>,
    /// Fault injection: reject FollowJointTrajectory goals this long (s) after the first
    /// trajectory.
    pub reject_goals_after_s: Option<f64>,
    /// Fault injection: after every joint state, one that is broken in turn: a NaN arm joint,
    /// a missing finger, a missing arm joint, a message cut short, a stamp a second old.
    pub corrupt_joint_states: bool,
    /// Fault injection: after every scene description, one that is not JSON (cut short).
    pub corrupt_scene: bool,
    /// Fault injection: after every object-pose message, one with a NaN pose and bytes that
    /// are not a TF message.
    pub corrupt_object_poses: bool,
}

/// Fault injection: bytes published under JointState's type name that are not a JointState
/// (a lone string), as a truncated or foreign writer would send.
#[derive(serde::Serialize, serde::Deserialize)]
struct TruncatedJointState {
    frame_id: String,
}

impl embody_agent::ros_msgs::RosMessage for TruncatedJointState {
    const TYPE: &'static str = JointStateMsg::TYPE;
    fn definition() -> &'static str {
        JointStateMsg::definition()
    }
}

/// Fault injection: bytes published under TFMessage's type name that are not one.
#[derive(serde::Serialize, serde::Deserialize)]
struct TruncatedTf {
    child_frame_id: String,
}

impl embody_agent::ros_msgs::RosMessage for TruncatedTf {
    const TYPE: &'static str = TfMessage::TYPE;
    fn definition() -> &'static str {
        TfMessage::definition()
    }
}

/// A trajectory being followed.
struct Following {
    names: Vec<String>,
    /// (time from receipt, positions), starting with the state at receipt.
    knots: Vec<(f64, Vec<f64>)>,
    received: Instant,
}

impl Following {
    /// Writes the desired positions and velocities now into `q` and `dq`, which are in the
    /// arm's (URDF) order; joints the trajectory does not name keep their values. Names were
    /// matched on receipt.
    fn desired_now(&self, arm_names: &[String], q: &mut [f64], dq: &mut [f64]) {
        let (q_f, dq_f) = self.sample(self.received.elapsed().as_secs_f64());
        for (i, name) in self.names.iter().enumerate() {
            if let Some(j) = arm_names.iter().position(|n| n == name) {
                q[j] = q_f[i];
                dq[j] = dq_f[i];
            }
        }
    }

    /// Target positions and velocities `t` s after receipt (linear between knots).
    fn sample(&self, t: f64) -> (Vec<f64>, Vec<f64>) {
        let last = self.knots.len() - 1;
        if t >= self.knots[last].0 {
            let q = self.knots[last].1.clone();
            let n = q.len();
            return (q, vec![0.0; n]);
        }
        let k = self
            .knots
            .windows(2)
            .position(|w| t < w[1].0)
            .unwrap_or(last - 1);
        let (t0, q0) = &self.knots[k];
        let (t1, q1) = &self.knots[k + 1];
        let span = (t1 - t0).max(1e-9);
        let a = ((t - t0) / span).clamp(0.0, 1.0);
        let q = q0.iter().zip(q1).map(|(x, y)| x + a * (y - x)).collect();
        let dq = q0.iter().zip(q1).map(|(x, y)| (y - x) / span).collect();
        (q, dq)
    }
}

fn wall_stamp() -> Time {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Time {
        sec: d.as_secs() as i32,
        nanosec: d.subsec_nanos(),
    }
}

/// Serves `scenario` (seed from `opts`) until `stop`, the duration, or embody's "finished"
/// status; returns the outcome as JSON.
pub fn serve(
    scenario: Arc<Scenario>,
    opts: &SimNodeOptions,
    stop: &AtomicBool,
) -> Result<serde_json::Value, RosError> {
    let world = World::new(scenario.clone(), opts.seed)?;
    let cfg = &opts.cfg.clone().for_arm(&world.arm);
    let mut node = RosNode::new("embody_sim", cfg.domain_id, &cfg.security)?;
    let mut ep = Endpoints::open(&mut node, opts, &scenario)?;
    // The URDF, latched, as robot_state_publisher does: `deploy --robot-description` reads the
    // arm from it.
    let _ = ep.description.publish(StringMsg {
        data: world.urdf_text.clone(),
    });
    let hz = scenario.robot.control_rate_hz;
    let substeps = ((1.0 / hz / world.dt()).round() as usize).max(1);
    let every_tenth_s = ((0.1 * hz).round() as u64).max(1);
    let mut sim = SimState::new(world, cfg);
    let mut table = Table::set(&sim.world, 0, opts.seed);
    // Outcomes of the tables that were reset (`new_scene_when_done`).
    let mut episodes = Vec::new();
    let mut rate = WallRate::new(hz);
    let mut late = LatencyHistogram::default();
    let started = Instant::now();
    let mut tick: u64 = 0;
    tracing::info!(scenario = %scenario.name, seed = opts.seed, rate_hz = hz, "simulated robot on ROS 2");
    loop {
        late.record(rate.wait());
        tick += 1;
        if stop.load(Ordering::SeqCst)
            || opts
                .duration_s
                .is_some_and(|d| started.elapsed().as_secs_f64() > d)
            || (opts.exit_when_done && sim.finished.is_some())
        {
            break;
        }
        sim.take_commands(&mut ep, opts, table.episode);
        if opts.new_scene_when_done && sim.finished.is_some() {
            sim.settle();
            let judged = table.judge(&sim, &scenario);
            tracing::info!(episode = table.episode, outcome = %judged, "table done; setting a new one");
            episodes.push(judged);
            let seed = opts.seed.wrapping_add(table.episode + 1);
            sim.reset(World::new(scenario.clone(), seed)?);
            table = Table::set(&sim.world, table.episode + 1, seed);
            // Poses first, then the scene: deploy starts on the new scene with its poses.
            sim.publish_poses(&ep, cfg, wall_stamp());
            let _ = ep.scene_out.publish(StringMsg {
                data: table.scene_json.clone(),
            });
        }
        sim.advance(&mut ep, substeps, tick.is_multiple_of(every_tenth_s));
        let stamp = wall_stamp();
        let silenced = match (opts.silence_joint_states_after_s, sim.first_command) {
            (Some(after), Some(t)) => t.elapsed().as_secs_f64() > after,
            _ => false,
        };
        if !silenced {
            sim.publish_joint_states(&ep, opts, tick, stamp);
        }
        if tick.is_multiple_of(every_tenth_s) {
            sim.publish_poses(&ep, cfg, stamp);
        }
        if let Some(camera) = &ep.camera {
            let every = ((hz / camera.spec.rate_hz).round() as u64).max(1);
            if tick.is_multiple_of(every) {
                camera.publish(&sim.world, stamp);
            }
        }
        if tick % (every_tenth_s * 10) == 1 {
            let _ = ep.scene_out.publish(StringMsg {
                data: table.scene_json.clone(),
            });
            if opts.corrupt_scene {
                // Newest last: a subscriber must look past it to the good one before.
                let _ = ep.scene_out.publish(StringMsg {
                    data: table.scene_json[..table.scene_json.len() / 2].to_string(),
                });
            }
        }
    }
    sim.settle();
    let outcome = table.judge(&sim, &scenario);
    Ok(json!({
        "success": outcome["success"],
        "objects_cleared": outcome["objects_cleared"],
        "objects_total": outcome["objects_total"],
        "objects": outcome["objects"],
        "seed": table.seed,
        "episodes": episodes,
        "embody_finished": sim.finished.is_some(),
        "sim_time_s": sim.world.time(),
        "state_hash": format!("{:016x}", sim.world.state_hash()),
        "rejected_trajectories": sim.rejected + ep.arm_actions.rejected,
        "accepted_goals": ep.arm_actions.accepted,
        "accepted_trajectories": sim.accepted_trajectories,
        "max_joint_travel_rad": sim.max_travel_rad,
        "control_rate_hz": hz,
        "tick_late_p50_us": late.percentile_us(50.0),
        "tick_late_p99_us": late.percentile_us(99.0),
        "tick_late_max_us": late.percentile_us(100.0),
        "dropped_messages": sim.dropped.by_topic(),
    }))
}

/// The table being served: its scene description and where its objects started.
struct Table {
    episode: u64,
    seed: u64,
    scene_json: String,
    initial: std::collections::BTreeMap<String, nalgebra::Isometry3<f64>>,
}

impl Table {
    fn set(world: &World, episode: u64, seed: u64) -> Self {
        let scene = SceneInfo {
            objects: world.object_infos(),
            containers: world.containers.clone(),
            table_height_m: 0.0,
            episode: Some(episode),
        };
        Table {
            episode,
            seed,
            scene_json: serde_json::to_string(&scene).unwrap_or_default(),
            initial: embody_sim::runner::object_poses_by_id(world),
        }
    }

    /// The table's outcome by the scenario's goal and the plan of embody's "finished" status.
    fn judge(&self, sim: &SimState, scenario: &Scenario) -> serde_json::Value {
        let plan: Option<Plan> = sim
            .finished
            .as_ref()
            .and_then(|v| serde_json::from_value(v["plan"].clone()).ok());
        let outcome = judge(
            &sim.world,
            scenario,
            plan.as_ref(),
            plan.is_none(),
            &self.initial,
        );
        json!({
            "episode": self.episode,
            "seed": self.seed,
            "success": outcome.success,
            "objects_cleared": outcome.cleared,
            "objects_total": outcome.total,
            "objects": outcome.objects,
            "embody_ok": sim.finished.as_ref().map(|v| v["ok"].clone()),
        })
    }
}

/// The node's topics and action servers.
struct Endpoints {
    joint_states: Publisher<JointStateMsg>,
    /// Fault injection only (`corrupt_joint_states`).
    truncated: Option<Publisher<TruncatedJointState>>,
    /// Fault injection only (`corrupt_object_poses`).
    truncated_tf: Option<Publisher<TruncatedTf>>,
    tf: Publisher<TfMessage>,
    objects: Publisher<TfMessage>,
    scene_out: Publisher<StringMsg>,
    description: Publisher<StringMsg>,
    detections: Publisher<Detection3DArrayMsg>,
    trajectories: Subscription<JointTrajectoryMsg>,
    gripper_in: Subscription<GripperCommandMsg>,
    status_in: Subscription<StringMsg>,
    camera: Option<CameraOut>,
    arm_actions: ArmActions,
    gripper_actions: GripperActions,
}

impl Endpoints {
    fn open(
        node: &mut RosNode,
        opts: &SimNodeOptions,
        scenario: &Scenario,
    ) -> Result<Self, RosError> {
        let cfg = &opts.cfg;
        let q = default_qos();
        let joint_states = node.publisher(&cfg.joint_states_topic, &q)?;
        let truncated = if opts.corrupt_joint_states {
            Some(node.publisher(&cfg.joint_states_topic, &q)?)
        } else {
            None
        };
        let truncated_tf = if opts.corrupt_object_poses {
            Some(node.publisher(&cfg.objects_topic, &q)?)
        } else {
            None
        };
        let tf = node.publisher(&cfg.tf_topic, &q)?;
        let objects = node.publisher(&cfg.objects_topic, &q)?;
        let scene_out = node.publisher(&cfg.scene_topic, &latched_qos())?;
        let description = node.publisher(&cfg.robot_description_topic, &latched_qos())?;
        let detections = node.publisher(&cfg.detections_topic, &q)?;
        let trajectories = node.subscription(&cfg.trajectory_topic(), &q)?;
        let gripper_in = node.subscription(&cfg.gripper_topic(), &q)?;
        let status_in = node.subscription(&cfg.status_topic, &latched_qos())?;
        // Camera images, when the scenario has a camera (rendered in the control loop: a frame
        // costs a few control ticks of lateness, which the wall-clock schedule catches up).
        let camera = match scenario.cameras.first() {
            None => None,
            Some(spec) => {
                let ns = cfg.camera_namespace.trim_end_matches('/');
                Some(CameraOut {
                    spec: spec.clone(),
                    color: node.publisher(&format!("{ns}/color/image_raw"), &q)?,
                    depth: node.publisher(&format!("{ns}/depth/image_raw"), &q)?,
                    segmentation: node.publisher(&format!("{ns}/segmentation"), &q)?,
                    info: node.publisher(&format!("{ns}/color/camera_info"), &q)?,
                })
            }
        };
        Ok(Self {
            joint_states,
            truncated,
            truncated_tf,
            tf,
            objects,
            scene_out,
            description,
            detections,
            trajectories,
            gripper_in,
            status_in,
            camera,
            arm_actions: ArmActions::new(node, &cfg.controller, cfg.request_reply.mapping())?,
            gripper_actions: GripperActions::new(node, &cfg.gripper, cfg.request_reply.mapping())?,
        })
    }
}

/// The scenario's first camera and its four topics.
struct CameraOut {
    spec: CameraSpec,
    color: Publisher<ImageMsg>,
    depth: Publisher<ImageMsg>,
    /// Instance ids (mono16), as a segmentation node on a robot would publish them.
    segmentation: Publisher<ImageMsg>,
    info: Publisher<CameraInfoMsg>,
}

impl CameraOut {
    fn publish(&self, world: &World, stamp: Time) {
        // The scenario's validation bounds the size; render checks it again rather than trust.
        let frame = match render(world, &self.spec) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(camera = %self.spec.name, %e, "no image published");
                return;
            }
        };
        let header = Header {
            stamp,
            frame_id: format!("{}_optical_frame", self.spec.name),
        };
        let _ = self.color.publish(ImageMsg::color(&frame, header.clone()));
        let _ = self.depth.publish(ImageMsg::depth(&frame, header.clone()));
        let _ = self
            .segmentation
            .publish(ImageMsg::segmentation(&frame, header.clone()));
        let _ = self.info.publish(CameraInfoMsg::of(&frame, header));
    }
}

/// The simulated robot between ticks: the world, what its controllers are following, and
/// what a test reads afterwards.
struct SimState {
    world: World,
    arm_names: Vec<String>,
    finger_joints: Vec<String>,
    target_q: Vec<f64>,
    target_dq: Vec<f64>,
    /// Gripper target: (width m, force N).
    gripper: (f64, f64),
    following: Option<Following>,
    first_command: Option<Instant>,
    /// embody's "finished" status, when it came.
    finished: Option<serde_json::Value>,
    rejected: usize,
    /// Accepted topic trajectories, and how far the arm ever got from where it started: what
    /// a test reads to tell that commands from a node without keys had no effect.
    accepted_trajectories: usize,
    q_start: Option<Vec<f64>>,
    max_travel_rad: f64,
    dropped: crate::transport::Dropped,
}

impl SimState {
    fn new(world: World, cfg: &RosConfig) -> Self {
        let arm_names = world.arm.joint_names();
        if arm_names != cfg.joint_names {
            tracing::warn!(?arm_names, configured = ?cfg.joint_names, "the URDF's arm joints differ from the configured names; publishing the URDF's");
        }
        let (home, _) = world.arm_state();
        Self {
            arm_names,
            finger_joints: cfg.finger_joints.clone(),
            target_dq: vec![0.0; home.len()],
            target_q: home,
            gripper: (world.max_gripper_width(), 0.0),
            following: None,
            first_command: None,
            finished: None,
            rejected: 0,
            accepted_trajectories: 0,
            q_start: None,
            max_travel_rad: 0.0,
            dropped: Default::default(),
            world,
        }
    }

    /// Everything that arrived since the last tick: trajectories (topic and action), gripper
    /// commands (topic and action) and embody's status.
    fn take_commands(&mut self, ep: &mut Endpoints, opts: &SimNodeOptions, episode: u64) {
        let cfg = &opts.cfg;
        let (q_now, _) = self.world.arm_state();
        let q0 = self.q_start.get_or_insert_with(|| q_now.clone());
        for (a, b) in q_now.iter().zip(q0.iter()) {
            self.max_travel_rad = self.max_travel_rad.max((a - b).abs());
        }
        // A new trajectory starts from where the last one wants the arm now, not from where
        // the arm is (ros2_control's `interpolate_from_desired_state`): starting each tick's
        // one-point trajectory from the measured position would restart the desired motion from
        // behind every tick, and the arm would lag further the faster it is commanded. The
        // first trajectory, and the first after a cancel, start from the measured position.
        let start = match &self.following {
            Some(f) => {
                let (mut q, mut dq) = (self.target_q.clone(), self.target_dq.clone());
                f.desired_now(&self.arm_names, &mut q, &mut dq);
                q
            }
            None => q_now.clone(),
        };
        for m in drain(&ep.trajectories, &cfg.trajectory_topic(), &mut self.dropped) {
            match follow(&m, &self.arm_names, &start) {
                Ok(f) => {
                    self.accepted_trajectories += 1;
                    self.following = Some(f);
                    self.first_command.get_or_insert_with(Instant::now);
                }
                Err(why) => {
                    // A JointTrajectoryController rejects such a trajectory and keeps going.
                    self.rejected += 1;
                    tracing::warn!(%why, "trajectory rejected");
                }
            }
        }
        let reject_now = match (opts.reject_goals_after_s, self.first_command) {
            (Some(after), Some(t)) => t.elapsed().as_secs_f64() > after,
            _ => false,
        };
        let arm_names = &self.arm_names;
        if let Some(f) = ep.arm_actions.poll_goals(|g| {
            if reject_now {
                Err("the controller is not accepting goals (fault injection)".into())
            } else {
                follow(&g.trajectory, arm_names, &start)
            }
        }) {
            self.following = Some(f);
            self.first_command.get_or_insert_with(Instant::now);
        }
        let max_width = self.world.max_gripper_width();
        if let Some(g) = ep.gripper_actions.poll_goals(max_width) {
            self.gripper = g;
        }
        if let Some(g) = drain(&ep.gripper_in, &cfg.gripper_topic(), &mut self.dropped).pop() {
            if g.position.is_finite() && g.max_effort.is_finite() {
                self.gripper = ((2.0 * g.position).clamp(0.0, max_width), g.max_effort);
            }
        }
        for s in drain(&ep.status_in, &cfg.status_topic, &mut self.dropped) {
            let v = match serde_json::from_str::<serde_json::Value>(&s.data) {
                Ok(v) => v,
                Err(e) => {
                    self.dropped
                        .record(&cfg.status_topic, &format!("not JSON: {e}"));
                    continue;
                }
            };
            // A status names its table; one that does not is taken as about this table once
            // this table has been commanded (a status repeated for the table before a reset
            // must not end the new one).
            let about_this = match v["episode"].as_u64() {
                Some(e) => e == episode,
                None => self.first_command.is_some(),
            };
            if v["state"] == "finished" && about_this {
                self.finished = Some(v);
            }
        }
    }

    /// One control period: the targets from the trajectory being followed, the physics
    /// substeps, then the action servers' feedback and results.
    fn advance(&mut self, ep: &mut Endpoints, substeps: usize, feedback: bool) {
        if let Some(f) = &self.following {
            f.desired_now(&self.arm_names, &mut self.target_q, &mut self.target_dq);
        }
        self.world.set_targets(
            &self.target_q,
            &self.target_dq,
            self.gripper.0,
            self.gripper.1,
        );
        for _ in 0..substeps {
            self.world.step();
        }
        let (q_after, _) = self.world.arm_state();
        if ep.arm_actions.service(&self.arm_names, &q_after, feedback) {
            // Canceled: hold where the arm is.
            self.following = None;
            self.target_q = q_after;
            self.target_dq.iter_mut().for_each(|v| *v = 0.0);
        }
        ep.gripper_actions.service(self.world.gripper_width());
    }

    fn publish_joint_states(&self, ep: &Endpoints, opts: &SimNodeOptions, tick: u64, stamp: Time) {
        let (q, dq) = self.world.arm_state();
        let half = self.world.gripper_width() / 2.0;
        let mut name = self.arm_names.clone();
        name.extend(self.finger_joints.iter().cloned());
        let mut position = q;
        let mut velocity = dq;
        for _ in &self.finger_joints {
            position.push(half);
            velocity.push(0.0);
        }
        let n = name.len();
        let good = JointStateMsg {
            header: Header {
                stamp,
                frame_id: String::new(),
            },
            name,
            position,
            velocity,
            effort: vec![0.0; n],
        };
        if !opts.corrupt_joint_states {
            let _ = ep.joint_states.publish(good);
            return;
        }
        // The good one goes first: a subscriber that keeps the newest message it can use must
        // look past the broken one.
        let _ = ep.joint_states.publish(good.clone());
        let mut bad = good;
        match tick % 5 {
            0 => bad.position[0] = f64::NAN,
            // A stale stamp (a delayed or replayed message): good values, a second old.
            4 => bad.header.stamp.sec -= 1,
            1 => {
                bad.name.pop();
                bad.position.pop();
            }
            2 => {
                bad.name.remove(0);
                bad.position.remove(0);
            }
            _ => {
                if let Some(t) = &ep.truncated {
                    let _ = t.publish(TruncatedJointState {
                        frame_id: "cut short".into(),
                    });
                }
                return;
            }
        }
        let _ = ep.joint_states.publish(bad);
    }

    /// The TCP on TF and every object's pose, in the base frame.
    fn publish_poses(&self, ep: &Endpoints, cfg: &RosConfig, stamp: Time) {
        let header = Header {
            stamp,
            frame_id: cfg.base_frame.clone(),
        };
        let _ = ep.tf.publish(TfMessage {
            transforms: vec![TransformStamped::from_isometry(
                header.clone(),
                &self.world.arm.tcp_link,
                &self.world.tcp_pose(),
            )],
        });
        let object_poses = self.world.object_poses();
        // The same objects and the containers as a detector would report them.
        let _ = ep.detections.publish(crate::scene::detections_of(
            header.clone(),
            &self.world.object_infos(),
            &object_poses,
            &self.world.containers,
        ));
        let poses = TfMessage {
            transforms: object_poses
                .iter()
                .map(|o| {
                    TransformStamped::from_isometry(
                        header.clone(),
                        &format!("object/{}", o.id),
                        &o.pose_in_base,
                    )
                })
                .collect(),
        };
        let broken = ep.truncated_tf.as_ref().map(|t| (t, poses.clone()));
        let _ = ep.objects.publish(poses);
        // The good one first: a subscriber must look past the broken ones after it.
        if let Some((truncated, mut nan)) = broken {
            if let Some(t) = nan.transforms.first_mut() {
                t.translation[0] = f64::NAN;
            }
            let _ = ep.objects.publish(nan);
            let _ = truncated.publish(TruncatedTf {
                child_frame_id: "cut short".into(),
            });
        }
    }

    /// A new table: the world replaced (the arm at home), the controllers idle; the counters
    /// of the whole serve (rejections, drops) kept.
    fn reset(&mut self, world: World) {
        let (home, _) = world.arm_state();
        self.target_dq = vec![0.0; home.len()];
        self.target_q = home;
        self.gripper = (world.max_gripper_width(), 0.0);
        self.following = None;
        self.first_command = None;
        self.finished = None;
        self.q_start = None;
        self.world = world;
    }

    /// Lets everything come to rest before judging, as the lockstep runner does.
    fn settle(&mut self) {
        for _ in 0..((0.5 / self.world.dt()).round() as u64) {
            self.world.step();
        }
    }
}

/// Checks a trajectory the way a JointTrajectoryController would and prepares to follow it.
fn follow(m: &JointTrajectoryMsg, arm: &[String], start: &[f64]) -> Result<Following, String> {
    if m.points.is_empty() {
        return Err("no points".into());
    }
    if m.joint_names.is_empty() {
        return Err("no joint names".into());
    }
    let mut idx = Vec::with_capacity(m.joint_names.len());
    for n in &m.joint_names {
        idx.push(
            arm.iter()
                .position(|a| a == n)
                .ok_or_else(|| format!("unknown joint '{n}'"))?,
        );
    }
    let mut knots = vec![(0.0, idx.iter().map(|&j| start[j]).collect::<Vec<_>>())];
    let mut last_t = 0.0;
    for (k, p) in m.points.iter().enumerate() {
        if p.positions.len() != idx.len() {
            return Err(format!(
                "point {k} has {} positions for {} joints",
                p.positions.len(),
                idx.len()
            ));
        }
        if p.positions.iter().any(|v| !v.is_finite()) {
            return Err(format!("point {k} has a non-finite position"));
        }
        let t = p.time_from_start.as_secs_f64();
        if k > 0 && t <= last_t {
            return Err(format!("point {k}: time_from_start does not increase"));
        }
        last_t = t;
        knots.push((t, p.positions.clone()));
    }
    Ok(Following {
        names: m.joint_names.clone(),
        knots,
        received: Instant::now(),
    })
}
