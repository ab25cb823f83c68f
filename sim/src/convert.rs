//! Conversions between embody's f64 nalgebra poses and rapier's f32 glam poses.

use nalgebra::{Isometry3, Quaternion, Translation3, UnitQuaternion};
use rapier3d::math::{Pose, Rotation, Vector};

pub fn to_rapier(p: &Isometry3<f64>) -> Pose {
    let t = p.translation.vector;
    let q = p.rotation.quaternion();
    Pose::from_parts(
        Vector::new(t.x as f32, t.y as f32, t.z as f32),
        Rotation::from_xyzw(q.i as f32, q.j as f32, q.k as f32, q.w as f32).normalize(),
    )
}

pub fn from_rapier(p: &Pose) -> Isometry3<f64> {
    let t = p.translation;
    let r = p.rotation;
    Isometry3::from_parts(
        Translation3::new(t.x as f64, t.y as f64, t.z as f64),
        UnitQuaternion::from_quaternion(Quaternion::new(
            r.w as f64, r.x as f64, r.y as f64, r.z as f64,
        )),
    )
}

pub fn vec(v: nalgebra::Vector3<f64>) -> Vector {
    Vector::new(v.x as f32, v.y as f32, v.z as f32)
}
