//! Brains for skills: the scripted expert that produces demonstrations (and the diffusion
//! policy runtime, which lands with its own issue).

pub mod scripted_expert;
pub mod trajectory;

pub use scripted_expert::{ExpertConfig, ScriptedExpert};
