//! control_msgs actions as ros2_control's controllers serve them: FollowJointTrajectory (the
//! arm's JointTrajectoryController) and GripperCommand (GripperActionController). The nested
//! messages come from `embody_agent::ros_msgs`, the same structs the MCAP logs encode.

use embody_agent::ros_msgs::{
    GripperCommandMsg, Header, JointTrajectoryMsg, JointTrajectoryPoint, Time,
};
use ros2_client::action::{ActionClientQosPolicies, ActionServerQosPolicies};
use ros2_client::qos::{Durability, History};
use ros2_client::{ActionTypeName, Message, QosProfile};
use serde::{Deserialize, Serialize};

/// control_msgs/JointTolerance
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JointTolerance {
    pub name: String,
    pub position: f64,
    pub velocity: f64,
    pub acceleration: f64,
}

/// control_msgs/JointComponentTolerance
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JointComponentTolerance {
    pub joint_name: String,
    pub component: u16,
    pub position: f64,
    pub velocity: f64,
    pub acceleration: f64,
}

/// geometry_msgs/Vector3
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Vector3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

/// geometry_msgs/Transform (translation, then rotation as x, y, z, w)
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    pub translation: Vector3,
    pub rotation: [f64; 4],
}

/// geometry_msgs/Twist
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Twist {
    pub linear: Vector3,
    pub angular: Vector3,
}

/// trajectory_msgs/MultiDOFJointTrajectoryPoint
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiDofJointTrajectoryPoint {
    pub transforms: Vec<Transform>,
    pub velocities: Vec<Twist>,
    pub accelerations: Vec<Twist>,
    pub time_from_start: Time,
}

/// trajectory_msgs/MultiDOFJointTrajectory
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiDofJointTrajectory {
    pub header: Header,
    pub joint_names: Vec<String>,
    pub points: Vec<MultiDofJointTrajectoryPoint>,
}

/// control_msgs/action/FollowJointTrajectory goal (Humble and later).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowJointTrajectoryGoal {
    pub trajectory: JointTrajectoryMsg,
    pub multi_dof_trajectory: MultiDofJointTrajectory,
    pub path_tolerance: Vec<JointTolerance>,
    pub component_path_tolerance: Vec<JointComponentTolerance>,
    pub goal_tolerance: Vec<JointTolerance>,
    pub component_goal_tolerance: Vec<JointComponentTolerance>,
    pub goal_time_tolerance: Time,
}

/// FollowJointTrajectory result `error_code` values.
pub mod error_code {
    pub const SUCCESSFUL: i32 = 0;
    pub const INVALID_GOAL: i32 = -1;
    pub const INVALID_JOINTS: i32 = -2;
    pub const OLD_HEADER_TIMESTAMP: i32 = -3;
    pub const PATH_TOLERANCE_VIOLATED: i32 = -4;
    pub const GOAL_TOLERANCE_VIOLATED: i32 = -5;
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowJointTrajectoryResult {
    pub error_code: i32,
    pub error_string: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowJointTrajectoryFeedback {
    pub header: Header,
    pub joint_names: Vec<String>,
    pub desired: JointTrajectoryPoint,
    pub actual: JointTrajectoryPoint,
    pub error: JointTrajectoryPoint,
    pub multi_dof_joint_names: Vec<String>,
    pub multi_dof_desired: MultiDofJointTrajectoryPoint,
    pub multi_dof_actual: MultiDofJointTrajectoryPoint,
    pub multi_dof_error: MultiDofJointTrajectoryPoint,
}

/// control_msgs/action/GripperCommand goal
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GripperCommandGoal {
    pub command: GripperCommandMsg,
}

/// control_msgs/action/GripperCommand result and feedback (same fields).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GripperCommandState {
    /// Gap (m) as the controller reports it.
    pub position: f64,
    pub effort: f64,
    pub stalled: bool,
    pub reached_goal: bool,
}

impl Message for FollowJointTrajectoryGoal {}
impl Message for FollowJointTrajectoryResult {}
impl Message for FollowJointTrajectoryFeedback {}
impl Message for GripperCommandGoal {}
impl Message for GripperCommandState {}

pub fn follow_joint_trajectory_type() -> ActionTypeName {
    ActionTypeName::new("control_msgs", "FollowJointTrajectory")
}

pub fn gripper_command_type() -> ActionTypeName {
    ActionTypeName::new("control_msgs", "GripperCommand")
}

/// rcl's action defaults: services and feedback reliable and volatile, status latched.
fn service_qos() -> QosProfile {
    QosProfile::publisher_default()
        .durability(Durability::Volatile)
        .history(History::KeepLast { depth: 10 })
}

fn status_qos() -> QosProfile {
    QosProfile::publisher_default()
        .durability(Durability::TransientLocal)
        .history(History::KeepLast { depth: 1 })
}

pub fn server_qos() -> ActionServerQosPolicies {
    ActionServerQosPolicies {
        goal_service: service_qos(),
        result_service: service_qos(),
        cancel_service: service_qos(),
        feedback_publisher: service_qos(),
        status_publisher: status_qos(),
    }
}

pub fn client_qos() -> ActionClientQosPolicies {
    ActionClientQosPolicies {
        goal_service: service_qos(),
        result_service: service_qos(),
        cancel_service: service_qos(),
        feedback_subscription: service_qos(),
        status_subscription: status_qos(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_encode_with_empty_optional_parts() {
        let g = FollowJointTrajectoryGoal {
            trajectory: JointTrajectoryMsg {
                joint_names: vec!["a".into()],
                points: vec![JointTrajectoryPoint {
                    positions: vec![1.0],
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        };
        let bytes = cdr_encoding::to_vec::<_, byteorder::LittleEndian>(&g).unwrap();
        let (back, n) =
            cdr_encoding::from_bytes::<FollowJointTrajectoryGoal, byteorder::LittleEndian>(&bytes)
                .unwrap();
        assert_eq!(back, g);
        assert_eq!(n, bytes.len());
    }
}
