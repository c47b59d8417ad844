//! The engine's parameters (mapped from the daemon config by `app::engine_config`).

use super::super::lock::LockConfig;
use super::super::pairing::PairingConfig;
use super::super::servo::ServoConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct EngineConfig {
    pub servo: ServoConfig,
    pub lock: LockConfig,
    /// Antenna cable delay, ns (pulse late by this much).
    pub cable_delay_ns: i64,
    /// PPS capture latency, ns (timestamp late by this much).
    pub capture_latency_ns: i64,
    /// At start-up only: step the clock when the offset exceeds this, ns.
    pub step_threshold_ns: i64,
    /// NTP reference ID (up to 4 ASCII characters).
    pub refid: String,
    pub min_satellites: u32,
    /// No PPS edge for this long: GNSS not trusted.
    pub pps_timeout_ms: i64,
    /// No valid receiver time for this long: GNSS not trusted.
    pub time_timeout_ms: i64,
    /// The published bound is this many σ of the phase estimate …
    pub bound_sigmas: f64,
    /// … plus this allowance for calibration errors, ns.
    pub systematic_error_ns: f64,
    /// Hand out the holdover model for persistence this often while locked, s.
    pub model_interval_s: i64,
    /// How leap seconds are carried out: kernel, step or smear.
    pub leap_mode: crate::discipline::leap::LeapMode,
    /// Operator's TAI − UTC, seconds (a leap source like the receiver and the file).
    pub leap_tai_utc_override: Option<i32>,
    /// Accept a time jump by itself once it has persisted (with consistent
    /// samples) this long, s. None: only an operator accepts it.
    pub jump_accept_after_s: Option<u32>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            servo: ServoConfig::default(),
            lock: LockConfig::default(),
            cable_delay_ns: 0,
            capture_latency_ns: 0,
            step_threshold_ns: 1_000_000,
            refid: "GPS".to_string(),
            min_satellites: 4,
            pps_timeout_ms: 2_500,
            time_timeout_ms: 3_000,
            bound_sigmas: 5.0,
            systematic_error_ns: 0.0,
            model_interval_s: 600,
            leap_mode: crate::discipline::leap::LeapMode::Kernel,
            leap_tai_utc_override: None,
            jump_accept_after_s: None,
        }
    }
}

impl EngineConfig {
    pub fn pairing(&self) -> PairingConfig {
        PairingConfig {
            cable_delay_ns: self.cable_delay_ns,
            capture_latency_ns: self.capture_latency_ns,
            ..PairingConfig::default()
        }
    }
    pub fn refid_bytes(&self) -> [u8; 4] {
        let mut r = [0u8; 4];
        for (d, s) in r.iter_mut().zip(self.refid.bytes()) {
            *d = s;
        }
        r
    }
}
