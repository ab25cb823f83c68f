//! embody's ROS 2 bridge, over DDS with `ros2-client` (pure Rust, no ROS installation needed).
//!
//! - [`RosRobot`] implements the agent's `Robot` trait over ros2_control's conventions: joint
//!   states in, joint trajectories out, a gripper command, an e-stop topic.
//! - [`sim_node`] serves the same interface from the simulator on the wall clock, so the whole
//!   deployment path runs without hardware.
//! - [`transport`] holds the node, the QoS profiles that match ROS 2's, and topic naming.
//!
//! Message layouts come from `embody_agent::ros_msgs`, shared with the MCAP logs.

pub mod actions;
pub mod bench;
mod camera_in;
pub mod config;
pub mod description;
pub mod policy_service;
pub mod robot;
pub mod scene;
pub mod security;
mod sim_actions;
pub mod sim_node;
pub mod transport;

pub use config::RosConfig;
pub use robot::RosRobot;
pub use scene::SceneInfo;
pub use transport::RosNode;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum RosError {
    #[error("ROS 2 (DDS) setup failed for {what}: {message}")]
    Setup { what: String, message: String },
    #[error("nothing on {topic} within {waited_s} s: {hint}")]
    NoData {
        topic: String,
        waited_s: f64,
        hint: String,
    },
    #[error("bad message on {topic}: {message}")]
    BadMessage { topic: String, message: String },
    #[error(transparent)]
    Security(#[from] security::SecurityError),
    #[error(transparent)]
    Sim(#[from] embody_sim::SimError),
}
