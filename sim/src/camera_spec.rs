//! A scenario's camera: where it is, where it looks, its image size and rate. Geometry only;
//! rendering into a world is `crate::camera`.

use nalgebra::{Isometry3, Matrix3, Point3, Rotation3, UnitQuaternion, Vector3};
use serde::{Deserialize, Serialize};

/// A pinhole camera fixed in the base frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSpec {
    pub name: String,
    /// Optical centre in the base frame (m).
    pub position: [f64; 3],
    /// A point the optical axis goes through (m).
    pub look_at: [f64; 3],
    pub width: u32,
    pub height: u32,
    /// Vertical field of view (degrees).
    pub fov_deg: f64,
    /// Frames per second of robot time.
    #[serde(default = "default_rate_hz")]
    pub rate_hz: f64,
}

fn default_rate_hz() -> f64 {
    10.0
}

impl CameraSpec {
    /// In front of the table and above it, looking down at the objects: 640x480, 50 degrees.
    pub fn front_of_table() -> Self {
        Self {
            name: "front".into(),
            position: [1.25, 0.0, 0.75],
            look_at: [0.45, 0.0, 0.0],
            width: 640,
            height: 480,
            fov_deg: 50.0,
            rate_hz: default_rate_hz(),
        }
    }

    /// Camera pose in the base frame, ROS optical convention: z forward, x right, y down.
    pub fn pose_in_base(&self) -> Isometry3<f64> {
        let p = Vector3::from(self.position);
        let z = (Vector3::from(self.look_at) - p).normalize();
        let up = if z.cross(&Vector3::z()).norm() < 1e-6 {
            Vector3::x()
        } else {
            Vector3::z()
        };
        let x = z.cross(&up).normalize();
        let y = z.cross(&x);
        let r = Rotation3::from_matrix_unchecked(Matrix3::from_columns(&[x, y, z]));
        Isometry3::from_parts(p.into(), UnitQuaternion::from_rotation_matrix(&r))
    }

    /// fx, fy, cx, cy (pixels), square pixels.
    pub fn intrinsics(&self) -> [f64; 4] {
        let fy = (self.height as f64 / 2.0) / (self.fov_deg.to_radians() / 2.0).tan();
        [fy, fy, self.width as f64 / 2.0, self.height as f64 / 2.0]
    }

    /// Where a point of the base frame lands in the image (pixels), if in front of the camera.
    pub fn project(&self, p_in_base: &Point3<f64>) -> Option<(f64, f64)> {
        let c = self.pose_in_base().inverse_transform_point(p_in_base);
        if c.z <= 0.0 {
            return None;
        }
        let [fx, fy, cx, cy] = self.intrinsics();
        Some((fx * c.x / c.z + cx, fy * c.y / c.z + cy))
    }
}
