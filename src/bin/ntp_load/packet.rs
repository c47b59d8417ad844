//! The 48-byte NTP client request the generator sends and the checks it runs
//! on every reply. Pure functions: no sockets, no clocks.

/// Length of an NTP header without extension fields or MAC.
pub const NTP_LEN: usize = 48;

const MODE_CLIENT: u8 = 3;
const MODE_SERVER: u8 = 4;
const VERSION: u8 = 4;
const ORIGIN_AT: usize = 24;
const TRANSMIT_AT: usize = 40;

/// Why a reply was not counted as answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Invalid {
    /// Fewer than 48 bytes.
    Short,
    /// Mode other than 4 (server).
    Mode,
    /// Version other than the one we sent.
    Version,
    /// Kiss-o'-Death (stratum 0).
    Kod,
    /// Origin timestamp matches nothing we have outstanding.
    UnknownOrigin,
    /// Origin matches a request that was already answered.
    Duplicate,
    /// Reply arrived on a different socket than the request left from.
    WrongSocket,
    /// Stratum differs from `--expect-stratum`.
    Stratum,
    /// Leap indicator differs from `--expect-leap`.
    Leap,
    /// Transmit timestamp is zero (a server must always set it).
    ZeroTransmit,
}

impl Invalid {
    pub const ALL: [Invalid; 10] = [
        Invalid::Short,
        Invalid::Mode,
        Invalid::Version,
        Invalid::Kod,
        Invalid::UnknownOrigin,
        Invalid::Duplicate,
        Invalid::WrongSocket,
        Invalid::Stratum,
        Invalid::Leap,
        Invalid::ZeroTransmit,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Invalid::Short => "short",
            Invalid::Mode => "mode",
            Invalid::Version => "version",
            Invalid::Kod => "kod",
            Invalid::UnknownOrigin => "unknown_origin",
            Invalid::Duplicate => "duplicate",
            Invalid::WrongSocket => "wrong_socket",
            Invalid::Stratum => "stratum",
            Invalid::Leap => "leap",
            Invalid::ZeroTransmit => "zero_transmit",
        }
    }
}

/// What the caller expects of every reply beyond the protocol basics.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect {
    pub stratum: Option<u8>,
    pub leap: Option<u8>,
}

/// Writes a client request whose transmit timestamp is `cookie`.
///
/// The cookie is random per request, so the origin timestamp in a reply
/// identifies exactly one request (as RFC 5905 clients that randomize the
/// transmit timestamp, like chrony, rely on).
pub fn write_request(buf: &mut [u8; NTP_LEN], cookie: u64) {
    *buf = [0; NTP_LEN];
    buf[0] = (VERSION << 3) | MODE_CLIENT; // LI 0, VN 4, mode 3
    buf[2] = 6; // poll 2^6 s, a typical client value
    buf[3] = 0xec; // precision -20
    buf[TRANSMIT_AT..TRANSMIT_AT + 8].copy_from_slice(&cookie.to_be_bytes());
}

fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = buf.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// The origin timestamp of a reply, if it is long enough to carry one.
pub fn origin_of(buf: &[u8]) -> Option<u64> {
    if buf.len() < NTP_LEN {
        return None;
    }
    u64_at(buf, ORIGIN_AT)
}

/// Checks the header of a reply (everything except matching the origin to
/// an outstanding request) and returns its origin timestamp.
pub fn check_reply(buf: &[u8], expect: &Expect) -> Result<u64, Invalid> {
    let (Some(&b0), Some(&stratum), Some(origin), Some(transmit)) = (
        buf.first(),
        buf.get(1),
        origin_of(buf),
        u64_at(buf, TRANSMIT_AT),
    ) else {
        return Err(Invalid::Short);
    };
    let leap = b0 >> 6;
    let version = (b0 >> 3) & 7;
    let mode = b0 & 7;
    if mode != MODE_SERVER {
        return Err(Invalid::Mode);
    }
    if version != VERSION {
        return Err(Invalid::Version);
    }
    if stratum == 0 {
        return Err(Invalid::Kod);
    }
    if expect.stratum.is_some_and(|s| s != stratum) {
        return Err(Invalid::Stratum);
    }
    if expect.leap.is_some_and(|l| l != leap) {
        return Err(Invalid::Leap);
    }
    if transmit == 0 {
        return Err(Invalid::ZeroTransmit);
    }
    Ok(origin)
}

/// Turns a request into a reply in place with the fewest byte changes that
/// pass [`check_reply`]: transmit → origin, mode 4, stratum 1, LI 0. The
/// transmit field keeps the client's (non-zero) value. Used by the bare
/// reflector; it is deliberately not an NTP server.
pub fn reflect_in_place(buf: &mut [u8]) -> bool {
    if buf.len() < NTP_LEN {
        return false;
    }
    let version = (buf[0] >> 3) & 7;
    buf[0] = (version << 3) | MODE_SERVER;
    buf[1] = 1;
    buf.copy_within(TRANSMIT_AT..TRANSMIT_AT + 8, ORIGIN_AT);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_for(cookie: u64) -> [u8; NTP_LEN] {
        let mut b = [0u8; NTP_LEN];
        write_request(&mut b, cookie);
        assert!(reflect_in_place(&mut b));
        b
    }

    #[test]
    fn request_layout() {
        let mut b = [0xffu8; NTP_LEN];
        write_request(&mut b, 0x0102_0304_0506_0708);
        assert_eq!(b[0], 0x23);
        assert_eq!(&b[40..48], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&b[24..32], &[0; 8]);
    }

    #[test]
    fn reflected_request_is_valid_and_echoes_cookie() {
        let b = reply_for(0xdead_beef_0000_0007);
        let e = Expect {
            stratum: Some(1),
            leap: Some(0),
        };
        assert_eq!(check_reply(&b, &e), Ok(0xdead_beef_0000_0007));
    }

    #[test]
    fn each_check_can_fail() {
        let e = Expect {
            stratum: Some(1),
            leap: Some(0),
        };
        let good = reply_for(42);
        assert_eq!(check_reply(&good[..47], &e), Err(Invalid::Short));
        let mut b = good;
        b[0] = (4 << 3) | 3;
        assert_eq!(check_reply(&b, &e), Err(Invalid::Mode));
        let mut b = good;
        b[0] = (3 << 3) | 4;
        assert_eq!(check_reply(&b, &e), Err(Invalid::Version));
        let mut b = good;
        b[1] = 0;
        assert_eq!(check_reply(&b, &e), Err(Invalid::Kod));
        let mut b = good;
        b[1] = 2;
        assert_eq!(check_reply(&b, &e), Err(Invalid::Stratum));
        let mut b = good;
        b[0] |= 3 << 6;
        assert_eq!(check_reply(&b, &e), Err(Invalid::Leap));
        let mut b = good;
        b[40..48].fill(0);
        assert_eq!(check_reply(&b, &e), Err(Invalid::ZeroTransmit));
        // With no expectations, other strata and leap values pass.
        let mut b = good;
        b[1] = 16;
        b[0] |= 3 << 6;
        assert_eq!(check_reply(&b, &Expect::default()), Ok(42));
    }

    #[test]
    fn reflect_refuses_short_packets() {
        let mut b = [0u8; 47];
        assert!(!reflect_in_place(&mut b));
    }
}
