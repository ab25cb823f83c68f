//! embody's deterministic manipulation simulator: scenario files, the rapier world built from
//! them and a URDF, and [`SimRobot`], the simulated body the agent drives in lockstep.

pub mod bench;
pub mod camera;
pub mod contact_sheet;
mod convert;
mod groups;
pub mod replay;
pub mod robot_builder;
pub mod runner;
pub mod sampling;
pub mod scenario;
pub mod sim_robot;
pub mod view;
pub mod world;

pub use scenario::{Scenario, ScenarioError};
pub use sim_robot::SimRobot;
pub use world::World;

use thiserror::Error;

/// What a log must match to be replayed bit-exactly by this build.
pub fn build_info() -> embody_agent::log::BuildInfo {
    embody_agent::log::BuildInfo {
        embody_version: env!("CARGO_PKG_VERSION").to_string(),
        physics_engine: "rapier3d 0.36.1 (f32, dim3)".to_string(),
        // rapier features that change trajectories (e.g. enhanced-determinism) would be listed.
        features: Vec::new(),
    }
}

#[derive(Debug, Error)]
pub enum SimError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Model(#[from] embody_agent::ModelError),
    #[error("robot description: {0}")]
    Robot(String),
    #[error("episode failed: {0}")]
    Episode(String),
    #[error(transparent)]
    Log(#[from] embody_agent::log::LogError),
}
