//! The playback clock: which instant of the run is shown, at what speed, and the keys that
//! move it. A live run is followed at its newest frame until the user scrubs back.

use std::path::PathBuf;
use std::sync::Arc;

use bevy::prelude::*;
use bevy::render::view::screenshot::{save_to_disk, Capturing, Screenshot};
use crossbeam_channel::{Receiver, TryRecvError};
use embody_sim::view::{PlaybackControl, Timeline, ViewUpdate};

use crate::app::{Options, Report, Track};

pub struct PlaybackPlugin;

impl Plugin for PlaybackPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            Update,
            (receive_live, keys, advance, finish)
                .chain()
                .in_set(PlaybackSet),
        );
    }
}

/// Systems that decide the instant shown; drawing runs after them.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlaybackSet;

/// An episode running on another thread.
#[derive(Resource)]
pub struct Live {
    pub updates: Receiver<ViewUpdate>,
    pub control: Arc<PlaybackControl>,
    /// The episode has ended (outcome, failure, or its thread is gone).
    pub done: bool,
}

#[derive(Resource, Debug)]
pub struct Clock {
    /// The instant shown (sim seconds).
    pub t: f64,
    pub speed: f64,
    pub paused: bool,
    pub live: bool,
    /// Live: stay on the newest frame.
    pub follow: bool,
    /// Why a damaged log ends early.
    pub lost: Option<String>,
    frames: u64,
    end_state: EndState,
}

#[derive(Debug, PartialEq)]
enum EndState {
    Running,
    /// Reached the end at this frame; wait a few frames so the last poses are on screen.
    Settling(u64),
    Capturing(PathBuf),
    Done,
}

impl Clock {
    pub fn new(timeline: &Timeline, speed: f64, live: bool, lost: Option<String>) -> Self {
        Self {
            t: timeline.start(),
            speed,
            paused: false,
            live,
            follow: live,
            lost,
            frames: 0,
            end_state: EndState::Running,
        }
    }
}

fn receive_live(live: Option<ResMut<Live>>, mut track: ResMut<Track>) {
    let Some(mut live) = live else {
        return;
    };
    loop {
        match live.updates.try_recv() {
            Ok(u) => {
                if matches!(u, ViewUpdate::Outcome(_) | ViewUpdate::Failed(_)) {
                    live.done = true;
                }
                track.0.push(u);
            }
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                live.done = true;
                break;
            }
        }
    }
}

fn keys(
    input: Res<ButtonInput<KeyCode>>,
    mut clock: ResMut<Clock>,
    track: Res<Track>,
    live: Option<Res<Live>>,
    mut exit: MessageWriter<AppExit>,
) {
    let (start, end) = (track.0.start(), track.0.end());
    let step = if input.pressed(KeyCode::ShiftLeft) || input.pressed(KeyCode::ShiftRight) {
        10.0
    } else {
        1.0
    };
    if input.just_pressed(KeyCode::Space) {
        clock.paused = !clock.paused;
    }
    if input.just_pressed(KeyCode::ArrowRight) {
        clock.t = (clock.t + step).min(end);
        clock.follow = false;
    }
    if input.just_pressed(KeyCode::ArrowLeft) {
        clock.t = (clock.t - step).max(start);
        clock.follow = false;
    }
    if input.just_pressed(KeyCode::ArrowUp) || input.just_pressed(KeyCode::Equal) {
        clock.speed = (clock.speed * 2.0).min(64.0);
    }
    if input.just_pressed(KeyCode::ArrowDown) || input.just_pressed(KeyCode::Minus) {
        clock.speed = (clock.speed / 2.0).max(1.0 / 64.0);
    }
    if input.just_pressed(KeyCode::Home) {
        clock.t = start;
        clock.follow = false;
    }
    if input.just_pressed(KeyCode::End) {
        clock.t = end;
        clock.follow = clock.live;
    }
    if input.just_pressed(KeyCode::Escape) || input.just_pressed(KeyCode::KeyQ) {
        exit.write(AppExit::Success);
    }
    if let Some(live) = live {
        live.control.set_speed(clock.speed);
        live.control.set_paused(clock.paused);
    }
}

/// The end of what is shown: the timeline's, or earlier with `stop_at`.
fn shown_end(track: &Track, opts: &Options) -> f64 {
    let end = track.0.end();
    opts.0
        .stop_at
        .map_or(end, |s| s.clamp(track.0.start(), end))
}

fn advance(time: Res<Time>, mut clock: ResMut<Clock>, track: Res<Track>, opts: Res<Options>) {
    clock.frames += 1;
    let (start, end) = (track.0.start(), shown_end(&track, &opts));
    if clock.follow {
        clock.t = end;
        return;
    }
    if !clock.paused {
        clock.t += time.delta_secs_f64() * clock.speed;
    }
    if clock.t >= end && clock.live {
        // Caught up with a live run: follow it again.
        clock.follow = true;
    }
    clock.t = clock.t.clamp(start, end.max(start));
}

/// With `exit_at_end`: once the end has been on screen for a few frames, save the screenshot
/// (if asked) and close.
#[allow(clippy::too_many_arguments)]
fn finish(
    mut commands: Commands,
    mut clock: ResMut<Clock>,
    track: Res<Track>,
    live: Option<Res<Live>>,
    opts: Res<Options>,
    report: Res<Report>,
    capturing: Query<(), With<Capturing>>,
    mut exit: MessageWriter<AppExit>,
) {
    let run_over = live.as_ref().is_none_or(|l| l.done);
    let end = shown_end(&track, &opts);
    let stopped_early = opts.0.stop_at.is_some_and(|s| s < track.0.end());
    let at_end = (run_over || stopped_early) && !track.0.frames.is_empty() && clock.t >= end;
    if let Ok(mut s) = report.0.lock() {
        s.frames_rendered = clock.frames;
        s.shown_t = clock.t;
        s.end_t = end;
        s.reached_end |= at_end;
        s.success = track.0.outcome.as_ref().map(|o| o.success);
    }
    if !opts.0.exit_at_end {
        return;
    }
    let frames = clock.frames;
    match &clock.end_state {
        EndState::Running if at_end => clock.end_state = EndState::Settling(frames),
        // Lavapipe compiles pipelines over the first frames: give the last pose time to show.
        EndState::Settling(since) if frames >= since + 10 => match &opts.0.screenshot {
            Some(path) => {
                commands
                    .spawn(Screenshot::primary_window())
                    .observe(save_to_disk(path.clone()));
                clock.end_state = EndState::Capturing(path.clone());
            }
            None => clock.end_state = EndState::Done,
        },
        EndState::Capturing(path) if capturing.is_empty() && path.exists() => {
            if let Ok(mut s) = report.0.lock() {
                s.screenshot = Some(path.clone());
            }
            clock.end_state = EndState::Done;
        }
        EndState::Done => {
            exit.write(AppExit::Success);
        }
        _ => {}
    }
}
