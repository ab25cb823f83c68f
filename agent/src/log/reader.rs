//! Reads an embody MCAP log, recovering every complete chunk of a truncated one.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use mcap::sans_io::LinearReaderOptions;

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

/// The longest record read from a log (a chunk, compressed or not): a crafted length field
/// is an error here, not an allocation.
const MAX_RECORD_BYTES: usize = 512 << 20;

/// Counts the bytes taken from the file, so a damaged log can say where reading stopped.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Reads a log. Not an MCAP file: an error. Damaged or truncated: every message up to the last
/// complete chunk, and `lost` says where and why reading stopped.
///
/// The file is streamed (only the messages are held, never the file's bytes as well), and no
/// record longer than 512 MiB is buffered.
pub fn read_log(path: &Path) -> Result<RecoveredLog, LogError> {
    let shown = path.display().to_string();
    let read_err = |source| LogError::Read {
        path: shown.clone(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let file_bytes = file.metadata().map_err(read_err)?.len();
    let mut magic = [0u8; MAGIC.len()];
    if file.read_exact(&mut magic).is_err() || magic != MAGIC {
        return Err(LogError::NotMcap { path: shown });
    }
    // The footer ends with the magic again: a writer that was killed never wrote it.
    let finished = file_bytes >= 2 * MAGIC.len() as u64 && {
        file.seek(SeekFrom::End(-(MAGIC.len() as i64)))
            .map_err(read_err)?;
        file.read_exact(&mut magic).map_err(read_err)?;
        magic == MAGIC
    };
    file.seek(SeekFrom::Start(0)).map_err(read_err)?;
    let mut source = Counting {
        inner: BufReader::new(file),
        read: 0,
    };
    let options = LinearReaderOptions::default()
        .with_skip_end_magic(true)
        .with_record_length_limit(MAX_RECORD_BYTES);
    let mut messages = Vec::new();
    let mut lost = None;
    {
        let reader = mcap::io::MessageReader::new_with_options(&mut source, options);
        for m in reader {
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
                    lost = Some((messages.len(), e.to_string()));
                    break;
                }
            }
        }
    }
    let lost = match lost {
        Some((n, e)) => Some(format!(
            "stopped after {n} messages, within the first {} of {file_bytes} bytes: {e}",
            source.read.min(file_bytes)
        )),
        None if !finished => Some(
            "the file has no footer: the writer did not finish (the data above is complete)".into(),
        ),
        None => None,
    };
    Ok(RecoveredLog {
        path: shown,
        messages,
        lost,
        file_bytes,
    })
}
