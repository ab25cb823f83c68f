//! Reads an embody MCAP log, recovering every complete chunk of a truncated one.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use mcap::sans_io::LinearReaderOptions;

use super::LogError;
use crate::ros_msgs::{RosMessage, StringMsg};

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

impl LogMessage {
    /// embody's own records travel as JSON inside std_msgs/String (logs before that held the
    /// JSON itself, encoding `json`): readers get the JSON either way. Bytes that do not decode
    /// as a string stay as they are, for the record's reader to refuse with its topic and time.
    fn json_unwrapped(mut self) -> Self {
        if self.encoding == "cdr"
            && self.schema_name == StringMsg::TYPE
            && self.topic.starts_with("/embody/")
        {
            if let Ok(s) = StringMsg::from_cdr(&self.data) {
                self.data = s.data.into_bytes();
                self.encoding = "json".into();
            }
        }
        self
    }
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
    let mut walker = BufReader::new(file);
    let (sound, malformed) = sound_prefix(&mut walker, file_bytes).map_err(read_err)?;
    let mut file = walker.into_inner();
    file.seek(SeekFrom::Start(0)).map_err(read_err)?;
    let mut source = Counting {
        inner: BufReader::new(file.take(sound)),
        read: 0,
    };
    let options = LinearReaderOptions::default()
        .with_skip_end_magic(true)
        .with_record_length_limit(MAX_RECORD_BYTES);
    let mut messages = Vec::new();
    let mut lost = None;
    // The walk above keeps every malformed record the `mcap` crate is known to panic on from
    // it, but records inside compressed chunks are only seen once the crate decompresses them.
    // Should it panic on one of those, the log is read up to there rather than the program
    // ending (the panic hook still prints the crate's message).
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let reader = mcap::io::MessageReader::new_with_options(&mut source, options);
        for m in reader {
            match m {
                Ok(m) => messages.push(
                    LogMessage {
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
                    }
                    .json_unwrapped(),
                ),
                Err(e) => {
                    lost = Some((messages.len(), e.to_string()));
                    break;
                }
            }
        }
    }));
    if read.is_err() {
        lost = Some((
            messages.len(),
            "the mcap crate's reader failed on a malformed record (a bug in that crate)".into(),
        ));
    }
    let lost = match (lost, malformed) {
        (_, Some(why)) => Some(format!("stopped after {} messages: {why}", messages.len())),
        (Some((n, e)), None) => Some(format!(
            "stopped after {n} messages, within the first {} of {file_bytes} bytes: {e}",
            source.read.min(file_bytes)
        )),
        (None, None) if !finished => Some(
            "the file has no footer: the writer did not finish (the data above is complete)".into(),
        ),
        (None, None) => None,
    };
    Ok(RecoveredLog {
        path: shown,
        messages,
        lost,
        file_bytes,
    })
}

const OP_CHUNK: u8 = 0x06;
const OP_ATTACHMENT: u8 = 0x09;
const OP_DATA_END: u8 = 0x0F;
/// A record's opcode and length prefix.
const RECORD_PREFIX: u64 = 9;

/// Walks the file's records (and those inside uncompressed chunks) checking that every length
/// fits inside what contains it, before the `mcap` crate reads them: it trusts some of those
/// lengths (a record inside an uncompressed chunk that claims more than the chunk holds
/// underflows its counter). Returns how many bytes from the start are sound, and why reading
/// must stop there when a record is malformed (a file that merely ends early is left to the
/// reader, which reports the truncation).
fn sound_prefix<R: Read + Seek>(
    r: &mut R,
    file_bytes: u64,
) -> std::io::Result<(u64, Option<String>)> {
    let mut pos = MAGIC.len() as u64;
    r.seek(SeekFrom::Start(pos))?;
    loop {
        if pos + RECORD_PREFIX > file_bytes {
            return Ok((file_bytes, None));
        }
        let (opcode, len) = read_prefix(r)?;
        let body = pos + RECORD_PREFIX;
        let Some(end) = body.checked_add(len) else {
            return Ok((
                pos,
                Some(format!(
                    "malformed record at byte {pos}: it claims {len} bytes"
                )),
            ));
        };
        if opcode == OP_DATA_END {
            return Ok((file_bytes, None));
        }
        // A record cut short by the end of the file is still read as far as it goes (the
        // reader streams a chunk's records), so what is there of it is checked too.
        let why = match opcode {
            OP_CHUNK => check_chunk(r, len, file_bytes - body)?,
            OP_ATTACHMENT => check_attachment(r, len, file_bytes - body)?,
            _ => None,
        };
        if let Some(why) = why {
            return Ok((pos, Some(format!("malformed record at byte {pos}: {why}"))));
        }
        if end > file_bytes {
            // Cut short: left to the reader, which reports the truncation.
            return Ok((file_bytes, None));
        }
        pos = end;
        r.seek(SeekFrom::Start(pos))?;
    }
}

/// A record's opcode and length, read from its prefix.
fn read_prefix<R: Read>(r: &mut R) -> std::io::Result<(u8, u64)> {
    let mut h = [0u8; RECORD_PREFIX as usize];
    r.read_exact(&mut h)?;
    let mut len = [0u8; 8];
    len.copy_from_slice(&h[1..]);
    Ok((h[0], u64::from_le_bytes(len)))
}

/// Checks a chunk whose body (`len` bytes claimed, `present` of them in the file) starts at
/// the reader's position: its header fits in it, and every record inside an uncompressed one
/// fits in the chunk's records. `Some(why)` when it is malformed; `None` when it is sound as
/// far as the file goes.
fn check_chunk<R: Read + Seek>(
    r: &mut R,
    len: u64,
    present: u64,
) -> std::io::Result<Option<String>> {
    // start time, end time, uncompressed size (8 each), CRC (4), compression (4 + n), records
    // length (8), records.
    if len < 40 {
        return Ok(Some(format!("a chunk of {len} bytes is too short")));
    }
    if present < 32 {
        return Ok(None);
    }
    let mut fixed = [0u8; 32];
    r.read_exact(&mut fixed)?;
    let clen = u64::from(u32::from_le_bytes([
        fixed[28], fixed[29], fixed[30], fixed[31],
    ]));
    let header = 32 + clen + 8;
    if header > len {
        return Ok(Some(format!(
            "its compression name of {clen} bytes overruns the chunk"
        )));
    }
    if present < header {
        return Ok(None);
    }
    let mut compression = vec![0u8; clen as usize];
    r.read_exact(&mut compression)?;
    let mut rl = [0u8; 8];
    r.read_exact(&mut rl)?;
    let records = u64::from_le_bytes(rl);
    if records > len - header {
        return Ok(Some(format!(
            "its records ({records} bytes) overrun the chunk"
        )));
    }
    if !compression.is_empty() {
        return Ok(None);
    }
    let present_records = (present - header).min(records);
    let mut inner = 0;
    while inner < records {
        if records - inner < RECORD_PREFIX {
            return Ok(Some("a record inside the chunk is cut short".into()));
        }
        if present_records - inner < RECORD_PREFIX {
            return Ok(None);
        }
        let (opcode, l) = read_prefix(r)?;
        if l > records - inner - RECORD_PREFIX {
            return Ok(Some(format!(
                "a record inside the chunk claims {l} bytes, more than the chunk holds"
            )));
        }
        let record_start = r.stream_position()?;
        if opcode == OP_ATTACHMENT {
            let present = (present_records - inner - RECORD_PREFIX).min(l);
            if let Some(why) = check_attachment(r, l, present)? {
                return Ok(Some(format!("inside the chunk: {why}")));
            }
        }
        inner += RECORD_PREFIX + l;
        if inner > present_records {
            return Ok(None);
        }
        r.seek(SeekFrom::Start(record_start + l))?;
    }
    Ok(None)
}

/// Checks an attachment (`len` bytes claimed, `present` in the file) at the reader's position:
/// its header leaves room for the CRC that ends it (the `mcap` crate slices the body up to the
/// CRC without checking, and panicked on one that does not). `Some(why)` when it is malformed.
fn check_attachment<R: Read + Seek>(
    r: &mut R,
    len: u64,
    present: u64,
) -> std::io::Result<Option<String>> {
    // log time, create time (8 each), name (4 + n), media type (4 + m), data length (8), data,
    // CRC (4).
    let string_len = |r: &mut R| -> std::io::Result<u64> {
        let mut b = [0u8; 4];
        r.read_exact(&mut b)?;
        Ok(u64::from(u32::from_le_bytes(b)))
    };
    if present < 20 {
        return Ok(None);
    }
    r.seek_relative(16)?;
    let name = string_len(r)?;
    if present < 24 + name {
        return Ok(None);
    }
    r.seek_relative(name as i64)?;
    let media_type = string_len(r)?;
    let header = 32 + name + media_type;
    if header + 4 > len {
        return Ok(Some(format!(
            "an attachment whose header ({header} bytes) leaves no room for its CRC in {len} bytes"
        )));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(topic: &str, schema: &str, encoding: &str, data: Vec<u8>) -> LogMessage {
        LogMessage {
            topic: topic.into(),
            schema_name: schema.into(),
            encoding: encoding.into(),
            log_time_ns: 0,
            sequence: 1,
            data,
        }
    }

    /// Records read the same from logs that wrap them in std_msgs/String and from older logs
    /// that held the bare JSON; a string on another topic, and bytes that are not a string,
    /// stay as they are.
    #[test]
    fn embody_records_are_json_in_either_layout() {
        let json = br#"{"success":true}"#.to_vec();
        let wrapped = StringMsg {
            data: String::from_utf8(json.clone()).unwrap(),
        }
        .to_cdr();
        let new = message("/embody/outcome", StringMsg::TYPE, "cdr", wrapped.clone());
        let new = new.json_unwrapped();
        assert_eq!((new.data, new.encoding.as_str()), (json.clone(), "json"));
        let old = message("/embody/outcome", "/embody/outcome", "json", json.clone());
        assert_eq!(old.json_unwrapped().data, json);
        let other = message("/chatter", StringMsg::TYPE, "cdr", wrapped.clone());
        assert_eq!(other.json_unwrapped().data, wrapped);
        let broken = message("/embody/outcome", StringMsg::TYPE, "cdr", vec![1, 2]);
        assert_eq!(broken.json_unwrapped().data, vec![1, 2]);
    }
}
