//! Every name the bridge uses: topics, controllers, joints. Defaults follow ros2_control and
//! the Franka description.

use serde::{Deserialize, Serialize};

/// The DDS domain: `explicit` (a --domain-id flag), else `$ROS_DOMAIN_ID` as ROS 2 reads it,
/// else 0.
pub fn domain_id(explicit: Option<u16>) -> u16 {
    explicit.unwrap_or_else(|| {
        std::env::var("ROS_DOMAIN_ID")
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0)
    })
}

/// How commands reach a controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interface {
    /// A topic (the JointTrajectoryController's `joint_trajectory`; `command` for the gripper).
    Topic,
    /// The controller's action (`follow_joint_trajectory`; `gripper_cmd`).
    Action,
}

/// Where deploy's scene comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SceneInput {
    /// embody's scene description (JSON on `scene_topic`) and object poses as TF frames on
    /// `objects_topic`.
    #[default]
    Json,
    /// vision_msgs/Detection3DArray on `detections_topic` (class, pose and size per object, in
    /// the base frame), with the cell's containers.
    Detections,
    /// The scene description names the objects; their poses come from the robot's camera
    /// (depth, instance segmentation, CameraInfo) through camera perception.
    Camera,
}

/// How a service's (and an action's) requests and replies are matched on DDS, which depends on
/// the robot's ROS 2 middleware (the two are incompatible).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestReply {
    /// rmw_fastrtps (ROS 2's default middleware) and rmw_connextdds: the request's identity
    /// travels in RTPS inline QoS (the "enhanced" mapping of OMG's RPC over DDS).
    #[default]
    Enhanced,
    /// rmw_cyclonedds: a 16-byte request header (the client's id, a sequence number) at the
    /// start of every request and reply.
    Cyclone,
}

impl RequestReply {
    pub fn mapping(self) -> ros2_client::ServiceMapping {
        match self {
            Self::Enhanced => ros2_client::ServiceMapping::Enhanced,
            Self::Cyclone => ros2_client::ServiceMapping::Cyclone,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RosConfig {
    /// DDS domain (ROS_DOMAIN_ID).
    pub domain_id: u16,
    /// sensor_msgs/JointState in.
    pub joint_states_topic: String,
    /// The arm's ros2_control JointTrajectoryController: commands go to
    /// `/<controller>/joint_trajectory`.
    pub controller: String,
    /// The gripper controller: control_msgs/GripperCommand goes to `/<gripper>/command`.
    pub gripper: String,
    /// std_msgs/Bool: `true` stops the run and holds the arm (latched until restart).
    pub estop_topic: String,
    /// std_msgs/String, JSON: embody's state, plan and result.
    pub status_topic: String,
    /// tf2_msgs/TFMessage with one frame per object (`object/<id>` in the base frame), from a
    /// motion-capture or perception node, or the simulator.
    pub objects_topic: String,
    /// std_msgs/String, JSON [`crate::SceneInfo`]: what the objects and containers are.
    pub scene_topic: String,
    /// The URDF, latched (robot_state_publisher's topic; `embody sim --ros` publishes it).
    #[serde(default = "default_robot_description_topic")]
    pub robot_description_topic: String,
    /// vision_msgs/Detection3DArray of the objects and containers (`embody sim --ros`
    /// publishes it at 10 Hz).
    #[serde(default = "default_detections_topic")]
    pub detections_topic: String,
    /// Which of the two deploy reads the scene from.
    #[serde(default)]
    pub scene_input: SceneInput,
    /// The TF frames the simulator publishes go here.
    pub tf_topic: String,
    /// The simulator's camera: `<ns>/color/image_raw` (rgb8), `<ns>/depth/image_raw` (32FC1,
    /// metres), `<ns>/color/camera_info`.
    pub camera_namespace: String,
    /// Joint states older than this (s) hold the arm.
    pub stale_after_s: f64,
    /// Arm joints, in the order the controller and the URDF use.
    pub joint_names: Vec<String>,
    /// Finger joints whose positions add up to the gripper opening.
    pub finger_joints: Vec<String>,
    pub base_frame: String,
    /// `time_from_start` of the single point each control tick sends (s).
    pub point_horizon_s: f64,
    /// Arm commands: one-point trajectories on the topic every tick (streaming, the default),
    /// or as FollowJointTrajectory goals, each preempting the last.
    pub arm_interface: Interface,
    /// Gripper commands: GripperCommand goals (GripperActionController, the default) or the
    /// command topic.
    pub gripper_interface: Interface,
    /// Request/reply mapping of the controllers' actions (the robot's middleware).
    #[serde(default)]
    pub request_reply: RequestReply,
    /// DDS-Security: off, or the enclave every node of this robot joins with. Chosen at run
    /// time, never read from a file.
    #[serde(skip)]
    pub security: crate::security::Security,
}

fn default_robot_description_topic() -> String {
    "/robot_description".into()
}

fn default_detections_topic() -> String {
    "/embody/detections".into()
}

impl Default for RosConfig {
    fn default() -> Self {
        Self {
            domain_id: 0,
            joint_states_topic: "/joint_states".into(),
            controller: "panda_arm_controller".into(),
            gripper: "panda_gripper".into(),
            estop_topic: "/embody/estop".into(),
            status_topic: "/embody/status".into(),
            objects_topic: "/embody/objects".into(),
            scene_topic: "/embody/scene".into(),
            robot_description_topic: default_robot_description_topic(),
            detections_topic: default_detections_topic(),
            scene_input: SceneInput::Json,
            tf_topic: "/tf".into(),
            camera_namespace: "/camera".into(),
            stale_after_s: 0.1,
            joint_names: (1..=7).map(|i| format!("panda_joint{i}")).collect(),
            finger_joints: vec!["panda_finger_joint1".into(), "panda_finger_joint2".into()],
            base_frame: "panda_link0".into(),
            point_horizon_s: 0.02,
            arm_interface: Interface::Topic,
            gripper_interface: Interface::Action,
            request_reply: RequestReply::Enhanced,
            security: crate::security::Security::Off,
        }
    }
}

impl RosConfig {
    /// The names that come from the robot's description rather than from flags: the arm's
    /// joints (in the URDF's order), its finger joints (when the URDF has a gripper) and the
    /// base frame (the chain's base link), so that an arm other than the Panda needs no flags
    /// for them.
    pub fn for_arm(mut self, arm: &embody_agent::ArmModel) -> Self {
        self.joint_names = arm.joint_names();
        if let Some(g) = &arm.gripper {
            self.finger_joints.clone_from(&g.finger_joints);
        }
        self.base_frame.clone_from(&arm.base_link);
        self
    }

    pub fn trajectory_topic(&self) -> String {
        format!("/{}/joint_trajectory", self.controller.trim_matches('/'))
    }

    pub fn trajectory_action(&self) -> String {
        format!(
            "/{}/follow_joint_trajectory",
            self.controller.trim_matches('/')
        )
    }

    pub fn gripper_action(&self) -> String {
        format!("/{}/gripper_cmd", self.gripper.trim_matches('/'))
    }

    pub fn gripper_topic(&self) -> String {
        format!("/{}/command", self.gripper.trim_matches('/'))
    }
}
