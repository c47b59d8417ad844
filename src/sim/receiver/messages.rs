//! Message content of one fake-receiver epoch: UBX NAV/TIM/MON/SEC and NMEA,
//! encoded from `scenario::Conditions` and the reported UTC time.

use super::wire::{ubx, Le};
use super::Model;
use crate::gnss::Constellation;
use crate::sim::scenario::{Conditions, SimAntenna, SimJamming, SimSat, GEOID_SEP_M, LEAP_SECONDS};
use crate::time::{civil_from_days, NS_PER_SEC, SECS_PER_DAY};

/// 1980-01-06T00:00:00Z as Unix seconds.
pub const GPS_EPOCH_UNIX_S: i64 = 315_964_800;
const SECS_PER_WEEK: i64 = 604_800;
/// The last leap second so far: 2017-01-01T00:00:00Z.
const LAST_LEAP_UNIX_S: i64 = 1_483_228_800;

/// Everything the encoders need about one epoch.
pub struct Epoch<'a> {
    pub model: Model,
    /// Reported UTC of the epoch (true time + scenario offset), whole second.
    pub utc_ns: i64,
    pub cond: &'a Conditions,
    /// Milliseconds since the receiver booted.
    pub msss: u32,
    /// Fix type to report when there is a fix (3 = 3D, 5 = time-only in timing mode).
    pub fix_type: u8,
}

/// (full GPS week, time of week in seconds) for a UTC instant.
pub fn gps_week_tow(utc_s: i64) -> (i64, i64) {
    let gps = utc_s - GPS_EPOCH_UNIX_S + i64::from(LEAP_SECONDS);
    (gps.div_euclid(SECS_PER_WEEK), gps.rem_euclid(SECS_PER_WEEK))
}

/// Week and TOW on the UTC scale (TIM-TP with timeBase = UTC).
fn utc_week_tow(utc_s: i64) -> (i64, i64) {
    let s = utc_s - GPS_EPOCH_UNIX_S;
    (s.div_euclid(SECS_PER_WEEK), s.rem_euclid(SECS_PER_WEEK))
}

pub(super) struct Civil {
    pub(super) year: u16,
    pub(super) month: u8,
    pub(super) day: u8,
    pub(super) hour: u8,
    pub(super) min: u8,
    pub(super) sec: u8,
}

pub(super) fn civil(utc_s: i64) -> Civil {
    let days = utc_s.div_euclid(SECS_PER_DAY);
    let sod = utc_s.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    Civil {
        year: y.clamp(0, 65_535) as u16,
        month: m as u8,
        day: d as u8,
        hour: (sod / 3600) as u8,
        min: (sod / 60 % 60) as u8,
        sec: (sod % 60) as u8,
    }
}

impl Epoch<'_> {
    pub(super) fn utc_s(&self) -> i64 {
        self.utc_ns.div_euclid(NS_PER_SEC)
    }
    fn itow_ms(&self) -> u32 {
        (gps_week_tow(self.utc_s()).1 * 1000) as u32
    }
    pub(super) fn fixed(&self) -> bool {
        self.cond.fix
    }
    fn tacc_ns(&self) -> u32 {
        if self.cond.time_valid {
            if self.fixed() {
                18
            } else {
                900
            }
        } else {
            u32::MAX
        }
    }

    pub fn nav_pvt(&self) -> Vec<u8> {
        let c = civil(self.utc_s());
        let cond = self.cond;
        let (valid, flags2) = if cond.time_valid {
            (0x07, 0xE0)
        } else {
            (0x00, 0x00)
        };
        let (fix_type, flags) = if self.fixed() {
            (self.fix_type, 0x01)
        } else {
            (0, 0)
        };
        let (lat, lon, h, hmsl, hacc, vacc) = if self.fixed() {
            (
                (cond.lat_deg * 1e7).round() as i32,
                (cond.lon_deg * 1e7).round() as i32,
                ((cond.alt_msl_m + GEOID_SEP_M) * 1000.0).round() as i32,
                (cond.alt_msl_m * 1000.0).round() as i32,
                1_400,
                2_300,
            )
        } else {
            (0, 0, 0, 0, u32::MAX, u32::MAX)
        };
        let mut p = Le::with_capacity(92);
        p.u4(self.itow_ms())
            .u2(c.year)
            .u1(c.month)
            .u1(c.day)
            .u1(c.hour)
            .u1(c.min)
            .u1(c.sec)
            .u1(valid)
            .u4(self.tacc_ns())
            .i4(0) // nano
            .u1(fix_type)
            .u1(flags)
            .u1(flags2)
            .u1(cond.used_count() as u8)
            .i4(lon)
            .i4(lat)
            .i4(h)
            .i4(hmsl)
            .u4(hacc)
            .u4(vacc)
            .i4(3) // velN mm/s
            .i4(-2) // velE
            .i4(1) // velD
            .i4(4) // gSpeed
            .i4(0) // headMot
            .u4(120) // sAcc
            .u4(18_000_000) // headAcc
            .u2(if self.fixed() { 128 } else { 9999 })
            .u1(0) // flags3
            .zeros(5)
            .i4(0) // headVeh
            .i2(0) // magDec
            .u2(0); // magAcc
        ubx(0x01, 0x07, &p.finish())
    }

    pub fn nav_status(&self) -> Vec<u8> {
        let fix = if self.fixed() { self.fix_type } else { 0 };
        let mut flags = 0u8;
        if self.fixed() {
            flags |= 0x01;
        }
        if self.cond.time_valid {
            flags |= 0x0C; // wknSet | towSet
        }
        let mut p = Le::with_capacity(16);
        p.u4(self.itow_ms())
            .u1(fix)
            .u1(flags)
            .u1(0)
            .u1(0)
            .u4(if self.fixed() { 27_500 } else { 0 })
            .u4(self.msss);
        ubx(0x01, 0x03, &p.finish())
    }

    pub fn nav_timeutc(&self) -> Vec<u8> {
        let c = civil(self.utc_s());
        // validTOW | validWKN | validUTC, utcStandard 3 (USNO) in the high nibble.
        let valid = if self.cond.time_valid { 0x37 } else { 0x00 };
        let mut p = Le::with_capacity(20);
        p.u4(self.itow_ms())
            .u4(self.tacc_ns())
            .i4(0)
            .u2(c.year)
            .u1(c.month)
            .u1(c.day)
            .u1(c.hour)
            .u1(c.min)
            .u1(c.sec)
            .u1(valid);
        ubx(0x01, 0x21, &p.finish())
    }

    pub fn nav_timels(&self) -> Vec<u8> {
        let cond = self.cond;
        let now_s = self.utc_s();
        // Source 2 = GPS; 0 = firmware default (no navigation message decoded yet).
        let (src_curr, src_change, valid) = if cond.time_valid {
            (2u8, 2u8, 0x03u8)
        } else {
            (0, 0, 0x01)
        };
        // Time to the next event, or (negative) since the last one when none is scheduled.
        let event_s = match cond.leap_event_utc_ns {
            Some(ns) if cond.leap_change != 0 => ns.div_euclid(NS_PER_SEC),
            _ => LAST_LEAP_UNIX_S,
        };
        let (wn, tow) = gps_week_tow(event_s);
        let mut p = Le::with_capacity(24);
        p.u4(self.itow_ms())
            .u1(0) // version
            .zeros(3)
            .u1(src_curr)
            .i1(LEAP_SECONDS)
            .u1(src_change)
            .i1(if cond.time_valid { cond.leap_change } else { 0 })
            .i4((event_s - now_s).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
            .u2(wn as u16)
            .u2((tow / SECS_PER_DAY + 1) as u16)
            .zeros(3)
            .u1(valid);
        ubx(0x01, 0x26, &p.finish())
    }

    pub fn nav_clock(&self) -> Vec<u8> {
        // The receiver lets its clock bias drift and corrects it in 1 ms steps.
        let s = self.utc_s();
        let drift = 143i32;
        let bias = (s.rem_euclid(10_000) * i64::from(drift)) as i32 - 500_000;
        let mut p = Le::with_capacity(20);
        p.u4(self.itow_ms())
            .i4(bias)
            .i4(drift)
            .u4(self.tacc_ns())
            .u4(if self.fixed() { 310 } else { 50_000 });
        ubx(0x01, 0x22, &p.finish())
    }

    pub fn nav_sat(&self) -> Vec<u8> {
        let sky = &self.cond.sky;
        let mut p = Le::with_capacity(8 + 12 * sky.len());
        p.u4(self.itow_ms()).u1(1).u1(sky.len() as u8).zeros(2);
        for s in sky {
            // qualityInd 7 = code and carrier locked; health 1 = healthy.
            let quality: u32 = if s.cn0_dbhz >= 20.0 { 7 } else { 4 };
            let flags = quality | (u32::from(s.used) << 3) | (1 << 4);
            p.u1(s.gnss.gnss_id())
                .u1(s.svid)
                .u1(s.cn0_dbhz as u8)
                .i1(s.el_deg as i8)
                .i2(s.az_deg as i16)
                .i2(if s.used { 3 } else { 0 })
                .u4(flags);
        }
        ubx(0x01, 0x35, &p.finish())
    }

    /// The signals the model tracks of `s`: (u-blox sigId, NMEA signal id,
    /// C/N0 or `None` when not tracked). M8T: L1 only; F9T: L1 + L2/E5b/B2I,
    /// the second 4 dB weaker and lost below 15° elevation.
    pub fn signals(&self, s: &SimSat) -> Vec<(u8, u8, Option<u8>)> {
        let (l1, l2) = match s.gnss {
            Constellation::Gps => ((0, 1), (3, 6)),
            Constellation::Galileo => ((0, 7), (5, 2)),
            Constellation::Glonass => ((0, 1), (2, 3)),
            Constellation::BeiDou => ((0, 1), (2, 0xB)),
            _ => ((0, 1), (0, 1)),
        };
        let cn0 = s.cn0_dbhz.clamp(0.0, 255.0) as u8;
        let mut v = vec![(l1.0, l1.1, Some(cn0))];
        if self.model == Model::F9T && l2 != l1 {
            let tracked = s.el_deg >= 15.0 && cn0 >= 24;
            v.push((l2.0, l2.1, tracked.then(|| cn0 - 4)));
        }
        v
    }

    /// NAV-SIG (F9-class): one block per tracked signal.
    pub fn nav_sig(&self) -> Vec<u8> {
        let mut blocks = Vec::new();
        for s in &self.cond.sky {
            for (sig_id, _, cn0) in self.signals(s) {
                if let Some(cn0) = cn0 {
                    blocks.push((s, sig_id, cn0));
                }
            }
        }
        let mut p = Le::with_capacity(8 + 16 * blocks.len());
        p.u4(self.itow_ms())
            .u1(0)
            .u1(blocks.len().min(255) as u8)
            .zeros(2);
        for (s, sig_id, cn0) in blocks.into_iter().take(255) {
            let quality: u8 = if cn0 >= 20 { 7 } else { 4 };
            // health 1 (healthy), prUsed 0x08 when the satellite is used.
            let flags: u16 = 0x01 | if s.used { 0x08 } else { 0 };
            let freq_id = if s.gnss == Constellation::Glonass {
                7
            } else {
                0
            };
            p.u1(s.gnss.gnss_id())
                .u1(s.svid)
                .u1(sig_id)
                .u1(freq_id)
                .i2(if s.used { 3 } else { 0 })
                .u1(cn0)
                .u1(quality)
                .u1(0)
                .u1(0)
                .u2(flags)
                .zeros(4);
        }
        ubx(0x01, 0x43, &p.finish())
    }

    /// NAV-EOE: all navigation messages of this epoch have been sent.
    pub fn nav_eoe(&self) -> Vec<u8> {
        ubx(0x01, 0x61, &self.itow_ms().to_le_bytes())
    }

    /// TIM-TP describes the *next* pulse (one second after this epoch).
    pub fn tim_tp(&self) -> Vec<u8> {
        let next_s = self.utc_s() + 1;
        let (week, tow, flags) = if self.cond.time_valid {
            let (w, t) = utc_week_tow(next_s);
            // timeBase = UTC (bit 0), UTC available (bit 1).
            (w, t, 0x03u8)
        } else {
            let (w, t) = gps_week_tow(next_s);
            // GNSS time base, no UTC, qErr invalid (bit 4).
            (w, t, 0x10u8)
        };
        let mut p = Le::with_capacity(16);
        p.u4((tow * 1000) as u32)
            .u4(0)
            .i4(qerr_ps(next_s))
            .u2(week as u16)
            .u1(flags)
            .u1(0x30); // refInfo: GPS, utcStandard USNO
        ubx(0x0D, 0x01, &p.finish())
    }

    fn antenna_codes(&self) -> (u8, u8) {
        // aStatus: 2 OK, 3 SHORT, 4 OPEN; aPower: 0 off, 1 on.
        match self.cond.antenna {
            SimAntenna::Ok => (2, 1),
            SimAntenna::Short => (3, 0),
            SimAntenna::Open => (4, 1),
        }
    }

    fn jamming_code(&self) -> u8 {
        match self.cond.jamming {
            SimJamming::Ok => 1,
            SimJamming::Warning => 2,
            SimJamming::Critical => 3,
        }
    }

    fn noise_agc(&self) -> (u16, u16) {
        if self.cond.jam_ind > 100 {
            (168, 1_950)
        } else {
            (84, 5_780)
        }
    }

    /// MON-HW (M8-class).
    pub fn mon_hw(&self) -> Vec<u8> {
        let (a_status, a_power) = self.antenna_codes();
        let (noise, agc) = self.noise_agc();
        let mut p = Le::with_capacity(60);
        p.u4(0x000E_FFFF) // pinSel
            .u4(0)
            .u4(0x0001_0000)
            .u4(0x0000_EF5E)
            .u2(noise)
            .u2(agc)
            .u1(a_status)
            .u1(a_power)
            .u1(0x01 | (self.jamming_code() << 2)) // rtcCalib, jammingState
            .u1(0)
            .u4(0xFFFF_FFFF) // usedMask
            .zeros(17) // VP
            .u1(self.cond.jam_ind)
            .zeros(2)
            .u4(0)
            .u4(0)
            .u4(0);
        ubx(0x0A, 0x09, &p.finish())
    }

    /// MON-RF (F9-class): one block per RF band.
    pub fn mon_rf(&self) -> Vec<u8> {
        let (a_status, a_power) = self.antenna_codes();
        let (noise, agc) = self.noise_agc();
        let mut p = Le::with_capacity(52);
        p.u1(0).u1(2).zeros(2);
        for block in 0..2u8 {
            p.u1(block)
                .u1(self.jamming_code())
                .u1(a_status)
                .u1(a_power)
                .u4(0)
                .zeros(4)
                .u2(noise + u16::from(block) * 7)
                .u2(agc)
                .u1(self.cond.jam_ind)
                .i1(3)
                .u1(140)
                .i1(-2)
                .u1(138)
                .zeros(3);
        }
        ubx(0x0A, 0x38, &p.finish())
    }

    /// SEC-SIG version 1 (F9-class): jamming and spoofing states.
    pub fn sec_sig(&self) -> Vec<u8> {
        let jam_flags = 0x01 | (self.jamming_code() << 1);
        let spf_flags = 0x01 | (1 << 1); // detection enabled, no spoofing
        let mut p = Le::with_capacity(12);
        p.u1(1)
            .zeros(3)
            .u1(jam_flags)
            .zeros(3)
            .u1(spf_flags)
            .zeros(3);
        ubx(0x27, 0x09, &p.finish())
    }
}

/// TIM-TP quantization error of the pulse at UTC second `s`: a sawtooth within
/// ±10.4 ns, like the 48 MHz clock of an M8T beating against the second.
pub fn qerr_ps(s: i64) -> i32 {
    const PERIOD_PS: i64 = 20_833;
    ((s.rem_euclid(1_000_000) * 1_733).rem_euclid(PERIOD_PS) - PERIOD_PS / 2) as i32
}

/// MON-VER payload for the model.
pub fn mon_ver(model: Model) -> Vec<u8> {
    let (sw, hw, ext): (&str, &str, &[&str]) = match model {
        Model::M8T => (
            "ROM CORE 3.01 (107888)",
            "00080000",
            &[
                "FWVER=TIM 1.10",
                "PROTVER=22.00",
                "MOD=NEO-M8T-0",
                "FIS=0xEF4015 (100111)",
                "GPS;GLO;GAL;BDS",
                "SBAS;IMES;QZSS",
            ],
        ),
        Model::F9T => (
            "EXT CORE 1.00 (f10c36)",
            "00190000",
            &[
                "ROM BASE 0x118B2060",
                "FWVER=TIM 2.20",
                "PROTVER=29.20",
                "MOD=ZED-F9T",
                "GPS;GLO;GAL;BDS",
                "SBAS;QZSS",
                "NAVIC",
            ],
        ),
    };
    let mut p = Le::with_capacity(40 + 30 * ext.len());
    p.chars(sw, 30).chars(hw, 10);
    for e in ext {
        p.chars(e, 30);
    }
    p.finish()
}

/// WGS-84 geodetic → ECEF, metres.
pub fn llh_to_ecef(lat_deg: f64, lon_deg: f64, h_m: f64) -> (f64, f64, f64) {
    const A: f64 = 6_378_137.0;
    const E2: f64 = 6.694_379_990_14e-3;
    let (lat, lon) = (lat_deg.to_radians(), lon_deg.to_radians());
    let n = A / (1.0 - E2 * lat.sin().powi(2)).sqrt();
    (
        (n + h_m) * lat.cos() * lon.cos(),
        (n + h_m) * lat.cos() * lon.sin(),
        (n * (1.0 - E2) + h_m) * lat.sin(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gps_week_of_a_known_date() {
        // 2021-02-23T18:04:29Z: GPS week 2146 (modulo-1024: 98), TOW 2 days + 18:04:47.
        let t = crate::time::utc_from_fields(2021, 2, 23, 18, 4, 29, 0).unwrap() / NS_PER_SEC;
        let (w, tow) = gps_week_tow(t);
        assert_eq!(w, 2146);
        assert_eq!(tow, 2 * 86_400 + 18 * 3600 + 4 * 60 + 47);
    }

    #[test]
    fn qerr_is_a_bounded_sawtooth() {
        let v: Vec<i32> = (0..50).map(qerr_ps).collect();
        assert!(v.iter().all(|q| q.abs() <= 10_417));
        assert!(v.windows(2).any(|w| w[1] < w[0]), "never wraps");
        assert!(v.windows(2).filter(|w| w[1] > w[0]).count() > 30);
    }

    #[test]
    fn ecef_of_equator_and_pole() {
        let (x, y, z) = llh_to_ecef(0.0, 0.0, 0.0);
        assert!((x - 6_378_137.0).abs() < 1e-6 && y.abs() < 1e-6 && z.abs() < 1e-6);
        let (_, _, z) = llh_to_ecef(90.0, 0.0, 0.0);
        assert!((z - 6_356_752.314).abs() < 0.01, "{z}");
    }
}
