//! The 3-D scene: one entity per body with a mesh per collider, moved to the pose of the
//! instant shown; the lights; the current action chunk as a trail of end-effector targets.

use bevy::prelude::*;
use embody_sim::view::ShapeModel;

use crate::app::{point, transform, Scene, Track};
use crate::playback::{Clock, PlaybackSet};

pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(GlobalAmbientLight {
            color: Color::WHITE,
            brightness: 400.0,
            ..default()
        })
        .add_systems(Startup, spawn)
        .add_systems(Update, (pose_bodies, draw_chunk).after(PlaybackSet));
    }
}

/// Index of the body in the scene model (and in every frame's poses).
#[derive(Component)]
struct Body(usize);

fn mesh_of(shape: &ShapeModel) -> Mesh {
    match *shape {
        ShapeModel::Cuboid {
            half_extents: [x, y, z],
        } => Cuboid::new(2.0 * x, 2.0 * y, 2.0 * z).into(),
        ShapeModel::Cylinder {
            half_height,
            radius,
        } => Cylinder::new(radius, 2.0 * half_height).into(),
        ShapeModel::Capsule {
            half_height,
            radius,
        } => Capsule3d::new(radius, 2.0 * half_height).into(),
        ShapeModel::Ball { radius } => Sphere::new(radius).into(),
    }
}

fn spawn(
    mut commands: Commands,
    scene: Res<Scene>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    for (i, body) in scene.0.bodies.iter().enumerate() {
        commands
            .spawn((
                Body(i),
                Name::new(body.name.clone()),
                transform(&body.initial),
                Visibility::default(),
            ))
            .with_children(|parent| {
                for part in &body.parts {
                    let [r, g, b] = part.rgb;
                    parent.spawn((
                        Mesh3d(meshes.add(mesh_of(&part.shape))),
                        MeshMaterial3d(materials.add(StandardMaterial {
                            base_color: Color::srgb(r, g, b),
                            perceptual_roughness: 0.8,
                            ..default()
                        })),
                        transform(&part.in_body),
                    ));
                }
            });
    }
    // The sun, from above and in front of the table, with shadows so contact is visible.
    let [fx, fy, _] = scene.0.focus;
    let focus = Vec3::new(fx as f32, fy as f32, 0.0);
    commands.spawn((
        DirectionalLight {
            illuminance: 6000.0,
            shadow_maps_enabled: true,
            ..default()
        },
        Transform::from_translation(focus + Vec3::new(1.0, -0.8, 3.0)).looking_at(focus, Vec3::Z),
    ));
}

fn pose_bodies(clock: Res<Clock>, track: Res<Track>, mut bodies: Query<(&Body, &mut Transform)>) {
    let Some(frame) = track.0.frame_at(clock.t) else {
        return;
    };
    for (body, mut tf) in &mut bodies {
        if let Some(p) = frame.poses.get(body.0) {
            *tf = transform(p);
        }
    }
}

/// The chunk in force: the whole horizon thin, the part the agent executes bold.
fn draw_chunk(clock: Res<Clock>, track: Res<Track>, mut gizmos: Gizmos) {
    let Some(chunk) = track.0.chunk_at(clock.t) else {
        return;
    };
    let points: Vec<Vec3> = chunk.targets.iter().map(point).collect();
    gizmos.linestrip(points.iter().copied(), Color::srgb(0.3, 0.8, 1.0));
    for (k, p) in points.iter().enumerate() {
        let executed = k < chunk.execute;
        let (radius, color) = if executed {
            (0.006, Color::srgb(0.2, 0.9, 1.0))
        } else {
            (0.003, Color::srgb(0.5, 0.6, 0.7))
        };
        gizmos.sphere(Isometry3d::from_translation(*p), radius, color);
    }
}
