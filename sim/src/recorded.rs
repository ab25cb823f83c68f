//! A log's arm and gripper commands and its joint states, in time order, checked: what
//! `embody replay --to-ros` sends to a robot. Logs of the simulator and of `embody deploy` hold
//! the same channels.

use embody_agent::log::{RecorderConfig, RecoveredLog, ScenarioRecord, JOINT_STATES_TOPIC};
use embody_agent::ros_msgs::{GripperCommandMsg, JointStateMsg, JointTrajectoryMsg, RosMessage};

use crate::replay::{bad, scenario_record, ReplayError};

/// One control tick's command as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedCommand {
    /// Robot time (s) since the run's start.
    pub t: f64,
    /// In the order of `RecordedRun::joint_names`.
    pub positions: Vec<f64>,
    pub velocities: Vec<f64>,
    /// The gripper command in force at `t` (opening m, force N).
    pub gripper_width_m: f64,
    pub gripper_force_n: f64,
}

/// A recorded joint state, the arm's joints only.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedState {
    pub t: f64,
    /// In the order of `RecordedRun::joint_names`.
    pub positions: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct RecordedRun {
    pub scenario: ScenarioRecord,
    /// The arm's joints, as the commands name them.
    pub joint_names: Vec<String>,
    pub commands: Vec<RecordedCommand>,
    pub states: Vec<RecordedState>,
}

impl RecordedRun {
    /// The newest recorded state at or before `t` (the first if none is).
    pub fn state_at(&self, t: f64) -> Option<&RecordedState> {
        let k = self.states.partition_point(|s| s.t <= t);
        self.states.get(k.saturating_sub(1))
    }

    /// The recorded joint positions at `t`, linear between the states around it (the first or
    /// last state outside the recorded span).
    pub fn positions_at(&self, t: f64) -> Option<Vec<f64>> {
        let k = self.states.partition_point(|s| s.t <= t);
        let (Some(a), Some(b)) = (self.states.get(k.saturating_sub(1)), self.states.get(k)) else {
            return self.state_at(t).map(|s| s.positions.clone());
        };
        let span = b.t - a.t;
        let w = if span > 0.0 {
            ((t - a.t) / span).clamp(0.0, 1.0)
        } else {
            0.0
        };
        Some(
            a.positions
                .iter()
                .zip(&b.positions)
                .map(|(x, y)| x + w * (y - x))
                .collect(),
        )
    }
}

/// Reads the commands and states of `log` for an arm with `arm_joints` (its URDF's, in order).
/// A command names no joints (embody's recorder: the URDF's order) or exactly those; each has a
/// finite position and velocity per joint; times must not go back. A log without commands is
/// refused: there is nothing to send.
pub fn recorded_run(
    log: &RecoveredLog,
    names: &RecorderConfig,
    arm_joints: &[String],
) -> Result<RecordedRun, ReplayError> {
    let scenario = scenario_record(log)?;
    let mut commands = Vec::new();
    let mut states = Vec::new();
    // Until the first gripper command: the fingers as the first joint state has them.
    let mut gripper: Option<(f64, f64)> = None;
    let mut last_t = f64::NEG_INFINITY;
    for m in &log.messages {
        let t = m.time_s();
        if m.topic == names.arm_command_topic {
            let c = JointTrajectoryMsg::from_cdr(&m.data).map_err(|e| bad(log, m, e))?;
            if !c.joint_names.is_empty() && c.joint_names != arm_joints {
                return Err(bad(
                    log,
                    m,
                    format!(
                        "names joints {:?}, the arm has {:?}",
                        c.joint_names, arm_joints
                    ),
                ));
            }
            let point = c.points.first().ok_or_else(|| bad(log, m, "no point"))?;
            let n = arm_joints.len();
            let velocities = if point.velocities.is_empty() {
                vec![0.0; n]
            } else {
                point.velocities.clone()
            };
            if point.positions.len() != n || velocities.len() != n {
                return Err(bad(log, m, format!("a point that is not {n} joints long")));
            }
            if point
                .positions
                .iter()
                .chain(&velocities)
                .any(|v| !v.is_finite())
            {
                return Err(bad(log, m, "a position or velocity that is not finite"));
            }
            if t < last_t {
                return Err(bad(log, m, format!("goes back in time from {last_t:.3} s")));
            }
            last_t = t;
            let (width, force) = gripper.unwrap_or((0.0, 0.0));
            commands.push(RecordedCommand {
                t,
                positions: point.positions.clone(),
                velocities,
                gripper_width_m: width,
                gripper_force_n: force,
            });
        } else if m.topic == names.gripper_command_topic {
            let g = GripperCommandMsg::from_cdr(&m.data).map_err(|e| bad(log, m, e))?;
            if !(g.position.is_finite() && g.max_effort.is_finite()) {
                return Err(bad(log, m, "a gripper command that is not finite"));
            }
            gripper = Some((2.0 * g.position, g.max_effort));
        } else if m.topic == JOINT_STATES_TOPIC {
            let s = JointStateMsg::from_cdr(&m.data).map_err(|e| bad(log, m, e))?;
            if gripper.is_none() {
                let fingers: Vec<f64> = names
                    .finger_joints
                    .iter()
                    .filter_map(|f| s.name.iter().position(|n| n == f))
                    .filter_map(|i| s.position.get(i).copied())
                    .collect();
                if let Some(half) = fingers.first().filter(|v| v.is_finite()) {
                    gripper = Some((2.0 * half, 0.0));
                }
            }
            states.push((t, s));
        }
    }
    if commands.is_empty() {
        return Err(ReplayError::NoCommands {
            path: log.path.clone(),
            topic: names.arm_command_topic.clone(),
        });
    }
    let joint_names = arm_joints.to_vec();
    // States in the commands' joint order (and in time order, for `state_at`); ones that
    // lack a joint are left out.
    states.sort_by(|a, b| a.0.total_cmp(&b.0));
    let states = states
        .into_iter()
        .filter_map(|(t, s)| {
            let positions: Option<Vec<f64>> = joint_names
                .iter()
                .map(|j| {
                    let i = s.name.iter().position(|n| n == j)?;
                    s.position.get(i).copied().filter(|v| v.is_finite())
                })
                .collect();
            Some(RecordedState {
                t,
                positions: positions?,
            })
        })
        .collect();
    Ok(RecordedRun {
        scenario,
        joint_names,
        commands,
        states,
    })
}
