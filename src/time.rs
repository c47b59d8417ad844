//! Integer time helpers. Absolute instants are `i64` nanoseconds since the Unix
//! epoch on the UTC scale (leap seconds not counted, like POSIX time).

/// Nanoseconds since 1970-01-01T00:00:00Z (UTC, POSIX scale).
pub type UnixNanos = i64;

pub const NS_PER_SEC: i64 = 1_000_000_000;
pub const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) for a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// Build a UTC instant from calendar fields; `None` when a field is out of range.
/// `sec` may be 60 (a leap second); it is folded onto the next second's POSIX value.
pub fn utc_from_fields(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    nanos: i64,
) -> Option<UnixNanos> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * SECS_PER_DAY + hour as i64 * 3600 + min as i64 * 60 + sec as i64;
    secs.checked_mul(NS_PER_SEC)?.checked_add(nanos)
}

/// RFC 3339 with whole seconds, e.g. `2021-02-23T18:04:29Z` (sub-second part truncated).
pub fn format_rfc3339(t: UnixNanos) -> String {
    let secs = t.div_euclid(NS_PER_SEC);
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// RFC 3339 with milliseconds, e.g. `2021-02-23T18:04:29.250Z`.
pub fn format_rfc3339_millis(t: UnixNanos) -> String {
    let base = format_rfc3339(t);
    let ms = t.rem_euclid(NS_PER_SEC) / 1_000_000;
    format!("{}.{ms:03}Z", &base[..base.len() - 1])
}

/// Read CLOCK_REALTIME as integer nanoseconds. Shells only; cores take time as a value.
pub fn system_realtime_ns() -> UnixNanos {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    }
}

/// Read CLOCK_MONOTONIC as integer nanoseconds.
pub fn monotonic_ns() -> i64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() * NS_PER_SEC + t.tv_nsec())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for d in [-1_000_000, -1, 0, 1, 10_957, 18_681, 1_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        let t = utc_from_fields(2021, 2, 23, 18, 4, 29, 0).unwrap();
        assert_eq!(format_rfc3339(t), "2021-02-23T18:04:29Z");
        assert_eq!(
            format_rfc3339_millis(t + 250_000_000),
            "2021-02-23T18:04:29.250Z"
        );
        assert!(utc_from_fields(2021, 13, 1, 0, 0, 0, 0).is_none());
    }
}
