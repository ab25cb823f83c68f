//! ROS 2 messages embody speaks, with their CDR encoding and `ros2msg` definitions: the one
//! source of truth for the MCAP logs and the ROS 2 bridge.

mod cdr;
mod definitions;
#[cfg(test)]
mod golden;
mod image_pixels;
mod messages;
mod vision;

pub use cdr::CdrError;
pub use messages::*;
pub use vision::*;

use serde::{de::DeserializeOwned, Serialize};

/// A ROS 2 message type embody can encode and decode. Its layout is its serde derive: fields
/// in the order of the ROS definition.
pub trait RosMessage: Serialize + DeserializeOwned {
    /// `pkg/msg/Name`, as rosbag2 writes it in MCAP schemas.
    const TYPE: &'static str;
    /// The `ros2msg` schema: this message's definition, then each dependency after a
    /// `====` separator line and `MSG: pkg/Name`.
    fn definition() -> &'static str;

    /// Serialized with the 4-byte CDR little-endian encapsulation header.
    fn to_cdr(&self) -> Vec<u8> {
        // Every field of every message is a fixed-size number, a string, a fixed array or a
        // sequence with a known length: nothing cdr-encoding can refuse to write.
        cdr::encode(Self::TYPE, self).expect("CDR encoding of a ROS message cannot fail")
    }

    fn from_cdr(bytes: &[u8]) -> Result<Self, CdrError> {
        cdr::decode(Self::TYPE, bytes)
    }
}
