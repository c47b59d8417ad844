//! NTP packet layout (RFC 5905 header, RFC 7822 extension fields, legacy MAC).
//! Parsing never panics: every access is bounds-checked and errors are typed.

use super::timestamp::NtpTimestamp;
use thiserror::Error;

pub const HEADER_LEN: usize = 48;
/// Largest legacy MAC trailer: 4-byte key id + 20-byte SHA1 digest.
pub const MAX_MAC_LEN: usize = 24;
/// Smallest extension field (RFC 7822).
const MIN_EXT_LEN: usize = 16;

pub const MODE_SYMMETRIC_ACTIVE: u8 = 1;
pub const MODE_SYMMETRIC_PASSIVE: u8 = 2;
pub const MODE_CLIENT: u8 = 3;
pub const MODE_SERVER: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PacketError {
    #[error("packet shorter than the 48-byte header")]
    Truncated,
    #[error("malformed extension field")]
    BadExtension,
    #[error("trailer is neither extension fields nor a MAC")]
    BadTrailer,
}

/// The fixed 48-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub leap: u8,
    pub version: u8,
    pub mode: u8,
    pub stratum: u8,
    pub poll: i8,
    pub precision: i8,
    pub root_delay: u32,
    pub root_dispersion: u32,
    pub refid: [u8; 4],
    pub reference: NtpTimestamp,
    pub origin: NtpTimestamp,
    pub receive: NtpTimestamp,
    pub transmit: NtpTimestamp,
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_be_bytes(a)
}

fn be_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_be_bytes(a)
}

impl Header {
    pub fn parse(buf: &[u8]) -> Result<Header, PacketError> {
        let h = buf.get(..HEADER_LEN).ok_or(PacketError::Truncated)?;
        let b0 = h[0];
        let refid = [h[12], h[13], h[14], h[15]];
        Ok(Header {
            leap: b0 >> 6,
            version: (b0 >> 3) & 0x7,
            mode: b0 & 0x7,
            stratum: h[1],
            poll: h[2] as i8,
            precision: h[3] as i8,
            root_delay: be_u32(h, 4),
            root_dispersion: be_u32(h, 8),
            refid,
            reference: NtpTimestamp(be_u64(h, 16)),
            origin: NtpTimestamp(be_u64(h, 24)),
            receive: NtpTimestamp(be_u64(h, 32)),
            transmit: NtpTimestamp(be_u64(h, 40)),
        })
    }

    /// Write the header into the first 48 bytes of `out` (which must hold them).
    pub fn write(&self, out: &mut [u8; HEADER_LEN]) {
        out[0] = (self.leap & 3) << 6 | (self.version & 7) << 3 | (self.mode & 7);
        out[1] = self.stratum;
        out[2] = self.poll as u8;
        out[3] = self.precision as u8;
        out[4..8].copy_from_slice(&self.root_delay.to_be_bytes());
        out[8..12].copy_from_slice(&self.root_dispersion.to_be_bytes());
        out[12..16].copy_from_slice(&self.refid);
        out[16..24].copy_from_slice(&self.reference.to_be_bytes());
        out[24..32].copy_from_slice(&self.origin.to_be_bytes());
        out[32..40].copy_from_slice(&self.receive.to_be_bytes());
        out[40..48].copy_from_slice(&self.transmit.to_be_bytes());
    }
}

/// What follows the extension fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trailer {
    None,
    /// A 4-byte zero field (RFC 5905 crypto-NAK); meaningless in a request.
    CryptoNak,
    /// Legacy symmetric-key MAC: key id at `offset`, digest after it.
    Mac {
        key_id: u32,
        offset: usize,
        digest_len: usize,
    },
}

/// Layout of everything after the header: extension fields end at `ext_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub ext_end: usize,
    pub ext_count: usize,
    pub trailer: Trailer,
}

/// Classify the bytes after the header (RFC 7822 rules): a remainder of 20 or
/// 24 bytes is a MAC, 4 zero bytes a crypto-NAK, anything of 28 bytes or more
/// (NTPv4 only) starts an extension field. Anything else is malformed.
pub fn layout(buf: &[u8], version: u8) -> Result<Layout, PacketError> {
    if buf.len() < HEADER_LEN {
        return Err(PacketError::Truncated);
    }
    let mut pos = HEADER_LEN;
    let mut ext_count = 0;
    loop {
        let rest = buf.len() - pos;
        match rest {
            0 => {
                return Ok(Layout {
                    ext_end: pos,
                    ext_count,
                    trailer: Trailer::None,
                })
            }
            4 if be_u32(buf, pos) == 0 => {
                return Ok(Layout {
                    ext_end: pos,
                    ext_count,
                    trailer: Trailer::CryptoNak,
                })
            }
            20 | 24 => {
                return Ok(Layout {
                    ext_end: pos,
                    ext_count,
                    trailer: Trailer::Mac {
                        key_id: be_u32(buf, pos),
                        offset: pos,
                        digest_len: rest - 4,
                    },
                })
            }
            r if r >= 28 && version == 4 => {
                let len = (be_u32(buf, pos) & 0xFFFF) as usize;
                if len < MIN_EXT_LEN || len % 4 != 0 || len > rest {
                    return Err(PacketError::BadExtension);
                }
                pos += len;
                ext_count += 1;
            }
            _ => return Err(PacketError::BadTrailer),
        }
    }
}

/// One extension field (type and value, value without padding removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionField<'a> {
    pub field_type: u16,
    pub value: &'a [u8],
}

/// Iterate the extension fields of a packet whose [`Layout`] was validated.
/// Room for NTS (RFC 8915): its fields arrive through here.
pub fn extension_fields<'a>(
    buf: &'a [u8],
    layout: &Layout,
) -> impl Iterator<Item = ExtensionField<'a>> + 'a {
    let region = buf.get(HEADER_LEN..layout.ext_end).unwrap_or(&[]);
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let head = region.get(pos..pos + 4)?;
        let field_type = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let value = region.get(pos + 4..pos + len)?;
        pos += len.max(4);
        Some(ExtensionField { field_type, value })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_bytes(version: u8, mode: u8) -> Vec<u8> {
        let mut b = vec![0u8; 48];
        b[0] = version << 3 | mode;
        b
    }

    #[test]
    fn header_round_trip() {
        let h = Header {
            leap: 3,
            version: 4,
            mode: 3,
            stratum: 2,
            poll: -6,
            precision: -23,
            root_delay: 7,
            root_dispersion: 9,
            refid: *b"GPS\0",
            reference: NtpTimestamp(1),
            origin: NtpTimestamp(2),
            receive: NtpTimestamp(3),
            transmit: NtpTimestamp(0xDEAD_BEEF_0102_0304),
        };
        let mut out = [0u8; 48];
        h.write(&mut out);
        assert_eq!(Header::parse(&out), Ok(h));
        assert_eq!(out[0], 0b11_100_011);
    }

    #[test]
    fn truncated_is_error() {
        assert_eq!(Header::parse(&[0u8; 47]), Err(PacketError::Truncated));
        assert_eq!(layout(&[0u8; 10], 4), Err(PacketError::Truncated));
    }

    #[test]
    fn mac_and_extension_layouts() {
        let mut b = header_bytes(4, 3);
        assert_eq!(layout(&b, 4).unwrap().trailer, Trailer::None);
        b.extend_from_slice(&[0, 0, 0, 5]);
        b.extend_from_slice(&[0xAA; 16]);
        assert_eq!(
            layout(&b, 4).unwrap().trailer,
            Trailer::Mac {
                key_id: 5,
                offset: 48,
                digest_len: 16
            }
        );
        // One 32-byte extension field followed by a SHA1 MAC.
        let mut e = header_bytes(4, 3);
        e.extend_from_slice(&[0x01, 0x04, 0, 32]);
        e.extend_from_slice(&[7u8; 28]);
        e.extend_from_slice(&[0, 0, 0, 9]);
        e.extend_from_slice(&[0xBB; 20]);
        let l = layout(&e, 4).unwrap();
        assert_eq!(l.ext_count, 1);
        assert_eq!(l.ext_end, 80);
        let fields: Vec<_> = extension_fields(&e, &l).collect();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].field_type, 0x0104);
        assert_eq!(fields[0].value.len(), 28);
        assert!(matches!(
            l.trailer,
            Trailer::Mac {
                key_id: 9,
                digest_len: 20,
                ..
            }
        ));
    }

    #[test]
    fn malformed_extensions_rejected() {
        // Length field larger than the packet.
        let mut e = header_bytes(4, 3);
        e.extend_from_slice(&[0, 1, 0x01, 0]);
        e.extend_from_slice(&[0u8; 28]);
        assert_eq!(layout(&e, 4), Err(PacketError::BadExtension));
        // Length not a multiple of 4.
        let mut e = header_bytes(4, 3);
        e.extend_from_slice(&[0, 1, 0, 30]);
        e.extend_from_slice(&[0u8; 28]);
        assert_eq!(layout(&e, 4), Err(PacketError::BadExtension));
        // Zero length would loop forever if accepted.
        let mut e = header_bytes(4, 3);
        e.extend_from_slice(&[0u8; 32]);
        assert_eq!(layout(&e, 4), Err(PacketError::BadExtension));
        // Odd remainder.
        let mut e = header_bytes(4, 3);
        e.extend_from_slice(&[1u8; 7]);
        assert_eq!(layout(&e, 4), Err(PacketError::BadTrailer));
        // NTPv3 has no extension fields.
        let mut e = header_bytes(3, 3);
        e.extend_from_slice(&[0, 1, 0, 32]);
        e.extend_from_slice(&[0u8; 28]);
        assert_eq!(layout(&e, 3), Err(PacketError::BadTrailer));
    }
}
