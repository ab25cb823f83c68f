//! What a body must offer the agent: the simulator and the ROS 2 bridge are two implementations.

use thiserror::Error;

use crate::types::{JointCommand, Observation};

#[derive(Debug, Error)]
pub enum RobotError {
    #[error("command has {got} joint positions, the robot has {expected}")]
    CommandSize { got: usize, expected: usize },
    #[error("command contains a non-finite value at joint {joint}")]
    NonFinite { joint: usize },
    #[error("robot is stopped: {0}")]
    Stopped(String),
    #[error("robot failure: {0}")]
    Other(String),
}

/// A body the agent can drive.
///
/// In simulation `advance` steps physics in lockstep, which keeps runs deterministic; on a real
/// robot it waits on the wall clock until the next control tick.
pub trait Robot {
    /// Joint, gripper and end-effector state now.
    fn observe(&mut self) -> Result<Observation, RobotError>;
    /// Sets the joint and gripper targets the body tracks until the next command.
    fn command(&mut self, cmd: &JointCommand) -> Result<(), RobotError>;
    /// Lets `dt_s` seconds of robot time pass.
    fn advance(&mut self, dt_s: f64) -> Result<(), RobotError>;
    /// Robot time in seconds since the start of the run.
    fn now(&self) -> f64;
    /// A skill attempt starts (a simulated body watches which objects it disturbs).
    fn skill_started(&mut self, _skill: &crate::types::Skill) {}
    /// The plan, once made, when it has constraints: they hold for the whole episode (a
    /// simulated body measures how close the hand comes to what it must keep away from).
    fn plan_started(&mut self, _plan: &crate::types::Plan) {}
}

impl JointCommand {
    /// Checks the command fits an arm of `n` joints and holds only finite numbers: what every
    /// body verifies before acting on it.
    pub fn check(&self, n: usize) -> Result<(), RobotError> {
        if self.positions.len() != n || self.velocities.len() != n {
            return Err(RobotError::CommandSize {
                got: self.positions.len(),
                expected: n,
            });
        }
        if let Some(joint) = self
            .positions
            .iter()
            .chain(&self.velocities)
            .position(|v| !v.is_finite())
        {
            return Err(RobotError::NonFinite { joint: joint % n });
        }
        if !self.gripper.width_m.is_finite() || !self.gripper.max_force_n.is_finite() {
            return Err(RobotError::NonFinite { joint: n });
        }
        Ok(())
    }
}
