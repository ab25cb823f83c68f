//! Runs one episode: perceive, plan, then execute each skill with a policy and a controller,
//! check its outcome from perception, retry or give up with a reason.
//!
//! In simulation everything advances in lockstep with the robot's clock, so an episode is a pure
//! function of the scenario, seed and code: the property replay and the tests rely on.

use nalgebra::Isometry3;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::controller::Controller;
use crate::perception::Perception;
use crate::planner::{Instruction, PlanError, Planner};
use crate::policy::{Policy, PolicyError};
use crate::robot::{Robot, RobotError};
use crate::safety::{Intervention, SafetyFilter};
use crate::types::{
    ActionChunk, GripperCommand, JointCommand, Observation, Plan, SceneGraph, Skill,
};

#[derive(Clone, Debug)]
pub struct EpisodeConfig {
    pub instruction: Instruction,
    /// Episode time limit on the robot clock (s).
    pub time_limit_s: f64,
    /// Longest a single skill attempt may take (s).
    pub skill_timeout_s: f64,
    /// Attempts per skill before the step is given up.
    pub max_attempts: usize,
    /// Times the planner is asked again, from the scene as it is, once the plan is used up with
    /// objects given up.
    pub max_replans: usize,
    /// How high (m) a policy that does not mark completion must lift an object before its pick
    /// counts as done.
    pub carry_lift_m: f64,
}

#[derive(Debug, Error)]
pub enum EpisodeError {
    #[error(transparent)]
    Robot(#[from] RobotError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("safety stop: {0}")]
    SafetyStop(String),
}

/// One attempt at one skill.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SkillRecord {
    pub skill: Skill,
    pub attempt: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub success: bool,
    /// Why it failed, when it did.
    pub reason: Option<String>,
}

/// What happened to one object by the end of the episode (filled by the body that knows the
/// truth, e.g. the simulator).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectOutcome {
    pub id: String,
    pub cleared: bool,
    /// Why it is not cleared, when it is not.
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpisodeReport {
    pub plan: Option<Plan>,
    /// Set when the planner refused or produced an invalid plan; nothing moved then.
    pub plan_error: Option<String>,
    pub skills: Vec<SkillRecord>,
    pub duration_s: f64,
    /// Why the episode stopped early, if it did (time limit, gave up on a step).
    pub stopped: Option<String>,
}

/// Something that happened during an episode, as the log and reports record it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Robot time (s).
    pub t: f64,
    /// `plan`, `plan_refused`, `skill_start`, `skill_end`, `stopped`.
    pub kind: String,
    pub skill: Option<Skill>,
    pub attempt: Option<usize>,
    pub success: Option<bool>,
    pub detail: Option<String>,
}

/// Taps on the episode loop (the MCAP recorder is one). Called in the loop's own order, so an
/// observer sees every command before the state it leads to.
pub trait EpisodeObserver {
    fn plan(&mut self, t: f64, instruction: &Instruction, plan: &Plan);
    fn event(&mut self, event: &Event);
    fn chunk(&mut self, skill: &Skill, chunk: &ActionChunk);
    fn command(&mut self, cmd: &JointCommand);
    /// The body's state after each control tick.
    fn state(&mut self, obs: &Observation);
    /// How often (s) the observer wants a [`PolicySample`] while a skill runs; `None`: never.
    /// Asking makes the loop call perception at that rate.
    fn sample_period(&self) -> Option<f64> {
        None
    }
    fn sample(&mut self, _sample: &PolicySample<'_>) {}
}

/// What a learned policy would see at one instant, and what the running policy commanded:
/// the pairs demonstrations are made of.
pub struct PolicySample<'a> {
    pub t: f64,
    pub skill: &'a Skill,
    pub obs: &'a Observation,
    pub scene: &'a SceneGraph,
    /// The controller's end-effector target at `t` (the policy's action, interpolated).
    pub target_in_base: Isometry3<f64>,
    /// The commanded gripper opening (m).
    pub gripper_command_m: f64,
}

/// Everything an episode runs with.
pub struct EpisodeParts<'a> {
    pub robot: &'a mut dyn Robot,
    pub perception: &'a mut dyn Perception,
    pub planner: &'a dyn Planner,
    pub policy: &'a mut dyn Policy,
    pub controller: &'a mut Controller,
    pub safety: &'a mut SafetyFilter,
    pub observer: Option<&'a mut dyn EpisodeObserver>,
}

/// Runs the instruction to completion, to a refusal, or to the time limit.
pub fn run_episode(
    parts: EpisodeParts<'_>,
    cfg: &EpisodeConfig,
) -> Result<EpisodeReport, EpisodeError> {
    let EpisodeParts {
        robot,
        perception,
        planner,
        policy,
        controller,
        safety,
        mut observer,
    } = parts;
    let t0 = robot.now();
    let obs = robot.observe()?;
    let scene = perception.perceive(&obs);
    let mut report = EpisodeReport {
        plan: None,
        plan_error: None,
        skills: Vec::new(),
        duration_s: 0.0,
        stopped: None,
    };
    let plan = match planner.plan(&cfg.instruction, &scene, obs.camera.as_ref()) {
        Ok(p) => p,
        Err(e @ (PlanError::Refused { .. } | PlanError::Invalid(_))) => {
            report.plan_error = Some(e.to_string());
            if let Some(o) = observer.as_deref_mut() {
                o.event(&Event {
                    t: robot.now(),
                    kind: "plan_refused".into(),
                    skill: None,
                    attempt: None,
                    success: Some(false),
                    detail: Some(e.to_string()),
                });
            }
            return Ok(report);
        }
    };
    if let Some(o) = observer.as_deref_mut() {
        o.plan(robot.now(), &cfg.instruction, &plan);
    }
    report.plan = Some(plan.clone());

    // Work list: a failed Place puts its object back in line (pick + place again).
    let mut queue: std::collections::VecDeque<Skill> = plan.steps.iter().cloned().collect();
    let mut attempts: std::collections::HashMap<Skill, usize> = Default::default();
    let mut replans = 0;
    while let Some(skill) = queue.pop_front() {
        if robot.now() - t0 >= cfg.time_limit_s {
            let why = format!("time limit of {} s reached", cfg.time_limit_s);
            if let Some(o) = observer.as_deref_mut() {
                o.event(&Event {
                    t: robot.now(),
                    kind: "stopped".into(),
                    skill: None,
                    attempt: None,
                    success: None,
                    detail: Some(why.clone()),
                });
            }
            report.stopped = Some(why);
            break;
        }
        let attempt = {
            let a = attempts.entry(skill.clone()).or_insert(0);
            *a += 1;
            *a
        };
        let start = robot.now();
        if let Some(o) = observer.as_deref_mut() {
            o.event(&Event {
                t: start,
                kind: "skill_start".into(),
                skill: Some(skill.clone()),
                attempt: Some(attempt),
                success: None,
                detail: None,
            });
        }
        let outcome = match run_skill(
            robot,
            perception,
            policy,
            controller,
            safety,
            observer.as_deref_mut(),
            &skill,
            cfg,
            t0,
        ) {
            Ok(o) => o,
            Err(EpisodeError::SafetyStop(reason)) => {
                let why = format!("safety stop: {reason}");
                report.skills.push(SkillRecord {
                    skill: skill.clone(),
                    attempt,
                    start_s: start - t0,
                    end_s: robot.now() - t0,
                    success: false,
                    reason: Some(why.clone()),
                });
                if let Some(o) = observer.as_deref_mut() {
                    o.event(&Event {
                        t: robot.now(),
                        kind: "safety_stop".into(),
                        skill: Some(skill.clone()),
                        attempt: Some(attempt),
                        success: Some(false),
                        detail: Some(reason),
                    });
                }
                report.stopped = Some(why);
                break;
            }
            Err(e) => return Err(e),
        };
        if let Some(o) = observer.as_deref_mut() {
            o.event(&Event {
                t: robot.now(),
                kind: "skill_end".into(),
                skill: Some(skill.clone()),
                attempt: Some(attempt),
                success: Some(outcome.is_ok()),
                detail: outcome.as_ref().err().cloned(),
            });
        }
        report.skills.push(SkillRecord {
            skill: skill.clone(),
            attempt,
            start_s: start - t0,
            end_s: robot.now() - t0,
            success: outcome.is_ok(),
            reason: outcome.as_ref().err().cloned(),
        });
        if outcome.is_ok() {
            continue;
        }
        if attempt >= cfg.max_attempts {
            // Give up on this object: drop its remaining steps and go on with the others.
            let object = skill.object().to_string();
            queue.retain(|s| s.object() != object);
            if queue.is_empty() && replans < cfg.max_replans {
                // Ask the planner again from the scene as it is now: what is left of the task,
                // possibly in another order.
                replans += 1;
                let obs = robot.observe()?;
                let scene = perception.perceive(&obs);
                let verdict = planner.plan(&cfg.instruction, &scene, obs.camera.as_ref());
                if let Some(o) = observer.as_deref_mut() {
                    o.event(&Event {
                        t: robot.now(),
                        kind: "replan".into(),
                        skill: None,
                        attempt: Some(replans),
                        success: Some(verdict.is_ok()),
                        detail: Some(match &verdict {
                            Ok(p) => format!("{} steps", p.steps.len()),
                            Err(e) => e.to_string(),
                        }),
                    });
                }
                if let Ok(p) = verdict {
                    attempts.clear();
                    queue.extend(p.steps);
                }
            }
            continue;
        }
        match &skill {
            Skill::Pick { .. } => queue.push_front(skill.clone()),
            Skill::Place { object, .. } => {
                // Still held (e.g. it never reached the bin): place again; dropped: pick again.
                let obs = robot.observe()?;
                let scene = perception.perceive(&obs);
                queue.push_front(skill.clone());
                if !is_held(&obs, &scene, object) {
                    queue.push_front(Skill::Pick {
                        object: object.clone(),
                    });
                }
            }
        }
    }
    report.duration_s = robot.now() - t0;
    Ok(report)
}

/// Executes one skill attempt; `Err(reason)` when perception says it did not work.
#[allow(clippy::too_many_arguments)]
fn run_skill<'o>(
    robot: &mut dyn Robot,
    perception: &mut dyn Perception,
    policy: &mut dyn Policy,
    controller: &mut Controller,
    safety: &mut SafetyFilter,
    mut observer: Option<&mut (dyn EpisodeObserver + 'o)>,
    skill: &Skill,
    cfg: &EpisodeConfig,
    t0: f64,
) -> Result<Result<(), String>, EpisodeError> {
    policy.reset();
    let start = robot.now();
    let control_dt = controller.config().dt;
    let ticks_per_observation = policy
        .observation_period()
        .map(|p| ((p / control_dt).round() as usize).max(1));
    let ticks_per_sample = observer
        .as_deref()
        .and_then(|o| o.sample_period())
        .map(|p| ((p / control_dt).round() as u64).max(1));
    loop {
        let obs = robot.observe()?;
        let scene = perception.perceive(&obs);
        if robot.now() - start > cfg.skill_timeout_s {
            return Ok(Err(format!("timed out after {} s", cfg.skill_timeout_s)));
        }
        if robot.now() - t0 >= cfg.time_limit_s {
            return Ok(Err("episode time limit reached".into()));
        }
        let mut chunk = match policy.act(&obs, &scene, skill) {
            Ok(c) => c,
            // The skill fails with the policy's reason; the episode goes on with the others.
            Err(e) => return Ok(Err(e.to_string())),
        };
        match safety.check_chunk(&mut chunk, &controller.current_target()) {
            Ok(interventions) => {
                report_interventions(observer.as_deref_mut(), robot.now(), skill, interventions)
            }
            Err(stop) => {
                hold(robot, safety, &obs, observer.as_deref_mut())?;
                return Err(EpisodeError::SafetyStop(stop.reason));
            }
        }
        let steps = if chunk.completes_skill {
            chunk.actions.len()
        } else {
            chunk.execute.min(chunk.actions.len())
        };
        let ticks = ((steps as f64 * chunk.dt) / control_dt).round() as usize;
        let completes = chunk.completes_skill;
        if let Some(o) = observer.as_deref_mut() {
            o.chunk(skill, &chunk);
        }
        controller.set_chunk(chunk);
        let ticks = ticks.max(1);
        for k in 0..ticks {
            let mut cmd = controller.tick(robot.now());
            match safety.check_command(&mut cmd) {
                Ok(interventions) => {
                    report_interventions(observer.as_deref_mut(), robot.now(), skill, interventions)
                }
                Err(stop) => {
                    let obs = robot.observe()?;
                    hold(robot, safety, &obs, observer.as_deref_mut())?;
                    return Err(EpisodeError::SafetyStop(stop.reason));
                }
            }
            robot.command(&cmd)?;
            robot.advance(control_dt)?;
            if let Some(o) = observer.as_deref_mut() {
                o.command(&cmd);
                let obs = robot.observe()?;
                o.state(&obs);
                // On the robot clock's grid, so samples line up across skills.
                let tick = (robot.now() / control_dt).round() as u64;
                if ticks_per_sample.is_some_and(|n| tick % n == 0) {
                    let scene = perception.perceive(&obs);
                    o.sample(&PolicySample {
                        t: obs.stamp,
                        skill,
                        obs: &obs,
                        scene: &scene,
                        target_in_base: controller.current_target(),
                        gripper_command_m: cmd.gripper.width_m,
                    });
                }
            }
            // The observation at the chunk's end goes to `act` instead.
            if let Some(n) = ticks_per_observation {
                if (k + 1) % n == 0 && k + 1 < ticks {
                    let obs = robot.observe()?;
                    let scene = perception.perceive(&obs);
                    policy.observe(&obs, &scene, skill);
                }
            }
        }
        if !policy.marks_completion() {
            // A learned policy does not know when it is done: perception decides after each
            // chunk, and the skill ends as soon as its goal holds.
            let obs = robot.observe()?;
            let scene = perception.perceive(&obs);
            if check_skill(skill, &obs, &scene).is_ok() && lifted_to_carry(skill, &scene, cfg) {
                return Ok(Ok(()));
            }
        }
        if completes {
            let obs = robot.observe()?;
            let scene = perception.perceive(&obs);
            let verdict = check_skill(skill, &obs, &scene);
            tracing::debug!(
                t = obs.stamp,
                %skill,
                ?verdict,
                ee = ?obs.ee_in_base.translation.vector.as_slice(),
                target = ?controller.current_target().translation.vector.as_slice(),
                gripper = obs.gripper.width_m,
                object = ?scene.object(skill.object()).map(|o| o.pose_in_base.translation.vector.as_slice().to_vec()),
                "skill finished"
            );
            return Ok(verdict);
        }
    }
}

/// Sends the filter's hold command (the last safe position, at rest).
fn hold(
    robot: &mut dyn Robot,
    safety: &SafetyFilter,
    obs: &Observation,
    observer: Option<&mut (dyn EpisodeObserver + '_)>,
) -> Result<(), EpisodeError> {
    let here = JointCommand {
        stamp: robot.now(),
        positions: obs.joints.position.clone(),
        velocities: vec![0.0; obs.joints.position.len()],
        gripper: GripperCommand {
            width_m: obs.gripper.width_m,
            max_force_n: 0.0,
        },
    };
    let mut cmd = safety.hold(&here);
    cmd.stamp = robot.now();
    robot.command(&cmd)?;
    if let Some(o) = observer {
        o.command(&cmd);
    }
    Ok(())
}

fn report_interventions(
    observer: Option<&mut (dyn EpisodeObserver + '_)>,
    t: f64,
    skill: &Skill,
    interventions: Vec<Intervention>,
) {
    let Some(o) = observer else { return };
    for i in interventions {
        o.event(&Event {
            t,
            kind: "safety".into(),
            skill: Some(skill.clone()),
            attempt: None,
            success: None,
            detail: Some(i.reason),
        });
    }
}

/// Whether the gripper holds `object`: near the TCP, off the table, fingers not closed on air.
pub fn is_held(obs: &Observation, scene: &SceneGraph, object: &str) -> bool {
    let Some(o) = scene.object(object) else {
        return false;
    };
    let p = o.pose_in_base.translation.vector;
    let tcp = obs.ee_in_base.translation.vector;
    let horizontal = (p.xy() - tcp.xy()).norm();
    let lifted = p.z - scene.table_height_m > o.extents.z / 2.0 + 0.02;
    horizontal < 0.04
        && (p.z - tcp.z).abs() < o.extents.z.max(0.05)
        && lifted
        && obs.gripper.width_m > 0.005
}

/// A pick is over once the object is carried, not at its first centimetres off the table:
/// a learned policy's next skill starts from where demonstrations start it.
fn lifted_to_carry(skill: &Skill, scene: &SceneGraph, cfg: &EpisodeConfig) -> bool {
    match skill {
        Skill::Pick { object } => scene.object(object).is_some_and(|o| {
            o.pose_in_base.translation.z - scene.table_height_m
                >= o.extents.z / 2.0 + cfg.carry_lift_m
        }),
        Skill::Place { .. } => true,
    }
}

/// Perception's verdict on a finished skill.
pub fn check_skill(skill: &Skill, obs: &Observation, scene: &SceneGraph) -> Result<(), String> {
    match skill {
        Skill::Pick { object } => {
            if scene.object(object).is_none() {
                return Err(format!("'{object}' is no longer seen"));
            }
            if is_held(obs, scene, object) {
                Ok(())
            } else if obs.gripper.width_m <= 0.005 {
                Err("missed grasp: the gripper closed on nothing".into())
            } else {
                Err("missed grasp: the object is not in the gripper".into())
            }
        }
        Skill::Place { object, into } => {
            let (Some(o), Some(c)) = (scene.object(object), scene.container(into)) else {
                return Err(format!("'{object}' or '{into}' is no longer seen"));
            };
            if c.contains(&o.pose_in_base.translation.vector.into(), 0.0, 0.03) {
                Ok(())
            } else if is_held(obs, scene, object) {
                Err(format!("'{object}' is still in the gripper"))
            } else {
                Err(format!("dropped: '{object}' is not in '{into}'"))
            }
        }
    }
}
