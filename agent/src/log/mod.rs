//! Run logs as MCAP with the `ros2` profile: ROS 2 channels in CDR that `ros2 bag` and Foxglove
//! read, plus embody's own JSON records. [`McapRecorder`] writes them as an episode runs (complete
//! chunks reach the disk as it goes); [`read_log`] reads them back, recovering what a killed
//! process left.

mod reader;
mod recorder;
mod schema;

pub use reader::{read_log, LogMessage, RecoveredLog};
pub use recorder::{McapRecorder, RecorderConfig, RecorderStats};
pub use schema::*;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LogError {
    #[error("{path} already exists; pass --force to overwrite it")]
    Exists { path: String },
    #[error("cannot write log {path}: {message}")]
    Write { path: String, message: String },
    #[error("cannot read log {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an MCAP file (it does not start with the MCAP magic bytes)")]
    NotMcap { path: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}
