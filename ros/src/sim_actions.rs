//! The simulated robot's action servers, as ros2_control's controllers behave: a
//! JointTrajectoryController's FollowJointTrajectory (a new goal preempts the running one;
//! the goal ends when its last point's time has passed, checked against the goal tolerances)
//! and a GripperActionController's GripperCommand (ends when the fingers reach the gap or
//! stall).

use std::collections::VecDeque;
use std::time::Instant;

use embody_agent::ros_msgs::{Header, JointTrajectoryPoint, Time};
use ros2_client::action::{ActionServer, GetResultResponse, SendGoalResponse};
use ros2_client::action_msgs::{
    CancelGoalResponse, CancelGoalResponseEnum, GoalId, GoalInfo, GoalStatus, GoalStatusArray,
    GoalStatusEnum,
};
use ros2_client::builtin_interfaces::Time as RosTime;
use ros2_client::unique_identifier_msgs::UUID;
use ros2_client::{RmwRequestId, ServiceMapping};

use crate::actions::*;
use crate::transport::{topic_name, RosNode};
use crate::RosError;

type ArmServer = ActionServer<
    FollowJointTrajectoryGoal,
    FollowJointTrajectoryResult,
    FollowJointTrajectoryFeedback,
>;
type GripperServer = ActionServer<GripperCommandGoal, GripperCommandState, GripperCommandState>;

fn setup(what: &str, e: impl std::fmt::Debug) -> RosError {
    RosError::Setup {
        what: what.into(),
        message: format!("{e:?}"),
    }
}

/// An action server named `name`, with rcl's QoS.
fn action_server<G, R, F>(
    node: &mut RosNode,
    name: &str,
    kind: &ros2_client::ActionTypeName,
    mapping: ServiceMapping,
) -> Result<ActionServer<G, R, F>, RosError>
where
    G: ros2_client::Message + Clone + 'static,
    R: ros2_client::Message + Clone + 'static,
    F: ros2_client::Message + 'static,
{
    node.node_mut()
        .create_action_server(mapping, &topic_name(name)?, kind, server_qos())
        .map_err(|e| setup(name, e))
}

/// Takes result requests and answers those whose goal has ended (the others wait).
fn answer_results<G, R, F>(server: &ActionServer<G, R, F>, ended: &mut Ended<R>)
where
    G: ros2_client::Message + Clone + 'static,
    R: ros2_client::Message + Clone + 'static,
    F: ros2_client::Message + 'static,
{
    while let Ok(Some((req, r))) = server.receive_result_request() {
        ended.waiting.push((req, r.goal_id));
    }
    let waiting = std::mem::take(&mut ended.waiting);
    for (req, id) in waiting {
        match ended.find(&id) {
            Some((status, result)) => {
                let _ = server.send_result(req, GetResultResponse { status, result });
            }
            None => ended.waiting.push((req, id)),
        }
    }
}

/// Goals that ended, with their results, for late result requests.
struct Ended<R> {
    done: VecDeque<(GoalInfo, GoalStatusEnum, R)>,
    waiting: Vec<(RmwRequestId, GoalId)>,
}

impl<R: Clone> Ended<R> {
    fn new() -> Self {
        Self {
            done: VecDeque::new(),
            waiting: Vec::new(),
        }
    }
    fn push(&mut self, info: GoalInfo, status: GoalStatusEnum, result: R) {
        self.done.push_back((info, status, result));
        while self.done.len() > 32 {
            self.done.pop_front();
        }
    }
    fn find(&self, id: &GoalId) -> Option<(GoalStatusEnum, R)> {
        self.done
            .iter()
            .find(|(i, _, _)| i.goal_id == *id)
            .map(|(_, s, r)| (*s, r.clone()))
    }
}

/// The goal being executed.
pub struct ActiveArmGoal {
    pub info: GoalInfo,
    pub final_positions: Vec<f64>,
    pub names: Vec<String>,
    pub tolerance: Vec<JointTolerance>,
    /// Seconds after receipt at which the trajectory ends (plus the goal time tolerance).
    pub ends_after_s: f64,
    pub received: Instant,
}

pub struct ArmActions {
    server: ArmServer,
    pub active: Option<ActiveArmGoal>,
    ended: Ended<FollowJointTrajectoryResult>,
    pub rejected: usize,
    pub accepted: usize,
    status_dirty: bool,
}

fn now_stamp() -> RosTime {
    RosTime::now()
}

impl ArmActions {
    pub fn new(
        node: &mut RosNode,
        controller: &str,
        mapping: ServiceMapping,
    ) -> Result<Self, RosError> {
        let name = format!("/{}/follow_joint_trajectory", controller.trim_matches('/'));
        let server = action_server(node, &name, &follow_joint_trajectory_type(), mapping)?;
        Ok(Self {
            server,
            active: None,
            ended: Ended::new(),
            rejected: 0,
            accepted: 0,
            status_dirty: false,
        })
    }

    /// Takes new goals: `check` turns a goal into something to follow or a reason to reject.
    /// Returns the goal to start following, if one was accepted.
    pub fn poll_goals<T>(
        &mut self,
        mut check: impl FnMut(&FollowJointTrajectoryGoal) -> Result<T, String>,
    ) -> Option<T> {
        let mut started = None;
        while let Ok(Some((req, send))) = self.server.receive_goal() {
            let stamp = now_stamp();
            match check(&send.goal) {
                Err(why) => {
                    tracing::warn!(%why, "FollowJointTrajectory goal rejected");
                    self.rejected += 1;
                    let _ = self.server.send_goal_response(
                        req,
                        SendGoalResponse {
                            accepted: false,
                            stamp,
                        },
                    );
                    // A client may still ask for the result of a rejected goal.
                    self.ended.push(
                        GoalInfo {
                            goal_id: send.goal_id,
                            stamp,
                        },
                        GoalStatusEnum::Aborted,
                        FollowJointTrajectoryResult {
                            error_code: error_code::INVALID_GOAL,
                            error_string: why,
                        },
                    );
                }
                Ok(t) => {
                    self.accepted += 1;
                    let _ = self.server.send_goal_response(
                        req,
                        SendGoalResponse {
                            accepted: true,
                            stamp,
                        },
                    );
                    if let Some(old) = self.active.take() {
                        self.end(
                            old.info,
                            GoalStatusEnum::Canceled,
                            error_code::SUCCESSFUL,
                            "preempted by a newer goal".into(),
                        );
                    }
                    let traj = &send.goal.trajectory;
                    let last = traj.points.last();
                    self.active = Some(ActiveArmGoal {
                        info: GoalInfo {
                            goal_id: send.goal_id,
                            stamp,
                        },
                        final_positions: last.map(|p| p.positions.clone()).unwrap_or_default(),
                        names: traj.joint_names.clone(),
                        tolerance: send.goal.goal_tolerance.clone(),
                        ends_after_s: last.map(|p| p.time_from_start.as_secs_f64()).unwrap_or(0.0)
                            + send.goal.goal_time_tolerance.as_secs_f64(),
                        received: Instant::now(),
                    });
                    self.status_dirty = true;
                    started = Some(t);
                }
            }
        }
        started
    }

    fn end(&mut self, info: GoalInfo, status: GoalStatusEnum, code: i32, why: String) {
        self.ended.push(
            info,
            status,
            FollowJointTrajectoryResult {
                error_code: code,
                error_string: why,
            },
        );
        self.status_dirty = true;
    }

    /// Ends the active goal once its time is up (judged on `q_now` against the goal
    /// tolerances), answers cancels and result requests, publishes feedback and statuses.
    /// Returns true when a cancel stopped the arm (hold where it is).
    pub fn service(&mut self, arm_names: &[String], q_now: &[f64], feedback: bool) -> bool {
        let mut stop = false;
        if let Some(a) = &self.active {
            if a.received.elapsed().as_secs_f64() >= a.ends_after_s {
                let mut worst: Option<String> = None;
                for tol in a.tolerance.iter().filter(|t| t.position > 0.0) {
                    let (Some(i), Some(j)) = (
                        a.names.iter().position(|n| *n == tol.name),
                        arm_names.iter().position(|n| *n == tol.name),
                    ) else {
                        continue;
                    };
                    let err = (q_now[j] - a.final_positions[i]).abs();
                    if err > tol.position {
                        worst = Some(format!(
                            "{} is {err:.4} rad from its goal (tolerance {:.4})",
                            tol.name, tol.position
                        ));
                    }
                }
                let info = a.info.clone();
                self.active = None;
                match worst {
                    None => self.end(
                        info,
                        GoalStatusEnum::Succeeded,
                        error_code::SUCCESSFUL,
                        String::new(),
                    ),
                    Some(w) => self.end(
                        info,
                        GoalStatusEnum::Aborted,
                        error_code::GOAL_TOLERANCE_VIOLATED,
                        w,
                    ),
                }
            }
        }
        while let Ok(Some((req, cancel))) = self.server.receive_cancel_request() {
            // ros2-client keeps the request's fields to itself; its serde form does not.
            let wanted: Option<GoalInfo> = serde_json::to_value(&cancel)
                .ok()
                .and_then(|v| serde_json::from_value(v["goal_info"].clone()).ok());
            let wanted_id = wanted.map(|w| w.goal_id).unwrap_or(UUID::ZERO);
            let hit = self
                .active
                .as_ref()
                .is_some_and(|a| wanted_id == UUID::ZERO || a.info.goal_id == wanted_id);
            let response = if hit {
                let a = self.active.take().expect("checked");
                let info = a.info.clone();
                self.end(
                    info.clone(),
                    GoalStatusEnum::Canceled,
                    error_code::SUCCESSFUL,
                    "canceled".into(),
                );
                stop = true;
                CancelGoalResponse {
                    return_code: CancelGoalResponseEnum::None,
                    goals_canceling: vec![info],
                }
            } else {
                CancelGoalResponse {
                    return_code: if self.ended.find(&wanted_id).is_some() {
                        CancelGoalResponseEnum::GoalTerminated
                    } else {
                        CancelGoalResponseEnum::UnknownGoal
                    },
                    goals_canceling: vec![],
                }
            };
            let _ = self.server.send_cancel_response(req, response);
        }
        answer_results(&self.server, &mut self.ended);
        if feedback {
            if let Some(a) = &self.active {
                let actual: Vec<f64> = a
                    .names
                    .iter()
                    .map(|n| {
                        arm_names
                            .iter()
                            .position(|m| m == n)
                            .map(|j| q_now[j])
                            .unwrap_or(f64::NAN)
                    })
                    .collect();
                let error = actual
                    .iter()
                    .zip(&a.final_positions)
                    .map(|(x, y)| y - x)
                    .collect();
                let _ = self.server.send_feedback(
                    a.info.goal_id,
                    FollowJointTrajectoryFeedback {
                        header: Header::default(),
                        joint_names: a.names.clone(),
                        desired: JointTrajectoryPoint {
                            positions: a.final_positions.clone(),
                            ..Default::default()
                        },
                        actual: JointTrajectoryPoint {
                            positions: actual,
                            ..Default::default()
                        },
                        error: JointTrajectoryPoint {
                            positions: error,
                            time_from_start: Time::default(),
                            ..Default::default()
                        },
                        ..Default::default()
                    },
                );
            }
        }
        if self.status_dirty {
            self.status_dirty = false;
            let mut list: Vec<GoalStatus> = self
                .ended
                .done
                .iter()
                .rev()
                .take(8)
                .map(|(info, status, _)| GoalStatus {
                    goal_info: info.clone(),
                    status: *status,
                })
                .collect();
            if let Some(a) = &self.active {
                list.push(GoalStatus {
                    goal_info: a.info.clone(),
                    status: GoalStatusEnum::Executing,
                });
            }
            let _ = self
                .server
                .send_goal_statuses(GoalStatusArray { status_list: list });
        }
        stop
    }
}

/// The gripper's action server.
pub struct GripperActions {
    server: GripperServer,
    active: Option<(GoalInfo, f64)>,
    ended: Ended<GripperCommandState>,
    /// Width (m) over the last ticks, to see a stall.
    recent: VecDeque<f64>,
}

impl GripperActions {
    pub fn new(
        node: &mut RosNode,
        gripper: &str,
        mapping: ServiceMapping,
    ) -> Result<Self, RosError> {
        let name = format!("/{}/gripper_cmd", gripper.trim_matches('/'));
        let server = action_server(node, &name, &gripper_command_type(), mapping)?;
        Ok(Self {
            server,
            active: None,
            ended: Ended::new(),
            recent: VecDeque::new(),
        })
    }

    /// New goals (the latest wins): returns the (gap m, max effort N) to drive to.
    pub fn poll_goals(&mut self, max_gap: f64) -> Option<(f64, f64)> {
        let mut set = None;
        while let Ok(Some((req, send))) = self.server.receive_goal() {
            let stamp = now_stamp();
            let c = send.goal.command;
            let ok = c.position.is_finite() && c.max_effort.is_finite() && c.max_effort >= 0.0;
            let _ = self.server.send_goal_response(
                req,
                SendGoalResponse {
                    accepted: ok,
                    stamp,
                },
            );
            if !ok {
                continue;
            }
            let info = GoalInfo {
                goal_id: send.goal_id,
                stamp,
            };
            if let Some((old, _)) = self.active.take() {
                self.ended.push(
                    old,
                    GoalStatusEnum::Canceled,
                    GripperCommandState::default(),
                );
            }
            // The Panda's GripperCommand position is one finger's travel: half the gap.
            let gap = (2.0 * c.position).clamp(0.0, max_gap);
            self.active = Some((info, gap));
            self.recent.clear();
            set = Some((gap, c.max_effort));
        }
        set
    }

    /// Ends the goal when the fingers reach the gap or stop moving (grasping an object).
    pub fn service(&mut self, gap_now: f64) {
        self.recent.push_back(gap_now);
        while self.recent.len() > 30 {
            self.recent.pop_front();
        }
        if let Some((info, goal)) = &self.active {
            let reached = (gap_now - goal).abs() < 0.002;
            let still = self.recent.len() == 30
                && self
                    .recent
                    .iter()
                    .fold(0.0f64, |m, w| m.max((w - gap_now).abs()))
                    < 0.0005;
            if reached || still {
                let state = GripperCommandState {
                    position: gap_now / 2.0,
                    effort: 0.0,
                    stalled: still && !reached,
                    reached_goal: reached,
                };
                let status = if reached || still {
                    GoalStatusEnum::Succeeded
                } else {
                    GoalStatusEnum::Aborted
                };
                self.ended.push(info.clone(), status, state);
                self.active = None;
            }
        }
        answer_results(&self.server, &mut self.ended);
    }
}
