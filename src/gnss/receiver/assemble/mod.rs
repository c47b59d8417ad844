//! One epoch's messages → [`GnssEpoch`]. Time, leap and time pulse are in
//! `time.rs`; fix, sky, antenna and security here.

mod time;

pub use time::{gps_to_unix_ns, resolve_week, GPS_EPOCH_UNIX_S};

use std::collections::BTreeMap;

use super::status::ReceiverCounters;
use super::Memory;
use crate::gnss::message::*;
use crate::gnss::signal::{nmea_signal, ubx_signal};
use crate::gnss::*;

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
    nav_sig: Option<Vec<SigView>>,
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

    /// A message that states the fix (or its absence) is in this epoch.
    pub fn has_fix_source(&self) -> bool {
        self.pvt.is_some()
            || self.sol.is_some()
            || self.status.is_some()
            || self.gga.is_some()
            || self.rmc.is_some()
            || self.gns.is_some()
            || !self.gsa.is_empty()
            || self.pubx_pos.is_some()
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
            Message::NavSig(m) => self.nav_sig = Some(m.sigs.clone()),
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
        match self.sky(counters) {
            Some(sky) => {
                e.satellites = sky;
                e.sky_reported = true;
            }
            None => e.satellites = Vec::new(),
        }
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

    /// The epoch's sky, `None` when it carried no sky message. Satellites
    /// come from NAV-SAT/NAV-SVINFO, else merged GSV, else PUBX,03, else
    /// NAV-SIG alone; signals from NAV-SIG, else from GSV signal ids.
    fn sky(&self, counters: &mut ReceiverCounters) -> Option<Vec<SatInfo>> {
        let mut sats: Vec<SatInfo> = if let Some(s) = self.nav_sat.as_ref().or(self.svinfo.as_ref())
        {
            s.iter().map(sat_from_view).collect()
        } else if !self.gsv.is_empty() {
            self.nmea_sky(counters)
        } else if let Some(s) = &self.pubx_sats {
            s.iter().map(sat_from_view).collect()
        } else if self.nav_sig.is_some() {
            Vec::new()
        } else {
            return None;
        };
        if let Some(sigs) = &self.nav_sig {
            let only_signals = sats.is_empty();
            attach_ubx_signals(&mut sats, sigs, only_signals);
        }
        for s in &mut sats {
            // A satellite's C/N0 is its best signal's.
            if let Some(best) = s.signals.iter().filter_map(|g| g.cn0_dbhz).reduce(f64::max) {
                s.cn0_dbhz = Some(best);
            }
        }
        Some(sats)
    }

    /// Merge GSV groups (talkers × signals) into one sky: one satellite per
    /// (gnss, svid) in the receiver's order, one signal per group that
    /// carries a signal id, position from the first group that knows it,
    /// C/N0 the best of its signals (a later group without C/N0 must not
    /// erase an earlier one); `used` from GSA.
    fn nmea_sky(&self, counters: &mut ReceiverCounters) -> Vec<SatInfo> {
        let mut order: Vec<(Constellation, u16)> = Vec::new();
        let mut by_sat: BTreeMap<(Constellation, u16), SatInfo> = BTreeMap::new();
        for ((_, signal_id), g) in &self.gsv {
            if g.seen < g.expected {
                counters.gsv_incomplete += 1;
            }
            for v in &g.sats {
                let sat = by_sat.entry((v.gnss, v.svid)).or_insert_with(|| {
                    order.push((v.gnss, v.svid));
                    SatInfo {
                        signals: Vec::new(),
                        cn0_dbhz: None,
                        ..sat_from_view(v)
                    }
                });
                sat.az_deg = sat.az_deg.or(v.az_deg.map(f64::from));
                sat.el_deg = sat.el_deg.or(v.el_deg.map(f64::from));
                let cn0 = v.cn0_dbhz.map(f64::from);
                sat.cn0_dbhz = match (sat.cn0_dbhz, cn0) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                // Signal id 0 means "all signals": not one signal.
                if let Some(id) = signal_id.filter(|id| *id != 0) {
                    let names = nmea_signal(v.gnss, id);
                    sat.signals.push(SignalInfo {
                        band: names.map(|n| n.0),
                        signal: names.map(|n| n.1),
                        cn0_dbhz: cn0,
                        used: None,
                        quality: None,
                    });
                }
            }
        }
        for gsa in &self.gsa {
            for key in &gsa.used {
                if let Some(s) = by_sat.get_mut(key) {
                    s.used = true;
                }
            }
        }
        order
            .into_iter()
            .filter_map(|k| by_sat.remove(&k))
            .collect()
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

fn sat_from_view(v: &SatView) -> SatInfo {
    SatInfo {
        gnss: v.gnss,
        svid: v.svid,
        az_deg: v.az_deg.map(f64::from),
        el_deg: v.el_deg.map(f64::from),
        cn0_dbhz: v.cn0_dbhz.map(f64::from),
        used: v.used,
        healthy: v.healthy,
        signals: Vec::new(),
    }
}

/// NAV-SIG signals onto their satellites. `add_missing`: the epoch had no
/// satellite list, so the signals' satellites make it (without position).
fn attach_ubx_signals(sats: &mut Vec<SatInfo>, sigs: &[SigView], add_missing: bool) {
    for g in sigs {
        let names = ubx_signal(g.gnss, g.sig_id);
        let signal = SignalInfo {
            band: names.map(|n| n.0),
            signal: names.map(|n| n.1),
            cn0_dbhz: Some(f64::from(g.cn0_dbhz)),
            used: Some(g.used),
            quality: Some(SignalQuality::from_ind(g.quality_ind)),
        };
        match sats
            .iter_mut()
            .find(|s| s.gnss == g.gnss && s.svid == g.svid)
        {
            Some(s) => {
                if add_missing {
                    s.used |= g.used;
                }
                s.signals.push(signal);
            }
            None if add_missing => sats.push(SatInfo {
                gnss: g.gnss,
                svid: g.svid,
                az_deg: None,
                el_deg: None,
                cn0_dbhz: None,
                used: g.used,
                healthy: g.healthy,
                signals: vec![signal],
            }),
            None => {}
        }
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
