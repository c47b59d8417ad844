//! The holdover model: what the servo learned while locked (frequency, aging,
//! temperature coefficient, with their uncertainties), serializable so the
//! store persists it and a restart is warm; the honest time-error bound; and
//! a thin reader for the SoC temperature.

use super::servo::{Servo, WarmStart};
use serde::{Deserialize, Serialize};

/// Learned oscillator model (persisted).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct HoldoverModel {
    /// Free-running oscillator frequency (at `reference_temp_c`), ppm.
    pub frequency_ppm: f64,
    pub frequency_sigma_ppm: f64,
    pub drift_ppm_per_day: f64,
    pub drift_sigma_ppm_per_day: f64,
    pub tempco_ppm_per_c: f64,
    pub tempco_sigma_ppm_per_c: f64,
    /// Temperature at which `frequency_ppm` was estimated.
    pub reference_temp_c: Option<f64>,
    /// Measurement noise seen, ns RMS.
    pub noise_ns: f64,
    /// When the model was taken (UTC ns).
    pub learned_at_ns: i64,
}

impl HoldoverModel {
    pub fn from_servo(servo: &Servo, utc_ns: i64) -> Self {
        Self {
            frequency_ppm: servo.frequency_ppm(),
            frequency_sigma_ppm: servo.frequency_sigma_ppm(),
            drift_ppm_per_day: servo.drift_ppm_per_day(),
            drift_sigma_ppm_per_day: servo.drift_sigma_ppm_per_day(),
            tempco_ppm_per_c: servo.tempco_ppm_per_c(),
            tempco_sigma_ppm_per_c: servo.tempco_sigma_ppm_per_c(),
            reference_temp_c: servo.temperature_c(),
            noise_ns: servo.noise_ns(),
            learned_at_ns: utc_ns,
        }
    }

    /// Prior for a restart `age_s` seconds after the model was learned, at
    /// temperature `temp_c`. The frequency uncertainty grows with the age
    /// (wander and unmodelled aging) so a stale model is trusted less.
    pub fn warm_start(&self, age_s: f64, temp_c: Option<f64>, wander_sigma: f64) -> WarmStart {
        let age = age_s.max(0.0);
        let dtemp = match (temp_c, self.reference_temp_c) {
            (Some(a), Some(b)) => a - b,
            _ => 0.0,
        };
        let f = self.frequency_ppm
            + self.drift_ppm_per_day * age / 86_400.0
            + self.tempco_ppm_per_c * dtemp;
        let wander_ppm = wander_sigma * 1e6 * age.sqrt();
        let sigma = (self.frequency_sigma_ppm.powi(2)
            + wander_ppm.powi(2)
            + (self.drift_sigma_ppm_per_day * age / 86_400.0).powi(2)
            + (self.tempco_sigma_ppm_per_c * dtemp).powi(2))
        .sqrt()
        // Never claim better than 10 ppb after a restart.
        .max(0.01);
        WarmStart {
            frequency_ppm: f,
            frequency_sigma_ppm: sigma,
            drift_ppm_per_day: self.drift_ppm_per_day,
            tempco_ppm_per_c: self.tempco_ppm_per_c,
            tempco_sigma_ppm_per_c: self.tempco_sigma_ppm_per_c.max(0.001),
        }
    }
}

/// Time-error bound from the servo's phase variance predicted to `dt_s`
/// after its state: `k`·σ plus a fixed allowance for unmodelled systematic
/// errors (cable and capture-latency calibration).
pub fn time_error_bound_ns(phase_sigma_ns: f64, k: f64, systematic_ns: f64) -> f64 {
    k * phase_sigma_ns + systematic_ns
}

/// SoC temperature in °C from a sysfs thermal zone (millidegrees).
pub fn read_thermal_zone(path: &std::path::Path) -> Option<f64> {
    let s = std::fs::read_to_string(path).ok()?;
    parse_millidegrees(&s)
}

/// Parse a sysfs thermal value ("48312\n" → 48.312 °C).
pub fn parse_millidegrees(s: &str) -> Option<f64> {
    let v: i64 = s.trim().parse().ok()?;
    let c = v as f64 / 1000.0;
    (-100.0..=200.0).contains(&c).then_some(c)
}

/// Default thermal zone of the Raspberry Pi SoC.
pub const PI_THERMAL_ZONE: &str = "/sys/class/thermal/thermal_zone0/temp";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thermal_parse() {
        assert_eq!(parse_millidegrees("48312\n"), Some(48.312));
        assert_eq!(parse_millidegrees("garbage"), None);
        assert_eq!(parse_millidegrees("999999"), None);
    }

    #[test]
    fn warm_start_ages_and_applies_tempco() {
        let m = HoldoverModel {
            frequency_ppm: 20.0,
            frequency_sigma_ppm: 0.001,
            tempco_ppm_per_c: 0.2,
            tempco_sigma_ppm_per_c: 0.01,
            reference_temp_c: Some(25.0),
            ..HoldoverModel::default()
        };
        let w = m.warm_start(3600.0, Some(30.0), 1e-9);
        assert!((w.frequency_ppm - 21.0).abs() < 1e-9);
        // 60 ppb of wander after an hour, 50 ppb from the tempco uncertainty.
        assert!(
            w.frequency_sigma_ppm > 0.07 && w.frequency_sigma_ppm < 0.09,
            "{}",
            w.frequency_sigma_ppm
        );
        let json = serde_json::to_string(&m).unwrap();
        let back: HoldoverModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }
}
