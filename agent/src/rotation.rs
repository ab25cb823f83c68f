//! Small rotation helpers the controller and policies share.

use nalgebra::{Isometry3, Rotation3, Translation3, UnitQuaternion, Vector3};

/// Rotation that points a gripper's approach axis (its z) straight down, turned by `yaw_rad`
/// about the base z axis.
pub fn top_down(yaw_rad: f64) -> UnitQuaternion<f64> {
    UnitQuaternion::from_axis_angle(&Vector3::z_axis(), yaw_rad)
        * UnitQuaternion::from_axis_angle(&Vector3::x_axis(), std::f64::consts::PI)
}

/// Pose from a position and a rotation.
pub fn pose(p: Vector3<f64>, r: UnitQuaternion<f64>) -> Isometry3<f64> {
    Isometry3::from_parts(Translation3::from(p), r)
}

/// Rotation vector (axis * angle) that takes `from` to `to`, expressed in the base frame.
pub fn rotation_error(from: &UnitQuaternion<f64>, to: &UnitQuaternion<f64>) -> Vector3<f64> {
    (to * from.inverse()).scaled_axis()
}

/// Yaw (rotation about base z) of a rotation, read from where it sends the x axis.
pub fn yaw_of(r: &UnitQuaternion<f64>) -> f64 {
    let x = r * Vector3::x();
    x.y.atan2(x.x)
}

/// The first two columns of the rotation matrix (the continuous 6-D representation of
/// Zhou et al. 2019), column-major.
pub fn to_6d(r: &UnitQuaternion<f64>) -> [f64; 6] {
    let m: Rotation3<f64> = r.to_rotation_matrix();
    let m = m.matrix();
    [
        m[(0, 0)],
        m[(1, 0)],
        m[(2, 0)],
        m[(0, 1)],
        m[(1, 1)],
        m[(2, 1)],
    ]
}

/// Wraps an angle into (-pi, pi].
pub fn wrap_angle(a: f64) -> f64 {
    let mut a = a % std::f64::consts::TAU;
    if a > std::f64::consts::PI {
        a -= std::f64::consts::TAU;
    } else if a <= -std::f64::consts::PI {
        a += std::f64::consts::TAU;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_down_points_z_down() {
        let r = top_down(0.3);
        let z = r * Vector3::z();
        assert!((z - Vector3::new(0.0, 0.0, -1.0)).norm() < 1e-12);
        assert!((yaw_of(&r) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn wrap() {
        assert!((wrap_angle(3.0 * std::f64::consts::PI) - std::f64::consts::PI).abs() < 1e-12);
        assert!((wrap_angle(-0.5) + 0.5).abs() < 1e-12);
    }
}
