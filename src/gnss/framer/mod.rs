//! Sans-IO framer: splits a receiver byte stream into UBX frames, NMEA
//! sentences and RTCM3 frames, counting everything else as garbage.
//!
//! Decisions depend only on the bytes, never on how they were split across
//! `push` calls: an incomplete candidate waits for more bytes (or for
//! [`Framer::finish`]), so any split yields the same frames as one big push.
//! A failed candidate (bad checksum, bad length, bad character) costs only its
//! first byte: scanning restarts at the byte after the false sync, so a sync
//! byte inside garbage never swallows a following good frame. That restart
//! stays linear in the input: checksums of candidates come from running sums
//! ([`checksum`]) in O(1), and an NMEA candidate waiting for its line end
//! resumes its scan where it stopped.

mod checksum;

pub use checksum::{crc24q, fletcher8, nmea_checksum};

use checksum::RunningSums;
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
    /// Need more bytes to decide; bytes already scanned (an NMEA line
    /// resumes there).
    Incomplete(usize),
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
    /// Checksums of any range of `buf` in O(1).
    sums: RunningSums,
    /// How far the candidate at `pos` was scanned while it was incomplete.
    resume: usize,
    /// Bytes looked at, for the linear-work test and the benchmark.
    examined: u64,
}

impl Framer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Append bytes from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.sums.consume(self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
        self.sums.append(bytes);
        self.examined += bytes.len() as u64;
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

    /// Bytes looked at so far (pushing, scanning, checksumming): stays
    /// within a small multiple of the bytes pushed, whatever they are.
    pub fn bytes_examined(&self) -> u64 {
        self.examined
    }

    /// Move the scan position; a new candidate starts unscanned.
    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.resume = 0;
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
            self.examined += (skip + 1).min(rest.len()) as u64;
            if skip > 0 {
                self.stats.garbage_bytes += skip as u64;
                self.advance(skip);
                continue;
            }
            let scan = Scan {
                sums: &self.sums,
                at: self.pos,
                eof: self.eof,
                resume: self.resume,
            };
            let (candidate, looked) = examine(rest, &scan);
            self.examined += looked as u64;
            match candidate {
                Candidate::Frame(kind, len) => {
                    let start = self.pos;
                    self.advance(len);
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
                    self.advance(1);
                }
                Candidate::Incomplete(scanned) => {
                    self.resume = scanned;
                    return None;
                }
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

/// What a candidate check may use besides the bytes.
struct Scan<'a> {
    sums: &'a RunningSums,
    /// Index of the candidate's first byte in the framer's buffer.
    at: usize,
    eof: bool,
    /// Bytes of this candidate already scanned by an earlier, incomplete look.
    resume: usize,
}

impl Scan<'_> {
    fn incomplete(&self, scanned: usize) -> Candidate {
        if self.eof {
            Candidate::Reject(None)
        } else {
            Candidate::Incomplete(scanned)
        }
    }
}

/// `rest` starts with a sync byte. Returns the outcome and how many bytes
/// were looked at beyond a constant.
fn examine(rest: &[u8], scan: &Scan) -> (Candidate, usize) {
    match rest.first() {
        Some(&UBX_SYNC1) => (examine_ubx(rest, scan), 0),
        Some(&RTCM3_PREAMBLE) => (examine_rtcm3(rest, scan), 0),
        Some(b'$') | Some(b'!') => examine_nmea(rest, scan),
        _ => (Candidate::Reject(None), 0),
    }
}

fn examine_ubx(rest: &[u8], scan: &Scan) -> Candidate {
    let Some(&s2) = rest.get(1) else {
        return scan.incomplete(0);
    };
    if s2 != UBX_SYNC2 {
        return Candidate::Reject(None);
    }
    let (Some(&l0), Some(&l1)) = (rest.get(4), rest.get(5)) else {
        return scan.incomplete(0);
    };
    let len = u16::from_le_bytes([l0, l1]) as usize;
    if len > MAX_UBX_PAYLOAD {
        return Candidate::Reject(Some((FrameKind::Ubx, RejectReason::Malformed)));
    }
    let total = 6 + len + 2;
    let Some(frame) = rest.get(..total) else {
        return scan.incomplete(0);
    };
    let sum = scan.sums.fletcher8(scan.at + 2, scan.at + 6 + len);
    if sum.is_some_and(|(a, b)| frame.get(6 + len) == Some(&a) && frame.get(7 + len) == Some(&b)) {
        Candidate::Frame(FrameKind::Ubx, total)
    } else {
        Candidate::Reject(Some((FrameKind::Ubx, RejectReason::Checksum)))
    }
}

fn examine_rtcm3(rest: &[u8], scan: &Scan) -> Candidate {
    let (Some(&h1), Some(&h2)) = (rest.get(1), rest.get(2)) else {
        return scan.incomplete(0);
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
        return scan.incomplete(0);
    };
    let crc = scan.sums.crc24q(scan.at, scan.at + 3 + len);
    let got = frame
        .get(3 + len..)
        .map(|t| t.iter().fold(0u32, |acc, &b| (acc << 8) | b as u32));
    if crc.is_some() && crc == got {
        Candidate::Frame(FrameKind::Rtcm3, total)
    } else {
        Candidate::Reject(Some((FrameKind::Rtcm3, RejectReason::Checksum)))
    }
}

fn examine_nmea(rest: &[u8], scan: &Scan) -> (Candidate, usize) {
    // Scan to LF; printable ASCII only, and no second start character
    // (reserved in NMEA 0183): both end a false start early. An earlier
    // look stopped at `resume` having seen only printable characters.
    let from = scan.resume.max(1);
    for (i, &b) in rest.iter().enumerate().skip(from) {
        let looked = i + 1 - from;
        if i >= MAX_NMEA_LEN {
            return (
                Candidate::Reject(Some((FrameKind::Nmea, RejectReason::Malformed))),
                looked,
            );
        }
        let line = rest.get(..i).unwrap_or(&[]);
        // The checksum pass reads the line once more.
        return match b {
            b'\n' => (check_nmea(line, i + 1), looked + i),
            b'\r' => match rest.get(i + 1) {
                // CR must be followed by LF.
                Some(b'\n') => (check_nmea(line, i + 2), looked + i),
                Some(_) => (Candidate::Reject(None), looked),
                None => (scan.incomplete(i), looked),
            },
            b'$' | b'!' => (Candidate::Reject(None), looked),
            0x20..=0x7E => continue,
            _ => (Candidate::Reject(None), looked),
        };
    }
    let looked = rest.len().saturating_sub(from);
    if rest.len() >= MAX_NMEA_LEN {
        return (
            Candidate::Reject(Some((FrameKind::Nmea, RejectReason::Malformed))),
            looked,
        );
    }
    (scan.incomplete(rest.len()), looked)
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
mod tests;
