//! The message types, field for field as their ROS 2 definitions.
//!
//! The structs are the one description of each layout: `RosMessage::write`/`read` encode them
//! for MCAP, and their serde derives, in the same field order, are what DDS (RustDDS's CDR
//! serializer) sends. `embody-ros` tests that both give the same bytes for every message.

use serde::{Deserialize, Serialize};

use super::definitions as defs;
use super::RosMessage;

/// builtin_interfaces/Time (also used for Duration).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Time {
    pub sec: i32,
    pub nanosec: u32,
}

impl Time {
    /// Nearest representable time to `seconds` (>= 0).
    pub fn from_secs_f64(seconds: f64) -> Self {
        let ns = (seconds.max(0.0) * 1e9).round() as u64;
        Self {
            sec: (ns / 1_000_000_000) as i32,
            nanosec: (ns % 1_000_000_000) as u32,
        }
    }
    pub fn as_nanos(&self) -> u64 {
        self.sec.max(0) as u64 * 1_000_000_000 + self.nanosec as u64
    }
    pub fn as_secs_f64(&self) -> f64 {
        self.sec as f64 + self.nanosec as f64 * 1e-9
    }
}

/// std_msgs/Header
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub stamp: Time,
    pub frame_id: String,
}

/// sensor_msgs/JointState
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JointStateMsg {
    pub header: Header,
    pub name: Vec<String>,
    pub position: Vec<f64>,
    pub velocity: Vec<f64>,
    pub effort: Vec<f64>,
}

impl RosMessage for JointStateMsg {
    const TYPE: &'static str = "sensor_msgs/msg/JointState";
    fn definition() -> &'static str {
        defs::joint_state()
    }
}

/// geometry_msgs/TransformStamped (translation and rotation flattened).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TransformStamped {
    pub header: Header,
    pub child_frame_id: String,
    pub translation: [f64; 3],
    /// x, y, z, w
    pub rotation: [f64; 4],
}

impl TransformStamped {
    pub fn to_isometry(&self) -> nalgebra::Isometry3<f64> {
        let [x, y, z] = self.translation;
        let [qx, qy, qz, qw] = self.rotation;
        nalgebra::Isometry3::from_parts(
            nalgebra::Translation3::new(x, y, z),
            nalgebra::UnitQuaternion::new_unchecked(nalgebra::Quaternion::new(qw, qx, qy, qz)),
        )
    }

    pub fn from_isometry(header: Header, child: &str, p: &nalgebra::Isometry3<f64>) -> Self {
        let t = p.translation.vector;
        let q = p.rotation.quaternion();
        Self {
            header,
            child_frame_id: child.to_string(),
            translation: [t.x, t.y, t.z],
            rotation: [q.i, q.j, q.k, q.w],
        }
    }
}

/// tf2_msgs/TFMessage
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TfMessage {
    pub transforms: Vec<TransformStamped>,
}

impl RosMessage for TfMessage {
    const TYPE: &'static str = "tf2_msgs/msg/TFMessage";
    fn definition() -> &'static str {
        defs::tf_message()
    }
}

/// trajectory_msgs/JointTrajectoryPoint
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JointTrajectoryPoint {
    pub positions: Vec<f64>,
    pub velocities: Vec<f64>,
    pub accelerations: Vec<f64>,
    pub effort: Vec<f64>,
    pub time_from_start: Time,
}

/// trajectory_msgs/JointTrajectory
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JointTrajectoryMsg {
    pub header: Header,
    pub joint_names: Vec<String>,
    pub points: Vec<JointTrajectoryPoint>,
}

impl RosMessage for JointTrajectoryMsg {
    const TYPE: &'static str = "trajectory_msgs/msg/JointTrajectory";
    fn definition() -> &'static str {
        defs::joint_trajectory()
    }
}

/// control_msgs/GripperCommand
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GripperCommandMsg {
    /// Finger position (m); for the Panda, half the opening.
    pub position: f64,
    pub max_effort: f64,
}

impl RosMessage for GripperCommandMsg {
    const TYPE: &'static str = "control_msgs/msg/GripperCommand";
    fn definition() -> &'static str {
        defs::gripper_command()
    }
}

/// sensor_msgs/Image
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageMsg {
    pub header: Header,
    pub height: u32,
    pub width: u32,
    pub encoding: String,
    pub is_bigendian: u8,
    pub step: u32,
    /// One byte-string write and read, not a serde call per byte (921,600 for a 640x480 frame).
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

impl RosMessage for ImageMsg {
    const TYPE: &'static str = "sensor_msgs/msg/Image";
    fn definition() -> &'static str {
        defs::image()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of a JointState as every ROS 2 middleware writes it (hand-derived from the CDR
    /// rules: header, then u32-length sequences, f64s aligned to 8 from the payload start).
    #[test]
    fn joint_state_bytes_follow_cdr() {
        let m = JointStateMsg {
            header: Header {
                stamp: Time { sec: 1, nanosec: 2 },
                frame_id: "a".into(),
            },
            name: vec!["j".into()],
            position: vec![1.5],
            velocity: vec![],
            effort: vec![],
        };
        let b = m.to_cdr();
        let mut expect = vec![0, 1, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, b'a', 0];
        expect.extend_from_slice(&[0, 0]); // align to 4
        expect.extend_from_slice(&[1, 0, 0, 0, 2, 0, 0, 0, b'j', 0]);
        expect.extend_from_slice(&[0, 0]); // align to 4
        expect.extend_from_slice(&[1, 0, 0, 0]); // one position, already 8-aligned at 32
        expect.extend_from_slice(&1.5f64.to_le_bytes());
        expect.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(b, expect);
        assert_eq!(JointStateMsg::from_cdr(&b).unwrap(), m);
    }

    #[test]
    fn round_trips_and_truncation() {
        let tf = TfMessage {
            transforms: vec![TransformStamped {
                header: Header {
                    stamp: Time::from_secs_f64(2.5),
                    frame_id: "world".into(),
                },
                child_frame_id: "cube".into(),
                translation: [1.0, 2.0, 3.0],
                rotation: [0.0, 0.0, 0.0, 1.0],
            }],
        };
        let b = tf.to_cdr();
        assert_eq!(TfMessage::from_cdr(&b).unwrap(), tf);
        for cut in 0..b.len() {
            assert!(
                TfMessage::from_cdr(&b[..cut]).is_err(),
                "cut at {cut} must fail"
            );
        }
        let traj = JointTrajectoryMsg {
            header: Header::default(),
            joint_names: vec!["a".into(), "b".into()],
            points: vec![JointTrajectoryPoint {
                positions: vec![0.1, 0.2],
                velocities: vec![0.0, 0.0],
                time_from_start: Time {
                    sec: 0,
                    nanosec: 8_333_333,
                },
                ..Default::default()
            }],
        };
        assert_eq!(JointTrajectoryMsg::from_cdr(&traj.to_cdr()).unwrap(), traj);
        let img = ImageMsg {
            height: 1,
            width: 2,
            encoding: "rgb8".into(),
            step: 6,
            data: vec![1, 2, 3, 4, 5, 6],
            ..Default::default()
        };
        assert_eq!(ImageMsg::from_cdr(&img.to_cdr()).unwrap(), img);
        assert!(matches!(
            JointStateMsg::from_cdr(&[1, 0, 0, 0]),
            Err(crate::ros_msgs::CdrError::Encapsulation { .. })
        ));
        // A big-endian sender (encapsulation 00 00) decodes to the same message.
        let mut be = vec![0, 0, 0, 0];
        be.extend(cdr_encoding::to_vec::<_, byteorder::BigEndian>(&traj).unwrap());
        assert_eq!(JointTrajectoryMsg::from_cdr(&be).unwrap(), traj);
        // A huge claimed length is an error, not an allocation.
        let mut bad = JointStateMsg::default().to_cdr();
        let n = bad.len();
        bad[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(JointStateMsg::from_cdr(&bad).is_err());
    }
}

/// std_msgs/Bool (the e-stop topic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BoolMsg {
    pub data: bool,
}

impl RosMessage for BoolMsg {
    const TYPE: &'static str = "std_msgs/msg/Bool";
    fn definition() -> &'static str {
        "bool data\n"
    }
}

/// std_msgs/String (status and plan as JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StringMsg {
    pub data: String,
}

impl RosMessage for StringMsg {
    const TYPE: &'static str = "std_msgs/msg/String";
    fn definition() -> &'static str {
        "string data\n"
    }
}

/// The policy server's service `embody_msgs/srv/ComputeChunk`, request half. Everything the
/// server needs travels in the request (it keeps no state per robot), so several robots share
/// one server and a restarted server answers the next request as the old one would have.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkRequestMsg {
    /// Who asks (a name per robot; for the server's log and statistics).
    pub robot: String,
    /// Seeds the sampler's noise for this request.
    pub noise_seed: u32,
    /// Robot time (s) of the newest observation: the chunk's start.
    pub stamp: f64,
    /// The last To observations' features (the policy's observation layout), oldest first.
    pub observations: Vec<f64>,
    /// The chunk executing now, when this one continues it: its start (s) and its Tp rows of
    /// action features as the server returned them. Empty: the first chunk of a skill attempt.
    pub committed_start: f64,
    pub committed: Vec<f64>,
    /// Action periods between `stamp` and the hand-over (the inference delay).
    pub delay_periods: u32,
    /// naive, ensemble or rtc.
    pub chunking: String,
}

impl RosMessage for ChunkRequestMsg {
    const TYPE: &'static str = "embody_msgs/srv/ComputeChunk_Request";
    fn definition() -> &'static str {
        "string robot\nuint32 noise_seed\nfloat64 stamp\nfloat64[] observations\n\
         float64 committed_start\nfloat64[] committed\nuint32 delay_periods\nstring chunking\n"
    }
}

/// `embody_msgs/srv/ComputeChunk`, response half.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkReplyMsg {
    /// The chunk's start (s, robot time): the request's `stamp`.
    pub start: f64,
    /// Tp rows of action features (position, 6D rotation, gripper width), the network's
    /// indexing: the first To - 1 rows are the past.
    pub actions: Vec<f64>,
    /// Empty on success; else why there is no chunk.
    pub error: String,
    /// The server's time for this request (ms).
    pub compute_ms: f64,
}

impl RosMessage for ChunkReplyMsg {
    const TYPE: &'static str = "embody_msgs/srv/ComputeChunk_Response";
    fn definition() -> &'static str {
        "float64 start\nfloat64[] actions\nstring error\nfloat64 compute_ms\n"
    }
}

/// sensor_msgs/RegionOfInterest
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionOfInterest {
    pub x_offset: u32,
    pub y_offset: u32,
    pub height: u32,
    pub width: u32,
    pub do_rectify: bool,
}

/// sensor_msgs/CameraInfo (pinhole intrinsics `k`, rectification `r`, projection `p`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CameraInfoMsg {
    pub header: Header,
    pub height: u32,
    pub width: u32,
    pub distortion_model: String,
    pub d: Vec<f64>,
    pub k: [f64; 9],
    pub r: [f64; 9],
    pub p: [f64; 12],
    pub binning_x: u32,
    pub binning_y: u32,
    pub roi: RegionOfInterest,
}

impl RosMessage for CameraInfoMsg {
    const TYPE: &'static str = "sensor_msgs/msg/CameraInfo";
    fn definition() -> &'static str {
        defs::camera_info()
    }
}

#[cfg(test)]
mod camera_info_tests {
    use super::*;

    #[test]
    fn camera_info_round_trips() {
        let m = CameraInfoMsg {
            height: 240,
            width: 320,
            k: [1.0; 9],
            roi: RegionOfInterest {
                do_rectify: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(CameraInfoMsg::from_cdr(&m.to_cdr()).unwrap(), m);
    }
}

impl ImageMsg {
    /// The frame's colour image (rgb8).
    pub fn color(frame: &crate::types::CameraFrame, header: Header) -> Self {
        Self {
            header,
            height: frame.height,
            width: frame.width,
            encoding: "rgb8".into(),
            is_bigendian: 0,
            step: frame.width * 3,
            data: frame.rgb.clone(),
        }
    }

    /// The frame's depth image (32FC1, metres, little-endian; NaN where nothing was hit).
    pub fn depth(frame: &crate::types::CameraFrame, header: Header) -> Self {
        Self {
            header,
            height: frame.height,
            width: frame.width,
            encoding: "32FC1".into(),
            is_bigendian: 0,
            step: frame.width * 4,
            data: frame.depth_m.iter().flat_map(|d| d.to_le_bytes()).collect(),
        }
    }
}

impl CameraInfoMsg {
    /// The frame's pinhole calibration (no distortion, no rectification).
    pub fn of(frame: &crate::types::CameraFrame, header: Header) -> Self {
        let [fx, fy, cx, cy] = frame.intrinsics;
        Self {
            header,
            height: frame.height,
            width: frame.width,
            distortion_model: "plumb_bob".into(),
            d: vec![0.0; 5],
            k: [fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0],
            r: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            p: [fx, 0.0, cx, 0.0, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0],
            ..Default::default()
        }
    }
}
