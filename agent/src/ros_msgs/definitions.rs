//! `ros2msg` definitions in the form rosbag2 writes into MCAP schemas: the message's own fields,
//! then every message it uses after a separator line and `MSG: pkg/Name`. Each part is written
//! once here and composed per message on first use.

use std::sync::OnceLock;

const SEP: &str =
    "================================================================================\n";

const TIME: (&str, &str) = ("builtin_interfaces/Time", "int32 sec\nuint32 nanosec\n");
const DURATION: (&str, &str) = ("builtin_interfaces/Duration", "int32 sec\nuint32 nanosec\n");
const HEADER: (&str, &str) = (
    "std_msgs/Header",
    "builtin_interfaces/Time stamp\nstring frame_id\n",
);
const VECTOR3: (&str, &str) = ("geometry_msgs/Vector3", "float64 x\nfloat64 y\nfloat64 z\n");
const QUATERNION: (&str, &str) = (
    "geometry_msgs/Quaternion",
    "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n",
);
const TRANSFORM: (&str, &str) = (
    "geometry_msgs/Transform",
    "Vector3 translation\nQuaternion rotation\n",
);
const TRANSFORM_STAMPED: (&str, &str) = (
    "geometry_msgs/TransformStamped",
    "std_msgs/Header header\nstring child_frame_id\nTransform transform\n",
);
const TRAJECTORY_POINT: (&str, &str) = (
    "trajectory_msgs/JointTrajectoryPoint",
    "float64[] positions\nfloat64[] velocities\nfloat64[] accelerations\nfloat64[] effort\nbuiltin_interfaces/Duration time_from_start\n",
);

fn compose(own: &str, deps: &[(&str, &str)]) -> String {
    let mut s = own.to_string();
    for (name, fields) in deps {
        s.push_str(SEP);
        s.push_str("MSG: ");
        s.push_str(name);
        s.push('\n');
        s.push_str(fields);
    }
    s
}

macro_rules! schema {
    ($name:ident, $own:expr, [$($dep:expr),*]) => {
        pub fn $name() -> &'static str {
            static TEXT: OnceLock<String> = OnceLock::new();
            TEXT.get_or_init(|| compose($own, &[$($dep),*]))
        }
    };
}

schema!(
    joint_state,
    "std_msgs/Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\nfloat64[] effort\n",
    [HEADER, TIME]
);
schema!(
    tf_message,
    "geometry_msgs/TransformStamped[] transforms\n",
    [
        TRANSFORM_STAMPED,
        HEADER,
        TIME,
        TRANSFORM,
        VECTOR3,
        QUATERNION
    ]
);
schema!(
    joint_trajectory,
    "std_msgs/Header header\nstring[] joint_names\nJointTrajectoryPoint[] points\n",
    [HEADER, TIME, TRAJECTORY_POINT, DURATION]
);
schema!(
    gripper_command,
    "float64 position\nfloat64 max_effort\n",
    []
);
schema!(
    image,
    "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n",
    [HEADER, TIME]
);

const REGION_OF_INTEREST: (&str, &str) = (
    "sensor_msgs/RegionOfInterest",
    "uint32 x_offset\nuint32 y_offset\nuint32 height\nuint32 width\nbool do_rectify\n",
);

schema!(
    camera_info,
    "std_msgs/Header header\nuint32 height\nuint32 width\nstring distortion_model\nfloat64[] d\nfloat64[9] k\nfloat64[9] r\nfloat64[12] p\nuint32 binning_x\nuint32 binning_y\nRegionOfInterest roi\n",
    [HEADER, TIME, REGION_OF_INTEREST]
);

const POINT: (&str, &str) = ("geometry_msgs/Point", "float64 x\nfloat64 y\nfloat64 z\n");
const POSE: (&str, &str) = (
    "geometry_msgs/Pose",
    "Point position\nQuaternion orientation\n",
);
const POSE_WITH_COVARIANCE: (&str, &str) = (
    "geometry_msgs/PoseWithCovariance",
    "Pose pose\nfloat64[36] covariance\n",
);
const OBJECT_HYPOTHESIS: (&str, &str) = (
    "vision_msgs/ObjectHypothesis",
    "string class_id\nfloat64 score\n",
);
const OBJECT_HYPOTHESIS_WITH_POSE: (&str, &str) = (
    "vision_msgs/ObjectHypothesisWithPose",
    "ObjectHypothesis hypothesis\ngeometry_msgs/PoseWithCovariance pose\n",
);
const BOUNDING_BOX_3D: (&str, &str) = (
    "vision_msgs/BoundingBox3D",
    "geometry_msgs/Pose center\ngeometry_msgs/Vector3 size\n",
);
const DETECTION_3D: (&str, &str) = (
    "vision_msgs/Detection3D",
    "std_msgs/Header header\nObjectHypothesisWithPose[] results\nBoundingBox3D bbox\nstring id\n",
);

schema!(
    detection_3d_array,
    "std_msgs/Header header\nDetection3D[] detections\n",
    [
        HEADER,
        TIME,
        DETECTION_3D,
        OBJECT_HYPOTHESIS_WITH_POSE,
        OBJECT_HYPOTHESIS,
        POSE_WITH_COVARIANCE,
        POSE,
        POINT,
        QUATERNION,
        BOUNDING_BOX_3D,
        VECTOR3
    ]
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The rosbag2 layout: first the message's fields, then each dependency once.
    #[test]
    fn schemas_follow_the_rosbag2_layout() {
        let tf = tf_message();
        assert!(tf.starts_with("geometry_msgs/TransformStamped[] transforms\n"));
        assert_eq!(tf.matches(SEP).count(), 6);
        assert!(tf.contains("MSG: geometry_msgs/Quaternion\nfloat64 x 0\n"));
        assert_eq!(gripper_command(), "float64 position\nfloat64 max_effort\n");
        assert!(std::ptr::eq(joint_state(), joint_state()), "composed once");
    }
}
