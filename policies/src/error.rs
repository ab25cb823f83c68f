//! Why a model could not be loaded.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("model file {0} does not exist")]
    Missing(String),
    #[error("model metadata {path}: {message}")]
    Metadata { path: String, message: String },
    #[error("model {path} cannot be loaded: {message}")]
    Model { path: String, message: String },
    #[error("model and metadata disagree: {0}")]
    Mismatch(String),
    #[error("ONNX Runtime: {0}")]
    RuntimeMissing(String),
}
