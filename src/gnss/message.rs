//! Our own typed view of what the receiver said, one value per frame.
//! Decoders (`ubx`, `nmea`) produce these; `Receiver` consumes them. Fields
//! keep the receiver's integer units where the unit matters for time.

use super::Constellation;

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    // ---- UBX ----
    NavPvt(NavPvt),
    NavSol(NavSol),
    NavSat(NavSat),
    NavSvInfo(NavSat),
    NavSig(NavSig),
    NavStatus(NavStatus),
    NavDop(NavDop),
    NavTimeUtc(NavTimeUtc),
    NavTimeLs(NavTimeLs),
    NavTimeGps(NavTimeGps),
    NavClock(NavClock),
    /// End of epoch (F9): all messages of this iTOW have been sent.
    NavEoe {
        itow_ms: u32,
    },
    TimTp(TimTp),
    TimSvin(TimSvin),
    MonHw(MonHw),
    MonRf(MonRf),
    MonVer(MonVer),
    SecSig(SecSig),
    AckAck {
        class: u8,
        id: u8,
    },
    AckNak {
        class: u8,
        id: u8,
    },
    /// A known UBX class (CFG replies, RXM, ...) that we do not decode.
    Other {
        class: u8,
        id: u8,
    },
    /// A UBX class we do not know at all.
    UbxUnknown {
        class: u8,
        id: u8,
    },
    // ---- NMEA ----
    Rmc(Rmc),
    Gga(Gga),
    Gsa(Gsa),
    Gsv(Gsv),
    Zda(Zda),
    Gns(Gns),
    Txt(Txt),
    Gbs(Gbs),
    Pubx(Pubx),
    /// Any other well-formed sentence (VTG, GLL, GST, ...).
    NmeaOther {
        talker: String,
        kind: String,
    },
}

impl Message {
    /// Short name for counters and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::NavPvt(_) => "NAV-PVT",
            Message::NavSol(_) => "NAV-SOL",
            Message::NavSat(_) => "NAV-SAT",
            Message::NavSvInfo(_) => "NAV-SVINFO",
            Message::NavSig(_) => "NAV-SIG",
            Message::NavStatus(_) => "NAV-STATUS",
            Message::NavDop(_) => "NAV-DOP",
            Message::NavTimeUtc(_) => "NAV-TIMEUTC",
            Message::NavTimeLs(_) => "NAV-TIMELS",
            Message::NavTimeGps(_) => "NAV-TIMEGPS",
            Message::NavClock(_) => "NAV-CLOCK",
            Message::NavEoe { .. } => "NAV-EOE",
            Message::TimTp(_) => "TIM-TP",
            Message::TimSvin(_) => "TIM-SVIN",
            Message::MonHw(_) => "MON-HW",
            Message::MonRf(_) => "MON-RF",
            Message::MonVer(_) => "MON-VER",
            Message::SecSig(_) => "SEC-SIG",
            Message::AckAck { .. } => "ACK-ACK",
            Message::AckNak { .. } => "ACK-NAK",
            Message::Other { .. } => "UBX-OTHER",
            Message::UbxUnknown { .. } => "UBX-UNKNOWN",
            Message::Rmc(_) => "RMC",
            Message::Gga(_) => "GGA",
            Message::Gsa(_) => "GSA",
            Message::Gsv(_) => "GSV",
            Message::Zda(_) => "ZDA",
            Message::Gns(_) => "GNS",
            Message::Txt(_) => "TXT",
            Message::Gbs(_) => "GBS",
            Message::Pubx(_) => "PUBX",
            Message::NmeaOther { .. } => "NMEA-OTHER",
        }
    }
}

/// UBX-NAV-PVT (92 bytes; 84 on protocol 14).
#[derive(Debug, Clone, PartialEq)]
pub struct NavPvt {
    pub itow_ms: u32,
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub min: u8,
    pub sec: u8,
    /// validDate 0x01, validTime 0x02, fullyResolved 0x04.
    pub valid: u8,
    pub t_acc_ns: u32,
    pub nano: i32,
    /// 0 none, 1 DR, 2 2D, 3 3D, 4 GNSS+DR, 5 time only.
    pub fix_type: u8,
    /// gnssFixOK 0x01.
    pub flags: u8,
    /// confirmedAvai 0x20, confirmedDate 0x40, confirmedTime 0x80.
    pub flags2: u8,
    pub num_sv: u8,
    pub lon_deg: f64,
    pub lat_deg: f64,
    pub height_msl_m: f64,
    pub pdop: f64,
}

impl NavPvt {
    pub const VALID_DATE: u8 = 0x01;
    pub const VALID_TIME: u8 = 0x02;
    pub const FULLY_RESOLVED: u8 = 0x04;
}

/// UBX-NAV-SOL (older receivers without NAV-PVT): GPS week/TOW and fix.
#[derive(Debug, Clone, PartialEq)]
pub struct NavSol {
    pub itow_ms: u32,
    pub ftow_ns: i32,
    pub week: i16,
    pub gps_fix: u8,
    /// gpsFixOK 0x01, diffSoln 0x02, wknSet 0x04, towSet 0x08.
    pub flags: u8,
    pub pdop: f64,
    pub num_sv: u8,
}

/// One satellite from NAV-SAT, NAV-SVINFO or a GSV sentence, already mapped to
/// u-blox gnssId/svid.
#[derive(Debug, Clone, PartialEq)]
pub struct SatView {
    pub gnss: Constellation,
    pub svid: u16,
    /// Degrees; `None` when the receiver does not know.
    pub el_deg: Option<i16>,
    pub az_deg: Option<i16>,
    pub cn0_dbhz: Option<u8>,
    pub used: bool,
    pub healthy: Option<bool>,
}

/// NAV-SAT (and NAV-SVINFO, same shape after svid mapping).
#[derive(Debug, Clone, PartialEq)]
pub struct NavSat {
    pub itow_ms: u32,
    pub sats: Vec<SatView>,
}

/// One signal from NAV-SIG.
#[derive(Debug, Clone, PartialEq)]
pub struct SigView {
    pub gnss: Constellation,
    pub svid: u16,
    /// u-blox signal id (per gnssId), see `gnss::signal::ubx_signal`.
    pub sig_id: u8,
    /// GLONASS frequency slot + 7; 0 for other systems.
    pub freq_id: u8,
    pub cn0_dbhz: u8,
    /// qualityInd 0..7.
    pub quality_ind: u8,
    /// Pseudorange used in the navigation solution (sigFlags prUsed).
    pub used: bool,
    pub healthy: Option<bool>,
}

/// NAV-SIG (protocol 27+): one entry per tracked signal.
#[derive(Debug, Clone, PartialEq)]
pub struct NavSig {
    pub itow_ms: u32,
    pub sigs: Vec<SigView>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NavStatus {
    pub itow_ms: u32,
    /// 0 none, 1 DR, 2 2D, 3 3D, 4 GNSS+DR, 5 time only.
    pub gps_fix: u8,
    /// gpsFixOk 0x01, diffSoln 0x02, wknSet 0x04, towSet 0x08.
    pub flags: u8,
    /// spoofDetState: 0 unknown, 1 none, 2 indicated, 3 multiple.
    pub spoof_det_state: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NavDop {
    pub itow_ms: u32,
    pub pdop: f64,
    pub tdop: f64,
    pub vdop: f64,
    pub hdop: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NavTimeUtc {
    pub itow_ms: u32,
    pub t_acc_ns: u32,
    pub nano: i32,
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub min: u8,
    pub sec: u8,
    /// validTOW 0x01, validWKN 0x02, validUTC 0x04.
    pub valid: u8,
}

impl NavTimeUtc {
    pub const VALID_TOW: u8 = 0x01;
    pub const VALID_WKN: u8 = 0x02;
    pub const VALID_UTC: u8 = 0x04;
}

#[derive(Debug, Clone, PartialEq)]
pub struct NavTimeLs {
    pub itow_ms: u32,
    /// 0 firmware default, 1 GPS/GLONASS difference, 2 GPS, 3 SBAS, 4 BeiDou,
    /// 5 Galileo, 6 aided, 7 configured, 255 unknown.
    pub src_of_curr_ls: u8,
    pub curr_ls: i8,
    pub src_of_ls_change: u8,
    pub ls_change: i8,
    pub time_to_ls_event_s: i32,
    pub date_of_ls_gps_wn: u16,
    pub date_of_ls_gps_dn: u16,
    /// validCurrLs 0x01, validTimeToLsEvent 0x02.
    pub valid: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NavTimeGps {
    pub itow_ms: u32,
    pub ftow_ns: i32,
    /// Full week number as sent (u-blox sends the full week here).
    pub week: i16,
    pub leap_s: i8,
    /// towValid 0x01, weekValid 0x02, leapSValid 0x04.
    pub valid: u8,
    pub t_acc_ns: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NavClock {
    pub itow_ms: u32,
    pub bias_ns: i32,
    pub drift_ns_per_s: i32,
    pub t_acc_ns: u32,
    pub f_acc_ps_per_s: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimTp {
    pub tow_ms: u32,
    /// Sub-millisecond part, units of 2^-32 ms.
    pub tow_sub_ms: u32,
    pub q_err_ps: i32,
    /// Week number as sent (may be modulo 1024 on old receivers).
    pub week: u16,
    /// timeBase 0x01 (UTC), utc 0x02 (UTC available), qErrInvalid 0x10.
    pub flags: u8,
    pub ref_info: u8,
}

impl TimTp {
    pub const TIMEBASE_UTC: u8 = 0x01;
    pub const UTC_AVAILABLE: u8 = 0x02;
    pub const QERR_INVALID: u8 = 0x10;
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimSvin {
    pub dur_s: u32,
    pub mean_x_cm: i32,
    pub mean_y_cm: i32,
    pub mean_z_cm: i32,
    pub mean_v_mm2: u32,
    pub obs: u32,
    pub valid: bool,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonHw {
    pub noise_per_ms: u16,
    pub agc_cnt: u16,
    /// 0 init, 1 don't know, 2 ok, 3 short, 4 open.
    pub a_status: u8,
    /// 0 off, 1 on, 2 don't know.
    pub a_power: u8,
    /// 0 unknown, 1 ok, 2 warning, 3 critical.
    pub jamming_state: u8,
    pub jam_ind: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonRfBlock {
    pub block_id: u8,
    pub jamming_state: u8,
    pub ant_status: u8,
    pub ant_power: u8,
    pub noise_per_ms: u16,
    pub agc_cnt: u16,
    pub jam_ind: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonRf {
    pub blocks: Vec<MonRfBlock>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonVer {
    pub sw_version: String,
    pub hw_version: String,
    pub extensions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecSig {
    /// 0 unknown, 1 no jamming, 2 warning, 3 critical.
    pub jamming_state: u8,
    /// 0 unknown, 1 no spoofing, 2 indicated, 3 affirmed.
    pub spoofing_state: u8,
}

// ---- NMEA ----

/// Time of day from an NMEA time field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NmeaTime {
    pub hour: u8,
    pub min: u8,
    pub sec: u8,
    pub nanos: u32,
}

impl NmeaTime {
    /// Milliseconds since midnight: the epoch key for NMEA.
    pub fn ms_of_day(&self) -> u32 {
        (self.hour as u32 * 3600 + self.min as u32 * 60 + self.sec as u32) * 1000
            + self.nanos / 1_000_000
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NmeaDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rmc {
    pub talker: String,
    pub time: Option<NmeaTime>,
    pub date: Option<NmeaDate>,
    /// Status A (valid).
    pub valid: bool,
    pub lat_deg: Option<f64>,
    pub lon_deg: Option<f64>,
    /// Mode indicator (NMEA 2.3+): 'A', 'D', 'E', 'N', ...
    pub mode: Option<char>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gga {
    pub talker: String,
    pub time: Option<NmeaTime>,
    pub lat_deg: Option<f64>,
    pub lon_deg: Option<f64>,
    /// 0 invalid, 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float, 6 DR, ...
    pub quality: u8,
    pub num_sats: Option<u32>,
    pub hdop: Option<f64>,
    pub alt_msl_m: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gsa {
    pub talker: String,
    /// 1 none, 2 2D, 3 3D.
    pub nav_mode: u8,
    /// Satellites used, mapped to u-blox gnssId/svid.
    pub used: Vec<(Constellation, u16)>,
    pub pdop: Option<f64>,
    pub hdop: Option<f64>,
    pub vdop: Option<f64>,
    /// NMEA 4.10 system id, when present.
    pub system_id: Option<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gsv {
    pub talker: String,
    pub num_msgs: u8,
    pub msg_num: u8,
    pub sats_in_view: u16,
    pub sats: Vec<SatView>,
    /// NMEA 4.10 signal id, when present.
    pub signal_id: Option<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Zda {
    pub talker: String,
    pub time: Option<NmeaTime>,
    pub date: Option<NmeaDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gns {
    pub talker: String,
    pub time: Option<NmeaTime>,
    pub lat_deg: Option<f64>,
    pub lon_deg: Option<f64>,
    /// One mode character per constellation (GPS, GLONASS, Galileo, BeiDou, ...).
    pub modes: String,
    pub num_sats: Option<u32>,
    pub hdop: Option<f64>,
    pub alt_msl_m: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Txt {
    pub talker: String,
    pub msg_type: u8,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gbs {
    pub talker: String,
    pub time: Option<NmeaTime>,
    pub err_lat_m: Option<f64>,
    pub err_lon_m: Option<f64>,
    pub err_alt_m: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Pubx {
    /// PUBX,00 position.
    Position {
        time: Option<NmeaTime>,
        lat_deg: Option<f64>,
        lon_deg: Option<f64>,
        alt_m: Option<f64>,
        /// NF, DR, G2, G3, D2, D3, RK, TT.
        nav_stat: String,
        hdop: Option<f64>,
        vdop: Option<f64>,
        num_sats: Option<u32>,
    },
    /// PUBX,03 satellite status.
    Satellites {
        sats: Vec<SatView>,
    },
    /// PUBX,04 time of day and clock.
    Time {
        time: Option<NmeaTime>,
        date: Option<NmeaDate>,
        /// GPS week as sent, and the leap seconds (with a trailing 'D' when default).
        week: Option<u16>,
        leap_s: Option<i16>,
        leap_is_default: bool,
    },
    Other {
        msg_id: u8,
    },
}
