//! The Bevy app: plugins, the shared resources, and the order systems run in.

use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use bevy::window::WindowResolution;
use bevy::winit::WinitPlugin;
use embody_sim::view::{SceneModel, Timeline};

use crate::playback::{Clock, Live};
use crate::{Source, ViewerError, ViewerOptions, ViewerSummary};

/// The scene being shown (static geometry).
#[derive(Resource)]
pub struct Scene(pub SceneModel);

/// The run as far as it is known.
#[derive(Resource)]
pub struct Track(pub Timeline);

#[derive(Resource, Clone)]
pub struct Options(pub ViewerOptions);

/// Where the systems leave what [`run`] reports.
#[derive(Resource, Clone, Default)]
pub struct Report(pub Arc<Mutex<ViewerSummary>>);

pub fn run(
    scene: SceneModel,
    source: Source,
    opts: ViewerOptions,
) -> Result<ViewerSummary, ViewerError> {
    let report = Report::default();
    let (timeline, live, lost) = match source {
        Source::Log { timeline, lost } => (*timeline, None, lost),
        Source::Live { updates, control } => (
            Timeline::default(),
            Some(Live {
                updates,
                control,
                done: false,
            }),
            None,
        ),
    };
    let mut app = App::new();
    let (w, h) = opts.size;
    // The event loop may run on any thread: tests drive the viewer from their own threads.
    let winit = WinitPlugin {
        run_on_any_thread: true,
    };
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: opts.title.clone(),
                    resolution: WindowResolution::new(w, h),
                    ..default()
                }),
                ..default()
            })
            .set(winit)
            // embody's command line has set up logging already.
            .disable::<bevy::log::LogPlugin>(),
    )
    .insert_resource(ClearColor(Color::srgb_u8(40, 44, 52)))
    .insert_resource(Clock::new(&timeline, opts.speed, live.is_some(), lost))
    .insert_resource(Scene(scene))
    .insert_resource(Track(timeline))
    .insert_resource(Options(opts.clone()))
    .insert_resource(report.clone())
    .add_plugins((
        crate::scene::ScenePlugin,
        crate::orbit::OrbitPlugin,
        crate::overlay::OverlayPlugin,
        crate::playback::PlaybackPlugin,
    ));
    if let Some(live) = live {
        app.insert_resource(live);
    }
    let exit = app.run();
    let summary = report.0.lock().map(|s| s.clone()).unwrap_or_default();
    if let AppExit::Error(code) = exit {
        return Err(ViewerError::Exit(code.get()));
    }
    if let Some(path) = &opts.screenshot {
        if summary.reached_end && !path.exists() {
            return Err(ViewerError::Screenshot {
                path: path.display().to_string(),
            });
        }
    }
    Ok(summary)
}

/// Poses and points from the simulator's frames (z up; Bevy is told so by the camera's up).
pub fn transform(p: &nalgebra::Isometry3<f64>) -> Transform {
    let t = p.translation.vector;
    let q = p.rotation.quaternion();
    Transform {
        translation: Vec3::new(t.x as f32, t.y as f32, t.z as f32),
        rotation: Quat::from_xyzw(q.i as f32, q.j as f32, q.k as f32, q.w as f32).normalize(),
        scale: Vec3::ONE,
    }
}

pub fn point(p: &[f64; 3]) -> Vec3 {
    Vec3::new(p[0] as f32, p[1] as f32, p[2] as f32)
}
