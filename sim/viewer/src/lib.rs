//! embody's Bevy front end: watch an episode while it runs, or play a recorded log with a
//! timeline. It draws what [`embody_sim::view`] describes (bodies, their poses over time, the
//! plan, events and action chunks); the simulation itself never depends on Bevy.
//!
//! Bevy's winit loop must own the main thread, so [`run`] blocks until the window closes (or,
//! with [`ViewerOptions::exit_at_end`], until the run has been shown to its end).

mod app;
mod orbit;
mod overlay;
mod playback;
mod scene;

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::Receiver;
use embody_sim::view::{PlaybackControl, SceneModel, Timeline, ViewUpdate};
use serde::Serialize;

/// Where the timeline comes from.
pub enum Source {
    /// A recorded log, loaded whole (`lost`: why a damaged log stops early).
    Log {
        timeline: Box<Timeline>,
        lost: Option<String>,
    },
    /// An episode running on another thread, paced by `control`.
    Live {
        updates: Receiver<ViewUpdate>,
        control: Arc<PlaybackControl>,
    },
}

#[derive(Clone, Debug)]
pub struct ViewerOptions {
    pub title: String,
    /// Simulated seconds per wall second.
    pub speed: f64,
    /// Window size in logical pixels.
    pub size: (u32, u32),
    /// Save a screenshot here when the run has been shown to its end.
    pub screenshot: Option<PathBuf>,
    /// Close the window once the end has been shown (and the screenshot saved).
    pub exit_at_end: bool,
    /// Treat this sim time as the end (a picture of one instant, with `screenshot`).
    pub stop_at: Option<f64>,
}

impl Default for ViewerOptions {
    fn default() -> Self {
        Self {
            title: "embody".into(),
            speed: 1.0,
            size: (1280, 720),
            screenshot: None,
            exit_at_end: false,
            stop_at: None,
        }
    }
}

/// What the viewer showed, for scripts and tests.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ViewerSummary {
    /// Frames Bevy rendered.
    pub frames_rendered: u64,
    /// Sim time shown last, and the end of the timeline.
    pub shown_t: f64,
    pub end_t: f64,
    pub reached_end: bool,
    pub screenshot: Option<PathBuf>,
    /// The outcome the run recorded, if it got that far.
    pub success: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    #[error("the viewer stopped with an error (exit code {0})")]
    Exit(u8),
    #[error("the screenshot {path} was not written")]
    Screenshot { path: String },
}

/// Opens the window and runs until it closes.
pub fn run(
    scene: SceneModel,
    source: Source,
    opts: ViewerOptions,
) -> Result<ViewerSummary, ViewerError> {
    app::run(scene, source, opts)
}
