//! Writes an episode as MCAP while it runs.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::schema::*;
use super::LogError;
use crate::observer::{EpisodeObserver, Event, PolicySample};
use crate::planner::Instruction;
use crate::ros_msgs::{
    CameraInfoMsg, GripperCommandMsg, Header, ImageMsg, JointStateMsg, JointTrajectoryMsg,
    JointTrajectoryPoint, RosMessage, StringMsg, TfMessage, Time, TransformStamped,
};
use crate::types::{ActionChunk, JointCommand, Observation, Plan, Skill};

#[derive(Clone, Debug)]
pub struct RecorderConfig {
    /// ros2_control's command topic of the arm controller.
    pub arm_command_topic: String,
    /// The gripper controller's command topic (control_msgs/GripperCommand).
    pub gripper_command_topic: String,
    pub world_frame: String,
    pub tcp_frame: String,
    /// Finger joints published in `/joint_states`, each at half the gripper opening.
    pub finger_joints: Vec<String>,
    /// Robot seconds between forced chunk flushes: at most this much is lost when the process
    /// dies.
    pub flush_every_s: f64,
    /// Chunk size before compression (bytes).
    pub chunk_size: u64,
    /// Period of `/embody/policy_sample` records (perception's scene and the policy's
    /// command); `None` records none.
    pub sample_period_s: Option<f64>,
    /// Period of camera images (`/camera/color/image_raw` and its CameraInfo) when the body has
    /// a camera; `None` records none. Images dominate a log's size: 2 Hz by default.
    pub image_period_s: Option<f64>,
}

/// The Panda's names: what logs recorded before the names came from the arm used.
impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            arm_command_topic: "/panda_arm_controller/joint_trajectory".into(),
            gripper_command_topic: "/panda_gripper/command".into(),
            world_frame: "world".into(),
            tcp_frame: "panda_hand_tcp".into(),
            finger_joints: vec!["panda_finger_joint1".into(), "panda_finger_joint2".into()],
            flush_every_s: 1.0,
            chunk_size: 512 * 1024,
            sample_period_s: Some(0.1),
            image_period_s: Some(0.5),
        }
    }
}

impl RecorderConfig {
    /// Names for `arm` driven by the ros2_control controllers `controller` (arm) and
    /// `gripper`: the TCP frame and finger joints come from the arm's URDF.
    pub fn for_robot(arm: &crate::ArmModel, controller: &str, gripper: &str) -> Self {
        Self {
            arm_command_topic: format!("/{controller}/joint_trajectory"),
            gripper_command_topic: format!("/{gripper}/command"),
            tcp_frame: arm.tcp_link.clone(),
            finger_joints: arm
                .gripper
                .as_ref()
                .map(|g| g.finger_joints.clone())
                .unwrap_or_default(),
            ..Self::default()
        }
    }

    /// The command topics `log` was recorded with, found by their message types (a log from
    /// any cell names its controllers its own way); the rest as in `self`.
    pub fn with_topics_of(mut self, log: &super::RecoveredLog) -> Self {
        let topic_of = |ty: &str| {
            log.messages
                .iter()
                .find(|m| m.schema_name == ty)
                .map(|m| m.topic.clone())
        };
        if let Some(t) = topic_of(JointTrajectoryMsg::TYPE) {
            self.arm_command_topic = t;
        }
        if let Some(t) = topic_of(GripperCommandMsg::TYPE) {
            self.gripper_command_topic = t;
        }
        self
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RecorderStats {
    pub path: PathBuf,
    pub messages: u64,
    pub bytes: u64,
}

struct Channels {
    scenario: u16,
    plan: u16,
    chunk: u16,
    events: u16,
    outcome: u16,
    sample: u16,
    joint_states: u16,
    tf: u16,
    arm_command: u16,
    gripper_command: u16,
}

/// An MCAP log being written. Use it as the episode's [`EpisodeObserver`], write the scenario
/// record before and the outcome record after, then [`McapRecorder::finish`].
pub struct McapRecorder {
    writer: Option<mcap::Writer<BufWriter<File>>>,
    channels: Channels,
    cfg: RecorderConfig,
    path: PathBuf,
    /// Where the file is written until the scenario record is on disk; renamed to `path` then,
    /// so a file under the final name always starts with a readable MCAP header and scenario,
    /// even when the process is killed a moment after starting it.
    staging: Option<PathBuf>,
    sequence: u32,
    last_flush_s: f64,
    /// The first write error; later writes are skipped and `finish` reports it.
    error: Option<String>,
    /// Image and camera-info channels, made when the first frame arrives.
    image_channels: Option<(u16, u16)>,
    last_image_s: Option<f64>,
}

/// `dir/.name.part` beside `dir/name`: hidden, and never mistaken for a finished log.
fn staging_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.part"))
}

fn nanos(t: f64) -> u64 {
    (t.max(0.0) * 1e9).round() as u64
}

impl McapRecorder {
    /// Creates the log file; an existing file is an error unless `overwrite`.
    pub fn create(path: &Path, overwrite: bool, cfg: RecorderConfig) -> Result<Self, LogError> {
        let shown = path.display().to_string();
        if path.exists() && !overwrite {
            return Err(LogError::Exists { path: shown });
        }
        let werr = |e: &dyn std::fmt::Display| LogError::Write {
            path: shown.clone(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| werr(&e))?;
        }
        let staging = staging_path(path);
        let file = File::create(&staging).map_err(|e| werr(&e))?;
        let mut w = mcap::WriteOptions::new()
            .profile("ros2")
            .library(format!("embody {}", env!("CARGO_PKG_VERSION")))
            .compression(Some(mcap::Compression::Zstd))
            .chunk_size(Some(cfg.chunk_size))
            .create(BufWriter::new(file))
            .map_err(|e| werr(&e))?;
        let qos: BTreeMap<String, String> =
            [("offered_qos_profiles".to_string(), OFFERED_QOS.to_string())].into();
        // embody's own records are JSON inside std_msgs/String, as the status topic carries
        // them on the wire: every channel is then a ROS 2 type in CDR, and rosbag2 readers
        // (`ros2 bag`, the `rosbags` package) open the log as a bag.
        let json_channel = |w: &mut mcap::Writer<_>, topic: &str| -> Result<u16, LogError> {
            let s = w
                .add_schema(
                    StringMsg::TYPE,
                    "ros2msg",
                    StringMsg::definition().as_bytes(),
                )
                .map_err(|e| werr(&e))?;
            w.add_channel(s, topic, "cdr", &qos).map_err(|e| werr(&e))
        };
        let scenario = json_channel(&mut w, SCENARIO_TOPIC)?;
        let plan = json_channel(&mut w, PLAN_TOPIC)?;
        let chunk = json_channel(&mut w, CHUNK_TOPIC)?;
        let events = json_channel(&mut w, EVENTS_TOPIC)?;
        let outcome = json_channel(&mut w, OUTCOME_TOPIC)?;
        let sample = json_channel(&mut w, SAMPLE_TOPIC)?;
        let ros_channel =
            |w: &mut mcap::Writer<_>, topic: &str, ty: &str, def: &str| -> Result<u16, LogError> {
                let s = w
                    .add_schema(ty, "ros2msg", def.as_bytes())
                    .map_err(|e| werr(&e))?;
                w.add_channel(s, topic, "cdr", &qos).map_err(|e| werr(&e))
            };
        let joint_states = ros_channel(
            &mut w,
            JOINT_STATES_TOPIC,
            JointStateMsg::TYPE,
            JointStateMsg::definition(),
        )?;
        let tf = ros_channel(&mut w, TF_TOPIC, TfMessage::TYPE, TfMessage::definition())?;
        let arm_command = ros_channel(
            &mut w,
            &cfg.arm_command_topic,
            JointTrajectoryMsg::TYPE,
            JointTrajectoryMsg::definition(),
        )?;
        let gripper_command = ros_channel(
            &mut w,
            &cfg.gripper_command_topic,
            GripperCommandMsg::TYPE,
            GripperCommandMsg::definition(),
        )?;
        Ok(Self {
            writer: Some(w),
            channels: Channels {
                scenario,
                plan,
                chunk,
                events,
                outcome,
                sample,
                joint_states,
                tf,
                arm_command,
                gripper_command,
            },
            cfg,
            path: path.to_path_buf(),
            staging: Some(staging),
            sequence: 0,
            last_flush_s: 0.0,
            error: None,
            image_channels: None,
            last_image_s: None,
        })
    }

    fn write(&mut self, channel: u16, t: f64, data: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let Some(w) = self.writer.as_mut() else {
            return;
        };
        self.sequence += 1;
        let header = mcap::records::MessageHeader {
            channel_id: channel,
            sequence: self.sequence,
            log_time: nanos(t),
            publish_time: nanos(t),
        };
        if let Err(e) = w.write_to_known_channel(&header, data) {
            self.error = Some(e.to_string());
        }
    }

    fn write_json<T: Serialize>(&mut self, channel: u16, t: f64, value: &T) {
        match serde_json::to_string(value) {
            Ok(data) => self.write(channel, t, &StringMsg { data }.to_cdr()),
            Err(e) => self.error = self.error.take().or(Some(e.to_string())),
        }
    }

    /// Finishes the current chunk and hands it to the OS: everything so far survives a crash.
    pub fn flush(&mut self) {
        if self.error.is_some() {
            return;
        }
        if let Some(w) = self.writer.as_mut() {
            if let Err(e) = w.flush() {
                self.error = Some(e.to_string());
            }
        }
    }

    /// The first record: what replay needs to rebuild the world. Flushed at once.
    pub fn write_scenario(&mut self, record: &ScenarioRecord) {
        self.write_json(self.channels.scenario, 0.0, record);
        self.flush();
        self.publish();
    }

    /// Moves the file from its staging name to its final one (once).
    fn publish(&mut self) {
        if let Some(staging) = self.staging.take() {
            if let Err(e) = std::fs::rename(&staging, &self.path) {
                self.error = self.error.take().or(Some(format!(
                    "renaming {} into place: {e}",
                    staging.display()
                )));
            }
        }
    }

    /// The last record.
    pub fn write_outcome(&mut self, t: f64, record: &OutcomeRecord) {
        self.write_json(self.channels.outcome, t, record);
    }

    /// Closes the file with its summary and index.
    pub fn finish(mut self) -> Result<RecorderStats, LogError> {
        let shown = self.path.display().to_string();
        if let Some(mut w) = self.writer.take() {
            if self.error.is_none() {
                if let Err(e) = w.finish() {
                    self.error = Some(e.to_string());
                }
            }
        }
        self.publish();
        if let Some(message) = self.error.take() {
            return Err(LogError::Write {
                path: shown,
                message,
            });
        }
        let bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        Ok(RecorderStats {
            path: self.path.clone(),
            messages: self.sequence as u64,
            bytes,
        })
    }
}

impl EpisodeObserver for McapRecorder {
    fn sample_period(&self) -> Option<f64> {
        self.cfg.sample_period_s
    }

    fn sample(&mut self, s: &PolicySample<'_>) {
        let record = SampleRecord {
            t: s.t,
            skill: s.skill.clone(),
            ee_in_base: s.obs.ee_in_base,
            gripper_width_m: s.obs.gripper.width_m,
            scene: s.scene.clone(),
            target_in_base: s.target_in_base,
            gripper_command_m: s.gripper_command_m,
            source: s.source,
        };
        self.write_json(self.channels.sample, s.t, &record);
    }

    fn plan(&mut self, t: f64, instruction: &Instruction, plan: &Plan) {
        let r = PlanRecord {
            t,
            instruction: instruction.text.clone(),
            steps: plan.steps.clone(),
        };
        self.write_json(self.channels.plan, t, &r);
    }

    fn event(&mut self, event: &Event) {
        self.write_json(self.channels.events, event.t, event);
    }

    fn chunk(&mut self, skill: &Skill, chunk: &ActionChunk) {
        self.write_json(
            self.channels.chunk,
            chunk.start,
            &ChunkRecord::new(skill, chunk),
        );
    }

    fn command(&mut self, cmd: &JointCommand) {
        let header = Header {
            stamp: Time::from_secs_f64(cmd.stamp),
            frame_id: String::new(),
        };
        let traj = JointTrajectoryMsg {
            header,
            joint_names: Vec::new(),
            points: vec![JointTrajectoryPoint {
                positions: cmd.positions.clone(),
                velocities: cmd.velocities.clone(),
                ..Default::default()
            }],
        };
        self.write(self.channels.arm_command, cmd.stamp, &traj.to_cdr());
        let g = GripperCommandMsg {
            position: cmd.gripper.width_m / 2.0,
            max_effort: cmd.gripper.max_force_n,
        };
        self.write(self.channels.gripper_command, cmd.stamp, &g.to_cdr());
    }

    fn state(&mut self, obs: &Observation) {
        let stamp = Time::from_secs_f64(obs.stamp);
        let mut js = JointStateMsg {
            header: Header {
                stamp,
                frame_id: String::new(),
            },
            name: obs.joints.names.clone(),
            position: obs.joints.position.clone(),
            velocity: obs.joints.velocity.clone(),
            effort: obs.joints.effort.clone(),
        };
        for f in &self.cfg.finger_joints {
            js.name.push(f.clone());
            js.position.push(obs.gripper.width_m / 2.0);
            js.velocity.push(0.0);
            js.effort.push(0.0);
        }
        self.write(self.channels.joint_states, obs.stamp, &js.to_cdr());
        let header = Header {
            stamp,
            frame_id: self.cfg.world_frame.clone(),
        };
        let mut tf = TfMessage {
            transforms: vec![TransformStamped::from_isometry(
                header.clone(),
                &self.cfg.tcp_frame,
                &obs.ee_in_base,
            )],
        };
        for o in obs.privileged.iter().flatten() {
            tf.transforms.push(TransformStamped::from_isometry(
                header.clone(),
                &o.id,
                &o.pose_in_base,
            ));
        }
        self.write(self.channels.tf, obs.stamp, &tf.to_cdr());
        if let Some(frame) = obs.camera.as_deref() {
            self.image(frame);
        }
        if obs.stamp - self.last_flush_s >= self.cfg.flush_every_s {
            self.last_flush_s = obs.stamp;
            self.flush();
        }
    }
}

impl McapRecorder {
    /// A camera frame as sensor_msgs/Image (rgb8) and CameraInfo, at `image_period_s`.
    fn image(&mut self, frame: &crate::types::CameraFrame) {
        let Some(period) = self.cfg.image_period_s else {
            return;
        };
        if self
            .last_image_s
            .is_some_and(|t| frame.stamp < t + period - 1e-9)
        {
            return;
        }
        self.last_image_s = Some(frame.stamp);
        if self.image_channels.is_none() {
            let Some(w) = self.writer.as_mut() else {
                return;
            };
            let qos: BTreeMap<String, String> =
                [("offered_qos_profiles".to_string(), OFFERED_QOS.to_string())].into();
            let mut channel = |topic: &str, ty: &str, def: &str| {
                w.add_schema(ty, "ros2msg", def.as_bytes())
                    .and_then(|s| w.add_channel(s, topic, "cdr", &qos))
                    .map_err(|e| e.to_string())
            };
            match (
                channel(IMAGE_TOPIC, ImageMsg::TYPE, ImageMsg::definition()),
                channel(
                    CAMERA_INFO_TOPIC,
                    CameraInfoMsg::TYPE,
                    CameraInfoMsg::definition(),
                ),
            ) {
                (Ok(i), Ok(c)) => self.image_channels = Some((i, c)),
                (Err(e), _) | (_, Err(e)) => {
                    self.error.get_or_insert(e);
                    return;
                }
            }
        }
        let Some((image, info)) = self.image_channels else {
            return;
        };
        let header = Header {
            stamp: Time::from_secs_f64(frame.stamp),
            frame_id: "camera_optical_frame".into(),
        };
        let msg = ImageMsg::color(frame, header.clone());
        self.write(image, frame.stamp, &msg.to_cdr());
        let ci = CameraInfoMsg::of(frame, header);
        self.write(info, frame.stamp, &ci.to_cdr());
    }
}

impl Drop for McapRecorder {
    /// A recorder dropped without `finish` (an error unwound the run) still leaves a readable
    /// file: the data so far is flushed and the summary written.
    fn drop(&mut self) {
        if let Some(mut w) = self.writer.take() {
            let _ = w.finish();
        }
        self.publish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::BuildInfo;

    #[test]
    fn the_final_name_appears_only_once_the_scenario_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ep.mcap");
        let mut rec = McapRecorder::create(&path, false, RecorderConfig::default()).unwrap();
        assert!(
            !path.exists(),
            "a header-only file must not carry the final name"
        );
        rec.write_scenario(&ScenarioRecord {
            scenario_text: "x".into(),
            scenario_path: "x.toml".into(),
            urdf_text: String::new(),
            seed: 1,
            instruction: "clear the table".into(),
            policy: "scripted".into(),
            build: BuildInfo {
                embody_version: "0".into(),
                physics_engine: "rapier".into(),
                features: vec![],
                commit: None,
            },
            physics: serde_json::Value::Null,
        });
        assert!(path.exists());
        let log = crate::log::read_log(&path).unwrap();
        assert!(
            log.on(crate::log::SCENARIO_TOPIC).next().is_some(),
            "{:?}",
            log.lost
        );
        rec.finish().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
