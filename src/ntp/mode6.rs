//! NTP control messages (mode 6, RFC 9327), read-only and sans-IO: request
//! bytes, source address, the time and the server's state in; at most one
//! reply datagram out. Enough of ntpd's control protocol for `ntpq -c rv`,
//! `ntpq -p`, `check_ntp_peer` and `check_ntp_time`:
//!
//! - READSTAT (1): association list (assoc 0) or one association's variables.
//! - READVAR (2): system variables (assoc 0) or those of association 1, the
//!   GNSS/PPS reference; only the variables named in the request when it
//!   names some.
//! - Writes, configuration and traps (3, 5, 6, 8, 9, 31): refused with
//!   "administratively prohibited"; other opcodes: "invalid opcode".
//!
//! Answered only to `allow`ed sources and rate-limited per source (bounded
//! table); everyone else, responses, fragments and malformed requests get
//! nothing. A reply is one datagram of at most [`MAX_DATA`] data bytes.

use crate::cidr::Cidr;
use crate::server_fields::ServerFields;
use std::net::IpAddr;
use std::sync::Mutex;

pub const HEADER_LEN: usize = 12;
/// Data bytes per reply datagram (RFC 9327 fragment size).
pub const MAX_DATA: usize = 468;
/// Reply buffers must hold this much.
pub const MAX_REPLY: usize = HEADER_LEN + MAX_DATA;
pub const MODE_CONTROL: u8 = 6;
/// Our single association: the GNSS receiver disciplined by its PPS.
pub const ASSOC_ID: u16 = 1;

pub mod opcode {
    pub const READSTAT: u8 = 1;
    pub const READVAR: u8 = 2;
    pub const WRITEVAR: u8 = 3;
    pub const READCLOCK: u8 = 4;
    pub const WRITECLOCK: u8 = 5;
    pub const SETTRAP: u8 = 6;
    pub const CONFIGURE: u8 = 8;
    pub const SAVECONFIG: u8 = 9;
    pub const UNSETTRAP: u8 = 31;
}

/// Error codes (RFC 9327 §B.3), in the high byte of the status word.
pub mod error {
    pub const FORMAT: u8 = 2;
    pub const BAD_OPCODE: u8 = 3;
    pub const UNKNOWN_ASSOC: u8 = 4;
    pub const UNKNOWN_VAR: u8 = 5;
    pub const PROHIBITED: u8 = 7;
}

const R_BIT: u8 = 0x80;
const E_BIT: u8 = 0x40;
const M_BIT: u8 = 0x20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("shorter than the 12-byte header")]
    Truncated,
    #[error("not mode 6")]
    Mode,
    #[error("version {0}")]
    Version(u8),
    #[error("a response or fragment, not a request")]
    NotARequest,
    #[error("reserved opcode 0")]
    ReservedOpcode,
    #[error("count {0} exceeds the datagram")]
    Count(u16),
}

/// A parsed request; `data` is the variable list (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub version: u8,
    pub opcode: u8,
    pub sequence: u16,
    pub assoc: u16,
    pub data: &'a [u8],
}

pub fn parse(req: &[u8]) -> Result<Request<'_>, ParseError> {
    let h = req.get(..HEADER_LEN).ok_or(ParseError::Truncated)?;
    if h[0] & 7 != MODE_CONTROL {
        return Err(ParseError::Mode);
    }
    let version = (h[0] >> 3) & 7;
    if !(1..=4).contains(&version) {
        return Err(ParseError::Version(version));
    }
    if h[1] & (R_BIT | E_BIT | M_BIT) != 0 {
        return Err(ParseError::NotARequest);
    }
    // Opcode 0 is reserved: no client sends it, so it is noise (for one, an
    // NTP header with the mode bits set to 6), not a question.
    if h[1] & 0x1f == 0 {
        return Err(ParseError::ReservedOpcode);
    }
    let offset = u16::from_be_bytes([h[8], h[9]]);
    let count = u16::from_be_bytes([h[10], h[11]]);
    if offset != 0 {
        return Err(ParseError::NotARequest);
    }
    let data = req
        .get(HEADER_LEN..HEADER_LEN + count as usize)
        .ok_or(ParseError::Count(count))?;
    Ok(Request {
        version,
        opcode: h[1] & 0x1f,
        sequence: u16::from_be_bytes([h[2], h[3]]),
        assoc: u16::from_be_bytes([h[6], h[7]]),
        data,
    })
}

/// What the control replies show besides the server fields; published by
/// the daemon once a second. `None`: unknown, left out of the reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlView {
    pub version: String,
    /// Clock offset against UTC (local − UTC), ns.
    pub offset_ns: Option<f64>,
    /// PPS measurement noise / interval jitter, ns.
    pub jitter_ns: Option<f64>,
    pub frequency_ppm: Option<f64>,
    pub tai_utc: Option<i32>,
    /// UTC ns of the scheduled leap second.
    pub leap_at_ns: Option<i64>,
    /// UTC ns of the last sample from the reference (ntpq's "when").
    pub last_sample_ns: Option<i64>,
    /// Last 8 polls of the reference, as ntpd's reach register.
    pub reach: u8,
    /// Lock state word, e.g. "locked".
    pub state: String,
}

/// The view the workers read; the daemon stores a fresh one each second.
pub type ControlViewCell = std::sync::Arc<arc_swap::ArcSwap<ControlView>>;

/// A per-source token bucket in a small fixed table: a flood from many
/// addresses evicts buckets, it never grows memory.
#[derive(Debug)]
struct RateTable {
    slots: Vec<Option<(IpAddr, f64, i64)>>,
}

/// Requests per second a source may sustain, and its burst.
const RATE_PER_S: f64 = 8.0;
const BURST: f64 = 32.0;
const RATE_SLOTS: usize = 256;

impl RateTable {
    fn allow(&mut self, ip: IpAddr, now_ns: i64) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        ip.hash(&mut h);
        let i = (h.finish() as usize) % RATE_SLOTS;
        let slot = &mut self.slots[i];
        let (tokens, last) = match *slot {
            Some((a, t, l)) if a == ip => (t, l),
            _ => (BURST, now_ns),
        };
        let dt = (now_ns.saturating_sub(last)).max(0) as f64 / 1e9;
        let tokens = (tokens + dt * RATE_PER_S).min(BURST);
        let ok = tokens >= 1.0;
        *slot = Some((ip, if ok { tokens - 1.0 } else { tokens }, now_ns));
        ok
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControlCounters {
    pub answered: u64,
    pub denied: u64,
    pub rate_limited: u64,
    pub malformed: u64,
    pub refused_writes: u64,
}

/// The control-message service shared by the NTP workers.
#[derive(Debug)]
pub struct ControlService {
    allow: Vec<Cidr>,
    precision: i8,
    rate: Mutex<RateTable>,
    counters: Mutex<ControlCounters>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Send `len` bytes of the output buffer back.
    Reply(usize),
    Drop,
}

impl ControlService {
    /// `allow` empty: nobody is answered.
    pub fn new(allow: Vec<Cidr>, precision: i8) -> Self {
        ControlService {
            allow,
            precision,
            rate: Mutex::new(RateTable {
                slots: vec![None; RATE_SLOTS],
            }),
            counters: Mutex::new(ControlCounters::default()),
        }
    }

    pub fn counters(&self) -> ControlCounters {
        self.counters.lock().map(|c| *c).unwrap_or_default()
    }

    fn count(&self, f: impl FnOnce(&mut ControlCounters)) {
        if let Ok(mut c) = self.counters.lock() {
            f(&mut c);
        }
    }

    /// Answer one datagram. `now_ns` is the served clock's reading.
    pub fn answer(
        &self,
        req: &[u8],
        src: IpAddr,
        now_ns: i64,
        fields: &ServerFields,
        view: &ControlView,
        out: &mut [u8],
    ) -> Outcome {
        if !self.allow.iter().any(|c| c.contains(src)) {
            self.count(|c| c.denied += 1);
            return Outcome::Drop;
        }
        let Ok(r) = parse(req) else {
            self.count(|c| c.malformed += 1);
            return Outcome::Drop;
        };
        let allowed = self
            .rate
            .lock()
            .map(|mut t| t.allow(src, now_ns))
            .unwrap_or(false);
        if !allowed {
            self.count(|c| c.rate_limited += 1);
            return Outcome::Drop;
        }
        if out.len() < MAX_REPLY {
            return Outcome::Drop;
        }
        let vars = Vars {
            fields,
            view,
            now_ns,
            precision: self.precision,
        };
        let sys_status = vars.system_status();
        let peer_status = vars.peer_status();
        let mut data = String::new();
        let result: Result<u16, u8> = match (r.opcode, r.assoc) {
            (opcode::READSTAT, 0) => {
                let mut b = [0u8; 4];
                b[..2].copy_from_slice(&ASSOC_ID.to_be_bytes());
                b[2..].copy_from_slice(&peer_status.to_be_bytes());
                let n = write_reply(out, &r, sys_status, &b, fields);
                self.count(|c| c.answered += 1);
                return Outcome::Reply(n);
            }
            (opcode::READVAR, 0) => vars.system(&mut data, r.data).map(|()| sys_status),
            (opcode::READSTAT | opcode::READVAR, ASSOC_ID) => {
                vars.peer(&mut data, r.data).map(|()| peer_status)
            }
            (opcode::READSTAT | opcode::READVAR, _) => Err(error::UNKNOWN_ASSOC),
            (
                opcode::WRITEVAR
                | opcode::WRITECLOCK
                | opcode::SETTRAP
                | opcode::CONFIGURE
                | opcode::SAVECONFIG
                | opcode::UNSETTRAP,
                _,
            ) => {
                self.count(|c| c.refused_writes += 1);
                Err(error::PROHIBITED)
            }
            _ => Err(error::BAD_OPCODE),
        };
        let n = match result {
            Ok(status) if data.len() <= MAX_DATA => {
                write_reply(out, &r, status, data.as_bytes(), fields)
            }
            Ok(_) => write_error(out, &r, error::FORMAT, fields),
            Err(code) => write_error(out, &r, code, fields),
        };
        self.count(|c| c.answered += 1);
        Outcome::Reply(n)
    }
}

fn leap_bits(fields: &ServerFields) -> u8 {
    if fields.synchronized() {
        fields.leap as u8
    } else {
        3
    }
}

fn write_header(
    out: &mut [u8],
    r: &Request,
    flags: u8,
    status: u16,
    count: usize,
    fields: &ServerFields,
) {
    out[0] = leap_bits(fields) << 6 | (r.version & 7) << 3 | MODE_CONTROL;
    out[1] = R_BIT | flags | (r.opcode & 0x1f);
    out[2..4].copy_from_slice(&r.sequence.to_be_bytes());
    out[4..6].copy_from_slice(&status.to_be_bytes());
    out[6..8].copy_from_slice(&r.assoc.to_be_bytes());
    out[8..10].copy_from_slice(&0u16.to_be_bytes());
    out[10..12].copy_from_slice(&(count as u16).to_be_bytes());
}

/// Header + data, zero-padded to a 32-bit boundary.
fn write_reply(
    out: &mut [u8],
    r: &Request,
    status: u16,
    data: &[u8],
    fields: &ServerFields,
) -> usize {
    let n = data.len().min(MAX_DATA);
    write_header(out, r, 0, status, n, fields);
    out[HEADER_LEN..HEADER_LEN + n].copy_from_slice(&data[..n]);
    let padded = (HEADER_LEN + n).div_ceil(4) * 4;
    out[HEADER_LEN + n..padded].fill(0);
    padded
}

fn write_error(out: &mut [u8], r: &Request, code: u8, fields: &ServerFields) -> usize {
    write_header(out, r, E_BIT, u16::from(code) << 8, 0, fields);
    HEADER_LEN
}

/// NTP 64-bit timestamp as ntpd prints it: `0xSSSSSSSS.FFFFFFFF`.
fn ntp_ts(unix_ns: i64) -> String {
    let t = super::timestamp::NtpTimestamp::from_unix_nanos(unix_ns);
    format!("0x{:08x}.{:08x}", t.0 >> 32, t.0 as u32)
}

struct Vars<'a> {
    fields: &'a ServerFields,
    view: &'a ControlView,
    now_ns: i64,
    precision: i8,
}

/// Variable names of the system (assoc 0) and the peer, in reply order.
const SYSTEM_VARS: &[&str] = &[
    "version",
    "processor",
    "system",
    "leap",
    "stratum",
    "precision",
    "rootdelay",
    "rootdisp",
    "refid",
    "reftime",
    "clock",
    "peer",
    "tc",
    "mintc",
    "offset",
    "frequency",
    "sys_jitter",
    "clk_jitter",
    "tai",
    "leapsec",
];
const PEER_VARS: &[&str] = &[
    "srcadr",
    "srcport",
    "dstadr",
    "dstport",
    "leap",
    "stratum",
    "precision",
    "rootdelay",
    "rootdisp",
    "refid",
    "reftime",
    "rec",
    "reach",
    "unreach",
    "hmode",
    "pmode",
    "hpoll",
    "ppoll",
    "flash",
    "offset",
    "delay",
    "dispersion",
    "jitter",
];

fn ms(ns: f64) -> String {
    format!("{:.6}", ns / 1e6)
}

impl Vars<'_> {
    fn synced(&self) -> bool {
        self.fields.synchronized()
    }

    /// System status word: LI, clock source (4: satellite, ntpd's class for
    /// GPS reference clocks), event counter and code (0).
    fn system_status(&self) -> u16 {
        let source: u16 = if self.synced() { 4 } else { 0 };
        u16::from(leap_bits(self.fields)) << 14 | source << 8
    }

    /// Peer status word: configured + reachable, and the selection:
    /// 6 (system peer) when synchronized, else 2 (a candidate only).
    fn peer_status(&self) -> u16 {
        let reach = if self.view.reach != 0 { 0x10 } else { 0 };
        let sel = if self.synced() {
            6
        } else if self.view.reach != 0 {
            2
        } else {
            0
        };
        (0x80 | reach | sel) << 8
    }

    fn stratum(&self) -> u8 {
        if self.synced() {
            self.fields.stratum.clamp(1, 15)
        } else {
            16
        }
    }

    fn refid(&self) -> String {
        String::from_utf8_lossy(&self.fields.refid)
            .trim_end_matches('\0')
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect()
    }

    fn system_var(&self, name: &str) -> Option<Option<String>> {
        let v = self.view;
        Some(match name {
            "version" => Some(format!("\"{}\"", v.version.replace('"', ""))),
            "processor" => Some(format!("\"{}\"", std::env::consts::ARCH)),
            "system" => Some(format!("\"{}\"", std::env::consts::OS)),
            "leap" => Some(leap_bits(self.fields).to_string()),
            "stratum" => Some(self.stratum().to_string()),
            "precision" => Some(self.precision.to_string()),
            "rootdelay" => Some(ms(self.fields.root_delay_ns as f64)),
            "rootdisp" => Some(ms(self.fields.root_dispersion_ns as f64)),
            "refid" => Some(self.refid()),
            "reftime" => {
                (self.fields.reference_time_ns != 0).then(|| ntp_ts(self.fields.reference_time_ns))
            }
            "clock" => Some(ntp_ts(self.now_ns)),
            "peer" => Some(if self.synced() { ASSOC_ID } else { 0 }.to_string()),
            "tc" | "mintc" => Some("4".into()),
            "offset" => v.offset_ns.map(ms),
            "frequency" => v.frequency_ppm.map(|f| format!("{f:.3}")),
            "sys_jitter" | "clk_jitter" => v.jitter_ns.map(ms),
            "tai" => v.tai_utc.map(|t| t.to_string()),
            "leapsec" => v.leap_at_ns.map(ntp_ts),
            _ => return None,
        })
    }

    fn peer_var(&self, name: &str) -> Option<Option<String>> {
        let v = self.view;
        Some(match name {
            "srcadr" => Some("127.127.20.0".into()),
            "srcport" | "dstport" => Some("123".into()),
            "dstadr" => Some("0.0.0.0".into()),
            "leap" => Some(leap_bits(self.fields).to_string()),
            // A reference clock is stratum 0 to the server that reads it.
            "stratum" => Some("0".into()),
            "precision" => Some(self.precision.to_string()),
            "rootdelay" | "rootdisp" | "delay" => Some(ms(0.0)),
            "refid" => Some(self.refid()),
            "reftime" | "rec" => v.last_sample_ns.map(ntp_ts),
            // ntpd sends the reach register in hex; ntpq shows it in octal.
            "reach" => Some(format!("{:#x}", v.reach)),
            "unreach" => Some("0".into()),
            "hmode" => Some("3".into()),
            "pmode" => Some("4".into()),
            "hpoll" | "ppoll" => Some("4".into()),
            "flash" => Some("0x0".into()),
            "offset" => v.offset_ns.map(ms),
            "dispersion" => Some(ms(self.fields.root_dispersion_ns as f64)),
            "jitter" => v.jitter_ns.map(ms),
            _ => return None,
        })
    }

    fn system(&self, out: &mut String, wanted: &[u8]) -> Result<(), u8> {
        render(out, wanted, SYSTEM_VARS, |n| self.system_var(n))
    }

    fn peer(&self, out: &mut String, wanted: &[u8]) -> Result<(), u8> {
        render(out, wanted, PEER_VARS, |n| self.peer_var(n))
    }
}

/// `name=value` pairs separated by ", " and wrapped with ",\r\n" as ntpd
/// does; only the variables asked for, all when none is named. An unknown
/// name is an error; a known one without a value is left out.
fn render(
    out: &mut String,
    wanted: &[u8],
    all: &[&str],
    get: impl Fn(&str) -> Option<Option<String>>,
) -> Result<(), u8> {
    let text = std::str::from_utf8(wanted).map_err(|_| error::FORMAT)?;
    let names: Vec<&str> = text
        .split(',')
        .map(|s| s.trim_matches(|c: char| c.is_whitespace() || c == '\0'))
        .filter(|s| !s.is_empty())
        .collect();
    if names.len() > all.len() * 2 {
        return Err(error::FORMAT);
    }
    let list: Vec<&str> = if names.is_empty() {
        all.to_vec()
    } else {
        names
    };
    let mut line = 0usize;
    for name in list {
        // "name=value" in a read request: the value is ignored.
        let name = name.split('=').next().unwrap_or(name);
        let value = get(name).ok_or(error::UNKNOWN_VAR)?;
        let Some(value) = value else { continue };
        let item = format!("{name}={value}");
        if !out.is_empty() {
            if line + item.len() + 2 > 72 {
                out.push_str(",\r\n");
                line = 0;
            } else {
                out.push_str(", ");
                line += 2;
            }
        }
        line += item.len();
        out.push_str(&item);
    }
    Ok(())
}

#[cfg(test)]
#[path = "mode6_tests.rs"]
mod tests;
