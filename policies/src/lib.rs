//! Brains for skills: the scripted expert that produces demonstrations, and the diffusion policy
//! runtime (ONNX Runtime through `ort`, DDIM/DDPM sampling, receding-horizon chunks).

pub mod correction;
pub mod dataset;
pub mod diffusion;
pub mod error;
pub mod features;
pub mod guidance;
pub mod meta;
pub mod network_pool;
pub mod onnx;
pub mod schedule;
pub mod scripted_expert;
pub mod trajectory;

pub use correction::ExpertTakeover;
pub use diffusion::{Chunking, DiffusionOptions, DiffusionPolicy};
pub use error::{DelayError, LoadError};
pub use meta::ModelMeta;
pub use network_pool::NetworkPool;
pub use onnx::{Device, RuntimeOptions};
pub use schedule::{NoiseSchedule, SamplerKind, SchedulerConfig, X0Guide};
pub use scripted_expert::{ExpertConfig, ScriptedExpert};
