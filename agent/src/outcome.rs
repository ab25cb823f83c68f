//! Why things fail, as types: made where a failure happens (the skill check, the control link,
//! the safety filter, the watchdog, the planner, the judge) and matched on by whoever reads it
//! (eval's breakdown, the viewer, the CLI), never re-derived from the wording of a message.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The kind of a failure. Serialized in snake case; these names are eval's breakdown keys and
/// the `failure` field of log events, so renaming one is a log schema change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A pick ended with the object not in the gripper.
    MissedGrasp,
    /// A place ended with the object neither held nor in its container.
    #[serde(rename = "drop")]
    Dropped,
    /// A place ended with the object still between the fingers.
    NotReleased,
    /// A skill attempt ran past its timeout.
    Timeout,
    /// The episode ran past its time limit.
    TimeLimit,
    /// Perception no longer reports an object or container a skill needs.
    LostObject,
    /// The policy could not produce actions.
    Policy,
    /// The safety filter stopped the arm.
    SafetyStop,
    /// A stage missed its deadline; the arm was held.
    Watchdog,
    /// The body reported an error (lost state, a failed command).
    RobotError,
    /// The control stage stopped answering.
    Stalled,
    /// The planner refused the instruction (unsafe, impossible, ungroundable).
    PlanRefused,
    /// The plan broke a rule every plan must keep.
    PlanInvalid,
    /// The planner could not be reached or answered nothing usable (not a refusal).
    PlannerUnavailable,
    /// Judged at the end: an object to clear is still on the table.
    LeftOnTable,
    /// Judged at the end: an object is on the floor or off the table.
    FellOffTable,
    /// Judged at the end: an object is in another container than its goal.
    WrongContainer,
    /// Judged at the end: an object should be held but is not.
    NotHeld,
    /// Judged at the end: an object that was not to be moved was moved.
    Disturbed,
}

impl FailureKind {
    /// The snake-case name (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::MissedGrasp => "missed_grasp",
            FailureKind::Dropped => "drop",
            FailureKind::NotReleased => "not_released",
            FailureKind::Timeout => "timeout",
            FailureKind::TimeLimit => "time_limit",
            FailureKind::LostObject => "lost_object",
            FailureKind::Policy => "policy",
            FailureKind::SafetyStop => "safety_stop",
            FailureKind::Watchdog => "watchdog",
            FailureKind::RobotError => "robot_error",
            FailureKind::Stalled => "stalled",
            FailureKind::PlanRefused => "plan_refused",
            FailureKind::PlanInvalid => "plan_invalid",
            FailureKind::PlannerUnavailable => "planner_unavailable",
            FailureKind::LeftOnTable => "left_on_table",
            FailureKind::FellOffTable => "fell_off_table",
            FailureKind::WrongContainer => "wrong_container",
            FailureKind::NotHeld => "not_held",
            FailureKind::Disturbed => "disturbed",
        }
    }

    /// Whether this failure stopped the arm (the episode ends with it), rather than failing one
    /// skill attempt or one object.
    pub fn stops_episode(self) -> bool {
        matches!(
            self,
            FailureKind::SafetyStop
                | FailureKind::Watchdog
                | FailureKind::RobotError
                | FailureKind::Stalled
                | FailureKind::TimeLimit
        )
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A failure: its kind, for programs, and what happened, for people.
#[derive(Clone, Debug, PartialEq, Error, Serialize, Deserialize)]
#[error("{detail}")]
pub struct Failure {
    pub kind: FailureKind,
    pub detail: String,
}

impl Failure {
    pub fn new(kind: FailureKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

/// What happened to one object by the end of the episode (filled by the body that knows the
/// truth, e.g. the simulator).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectOutcome {
    pub id: String,
    pub cleared: bool,
    /// Why it is not where the goal wants it, when it is not.
    pub failure: Option<Failure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialize_as_their_names() {
        for k in [
            FailureKind::MissedGrasp,
            FailureKind::Dropped,
            FailureKind::NotReleased,
            FailureKind::Timeout,
            FailureKind::TimeLimit,
            FailureKind::LostObject,
            FailureKind::Policy,
            FailureKind::SafetyStop,
            FailureKind::Watchdog,
            FailureKind::RobotError,
            FailureKind::Stalled,
            FailureKind::PlanRefused,
            FailureKind::PlanInvalid,
            FailureKind::PlannerUnavailable,
            FailureKind::LeftOnTable,
            FailureKind::FellOffTable,
            FailureKind::WrongContainer,
            FailureKind::NotHeld,
            FailureKind::Disturbed,
        ] {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.name()));
            assert_eq!(serde_json::from_str::<FailureKind>(&json).unwrap(), k);
        }
    }
}
