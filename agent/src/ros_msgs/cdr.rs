//! OMG CDR (XCDR1, little endian) as ROS 2 middlewares put it on the wire: a 4-byte
//! encapsulation header, then fields aligned to their size relative to the end of the header.

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum CdrError {
    #[error("CDR data ends at byte {at} while reading {what} ({need} more bytes needed)")]
    Truncated {
        at: usize,
        what: &'static str,
        need: usize,
    },
    #[error("unsupported CDR encapsulation {0:02x?} (expected little-endian CDR 00 01)")]
    Encapsulation([u8; 2]),
    #[error("string at byte {at} is not UTF-8 or lacks its terminating NUL")]
    BadString { at: usize },
    #[error("sequence at byte {at} claims {len} elements, more than the {left} bytes left")]
    BadLength { at: usize, len: usize, left: usize },
}

const HEADER: [u8; 4] = [0x00, 0x01, 0x00, 0x00];

#[derive(Default)]
pub struct CdrWriter {
    buf: Vec<u8>,
}

impl CdrWriter {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&HEADER);
        Self { buf }
    }

    fn align(&mut self, n: usize) {
        let pos = self.buf.len() - HEADER.len();
        let pad = (n - pos % n) % n;
        self.buf.resize(self.buf.len() + pad, 0);
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.align(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.align(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.align(8);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn string(&mut self, s: &str) {
        self.u32(s.len() as u32 + 1);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
    pub fn strings(&mut self, v: &[String]) {
        self.u32(v.len() as u32);
        for s in v {
            self.string(s);
        }
    }
    pub fn f64s(&mut self, v: &[f64]) {
        self.u32(v.len() as u32);
        for x in v {
            self.f64(*x);
        }
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v);
    }
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

pub struct CdrReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> CdrReader<'a> {
    pub fn new(buf: &'a [u8]) -> Result<Self, CdrError> {
        if buf.len() < 4 {
            return Err(CdrError::Truncated {
                at: buf.len(),
                what: "the encapsulation header",
                need: 4 - buf.len(),
            });
        }
        if buf[0..2] != HEADER[0..2] {
            return Err(CdrError::Encapsulation([buf[0], buf[1]]));
        }
        Ok(Self { buf, pos: 4 })
    }

    fn align(&mut self, n: usize) {
        let rel = self.pos - HEADER.len();
        self.pos += (n - rel % n) % n;
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CdrError> {
        if self.pos + n > self.buf.len() {
            return Err(CdrError::Truncated {
                at: self.pos.min(self.buf.len()),
                what,
                need: self.pos + n - self.buf.len(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8, CdrError> {
        Ok(self.take(1, "u8")?[0])
    }
    pub fn u32(&mut self) -> Result<u32, CdrError> {
        self.align(4);
        let b = self.take(4, "u32")?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn i32(&mut self) -> Result<i32, CdrError> {
        Ok(self.u32()? as i32)
    }
    pub fn f64(&mut self) -> Result<f64, CdrError> {
        self.align(8);
        let b = self.take(8, "f64")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }
    fn len(&mut self, elem: usize) -> Result<usize, CdrError> {
        let at = self.pos;
        let n = self.u32()? as usize;
        let left = self.buf.len().saturating_sub(self.pos);
        if n.saturating_mul(elem) > left {
            return Err(CdrError::BadLength { at, len: n, left });
        }
        Ok(n)
    }
    pub fn string(&mut self) -> Result<String, CdrError> {
        let at = self.pos;
        let n = self.len(1)?;
        let b = self.take(n, "string")?;
        match b.split_last() {
            Some((0, text)) => std::str::from_utf8(text)
                .map(str::to_string)
                .map_err(|_| CdrError::BadString { at }),
            None => Ok(String::new()),
            _ => Err(CdrError::BadString { at }),
        }
    }
    pub fn strings(&mut self) -> Result<Vec<String>, CdrError> {
        let n = self.len(4)?;
        (0..n).map(|_| self.string()).collect()
    }
    pub fn f64s(&mut self) -> Result<Vec<f64>, CdrError> {
        let n = self.len(8)?;
        (0..n).map(|_| self.f64()).collect()
    }
    pub fn bytes(&mut self) -> Result<Vec<u8>, CdrError> {
        let n = self.len(1)?;
        Ok(self.take(n, "byte sequence")?.to_vec())
    }
    /// Reads `n` elements of a sequence whose element size is at least `min_elem` bytes.
    pub fn seq_len(&mut self, min_elem: usize) -> Result<usize, CdrError> {
        self.len(min_elem)
    }
}
