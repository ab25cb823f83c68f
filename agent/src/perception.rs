//! Perception: from what the body reports to the scene graph planners and policies use.

use nalgebra::{Isometry3, Translation3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::types::{Container, Observation, SceneGraph, SceneObject, ShapeKind};

/// Builds the scene graph from one observation.
pub trait Perception: Send {
    fn perceive(&mut self, obs: &Observation) -> SceneGraph;
}

/// What perception knows about an object apart from its pose (from the scenario, standing in
/// for a detector's class, colour and size estimates).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ObjectInfo {
    pub id: String,
    pub class: String,
    pub color: String,
    pub shape: ShapeKind,
    pub extents: Vector3<f64>,
}

/// Simulated perception: the simulator's true object poses plus configurable Gaussian position
/// noise. It is a stand-in for camera perception (camera issue) and is named so in reports.
pub struct SimulatedPerception {
    objects: Vec<ObjectInfo>,
    containers: Vec<Container>,
    table_height_m: f64,
    position_noise_m: f64,
    rng: ChaCha8Rng,
}

impl SimulatedPerception {
    pub fn new(
        objects: Vec<ObjectInfo>,
        containers: Vec<Container>,
        table_height_m: f64,
        position_noise_m: f64,
        seed: u64,
    ) -> Self {
        Self {
            objects,
            containers,
            table_height_m,
            position_noise_m,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn noise(&mut self) -> Vector3<f64> {
        if self.position_noise_m <= 0.0 {
            return Vector3::zeros();
        }
        // Box-Muller: keeps the dependency list to rand's core.
        let mut g = || {
            let u1: f64 = self.rng.random::<f64>().max(1e-12);
            let u2: f64 = self.rng.random::<f64>();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        Vector3::new(g(), g(), g()) * self.position_noise_m
    }
}

impl Perception for SimulatedPerception {
    fn perceive(&mut self, obs: &Observation) -> SceneGraph {
        let mut scene = SceneGraph {
            stamp: obs.stamp,
            objects: Vec::new(),
            containers: self.containers.clone(),
            table_height_m: self.table_height_m,
        };
        let Some(truth) = obs.privileged.as_ref() else {
            return scene;
        };
        for pose in truth {
            let Some(info) = self.objects.iter().find(|o| o.id == pose.id).cloned() else {
                continue;
            };
            let n = self.noise();
            let pose_in_base: Isometry3<f64> = Translation3::from(n) * pose.pose_in_base;
            let (pose_in_base, extents) = match info.shape {
                ShapeKind::Box => resting_box(&pose_in_base, &info.extents),
                _ => (pose_in_base, info.extents),
            };
            scene.objects.push(SceneObject {
                id: info.id,
                class: info.class,
                color: info.color,
                shape: info.shape,
                pose_in_base,
                extents,
            });
        }
        scene
    }
}

/// A box as it rests: the same box, with its frame's axes renamed so that its z axis is the one
/// nearest the base's up and its extents follow. A box that tipped over (dropped on the way to
/// the bin, knocked over) then reads as an upright box of another shape, with its real height,
/// top and sides; described in its catalogue frame, grasping and every learned policy took its
/// long side for its height and closed on air beside it, again and again.
pub fn resting_box(
    pose: &Isometry3<f64>,
    extents: &Vector3<f64>,
) -> (Isometry3<f64>, Vector3<f64>) {
    let r = pose.rotation.to_rotation_matrix();
    let axes = [
        r.matrix().column(0),
        r.matrix().column(1),
        r.matrix().column(2),
    ];
    let up = (0..3)
        .max_by(|&a, &b| axes[a].z.abs().total_cmp(&axes[b].z.abs()))
        .unwrap_or(2);
    if up == 2 && axes[2].z > 0.0 {
        return (*pose, *extents);
    }
    // The other two, in cyclic order after `up`, keep the frame right-handed.
    let (i, j) = ((up + 1) % 3, (up + 2) % 3);
    let sign = axes[up].z.signum();
    let z = axes[up] * sign;
    let x = axes[i] * sign;
    let y = z.cross(&x);
    let m = nalgebra::Matrix3::from_columns(&[x, y, z]);
    let rotation = nalgebra::UnitQuaternion::from_rotation_matrix(
        &nalgebra::Rotation3::from_matrix_unchecked(m),
    );
    (
        Isometry3::from_parts(pose.translation, rotation),
        Vector3::new(extents[i], extents[j], extents[up]),
    )
}

/// Perception from a camera: instance segmentation and depth, back-projected through the
/// intrinsics and the camera's pose, give each visible object's points in the base frame. The
/// object's top is its highest points; its position is the middle of the top surface, lowered
/// by half its height; a box's yaw comes from the top surface's principal axis. Class, colour
/// and size come from the catalogue by segmentation id (what a detector would report). An
/// object the camera cannot see keeps its last seen pose.
pub struct CameraPerception {
    /// Segmentation id k (1-based) is `objects[k - 1]`.
    objects: Vec<ObjectInfo>,
    containers: Vec<Container>,
    table_height_m: f64,
    last_seen: std::collections::HashMap<String, Isometry3<f64>>,
}

impl CameraPerception {
    pub fn new(objects: Vec<ObjectInfo>, containers: Vec<Container>, table_height_m: f64) -> Self {
        Self {
            objects,
            containers,
            table_height_m,
            last_seen: Default::default(),
        }
    }

    /// Points of each segmentation id, in the base frame.
    fn points(frame: &crate::types::CameraFrame, n: usize) -> Vec<Vec<Vector3<f64>>> {
        let mut out = vec![Vec::new(); n];
        let [fx, fy, cx, cy] = frame.intrinsics;
        let w = frame.width as usize;
        for (i, (&id, &d)) in frame.segmentation.iter().zip(&frame.depth_m).enumerate() {
            let k = id as usize;
            if k == 0 || k > n || !d.is_finite() {
                continue;
            }
            let (u, v) = ((i % w) as f64 + 0.5, (i / w) as f64 + 0.5);
            let d = d as f64;
            let p_cam = nalgebra::Point3::new((u - cx) / fx * d, (v - cy) / fy * d, d);
            out[k - 1].push((frame.camera_in_base * p_cam).coords);
        }
        out
    }
}

impl Perception for CameraPerception {
    fn perceive(&mut self, obs: &Observation) -> SceneGraph {
        let mut scene = SceneGraph {
            stamp: obs.stamp,
            objects: Vec::new(),
            containers: self.containers.clone(),
            table_height_m: self.table_height_m,
        };
        if let Some(frame) = obs.camera.as_deref() {
            let clouds = Self::points(frame, self.objects.len());
            for (info, pts) in self.objects.iter().zip(clouds) {
                // A few pixels are an edge or a glimpse, not enough to place an object.
                if pts.len() < 8 {
                    continue;
                }
                let top = pts.iter().map(|p| p.z).fold(f64::MIN, f64::max);
                let cap: Vec<&Vector3<f64>> = pts.iter().filter(|p| p.z > top - 0.006).collect();
                let m = cap.len() as f64;
                let (sx, sy) = cap.iter().fold((0.0, 0.0), |(a, b), p| (a + p.x, b + p.y));
                let (mx, my) = (sx / m, sy / m);
                let yaw = if info.shape == ShapeKind::Box && cap.len() >= 8 {
                    // Principal axis of the top face; a square's is arbitrary, and harmless.
                    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
                    for p in &cap {
                        let (dx, dy) = (p.x - mx, p.y - my);
                        sxx += dx * dx;
                        syy += dy * dy;
                        sxy += dx * dy;
                    }
                    0.5 * (2.0 * sxy).atan2(sxx - syy)
                } else {
                    0.0
                };
                let pose = Isometry3::from_parts(
                    Translation3::new(mx, my, top - info.extents.z / 2.0),
                    nalgebra::UnitQuaternion::from_axis_angle(&Vector3::z_axis(), yaw),
                );
                self.last_seen.insert(info.id.clone(), pose);
            }
        }
        for info in &self.objects {
            if let Some(pose) = self.last_seen.get(&info.id) {
                scene.objects.push(SceneObject {
                    id: info.id.clone(),
                    class: info.class.clone(),
                    color: info.color.clone(),
                    shape: info.shape,
                    pose_in_base: *pose,
                    extents: info.extents,
                });
            }
        }
        scene
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::UnitQuaternion;

    /// The eight corners of a box, in the base frame.
    fn corners(pose: &Isometry3<f64>, e: &Vector3<f64>) -> Vec<Vector3<f64>> {
        let mut out = Vec::new();
        for k in 0..8 {
            let s = |b: usize| if k >> b & 1 == 1 { 0.5 } else { -0.5 };
            let local = nalgebra::Point3::new(s(0) * e.x, s(1) * e.y, s(2) * e.z);
            out.push((pose * local).coords);
        }
        out.sort_by(|a, b| a.as_slice().partial_cmp(b.as_slice()).unwrap());
        out
    }

    #[test]
    fn a_tipped_box_reads_as_the_same_box_standing_on_its_side() {
        let e = Vector3::new(0.035, 0.055, 0.06);
        let upright = Isometry3::from_parts(
            Translation3::new(0.5, 0.1, 0.03),
            UnitQuaternion::from_axis_angle(&Vector3::z_axis(), 0.3),
        );
        // Upright: unchanged.
        assert_eq!(resting_box(&upright, &e), (upright, e));
        // Tipped about its x, about its y, upside down, and a bit askew.
        for tip in [
            UnitQuaternion::from_axis_angle(&Vector3::x_axis(), 1.5),
            UnitQuaternion::from_axis_angle(&Vector3::y_axis(), -1.6),
            UnitQuaternion::from_axis_angle(&Vector3::x_axis(), 3.1),
            UnitQuaternion::from_euler_angles(1.4, 0.2, 0.7),
        ] {
            let pose = Isometry3::from_parts(upright.translation, upright.rotation * tip);
            let (p, r) = resting_box(&pose, &e);
            // The same solid: same centre, same corners.
            assert_eq!(p.translation, pose.translation);
            for (a, b) in corners(&p, &r).iter().zip(corners(&pose, &e)) {
                assert!((a - b).norm() < 1e-9, "{tip:?}: {a} vs {b}");
            }
            // Its z axis now points up, and its height is the side that points up.
            let z = p.rotation * Vector3::z();
            assert!(z.z > 0.7, "{tip:?}: z axis {z}");
            let mut sorted = [r.x, r.y, r.z];
            sorted.sort_by(f64::total_cmp);
            assert_eq!(sorted, [0.035, 0.055, 0.06]);
        }
        // Lying on its long side after tipping about x: 0.055 is its height now.
        let lying = Isometry3::from_parts(
            upright.translation,
            upright.rotation
                * UnitQuaternion::from_axis_angle(&Vector3::x_axis(), std::f64::consts::FRAC_PI_2),
        );
        assert!((resting_box(&lying, &e).1.z - 0.055).abs() < 1e-12);
    }
}
