//! The robot's description from the ROS 2 graph: the URDF that robot_state_publisher latches on
//! `/robot_description` (std_msgs/String, transient-local), so that `deploy` can take the arm's
//! joints, limits and gripper from the robot itself instead of a file.

use std::time::{Duration, Instant};

use embody_agent::ros_msgs::StringMsg;

use crate::config::RosConfig;
use crate::transport::{drain, latched_qos, Dropped, RosNode};
use crate::RosError;

/// Largest description taken (bytes): UR's and Franka's own descriptions are 30-200 kB; a
/// larger message is not a robot description.
pub const MAX_DESCRIPTION_BYTES: usize = 8 << 20;

/// Waits up to `timeout` for the latched description on `cfg.robot_description_topic` and
/// returns its text. Messages that do not decode, are empty or too large are skipped and the
/// wait goes on (a robot may publish a good one later).
pub fn robot_description(cfg: &RosConfig, timeout: Duration) -> Result<String, RosError> {
    let topic = &cfg.robot_description_topic;
    let mut node = RosNode::new("embody_description", cfg.domain_id, &cfg.security)?;
    let sub = node.subscription::<StringMsg>(topic, &latched_qos())?;
    let mut dropped = Dropped::default();
    let t0 = Instant::now();
    let mut refused = None;
    loop {
        for m in drain(&sub, topic, &mut dropped) {
            match usable(&m.data) {
                Ok(()) => return Ok(m.data),
                Err(why) => refused = Some(why),
            }
        }
        if t0.elapsed() > timeout {
            let hint = match refused {
                Some(why) => format!("a description came but {why}"),
                None if dropped.total() > 0 => {
                    format!(
                        "{} message(s) came that do not decode as std_msgs/String",
                        dropped.total()
                    )
                }
                None => "is robot_state_publisher (or `embody sim --ros`) running on this \
                         ROS_DOMAIN_ID? Or give the URDF with --urdf"
                    .into(),
            };
            return Err(RosError::NoData {
                topic: topic.clone(),
                waited_s: timeout.as_secs_f64(),
                hint,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn usable(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("it is empty".into());
    }
    if text.len() > MAX_DESCRIPTION_BYTES {
        return Err(format!(
            "it is {} bytes, more than the {MAX_DESCRIPTION_BYTES} a description may be",
            text.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_oversized_descriptions_are_refused() {
        assert!(usable("  \n").unwrap_err().contains("empty"));
        let big = "x".repeat(MAX_DESCRIPTION_BYTES + 1);
        assert!(usable(&big).unwrap_err().contains("bytes"));
        assert!(usable("<robot name=\"r\"/>").is_ok());
    }
}
