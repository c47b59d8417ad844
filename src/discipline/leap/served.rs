//! What the server shows around a leap second, as pure functions of the true
//! instant, so each mode's second sequence can be checked directly.
//!
//! The true instant is given on the *pre-leap* scale: a continuous count of SI
//! nanoseconds equal to POSIX UTC before the leap (TAI − TAI−UTC-before). On
//! that scale a positive leap second occupies `[T, T + 1 s)` and a negative one
//! removes `[T − 1 s, T)`, where `T` is [`PendingLeap::at_utc_ns`].

use serde::Serialize;

use crate::server_fields::LeapIndicator;
use crate::time::{civil_from_days, NS_PER_SEC, SECS_PER_DAY};

use super::{LeapMode, PendingLeap};

/// A UTC label with a second field that may read 60.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UtcLabel {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    /// 0..=60.
    pub second: u32,
    pub nanos: u32,
}

impl UtcLabel {
    /// The label of a POSIX instant (second never 60).
    pub fn from_posix_ns(t: i64) -> Self {
        let secs = t.div_euclid(NS_PER_SEC);
        let days = secs.div_euclid(SECS_PER_DAY);
        let sod = secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: (sod / 3600) as u32,
            minute: ((sod / 60) % 60) as u32,
            second: (sod % 60) as u32,
            nanos: t.rem_euclid(NS_PER_SEC) as u32,
        }
    }

    /// 23:59:60.x of the day ending at `day_end_posix_ns`.
    fn leap_second(day_end_posix_ns: i64, nanos: i64) -> Self {
        let mut l = Self::from_posix_ns(day_end_posix_ns - NS_PER_SEC);
        l.second = 60;
        l.nanos = nanos.clamp(0, NS_PER_SEC - 1) as u32;
        l
    }
}

/// What the server serves at one true instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServedTime {
    pub label: UtcLabel,
    /// What the served clock reads on the POSIX scale (repeats during an
    /// inserted second in kernel mode).
    pub posix_ns: i64,
    pub leap_indicator: LeapIndicator,
}

/// Leap indicator to advertise at a served POSIX reading: during the last
/// day before the leap (including an inserted second), never in smear mode.
pub fn leap_indicator_at(
    leap: Option<PendingLeap>,
    mode: LeapMode,
    posix_ns: i64,
    inside_inserted_second: bool,
) -> LeapIndicator {
    let Some(l) = leap else {
        return LeapIndicator::NoWarning;
    };
    if mode == LeapMode::Smear {
        return LeapIndicator::NoWarning;
    }
    let day_start = l.at_utc_ns.saturating_sub(SECS_PER_DAY * NS_PER_SEC);
    // A deleted second ends the day one second early.
    let end = if l.insert {
        l.at_utc_ns
    } else {
        l.at_utc_ns - NS_PER_SEC
    };
    if (posix_ns >= day_start && posix_ns < end) || (l.insert && inside_inserted_second) {
        if l.insert {
            LeapIndicator::InsertSecond
        } else {
            LeapIndicator::DeleteSecond
        }
    } else {
        LeapIndicator::NoWarning
    }
}

/// Fraction of the leap second absorbed by the smear at pre-leap-scale
/// instant `t`, in ns of the second (0 ..= 1 s), linear over
/// `[T − half, T + half]`.
fn smear_progress_ns(t: i64, at: i64, half_window_ns: i64) -> i64 {
    let half = half_window_ns.max(1);
    let start = at.saturating_sub(half);
    let done = t.saturating_sub(start).clamp(0, half.saturating_mul(2));
    // ns of the second absorbed so far = done / (2 half) · 1 s, in i128 to
    // avoid overflow of the product.
    ((done as i128 * NS_PER_SEC as i128) / (2 * half) as i128) as i64
}

/// Served time at a true (pre-leap-scale) instant.
///
/// * `Kernel`: the kernel inserts 23:59:60 (the POSIX reading repeats the
///   last second) or jumps over 23:59:59.
/// * `Step`: the clock is stepped by ∓1 s at the leap instant; a positive leap
///   shows 23:59:59 twice instead of 23:59:60.
/// * `Smear`: served time runs slow (fast) by 1/(2·half) over
///   `[T − half, T + half]`, never shows 60, never repeats, and is exactly one
///   second behind (ahead of) the pre-leap scale afterwards.
pub fn served_at(
    true_ns: i64,
    leap: Option<PendingLeap>,
    mode: LeapMode,
    smear_half_window_ns: i64,
) -> ServedTime {
    let plain = |posix: i64, li| ServedTime {
        label: UtcLabel::from_posix_ns(posix),
        posix_ns: posix,
        leap_indicator: li,
    };
    let Some(l) = leap else {
        return plain(true_ns, LeapIndicator::NoWarning);
    };
    let t = l.at_utc_ns;
    match (mode, l.insert) {
        (LeapMode::Smear, insert) => {
            let p = smear_progress_ns(true_ns, t, smear_half_window_ns);
            let posix = if insert { true_ns - p } else { true_ns + p };
            plain(posix, LeapIndicator::NoWarning)
        }
        (LeapMode::Kernel, true) | (LeapMode::Step, true) => {
            if true_ns < t {
                plain(true_ns, leap_indicator_at(leap, mode, true_ns, false))
            } else if true_ns < t + NS_PER_SEC {
                let posix = true_ns - NS_PER_SEC;
                let li = leap_indicator_at(leap, mode, posix, true);
                let label = if mode == LeapMode::Kernel {
                    UtcLabel::leap_second(t, true_ns - t)
                } else {
                    UtcLabel::from_posix_ns(posix)
                };
                ServedTime {
                    label,
                    posix_ns: posix,
                    leap_indicator: li,
                }
            } else {
                let posix = true_ns - NS_PER_SEC;
                plain(posix, leap_indicator_at(leap, mode, posix, false))
            }
        }
        (LeapMode::Kernel, false) | (LeapMode::Step, false) => {
            let posix = if true_ns < t - NS_PER_SEC {
                true_ns
            } else {
                true_ns + NS_PER_SEC
            };
            plain(posix, leap_indicator_at(leap, mode, posix, false))
        }
    }
}

/// Offset to add to a POSIX clock reading (a clock that follows UTC with a
/// kernel-style leap) to obtain smeared served time. `inside_inserted_second`
/// is the kernel's TIME_OOP state: during an inserted second the clock repeats
/// `T − 1 s` and only this flag tells the two passes apart.
pub fn smear_offset_ns(
    leap: PendingLeap,
    posix_ns: i64,
    inside_inserted_second: bool,
    half_window_ns: i64,
) -> i64 {
    let t = leap.at_utc_ns;
    // Back onto the pre-leap scale.
    let true_ns = if leap.insert {
        if inside_inserted_second || posix_ns >= t {
            posix_ns + NS_PER_SEC
        } else {
            posix_ns
        }
    } else if posix_ns >= t {
        posix_ns - NS_PER_SEC
    } else {
        posix_ns
    };
    let served = served_at(true_ns, Some(leap), LeapMode::Smear, half_window_ns).posix_ns;
    served - posix_ns
}
