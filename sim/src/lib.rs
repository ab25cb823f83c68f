//! embody's deterministic manipulation simulator: scenario files, the rapier world built from
//! them and a URDF, and [`SimRobot`], the simulated body the agent drives in lockstep.

pub mod bench;
mod convert;
mod groups;
pub mod robot_builder;
pub mod runner;
pub mod sampling;
pub mod scenario;
pub mod sim_robot;
pub mod world;

pub use scenario::{Scenario, ScenarioError};
pub use sim_robot::SimRobot;
pub use world::World;

use thiserror::Error;

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
}
