//! Sans-IO framer: splits a receiver byte stream into UBX frames, NMEA
//! sentences and RTCM3 frames, counting everything else as garbage.
//!
//! Decisions depend only on the bytes, never on how they were split across
//! `push` calls: an incomplete candidate waits for more bytes (or for
//! [`Framer::finish`]), so any split yields the same frames as one big push.
//! A failed candidate (bad checksum, bad length, bad character) costs only its
//! first byte: scanning restarts at the byte after the false sync, so a sync
//! byte inside garbage never swallows a following good frame.

use serde::Serialize;

/// Largest UBX payload we accept. Real messages stay well below this (NAV-SAT
/// with 180 signals is ~2.2 kB); a bigger value would only make a false sync in
/// garbage delay the following frames longer.
pub const MAX_UBX_PAYLOAD: usize = 4096;
/// Longest NMEA sentence accepted, `$` to LF inclusive. NMEA 0183 says 82, but
/// u-blox PUBX,03 lines with many satellites are several hundred characters.
pub const MAX_NMEA_LEN: usize = 1024;
/// RTCM3 length is 10 bits.
const MAX_RTCM3_PAYLOAD: usize = 1023;

const UBX_SYNC1: u8 = 0xB5;
const UBX_SYNC2: u8 = 0x62;
const RTCM3_PREAMBLE: u8 = 0xD3;

/// One validated frame, borrowed from the framer's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    Ubx(UbxFrame<'a>),
    /// The sentence from `$`/`!` to the checksum digits inclusive, without CR/LF.
    Nmea(&'a str),
    /// The whole RTCM3 frame (preamble, length, payload, CRC).
    Rtcm3(&'a [u8]),
}

impl Frame<'_> {
    pub fn kind(&self) -> FrameKind {
        match self {
            Frame::Ubx(_) => FrameKind::Ubx,
            Frame::Nmea(_) => FrameKind::Nmea,
            Frame::Rtcm3(_) => FrameKind::Rtcm3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UbxFrame<'a> {
    pub class: u8,
    pub id: u8,
    pub payload: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    Ubx,
    Nmea,
    Rtcm3,
}

/// Per-kind counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub ubx: u64,
    pub nmea: u64,
    pub rtcm3: u64,
}

impl KindCounts {
    fn bump(&mut self, kind: FrameKind) {
        let c = match kind {
            FrameKind::Ubx => &mut self.ubx,
            FrameKind::Nmea => &mut self.nmea,
            FrameKind::Rtcm3 => &mut self.rtcm3,
        };
        *c = c.saturating_add(1);
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FramerStats {
    /// Valid frames delivered, by kind.
    pub frames: KindCounts,
    /// Candidates whose checksum / CRC did not match, by kind.
    pub checksum_failures: KindCounts,
    /// Candidates rejected for a bad length or character (over-long NMEA, UBX
    /// length over the limit, RTCM3 reserved bits set, NMEA without checksum).
    pub malformed: KindCounts,
    /// Bytes that belonged to no valid frame.
    pub garbage_bytes: u64,
}

/// Outcome of looking at a candidate starting at the scan position.
enum Candidate {
    /// A valid frame of this many bytes.
    Frame(FrameKind, usize),
    /// Not a frame: skip the first byte.
    Reject(Option<(FrameKind, RejectReason)>),
    /// Need more bytes to decide.
    Incomplete,
}

#[derive(Clone, Copy)]
enum RejectReason {
    Checksum,
    Malformed,
}

/// Byte stream → frames. Push bytes, then drain with [`Framer::next_frame`]
/// until it returns `None`; memory stays bounded by the largest frame plus
/// one push.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Scan position in `buf`; bytes before it are consumed.
    pos: usize,
    /// End of stream: incomplete candidates are rejected instead of waiting.
    eof: bool,
    stats: FramerStats,
}

impl Framer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Append bytes from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Mark the end of the stream: what remains is resolved without waiting
    /// (incomplete candidates become garbage, after rescanning inside them).
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Bytes buffered but not yet resolved.
    pub fn pending(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub fn stats(&self) -> &FramerStats {
        &self.stats
    }

    /// Next complete frame, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        loop {
            let rest = self.buf.get(self.pos..).unwrap_or(&[]);
            if rest.is_empty() {
                return None;
            }
            // Skip straight to the next possible sync byte.
            let skip = rest
                .iter()
                .position(|&b| matches!(b, UBX_SYNC1 | b'$' | b'!' | RTCM3_PREAMBLE))
                .unwrap_or(rest.len());
            if skip > 0 {
                self.stats.garbage_bytes += skip as u64;
                self.pos += skip;
                continue;
            }
            match examine(rest, self.eof) {
                Candidate::Frame(kind, len) => {
                    let start = self.pos;
                    self.pos += len;
                    self.stats.frames.bump(kind);
                    let bytes = self.buf.get(start..start + len).unwrap_or(&[]);
                    return Some(build_frame(kind, bytes));
                }
                Candidate::Reject(why) => {
                    match why {
                        Some((kind, RejectReason::Checksum)) => {
                            self.stats.checksum_failures.bump(kind)
                        }
                        Some((kind, RejectReason::Malformed)) => self.stats.malformed.bump(kind),
                        None => {}
                    }
                    self.stats.garbage_bytes += 1;
                    self.pos += 1;
                }
                Candidate::Incomplete => return None,
            }
        }
    }

    /// Convenience: push bytes and hand every complete frame to `f`.
    pub fn feed(&mut self, bytes: &[u8], mut f: impl FnMut(Frame<'_>)) {
        self.push(bytes);
        while let Some(frame) = self.next_frame() {
            f(frame);
        }
    }
}

fn build_frame(kind: FrameKind, bytes: &[u8]) -> Frame<'_> {
    match kind {
        FrameKind::Ubx => Frame::Ubx(UbxFrame {
            class: bytes.get(2).copied().unwrap_or(0),
            id: bytes.get(3).copied().unwrap_or(0),
            payload: bytes.get(6..bytes.len().saturating_sub(2)).unwrap_or(&[]),
        }),
        FrameKind::Nmea => {
            // Validated printable ASCII; strip CR/LF.
            let end = bytes
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .unwrap_or(bytes.len());
            let text = bytes.get(..end).unwrap_or(&[]);
            Frame::Nmea(std::str::from_utf8(text).unwrap_or(""))
        }
        FrameKind::Rtcm3 => Frame::Rtcm3(bytes),
    }
}

/// `rest` starts with a sync byte.
fn examine(rest: &[u8], eof: bool) -> Candidate {
    let incomplete = if eof {
        Candidate::Reject(None)
    } else {
        Candidate::Incomplete
    };
    match rest.first() {
        Some(&UBX_SYNC1) => examine_ubx(rest, incomplete),
        Some(&RTCM3_PREAMBLE) => examine_rtcm3(rest, incomplete),
        Some(b'$') | Some(b'!') => examine_nmea(rest, incomplete),
        _ => Candidate::Reject(None),
    }
}

fn examine_ubx(rest: &[u8], incomplete: Candidate) -> Candidate {
    let Some(&s2) = rest.get(1) else {
        return incomplete;
    };
    if s2 != UBX_SYNC2 {
        return Candidate::Reject(None);
    }
    let (Some(&l0), Some(&l1)) = (rest.get(4), rest.get(5)) else {
        return incomplete;
    };
    let len = u16::from_le_bytes([l0, l1]) as usize;
    if len > MAX_UBX_PAYLOAD {
        return Candidate::Reject(Some((FrameKind::Ubx, RejectReason::Malformed)));
    }
    let total = 6 + len + 2;
    let Some(frame) = rest.get(..total) else {
        return incomplete;
    };
    let (a, b) = fletcher8(frame.get(2..6 + len).unwrap_or(&[]));
    if frame.get(6 + len) == Some(&a) && frame.get(7 + len) == Some(&b) {
        Candidate::Frame(FrameKind::Ubx, total)
    } else {
        Candidate::Reject(Some((FrameKind::Ubx, RejectReason::Checksum)))
    }
}

fn examine_rtcm3(rest: &[u8], incomplete: Candidate) -> Candidate {
    let (Some(&h1), Some(&h2)) = (rest.get(1), rest.get(2)) else {
        return incomplete;
    };
    if h1 & 0xFC != 0 {
        // Six reserved bits must be zero; most 0xD3 bytes in other data fail here.
        return Candidate::Reject(None);
    }
    let len = (((h1 & 0x03) as usize) << 8) | h2 as usize;
    if len > MAX_RTCM3_PAYLOAD {
        return Candidate::Reject(None);
    }
    let total = 3 + len + 3;
    let Some(frame) = rest.get(..total) else {
        return incomplete;
    };
    let crc = crc24q(frame.get(..3 + len).unwrap_or(&[]));
    let got = frame
        .get(3 + len..)
        .map(|t| t.iter().fold(0u32, |acc, &b| (acc << 8) | b as u32))
        .unwrap_or(u32::MAX);
    if crc == got {
        Candidate::Frame(FrameKind::Rtcm3, total)
    } else {
        Candidate::Reject(Some((FrameKind::Rtcm3, RejectReason::Checksum)))
    }
}

fn examine_nmea(rest: &[u8], incomplete: Candidate) -> Candidate {
    // Scan to LF; printable ASCII only, and no second start character
    // (reserved in NMEA 0183): both end a false start early.
    for (i, &b) in rest.iter().enumerate().skip(1) {
        if i >= MAX_NMEA_LEN {
            return Candidate::Reject(Some((FrameKind::Nmea, RejectReason::Malformed)));
        }
        match b {
            b'\n' => return check_nmea(rest.get(..i).unwrap_or(&[]), i + 1),
            b'\r' => {
                // CR must be followed by LF.
                return match rest.get(i + 1) {
                    Some(b'\n') => check_nmea(rest.get(..i).unwrap_or(&[]), i + 2),
                    Some(_) => Candidate::Reject(None),
                    None => incomplete,
                };
            }
            b'$' | b'!' => return Candidate::Reject(None),
            0x20..=0x7E => {}
            _ => return Candidate::Reject(None),
        }
    }
    if rest.len() >= MAX_NMEA_LEN {
        return Candidate::Reject(Some((FrameKind::Nmea, RejectReason::Malformed)));
    }
    incomplete
}

/// `line` is `$...*hh` without line ending; `total` includes the line ending.
fn check_nmea(line: &[u8], total: usize) -> Candidate {
    let n = line.len();
    // Shortest useful: "$X*hh".
    if n < 5 || line.get(n - 3) != Some(&b'*') {
        return Candidate::Reject(Some((FrameKind::Nmea, RejectReason::Malformed)));
    }
    let body = line.get(1..n - 3).unwrap_or(&[]);
    if body.contains(&b'*') {
        return Candidate::Reject(Some((FrameKind::Nmea, RejectReason::Malformed)));
    }
    let want = nmea_checksum(body);
    let got = match (
        line.get(n - 2).and_then(|&c| hex_val(c)),
        line.get(n - 1).and_then(|&c| hex_val(c)),
    ) {
        (Some(h), Some(l)) => (h << 4) | l,
        _ => return Candidate::Reject(Some((FrameKind::Nmea, RejectReason::Malformed))),
    };
    if want == got {
        Candidate::Frame(FrameKind::Nmea, total)
    } else {
        Candidate::Reject(Some((FrameKind::Nmea, RejectReason::Checksum)))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// UBX 8-bit Fletcher checksum over class, id, length and payload.
pub fn fletcher8(bytes: &[u8]) -> (u8, u8) {
    let (mut a, mut b) = (0u8, 0u8);
    for &x in bytes {
        a = a.wrapping_add(x);
        b = b.wrapping_add(a);
    }
    (a, b)
}

/// XOR of the characters between `$` and `*`.
pub fn nmea_checksum(body: &[u8]) -> u8 {
    body.iter().fold(0, |acc, &b| acc ^ b)
}

/// CRC-24Q (Qualcomm) as used by RTCM3: polynomial 0x1864CFB, initial value 0.
pub fn crc24q(bytes: &[u8]) -> u32 {
    let mut crc: u32 = 0;
    for &b in bytes {
        crc ^= (b as u32) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

/// Build an RTCM3 frame around `payload` (for tests and the fake receiver).
/// Payloads over 1023 bytes are truncated: RTCM3 cannot carry more.
pub fn rtcm3_frame(payload: &[u8]) -> Vec<u8> {
    let payload = payload.get(..MAX_RTCM3_PAYLOAD).unwrap_or(payload);
    let len = payload.len();
    let mut out = Vec::with_capacity(len + 6);
    out.push(RTCM3_PREAMBLE);
    out.push(((len >> 8) & 0x03) as u8);
    out.push((len & 0xFF) as u8);
    out.extend_from_slice(payload);
    let crc = crc24q(&out);
    out.extend_from_slice(&[(crc >> 16) as u8, (crc >> 8) as u8, crc as u8]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::nmea::sentence;
    use crate::gnss::ubx::frame as ubx_frame;

    #[derive(Debug, PartialEq)]
    enum Owned {
        Ubx(u8, u8, Vec<u8>),
        Nmea(String),
        Rtcm3(Vec<u8>),
    }

    fn collect(chunks: &[&[u8]]) -> (Vec<Owned>, FramerStats) {
        let mut f = Framer::new();
        let mut out = Vec::new();
        let mut take = |f: &mut Framer| {
            while let Some(fr) = f.next_frame() {
                out.push(match fr {
                    Frame::Ubx(u) => Owned::Ubx(u.class, u.id, u.payload.to_vec()),
                    Frame::Nmea(s) => Owned::Nmea(s.to_string()),
                    Frame::Rtcm3(b) => Owned::Rtcm3(b.to_vec()),
                });
            }
        };
        for c in chunks {
            f.push(c);
            take(&mut f);
        }
        f.finish();
        take(&mut f);
        (out, *f.stats())
    }

    #[test]
    fn splits_mixed_stream() {
        let mut s = Vec::new();
        s.extend_from_slice(b"# comment\n");
        s.extend(ubx_frame(0x01, 0x07, &[1, 2, 3]));
        s.extend_from_slice(sentence("GPZDA,201530.00,04,07,2002,00,00").as_bytes());
        s.extend(rtcm3_frame(&[0x3E, 0xD0, 0x00]));
        s.extend_from_slice(b"$GPTXT,01,01,02,LF only*XX\n");
        s.extend_from_slice(b"$GPTXT,lf*");
        s.extend_from_slice(format!("{:02X}\n", nmea_checksum(b"GPTXT,lf")).as_bytes());
        let (frames, st) = collect(&[&s]);
        assert_eq!(
            frames,
            vec![
                Owned::Ubx(1, 7, vec![1, 2, 3]),
                Owned::Nmea("$GPZDA,201530.00,04,07,2002,00,00*60".into()),
                Owned::Rtcm3(rtcm3_frame(&[0x3E, 0xD0, 0x00])),
                Owned::Nmea("$GPTXT,lf*69".into()),
            ]
        );
        assert_eq!(st.frames.ubx, 1);
        assert_eq!(st.frames.nmea, 2);
        assert_eq!(st.frames.rtcm3, 1);
        assert_eq!(st.malformed.nmea, 1); // "*XX"
        assert_eq!(st.garbage_bytes, 10 + 27);
    }

    #[test]
    fn every_split_point_gives_same_frames() {
        let mut s = Vec::new();
        s.extend_from_slice(&[0xB5, 0x62, 0x05]);
        s.extend(ubx_frame(0x0D, 0x01, &[9; 16]));
        s.extend_from_slice(b"$GP,x");
        s.extend_from_slice(sentence("GNRMC,1,2,3").as_bytes());
        s.extend_from_slice(&[0xD3, 0x00]);
        s.extend(rtcm3_frame(&[1, 2, 3, 4]));
        let (whole, st) = collect(&[&s]);
        assert_eq!(whole.len(), 3, "{whole:?}");
        for cut in 0..=s.len() {
            let (a, b) = s.split_at(cut);
            let (parts, st2) = collect(&[a, b]);
            assert_eq!(parts, whole, "cut at {cut}");
            assert_eq!(st2, st, "cut at {cut}");
        }
    }

    #[test]
    fn false_ubx_sync_does_not_swallow_next_frame() {
        // A sync pair in garbage declares a length covering the real frame.
        let good = ubx_frame(0x01, 0x20, &[7; 16]);
        let mut s = vec![0xB5, 0x62, 0x01, 0x02, 0x10, 0x00];
        s.extend_from_slice(&good);
        s.extend_from_slice(&[0u8; 4]);
        let (frames, st) = collect(&[&s]);
        assert_eq!(frames, vec![Owned::Ubx(1, 0x20, vec![7; 16])]);
        assert_eq!(st.checksum_failures.ubx, 1);
        assert_eq!(st.garbage_bytes, 6 + 4);
    }

    #[test]
    fn false_nmea_start_and_overlong() {
        let good = sentence("GPGGA,1");
        let mut s = b"$GPGGA,12".to_vec();
        s.extend_from_slice(good.as_bytes());
        let mut long = b"$GP".to_vec();
        long.extend(std::iter::repeat_n(b'A', MAX_NMEA_LEN + 10));
        long.extend_from_slice(b"*00\r\n");
        s.extend_from_slice(&long);
        s.extend_from_slice(good.as_bytes());
        let (frames, st) = collect(&[&s]);
        let g = good.trim_end().to_string();
        assert_eq!(frames, vec![Owned::Nmea(g.clone()), Owned::Nmea(g)]);
        assert_eq!(st.malformed.nmea, 1);
    }

    #[test]
    fn bad_checksums_are_counted() {
        let mut u = ubx_frame(0x0A, 0x04, &[1, 2]);
        if let Some(last) = u.last_mut() {
            *last ^= 0xFF;
        }
        let mut r = rtcm3_frame(&[5, 6, 7]);
        if let Some(last) = r.last_mut() {
            *last ^= 0x01;
        }
        let mut s = u.clone();
        s.extend_from_slice(&r);
        s.extend_from_slice(b"$GPZDA,1*00\r\n");
        let (frames, st) = collect(&[&s]);
        assert!(frames.is_empty());
        assert_eq!(st.checksum_failures.ubx, 1);
        assert_eq!(st.checksum_failures.rtcm3, 1);
        assert_eq!(st.checksum_failures.nmea, 1);
        assert_eq!(st.garbage_bytes, s.len() as u64);
    }

    #[test]
    fn crc24q_known_value() {
        // Check value of CRC-24Q over "123456789".
        assert_eq!(crc24q(b"123456789"), 0xCDE703);
    }
}
