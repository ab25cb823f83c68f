//! Why a model could not be loaded.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("model file {0} does not exist")]
    Missing(String),
    #[error("model metadata {path}: {problem}")]
    Metadata { path: String, problem: MetaError },
    #[error("model {path} cannot be loaded: {message}")]
    Model { path: String, message: String },
    #[error("model and metadata disagree: {0}")]
    Mismatch(String),
    #[error("ONNX Runtime: {0}")]
    RuntimeMissing(String),
    #[error("policy options: {0}")]
    Options(String),
    #[error("policy options: {0}")]
    Delay(#[from] DelayError),
}

/// Why an inference delay cannot be run with a model.
#[derive(Debug, Error, PartialEq)]
pub enum DelayError {
    #[error("the inference delay must be a number of seconds >= 0, got {0}")]
    NotADuration(f64),
    #[error(
        "an inference delay of {periods} observation periods ({delay_ms:.0} ms) is not shorter \
         than the executed part of a chunk ({exec} x {period_ms:.0} ms): the next chunk would \
         have to start before this one is handed out"
    )]
    TooLong {
        periods: usize,
        delay_ms: f64,
        exec: usize,
        period_ms: f64,
    },
}

/// What is wrong in a model's metadata, by field.
#[derive(Debug, Error)]
pub enum MetaError {
    #[error("{0}")]
    Read(String),
    #[error("not a model description: {0}")]
    Json(String),
    #[error("format is '{got}'; expected '{expected}'")]
    Format { got: String, expected: &'static str },
    #[error("opset {0} is older than 17")]
    Opset(i64),
    #[error("{what} layout is [{got}]; this runtime builds [{want}]")]
    Layout {
        what: &'static str,
        got: String,
        want: String,
    },
    #[error(
        "dims obs {obs} / action {action} disagree with the layout ({want_obs} / {want_action})"
    )]
    Dims {
        obs: usize,
        action: usize,
        want_obs: usize,
        want_action: usize,
    },
    #[error("{0}")]
    Horizons(String),
    #[error("action.dt {0} is not a positive period")]
    Period(f64),
    #[error(transparent)]
    Scheduler(#[from] crate::schedule::ScheduleError),
    #[error("normalization.{which}: {problem}")]
    Normalization {
        which: &'static str,
        problem: FeatureError,
    },
}

/// Features that cannot be built or read back.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum FeatureError {
    #[error("perception does not see '{0}'")]
    MissingObject(String),
    #[error("perception does not see container '{0}'")]
    MissingContainer(String),
    #[error("non-finite action {0:?}")]
    NonFinite(Vec<f64>),
    #[error("degenerate 6-D rotation {0:?}")]
    DegenerateRotation(Vec<f64>),
    #[error("statistics have {min} min and {max} max values for {dim} features")]
    StatsLength { min: usize, max: usize, dim: usize },
    #[error("feature {index}: min {min} and max {max} are not a range")]
    StatsRange { index: usize, min: f32, max: f32 },
}

/// A denoiser call that failed.
#[derive(Debug, Error)]
pub enum InferenceError {
    #[error("input sizes {sample} and {cond} do not fit a batch of {batch}")]
    InputSize {
        sample: usize,
        cond: usize,
        batch: usize,
    },
    #[error("{path}: {message}")]
    Runtime { path: String, message: String },
    #[error("{path}: the network returned {got} values for {want}")]
    OutputSize {
        path: String,
        got: usize,
        want: usize,
    },
}

/// A device name that is not `cpu` or `cuda`.
#[derive(Clone, Debug, PartialEq, Error)]
#[error("unknown device '{0}' (cpu or cuda)")]
pub struct UnknownDevice(pub String);
