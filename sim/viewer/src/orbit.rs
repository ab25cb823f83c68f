//! The viewer's camera: orbits a target point with z up. Left drag orbits, right (or middle)
//! drag pans, the wheel zooms. The bottom strip of the window belongs to the timeline.

use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use crate::app::Scene;
use crate::overlay::TIMELINE_STRIP_PX;

pub struct OrbitPlugin;

impl Plugin for OrbitPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn).add_systems(Update, orbit);
    }
}

#[derive(Component)]
struct Orbit {
    target: Vec3,
    /// Around z from +x (rad), and up from the table (rad).
    yaw: f32,
    pitch: f32,
    distance: f32,
}

impl Orbit {
    fn transform(&self) -> Transform {
        let dir = Vec3::new(
            self.pitch.cos() * self.yaw.cos(),
            self.pitch.cos() * self.yaw.sin(),
            self.pitch.sin(),
        );
        Transform::from_translation(self.target + dir * self.distance)
            .looking_at(self.target, Vec3::Z)
    }
}

fn spawn(mut commands: Commands, scene: Res<Scene>) {
    let [fx, fy, _] = scene.0.focus;
    // From the front-right of the table, a little above the arm's reach.
    let orbit = Orbit {
        target: Vec3::new(fx as f32 * 0.6, fy as f32, 0.15),
        yaw: -0.55,
        pitch: 0.55,
        distance: 1.9,
    };
    commands.spawn((
        Camera3d::default(),
        // Tone-mapping lookup tables are not built in (a smaller build); colours stay as given.
        Tonemapping::None,
        orbit.transform(),
        orbit,
    ));
}

fn orbit(
    mut camera: Query<(&mut Orbit, &mut Transform)>,
    window: Single<&Window, With<PrimaryWindow>>,
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
) {
    let Ok((mut o, mut tf)) = camera.single_mut() else {
        return;
    };
    let over_timeline = window
        .cursor_position()
        .is_some_and(|c| c.y > window.height() - TIMELINE_STRIP_PX);
    let d = motion.delta;
    if !over_timeline && buttons.pressed(MouseButton::Left) {
        o.yaw -= d.x * 0.006;
        o.pitch = (o.pitch + d.y * 0.006).clamp(-0.2, 1.55);
    }
    if !over_timeline
        && (buttons.pressed(MouseButton::Right) || buttons.pressed(MouseButton::Middle))
    {
        let scale = o.distance * 0.0015;
        let right = tf.right().as_vec3();
        let up = tf.up().as_vec3();
        o.target += (-right * d.x + up * d.y) * scale;
    }
    let lines = match scroll.unit {
        MouseScrollUnit::Line => scroll.delta.y,
        MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
    };
    if lines != 0.0 {
        o.distance = (o.distance * 0.9f32.powf(lines)).clamp(0.2, 10.0);
    }
    *tf = o.transform();
}
