//! What the receiver model shows in the status snapshot.

use serde::Serialize;

use crate::gnss::message::{MonVer, TimSvin};
use crate::gnss::*;

/// Receiver view in the status snapshot: counters and the latest state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceiverStatus {
    pub identity: Option<ReceiverIdentity>,
    pub counters: ReceiverCounters,
    /// UTC of the last epoch, ns since the Unix epoch.
    pub last_epoch_utc_ns: Option<i64>,
    pub fix: Fix,
    pub sats_visible: u32,
    pub sats_used: u32,
    /// Latest values seen (they persist across epochs that do not carry them).
    pub antenna: Option<AntennaInfo>,
    pub security: Option<Security>,
    pub leap: Option<LeapInfo>,
    pub time_pulse: Option<TimePulse>,
    pub survey_in: Option<SurveyIn>,
    /// Last ACK-NAK (class, id).
    pub last_nak: Option<[u8; 2]>,
    /// Last TXT sentence (truncated).
    pub last_text: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReceiverCounters {
    pub messages: u64,
    pub epochs: u64,
    pub decode_errors: u64,
    pub unknown_ubx: u64,
    pub rtcm3_frames: u64,
    pub acks: u64,
    pub naks: u64,
    /// GSV groups that closed with parts missing.
    pub gsv_incomplete: u64,
}

/// From MON-VER.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReceiverIdentity {
    pub sw_version: String,
    pub hw_version: String,
    /// `MOD=` extension, e.g. "ZED-F9T".
    pub model: Option<String>,
    /// `FWVER=` extension, e.g. "TIM 2.20".
    pub firmware: Option<String>,
    /// `PROTVER=` extension, e.g. "29.20".
    pub protocol: Option<String>,
    pub extensions: Vec<String>,
}

impl ReceiverIdentity {
    pub fn from_mon_ver(v: &MonVer) -> Self {
        let ext = |key: &str| {
            v.extensions
                .iter()
                .find_map(|e| e.strip_prefix(key))
                .map(|s| s.trim().to_string())
        };
        Self {
            sw_version: v.sw_version.clone(),
            hw_version: v.hw_version.clone(),
            model: ext("MOD="),
            firmware: ext("FWVER="),
            protocol: ext("PROTVER=").or_else(|| ext("PROTVER ")),
            extensions: v.extensions.clone(),
        }
    }
}

/// TIM-SVIN progress.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SurveyIn {
    pub duration_s: u32,
    pub observations: u32,
    /// Mean position ECEF, cm.
    pub mean_ecef_cm: [i32; 3],
    /// 3D variance, mm².
    pub variance_mm2: u32,
    pub valid: bool,
    pub active: bool,
}

impl From<&TimSvin> for SurveyIn {
    fn from(s: &TimSvin) -> Self {
        Self {
            duration_s: s.dur_s,
            observations: s.obs,
            mean_ecef_cm: [s.mean_x_cm, s.mean_y_cm, s.mean_z_cm],
            variance_mm2: s.mean_v_mm2,
            valid: s.valid,
            active: s.active,
        }
    }
}

impl ReceiverStatus {
    pub(crate) fn record_epoch(&mut self, e: &GnssEpoch) {
        self.counters.epochs += 1;
        if let Some(t) = e.time {
            self.last_epoch_utc_ns = Some(t.utc_ns);
        }
        self.fix = e.fix.clone();
        if !e.satellites.is_empty() {
            self.sats_visible = e.satellites.len() as u32;
            self.sats_used = e.satellites.iter().filter(|s| s.used).count() as u32;
        }
        if e.antenna.is_some() {
            self.antenna = e.antenna;
        }
        if e.security.is_some() {
            self.security = e.security;
        }
        if e.leap.is_some() {
            self.leap = e.leap;
        }
        if e.time_pulse.is_some() {
            self.time_pulse = e.time_pulse;
        }
    }
}
