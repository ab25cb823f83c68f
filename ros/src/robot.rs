//! `RosRobot`: the agent's `Robot` over ROS 2. Joint states in (held when stale), one-point
//! joint trajectories out on the controller's topic every control tick, gripper commands when
//! they change, the e-stop topic wired to the safety filter's e-stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use embody_agent::robot::{Robot, RobotError};
use embody_agent::ros_msgs::{
    BoolMsg, Detection3DArrayMsg, GripperCommandMsg, Header, JointStateMsg, JointTrajectoryMsg,
    JointTrajectoryPoint, StringMsg, TfMessage, Time,
};
use embody_agent::types::{GripperState, JointCommand, JointState, ObjectPose, Observation};
use embody_agent::ArmModel;
use ros2_client::action::ActionClient;
use ros2_client::action_msgs::{GoalId, GoalStatusEnum};
use ros2_client::{Publisher, RmwRequestId, Subscription};

use crate::actions::{
    client_qos, follow_joint_trajectory_type, gripper_command_type, FollowJointTrajectoryFeedback,
    FollowJointTrajectoryGoal, FollowJointTrajectoryResult, GripperCommandGoal,
    GripperCommandState,
};
use crate::config::Interface;
use crate::transport::topic_name;

use crate::scene::CellGeometry;
use crate::transport::{
    default_qos, drain, latched_qos, newest_accepted, Dropped, RosNode, MAX_DRAIN,
};
use crate::{RosConfig, RosError, SceneInfo};

pub struct RosRobot {
    cfg: RosConfig,
    arm: ArmModel,
    joint_states: Subscription<JointStateMsg>,
    objects: Subscription<TfMessage>,
    estop_in: Subscription<BoolMsg>,
    scene_in: Subscription<StringMsg>,
    /// With `SceneInput::Detections`: the detector's messages, and the cell they complete.
    detections: Option<(Subscription<Detection3DArrayMsg>, CellGeometry)>,
    /// With `SceneInput::Camera`: depth, segmentation and intrinsics, made into frames.
    camera: Option<crate::camera_in::CameraIn>,
    trajectory: Publisher<JointTrajectoryMsg>,
    gripper: Publisher<GripperCommandMsg>,
    status: Publisher<StringMsg>,
    start: Instant,
    latest: Option<(JointStateMsg, Instant)>,
    /// Since when joint states have come without a gap longer than the stale limit. A run
    /// starts only once they have for `STEADY_BEFORE_START`: right after discovery (and with
    /// DDS-Security, while keys are exchanged) the first messages can come in bursts.
    steady_since: Option<Instant>,
    object_poses: Option<Vec<ObjectPose>>,
    scene: Option<SceneInfo>,
    estop: Arc<AtomicBool>,
    last_gripper: Option<(GripperCommandMsg, Instant)>,
    arm_action: Option<
        ActionClient<
            FollowJointTrajectoryGoal,
            FollowJointTrajectoryResult,
            FollowJointTrajectoryFeedback,
        >,
    >,
    gripper_action:
        Option<ActionClient<GripperCommandGoal, GripperCommandState, GripperCommandState>>,
    /// Goals sent and not yet answered.
    pending: Vec<(RmwRequestId, GoalId, Instant)>,
    /// Trajectory goals sent in the last `RECENT_GOALS`, newest last: an abort of any of them
    /// is a fault. (Only the newest would miss a controller that aborts every goal: when a
    /// goal is sent every tick, its status arrives after the next one has gone out.)
    recent_goals: std::collections::VecDeque<(GoalId, Instant)>,
    /// What the controllers refused or aborted: the body cannot be driven.
    fault: Option<String>,
    /// Messages received and not used (undecodable, NaN, missing joints), per topic.
    dropped: Dropped,
    /// Last: publishers and subscriptions go before their node.
    node: RosNode,
}

/// How long a sent trajectory goal's abort still counts (its status may come late).
const RECENT_GOALS: Duration = Duration::from_secs(2);

/// How long joint states must have come without gaps before a run starts.
const STEADY_BEFORE_START: Duration = Duration::from_millis(500);

impl RosRobot {
    /// Joins the ROS 2 graph; `arm` gives the end-effector pose from the joint states.
    pub fn connect(cfg: RosConfig, arm: ArmModel) -> Result<Self, RosError> {
        let mut node = RosNode::new("embody_agent", cfg.domain_id, &cfg.security)?;
        let q = default_qos();
        let arm_action = match cfg.arm_interface {
            Interface::Topic => None,
            Interface::Action => Some(
                node.node_mut()
                    .create_action_client(
                        cfg.request_reply.mapping(),
                        &topic_name(&cfg.trajectory_action())?,
                        &follow_joint_trajectory_type(),
                        client_qos(),
                    )
                    .map_err(|e| RosError::Setup {
                        what: cfg.trajectory_action(),
                        message: format!("{e:?}"),
                    })?,
            ),
        };
        let gripper_action = match cfg.gripper_interface {
            Interface::Topic => None,
            Interface::Action => Some(
                node.node_mut()
                    .create_action_client(
                        cfg.request_reply.mapping(),
                        &topic_name(&cfg.gripper_action())?,
                        &gripper_command_type(),
                        client_qos(),
                    )
                    .map_err(|e| RosError::Setup {
                        what: cfg.gripper_action(),
                        message: format!("{e:?}"),
                    })?,
            ),
        };
        Ok(Self {
            arm_action,
            gripper_action,
            pending: Vec::new(),
            recent_goals: std::collections::VecDeque::new(),
            fault: None,
            dropped: Dropped::default(),
            joint_states: node.subscription(&cfg.joint_states_topic, &q)?,
            objects: node.subscription(&cfg.objects_topic, &q)?,
            estop_in: node.subscription(&cfg.estop_topic, &q)?,
            scene_in: node.subscription(&cfg.scene_topic, &latched_qos())?,
            detections: None,
            camera: None,
            trajectory: node.publisher(&cfg.trajectory_topic(), &q)?,
            gripper: node.publisher(&cfg.gripper_topic(), &q)?,
            status: node.publisher(&cfg.status_topic, &latched_qos())?,
            node,
            cfg,
            arm,
            start: Instant::now(),
            latest: None,
            steady_since: None,
            object_poses: None,
            scene: None,
            estop: Arc::new(AtomicBool::new(false)),
            last_gripper: None,
        })
    }

    /// Set when the e-stop topic says `true`; give it to the safety filter.
    pub fn estop(&self) -> Arc<AtomicBool> {
        self.estop.clone()
    }

    /// Reads the scene from a detector's vision_msgs/Detection3DArray on the detections topic
    /// instead of the scene description and TF frames; `cell` gives the containers and the
    /// table height the detections do not.
    pub fn read_detections(&mut self, cell: CellGeometry) -> Result<(), RosError> {
        let sub = self
            .node
            .subscription(&self.cfg.detections_topic, &default_qos())?;
        self.detections = Some((sub, cell));
        self.cfg.scene_input = crate::config::SceneInput::Detections;
        Ok(())
    }

    /// Takes object poses from a camera on the robot instead of TF frames: depth, instance
    /// segmentation and CameraInfo under the camera namespace, for camera perception; the
    /// camera is at `camera_in_base` (the cell's calibration). The scene description still
    /// names the objects (segmentation id k is its k-th object).
    pub fn read_camera(
        &mut self,
        camera_in_base: nalgebra::Isometry3<f64>,
    ) -> Result<(), RosError> {
        let ns = self.cfg.camera_namespace.clone();
        self.camera = Some(crate::camera_in::CameraIn::new(
            &mut self.node,
            &ns,
            camera_in_base,
        )?);
        self.cfg.scene_input = crate::config::SceneInput::Camera;
        Ok(())
    }

    /// Waits until joint states (and, if `scene`, the scene description and object poses)
    /// have arrived.
    pub fn wait_ready(&mut self, timeout: Duration, scene: bool) -> Result<(), RosError> {
        let t0 = Instant::now();
        loop {
            self.poll()?;
            let have_scene = self.scene.is_some()
                && match &self.camera {
                    Some(c) => c.frame.is_some(),
                    None => self.object_poses.is_some(),
                };
            let steady =
                self.steady_since
                    .is_some_and(|t| t.elapsed() >= STEADY_BEFORE_START)
                    && self.latest.as_ref().is_some_and(|(_, at)| {
                        at.elapsed().as_secs_f64() <= self.cfg.stale_after_s
                    });
            if steady && (!scene || have_scene) {
                return Ok(());
            }
            if t0.elapsed() > timeout {
                let (topic, hint) = if self.latest.is_none() {
                    (
                        self.cfg.joint_states_topic.clone(),
                        "is the robot's joint_state_broadcaster (or `embody sim --ros`) running on this ROS_DOMAIN_ID? With DDS-Security, do both sides use enclaves of the same keystore?",
                    )
                } else if !steady {
                    (
                        self.cfg.joint_states_topic.clone(),
                        "joint states came, but not steadily (gaps longer than --stale-ms); is the robot's publish rate high enough?",
                    )
                } else if let Some(c) = self.camera.as_ref().filter(|_| self.scene.is_some()) {
                    (
                        c.waiting_for().to_string(),
                        "embody needs depth (32FC1), instance segmentation (mono16) and CameraInfo from the robot's camera",
                    )
                } else if self.detections.is_some() {
                    (
                        self.cfg.detections_topic.clone(),
                        "embody needs vision_msgs/Detection3DArray in the base frame from your detector (or `embody sim --ros`)",
                    )
                } else if self.scene.is_none() {
                    (
                        self.cfg.scene_topic.clone(),
                        "embody needs the scene's objects and containers (published by `embody sim --ros`, or by your perception node)",
                    )
                } else {
                    (
                        self.cfg.objects_topic.clone(),
                        "embody needs object poses as TF frames `object/<id>`",
                    )
                };
                return Err(RosError::NoData {
                    topic,
                    waited_s: timeout.as_secs_f64(),
                    hint: hint.into(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until a scene description other than the one numbered `after` has arrived (a
    /// cell that sets a new table after each run numbers them, `SceneInfo::episode`), then
    /// lets the object poses of the new table come in.
    pub fn wait_new_scene(
        &mut self,
        after: Option<u64>,
        timeout: Duration,
    ) -> Result<(), RosError> {
        let t0 = Instant::now();
        while self.scene.as_ref().is_none_or(|s| s.episode == after) {
            if t0.elapsed() > timeout {
                return Err(RosError::NoData {
                    topic: self.cfg.scene_topic.clone(),
                    waited_s: timeout.as_secs_f64(),
                    hint: "no new table after the last run: does the cell set one (`embody sim --ros --new-scene-when-done`)?".into(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
            self.poll()?;
        }
        // Object poses come at 10 Hz: two periods, so that those of the old table are gone.
        let settle = Instant::now();
        while settle.elapsed() < Duration::from_millis(250) {
            std::thread::sleep(Duration::from_millis(10));
            self.poll()?;
        }
        Ok(())
    }

    /// How long ago the joint state in use arrived (what `observe` reports is that old).
    pub fn state_age(&self) -> Option<Duration> {
        self.latest.as_ref().map(|(_, at)| at.elapsed())
    }

    /// The robot's own stamp (s) on the joint state in use; `None` before the first one or
    /// when the driver does not stamp (zero).
    pub fn state_stamp_s(&self) -> Option<f64> {
        let (m, _) = self.latest.as_ref()?;
        let t = &m.header.stamp;
        (t.sec != 0 || t.nanosec != 0).then_some(t.sec as f64 + t.nanosec as f64 * 1e-9)
    }

    pub fn scene(&self) -> Option<&SceneInfo> {
        self.scene.as_ref()
    }

    /// Publishes embody's state (JSON) on the status topic.
    pub fn publish_status(&self, json: &serde_json::Value) {
        if let Err(e) = self.status.publish(StringMsg {
            data: json.to_string(),
        }) {
            tracing::warn!(?e, "cannot publish status");
        }
    }

    /// Takes what arrived on every subscription.
    fn poll(&mut self) -> Result<(), RosError> {
        let now = Instant::now();
        let topic = self.cfg.joint_states_topic.clone();
        // The newest joint state that is whole: a bad one is dropped and the last good one
        // stays in use until it goes stale (then `observe` stops the run and the arm holds).
        let mut dropped = std::mem::take(&mut self.dropped);
        let states = drain(&self.joint_states, &topic, &mut dropped);
        let last_stamp = self
            .latest
            .as_ref()
            .map(|(m, _)| stamp_key(&m.header.stamp));
        if let Some(m) = newest_accepted(states, &topic, &mut dropped, |m| {
            fresh_stamp(&m, last_stamp)?;
            self.arm_joints(&m)
                .and_then(|_| self.finger_width(&m))
                .map(|_| m)
                .map_err(|e| e.to_string())
        }) {
            let gap_ok = self.latest.as_ref().is_some_and(|(_, at)| {
                now.duration_since(*at).as_secs_f64() <= self.cfg.stale_after_s
            });
            if !gap_ok {
                self.steady_since = Some(now);
            }
            self.latest = Some((m, now));
        }
        self.dropped = dropped;
        // The newest object poses that are all finite, with unit-length rotations: one bad
        // pose drops its message, and the poses before it stay in use.
        let topic = &self.cfg.objects_topic;
        let tfs = drain(&self.objects, topic, &mut self.dropped);
        if let Some(poses) = newest_accepted(tfs, topic, &mut self.dropped, object_poses) {
            if self.detections.is_none() {
                self.object_poses = Some(poses);
            }
        }
        // Or a camera's frames.
        let now = self.now();
        if let Some(c) = &mut self.camera {
            c.poll(&mut self.dropped, now);
        }
        // Or the scene and poses from a detector: the newest message that is whole.
        if let Some((sub, cell)) = &self.detections {
            let topic = &self.cfg.detections_topic;
            let msgs = drain(sub, topic, &mut self.dropped);
            let base = &self.cfg.base_frame;
            if let Some((scene, poses)) = newest_accepted(msgs, topic, &mut self.dropped, |m| {
                crate::scene::scene_from_detections(&m, base, cell)
            }) {
                self.scene = Some(scene);
                self.object_poses = Some(poses);
            }
        }
        // An e-stop message that does not decode is taken as a press: on this topic, failing
        // safe matters more than a run going on.
        let before = self.dropped.total();
        let pressed = drain(&self.estop_in, &self.cfg.estop_topic, &mut self.dropped)
            .iter()
            .any(|b| b.data)
            || self.dropped.total() > before;
        if pressed && !self.estop.swap(true, Ordering::SeqCst) {
            tracing::warn!(topic = %self.cfg.estop_topic, "e-stop");
        }
        self.poll_actions();
        // The newest scene that parses; the broken ones after it are counted and dropped.
        let topic = &self.cfg.scene_topic;
        let scenes = drain(&self.scene_in, topic, &mut self.dropped);
        if let Some(scene) = newest_accepted(scenes, topic, &mut self.dropped, |s| {
            serde_json::from_str::<SceneInfo>(&s.data)
                .map_err(|e| format!("not a scene description: {e}"))
        }) {
            if self.detections.is_none() {
                self.scene = Some(scene);
            }
        }
        Ok(())
    }

    /// Answers to trajectory goals and their statuses: a rejected or aborted goal is a fault.
    fn poll_actions(&mut self) {
        let Some(client) = &self.arm_action else {
            return;
        };
        let controller = self.cfg.controller.clone();
        // What does not decode is counted and skipped, like any topic's; at most
        // `MAX_DRAIN` of each per call, so a flood cannot hold the loop.
        let action = format!("{controller}/follow_joint_trajectory");
        for _ in 0..MAX_DRAIN {
            match client.goal_client().receive_response() {
                Ok(Some((req, resp))) => {
                    if let Some(k) = self.pending.iter().position(|(r, _, _)| *r == req) {
                        self.pending.swap_remove(k);
                        if !resp.accepted && self.fault.is_none() {
                            self.fault = Some(format!("{controller} rejected a trajectory goal"));
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => self
                    .dropped
                    .record(&format!("{action} (goal responses)"), &format!("{e:?}")),
            }
        }
        // Goals lost before the server was discovered are never answered.
        self.pending
            .retain(|(_, _, at)| at.elapsed() < Duration::from_secs(2));
        for _ in 0..MAX_DRAIN {
            match client.receive_status() {
                Ok(Some(statuses)) => {
                    for s in &statuses.status_list {
                        if s.status == GoalStatusEnum::Aborted
                            && self
                                .recent_goals
                                .iter()
                                .any(|(g, _)| *g == s.goal_info.goal_id)
                            && self.fault.is_none()
                        {
                            self.fault = Some(format!("{controller} aborted the trajectory goal"));
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => self
                    .dropped
                    .record(&format!("{action} (statuses)"), &format!("{e:?}")),
            }
        }
    }

    /// The gripper's opening: the sum of the finger joints' positions, each of which must be
    /// in the message and finite.
    fn finger_width(&self, m: &JointStateMsg) -> Result<f64, RobotError> {
        let mut width = 0.0;
        for f in &self.cfg.finger_joints {
            let p = m
                .name
                .iter()
                .position(|n| n == f)
                .and_then(|i| m.position.get(i))
                .ok_or_else(|| {
                    RobotError::Other(format!(
                        "{} has no position for finger joint '{f}'",
                        self.cfg.joint_states_topic
                    ))
                })?;
            if !p.is_finite() {
                return Err(RobotError::Other(format!(
                    "{}: finger joint '{f}' position is {p}",
                    self.cfg.joint_states_topic
                )));
            }
            width += p;
        }
        Ok(width)
    }

    /// Messages received and dropped so far, per topic.
    pub fn dropped(&self) -> &Dropped {
        &self.dropped
    }

    /// The configured joints' positions and velocities, in the configured order.
    fn arm_joints(&self, m: &JointStateMsg) -> Result<(Vec<f64>, Vec<f64>), RobotError> {
        let mut q = Vec::with_capacity(self.cfg.joint_names.len());
        let mut dq = Vec::with_capacity(self.cfg.joint_names.len());
        for name in &self.cfg.joint_names {
            let i = m.name.iter().position(|n| n == name).ok_or_else(|| {
                RobotError::Other(format!(
                    "{} has no joint '{name}' (it has: {})",
                    self.cfg.joint_states_topic,
                    m.name.join(", ")
                ))
            })?;
            let p = *m.position.get(i).ok_or_else(|| {
                RobotError::Other(format!(
                    "{}: '{name}' has no position",
                    self.cfg.joint_states_topic
                ))
            })?;
            if !p.is_finite() {
                return Err(RobotError::Other(format!(
                    "{}: '{name}' position is {p}",
                    self.cfg.joint_states_topic
                )));
            }
            q.push(p);
            dq.push(
                m.velocity
                    .get(i)
                    .copied()
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0),
            );
        }
        Ok((q, dq))
    }
}

impl Robot for RosRobot {
    fn observe(&mut self) -> Result<Observation, RobotError> {
        self.poll().map_err(|e| RobotError::Other(e.to_string()))?;
        if let Some(f) = &self.fault {
            return Err(RobotError::Stopped(f.clone()));
        }
        let Some((msg, at)) = &self.latest else {
            return Err(RobotError::Stopped(format!(
                "no joint states on {}",
                self.cfg.joint_states_topic
            )));
        };
        let age = at.elapsed().as_secs_f64();
        if age > self.cfg.stale_after_s {
            return Err(RobotError::Stopped(format!(
                "joint states on {} are stale: the last came {:.0} ms ago (limit {:.0} ms)",
                self.cfg.joint_states_topic,
                age * 1e3,
                self.cfg.stale_after_s * 1e3
            )));
        }
        let (position, velocity) = self.arm_joints(msg)?;
        let width = self.finger_width(msg)?;
        let stamp = self.now();
        let n = position.len();
        Ok(Observation {
            stamp,
            ee_in_base: self.arm.forward(&position),
            joints: JointState {
                names: self.cfg.joint_names.clone(),
                position,
                velocity,
                effort: vec![0.0; n],
                stamp,
            },
            gripper: GripperState {
                width_m: width,
                force_n: 0.0,
            },
            camera: self.camera.as_ref().and_then(|c| c.frame.clone()),
            privileged: self.object_poses.clone(),
        })
    }

    fn command(&mut self, cmd: &JointCommand) -> Result<(), RobotError> {
        cmd.check(self.cfg.joint_names.len())?;
        // A zero stamp means "start now" to a JointTrajectoryController, whatever the clocks.
        let traj = JointTrajectoryMsg {
            header: Header {
                stamp: Time::default(),
                frame_id: String::new(),
            },
            joint_names: self.cfg.joint_names.clone(),
            points: vec![JointTrajectoryPoint {
                positions: cmd.positions.clone(),
                velocities: cmd.velocities.clone(),
                accelerations: vec![],
                effort: vec![],
                time_from_start: Time::from_secs_f64(self.cfg.point_horizon_s),
            }],
        };
        match &self.arm_action {
            None => self
                .trajectory
                .publish(traj)
                .map_err(|e| RobotError::Other(format!("cannot publish the trajectory: {e:?}")))?,
            Some(client) => {
                // Each tick's goal preempts the last, as a JointTrajectoryController allows.
                let goal = FollowJointTrajectoryGoal {
                    trajectory: traj,
                    ..Default::default()
                };
                let (req, id) = client.send_goal(goal).map_err(|e| {
                    RobotError::Other(format!("cannot send the trajectory goal: {e:?}"))
                })?;
                let now = Instant::now();
                self.pending.push((req, id, now));
                self.recent_goals.push_back((id, now));
                while self
                    .recent_goals
                    .front()
                    .is_some_and(|(_, at)| now.duration_since(*at) > RECENT_GOALS)
                {
                    self.recent_goals.pop_front();
                }
            }
        }
        let g = GripperCommandMsg {
            position: cmd.gripper.width_m / 2.0,
            max_effort: cmd.gripper.max_force_n,
        };
        // Only changes, and a reminder now and then (a lost message must not leave the gripper
        // stuck).
        let send = match &self.last_gripper {
            None => true,
            Some((last, at)) => {
                (last.position - g.position).abs() > 1e-4
                    || (last.max_effort - g.max_effort).abs() > 1e-3
                    || at.elapsed() > Duration::from_millis(200)
            }
        };
        if send {
            match &self.gripper_action {
                None => self.gripper.publish(g).map_err(|e| {
                    RobotError::Other(format!("cannot publish the gripper command: {e:?}"))
                })?,
                Some(client) => {
                    client
                        .send_goal(GripperCommandGoal { command: g })
                        .map_err(|e| {
                            RobotError::Other(format!("cannot send the gripper goal: {e:?}"))
                        })?;
                }
            }
            self.last_gripper = Some((g, Instant::now()));
        }
        Ok(())
    }

    /// Time passes by itself on a real robot; the control stage paces the loop.
    fn advance(&mut self, _dt_s: f64) -> Result<(), RobotError> {
        Ok(())
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

/// The `object/<id>` frames of a TF message, refused whole if any pose is not finite or its
/// rotation is not a unit quaternion (within 1e-3: senders round).
fn object_poses(tf: TfMessage) -> Result<Vec<ObjectPose>, String> {
    let mut poses = Vec::new();
    for t in &tf.transforms {
        let Some(id) = t.child_frame_id.strip_prefix("object/") else {
            continue;
        };
        if t.translation
            .iter()
            .chain(&t.rotation)
            .any(|v| !v.is_finite())
        {
            return Err(format!("object '{id}': a pose that is not finite"));
        }
        let norm = t.rotation.iter().map(|v| v * v).sum::<f64>().sqrt();
        if (norm - 1.0).abs() > 1e-3 {
            return Err(format!(
                "object '{id}': rotation is not a unit quaternion (norm {norm})"
            ));
        }
        poses.push(ObjectPose {
            id: id.to_string(),
            pose_in_base: t.to_isometry(),
        });
    }
    Ok(poses)
}

/// A stamp as a comparable (seconds, nanoseconds) pair.
fn stamp_key(t: &Time) -> (i32, u32) {
    (t.sec, t.nanosec)
}

/// A joint state must be newer than the last one accepted: an older stamp is a message
/// delayed, replayed or out of order, and the same stamp again is a driver repeating a state it
/// no longer measures (so that a stalled driver's state goes stale and the arm holds). A zero
/// stamp (a driver that does not stamp) is taken as it comes. Only the order of stamps is
/// checked, never their distance from this machine's clock: a robot on simulated time, or
/// with a clock of its own, stamps on another time base.
fn fresh_stamp(m: &JointStateMsg, last: Option<(i32, u32)>) -> Result<(), String> {
    let stamp = stamp_key(&m.header.stamp);
    match last {
        Some(last) if stamp != (0, 0) && stamp <= last => Err(format!(
            "stamp {}.{:09} s is not newer than the last accepted {}.{:09} s",
            stamp.0, stamp.1, last.0, last.1
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embody_agent::ros_msgs::{Header, TransformStamped};

    fn state_at(sec: i32, nanosec: u32) -> JointStateMsg {
        JointStateMsg {
            header: Header {
                stamp: Time { sec, nanosec },
                frame_id: String::new(),
            },
            name: vec![],
            position: vec![],
            velocity: vec![],
            effort: vec![],
        }
    }

    #[test]
    fn only_newer_joint_state_stamps_are_fresh() {
        let last = Some((100, 500));
        assert!(fresh_stamp(&state_at(100, 501), last).is_ok());
        assert!(fresh_stamp(&state_at(101, 0), last).is_ok());
        // Repeated (a stalled driver), older (delayed or replayed).
        assert!(fresh_stamp(&state_at(100, 500), last).is_err());
        assert!(fresh_stamp(&state_at(99, 999_999_999), last).is_err());
        // Unstamped drivers, and the first message, are taken as they come.
        assert!(fresh_stamp(&state_at(0, 0), last).is_ok());
        assert!(fresh_stamp(&state_at(5, 0), None).is_ok());
    }

    #[test]
    fn object_poses_are_refused_whole_when_one_is_broken() {
        let frame = |id: &str, translation: [f64; 3], rotation: [f64; 4]| TransformStamped {
            header: Header::default(),
            child_frame_id: id.into(),
            translation,
            rotation,
        };
        let good = frame("object/cube", [0.1, 0.2, 0.3], [0.0, 0.0, 0.0, 1.0]);
        let other = frame("world/lamp", [f64::NAN; 3], [0.0; 4]);
        let ok = object_poses(TfMessage {
            transforms: vec![good.clone(), other],
        })
        .unwrap();
        assert_eq!(ok.len(), 1, "frames that are not objects are ignored");
        for bad in [
            frame("object/can", [f64::NAN, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]),
            frame("object/can", [0.0; 3], [0.0, 0.0, 0.0, f64::INFINITY]),
            frame("object/can", [0.0; 3], [0.0, 0.0, 0.0, 0.0]),
            frame("object/can", [0.0; 3], [0.0, 0.0, 0.0, 2.0]),
        ] {
            let e = object_poses(TfMessage {
                transforms: vec![good.clone(), bad],
            })
            .unwrap_err();
            assert!(e.contains("'can'"), "{e}");
        }
    }
}
