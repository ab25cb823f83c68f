//! A scenario's camera: where it is, where it looks, its image size and rate. Geometry only;
//! rendering into a world is `crate::camera`.

use nalgebra::{Isometry3, Matrix3, Point3, Rotation3, UnitQuaternion, Vector3};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The widest or tallest image a camera may have (pixels).
pub const MAX_SIDE: u32 = 8192;
/// The most pixels one image may have: 4096 x 4096. A frame holds 11 bytes a pixel (colour 3,
/// depth 4, segmentation 4), so about 185 MB, and rendering casts one ray per pixel; a size
/// from a flag or a file must not make the renderer allocate more than that (100000 x 100000
/// asked for 110 GB and aborted).
pub const MAX_PIXELS: u64 = 4096 * 4096;
/// The most one side may exceed the other by. Real cameras are at most a few times wider than
/// tall; the bound keeps sizes derived from a camera's aspect ratio (a thumbnail of fixed
/// width) bounded as well.
pub const MAX_ASPECT: u32 = 16;

/// Why an image size is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum SizeError {
    #[error("{side} must be 1..={MAX_SIDE} pixels, got {got}")]
    Side { side: &'static str, got: u32 },
    #[error("{width}x{height} is more than {MAX_PIXELS} pixels (4096x4096)")]
    Pixels { width: u32, height: u32 },
    #[error("{width}x{height}: one side may be at most {MAX_ASPECT} times the other")]
    Aspect { width: u32, height: u32 },
}

/// Whether `width` x `height` is an image size a camera may have. Every place a size enters (a
/// scenario's `[[cameras]]`, `embody render --size`) checks with this before anything is
/// allocated.
pub fn check_size(width: u32, height: u32) -> Result<(), SizeError> {
    for (side, got) in [("width", width), ("height", height)] {
        if !(1..=MAX_SIDE).contains(&got) {
            return Err(SizeError::Side { side, got });
        }
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(SizeError::Pixels { width, height });
    }
    // Both sides are at most MAX_SIDE here, so the product cannot overflow.
    if width.max(height) > width.min(height) * MAX_ASPECT {
        return Err(SizeError::Aspect { width, height });
    }
    Ok(())
}

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
