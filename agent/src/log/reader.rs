//! Reads an embody MCAP log, recovering every complete chunk of a truncated one.

use std::path::Path;

use super::LogError;

const MAGIC: &[u8] = b"\x89MCAP0\r\n";

/// One message as stored.
#[derive(Clone, Debug)]
pub struct LogMessage {
    pub topic: String,
    pub schema_name: String,
    pub encoding: String,
    pub log_time_ns: u64,
    pub sequence: u32,
    pub data: Vec<u8>,
}

impl LogMessage {
    pub fn time_s(&self) -> f64 {
        self.log_time_ns as f64 * 1e-9
    }
}

/// What could be read, and what could not.
#[derive(Clone, Debug)]
pub struct RecoveredLog {
    pub path: String,
    pub messages: Vec<LogMessage>,
    /// `None` for a whole file; otherwise why reading stopped (the messages before are good).
    pub lost: Option<String>,
    pub file_bytes: u64,
}

impl RecoveredLog {
    pub fn complete(&self) -> bool {
        self.lost.is_none()
    }
    pub fn on<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'a LogMessage> + 'a {
        self.messages.iter().filter(move |m| m.topic == topic)
    }
}

/// Reads a log. Not an MCAP file: an error. Damaged or truncated: every message up to the last
/// complete chunk, and `lost` says where and why reading stopped.
pub fn read_log(path: &Path) -> Result<RecoveredLog, LogError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LogError::Read {
        path: shown.clone(),
        source,
    })?;
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(LogError::NotMcap { path: shown });
    }
    let mut messages = Vec::new();
    let mut lost = None;
    let options = mcap::read::Options::IgnoreEndMagic.into();
    match mcap::MessageStream::new_with_options(&bytes, options) {
        Err(e) => lost = Some(format!("unreadable from the start: {e}")),
        Ok(stream) => {
            for m in stream {
                match m {
                    Ok(m) => messages.push(LogMessage {
                        topic: m.channel.topic.clone(),
                        schema_name: m
                            .channel
                            .schema
                            .as_ref()
                            .map(|s| s.name.clone())
                            .unwrap_or_default(),
                        encoding: m.channel.message_encoding.clone(),
                        log_time_ns: m.log_time,
                        sequence: m.sequence,
                        data: m.data.into_owned(),
                    }),
                    Err(e) => {
                        lost = Some(format!(
                            "stopped after {} messages ({} of {} bytes read cleanly): {e}",
                            messages.len(),
                            recovered_bytes(&messages),
                            bytes.len()
                        ));
                        break;
                    }
                }
            }
        }
    }
    if lost.is_none() && mcap::read::footer(&bytes).is_err() {
        lost = Some(
            "the file has no footer: the writer did not finish (the data above is complete)".into(),
        );
    }
    Ok(RecoveredLog {
        path: shown,
        messages,
        lost,
        file_bytes: bytes.len() as u64,
    })
}

fn recovered_bytes(messages: &[LogMessage]) -> usize {
    messages.iter().map(|m| m.data.len()).sum()
}
