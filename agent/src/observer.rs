//! What the episode loop tells its observers (the MCAP recorder, a viewer's feed): events, and
//! the observer trait. Its own module so that the loop ([`crate::episode`]) and its threads
//! ([`crate::stages`]) both depend on it and not on each other.

use nalgebra::Isometry3;
use serde::{Deserialize, Serialize};

use crate::outcome::{Failure, FailureKind};
use crate::planner::Instruction;
use crate::types::{ActionChunk, JointCommand, Observation, Plan, SceneGraph, Skill};

/// What kind of thing happened. Serialized in snake case: the `kind` field of `/embody/events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The planner refused, or its plan was invalid; nothing moves.
    PlanRefused,
    /// A skill attempt starts.
    SkillStart,
    /// A skill attempt ended (`success`, and the failure when it failed).
    SkillEnd,
    /// The planner was asked again after objects were given up.
    Replan,
    /// The episode ended early (time limit).
    Stopped,
    /// The safety filter stopped the arm.
    SafetyStop,
    /// The watchdog held the arm.
    Watchdog,
    /// The body failed.
    RobotError,
    /// The control stage stopped answering.
    Stalled,
    /// The safety filter changed a command (slowed, clamped) without stopping.
    #[serde(rename = "safety")]
    SafetyIntervention,
    /// The control stage holds the arm where it is.
    Hold,
}

impl EventKind {
    /// The event that records a stop of this kind.
    pub fn for_stop(kind: FailureKind) -> EventKind {
        match kind {
            FailureKind::SafetyStop => EventKind::SafetyStop,
            FailureKind::Watchdog => EventKind::Watchdog,
            FailureKind::RobotError => EventKind::RobotError,
            FailureKind::Stalled => EventKind::Stalled,
            _ => EventKind::Stopped,
        }
    }

    /// Whether this event ends the episode.
    pub fn ends_episode(self) -> bool {
        matches!(
            self,
            EventKind::PlanRefused
                | EventKind::Stopped
                | EventKind::SafetyStop
                | EventKind::Watchdog
                | EventKind::RobotError
                | EventKind::Stalled
        )
    }
}

/// Something that happened during an episode, as the log and reports record it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Robot time (s).
    pub t: f64,
    pub kind: EventKind,
    pub skill: Option<Skill>,
    pub attempt: Option<usize>,
    pub success: Option<bool>,
    /// What failed, when something did.
    #[serde(default)]
    pub failure: Option<FailureKind>,
    pub detail: Option<String>,
}

impl Event {
    /// An event about `failure`, with its detail.
    pub fn failed(t: f64, kind: EventKind, skill: Option<&Skill>, failure: &Failure) -> Self {
        Event {
            t,
            kind,
            skill: skill.cloned(),
            attempt: None,
            success: Some(false),
            failure: Some(failure.kind),
            detail: Some(failure.detail.clone()),
        }
    }
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
    /// Who made the chunk being executed.
    pub source: crate::types::ChunkSource,
}
