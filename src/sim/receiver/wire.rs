//! The fake receiver's own encoders: UBX frames and NMEA sentences.
//!
//! Deliberately independent of `gnss::ubx` / `gnss::nmea` (the decoder side):
//! the fake is the *receiver*, so a second implementation of the wire format
//! is what lets it test the decoders instead of agreeing with them by construction.

/// Little-endian payload builder.
#[derive(Debug, Default, Clone)]
pub struct Le(pub Vec<u8>);

impl Le {
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }
    pub fn u1(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    pub fn i1(&mut self, v: i8) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u2(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i2(&mut self, v: i16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u4(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i4(&mut self, v: i32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn zeros(&mut self, n: usize) -> &mut Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }
    /// Fixed-width, NUL-padded character field (MON-VER strings).
    pub fn chars(&mut self, s: &str, width: usize) -> &mut Self {
        let b = s.as_bytes();
        let n = b.len().min(width);
        self.0.extend_from_slice(&b[..n]);
        self.zeros(width - n)
    }
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// A complete UBX frame: sync, class, id, length, payload, Fletcher-8 checksum.
pub fn ubx(class: u8, id: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    let payload = &payload[..usize::from(len)];
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&[0xB5, 0x62, class, id]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    let (mut a, mut b) = (0u8, 0u8);
    for &x in &out[2..] {
        a = a.wrapping_add(x);
        b = b.wrapping_add(a);
    }
    out.push(a);
    out.push(b);
    out
}

/// `$BODY*CS\r\n` with the XOR checksum of BODY.
pub fn nmea(body: &str) -> Vec<u8> {
    let cs = body.bytes().fold(0u8, |acc, b| acc ^ b);
    format!("${body}*{cs:02X}\r\n").into_bytes()
}

/// Latitude as NMEA `ddmm.mmmmm,N`.
pub fn nmea_lat(deg: f64) -> String {
    let hemi = if deg < 0.0 { 'S' } else { 'N' };
    let a = deg.abs();
    let d = a.trunc();
    format!("{:02}{:08.5},{hemi}", d as u32, (a - d) * 60.0)
}

/// Longitude as NMEA `dddmm.mmmmm,E`.
pub fn nmea_lon(deg: f64) -> String {
    let hemi = if deg < 0.0 { 'W' } else { 'E' };
    let a = deg.abs();
    let d = a.trunc();
    format!("{:03}{:08.5},{hemi}", d as u32, (a - d) * 60.0)
}

/// A UBX frame found in the command stream the host sends to the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub class: u8,
    pub id: u8,
    pub payload: Vec<u8>,
}

/// Minimal receiver-side UBX scanner for host commands. Bytes that are not a
/// valid UBX frame are skipped (a real receiver ignores them too).
#[derive(Debug, Default)]
pub struct CommandScanner {
    buf: Vec<u8>,
}

impl CommandScanner {
    const MAX_PAYLOAD: usize = 4096;

    pub fn push(&mut self, bytes: &[u8]) -> Vec<Command> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            let Some(start) = self.buf.windows(2).position(|w| w == [0xB5, 0x62]) else {
                // Keep a trailing 0xB5 that may start the next frame.
                let keep = usize::from(self.buf.last() == Some(&0xB5));
                let drop = self.buf.len() - keep;
                self.buf.drain(..drop);
                return out;
            };
            self.buf.drain(..start);
            if self.buf.len() < 6 {
                return out;
            }
            let len = usize::from(u16::from_le_bytes([self.buf[4], self.buf[5]]));
            if len > Self::MAX_PAYLOAD {
                self.buf.drain(..2);
                continue;
            }
            if self.buf.len() < len + 8 {
                return out;
            }
            let frame = ubx(self.buf[2], self.buf[3], &self.buf[6..6 + len]);
            if frame[..] == self.buf[..len + 8] {
                out.push(Command {
                    class: self.buf[2],
                    id: self.buf[3],
                    payload: self.buf[6..6 + len].to_vec(),
                });
                self.buf.drain(..len + 8);
            } else {
                self.buf.drain(..2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ubx_checksum_matches_known_mon_ver_poll() {
        // MON-VER poll as printed in u-blox manuals: B5 62 0A 04 00 00 0E 34.
        assert_eq!(
            ubx(0x0A, 0x04, &[]),
            vec![0xB5, 0x62, 0x0A, 0x04, 0x00, 0x00, 0x0E, 0x34]
        );
    }

    #[test]
    fn nmea_checksum_and_coordinates() {
        // Well-known example sentence body with checksum 47.
        let s = nmea("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,");
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n"
        );
        assert_eq!(nmea_lat(48.1173), "4807.03800,N");
        assert_eq!(nmea_lon(-11.5), "01130.00000,W");
    }

    #[test]
    fn scanner_finds_frames_across_splits_and_garbage() {
        let mut stream = b"junk\xB5".to_vec();
        stream.extend(ubx(0x06, 0x01, &[0x01, 0x07, 0x01]));
        stream.extend(b"\xB5\x62\xFF\xFF\xFF\xFF"); // absurd length: skipped
        stream.extend(ubx(0x0A, 0x04, &[]));
        for split in 0..stream.len() {
            let mut sc = CommandScanner::default();
            let mut got = sc.push(&stream[..split]);
            got.extend(sc.push(&stream[split..]));
            let ids: Vec<(u8, u8)> = got.iter().map(|c| (c.class, c.id)).collect();
            assert_eq!(ids, vec![(0x06, 0x01), (0x0A, 0x04)], "split at {split}");
        }
    }
}
