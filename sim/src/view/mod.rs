//! What a viewer draws, without drawing it: the scene's bodies with their shapes and colours
//! (taken once from the world), and a timeline of body poses, plans, events and action chunks,
//! filled from an episode while it runs ([`LiveFeed`]) or from a recorded log ([`load_log`]).
//! Both fill poses the same way, from joint positions through the robot description's
//! kinematics and from object frames, so a log from a real arm plays like a simulated one.
//! The Bevy front end (`embody-viewer`) only mirrors these poses; there is no second physics
//! world.

mod links;
mod live;
mod log;
mod scene;
#[cfg(test)]
mod tests;
mod timeline;

pub use live::{LiveFeed, PlaybackControl};
pub use log::load_log;
pub use scene::{BodyModel, BodyRole, PartModel, SceneModel, ShapeModel};
pub use timeline::{describe_event, ChunkView, PlanView, Timeline, ViewFrame, ViewUpdate};

use embody_agent::log::JOINT_STATES_TOPIC;
use links::LinkTree;

/// Errors of loading a log for viewing.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(transparent)]
    Log(#[from] embody_agent::log::LogError),
    #[error(transparent)]
    Replay(#[from] crate::replay::ReplayError),
    #[error("{path}: the log's scenario cannot be rebuilt: {message}")]
    Scenario { path: String, message: String },
    #[error("{path}: {topic} at t = {t:.3} s: {message}")]
    BadRecord {
        path: String,
        topic: String,
        t: f64,
        message: String,
    },
    #[error("{path}: no robot state in the log (no {JOINT_STATES_TOPIC} messages)")]
    Empty { path: String },
}
