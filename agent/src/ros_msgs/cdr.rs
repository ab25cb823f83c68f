//! OMG CDR (XCDR1) as ROS 2 middlewares put it on the wire: a 4-byte encapsulation header, then
//! the fields in declaration order, each aligned to its size from the end of the header.
//!
//! The bytes come from `cdr-encoding` (the serde CDR that RustDDS itself uses, pinned to the
//! same version), driven by the message structs' serde derives; this module adds only the
//! encapsulation header, which `cdr-encoding` leaves to its caller.

use byteorder::{BigEndian, LittleEndian};
use serde::{de::DeserializeOwned, Serialize};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CdrError {
    #[error("{ty}: {len} bytes, shorter than the 4-byte CDR encapsulation header")]
    NoHeader { ty: &'static str, len: usize },
    #[error(
        "{ty}: unsupported CDR encapsulation {kind:02x?} (expected plain CDR, 00 01 little-endian \
         or 00 00 big-endian)"
    )]
    Encapsulation { ty: &'static str, kind: [u8; 2] },
    #[error("{ty}: cannot decode its {len}-byte CDR payload: {source}")]
    Decode {
        ty: &'static str,
        len: usize,
        #[source]
        source: cdr_encoding::Error,
    },
    #[error("{ty}: cannot encode: {source}")]
    Encode {
        ty: &'static str,
        #[source]
        source: cdr_encoding::Error,
    },
}

const CDR_BE: [u8; 2] = [0x00, 0x00];
const CDR_LE: [u8; 2] = [0x00, 0x01];

/// `value` as little-endian CDR behind its encapsulation header.
pub fn encode<T: Serialize>(ty: &'static str, value: &T) -> Result<Vec<u8>, CdrError> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(&CDR_LE);
    out.extend_from_slice(&[0, 0]);
    cdr_encoding::to_writer::<T, LittleEndian, _>(&mut out, value)
        .map_err(|source| CdrError::Encode { ty, source })?;
    Ok(out)
}

/// A message from CDR of either byte order. Lengths are checked against the bytes left before
/// anything is read into them, so a crafted length is an error, not an allocation.
pub fn decode<T: DeserializeOwned>(ty: &'static str, bytes: &[u8]) -> Result<T, CdrError> {
    let (head, payload) = bytes.split_first_chunk::<4>().ok_or(CdrError::NoHeader {
        ty,
        len: bytes.len(),
    })?;
    let kind = [head[0], head[1]];
    let decoded = match kind {
        CDR_LE => cdr_encoding::from_bytes::<T, LittleEndian>(payload),
        CDR_BE => cdr_encoding::from_bytes::<T, BigEndian>(payload),
        _ => return Err(CdrError::Encapsulation { ty, kind }),
    };
    decoded
        .map(|(value, _)| value)
        .map_err(|source| CdrError::Decode {
            ty,
            len: payload.len(),
            source,
        })
}
