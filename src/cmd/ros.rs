//! `embody sim --ros` and `embody estop`, and the ROS 2 names every ROS command takes
//! (`embody deploy` is `deploy.rs`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use embody_ros::sim_node::{serve, SimNodeOptions};
use embody_ros::RosConfig;

use super::common::load_scenario;

/// Names on the ROS 2 graph.
#[derive(Args, Clone, Debug)]
pub struct RosArgs {
    /// DDS domain (default: $ROS_DOMAIN_ID, else 0).
    #[arg(long)]
    pub domain_id: Option<u16>,
    /// The arm's JointTrajectoryController: commands go to /<controller>/joint_trajectory
    /// (default: the scenario's `robot.controller`; panda_arm_controller without one).
    #[arg(long)]
    pub controller: Option<String>,
    /// The gripper controller: control_msgs/GripperCommand goes to /<gripper>/command
    /// (default: the scenario's `robot.gripper_controller`; panda_gripper without one).
    #[arg(long)]
    pub gripper: Option<String>,
    #[arg(long, default_value = "/joint_states")]
    pub joint_states_topic: String,
    /// std_msgs/Bool; true stops the run and holds the arm.
    #[arg(long, default_value = "/embody/estop")]
    pub estop_topic: String,
    /// std_msgs/String with embody's state, plan and result as JSON.
    #[arg(long, default_value = "/embody/status")]
    pub status_topic: String,
    /// Arm commands: `topic` (one-point trajectories on /<controller>/joint_trajectory every
    /// control tick) or `action` (/<controller>/follow_joint_trajectory goals, each
    /// preempting the last).
    #[arg(long, value_enum, default_value_t = InterfaceArg::Topic)]
    pub arm_interface: InterfaceArg,
    /// Gripper commands: `action` (/<gripper>/gripper_cmd, GripperCommand) or `topic`
    /// (/<gripper>/command).
    #[arg(long, value_enum, default_value_t = InterfaceArg::Action)]
    pub gripper_interface: InterfaceArg,
    /// vision_msgs/Detection3DArray of the objects and containers (`sim --ros` publishes it;
    /// `deploy --scene-input detections` reads it).
    #[arg(long, default_value = "/embody/detections")]
    pub detections_topic: String,
    /// How the actions' requests and replies travel: `enhanced` for a robot on rmw_fastrtps
    /// (ROS 2's default) or rmw_connextdds, `cyclone` for one on rmw_cyclonedds.
    #[arg(long, value_enum, default_value_t = RequestReplyArg::Enhanced)]
    pub request_reply: RequestReplyArg,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RequestReplyArg {
    Enhanced,
    Cyclone,
}

impl From<RequestReplyArg> for embody_ros::config::RequestReply {
    fn from(a: RequestReplyArg) -> Self {
        match a {
            RequestReplyArg::Enhanced => Self::Enhanced,
            RequestReplyArg::Cyclone => Self::Cyclone,
        }
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum InterfaceArg {
    Topic,
    Action,
}

impl From<InterfaceArg> for embody_ros::config::Interface {
    fn from(a: InterfaceArg) -> Self {
        match a {
            InterfaceArg::Topic => Self::Topic,
            InterfaceArg::Action => Self::Action,
        }
    }
}

impl RosArgs {
    /// The names for a robot described by no scenario: flags, else the Panda's.
    pub fn config(&self) -> RosConfig {
        let d = RosConfig::default();
        self.config_with(&d.controller, &d.gripper)
    }

    /// The names for the cell's robot: flags, else the controllers its scenario names.
    pub fn config_for(&self, robot: &embody_sim::scenario::RobotSection) -> RosConfig {
        self.config_with(&robot.controller, &robot.gripper_controller)
    }

    fn config_with(&self, controller: &str, gripper: &str) -> RosConfig {
        let domain_id = embody_ros::config::domain_id(self.domain_id);
        RosConfig {
            domain_id,
            controller: self.controller.clone().unwrap_or_else(|| controller.into()),
            gripper: self.gripper.clone().unwrap_or_else(|| gripper.into()),
            joint_states_topic: self.joint_states_topic.clone(),
            estop_topic: self.estop_topic.clone(),
            status_topic: self.status_topic.clone(),
            arm_interface: self.arm_interface.into(),
            gripper_interface: self.gripper_interface.into(),
            request_reply: self.request_reply.into(),
            detections_topic: self.detections_topic.clone(),
            ..RosConfig::default()
        }
    }
}

#[derive(Args)]
pub struct SimArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Serve the simulated robot over ROS 2 (the only mode so far).
    #[arg(long)]
    pub ros: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub names: RosArgs,
    #[command(flatten)]
    pub security: super::security::SecurityArgs,
    /// End once embody reports the run finished, and print the outcome as JSON.
    #[arg(long)]
    pub exit_when_done: bool,
    /// End after this many seconds.
    #[arg(long)]
    pub duration_s: Option<f64>,
    /// When embody reports a run finished, judge the table, then set a new one (the next
    /// seed, the arm back home) and publish its scene: a cell reset between tasks, for
    /// `deploy --episodes` and soaks. The outcomes of all tables are printed at the end.
    #[arg(long, conflicts_with = "exit_when_done")]
    pub new_scene_when_done: bool,
    /// Fault injection (tests): stop publishing joint states this many seconds after the first
    /// trajectory arrives.
    #[arg(long, hide = true)]
    pub fault_silence_joint_states_after_s: Option<f64>,
    /// Fault injection (tests): reject trajectory goals this many seconds after the first
    /// trajectory arrives.
    #[arg(long, hide = true)]
    pub fault_reject_goals_after_s: Option<f64>,
    /// Fault injection (tests): follow every joint state with a broken one (NaN, missing
    /// joints, cut short).
    #[arg(long, hide = true)]
    pub fault_corrupt_joint_states: bool,
    /// Fault injection (tests): follow every scene description with one that is not JSON.
    #[arg(long, hide = true)]
    pub fault_corrupt_scene: bool,
    /// Fault injection (tests): follow every object-pose message with broken ones (a NaN
    /// pose, bytes that are not a TF message).
    #[arg(long, hide = true)]
    pub fault_corrupt_object_poses: bool,
}

pub fn sim(a: SimArgs) -> Result<ExitCode> {
    if !a.ros {
        bail!("`embody sim` serves the simulator as a ROS 2 robot: pass --ros");
    }
    let scenario = load_scenario(&a.scenario)?;
    let mut cfg = a.names.config_for(&scenario.robot);
    cfg.security = a.security.resolve("/embody/robot")?;
    let opts = SimNodeOptions {
        cfg,
        seed: a.seed,
        exit_when_done: a.exit_when_done,
        new_scene_when_done: a.new_scene_when_done,
        duration_s: a.duration_s,
        silence_joint_states_after_s: a.fault_silence_joint_states_after_s,
        reject_goals_after_s: a.fault_reject_goals_after_s,
        corrupt_joint_states: a.fault_corrupt_joint_states,
        corrupt_scene: a.fault_corrupt_scene,
        corrupt_object_poses: a.fault_corrupt_object_poses,
    };
    eprintln!(
        "simulated {} (seed {}) on ROS 2 domain {}: {} at {} Hz; arm on {} and {}, gripper on {} and {}",
        scenario.name,
        a.seed,
        opts.cfg.domain_id,
        opts.cfg.joint_states_topic,
        scenario.robot.control_rate_hz,
        opts.cfg.trajectory_topic(),
        opts.cfg.trajectory_action(),
        opts.cfg.gripper_action(),
        opts.cfg.gripper_topic()
    );
    // Ctrl-C or a TERM ends the node as --duration-s does: the table judged, the outcome printed.
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .context("cannot install the signal handlers")?;
    }
    let outcome = serve(scenario, &opts, &stop)?;
    println!("{outcome}");
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct EstopArgs {
    #[command(flatten)]
    pub names: RosArgs,
    #[command(flatten)]
    pub security: super::security::SecurityArgs,
    /// How long to keep publishing (s): DDS discovery takes a moment.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
}

/// A software e-stop button: publishes `true` on the e-stop topic.
pub fn estop(a: EstopArgs) -> Result<ExitCode> {
    use embody_agent::ros_msgs::BoolMsg;
    let cfg = a.names.config();
    let security = a.security.resolve("/embody/operator")?;
    let mut node = embody_ros::RosNode::new("embody_estop", cfg.domain_id, &security)?;
    let p = node.publisher::<BoolMsg>(&cfg.estop_topic, &embody_ros::transport::default_qos())?;
    let t0 = std::time::Instant::now();
    while t0.elapsed().as_secs_f64() < a.seconds {
        p.publish(BoolMsg { data: true })
            .map_err(|e| anyhow::anyhow!("cannot publish on {}: {e:?}", cfg.estop_topic))?;
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("e-stop sent on {}", cfg.estop_topic);
    Ok(ExitCode::SUCCESS)
}
