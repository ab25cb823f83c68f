//! `ros2msg` definitions in the form rosbag2 writes into MCAP schemas.

#[cfg(test)]
const SEP: &str =
    "================================================================================\n";

macro_rules! def {
    ($($part:expr),* $(,)?) => { concat!($($part),*) };
}

#[cfg(test)]
const TIME: &str = "int32 sec\nuint32 nanosec\n";
#[cfg(test)]
const DURATION: &str = "int32 sec\nuint32 nanosec\n";
#[cfg(test)]
const HEADER: &str = "builtin_interfaces/Time stamp\nstring frame_id\n";
#[cfg(test)]
const VECTOR3: &str = "float64 x\nfloat64 y\nfloat64 z\n";
#[cfg(test)]
const QUATERNION: &str = "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n";
#[cfg(test)]
const TRANSFORM: &str = "Vector3 translation\nQuaternion rotation\n";
#[cfg(test)]
const TRANSFORM_STAMPED: &str =
    "std_msgs/Header header\nstring child_frame_id\nTransform transform\n";
#[cfg(test)]
const TRAJECTORY_POINT: &str = "float64[] positions\nfloat64[] velocities\nfloat64[] accelerations\nfloat64[] effort\nbuiltin_interfaces/Duration time_from_start\n";

pub fn joint_state() -> &'static str {
    def!(
        "std_msgs/Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\nfloat64[] effort\n",
        "================================================================================\n",
        "MSG: std_msgs/Header\n",
        "builtin_interfaces/Time stamp\nstring frame_id\n",
        "================================================================================\n",
        "MSG: builtin_interfaces/Time\n",
        "int32 sec\nuint32 nanosec\n",
    )
}

pub fn tf_message() -> &'static str {
    def!(
        "geometry_msgs/TransformStamped[] transforms\n",
        "================================================================================\n",
        "MSG: geometry_msgs/TransformStamped\n",
        "std_msgs/Header header\nstring child_frame_id\nTransform transform\n",
        "================================================================================\n",
        "MSG: std_msgs/Header\n",
        "builtin_interfaces/Time stamp\nstring frame_id\n",
        "================================================================================\n",
        "MSG: builtin_interfaces/Time\n",
        "int32 sec\nuint32 nanosec\n",
        "================================================================================\n",
        "MSG: geometry_msgs/Transform\n",
        "Vector3 translation\nQuaternion rotation\n",
        "================================================================================\n",
        "MSG: geometry_msgs/Vector3\n",
        "float64 x\nfloat64 y\nfloat64 z\n",
        "================================================================================\n",
        "MSG: geometry_msgs/Quaternion\n",
        "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n",
    )
}

pub fn joint_trajectory() -> &'static str {
    def!(
        "std_msgs/Header header\nstring[] joint_names\nJointTrajectoryPoint[] points\n",
        "================================================================================\n",
        "MSG: std_msgs/Header\n",
        "builtin_interfaces/Time stamp\nstring frame_id\n",
        "================================================================================\n",
        "MSG: builtin_interfaces/Time\n",
        "int32 sec\nuint32 nanosec\n",
        "================================================================================\n",
        "MSG: trajectory_msgs/JointTrajectoryPoint\n",
        "float64[] positions\nfloat64[] velocities\nfloat64[] accelerations\nfloat64[] effort\nbuiltin_interfaces/Duration time_from_start\n",
        "================================================================================\n",
        "MSG: builtin_interfaces/Duration\n",
        "int32 sec\nuint32 nanosec\n",
    )
}

pub fn gripper_command() -> &'static str {
    "float64 position\nfloat64 max_effort\n"
}

pub fn image() -> &'static str {
    def!(
        "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n",
        "================================================================================\n",
        "MSG: std_msgs/Header\n",
        "builtin_interfaces/Time stamp\nstring frame_id\n",
        "================================================================================\n",
        "MSG: builtin_interfaces/Time\n",
        "int32 sec\nuint32 nanosec\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The composed schemas contain exactly the parts listed above (no typo between copies).
    #[test]
    fn schemas_are_built_from_the_parts() {
        for (schema, parts) in [
            (joint_state(), vec![HEADER, TIME]),
            (
                tf_message(),
                vec![
                    TRANSFORM_STAMPED,
                    HEADER,
                    TIME,
                    TRANSFORM,
                    VECTOR3,
                    QUATERNION,
                ],
            ),
            (
                joint_trajectory(),
                vec![HEADER, TIME, TRAJECTORY_POINT, DURATION],
            ),
            (image(), vec![HEADER, TIME]),
        ] {
            let sections: Vec<&str> = schema.split(SEP).collect();
            assert_eq!(sections.len(), parts.len() + 1);
            for (section, part) in sections[1..].iter().zip(parts) {
                let body = section.split_once('\n').unwrap().1;
                assert_eq!(body, part);
            }
        }
    }
}
