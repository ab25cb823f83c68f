//! ROS 2 messages embody speaks, with their CDR encoding and `ros2msg` definitions: the one
//! source of truth for the MCAP logs and the ROS 2 bridge.

mod cdr;
mod definitions;
#[cfg(test)]
mod golden;
mod messages;

pub use cdr::{CdrError, CdrReader, CdrWriter};
pub use messages::*;

/// A ROS 2 message type embody can encode and decode.
pub trait RosMessage: Sized {
    /// `pkg/msg/Name`, as rosbag2 writes it in MCAP schemas.
    const TYPE: &'static str;
    /// The `ros2msg` schema: this message's definition, then each dependency after a
    /// `====` separator line and `MSG: pkg/Name`.
    fn definition() -> &'static str;
    fn write(&self, w: &mut CdrWriter);
    fn read(r: &mut CdrReader<'_>) -> Result<Self, CdrError>;

    /// Serialized with the 4-byte CDR little-endian encapsulation header.
    fn to_cdr(&self) -> Vec<u8> {
        let mut w = CdrWriter::new();
        self.write(&mut w);
        w.finish()
    }

    fn from_cdr(bytes: &[u8]) -> Result<Self, CdrError> {
        let mut r = CdrReader::new(bytes)?;
        Self::read(&mut r)
    }
}
