//! embody's deterministic manipulation simulator: scenario files, the rapier world built from
//! them and a URDF, and [`SimRobot`], the simulated body the agent drives in lockstep.

pub mod bench;
pub mod camera;
pub mod camera_spec;
pub mod clearance;
pub mod contact_sheet;
mod convert;
pub mod disturbance;
mod groups;
pub mod recorded;
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
    let commit = env!("EMBODY_GIT_COMMIT");
    embody_agent::log::BuildInfo {
        embody_version: env!("CARGO_PKG_VERSION").to_string(),
        // The physics crates' versions as Cargo.lock resolved them (sim/build.rs).
        physics_engine: env!("EMBODY_PHYSICS").to_string(),
        // What changes trajectories: the target (float code generation) and rapier features
        // (none are enabled; `enhanced-determinism` or `simd-*` would be listed here).
        features: vec![format!("target={}", env!("EMBODY_TARGET"))],
        commit: (!commit.is_empty()).then(|| commit.to_string()),
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
    #[error("camera image: {0}")]
    Camera(#[from] camera_spec::SizeError),
}
