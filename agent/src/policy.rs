//! The brain for one skill: observation and scene in, a chunk of end-effector targets out.

use thiserror::Error;

use crate::types::{ActionChunk, Observation, SceneGraph, Skill};

#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("policy needs {0}, which this observation lacks")]
    MissingInput(String),
    #[error("policy cannot do '{skill}': {reason}")]
    Unsupported { skill: String, reason: String },
    #[error("policy produced an invalid action: {0}")]
    InvalidOutput(String),
    #[error("policy failed: {0}")]
    Other(String),
}

/// A policy for skills. `act` is called every time the agent needs a new chunk (every Ta steps).
pub trait Policy: Send {
    /// Forgets everything about the previous skill.
    fn reset(&mut self);
    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError>;
}
