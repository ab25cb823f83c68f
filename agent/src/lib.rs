//! embody's vocabulary and the brain-side machinery that does not care which body it drives.
//!
//! The types in [`types`] and the traits in [`robot`], [`policy`], [`planner`] and
//! [`perception`] are the contracts between the rooms of the workspace (see
//! `ARCHITECTURE.md`). [`kinematics`] and [`controller`] turn end-effector targets into joint
//! commands; [`episode`] runs a plan of skills on any [`Robot`].

pub mod clock;
pub mod controller;
pub mod episode;
pub mod grasp;
pub mod kinematics;
#[cfg(feature = "log")]
pub mod log;
pub mod observer;
pub mod outcome;
pub mod perception;
pub mod planner;
pub mod policy;
pub mod recovery;
pub mod robot;
pub mod ros_msgs;
pub mod rotation;
pub mod safety;
pub mod smoothness;
pub mod stages;
pub mod types;
pub mod urdf;

pub use controller::{Controller, ControllerConfig};
pub use episode::{
    run_episode, EpisodeConfig, EpisodeError, EpisodeParts, EpisodeReport, SkillRecord,
};
pub use kinematics::{ArmModel, IkConfig, IkError, IkSolution, JointSpec, ModelError};
pub use observer::{EpisodeObserver, Event, EventKind, PolicySample};
pub use outcome::{Failure, FailureKind, ObjectOutcome};
pub use perception::{CameraPerception, ObjectInfo, Perception, SimulatedPerception};
pub use planner::{
    read_answer, Answer, EmbeddedPlanner, Instruction, PlanError, Planner, Refusal, RefusalKind,
};
#[cfg(feature = "vlm")]
pub use planner::{VlmConfig, VlmPlanner};
pub use policy::{Policy, PolicyError};
pub use robot::{Robot, RobotError};
pub use safety::{SafetyConfig, SafetyFilter, SafetyStop};
pub use smoothness::Smoothness;
pub use stages::{ControlTiming, Pace, WatchdogConfig};
pub use types::*;
