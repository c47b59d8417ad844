//! AgentX PDU codec (RFC 2741 §6), sans-IO: bytes in, typed PDUs out and
//! back. Every read is bounds-checked; a short buffer, a length that does not
//! match, an unknown type or an oversized list is a [`DecodeError`], never a
//! panic. We always send in network byte order and read either order.

use super::oid::{Oid, MAX_SUBIDS};
pub use super::pdu::*;

pub const HEADER_LEN: usize = 20;
/// Largest payload accepted. net-snmp's master never sends more than a few
/// KiB; anything bigger is a broken or hostile peer.
pub const MAX_PAYLOAD: u32 = 64 * 1024;
/// Most search ranges or varbinds in one PDU.
pub const MAX_LIST: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated: {what} needs {need} bytes, {have} left")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("unsupported AgentX version {0}")]
    Version(u8),
    #[error("unknown PDU type {0}")]
    UnknownType(u8),
    #[error("payload length {0} exceeds the limit")]
    PayloadTooLarge(u32),
    #[error("payload length {declared} does not match the PDU ({used} bytes used)")]
    LengthMismatch { declared: usize, used: usize },
    #[error("OID with {0} sub-identifiers")]
    OidTooLong(usize),
    #[error("unknown value type {0}")]
    ValueType(u16),
    #[error("more than {MAX_LIST} entries in one PDU")]
    TooMany,
    #[error("octet string of {0} bytes exceeds the payload")]
    StringTooLong(u32),
}

/// The fixed 20-byte header; `payload_len` is filled in by [`encode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub pdu_type: u8,
    pub flags: u8,
    pub session_id: u32,
    pub transaction_id: u32,
    pub packet_id: u32,
    pub payload_len: u32,
}

impl Header {
    /// Parse and check a header; `Ok(None)` when fewer than 20 bytes are there.
    pub fn peek(buf: &[u8]) -> Result<Option<Header>, DecodeError> {
        if buf.len() < HEADER_LEN {
            return Ok(None);
        }
        if buf[0] != 1 {
            return Err(DecodeError::Version(buf[0]));
        }
        let be = buf[2] & flags::NETWORK_BYTE_ORDER != 0;
        let u32_at = |i: usize| {
            let b = [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]];
            if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let h = Header {
            pdu_type: buf[1],
            flags: buf[2],
            session_id: u32_at(4),
            transaction_id: u32_at(8),
            packet_id: u32_at(12),
            payload_len: u32_at(16),
        };
        if !(types::OPEN..=types::RESPONSE).contains(&h.pdu_type) {
            return Err(DecodeError::UnknownType(h.pdu_type));
        }
        if h.payload_len > MAX_PAYLOAD {
            return Err(DecodeError::PayloadTooLarge(h.payload_len));
        }
        if h.payload_len % 4 != 0 {
            return Err(DecodeError::LengthMismatch {
                declared: h.payload_len as usize,
                used: h.payload_len as usize & !3,
            });
        }
        Ok(Some(h))
    }
}

/// One PDU with its header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub header: Header,
    pub pdu: Pdu,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    be: bool,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let have = self.buf.len() - self.pos;
        if n > have {
            return Err(DecodeError::Truncated {
                what,
                need: n,
                have,
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        let b = [b[0], b[1]];
        Ok(if self.be {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        let b = [b[0], b[1], b[2], b[3]];
        Ok(if self.be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let hi = self.u32(what)? as u64;
        let lo = self.u32(what)? as u64;
        // §5.1: the high word comes first in network order only.
        Ok(if self.be {
            hi << 32 | lo
        } else {
            lo << 32 | hi
        })
    }
    /// An OID (§5.1) and its `include` byte.
    fn oid(&mut self) -> Result<(Oid, bool), DecodeError> {
        let n = self.u8("oid n_subid")? as usize;
        let prefix = self.u8("oid prefix")?;
        let include = self.u8("oid include")? != 0;
        self.u8("oid reserved")?;
        let total = n + if prefix != 0 { 5 } else { 0 };
        if total > MAX_SUBIDS {
            return Err(DecodeError::OidTooLong(total));
        }
        if n * 4 > self.left() {
            return Err(DecodeError::Truncated {
                what: "oid sub-identifiers",
                need: n * 4,
                have: self.left(),
            });
        }
        let mut ids = Vec::with_capacity(total);
        if prefix != 0 {
            ids.extend_from_slice(&[1, 3, 6, 1, u32::from(prefix)]);
        }
        for _ in 0..n {
            ids.push(self.u32("oid sub-identifier")?);
        }
        Ok((Oid(ids), include))
    }
    fn octets(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32("octet string length")?;
        if len as usize > self.left() {
            return Err(DecodeError::StringTooLong(len));
        }
        let padded = (len as usize).div_ceil(4) * 4;
        let s = self.take(padded, "octet string padding")?;
        Ok(s[..len as usize].to_vec())
    }
    fn context(&mut self, flags: u8) -> Result<Option<Vec<u8>>, DecodeError> {
        if flags & flags::NON_DEFAULT_CONTEXT != 0 {
            Ok(Some(self.octets()?))
        } else {
            Ok(None)
        }
    }
    fn ranges(&mut self) -> Result<Vec<SearchRange>, DecodeError> {
        let mut v = Vec::new();
        while self.left() > 0 {
            if v.len() == MAX_LIST {
                return Err(DecodeError::TooMany);
            }
            let (start, include) = self.oid()?;
            let (end, _) = self.oid()?;
            v.push(SearchRange {
                start,
                include,
                end,
            });
        }
        Ok(v)
    }
    fn value(&mut self, t: u16) -> Result<Value, DecodeError> {
        Ok(match t {
            2 => Value::Integer(self.u32("integer")? as i32),
            4 => Value::OctetString(self.octets()?),
            5 => Value::Null,
            6 => Value::ObjectId(self.oid()?.0),
            64 => {
                let b = self.octets()?;
                let a: [u8; 4] =
                    b.as_slice()
                        .try_into()
                        .map_err(|_| DecodeError::LengthMismatch {
                            declared: b.len(),
                            used: 4,
                        })?;
                Value::IpAddress(a)
            }
            65 => Value::Counter32(self.u32("counter32")?),
            66 => Value::Gauge32(self.u32("gauge32")?),
            67 => Value::TimeTicks(self.u32("timeticks")?),
            68 => Value::Opaque(self.octets()?),
            70 => Value::Counter64(self.u64("counter64")?),
            128 => Value::NoSuchObject,
            129 => Value::NoSuchInstance,
            130 => Value::EndOfMibView,
            other => return Err(DecodeError::ValueType(other)),
        })
    }
    fn varbinds(&mut self) -> Result<Vec<VarBind>, DecodeError> {
        let mut v = Vec::new();
        while self.left() > 0 {
            if v.len() == MAX_LIST {
                return Err(DecodeError::TooMany);
            }
            let t = self.u16("varbind type")?;
            self.u16("varbind reserved")?;
            let (name, _) = self.oid()?;
            let value = self.value(t)?;
            v.push(VarBind { name, value });
        }
        Ok(v)
    }
}

/// Decode one PDU from the front of `buf`: `Ok(None)` when more bytes are
/// needed, else the packet and how many bytes it took.
pub fn decode(buf: &[u8]) -> Result<Option<(Packet, usize)>, DecodeError> {
    let Some(header) = Header::peek(buf)? else {
        return Ok(None);
    };
    let total = HEADER_LEN + header.payload_len as usize;
    if buf.len() < total {
        return Ok(None);
    }
    let pdu = decode_payload(&header, &buf[HEADER_LEN..total])?;
    Ok(Some((Packet { header, pdu }, total)))
}

fn decode_payload(h: &Header, payload: &[u8]) -> Result<Pdu, DecodeError> {
    use types::*;
    let mut r = Reader {
        buf: payload,
        pos: 0,
        be: h.flags & flags::NETWORK_BYTE_ORDER != 0,
    };
    let pdu = match h.pdu_type {
        OPEN => {
            let timeout = r.u8("open timeout")?;
            r.take(3, "open reserved")?;
            let (id, _) = r.oid()?;
            let descr = r.octets()?;
            Pdu::Open { timeout, id, descr }
        }
        CLOSE => {
            let reason = r.u8("close reason")?;
            r.take(3, "close reserved")?;
            Pdu::Close { reason }
        }
        REGISTER | UNREGISTER => {
            let context = r.context(h.flags)?;
            let timeout = r.u8("register timeout")?;
            let priority = r.u8("register priority")?;
            let range_subid = r.u8("register range_subid")?;
            r.u8("register reserved")?;
            let (subtree, _) = r.oid()?;
            let range = if range_subid != 0 {
                Some((range_subid, r.u32("register upper_bound")?))
            } else {
                None
            };
            if h.pdu_type == REGISTER {
                Pdu::Register {
                    context,
                    timeout,
                    priority,
                    subtree,
                    range,
                }
            } else {
                Pdu::Unregister {
                    context,
                    priority,
                    subtree,
                    range,
                }
            }
        }
        GET => Pdu::Get {
            context: r.context(h.flags)?,
            ranges: r.ranges()?,
        },
        GET_NEXT => Pdu::GetNext {
            context: r.context(h.flags)?,
            ranges: r.ranges()?,
        },
        GET_BULK => {
            let context = r.context(h.flags)?;
            let non_repeaters = r.u16("getbulk non_repeaters")?;
            let max_repetitions = r.u16("getbulk max_repetitions")?;
            Pdu::GetBulk {
                context,
                non_repeaters,
                max_repetitions,
                ranges: r.ranges()?,
            }
        }
        TEST_SET => Pdu::TestSet {
            context: r.context(h.flags)?,
            varbinds: r.varbinds()?,
        },
        COMMIT_SET => Pdu::CommitSet,
        UNDO_SET => Pdu::UndoSet,
        CLEANUP_SET => Pdu::CleanupSet,
        NOTIFY => Pdu::Notify {
            context: r.context(h.flags)?,
            varbinds: r.varbinds()?,
        },
        PING => Pdu::Ping {
            context: r.context(h.flags)?,
        },
        RESPONSE => {
            let sys_uptime = r.u32("response sysUpTime")?;
            let error = r.u16("response error")?;
            let index = r.u16("response index")?;
            Pdu::Response {
                sys_uptime,
                error,
                index,
                varbinds: r.varbinds()?,
            }
        }
        INDEX_ALLOCATE | INDEX_DEALLOCATE | ADD_AGENT_CAPS | REMOVE_AGENT_CAPS => Pdu::Other {
            pdu_type: h.pdu_type,
            payload: r.take(r.left(), "payload")?.to_vec(),
        },
        other => return Err(DecodeError::UnknownType(other)),
    };
    if r.left() != 0 {
        return Err(DecodeError::LengthMismatch {
            declared: payload.len(),
            used: r.pos,
        });
    }
    Ok(pdu)
}

/// Big-endian writer (we always set NETWORK_BYTE_ORDER).
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn oid(&mut self, oid: &Oid, include: bool) {
        let ids = &oid.0[..oid.0.len().min(MAX_SUBIDS)];
        // Prefix compression (§5.1): 1.3.6.1.X.rest with 0 < X < 256.
        let (prefix, rest) = match ids {
            [1, 3, 6, 1, x, rest @ ..] if (1..=255).contains(x) => (*x as u8, rest),
            _ => (0, ids),
        };
        self.u8(rest.len() as u8);
        self.u8(prefix);
        self.u8(u8::from(include));
        self.u8(0);
        for id in rest {
            self.u32(*id);
        }
    }
    fn octets(&mut self, s: &[u8]) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s);
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
    }
    fn varbinds(&mut self, vbs: &[VarBind]) {
        for vb in vbs {
            self.u16(vb.value.type_code());
            self.u16(0);
            self.oid(&vb.name, false);
            match &vb.value {
                Value::Integer(i) => self.u32(*i as u32),
                Value::OctetString(s) | Value::Opaque(s) => self.octets(s),
                Value::ObjectId(o) => self.oid(o, false),
                Value::IpAddress(a) => self.octets(a),
                Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => self.u32(*v),
                Value::Counter64(v) => {
                    self.u32((*v >> 32) as u32);
                    self.u32(*v as u32);
                }
                Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => {
                }
            }
        }
    }
    fn ranges(&mut self, ranges: &[SearchRange]) {
        for r in ranges {
            self.oid(&r.start, r.include);
            self.oid(&r.end, false);
        }
    }
}

/// Encode a packet; the header's `payload_len` is computed and the network
/// byte order flag set (the context flag follows the PDU's context).
pub fn encode(header: &Header, pdu: &Pdu) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(64));
    let mut fl = (header.flags | flags::NETWORK_BYTE_ORDER) & !flags::NON_DEFAULT_CONTEXT;
    if let Some(c) = pdu.context() {
        fl |= flags::NON_DEFAULT_CONTEXT;
        w.octets(c);
    }
    match pdu {
        Pdu::Open { timeout, id, descr } => {
            w.u8(*timeout);
            w.0.extend_from_slice(&[0; 3]);
            w.oid(id, false);
            w.octets(descr);
        }
        Pdu::Close { reason } => {
            w.u8(*reason);
            w.0.extend_from_slice(&[0; 3]);
        }
        Pdu::Register {
            timeout,
            priority,
            subtree,
            range,
            ..
        } => {
            w.u8(*timeout);
            w.u8(*priority);
            w.u8(range.map_or(0, |r| r.0));
            w.u8(0);
            w.oid(subtree, false);
            if let Some((_, ub)) = range {
                w.u32(*ub);
            }
        }
        Pdu::Unregister {
            priority,
            subtree,
            range,
            ..
        } => {
            w.u8(0);
            w.u8(*priority);
            w.u8(range.map_or(0, |r| r.0));
            w.u8(0);
            w.oid(subtree, false);
            if let Some((_, ub)) = range {
                w.u32(*ub);
            }
        }
        Pdu::Get { ranges, .. } | Pdu::GetNext { ranges, .. } => w.ranges(ranges),
        Pdu::GetBulk {
            non_repeaters,
            max_repetitions,
            ranges,
            ..
        } => {
            w.u16(*non_repeaters);
            w.u16(*max_repetitions);
            w.ranges(ranges);
        }
        Pdu::TestSet { varbinds, .. } | Pdu::Notify { varbinds, .. } => w.varbinds(varbinds),
        Pdu::CommitSet | Pdu::UndoSet | Pdu::CleanupSet | Pdu::Ping { .. } => {}
        Pdu::Response {
            sys_uptime,
            error,
            index,
            varbinds,
        } => {
            w.u32(*sys_uptime);
            w.u16(*error);
            w.u16(*index);
            w.varbinds(varbinds);
        }
        Pdu::Other { payload, .. } => {
            w.0.extend_from_slice(payload);
            while w.0.len() % 4 != 0 {
                w.0.push(0);
            }
        }
    }
    let payload = w.0;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.push(1);
    out.push(pdu.type_code());
    out.push(fl);
    out.push(0);
    out.extend_from_slice(&header.session_id.to_be_bytes());
    out.extend_from_slice(&header.transaction_id.to_be_bytes());
    out.extend_from_slice(&header.packet_id.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
