//! UBX encoding: frames with checksum, for configuration messages and the
//! fake receiver.

use crate::gnss::framer::fletcher8;

/// A complete UBX frame: sync, class, id, little-endian length, payload, checksum.
/// Payloads over 65535 bytes cannot be expressed in UBX and are truncated.
pub fn frame(class: u8, id: u8, payload: &[u8]) -> Vec<u8> {
    let payload = payload.get(..u16::MAX as usize).unwrap_or(payload);
    let len = payload.len() as u16;
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&[0xB5, 0x62, class, id]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    let (a, b) = fletcher8(out.get(2..).unwrap_or(&[]));
    out.push(a);
    out.push(b);
    out
}

/// Little-endian payload builder, so callers write fields in spec order.
#[derive(Debug, Default, Clone)]
pub struct PayloadWriter {
    buf: Vec<u8>,
}

impl PayloadWriter {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn u8(mut self, v: u8) -> Self {
        self.buf.push(v);
        self
    }
    pub fn i8(self, v: i8) -> Self {
        self.u8(v as u8)
    }
    pub fn u16(mut self, v: u16) -> Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i16(self, v: i16) -> Self {
        self.u16(v as u16)
    }
    pub fn u32(mut self, v: u32) -> Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i32(self, v: i32) -> Self {
        self.u32(v as u32)
    }
    pub fn u64(mut self, v: u64) -> Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.buf.extend_from_slice(b);
        self
    }
    /// A fixed-width, NUL-padded string field (as in MON-VER).
    pub fn str_field(mut self, s: &str, width: usize) -> Self {
        let mut f = vec![0u8; width];
        for (d, c) in f.iter_mut().zip(s.bytes()) {
            *d = c;
        }
        self.buf.extend_from_slice(&f);
        self
    }
    /// `n` zero bytes (reserved fields).
    pub fn zeros(mut self, n: usize) -> Self {
        self.buf.resize(self.buf.len() + n, 0);
        self
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_has_known_checksum() {
        // UBX-MON-VER poll: B5 62 0A 04 00 00 0E 34 (checksum from the u-blox spec example).
        assert_eq!(
            frame(0x0A, 0x04, &[]),
            vec![0xB5, 0x62, 0x0A, 0x04, 0x00, 0x00, 0x0E, 0x34]
        );
        let f = frame(0x06, 0x01, &[0xF0, 0x05, 0x00]);
        assert_eq!(f.len(), 11);
        assert_eq!(f.get(4..6), Some(&[3u8, 0][..]));
    }

    #[test]
    fn writer_is_little_endian() {
        let p = PayloadWriter::new()
            .u16(0x0102)
            .i32(-2)
            .str_field("ab", 4)
            .finish();
        assert_eq!(p, vec![2, 1, 0xFE, 0xFF, 0xFF, 0xFF, b'a', b'b', 0, 0]);
    }
}
