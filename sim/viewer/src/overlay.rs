//! Text over the scene: what is running (scenario, instruction, the plan with the current step
//! marked), what happened (recent events, the outcome), where in time (sim time, speed), and
//! the timeline bar, which a click or drag scrubs.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use embody_sim::view::describe_event;

use crate::app::{Scene, Track};
use crate::playback::{Clock, PlaybackSet};

/// Height of the strip at the bottom of the window that the timeline owns (logical px).
pub const TIMELINE_STRIP_PX: f32 = 34.0;

pub struct OverlayPlugin;

impl Plugin for OverlayPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn)
            .add_systems(Update, scrub.before(PlaybackSet))
            .add_systems(Update, (header, plan, events, status).after(PlaybackSet));
    }
}

#[derive(Component)]
struct Header;
#[derive(Component)]
struct PlanList;
#[derive(Component)]
struct PlanStep(usize);
#[derive(Component)]
struct Events;
#[derive(Component)]
struct Status;
#[derive(Component)]
struct Verdict;
#[derive(Component)]
struct BarFill;

type VerdictText = (&'static mut Text, &'static mut TextColor);

const DIM: Color = Color::srgb(0.65, 0.67, 0.70);
const TEXT: Color = Color::srgb(0.93, 0.93, 0.93);
const CURRENT: Color = Color::srgb(1.0, 0.85, 0.25);
const DONE: Color = Color::srgb(0.45, 0.85, 0.45);
const BAD: Color = Color::srgb(1.0, 0.40, 0.35);

fn font(size: f32) -> TextFont {
    TextFont {
        font_size: FontSize::Px(size),
        ..default()
    }
}

fn panel(node: Node) -> (Node, BackgroundColor) {
    (
        Node {
            position_type: PositionType::Absolute,
            flex_direction: FlexDirection::Column,
            padding: UiRect::all(px(8)),
            row_gap: px(2),
            ..node
        },
        BackgroundColor(Color::srgba(0.05, 0.05, 0.07, 0.7)),
    )
}

fn spawn(mut commands: Commands, clock: Res<Clock>) {
    commands
        .spawn(panel(Node {
            top: px(10),
            left: px(10),
            max_width: px(460),
            ..default()
        }))
        .with_children(|p| {
            p.spawn((Header, Text::new(""), font(15.0), TextColor(TEXT)));
            p.spawn((
                PlanList,
                Node {
                    flex_direction: FlexDirection::Column,
                    margin: UiRect::top(px(6)),
                    ..default()
                },
            ));
        });
    commands
        .spawn(panel(Node {
            top: px(10),
            right: px(10),
            max_width: px(480),
            ..default()
        }))
        .with_children(|p| {
            p.spawn((Events, Text::new(""), font(13.0), TextColor(DIM)));
        });
    commands
        .spawn(panel(Node {
            bottom: px(TIMELINE_STRIP_PX + 4.0),
            left: px(10),
            max_width: px(560),
            ..default()
        }))
        .with_children(|p| {
            p.spawn((Status, Text::new(""), font(14.0), TextColor(TEXT)));
            p.spawn((Verdict, Text::new(""), font(18.0), TextColor(TEXT)));
            if let Some(lost) = &clock.lost {
                p.spawn((
                    Text::new(format!("log damaged: {lost}")),
                    font(12.0),
                    TextColor(BAD),
                ));
            }
            p.spawn((
                Text::new(
                    "space play/pause | left/right 1 s (shift 10 s) | up/down speed | home/end | \
                     q quit\nmouse: drag orbit, right-drag pan, wheel zoom, click the bar to scrub",
                ),
                font(11.0),
                TextColor(DIM),
            ));
        });
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                left: px(10),
                right: px(10),
                bottom: px(10),
                height: px(14),
                ..default()
            },
            BackgroundColor(Color::srgb(0.18, 0.19, 0.22)),
        ))
        .with_children(|p| {
            p.spawn((
                BarFill,
                Node {
                    width: percent(0),
                    height: percent(100),
                    ..default()
                },
                BackgroundColor(Color::srgb(0.30, 0.65, 0.95)),
            ));
        });
}

/// Click or drag on the timeline strip: jump there.
fn scrub(
    window: Single<&Window, With<PrimaryWindow>>,
    buttons: Res<ButtonInput<MouseButton>>,
    mut clock: ResMut<Clock>,
    track: Res<Track>,
) {
    if !buttons.pressed(MouseButton::Left) {
        return;
    }
    let Some(c) = window.cursor_position() else {
        return;
    };
    if c.y < window.height() - TIMELINE_STRIP_PX {
        return;
    }
    let f = ((c.x - 10.0) / (window.width() - 20.0)).clamp(0.0, 1.0) as f64;
    let (start, end) = (track.0.start(), track.0.end());
    clock.t = start + f * (end - start);
    clock.follow = false;
}

fn header(
    scene: Res<Scene>,
    track: Res<Track>,
    clock: Res<Clock>,
    mut text: Single<&mut Text, With<Header>>,
) {
    let s = &scene.0;
    let instruction = track
        .0
        .plan_at(clock.t)
        .map(|p| p.instruction.as_str())
        .unwrap_or(s.instruction.as_str());
    let mode = if clock.live { "live" } else { "log" };
    let value = format!(
        "{} | seed {} | {mode}\n\"{instruction}\"",
        s.scenario, s.seed
    );
    if text.0 != value {
        text.0 = value;
    }
}

fn plan(
    mut commands: Commands,
    track: Res<Track>,
    clock: Res<Clock>,
    list: Single<(Entity, Option<&Children>), With<PlanList>>,
    mut steps: Query<(&PlanStep, &mut Text, &mut TextColor)>,
) {
    let Some(p) = track.0.plan_at(clock.t) else {
        return;
    };
    let (list, children) = *list;
    let shown = children.map_or(0, |c| c.len());
    if shown != p.steps.len() {
        commands.entity(list).despawn_related::<Children>();
        commands.entity(list).with_children(|l| {
            for i in 0..p.steps.len() {
                l.spawn((PlanStep(i), Text::new(""), font(14.0), TextColor(DIM)));
            }
        });
        return;
    }
    let current = track.0.step_at(clock.t);
    let done = track.0.steps_done(clock.t);
    for (step, mut text, mut color) in &mut steps {
        let Some(skill) = p.steps.get(step.0) else {
            continue;
        };
        let (mark, c) = if Some(step.0) == current {
            ("[>]", CURRENT)
        } else if step.0 < done && current.is_none_or(|k| step.0 < k) {
            ("[x]", DONE)
        } else {
            ("[ ]", DIM)
        };
        let value = format!("{mark} {}. {skill}", step.0 + 1);
        if text.0 != value {
            text.0 = value;
        }
        color.0 = c;
    }
}

fn events(track: Res<Track>, clock: Res<Clock>, mut text: Single<&mut Text, With<Events>>) {
    let shown = track.0.events_until(clock.t);
    let value = shown
        .iter()
        .rev()
        .take(10)
        .rev()
        .map(|e| {
            // One line per event: long safety reasons are cut rather than wrapped.
            let mut line = describe_event(e);
            if line.chars().count() > 48 {
                line = line.chars().take(45).collect::<String>() + "...";
            }
            format!("{:7.2} s  {line}", e.t)
        })
        .collect::<Vec<_>>()
        .join("\n");
    if text.0 != value {
        text.0 = value;
    }
}

fn status(
    track: Res<Track>,
    clock: Res<Clock>,
    mut status: Single<&mut Text, (With<Status>, Without<Verdict>)>,
    mut verdict: Single<VerdictText, (With<Verdict>, Without<Status>)>,
    mut fill: Single<&mut Node, With<BarFill>>,
) {
    let (start, end) = (track.0.start(), track.0.end());
    let state = if clock.paused {
        "paused"
    } else if clock.follow {
        "following live"
    } else {
        "playing"
    };
    let speed = if clock.speed >= 1.0 {
        format!("{}x", clock.speed)
    } else {
        format!("1/{}x", 1.0 / clock.speed)
    };
    let value = format!("t {:7.2} / {:.2} s   speed {speed}   {state}", clock.t, end);
    if status.0 != value {
        status.0 = value;
    }
    let at_end = clock.t >= end && !track.0.frames.is_empty();
    let (message, color) = match (&track.0.outcome, &track.0.failure) {
        (_, Some(f)) => (format!("could not run: {f}"), BAD),
        (Some(o), _) if at_end => {
            let why = o
                .stopped
                .as_ref()
                .or(o.plan_error.as_ref())
                .map(|w| format!(" ({w})"))
                .unwrap_or_default();
            if o.success {
                (
                    format!("SUCCESS: {}/{} cleared", o.objects_cleared, o.objects_total),
                    DONE,
                )
            } else {
                (
                    format!(
                        "FAILED: {}/{} cleared{why}",
                        o.objects_cleared, o.objects_total
                    ),
                    BAD,
                )
            }
        }
        _ => (String::new(), TEXT),
    };
    let (text, text_color) = &mut *verdict;
    if text.0 != message {
        text.0 = message;
    }
    text_color.0 = color;
    let f = if end > start {
        ((clock.t - start) / (end - start)).clamp(0.0, 1.0)
    } else {
        1.0
    };
    fill.width = percent((f * 100.0) as f32);
}
