//! Data types that leave the GNSS module: one assembled epoch and its parts.
//! This is the contract between `gnss::Receiver` (producer) and `discipline`,
//! `status`, `decode` and the simulators (consumers).

use serde::Serialize;

/// Constellation, numbered as u-blox gnssId.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Constellation {
    #[serde(rename = "GPS")]
    Gps,
    #[serde(rename = "SBAS")]
    Sbas,
    #[serde(rename = "Galileo")]
    Galileo,
    #[serde(rename = "BeiDou")]
    BeiDou,
    #[serde(rename = "IMES")]
    Imes,
    #[serde(rename = "QZSS")]
    Qzss,
    #[serde(rename = "GLONASS")]
    Glonass,
    #[serde(rename = "NavIC")]
    NavIc,
}

impl Constellation {
    /// From u-blox gnssId (0 GPS, 1 SBAS, 2 Galileo, 3 BeiDou, 4 IMES, 5 QZSS, 6 GLONASS, 7 NavIC).
    pub fn from_gnss_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::Gps,
            1 => Self::Sbas,
            2 => Self::Galileo,
            3 => Self::BeiDou,
            4 => Self::Imes,
            5 => Self::Qzss,
            6 => Self::Glonass,
            7 => Self::NavIc,
            _ => return None,
        })
    }
    pub fn gnss_id(self) -> u8 {
        self as u8
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FixMode {
    #[default]
    None,
    #[serde(rename = "2d")]
    TwoD,
    #[serde(rename = "3d")]
    ThreeD,
    /// Time-only fix (timing receivers in fixed-position mode).
    Time,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Fix {
    pub mode: FixMode,
    pub lat_deg: Option<f64>,
    pub lon_deg: Option<f64>,
    /// Height above mean sea level, metres.
    pub alt_msl_m: Option<f64>,
    pub pdop: Option<f64>,
    pub hdop: Option<f64>,
    pub vdop: Option<f64>,
    pub tdop: Option<f64>,
    pub sats_used: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SatInfo {
    pub gnss: Constellation,
    pub svid: u16,
    pub az_deg: Option<f64>,
    pub el_deg: Option<f64>,
    /// C/N0 in dB-Hz (0 when not tracked): the best of `signals` when the
    /// receiver reported signals with a C/N0, else what its sky message said.
    pub cn0_dbhz: Option<f64>,
    pub used: bool,
    /// None when the receiver did not say.
    pub healthy: Option<bool>,
    /// One entry per tracked signal (NAV-SIG, or GSV with NMEA 4.10+
    /// signal ids); empty when the receiver reports satellites only.
    pub signals: Vec<SignalInfo>,
}

/// One signal of a satellite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalInfo {
    /// Frequency band, e.g. "L1", "L2", "L5", "E1", "E5b", "B1I", "B2I";
    /// `None` for an id we have no name for.
    pub band: Option<&'static str>,
    /// Signal name, e.g. "L1C/A", "L2CL", "E1C", "E5bI", "B1I D1".
    pub signal: Option<&'static str>,
    pub cn0_dbhz: Option<f64>,
    /// Used in the navigation solution (NAV-SIG prUsed); `None` from GSV.
    pub used: Option<bool>,
    /// Tracking state (NAV-SIG qualityInd); `None` from GSV.
    pub quality: Option<SignalQuality>,
}

/// u-blox signal quality indicator (NAV-SAT/NAV-SIG qualityInd 0..7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalQuality {
    NoSignal,
    Searching,
    Acquired,
    Unusable,
    CodeLocked,
    /// Code and carrier locked, time synchronized (qualityInd 5..7).
    CarrierLocked,
}

impl SignalQuality {
    pub fn from_ind(q: u8) -> Self {
        match q {
            0 => Self::NoSignal,
            1 => Self::Searching,
            2 => Self::Acquired,
            3 => Self::Unusable,
            4 => Self::CodeLocked,
            _ => Self::CarrierLocked,
        }
    }
}

/// Satellites of one constellation in the latest sky.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConstellationCount {
    pub gnss: Constellation,
    pub visible: u32,
    pub used: u32,
}

/// Where a time or leap value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeOrigin {
    /// Decoded from the satellites' navigation message.
    Satellites,
    /// Firmware default (e.g. the leap count compiled into the receiver): never
    /// to be used for serving time.
    FirmwareDefault,
    Unknown,
}

/// UTC time of the navigation epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochTime {
    /// UTC, ns since the Unix epoch.
    pub utc_ns: i64,
    pub valid_date: bool,
    pub valid_time: bool,
    /// Time fully resolved (no half-millisecond / week ambiguity).
    pub fully_resolved: bool,
    /// Receiver's time accuracy estimate, ns.
    pub tacc_ns: Option<u64>,
    /// Which message this came from, e.g. "NAV-PVT", "NAV-TIMEUTC", "RMC", "ZDA".
    pub source: &'static str,
}

impl EpochTime {
    pub fn is_valid(&self) -> bool {
        self.valid_date && self.valid_time
    }
}

/// GPS time of the epoch with the 1024-week rollover resolved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GpsTime {
    /// Full GPS week number (not modulo 1024).
    pub week: u32,
    pub tow_ms: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LeapInfo {
    /// GPS−UTC in seconds (18 since 2017).
    pub current: i16,
    /// Announced change: +1, −1 or 0.
    pub change: i8,
    /// Seconds from this epoch to the change, when one is announced.
    pub time_to_change_s: Option<i64>,
    /// Whether the receiver marks the value valid.
    pub valid: bool,
    pub origin: TimeOrigin,
}

/// TIM-TP: when the next time pulse will be and its quantization error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimePulse {
    /// UTC of the next pulse, ns since the Unix epoch.
    pub utc_ns: i64,
    /// Quantization error of the next pulse in ps (TIM-TP qErr), when valid.
    pub qerr_ps: Option<i64>,
    /// The time base of the pulse is UTC (else GNSS time converted with leap).
    pub utc_based: bool,
    /// UTC parameters available to the receiver.
    pub utc_valid: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AntennaStatus {
    Ok,
    Short,
    Open,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AntennaPower {
    On,
    Off,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct AntennaInfo {
    pub status: AntennaStatus,
    pub power: AntennaPower,
    /// Continuous-wave jamming indicator 0..255 (MON-HW jamInd / MON-RF).
    pub jamming: Option<u8>,
    pub noise_per_ms: Option<u16>,
    pub agc_count: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum JammingState {
    #[default]
    Unknown,
    Ok,
    Warning,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SpoofingState {
    #[default]
    Unknown,
    None,
    Indicated,
    Multiple,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Security {
    pub jamming: JammingState,
    pub spoofing: SpoofingState,
}

/// Receiver clock solution (NAV-CLOCK).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReceiverClock {
    pub bias_ns: i64,
    pub drift_ns_per_s: i64,
    pub tacc_ns: u64,
    pub facc_ps_per_s: u64,
}

/// One assembled navigation epoch: everything the receiver said about one
/// instant. Fields are `None` when the epoch carried no message for them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GnssEpoch {
    pub time: Option<EpochTime>,
    pub gps_time: Option<GpsTime>,
    pub fix: Fix,
    /// Empty when the epoch carried no sky message (see `sky_reported`).
    pub satellites: Vec<SatInfo>,
    /// The epoch carried a sky message (NAV-SAT, NAV-SVINFO, NAV-SIG, GSV,
    /// PUBX,03), even one listing no satellite: an empty sky then means
    /// "none in view", not "not reported".
    pub sky_reported: bool,
    pub leap: Option<LeapInfo>,
    pub time_pulse: Option<TimePulse>,
    pub antenna: Option<AntennaInfo>,
    pub security: Option<Security>,
    pub clock: Option<ReceiverClock>,
}

/// Survey-in: what the configuration set up, and what the receiver reports
/// (TIM-SVIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SurveyState {
    #[default]
    Off,
    InProgress,
    /// Fixed position from a completed survey (this run or a stored one).
    Fixed,
}

/// Antenna reference point position, ECEF, as the receiver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SurveyPosition {
    pub ecef_x_cm: i32,
    pub ecef_y_cm: i32,
    pub ecef_z_cm: i32,
    /// 3D accuracy of the position, mm.
    pub accuracy_mm: u32,
}
