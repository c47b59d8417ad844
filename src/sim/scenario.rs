//! Fake-receiver scenarios: what the sky, the antenna and the time look like,
//! as a pure function of the scenario, the time since it was selected and the
//! true UTC time. The receiver encoder (`sim::receiver`) turns this into bytes.
//!
//! Scenario names are a contract: `demo --scenario NAME` and
//! `FakeReceiver::set_scenario(NAME)` use them.

use crate::gnss::Constellation;
use crate::time::NS_PER_SEC;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// ~12 satellites over GPS/Galileo/GLONASS/BeiDou, 3D fix, antenna OK.
    Healthy,
    /// Antenna disconnected: no signals, antenna OPEN.
    AntennaOpen,
    /// Antenna cable shorted: supply cut, no signals, antenna SHORT.
    AntennaShort,
    /// RF interference: jamInd high, C/N0 down, SEC-SIG warning then critical.
    Jamming,
    /// Total signal loss: no satellites, no fix, no valid time.
    SignalLoss,
    /// Leap second +1 announced for the end of the current UTC month.
    LeapAnnounced,
    /// Leap second −1 announced for the end of the current UTC month.
    LeapNegative,
    /// Reported time jumps forward by `TIME_JUMP_S` after `JUMP_AFTER_S`.
    TimeJump,
    /// Reported position jumps by ~1.1 km after `JUMP_AFTER_S`.
    PositionJump,
}

/// Seconds after selecting `time-jump` / `position-jump` before the jump happens.
pub const JUMP_AFTER_S: i64 = 10;
/// Size of the `time-jump` step.
pub const TIME_JUMP_S: i64 = 5;
/// Latitude step of `position-jump` (≈1.1 km).
pub const POSITION_JUMP_DEG: f64 = 0.01;
/// Seconds of `jamming` before the state goes from warning to critical.
pub const JAMMING_CRITICAL_AFTER_S: i64 = 5;

/// Nominal antenna position of the fake receiver.
pub const HOME_LAT_DEG: f64 = 50.087_451;
pub const HOME_LON_DEG: f64 = 14.420_671;
pub const HOME_ALT_MSL_M: f64 = 243.0;
/// Geoid separation used for the ellipsoid height.
pub const GEOID_SEP_M: f64 = 45.0;
/// GPS − UTC.
pub const LEAP_SECONDS: i8 = 18;

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::Healthy,
        Scenario::AntennaOpen,
        Scenario::AntennaShort,
        Scenario::Jamming,
        Scenario::SignalLoss,
        Scenario::LeapAnnounced,
        Scenario::LeapNegative,
        Scenario::TimeJump,
        Scenario::PositionJump,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::AntennaOpen => "antenna-open",
            Scenario::AntennaShort => "antenna-short",
            Scenario::Jamming => "jamming",
            Scenario::SignalLoss => "signal-loss",
            Scenario::LeapAnnounced => "leap-announced",
            Scenario::LeapNegative => "leap-negative",
            Scenario::TimeJump => "time-jump",
            Scenario::PositionJump => "position-jump",
        }
    }

    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|s| s.name()).collect()
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario {name:?}; valid scenarios: {}", Scenario::names().join(", "))]
pub struct UnknownScenario {
    pub name: String,
}

impl FromStr for Scenario {
    type Err = UnknownScenario;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| UnknownScenario {
                name: s.to_string(),
            })
    }
}

/// One satellite as the fake sky has it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSat {
    pub gnss: Constellation,
    pub svid: u8,
    pub az_deg: f64,
    pub el_deg: f64,
    pub cn0_dbhz: f64,
    pub used: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimAntenna {
    Ok,
    Open,
    Short,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimJamming {
    Ok,
    Warning,
    Critical,
}

/// What the receiver "sees" at one second.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditions {
    /// Tracked satellites (empty without signal).
    pub sky: Vec<SimSat>,
    /// Navigation solution available (3D fix).
    pub fix: bool,
    /// Receiver knows UTC (date, time, leap) from the satellites.
    pub time_valid: bool,
    pub antenna: SimAntenna,
    /// MON-HW/MON-RF CW jamming indicator 0..255.
    pub jam_ind: u8,
    pub jamming: SimJamming,
    /// Announced leap change (+1/−1/0) and the UTC instant (ns) of the event.
    pub leap_change: i8,
    pub leap_event_utc_ns: Option<i64>,
    /// Error added to every reported time (ns); the `time-jump` step.
    pub time_offset_ns: i64,
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub alt_msl_m: f64,
}

impl Conditions {
    pub fn used_count(&self) -> usize {
        self.sky.iter().filter(|s| s.used).count()
    }
}

/// Orbit-ish parameters of one satellite: elevation oscillates slowly between
/// `el_mid ± el_amp`, azimuth turns slowly. Not physics, but plausible and
/// stable: the set of visible satellites never changes, which keeps tests exact.
struct Track {
    gnss: Constellation,
    svid: u8,
    az0: f64,
    el_mid: f64,
    el_amp: f64,
    phase: f64,
}

const fn tr(
    gnss: Constellation,
    svid: u8,
    az0: f64,
    el_mid: f64,
    el_amp: f64,
    phase: f64,
) -> Track {
    Track {
        gnss,
        svid,
        az0,
        el_mid,
        el_amp,
        phase,
    }
}

const TRACKS: [Track; 12] = [
    tr(Constellation::Gps, 5, 40.0, 55.0, 15.0, 0.3),
    tr(Constellation::Gps, 12, 130.0, 35.0, 12.0, 1.1),
    tr(Constellation::Gps, 24, 250.0, 60.0, 20.0, 2.0),
    tr(Constellation::Gps, 29, 310.0, 20.0, 8.0, 2.9),
    tr(Constellation::Galileo, 3, 85.0, 45.0, 10.0, 0.7),
    tr(Constellation::Galileo, 11, 200.0, 30.0, 10.0, 1.9),
    tr(Constellation::Galileo, 27, 345.0, 10.0, 4.0, 3.3),
    tr(Constellation::Glonass, 7, 15.0, 50.0, 12.0, 4.1),
    tr(Constellation::Glonass, 16, 165.0, 25.0, 8.0, 5.0),
    tr(Constellation::Glonass, 22, 280.0, 40.0, 15.0, 5.6),
    tr(Constellation::BeiDou, 19, 110.0, 65.0, 10.0, 0.9),
    tr(Constellation::BeiDou, 37, 230.0, 18.0, 6.0, 2.4),
];

/// Minimum elevation and C/N0 for a satellite to be used in the solution.
const USE_MIN_EL_DEG: f64 = 10.0;
const USE_MIN_CN0: f64 = 25.0;

/// Small deterministic jitter in [-1, 1) from (svid, second): C/N0 that wiggles
/// like a real one without making runs irreproducible.
fn jitter(svid: u8, second: i64) -> f64 {
    let mut x = (second as u64) ^ (u64::from(svid) << 40) ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    (x % 2000) as f64 / 1000.0 - 1.0
}

/// The healthy sky at UTC `t_ns` (C/N0 reduced by `cn0_drop`).
pub fn sky_at(t_ns: i64, cn0_drop: f64) -> Vec<SimSat> {
    let second = t_ns.div_euclid(NS_PER_SEC);
    let hours = t_ns as f64 / 3.6e12;
    TRACKS
        .iter()
        .map(|t| {
            // One elevation cycle per 6 h, half a turn of azimuth per 6 h.
            let el = t.el_mid + t.el_amp * (std::f64::consts::TAU * hours / 6.0 + t.phase).sin();
            let az = (t.az0 + 30.0 * hours).rem_euclid(360.0);
            let cn0 = (28.0 + 20.0 * el.to_radians().sin() + jitter(t.svid, second) - cn0_drop)
                .clamp(0.0, 60.0)
                .round();
            SimSat {
                gnss: t.gnss,
                svid: t.svid,
                az_deg: az.round(),
                el_deg: el.round(),
                cn0_dbhz: cn0,
                used: el >= USE_MIN_EL_DEG && cn0 >= USE_MIN_CN0,
            }
        })
        .collect()
}

/// UTC ns of 00:00:00 on the first day of the month after the one holding `t_ns`:
/// leap seconds are inserted at the end of a month.
pub fn end_of_month_ns(t_ns: i64) -> i64 {
    let days = t_ns.div_euclid(NS_PER_SEC * crate::time::SECS_PER_DAY);
    let (y, m, _) = crate::time::civil_from_days(days);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    crate::time::days_from_civil(ny, nm, 1) * crate::time::SECS_PER_DAY * NS_PER_SEC
}

/// Conditions for `scenario`, selected `since_s` seconds ago, at true UTC `t_ns`.
pub fn conditions(scenario: Scenario, since_s: i64, t_ns: i64) -> Conditions {
    let mut c = Conditions {
        sky: sky_at(t_ns, 0.0),
        fix: true,
        time_valid: true,
        antenna: SimAntenna::Ok,
        jam_ind: 8,
        jamming: SimJamming::Ok,
        leap_change: 0,
        leap_event_utc_ns: None,
        time_offset_ns: 0,
        lat_deg: HOME_LAT_DEG,
        lon_deg: HOME_LON_DEG,
        alt_msl_m: HOME_ALT_MSL_M,
    };
    let no_signal = |c: &mut Conditions| {
        c.sky.clear();
        c.fix = false;
    };
    match scenario {
        Scenario::Healthy => {}
        Scenario::AntennaOpen => {
            c.antenna = SimAntenna::Open;
            no_signal(&mut c);
        }
        Scenario::AntennaShort => {
            c.antenna = SimAntenna::Short;
            no_signal(&mut c);
        }
        Scenario::Jamming => {
            c.jam_ind = 210;
            c.sky = sky_at(t_ns, 14.0);
            c.jamming = if since_s >= JAMMING_CRITICAL_AFTER_S {
                SimJamming::Critical
            } else {
                SimJamming::Warning
            };
            c.fix = c.used_count() >= 4;
        }
        Scenario::SignalLoss => {
            no_signal(&mut c);
            c.time_valid = false;
        }
        Scenario::LeapAnnounced | Scenario::LeapNegative => {
            c.leap_change = if scenario == Scenario::LeapAnnounced {
                1
            } else {
                -1
            };
            c.leap_event_utc_ns = Some(end_of_month_ns(t_ns));
        }
        Scenario::TimeJump => {
            if since_s >= JUMP_AFTER_S {
                c.time_offset_ns = TIME_JUMP_S * NS_PER_SEC;
            }
        }
        Scenario::PositionJump => {
            if since_s >= JUMP_AFTER_S {
                c.lat_deg += POSITION_JUMP_DEG;
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_lists_valid_ones() {
        for s in Scenario::ALL {
            assert_eq!(s.name().parse::<Scenario>(), Ok(s));
        }
        let err = "sunny".parse::<Scenario>().unwrap_err().to_string();
        assert!(err.contains("sunny"), "{err}");
        for name in Scenario::names() {
            assert!(err.contains(name), "{err} lacks {name}");
        }
    }

    #[test]
    fn healthy_sky_is_multi_gnss_stable_and_moves_slowly() {
        let t0 = 1_700_000_000 * NS_PER_SEC;
        let a = conditions(Scenario::Healthy, 0, t0);
        let b = conditions(Scenario::Healthy, 60, t0 + 60 * NS_PER_SEC);
        assert_eq!(a.sky.len(), 12);
        assert!(a.fix && a.time_valid && a.used_count() >= 8);
        let ids = |c: &Conditions| c.sky.iter().map(|s| (s.gnss, s.svid)).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        for g in [
            Constellation::Gps,
            Constellation::Galileo,
            Constellation::Glonass,
            Constellation::BeiDou,
        ] {
            assert!(a.sky.iter().any(|s| s.gnss == g), "{g:?} missing");
        }
        for (x, y) in a.sky.iter().zip(&b.sky) {
            assert!((x.el_deg - y.el_deg).abs() <= 2.0, "{x:?} → {y:?}");
            assert!(x.el_deg > 0.0 && x.cn0_dbhz > 20.0);
        }
    }

    #[test]
    fn fault_scenarios_change_what_they_should() {
        let t = 1_700_000_000 * NS_PER_SEC;
        let short = conditions(Scenario::AntennaShort, 3, t);
        assert_eq!(short.antenna, SimAntenna::Short);
        assert!(short.sky.is_empty() && !short.fix);
        let loss = conditions(Scenario::SignalLoss, 3, t);
        assert!(!loss.time_valid && !loss.fix);
        let jam = conditions(Scenario::Jamming, 1, t);
        assert_eq!(jam.jamming, SimJamming::Warning);
        assert!(jam.jam_ind > 150);
        let healthy = conditions(Scenario::Healthy, 1, t);
        let sum = |c: &Conditions| c.sky.iter().map(|s| s.cn0_dbhz).sum::<f64>();
        assert!(sum(&jam) < sum(&healthy) - 100.0);
        assert_eq!(
            conditions(Scenario::Jamming, JAMMING_CRITICAL_AFTER_S, t).jamming,
            SimJamming::Critical
        );
        let before = conditions(Scenario::TimeJump, JUMP_AFTER_S - 1, t);
        let after = conditions(Scenario::TimeJump, JUMP_AFTER_S, t);
        assert_eq!(before.time_offset_ns, 0);
        assert_eq!(after.time_offset_ns, TIME_JUMP_S * NS_PER_SEC);
        let moved = conditions(Scenario::PositionJump, JUMP_AFTER_S, t);
        assert!((moved.lat_deg - HOME_LAT_DEG - POSITION_JUMP_DEG).abs() < 1e-9);
    }

    #[test]
    fn leap_is_announced_for_the_end_of_the_month() {
        // 2026-11-21T12:00:00Z → event at 2026-12-01T00:00:00Z.
        let t = crate::time::utc_from_fields(2026, 11, 21, 12, 0, 0, 0).unwrap();
        let c = conditions(Scenario::LeapAnnounced, 0, t);
        assert_eq!(c.leap_change, 1);
        assert_eq!(
            c.leap_event_utc_ns,
            crate::time::utc_from_fields(2026, 12, 1, 0, 0, 0, 0)
        );
        assert_eq!(conditions(Scenario::LeapNegative, 0, t).leap_change, -1);
        let dec = crate::time::utc_from_fields(2026, 12, 31, 23, 0, 0, 0).unwrap();
        assert_eq!(
            Some(end_of_month_ns(dec)),
            crate::time::utc_from_fields(2027, 1, 1, 0, 0, 0, 0)
        );
    }
}

#[cfg(test)]
mod names_tests {
    use super::Scenario;

    /// `[receiver] simulate` is validated against the config's own list.
    #[test]
    fn config_accepts_exactly_these_scenarios() {
        assert_eq!(
            Scenario::names(),
            crate::config::FAKE_RECEIVER_SCENARIOS.to_vec()
        );
    }
}
