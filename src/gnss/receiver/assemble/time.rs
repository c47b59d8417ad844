//! Epoch time, GPS week/TOW (1024-week rollover), leap seconds and the time
//! pulse.

use super::{Memory, Pending};
use crate::gnss::message::*;
use crate::gnss::*;
use crate::time::{days_from_civil, utc_from_fields, UnixNanos, NS_PER_SEC};

/// 1980-01-06T00:00:00Z, the GPS epoch, in Unix seconds.
pub const GPS_EPOCH_UNIX_S: i64 = 315_964_800;
const SECS_PER_WEEK: i64 = 604_800;
const MS_PER_DAY: u32 = 86_400_000;

/// Full GPS week for a week number that may be modulo 1024: numbers of 1024
/// and above are already full; smaller ones map to the first week at or after
/// `pivot` with the same value modulo 1024.
pub fn resolve_week(week: u32, pivot: u32) -> u32 {
    if week >= 1024 {
        return week;
    }
    let base = pivot - pivot % 1024;
    let w = base.saturating_add(week);
    if w < pivot {
        w.saturating_add(1024)
    } else {
        w
    }
}

/// GPS week + time of week (ms and extra ns) minus `leap_s` → UTC Unix ns.
pub fn gps_to_unix_ns(week: u32, tow_ms: u32, extra_ns: i64, leap_s: i16) -> UnixNanos {
    let secs = GPS_EPOCH_UNIX_S + week as i64 * SECS_PER_WEEK - leap_s as i64;
    secs * NS_PER_SEC + tow_ms as i64 * 1_000_000 + extra_ns
}

impl Pending {
    /// GPS week/TOW and leap information; updates the remembered leap.
    pub(super) fn leap_and_gps_time(&self, mem: &mut Memory, e: &mut GnssEpoch) {
        let gps_week_tow = if let Some(t) = &self.timegps {
            (t.valid & 0x03 == 0x03 && t.week > 0)
                .then(|| (resolve_week(t.week as u32, mem.pivot_week), t.itow_ms))
        } else if let Some(s) = &self.sol {
            (s.flags & 0x0C == 0x0C && s.week > 0)
                .then(|| (resolve_week(s.week as u32, mem.pivot_week), s.itow_ms))
        } else {
            None
        };
        e.gps_time = gps_week_tow.map(|(week, tow_ms)| GpsTime { week, tow_ms });
        let epoch_gps_s = e
            .gps_time
            .map(|g| g.week as i64 * SECS_PER_WEEK + g.tow_ms as i64 / 1000);

        let utc_unknown = self
            .timeutc
            .as_ref()
            .is_some_and(|t| t.valid & NavTimeUtc::VALID_UTC == 0);

        let mut leap = None;
        if let Some(ls) = &self.timels {
            let valid = ls.valid & 0x01 != 0;
            let origin = match ls.src_of_curr_ls {
                0 => TimeOrigin::FirmwareDefault,
                255 => TimeOrigin::Unknown,
                _ => TimeOrigin::Satellites,
            };
            if ls.valid & 0x02 != 0 && ls.ls_change != 0 {
                mem.leap_event_gps_s = epoch_gps_s.map(|g| g + ls.time_to_ls_event_s as i64);
            } else if ls.valid & 0x02 != 0 {
                mem.leap_event_gps_s = None;
            }
            leap = Some(LeapInfo {
                current: ls.curr_ls as i16,
                change: ls.ls_change,
                time_to_change_s: (ls.valid & 0x02 != 0 && ls.ls_change != 0)
                    .then_some(ls.time_to_ls_event_s as i64),
                valid,
                origin,
            });
        } else if let Some(t) = &self.timegps {
            let valid = t.valid & 0x04 != 0;
            leap = Some(LeapInfo {
                current: t.leap_s as i16,
                change: 0,
                time_to_change_s: None,
                valid,
                origin: if valid {
                    TimeOrigin::Satellites
                } else {
                    TimeOrigin::FirmwareDefault
                },
            });
        } else if let Some(Pubx::Time {
            leap_s: Some(l),
            leap_is_default,
            ..
        }) = &self.pubx_time
        {
            leap = Some(LeapInfo {
                current: *l,
                change: 0,
                time_to_change_s: None,
                valid: !leap_is_default,
                origin: if *leap_is_default {
                    TimeOrigin::FirmwareDefault
                } else {
                    TimeOrigin::Satellites
                },
            });
        }
        if let Some(l) = leap.as_mut() {
            if utc_unknown {
                // The receiver does not yet have UTC parameters: whatever leap
                // count it uses is its firmware default.
                l.valid = false;
                l.origin = TimeOrigin::FirmwareDefault;
            }
            if l.time_to_change_s.is_none() {
                if let (Some(ev), Some(now)) = (mem.leap_event_gps_s, epoch_gps_s) {
                    if ev > now {
                        l.time_to_change_s = Some(ev - now);
                    }
                }
            }
            if l.valid {
                mem.leap_s = Some(l.current);
            }
        }
        // NAV-PVT/NAV-TIMEUTC with GPS time give the leap count used by the receiver.
        if mem.leap_s.is_none() {
            if let (Some(utc), Some(g)) = (self.ubx_utc_ns(), e.gps_time) {
                let gps_ns = gps_to_unix_ns(g.week, g.tow_ms, 0, 0);
                let diff = (gps_ns - utc).div_euclid(NS_PER_SEC / 2);
                let secs = (diff + 1).div_euclid(2);
                if (0..=100).contains(&secs) && !utc_unknown {
                    mem.leap_s = Some(secs as i16);
                }
            }
        }
        e.leap = leap;
    }

    /// UTC from NAV-PVT or NAV-TIMEUTC, whatever its validity.
    fn ubx_utc_ns(&self) -> Option<UnixNanos> {
        if let Some(p) = &self.pvt {
            return utc_from_fields(
                p.year as i64,
                p.month as u32,
                p.day as u32,
                p.hour as u32,
                p.min as u32,
                p.sec as u32,
                p.nano as i64,
            );
        }
        if let Some(t) = &self.timeutc {
            return utc_from_fields(
                t.year as i64,
                t.month as u32,
                t.day as u32,
                t.hour as u32,
                t.min as u32,
                t.sec as u32,
                t.nano as i64,
            );
        }
        None
    }

    pub(super) fn epoch_time(&self, mem: &mut Memory, e: &GnssEpoch) -> Option<EpochTime> {
        if let Some(p) = &self.pvt {
            let valid_date = p.valid & NavPvt::VALID_DATE != 0;
            let valid_time = p.valid & NavPvt::VALID_TIME != 0;
            if p.year > 0 || valid_date {
                return self.ubx_utc_ns().map(|utc_ns| EpochTime {
                    utc_ns,
                    valid_date,
                    valid_time,
                    fully_resolved: p.valid & NavPvt::FULLY_RESOLVED != 0,
                    tacc_ns: Some(p.t_acc_ns as u64),
                    source: "NAV-PVT",
                });
            }
        }
        if let Some(t) = &self.timeutc {
            let utc = t.valid & NavTimeUtc::VALID_UTC != 0;
            if utc || t.year > 0 {
                let tow_wkn = t.valid & 0x03 == 0x03;
                return self.ubx_utc_ns().map(|utc_ns| EpochTime {
                    utc_ns,
                    valid_date: utc && tow_wkn,
                    valid_time: utc && t.valid & NavTimeUtc::VALID_TOW != 0,
                    fully_resolved: utc && tow_wkn,
                    tacc_ns: Some(t.t_acc_ns as u64),
                    source: "NAV-TIMEUTC",
                });
            }
        }
        if let (Some(g), Some(leap)) = (e.gps_time, mem.leap_s) {
            let (ftow, tacc, source) = match (&self.timegps, &self.sol) {
                (Some(t), _) => (t.ftow_ns as i64, Some(t.t_acc_ns as u64), "NAV-TIMEGPS"),
                (None, Some(s)) => (s.ftow_ns as i64, None, "NAV-SOL"),
                _ => (0, None, "GPS"),
            };
            return Some(EpochTime {
                utc_ns: gps_to_unix_ns(g.week, g.tow_ms, ftow, leap),
                valid_date: true,
                valid_time: true,
                fully_resolved: e.leap.is_some_and(|l| l.valid),
                tacc_ns: tacc,
                source,
            });
        }
        self.nmea_time(mem)
    }

    fn nmea_time(&self, mem: &mut Memory) -> Option<EpochTime> {
        let (time, date, source) = if let Some(r) = self.rmc.as_ref().filter(|r| r.time.is_some()) {
            (r.time, r.date, "RMC")
        } else if let Some(z) = self.zda.as_ref().filter(|z| z.time.is_some()) {
            (z.time, z.date, "ZDA")
        } else if let Some(Pubx::Time { time, date, .. }) = &self.pubx_time {
            (*time, *date, "PUBX,04")
        } else if let Some(g) = self.gga.as_ref().filter(|g| g.time.is_some()) {
            (g.time, None, "GGA")
        } else if let Some(g) = self.gns.as_ref().filter(|g| g.time.is_some()) {
            (g.time, None, "GNS")
        } else {
            return None;
        };
        let time = time?;
        // Date from this epoch (RMC or ZDA), else the last known one.
        let date = date.or(self.zda.as_ref().and_then(|z| z.date));
        let ms = time.ms_of_day();
        let (date, valid_date) = match date {
            Some(d) => (Some(d), true),
            None => match mem.nmea_date {
                // Time of day went backwards by more than half a day: midnight passed.
                Some((d, last_ms)) if ms + MS_PER_DAY / 2 < last_ms => (next_day(d), false),
                Some((d, _)) => (Some(d), false),
                None => (None, false),
            },
        };
        let date = date?;
        mem.nmea_date = Some((date, ms));
        let utc_ns = utc_from_fields(
            date.year as i64,
            date.month as u32,
            date.day as u32,
            time.hour as u32,
            time.min as u32,
            time.sec as u32,
            time.nanos as i64,
        )?;
        Some(EpochTime {
            utc_ns,
            valid_date,
            valid_time: true,
            fully_resolved: valid_date,
            tacc_ns: None,
            source,
        })
    }

    pub(super) fn time_pulse(&self, mem: &Memory) -> Option<TimePulse> {
        let tp = self.tim_tp.as_ref()?;
        let week = resolve_week(tp.week as u32, mem.pivot_week);
        let utc_based = tp.flags & TimTp::TIMEBASE_UTC != 0;
        // towSubMS is in 2^-32 ms.
        let sub_ns = ((tp.tow_sub_ms as u64 * 1_000_000) >> 32) as i64;
        let leap = if utc_based { Some(0) } else { mem.leap_s }?;
        Some(TimePulse {
            utc_ns: gps_to_unix_ns(week, tp.tow_ms, sub_ns, leap),
            qerr_ps: (tp.flags & TimTp::QERR_INVALID == 0).then_some(tp.q_err_ps as i64),
            utc_based,
            utc_valid: tp.flags & TimTp::UTC_AVAILABLE != 0,
        })
    }
}

fn next_day(d: NmeaDate) -> Option<NmeaDate> {
    let days = days_from_civil(d.year as i64, d.month as u32, d.day as u32) + 1;
    let (y, m, dd) = crate::time::civil_from_days(days);
    Some(NmeaDate {
        year: u16::try_from(y).ok()?,
        month: m as u8,
        day: dd as u8,
    })
}
