//! Replays a log in the simulator: rebuild the world from `/embody/scenario`, re-apply every
//! recorded command in lockstep, and compare every recorded joint state and pose bit for bit.

use std::sync::Arc;

use embody_agent::log::{
    LogMessage, OutcomeRecord, RecorderConfig, RecoveredLog, ScenarioRecord, JOINT_STATES_TOPIC,
    OUTCOME_TOPIC, SCENARIO_TOPIC, TF_TOPIC,
};
use embody_agent::ros_msgs::{
    GripperCommandMsg, JointStateMsg, JointTrajectoryMsg, RosMessage, TfMessage,
};
use serde::Serialize;
use thiserror::Error;

use crate::scenario::Scenario;
use crate::world::World;
use crate::SimError;

#[derive(Debug, Error)]
pub enum ReplayError {
    #[error("{path}: no /embody/scenario record, so the world cannot be rebuilt (is this an embody log?)")]
    NoScenario { path: String },
    #[error("{path}: bad {topic} record at {t:.3} s: {message}")]
    BadRecord {
        path: String,
        topic: String,
        t: f64,
        message: String,
    },
    #[error("{path} was recorded by {recorded} and cannot be replayed bit-exactly by this build ({current}); use that version")]
    BuildMismatch {
        path: String,
        recorded: String,
        current: String,
    },
    #[error("{path} holds no arm commands on {topic}: there is nothing to send")]
    NoCommands { path: String, topic: String },
    #[error("{path} was recorded on a robot over ROS 2 (`embody deploy`): there is no simulated world to re-run; use --summary")]
    Deployed { path: String },
    #[error("{path}: the recorded scenario no longer loads: {source}")]
    Scenario { path: String, source: SimError },
    #[error("{path}: {topic} record (message {index} of the log) is at {t:.3} s of simulated time, past the end of any episode of its scenario: a replay stops at {limit_s:.1} s (twice the recorded scenario's time_limit_s of {time_limit_s} s, plus {REPLAY_MARGIN_S} s); the log is damaged or not an embody log")]
    PastTheEnd {
        path: String,
        topic: String,
        /// 1-based position among the log's messages.
        index: usize,
        t: f64,
        limit_s: f64,
        time_limit_s: f64,
    },
}

/// Time a replay may run past twice the recorded scenario's time limit (s). An episode stops
/// at its time limit at most one action chunk late, then settles for half a second; twice the
/// limit plus this covers that with room, and still bounds what a damaged or crafted stamp can
/// make the replay simulate to a few times a real episode (the scenario caps its time limit
/// and physics step, so this is a bounded number of steps).
pub const REPLAY_MARGIN_S: f64 = 60.0;

/// Where a replay first differed from the log.
#[derive(Clone, Debug, Serialize)]
pub struct Divergence {
    pub t: f64,
    pub channel: String,
    /// Joint name or frame id.
    pub item: String,
    pub field: String,
    pub recorded: f64,
    pub replayed: f64,
    pub error: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    pub bit_exact: bool,
    pub commands_applied: usize,
    pub states_compared: usize,
    pub values_compared: u64,
    pub divergence: Option<Divergence>,
    pub recorded_state_hash: Option<String>,
    pub replayed_state_hash: Option<String>,
    /// Set when the log was damaged: the replay covered what could be read.
    pub log_lost: Option<String>,
    /// The commits that recorded and replayed the log, when they differ (same physics; any
    /// divergence may come from the code between them).
    pub other_commit: Option<(Option<String>, Option<String>)>,
}

/// The `/embody/scenario` record of a log.
pub fn scenario_record(log: &RecoveredLog) -> Result<ScenarioRecord, ReplayError> {
    let m = log
        .on(SCENARIO_TOPIC)
        .next()
        .ok_or_else(|| ReplayError::NoScenario {
            path: log.path.clone(),
        })?;
    serde_json::from_slice(&m.data).map_err(|e| bad(log, m, e))
}

pub(crate) fn bad(log: &RecoveredLog, m: &LogMessage, e: impl std::fmt::Display) -> ReplayError {
    ReplayError::BadRecord {
        path: log.path.clone(),
        topic: m.topic.clone(),
        t: m.time_s(),
        message: e.to_string(),
    }
}

struct Comparer {
    divergence: Option<Divergence>,
    values: u64,
}

impl Comparer {
    fn check(
        &mut self,
        t: f64,
        channel: &str,
        item: &str,
        field: &str,
        recorded: f64,
        replayed: f64,
    ) {
        self.values += 1;
        if self.divergence.is_none() && recorded.to_bits() != replayed.to_bits() {
            self.divergence = Some(Divergence {
                t,
                channel: channel.into(),
                item: item.into(),
                field: field.into(),
                recorded,
                replayed,
                error: (recorded - replayed).abs(),
            });
        }
    }
}

/// The channel, frame and joint names `log` was recorded with: its command topics by their
/// message types, the TCP frame and finger joints from the arm in its own scenario and URDF.
pub fn names_of(log: &RecoveredLog) -> Result<RecorderConfig, ReplayError> {
    let rec = scenario_record(log)?;
    let broken = |source: SimError| ReplayError::Scenario {
        path: log.path.clone(),
        source,
    };
    let scenario =
        Scenario::from_str_at(&rec.scenario_text, std::path::Path::new(&rec.scenario_path))
            .map_err(|e| broken(e.into()))?;
    // A hand-made log without the URDF's text: the scenario's file.
    let urdf = if rec.urdf_text.trim().is_empty() {
        scenario.read_urdf().map_err(broken)?
    } else {
        rec.urdf_text.clone()
    };
    let r = &scenario.robot;
    let arm =
        embody_agent::ArmModel::from_urdf_str(&urdf, &rec.scenario_path, &r.base_link, &r.tcp_link)
            .map_err(|e| broken(e.into()))?;
    Ok(RecorderConfig::for_robot(&arm, &r.controller, &r.gripper_controller).with_topics_of(log))
}

/// Re-simulates the log and compares; stops at the first divergence.
/// `names` are the channel and frame names the log was recorded with.
pub fn verify(log: &RecoveredLog, names: &RecorderConfig) -> Result<VerifyReport, ReplayError> {
    verify_within(log, names, u64::MAX)
}

/// `verify`, stopping with `ReplayError::PastTheEnd` at `max_steps` physics steps even when the
/// recorded scenario allows more: the fuzzer's bound (a crafted log may ask for minutes of
/// simulated time, which the scenario's own bound allows but a fuzzer cannot wait for).
pub fn verify_within(
    log: &RecoveredLog,
    names: &RecorderConfig,
    max_steps: u64,
) -> Result<VerifyReport, ReplayError> {
    let rec = scenario_record(log)?;
    let current = crate::build_info();
    let world = rebuild_world(log, &rec, &current)?;
    let mut replay = Replay::new(log, names, world);
    replay.limit_steps = replay.limit_steps.min(max_steps);
    for (index, m) in log.messages.iter().enumerate() {
        if replay.cmp.divergence.is_some() {
            break;
        }
        replay.message(index, m)?;
    }
    let mut cmp = replay.cmp;
    let hashes_match = match (&replay.recorded_hash, &replay.replayed_hash) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    if cmp.divergence.is_none() && !hashes_match {
        cmp.divergence = Some(Divergence {
            t: replay.world.time(),
            channel: OUTCOME_TOPIC.into(),
            item: "state_hash".into(),
            field: "all bodies".into(),
            recorded: f64::NAN,
            replayed: f64::NAN,
            error: f64::NAN,
        });
    }
    Ok(VerifyReport {
        bit_exact: cmp.divergence.is_none(),
        commands_applied: replay.commands,
        states_compared: replay.states,
        values_compared: cmp.values,
        divergence: cmp.divergence,
        recorded_state_hash: replay.recorded_hash,
        replayed_state_hash: replay.replayed_hash,
        log_lost: log.lost.clone(),
        other_commit: (rec.build.commit != current.commit)
            .then(|| (rec.build.commit.clone(), current.commit.clone())),
    })
}

/// The recorded world, rebuilt from the log's own scenario, URDF and seed; refused for a log
/// from a real robot or from a build with other physics.
fn rebuild_world(
    log: &RecoveredLog,
    rec: &ScenarioRecord,
    current: &embody_agent::log::BuildInfo,
) -> Result<World, ReplayError> {
    if rec.physics["deployed"] == true {
        return Err(ReplayError::Deployed {
            path: log.path.clone(),
        });
    }
    if !rec.build.same_physics(current) {
        return Err(ReplayError::BuildMismatch {
            path: log.path.clone(),
            recorded: format!("{:?}", rec.build),
            current: format!("{current:?}"),
        });
    }
    let scenario =
        Scenario::from_str_at(&rec.scenario_text, std::path::Path::new(&rec.scenario_path))
            .map_err(|e| ReplayError::Scenario {
                path: log.path.clone(),
                source: e.into(),
            })?;
    World::with_urdf_text(Arc::new(scenario), rec.seed, &rec.urdf_text).map_err(|source| {
        ReplayError::Scenario {
            path: log.path.clone(),
            source,
        }
    })
}

/// A replay in progress: the world, the targets the recorded commands set, and what has been
/// compared so far.
struct Replay<'a> {
    log: &'a RecoveredLog,
    names: &'a RecorderConfig,
    world: World,
    /// No stamp may lie past this step (see `REPLAY_MARGIN_S`).
    limit_steps: u64,
    q: Vec<f64>,
    dq: Vec<f64>,
    width: f64,
    force: f64,
    cmp: Comparer,
    commands: usize,
    states: usize,
    recorded_hash: Option<String>,
    replayed_hash: Option<String>,
}

impl<'a> Replay<'a> {
    fn new(log: &'a RecoveredLog, names: &'a RecorderConfig, world: World) -> Self {
        // Every stamp is a number of steps to simulate: none may lie past the end of any
        // episode the recorded scenario can run, or a bad one would step the physics for ever.
        let limit_s = 2.0 * world.scenario.time_limit_s + REPLAY_MARGIN_S;
        Self {
            log,
            names,
            limit_steps: (limit_s / world.dt()).ceil() as u64,
            q: world.scenario.robot.home.clone(),
            dq: vec![0.0; world.arm.dof()],
            width: world.max_gripper_width(),
            force: world.scenario.robot.grip_force_n,
            cmp: Comparer {
                divergence: None,
                values: 0,
            },
            commands: 0,
            states: 0,
            recorded_hash: None,
            replayed_hash: None,
            world,
        }
    }

    /// Steps the world to the message's time, then applies a command or compares a state.
    /// Other channels are skipped.
    fn message(&mut self, index: usize, m: &LogMessage) -> Result<(), ReplayError> {
        let arm_command = m.topic == self.names.arm_command_topic;
        let gripper_command = m.topic == self.names.gripper_command_topic;
        let known = arm_command
            || gripper_command
            || [JOINT_STATES_TOPIC, TF_TOPIC, OUTCOME_TOPIC].contains(&m.topic.as_str());
        if !known {
            return Ok(());
        }
        let target = if m.topic == OUTCOME_TOPIC {
            let o: OutcomeRecord =
                serde_json::from_slice(&m.data).map_err(|e| bad(self.log, m, e))?;
            self.recorded_hash = Some(o.state_hash.clone());
            o.sim_steps
        } else {
            (m.time_s() / self.world.dt()).round() as u64
        };
        self.step_to(index, m, target)?;
        if arm_command {
            self.arm_command(m)
        } else if gripper_command {
            let g = GripperCommandMsg::from_cdr(&m.data).map_err(|e| bad(self.log, m, e))?;
            self.width = g.position * 2.0;
            self.force = g.max_effort;
            self.world
                .set_targets(&self.q, &self.dq, self.width, self.force);
            Ok(())
        } else if m.topic == JOINT_STATES_TOPIC {
            self.joint_states(m)
        } else if m.topic == TF_TOPIC {
            self.transforms(m)
        } else {
            self.replayed_hash = Some(format!("{:016x}", self.world.state_hash()));
            Ok(())
        }
    }

    fn step_to(&mut self, index: usize, m: &LogMessage, target: u64) -> Result<(), ReplayError> {
        let dt = self.world.dt();
        if target > self.limit_steps {
            let time_limit_s = self.world.scenario.time_limit_s;
            return Err(ReplayError::PastTheEnd {
                path: self.log.path.clone(),
                topic: m.topic.clone(),
                index: index + 1,
                t: target as f64 * dt,
                limit_s: 2.0 * time_limit_s + REPLAY_MARGIN_S,
                time_limit_s,
            });
        }
        if self.world.steps() > target {
            return Err(bad(
                self.log,
                m,
                format!(
                    "out of order: the replay is already at step {}",
                    self.world.steps()
                ),
            ));
        }
        while self.world.steps() < target {
            self.world.step();
        }
        Ok(())
    }

    fn arm_command(&mut self, m: &LogMessage) -> Result<(), ReplayError> {
        let n = self.world.arm.dof();
        let msg = JointTrajectoryMsg::from_cdr(&m.data).map_err(|e| bad(self.log, m, e))?;
        let p = msg
            .points
            .first()
            .ok_or_else(|| bad(self.log, m, "no trajectory point"))?;
        if p.positions.len() != n || p.velocities.len() != n {
            return Err(bad(
                self.log,
                m,
                format!("expected {n} positions and velocities"),
            ));
        }
        self.q.clone_from(&p.positions);
        self.dq.clone_from(&p.velocities);
        self.world
            .set_targets(&self.q, &self.dq, self.width, self.force);
        self.commands += 1;
        Ok(())
    }

    fn joint_states(&mut self, m: &LogMessage) -> Result<(), ReplayError> {
        let js = JointStateMsg::from_cdr(&m.data).map_err(|e| bad(self.log, m, e))?;
        let t = self.world.time();
        let n = self.world.arm.dof();
        let (pos, vel) = self.world.arm_state();
        let half = self.world.gripper_width() / 2.0;
        for (i, name) in js.name.iter().enumerate() {
            let (p, v) = if i < n { (pos[i], vel[i]) } else { (half, 0.0) };
            if let Some(r) = js.position.get(i) {
                self.cmp.check(t, &m.topic, name, "position", *r, p);
            }
            if let Some(r) = js.velocity.get(i) {
                self.cmp.check(t, &m.topic, name, "velocity", *r, v);
            }
        }
        self.states += 1;
        Ok(())
    }

    fn transforms(&mut self, m: &LogMessage) -> Result<(), ReplayError> {
        let tf = TfMessage::from_cdr(&m.data).map_err(|e| bad(self.log, m, e))?;
        let t = self.world.time();
        let poses = self.world.object_poses();
        for tr in &tf.transforms {
            let replayed = if tr.child_frame_id == self.names.tcp_frame {
                Some(self.world.tcp_pose())
            } else {
                poses
                    .iter()
                    .find(|o| o.id == tr.child_frame_id)
                    .map(|o| o.pose_in_base)
            };
            let Some(p) = replayed else {
                return Err(bad(
                    self.log,
                    m,
                    format!("unknown frame '{}'", tr.child_frame_id),
                ));
            };
            let v = p.translation.vector;
            let r = p.rotation.quaternion();
            let replay = [v.x, v.y, v.z, r.i, r.j, r.k, r.w];
            let recorded = tr.translation.iter().chain(&tr.rotation);
            for ((field, rec), rep) in ["x", "y", "z", "qx", "qy", "qz", "qw"]
                .iter()
                .zip(recorded)
                .zip(replay)
            {
                self.cmp
                    .check(t, &m.topic, &tr.child_frame_id, field, *rec, rep);
            }
        }
        self.states += 1;
        Ok(())
    }
}
