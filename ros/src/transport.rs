//! One ROS 2 node over DDS, publishers and subscriptions typed by embody's messages, and the
//! QoS profiles that match ROS 2's defaults (ros2-client's own defaults do not).

use embody_agent::ros_msgs::RosMessage;
use ros2_client::qos::{Durability, History, WhenFull};
use ros2_client::{
    Context, ContextOptions, MessageTypeName, Name, Node, NodeName, NodeOptions, Publisher,
    QosProfile, Subscription,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::security::Security;
use crate::RosError;

/// `rmw_qos_profile_default`: reliable, volatile, keep last 10.
pub fn default_qos() -> QosProfile {
    QosProfile::publisher_default()
        .reliability_reliable(WhenFull::DEFAULT)
        .durability(Durability::Volatile)
        .history(History::KeepLast { depth: 10 })
}

/// Latched: a late subscriber still gets the last message (like `robot_description`).
pub fn latched_qos() -> QosProfile {
    QosProfile::publisher_default()
        .reliability_reliable(WhenFull::DEFAULT)
        .durability(Durability::TransientLocal)
        .history(History::KeepLast { depth: 1 })
}

fn setup(what: impl Into<String>, e: impl std::fmt::Debug) -> RosError {
    RosError::Setup {
        what: what.into(),
        message: format!("{e:?}"),
    }
}

/// A ROS 2 node (one DDS participant).
pub struct RosNode {
    pub(crate) node: Node,
}

impl RosNode {
    /// A node on `domain_id`, secured by its enclave when `security` has one (checked by
    /// [`Security::resolve`] beforehand).
    pub fn new(name: &str, domain_id: u16, security: &Security) -> Result<Self, RosError> {
        let mut opts = ContextOptions::new().domain_id(domain_id);
        if let Security::Enclave { dir, .. } = security {
            // key.pem is unencrypted PKCS#8 (as SROS2 writes it): no password.
            opts = opts.enable_security(dir, String::new());
        }
        let ctx = Context::with_options(opts).map_err(|e| {
            let how = match security {
                Security::Off => String::new(),
                Security::Enclave { enclave, dir } => {
                    format!(" with enclave {enclave} ({})", dir.display())
                }
            };
            setup(format!("the DDS participant on domain {domain_id}{how}"), e)
        })?;
        let node = ctx
            .new_node(
                NodeName::new("/embody", name).map_err(|e| setup(format!("node {name}"), e))?,
                NodeOptions::new().enable_rosout(false),
            )
            .map_err(|e| setup(format!("node {name}"), e))?;
        Ok(Self { node })
    }

    /// The node itself, for what this wrapper does not cover (actions).
    pub fn node_mut(&mut self) -> &mut Node {
        &mut self.node
    }

    pub fn publisher<M: RosMessage + Serialize>(
        &mut self,
        topic: &str,
        qos: &QosProfile,
    ) -> Result<Publisher<M>, RosError> {
        let t = self
            .node
            .create_topic(&topic_name(topic)?, type_name::<M>(), qos)
            .map_err(|e| setup(format!("topic {topic}"), e))?;
        self.node
            .create_publisher::<M>(&t, Some(qos.clone()))
            .map_err(|e| setup(format!("a publisher on {topic}"), e))
    }

    pub fn subscription<M: RosMessage + DeserializeOwned + 'static>(
        &mut self,
        topic: &str,
        qos: &QosProfile,
    ) -> Result<Subscription<M>, RosError> {
        let t = self
            .node
            .create_topic(&topic_name(topic)?, type_name::<M>(), qos)
            .map_err(|e| setup(format!("topic {topic}"), e))?;
        self.node
            .create_subscription::<M>(&t, Some(qos.clone()))
            .map_err(|e| setup(format!("a subscription to {topic}"), e))
    }
}

/// `sensor_msgs/msg/JointState` -> package `sensor_msgs`, type `JointState` (ros2-client
/// adds the `msg`/`dds_` parts of the DDS type name).
fn type_name<M: RosMessage>() -> MessageTypeName {
    let (package, rest) = M::TYPE.split_once('/').unwrap_or(("", M::TYPE));
    let name = rest.rsplit('/').next().unwrap_or(rest);
    MessageTypeName::new(package, name)
}

/// `/a/b/c` -> namespace `/a/b`, name `c`.
pub fn topic_name(topic: &str) -> Result<Name, RosError> {
    let full = if topic.starts_with('/') {
        topic.to_string()
    } else {
        format!("/{topic}")
    };
    let (ns, base) = full.rsplit_once('/').unwrap_or(("", &full));
    let ns = if ns.is_empty() { "/" } else { ns };
    Name::new(ns, base).map_err(|e| setup(format!("topic name {topic:?}"), e))
}

/// Messages that arrived and were not used, per topic: undecodable bytes, wrong types, joint
/// states with NaN or missing joints. A run goes on past them (the last good state is used
/// until it goes stale); they are counted and logged, each topic's 1st, 2nd, 4th, 8th ... drop.
#[derive(Debug, Default, Clone)]
pub struct Dropped {
    counts: std::collections::BTreeMap<String, u64>,
}

impl Dropped {
    pub fn record(&mut self, topic: &str, why: &str) {
        let n = self.counts.entry(topic.to_string()).or_default();
        *n += 1;
        if n.is_power_of_two() {
            tracing::warn!(topic, dropped = *n, why, "dropped a message");
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn by_topic(&self) -> &std::collections::BTreeMap<String, u64> {
        &self.counts
    }
}

/// At most this many messages are taken from one subscription per call, so a flood cannot
/// hold a control loop.
pub(crate) const MAX_DRAIN: usize = 10_000;

/// Takes the messages waiting on `sub` that decode; those that do not are counted in
/// `dropped` under the topic's name, never a panic and never the end of a run.
pub fn drain<M: DeserializeOwned + 'static>(
    sub: &Subscription<M>,
    topic: &str,
    dropped: &mut Dropped,
) -> Vec<M> {
    let mut out = Vec::new();
    for _ in 0..MAX_DRAIN {
        match sub.take() {
            Ok(Some((m, _info))) => out.push(m),
            Ok(None) => break,
            Err(e) => dropped.record(topic, &format!("does not decode: {e:?}")),
        }
    }
    out
}

/// The newest of `msgs` (oldest first, as [`drain`] gives them) that `accept` takes; the
/// newer ones it refuses are counted in `dropped` under `topic`. A subscriber that keeps only
/// the newest usable message must look past broken ones to the good one before them.
pub fn newest_accepted<M, T, E: std::fmt::Display>(
    msgs: Vec<M>,
    topic: &str,
    dropped: &mut Dropped,
    mut accept: impl FnMut(M) -> Result<T, E>,
) -> Option<T> {
    for m in msgs.into_iter().rev() {
        match accept(m) {
            Ok(t) => return Some(t),
            Err(e) => dropped.record(topic, &e.to_string()),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use embody_agent::ros_msgs::*;

    #[test]
    fn topic_names_split_into_namespace_and_name() {
        assert_eq!(
            topic_name("/joint_states").unwrap().to_string(),
            "/joint_states"
        );
        assert_eq!(
            topic_name("/panda_arm_controller/joint_trajectory")
                .unwrap()
                .to_string(),
            "/panda_arm_controller/joint_trajectory"
        );
    }

    /// The log's encoder (`RosMessage::to_cdr`: header + cdr-encoding) and the payload RustDDS
    /// puts on the wire (cdr-encoding through its serde adapter) must agree on every message,
    /// both ways; this catches the two drifting apart (a version bump, a custom serializer).
    fn same_bytes<M>(m: M)
    where
        M: RosMessage + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let ours = m.to_cdr();
        let dds = cdr_encoding::to_vec::<M, byteorder::LittleEndian>(&m).unwrap();
        assert_eq!(&ours[4..], &dds[..], "{}", M::TYPE);
        let (back, _) = cdr_encoding::from_bytes::<M, byteorder::LittleEndian>(&ours[4..]).unwrap();
        assert_eq!(back, m, "{}", M::TYPE);
        assert_eq!(M::from_cdr(&ours).unwrap(), m, "{}", M::TYPE);
    }

    fn header() -> Header {
        Header {
            stamp: Time {
                sec: 12,
                nanosec: 345,
            },
            frame_id: "panda_link0".into(),
        }
    }

    #[test]
    fn mcap_and_dds_encode_every_message_the_same() {
        same_bytes(JointStateMsg {
            header: header(),
            name: vec!["panda_joint1".into(), "j2".into()],
            position: vec![0.1, -0.2],
            velocity: vec![0.0, 1.5],
            effort: vec![],
        });
        same_bytes(JointTrajectoryMsg {
            header: header(),
            joint_names: vec!["a".into(), "bb".into(), "ccc".into()],
            points: vec![
                JointTrajectoryPoint {
                    positions: vec![1.0, 2.0, 3.0],
                    velocities: vec![0.5; 3],
                    accelerations: vec![],
                    effort: vec![],
                    time_from_start: Time {
                        sec: 0,
                        nanosec: 8_000_000,
                    },
                };
                2
            ],
        });
        same_bytes(TfMessage {
            transforms: vec![TransformStamped {
                header: header(),
                child_frame_id: "object/red_cube".into(),
                translation: [0.4, -0.1, 0.025],
                rotation: [0.0, 0.0, 0.38, 0.92],
            }],
        });
        same_bytes(GripperCommandMsg {
            position: 0.04,
            max_effort: 20.0,
        });
        same_bytes(BoolMsg { data: true });
        same_bytes(ChunkRequestMsg {
            robot: "panda-1".into(),
            noise_seed: 7,
            stamp: 12.3,
            observations: vec![0.5, -1.25, 3.0],
            committed_start: 11.4,
            committed: vec![0.1; 20],
            delay_periods: 2,
            chunking: "rtc".into(),
        });
        same_bytes(ChunkReplyMsg {
            start: 12.3,
            actions: vec![0.25; 30],
            error: String::new(),
            compute_ms: 14.5,
        });
        same_bytes(StringMsg {
            data: "{\"state\":\"running\"}".into(),
        });
        same_bytes(CameraInfoMsg {
            header: header(),
            height: 240,
            width: 320,
            distortion_model: "plumb_bob".into(),
            d: vec![0.0; 5],
            k: [300.0, 0.0, 160.0, 0.0, 300.0, 120.0, 0.0, 0.0, 1.0],
            r: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            p: [
                300.0, 0.0, 160.0, 0.0, 0.0, 300.0, 120.0, 0.0, 0.0, 0.0, 1.0, 0.0,
            ],
            binning_x: 0,
            binning_y: 0,
            roi: RegionOfInterest {
                x_offset: 1,
                y_offset: 2,
                height: 3,
                width: 4,
                do_rectify: true,
            },
        });
        same_bytes(ImageMsg {
            header: header(),
            height: 2,
            width: 3,
            encoding: "rgb8".into(),
            is_bigendian: 0,
            step: 9,
            data: (0..18).collect(),
        });
        let center = Pose {
            position: Point {
                x: 0.5,
                y: -0.1,
                z: 0.025,
            },
            orientation: Quaternion {
                x: 0.0,
                y: 0.0,
                z: 0.38,
                w: 0.92,
            },
        };
        let mut covariance = Covariance36::default();
        covariance.0[35] = 0.01;
        same_bytes(Detection3DArrayMsg {
            header: header(),
            detections: vec![
                Detection3D {
                    header: header(),
                    results: vec![ObjectHypothesisWithPose {
                        hypothesis: ObjectHypothesis {
                            class_id: "cube".into(),
                            score: 0.9,
                        },
                        pose: PoseWithCovariance {
                            pose: center,
                            covariance,
                        },
                    }],
                    bbox: BoundingBox3D {
                        center,
                        size: Vector3Msg {
                            x: 0.05,
                            y: 0.06,
                            z: 0.07,
                        },
                    },
                    id: "red_cube".into(),
                };
                2
            ],
        });
    }
}
