//! NTP wire time formats and the one place where NTP eras are resolved.
//!
//! The 64-bit timestamp counts seconds since 1900-01-01 modulo 2^32 (era 0 ends
//! 2036-02-07T06:28:16Z) plus a 32-bit binary fraction. The wire value does not
//! carry its era, so converting back to [`UnixNanos`] needs a pivot instant: the
//! result is the instant congruent to the wire value that lies closest to the
//! pivot (within ±68 years). Callers pass the receive time of the packet.

use crate::time::{UnixNanos, NS_PER_SEC};

/// Seconds from 1900-01-01 (NTP epoch, era 0) to 1970-01-01 (Unix epoch).
pub const NTP_UNIX_OFFSET_SECS: i64 = 2_208_988_800;
/// Length of one NTP era in seconds.
const ERA_SECS: i64 = 1 << 32;

/// An NTP 64-bit timestamp exactly as on the wire (seconds << 32 | fraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct NtpTimestamp(pub u64);

impl NtpTimestamp {
    pub const ZERO: NtpTimestamp = NtpTimestamp(0);

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Encode an instant; the era number is dropped (wire format has none).
    /// The fraction is rounded to the nearest 2^-32 s.
    pub fn from_unix_nanos(t: UnixNanos) -> Self {
        let secs = t.div_euclid(NS_PER_SEC);
        let nanos = t.rem_euclid(NS_PER_SEC) as u64;
        let ntp_secs = (secs + NTP_UNIX_OFFSET_SECS).rem_euclid(ERA_SECS) as u64;
        // nanos < 1e9 so the shifted value fits in u64; round to nearest.
        let frac = ((nanos << 32) + (NS_PER_SEC as u64 / 2)) / NS_PER_SEC as u64;
        // frac < 2^32: 1 ns is coarser than 2^-32 s, so rounding never carries.
        NtpTimestamp((ntp_secs << 32) | (frac & 0xFFFF_FFFF))
    }

    /// Decode to the instant closest to `pivot` that has this wire value.
    pub fn to_unix_nanos(self, pivot: UnixNanos) -> UnixNanos {
        let secs_in_era = (self.0 >> 32) as i64;
        let frac = self.0 & 0xFFFF_FFFF;
        let nanos = ((frac * NS_PER_SEC as u64 + (1 << 31)) >> 32) as i64;
        // Era-0 reading in Unix seconds, then shift by whole eras towards the pivot.
        let base = secs_in_era - NTP_UNIX_OFFSET_SECS;
        let pivot_secs = pivot.div_euclid(NS_PER_SEC);
        let eras = (pivot_secs - base + ERA_SECS / 2).div_euclid(ERA_SECS);
        let secs = base + eras * ERA_SECS;
        secs.saturating_mul(NS_PER_SEC).saturating_add(nanos)
    }

    pub fn to_be_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    pub fn from_be_bytes(b: [u8; 8]) -> Self {
        NtpTimestamp(u64::from_be_bytes(b))
    }
}

/// NTP short format (16.16 seconds) from nanoseconds, rounded UP so a
/// delay/dispersion is never under-reported; saturates at the maximum.
pub fn short_from_nanos_ceil(ns: u64) -> u32 {
    // Fast path in u64 (no 128-bit division on the hot path) below 2^47 ns
    // (~1.6 days); the format saturates at 65536 s anyway.
    if ns < (1 << 47) {
        return u32::try_from((ns << 16).div_ceil(NS_PER_SEC as u64)).unwrap_or(u32::MAX);
    }
    let v = (u128::from(ns) << 16).div_ceil(NS_PER_SEC as u128);
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// NTP short format to nanoseconds (rounded to nearest).
pub fn short_to_nanos(v: u32) -> u64 {
    ((u64::from(v) * NS_PER_SEC as u64) + (1 << 15)) >> 16
}

/// Signed difference `a - b` of two instants in ns as f64 seconds (for logs).
pub fn diff_secs(a: UnixNanos, b: UnixNanos) -> f64 {
    (a.saturating_sub(b)) as f64 / NS_PER_SEC as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::utc_from_fields;

    #[test]
    fn unix_epoch_is_known_ntp_value() {
        let ts = NtpTimestamp::from_unix_nanos(0);
        assert_eq!(ts.0 >> 32, 2_208_988_800);
        assert_eq!(ts.0 & 0xFFFF_FFFF, 0);
        assert_eq!(ts.to_unix_nanos(0), 0);
    }

    #[test]
    fn half_second_fraction() {
        let ts = NtpTimestamp::from_unix_nanos(500_000_000);
        assert_eq!(ts.0 & 0xFFFF_FFFF, 0x8000_0000);
    }

    #[test]
    fn round_trip_is_within_one_ns() {
        let now = utc_from_fields(2026, 11, 21, 12, 0, 0, 0).unwrap();
        for d in [0, 1, 999_999_999, 123_456_789, -1, -999_999_999] {
            let t = now + d;
            let back = NtpTimestamp::from_unix_nanos(t).to_unix_nanos(now);
            assert!((back - t).abs() <= 1, "{t} -> {back}");
        }
    }

    #[test]
    fn last_nanosecond_stays_in_its_second() {
        // 2^-32 s is finer than 1 ns, so rounding never carries into the seconds.
        let t = 1_700_000_000 * NS_PER_SEC + 999_999_999;
        let ts = NtpTimestamp::from_unix_nanos(t);
        assert_eq!((ts.0 >> 32) as i64, 1_700_000_000 + NTP_UNIX_OFFSET_SECS);
        assert_eq!(ts.to_unix_nanos(t), t);
    }

    #[test]
    fn era_rollover_2036() {
        // Era 0 ends at 2036-02-07T06:28:16Z; the next second is era 1, seconds 0.
        let end = utc_from_fields(2036, 2, 7, 6, 28, 16, 0).unwrap();
        let before = end - NS_PER_SEC;
        let ts_before = NtpTimestamp::from_unix_nanos(before);
        let ts_end = NtpTimestamp::from_unix_nanos(end);
        assert_eq!(ts_before.0 >> 32, 0xFFFF_FFFF);
        assert_eq!(ts_end.0 >> 32, 0);
        // Decoding with a pivot on either side of the rollover lands in the right era.
        assert_eq!(ts_end.to_unix_nanos(before), end);
        assert_eq!(ts_before.to_unix_nanos(end), before);
        let later = end + 10 * 365 * 86_400 * NS_PER_SEC;
        assert_eq!(
            NtpTimestamp::from_unix_nanos(later).to_unix_nanos(later),
            later
        );
        // A 2030 timestamp decoded from 2040 stays in era 0.
        let y2030 = utc_from_fields(2030, 1, 1, 0, 0, 0, 0).unwrap();
        let y2040 = utc_from_fields(2040, 1, 1, 0, 0, 0, 0).unwrap();
        assert_eq!(
            NtpTimestamp::from_unix_nanos(y2030).to_unix_nanos(y2040),
            y2030
        );
    }

    #[test]
    fn short_format_rounds_up() {
        assert_eq!(short_from_nanos_ceil(0), 0);
        assert_eq!(short_from_nanos_ceil(1), 1);
        assert_eq!(short_from_nanos_ceil(NS_PER_SEC as u64), 0x0001_0000);
        // 15.258789 us is exactly one unit; one ns more needs two.
        assert_eq!(short_from_nanos_ceil(15_259), 2);
        assert_eq!(short_from_nanos_ceil(u64::MAX), u32::MAX);
        // Both sides of the fast-path boundary agree with exact arithmetic.
        for ns in [(1u64 << 47) - 1, 1 << 47, 65_535 * NS_PER_SEC as u64] {
            let exact = (u128::from(ns) << 16).div_ceil(NS_PER_SEC as u128);
            assert_eq!(
                u128::from(short_from_nanos_ceil(ns)),
                exact.min(u128::from(u32::MAX))
            );
        }
        assert!(short_to_nanos(short_from_nanos_ceil(1_234_567)) >= 1_234_567);
    }
}
