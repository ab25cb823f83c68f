//! The brain for one skill: observation and scene in, a chunk of end-effector targets out.

use thiserror::Error;

use crate::types::{ActionChunk, Constraint, Observation, SceneGraph, Skill};

#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("policy needs {0}, which this observation lacks")]
    MissingInput(String),
    #[error("policy cannot do '{skill}': {reason}")]
    Unsupported { skill: String, reason: String },
    #[error("policy produced an invalid action: {0}")]
    InvalidOutput(String),
    /// The policy did not answer in time or cannot be reached (a remote policy server that
    /// died or is cut off). Not a failure of the skill: the agent holds the arm and ends the
    /// run, as the watchdog does when a chunk is late mid-motion, whenever it happens.
    #[error("{0}")]
    Unavailable(String),
    #[error("policy failed: {0}")]
    Other(String),
}

/// A policy for skills. `act` is called every time the agent needs a new chunk (every Ta steps).
pub trait Policy: Send {
    /// Forgets everything about the previous skill.
    fn reset(&mut self);
    /// How often (s) the policy wants to see the robot between chunks (a learned policy
    /// conditions on a history at its own rate); `None`: only when asked to `act`.
    fn observation_period(&self) -> Option<f64> {
        None
    }
    /// An observation between chunks, at `observation_period`.
    fn observe(&mut self, _obs: &Observation, _scene: &SceneGraph, _skill: &Skill) {}
    /// Whether the policy marks the chunk that completes a skill (`completes_skill`), as a
    /// scripted expert can. When it cannot (a learned policy), the agent checks the skill's
    /// goal through perception after every chunk instead.
    fn marks_completion(&self) -> bool {
        true
    }
    /// The plan's constraints, for the whole episode (they outlive `reset`). Returns whether
    /// the policy steers by them; one that cannot leaves them to be measured only.
    fn constrain(&mut self, _constraints: &[Constraint]) -> bool {
        false
    }
    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError>;
}
