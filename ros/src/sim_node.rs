//! The simulator as a ROS 2 robot: on the wall clock, it publishes joint states every control
//! tick, TF, object poses and the scene description, and follows joint trajectories and gripper
//! commands the way ros2_control's controllers do (interpolating from the state at receipt
//! through each point's `time_from_start`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use embody_agent::clock::{LatencyHistogram, WallRate};
use embody_agent::ros_msgs::{
    CameraInfoMsg, GripperCommandMsg, Header, ImageMsg, JointStateMsg, JointTrajectoryMsg,
    StringMsg, TfMessage, Time, TransformStamped,
};
use embody_agent::Plan;
use embody_sim::camera::render;
use embody_sim::runner::{judge, Judgement};
use embody_sim::{Scenario, World};
use serde_json::json;

use crate::sim_actions::{ArmActions, GripperActions};
use crate::transport::{default_qos, drain, latched_qos, RosNode};
use crate::{RosConfig, RosError, SceneInfo};

#[derive(Clone, Debug, Default)]
pub struct SimNodeOptions {
    pub cfg: RosConfig,
    pub seed: u64,
    /// End once embody's status says the run finished (and print the outcome).
    pub exit_when_done: bool,
    /// End after this long (s) of wall time.
    pub duration_s: Option<f64>,
    /// Fault injection: stop publishing joint states this long (s) after the first trajectory.
    pub silence_joint_states_after_s: Option<f64>,
    /// Fault injection: reject FollowJointTrajectory goals this long (s) after the first
    /// trajectory.
    pub reject_goals_after_s: Option<f64>,
    /// Fault injection: after every joint state, one that is broken in turn: a NaN arm joint,
    /// a missing finger, a missing arm joint, a message cut short.
    pub corrupt_joint_states: bool,
    /// Fault injection: after every scene description, one that is not JSON (cut short).
    pub corrupt_scene: bool,
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

/// A trajectory being followed.
struct Following {
    names: Vec<String>,
    /// (time from receipt, positions), starting with the state at receipt.
    knots: Vec<(f64, Vec<f64>)>,
    received: Instant,
}

impl Following {
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
    let cfg = &opts.cfg;
    let mut world = World::new(scenario.clone(), opts.seed)?;
    let initial = embody_sim::runner::object_poses_by_id(&world);
    let mut node = RosNode::new("embody_sim", cfg.domain_id, &cfg.security)?;
    let q = default_qos();
    let joint_states = node.publisher::<JointStateMsg>(&cfg.joint_states_topic, &q)?;
    let truncated = if opts.corrupt_joint_states {
        Some(node.publisher::<TruncatedJointState>(&cfg.joint_states_topic, &q)?)
    } else {
        None
    };
    let tf = node.publisher::<TfMessage>(&cfg.tf_topic, &q)?;
    let objects = node.publisher::<TfMessage>(&cfg.objects_topic, &q)?;
    let scene_out = node.publisher::<StringMsg>(&cfg.scene_topic, &latched_qos())?;
    let trajectories = node.subscription::<JointTrajectoryMsg>(&cfg.trajectory_topic(), &q)?;
    let gripper_in = node.subscription::<GripperCommandMsg>(&cfg.gripper_topic(), &q)?;
    let status_in = node.subscription::<StringMsg>(&cfg.status_topic, &latched_qos())?;
    // Camera images, when the scenario has a camera (rendered in this loop: a frame costs a few
    // control ticks of lateness, which the wall-clock schedule catches up).
    let camera = match scenario.cameras.first() {
        None => None,
        Some(spec) => {
            let ns = cfg.camera_namespace.trim_end_matches('/');
            Some((
                spec.clone(),
                node.publisher::<ImageMsg>(&format!("{ns}/color/image_raw"), &q)?,
                node.publisher::<ImageMsg>(&format!("{ns}/depth/image_raw"), &q)?,
                node.publisher::<CameraInfoMsg>(&format!("{ns}/color/camera_info"), &q)?,
            ))
        }
    };
    let mut arm_actions = ArmActions::new(&mut node, &cfg.controller)?;
    let mut gripper_actions = GripperActions::new(&mut node, &cfg.gripper)?;

    let scene = SceneInfo {
        objects: world.object_infos(),
        containers: world.containers.clone(),
        table_height_m: 0.0,
    };
    let scene_json = serde_json::to_string(&scene).unwrap_or_default();
    let hz = scenario.robot.control_rate_hz;
    let control_dt = 1.0 / hz;
    let substeps = ((control_dt / world.dt()).round() as usize).max(1);
    let every_tenth_s = ((0.1 * hz).round() as u64).max(1);
    let arm_names = world.arm.joint_names();
    if arm_names != cfg.joint_names {
        tracing::warn!(?arm_names, configured = ?cfg.joint_names, "the URDF's arm joints differ from the configured names; publishing the URDF's");
    }
    let (home, _) = world.arm_state();
    let mut target_q = home;
    let mut target_dq = vec![0.0; target_q.len()];
    let mut gripper = (world.max_gripper_width(), 0.0);
    let mut following: Option<Following> = None;
    let mut first_command: Option<Instant> = None;
    let mut finished: Option<serde_json::Value> = None;
    let mut rate = WallRate::new(hz);
    let mut late = LatencyHistogram::default();
    let started = Instant::now();
    let mut tick: u64 = 0;
    let mut rejected = 0usize;
    // Accepted topic trajectories, and how far the arm ever got from where it started: what a
    // test reads to tell that commands from a node without keys had no effect.
    let mut accepted_trajectories = 0usize;
    let mut q_start: Option<Vec<f64>> = None;
    let mut max_travel_rad = 0.0f64;
    let mut dropped = crate::transport::Dropped::default();
    tracing::info!(scenario = %scenario.name, seed = opts.seed, rate_hz = hz, "simulated robot on ROS 2");
    loop {
        late.record(rate.wait());
        tick += 1;
        if stop.load(Ordering::SeqCst)
            || opts
                .duration_s
                .is_some_and(|d| started.elapsed().as_secs_f64() > d)
            || (opts.exit_when_done && finished.is_some())
        {
            break;
        }
        let (q_now, _) = world.arm_state();
        let q0 = q_start.get_or_insert_with(|| q_now.clone());
        for (a, b) in q_now.iter().zip(q0.iter()) {
            max_travel_rad = max_travel_rad.max((a - b).abs());
        }
        for m in drain(&trajectories, &cfg.trajectory_topic(), &mut dropped) {
            match follow(&m, &arm_names, &q_now) {
                Ok(f) => {
                    accepted_trajectories += 1;
                    following = Some(f);
                    first_command.get_or_insert_with(Instant::now);
                }
                Err(why) => {
                    // A JointTrajectoryController rejects such a trajectory and keeps going.
                    rejected += 1;
                    tracing::warn!(%why, "trajectory rejected");
                }
            }
        }
        let reject_now = match (opts.reject_goals_after_s, first_command) {
            (Some(after), Some(t)) => t.elapsed().as_secs_f64() > after,
            _ => false,
        };
        if let Some(f) = arm_actions.poll_goals(|g| {
            if reject_now {
                Err("the controller is not accepting goals (fault injection)".into())
            } else {
                follow(&g.trajectory, &arm_names, &q_now)
            }
        }) {
            following = Some(f);
            first_command.get_or_insert_with(Instant::now);
        }
        if let Some(g) = gripper_actions.poll_goals(world.max_gripper_width()) {
            gripper = g;
        }
        if let Some(g) = drain(&gripper_in, &cfg.gripper_topic(), &mut dropped).pop() {
            if g.position.is_finite() && g.max_effort.is_finite() {
                gripper = (
                    (2.0 * g.position).clamp(0.0, world.max_gripper_width()),
                    g.max_effort,
                );
            }
        }
        for s in drain(&status_in, &cfg.status_topic, &mut dropped) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&s.data) {
                if v["state"] == "finished" {
                    finished = Some(v);
                }
            }
        }
        if let Some(f) = &following {
            let (q, dq) = f.sample(f.received.elapsed().as_secs_f64());
            // Names were matched on receipt; reorder into the URDF's order.
            for (i, name) in f.names.iter().enumerate() {
                if let Some(j) = arm_names.iter().position(|n| n == name) {
                    target_q[j] = q[i];
                    target_dq[j] = dq[i];
                }
            }
        }
        world.set_targets(&target_q, &target_dq, gripper.0, gripper.1);
        for _ in 0..substeps {
            world.step();
        }

        let (q_after, _) = world.arm_state();
        if arm_actions.service(&arm_names, &q_after, tick.is_multiple_of(every_tenth_s)) {
            // Canceled: hold where the arm is.
            following = None;
            target_q = q_after.clone();
            target_dq.iter_mut().for_each(|v| *v = 0.0);
        }
        gripper_actions.service(world.gripper_width());
        let silenced = match (opts.silence_joint_states_after_s, first_command) {
            (Some(after), Some(t)) => t.elapsed().as_secs_f64() > after,
            _ => false,
        };
        let stamp = wall_stamp();
        if !silenced {
            let (q, dq) = world.arm_state();
            let half = world.gripper_width() / 2.0;
            let mut name = arm_names.clone();
            name.extend(cfg.finger_joints.iter().cloned());
            let mut position = q;
            let mut velocity = dq;
            for _ in &cfg.finger_joints {
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
            if opts.corrupt_joint_states {
                // The good one goes first: a subscriber that keeps the newest message it can
                // use must look past the broken one.
                let _ = joint_states.publish(good.clone());
                let mut bad = good;
                match tick % 4 {
                    0 => bad.position[0] = f64::NAN,
                    1 => {
                        bad.name.pop();
                        bad.position.pop();
                    }
                    2 => {
                        bad.name.remove(0);
                        bad.position.remove(0);
                    }
                    _ => {
                        if let Some(t) = &truncated {
                            let _ = t.publish(TruncatedJointState {
                                frame_id: "cut short".into(),
                            });
                        }
                    }
                }
                if tick % 4 != 3 {
                    let _ = joint_states.publish(bad);
                }
            } else {
                let _ = joint_states.publish(good);
            }
        }
        if tick.is_multiple_of(every_tenth_s) {
            let header = Header {
                stamp,
                frame_id: cfg.base_frame.clone(),
            };
            let _ = tf.publish(TfMessage {
                transforms: vec![TransformStamped::from_isometry(
                    header.clone(),
                    "panda_hand_tcp",
                    &world.tcp_pose(),
                )],
            });
            let _ = objects.publish(TfMessage {
                transforms: world
                    .object_poses()
                    .iter()
                    .map(|o| {
                        TransformStamped::from_isometry(
                            header.clone(),
                            &format!("object/{}", o.id),
                            &o.pose_in_base,
                        )
                    })
                    .collect(),
            });
        }
        if let Some((spec, color, depth, info)) = &camera {
            let every = ((hz / spec.rate_hz).round() as u64).max(1);
            if tick.is_multiple_of(every) {
                let frame = render(&world, spec);
                let header = Header {
                    stamp,
                    frame_id: format!("{}_optical_frame", spec.name),
                };
                let _ = color.publish(ImageMsg::color(&frame, header.clone()));
                let _ = depth.publish(ImageMsg::depth(&frame, header.clone()));
                let _ = info.publish(CameraInfoMsg::of(&frame, header));
            }
        }
        if tick % (every_tenth_s * 10) == 1 {
            let _ = scene_out.publish(StringMsg {
                data: scene_json.clone(),
            });
            if opts.corrupt_scene {
                // Newest last: a subscriber must look past it to the good one before.
                let _ = scene_out.publish(StringMsg {
                    data: scene_json[..scene_json.len() / 2].to_string(),
                });
            }
        }
    }
    // Let everything come to rest before judging, as the lockstep runner does.
    for _ in 0..((0.5 / world.dt()).round() as u64) {
        world.step();
    }
    let plan: Option<Plan> = finished
        .as_ref()
        .and_then(|v| serde_json::from_value(v["plan"].clone()).ok());
    let Judgement {
        success,
        cleared,
        total,
        objects,
    } = judge(&world, &scenario, plan.as_ref(), plan.is_none(), &initial);
    Ok(json!({
        "success": success,
        "objects_cleared": cleared,
        "objects_total": total,
        "objects": objects,
        "embody_finished": finished.is_some(),
        "sim_time_s": world.time(),
        "state_hash": format!("{:016x}", world.state_hash()),
        "rejected_trajectories": rejected + arm_actions.rejected,
        "accepted_goals": arm_actions.accepted,
        "accepted_trajectories": accepted_trajectories,
        "max_joint_travel_rad": max_travel_rad,
        "control_rate_hz": hz,
        "tick_late_p50_us": late.percentile_us(50.0),
        "tick_late_p99_us": late.percentile_us(99.0),
        "dropped_messages": dropped.by_topic(),
    }))
}

/// Checks a trajectory the way a JointTrajectoryController would and prepares to follow it.
fn follow(m: &JointTrajectoryMsg, arm: &[String], q_now: &[f64]) -> Result<Following, String> {
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
    let mut knots = vec![(0.0, idx.iter().map(|&j| q_now[j]).collect::<Vec<_>>())];
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
