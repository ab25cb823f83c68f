//! vision_msgs (ROS 2 Humble and later) for 3-D detections: what a perception node publishes
//! and `embody deploy --scene-input detections` reads, with the geometry_msgs they carry.

use serde::de::{Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::definitions as defs;
use super::messages::Header;
use super::RosMessage;

/// geometry_msgs/Point
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

/// geometry_msgs/Vector3
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Vector3Msg {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

/// geometry_msgs/Quaternion (identity by default, as ROS's own default)
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quaternion {
    pub x: f64,
    pub y: f64,
    pub z: f64,
    pub w: f64,
}

impl Default for Quaternion {
    fn default() -> Self {
        Self {
            x: 0.0,
            y: 0.0,
            z: 0.0,
            w: 1.0,
        }
    }
}

/// geometry_msgs/Pose
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    pub position: Point,
    pub orientation: Quaternion,
}

impl Pose {
    pub fn from_isometry(p: &nalgebra::Isometry3<f64>) -> Self {
        let t = p.translation.vector;
        let q = p.rotation.coords;
        Self {
            position: Point {
                x: t.x,
                y: t.y,
                z: t.z,
            },
            orientation: Quaternion {
                x: q.x,
                y: q.y,
                z: q.z,
                w: q.w,
            },
        }
    }

    /// The pose as an isometry; `None` when a number is not finite or the rotation is not a
    /// unit quaternion (within 1e-3: senders round).
    pub fn to_isometry(&self) -> Option<nalgebra::Isometry3<f64>> {
        let (p, q) = (self.position, self.orientation);
        let all = [p.x, p.y, p.z, q.x, q.y, q.z, q.w];
        let norm = (q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w).sqrt();
        if all.iter().any(|v| !v.is_finite()) || (norm - 1.0).abs() > 1e-3 {
            return None;
        }
        let rotation = nalgebra::UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(
            q.w, q.x, q.y, q.z,
        ));
        Some(nalgebra::Isometry3::from_parts(
            nalgebra::Translation3::new(p.x, p.y, p.z),
            rotation,
        ))
    }
}

/// `float64[36]`, a 6 x 6 covariance, row-major. serde derives stop at 32 elements; on the wire
/// it is 36 numbers with no length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Covariance36(pub [f64; 36]);

impl Default for Covariance36 {
    fn default() -> Self {
        Self([0.0; 36])
    }
}

impl Serialize for Covariance36 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut t = s.serialize_tuple(36)?;
        for v in &self.0 {
            t.serialize_element(v)?;
        }
        t.end()
    }
}

impl<'de> Deserialize<'de> for Covariance36 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Covariance36;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("36 float64 values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Covariance36, A::Error> {
                let mut out = [0.0; 36];
                for (i, v) in out.iter_mut().enumerate() {
                    *v = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::invalid_length(i, &self))?;
                }
                Ok(Covariance36(out))
            }
        }
        d.deserialize_tuple(36, V)
    }
}

/// geometry_msgs/PoseWithCovariance
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PoseWithCovariance {
    pub pose: Pose,
    pub covariance: Covariance36,
}

/// vision_msgs/ObjectHypothesis
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectHypothesis {
    pub class_id: String,
    pub score: f64,
}

/// vision_msgs/ObjectHypothesisWithPose
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectHypothesisWithPose {
    pub hypothesis: ObjectHypothesis,
    pub pose: PoseWithCovariance,
}

/// vision_msgs/BoundingBox3D: a box's centre pose and its size along the pose's axes (m).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox3D {
    pub center: Pose,
    pub size: Vector3Msg,
}

/// vision_msgs/Detection3D
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Detection3D {
    pub header: Header,
    pub results: Vec<ObjectHypothesisWithPose>,
    pub bbox: BoundingBox3D,
    /// The tracked object's id (stable across messages).
    pub id: String,
}

/// vision_msgs/Detection3DArray
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Detection3DArrayMsg {
    pub header: Header,
    pub detections: Vec<Detection3D>,
}

impl RosMessage for Detection3DArrayMsg {
    const TYPE: &'static str = "vision_msgs/msg/Detection3DArray";
    fn definition() -> &'static str {
        defs::detection_3d_array()
    }
}
