//! Cameras of a scenario, rendered by casting one ray per pixel into the rapier world: exact
//! depth and instance segmentation, and a flat-shaded colour image, deterministic and with no
//! GPU. Perception works from these frames; the Bevy viewer (`embody-viewer`) draws the same
//! world for people.

use embody_agent::types::CameraFrame;
use nalgebra::Vector3;
use rapier3d::parry::query::{RayCast, RayIntersection};
use rapier3d::prelude::{ColliderHandle, Ray};

use crate::convert::vec;
use crate::groups;
use crate::world::World;

pub use crate::camera_spec::CameraSpec;
use crate::camera_spec::{check_size, SizeError};

/// Segmentation ids: objects are 1..=N in the world's object order; then these.
pub const SEG_CONTAINER_BASE: u32 = 100;
pub const SEG_TABLE: u32 = 200;
pub const SEG_ROBOT: u32 = 300;

/// RGB of the colour names scenarios use (the viewer paints with the same).
pub fn color_rgb(name: &str) -> [f64; 3] {
    match name {
        "red" => [0.85, 0.12, 0.10],
        "green" => [0.15, 0.65, 0.20],
        "blue" => [0.12, 0.25, 0.85],
        "yellow" => [0.92, 0.82, 0.12],
        "orange" => [0.95, 0.50, 0.08],
        "purple" => [0.55, 0.20, 0.70],
        "white" => [0.92, 0.92, 0.92],
        "black" => [0.08, 0.08, 0.08],
        "gray" | "grey" => [0.50, 0.50, 0.52],
        "brown" => [0.50, 0.32, 0.18],
        "pink" => [0.95, 0.55, 0.70],
        _ => [0.7, 0.7, 0.7],
    }
}

pub const TABLE_RGB: [f64; 3] = [0.72, 0.60, 0.45];
pub const ROBOT_RGB: [f64; 3] = [0.88, 0.88, 0.90];
pub const SKY_RGB: [u8; 3] = [40, 44, 52];

/// Renders `spec` from the world as it is now. The size is checked here as well as where a
/// scenario or flag sets it: the frame is allocated and ray-cast per pixel from `spec` alone.
pub fn render(world: &World, spec: &CameraSpec) -> Result<CameraFrame, SizeError> {
    check_size(spec.width, spec.height)?;
    let pose = spec.pose_in_base();
    let [fx, fy, cx, cy] = spec.intrinsics();
    let (w, h) = (spec.width as usize, spec.height as usize);
    let origin = vec(pose.translation.vector);
    let object_of_body: std::collections::HashMap<_, u32> = world
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.body, i as u32 + 1))
        .collect();
    // Every collider and its box, tested directly: the broad phase's tree is only built by a
    // physics step, and a camera must see the scene before the first one.
    let colliders: Vec<_> = world
        .physics
        .colliders
        .iter()
        .map(|(h, c)| (h, c, c.compute_aabb()))
        .collect();
    let first_hit = |ray: &Ray| {
        let mut best: Option<(ColliderHandle, RayIntersection)> = None;
        for (h, c, aabb) in &colliders {
            let limit = best.as_ref().map_or(10.0, |b| b.1.time_of_impact);
            if aabb.cast_local_ray(ray, limit, true).is_none() {
                continue;
            }
            if let Some(hit) = c
                .shape()
                .cast_ray_and_get_normal(c.position(), ray, limit, true)
            {
                if best
                    .as_ref()
                    .is_none_or(|b| hit.time_of_impact < b.1.time_of_impact)
                {
                    best = Some((*h, hit));
                }
            }
        }
        best
    };
    let mut rgb = vec![0u8; w * h * 3];
    let mut depth = vec![f32::NAN; w * h];
    let mut seg = vec![0u32; w * h];
    for v in 0..h {
        for u in 0..w {
            let d_cam = Vector3::new((u as f64 + 0.5 - cx) / fx, (v as f64 + 0.5 - cy) / fy, 1.0);
            let dir = pose.rotation * d_cam.normalize();
            let ray = Ray::new(origin, vec(dir));
            let i = v * w + u;
            let Some((handle, hit)) = first_hit(&ray) else {
                rgb[3 * i..3 * i + 3].copy_from_slice(&SKY_RGB);
                continue;
            };
            let toi = hit.time_of_impact as f64;
            // Depth along the optical axis, as depth cameras report it.
            depth[i] = (toi * d_cam.normalize().z) as f32;
            let point = pose.translation.vector + dir * toi;
            let (id, base) = match world.physics.colliders.get(handle) {
                Some(c) => {
                    let member = c.collision_groups().memberships;
                    if member == groups::OBJECT.memberships {
                        let id = c
                            .parent()
                            .and_then(|b| object_of_body.get(&b).copied())
                            .unwrap_or(0);
                        let color = id
                            .checked_sub(1)
                            .and_then(|k| world.objects.get(k as usize))
                            .map(|o| color_rgb(&o.instance.color))
                            .unwrap_or(TABLE_RGB);
                        (id, color)
                    } else if member == groups::CONTAINER.memberships {
                        let k = nearest_container(world, &point);
                        let color = world
                            .scenario
                            .containers
                            .get(k)
                            .map(|c| color_rgb(&c.color))
                            .unwrap_or(TABLE_RGB);
                        (SEG_CONTAINER_BASE + k as u32, color)
                    } else if member == groups::TABLE.memberships {
                        (SEG_TABLE, TABLE_RGB)
                    } else {
                        (SEG_ROBOT, ROBOT_RGB)
                    }
                }
                None => (0, TABLE_RGB),
            };
            seg[i] = id;
            // A headlight and a light from above: enough shading to see shapes.
            let n = Vector3::new(
                hit.normal.x as f64,
                hit.normal.y as f64,
                hit.normal.z as f64,
            );
            let shade = 0.25 + 0.45 * n.dot(&-dir).max(0.0) + 0.30 * n.z.max(0.0);
            for k in 0..3 {
                rgb[3 * i + k] = (base[k] * shade * 255.0).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Ok(CameraFrame {
        stamp: world.time(),
        width: spec.width,
        height: spec.height,
        rgb,
        depth_m: depth,
        segmentation: seg,
        intrinsics: [fx, fy, cx, cy],
        camera_in_base: pose,
    })
}

/// Index of the container nearest `p` (base frame, by horizontal distance).
pub(crate) fn nearest_container(world: &World, p: &Vector3<f64>) -> usize {
    world
        .containers
        .iter()
        .enumerate()
        .min_by(|a, b| {
            let da = (a.1.pose_in_base.translation.vector.xy() - p.xy()).norm();
            let db = (b.1.pose_in_base.translation.vector.xy() - p.xy()).norm();
            da.total_cmp(&db)
        })
        .map(|(k, _)| k)
        .unwrap_or(0)
}

/// Writes the frame's colour image, depth (16-bit millimetres) and segmentation (ids scaled
/// to be visible: the palette index in the red channel) as PNG files.
pub fn write_pngs(
    frame: &CameraFrame,
    rgb: Option<&std::path::Path>,
    depth: Option<&std::path::Path>,
    seg: Option<&std::path::Path>,
) -> std::io::Result<()> {
    let write =
        |path: &std::path::Path, color: png::ColorType, bits: png::BitDepth, data: &[u8]| {
            let file = std::fs::File::create(path)?;
            let mut enc =
                png::Encoder::new(std::io::BufWriter::new(file), frame.width, frame.height);
            enc.set_color(color);
            enc.set_depth(bits);
            let mut writer = enc.write_header().map_err(std::io::Error::other)?;
            writer.write_image_data(data).map_err(std::io::Error::other)
        };
    if let Some(p) = rgb {
        write(p, png::ColorType::Rgb, png::BitDepth::Eight, &frame.rgb)?;
    }
    if let Some(p) = depth {
        let mut bytes = Vec::with_capacity(frame.depth_m.len() * 2);
        for d in &frame.depth_m {
            let mm = if d.is_finite() {
                (d * 1000.0).round().clamp(0.0, 65535.0) as u16
            } else {
                0
            };
            bytes.extend_from_slice(&mm.to_be_bytes());
        }
        write(p, png::ColorType::Grayscale, png::BitDepth::Sixteen, &bytes)?;
    }
    if let Some(p) = seg {
        let mut bytes = Vec::with_capacity(frame.segmentation.len() * 3);
        for id in &frame.segmentation {
            bytes.extend_from_slice(&seg_color(*id));
        }
        write(p, png::ColorType::Rgb, png::BitDepth::Eight, &bytes)?;
    }
    Ok(())
}

/// A distinct colour per segmentation id.
fn seg_color(id: u32) -> [u8; 3] {
    match id {
        0 => [0, 0, 0],
        SEG_TABLE => [90, 70, 50],
        SEG_ROBOT => [200, 200, 200],
        _ => {
            let h = id.wrapping_mul(2_654_435_761);
            [
                (h >> 24) as u8 | 64,
                (h >> 16) as u8 | 64,
                (h >> 8) as u8 | 64,
            ]
        }
    }
}
