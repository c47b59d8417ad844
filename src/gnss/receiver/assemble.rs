//! One epoch's messages → [`GnssEpoch`].

use std::collections::BTreeMap;

use super::status::ReceiverCounters;
use super::Memory;
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

/// GSV sentences of one talker/signal group.
#[derive(Debug, Default)]
struct GsvGroup {
    expected: u8,
    seen: u8,
    sats: Vec<SatView>,
}

/// Messages collected for the epoch in progress.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    count: u32,
    pvt: Option<NavPvt>,
    sol: Option<NavSol>,
    status: Option<NavStatus>,
    dop: Option<NavDop>,
    timeutc: Option<NavTimeUtc>,
    timegps: Option<NavTimeGps>,
    timels: Option<NavTimeLs>,
    clock: Option<NavClock>,
    nav_sat: Option<Vec<SatView>>,
    svinfo: Option<Vec<SatView>>,
    tim_tp: Option<TimTp>,
    mon_hw: Option<MonHw>,
    mon_rf: Option<MonRf>,
    sec_sig: Option<SecSig>,
    itow: Option<u32>,
    rmc: Option<Rmc>,
    gga: Option<Gga>,
    gns: Option<Gns>,
    zda: Option<Zda>,
    gsa: Vec<Gsa>,
    gsv: BTreeMap<(String, Option<u8>), GsvGroup>,
    pubx_pos: Option<Pubx>,
    pubx_sats: Option<Vec<SatView>>,
    pubx_time: Option<Pubx>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn has_time_pulse(&self) -> bool {
        self.tim_tp.is_some()
    }

    pub fn add(&mut self, msg: &Message) {
        let mut used = true;
        match msg {
            Message::NavPvt(m) => {
                self.itow = Some(m.itow_ms);
                self.pvt = Some(m.clone())
            }
            Message::NavSol(m) => {
                self.itow = Some(m.itow_ms);
                self.sol = Some(m.clone())
            }
            Message::NavStatus(m) => self.status = Some(m.clone()),
            Message::NavDop(m) => self.dop = Some(m.clone()),
            Message::NavTimeUtc(m) => self.timeutc = Some(m.clone()),
            Message::NavTimeGps(m) => {
                self.itow = Some(m.itow_ms);
                self.timegps = Some(m.clone())
            }
            Message::NavTimeLs(m) => self.timels = Some(m.clone()),
            Message::NavClock(m) => self.clock = Some(m.clone()),
            Message::NavSat(m) => self.nav_sat = Some(m.sats.clone()),
            Message::NavSvInfo(m) => self.svinfo = Some(m.sats.clone()),
            Message::NavEoe { itow_ms } => self.itow = self.itow.or(Some(*itow_ms)),
            Message::TimTp(m) => self.tim_tp = Some(m.clone()),
            Message::MonHw(m) => self.mon_hw = Some(m.clone()),
            Message::MonRf(m) => self.mon_rf = Some(m.clone()),
            Message::SecSig(m) => self.sec_sig = Some(m.clone()),
            Message::Rmc(m) => self.rmc = Some(m.clone()),
            Message::Gga(m) => self.gga = Some(m.clone()),
            Message::Gns(m) => self.gns = Some(m.clone()),
            Message::Zda(m) => self.zda = Some(m.clone()),
            Message::Gsa(m) => self.gsa.push(m.clone()),
            Message::Gsv(m) => {
                let g = self.gsv.entry((m.talker.clone(), m.signal_id)).or_default();
                if m.msg_num <= 1 {
                    // A new group of this talker/signal replaces an older one.
                    *g = GsvGroup::default();
                }
                g.expected = m.num_msgs;
                g.seen = g.seen.saturating_add(1);
                g.sats.extend(m.sats.iter().cloned());
            }
            Message::Pubx(p @ Pubx::Position { .. }) => self.pubx_pos = Some(p.clone()),
            Message::Pubx(Pubx::Satellites { sats }) => self.pubx_sats = Some(sats.clone()),
            Message::Pubx(p @ Pubx::Time { .. }) => self.pubx_time = Some(p.clone()),
            _ => used = false,
        }
        if used {
            self.count += 1;
        }
    }

    pub fn assemble(self, mem: &mut Memory, counters: &mut ReceiverCounters) -> GnssEpoch {
        let mut e = GnssEpoch::default();
        self.leap_and_gps_time(mem, &mut e);
        e.time = self.epoch_time(mem, &e);
        e.fix = self.fix();
        e.satellites = self.sky(counters);
        if e.fix.sats_used.is_none() {
            let n = e.satellites.iter().filter(|s| s.used).count();
            if n > 0 {
                e.fix.sats_used = Some(n as u32);
            }
        }
        e.time_pulse = self.time_pulse(mem);
        e.antenna = self.antenna();
        e.security = self.security();
        e.clock = self.clock.as_ref().map(|c| ReceiverClock {
            bias_ns: c.bias_ns as i64,
            drift_ns_per_s: c.drift_ns_per_s as i64,
            tacc_ns: c.t_acc_ns as u64,
            facc_ps_per_s: c.f_acc_ps_per_s as u64,
        });
        e
    }

    /// GPS week/TOW and leap information; updates the remembered leap.
    fn leap_and_gps_time(&self, mem: &mut Memory, e: &mut GnssEpoch) {
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

    fn epoch_time(&self, mem: &mut Memory, e: &GnssEpoch) -> Option<EpochTime> {
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

    fn fix(&self) -> Fix {
        let mut f = Fix::default();
        if let Some(p) = &self.pvt {
            f.mode = if p.flags & 0x01 == 0 {
                FixMode::None
            } else {
                ubx_fix_mode(p.fix_type)
            };
            f.lat_deg = Some(p.lat_deg);
            f.lon_deg = Some(p.lon_deg);
            f.alt_msl_m = Some(p.height_msl_m);
            f.pdop = Some(p.pdop);
            f.sats_used = Some(p.num_sv as u32);
        } else if let Some(s) = &self.sol {
            f.mode = if s.flags & 0x01 == 0 {
                FixMode::None
            } else {
                ubx_fix_mode(s.gps_fix)
            };
            f.pdop = Some(s.pdop);
            f.sats_used = Some(s.num_sv as u32);
        } else if let Some(s) = &self.status {
            f.mode = if s.flags & 0x01 == 0 {
                FixMode::None
            } else {
                ubx_fix_mode(s.gps_fix)
            };
        } else {
            self.nmea_fix(&mut f);
        }
        if let Some(d) = &self.dop {
            f.pdop = Some(d.pdop);
            f.hdop = Some(d.hdop);
            f.vdop = Some(d.vdop);
            f.tdop = Some(d.tdop);
        } else if f.hdop.is_none() {
            if let Some(g) = self.gsa.first() {
                f.pdop = f.pdop.or(g.pdop);
                f.hdop = g.hdop;
                f.vdop = g.vdop;
            }
        }
        f
    }

    fn nmea_fix(&self, f: &mut Fix) {
        let gga_ok = self.gga.as_ref().is_some_and(|g| g.quality > 0);
        let rmc_ok = self.rmc.as_ref().is_some_and(|r| r.valid);
        let gns_ok = self
            .gns
            .as_ref()
            .is_some_and(|g| g.modes.chars().any(|c| c != 'N'));
        let pubx_mode = match &self.pubx_pos {
            Some(Pubx::Position { nav_stat, .. }) => match nav_stat.as_str() {
                "G2" | "D2" => Some(FixMode::TwoD),
                "G3" | "D3" | "RK" => Some(FixMode::ThreeD),
                "TT" => Some(FixMode::Time),
                _ => Some(FixMode::None),
            },
            _ => None,
        };
        let gsa_mode = self.gsa.first().map(|g| match g.nav_mode {
            2 => FixMode::TwoD,
            3 => FixMode::ThreeD,
            _ => FixMode::None,
        });
        f.mode = if let Some(m) = pubx_mode {
            m
        } else if let Some(m) = gsa_mode {
            m
        } else if gga_ok || rmc_ok || gns_ok {
            if self
                .gga
                .as_ref()
                .and_then(|g| g.alt_msl_m)
                .or(self.gns.as_ref().and_then(|g| g.alt_msl_m))
                .is_some()
            {
                FixMode::ThreeD
            } else {
                FixMode::TwoD
            }
        } else {
            FixMode::None
        };
        if let Some(g) = &self.gga {
            f.lat_deg = g.lat_deg;
            f.lon_deg = g.lon_deg;
            f.alt_msl_m = g.alt_msl_m;
            f.hdop = g.hdop;
            f.sats_used = g.num_sats;
        } else if let Some(g) = &self.gns {
            f.lat_deg = g.lat_deg;
            f.lon_deg = g.lon_deg;
            f.alt_msl_m = g.alt_msl_m;
            f.hdop = g.hdop;
            f.sats_used = g.num_sats;
        } else if let Some(r) = &self.rmc {
            f.lat_deg = r.lat_deg;
            f.lon_deg = r.lon_deg;
        }
        if f.mode == FixMode::None {
            f.lat_deg = None;
            f.lon_deg = None;
            f.alt_msl_m = None;
        }
    }

    fn sky(&self, counters: &mut ReceiverCounters) -> Vec<SatInfo> {
        let views: Vec<SatView> = if let Some(s) = self.nav_sat.as_ref().or(self.svinfo.as_ref()) {
            s.clone()
        } else if !self.gsv.is_empty() {
            self.nmea_sky(counters)
        } else if let Some(s) = &self.pubx_sats {
            s.clone()
        } else {
            Vec::new()
        };
        views
            .into_iter()
            .map(|v| SatInfo {
                gnss: v.gnss,
                svid: v.svid,
                az_deg: v.az_deg.map(f64::from),
                el_deg: v.el_deg.map(f64::from),
                cn0_dbhz: v.cn0_dbhz.map(f64::from),
                used: v.used,
                healthy: v.healthy,
            })
            .collect()
    }

    /// Merge GSV groups (talkers × signals) into one sky; `used` from GSA.
    fn nmea_sky(&self, counters: &mut ReceiverCounters) -> Vec<SatView> {
        let mut by_sat: BTreeMap<(Constellation, u16), SatView> = BTreeMap::new();
        for g in self.gsv.values() {
            if g.seen < g.expected {
                counters.gsv_incomplete += 1;
            }
            for s in &g.sats {
                // The first signal listed (L1 on u-blox) gives the satellite's values.
                by_sat.entry((s.gnss, s.svid)).or_insert_with(|| s.clone());
            }
        }
        for gsa in &self.gsa {
            for key in &gsa.used {
                if let Some(s) = by_sat.get_mut(key) {
                    s.used = true;
                }
            }
        }
        // Keep the receiver's order: by talker group, then as listed.
        let mut out = Vec::with_capacity(by_sat.len());
        let mut seen = std::collections::BTreeSet::new();
        for g in self.gsv.values() {
            for s in &g.sats {
                if seen.insert((s.gnss, s.svid)) {
                    if let Some(v) = by_sat.get(&(s.gnss, s.svid)) {
                        out.push(v.clone());
                    }
                }
            }
        }
        out
    }

    fn time_pulse(&self, mem: &Memory) -> Option<TimePulse> {
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

    fn antenna(&self) -> Option<AntennaInfo> {
        if let Some(h) = &self.mon_hw {
            return Some(AntennaInfo {
                status: antenna_status(h.a_status),
                power: antenna_power(h.a_power),
                jamming: Some(h.jam_ind),
                noise_per_ms: Some(h.noise_per_ms),
                agc_count: Some(h.agc_cnt),
            });
        }
        let b = self.mon_rf.as_ref()?.blocks.first()?;
        Some(AntennaInfo {
            status: antenna_status(b.ant_status),
            power: antenna_power(b.ant_power),
            jamming: Some(b.jam_ind),
            noise_per_ms: Some(b.noise_per_ms),
            agc_count: Some(b.agc_cnt),
        })
    }

    fn security(&self) -> Option<Security> {
        let jam = |s: u8| match s {
            1 => JammingState::Ok,
            2 => JammingState::Warning,
            3 => JammingState::Critical,
            _ => JammingState::Unknown,
        };
        let spoof = |s: u8| match s {
            1 => SpoofingState::None,
            2 => SpoofingState::Indicated,
            3 => SpoofingState::Multiple,
            _ => SpoofingState::Unknown,
        };
        let mut sec = Security::default();
        let mut any = false;
        if let Some(s) = &self.sec_sig {
            sec.jamming = jam(s.jamming_state);
            sec.spoofing = spoof(s.spoofing_state);
            any = true;
        }
        if sec.jamming == JammingState::Unknown {
            if let Some(h) = &self.mon_hw {
                sec.jamming = jam(h.jamming_state);
                any = true;
            } else if let Some(b) = self.mon_rf.as_ref().and_then(|r| r.blocks.first()) {
                sec.jamming = jam(b.jamming_state);
                any = true;
            }
        }
        if sec.spoofing == SpoofingState::Unknown {
            if let Some(s) = &self.status {
                sec.spoofing = spoof(s.spoof_det_state);
                any = true;
            }
        }
        any.then_some(sec)
    }
}

fn ubx_fix_mode(t: u8) -> FixMode {
    match t {
        2 => FixMode::TwoD,
        3 | 4 => FixMode::ThreeD,
        5 => FixMode::Time,
        _ => FixMode::None,
    }
}

fn antenna_status(s: u8) -> AntennaStatus {
    match s {
        2 => AntennaStatus::Ok,
        3 => AntennaStatus::Short,
        4 => AntennaStatus::Open,
        _ => AntennaStatus::Unknown,
    }
}

fn antenna_power(p: u8) -> AntennaPower {
    match p {
        0 => AntennaPower::Off,
        1 => AntennaPower::On,
        _ => AntennaPower::Unknown,
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
