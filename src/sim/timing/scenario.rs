//! Scenario files for `simulate` (TOML, kebab-case, unknown keys rejected).

use crate::clock::{SimOscillator, TemperatureProfile};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    /// Free text shown in the summary.
    #[serde(default)]
    pub name: String,
    /// Simulated seconds.
    pub duration_s: u64,
    /// True UTC at the start, whole seconds since the Unix epoch.
    #[serde(default = "default_start")]
    pub start_unix_s: i64,
    /// The local clock's error at the start, ns.
    #[serde(default)]
    pub initial_offset_ns: i64,
    /// Time-error statistics start this long after the start, s.
    #[serde(default = "default_settle")]
    pub settle_s: u64,
    pub oscillator: OscillatorSpec,
    #[serde(default)]
    pub pps: PpsSpec,
    #[serde(default)]
    pub receiver: ReceiverSpec,
    #[serde(default)]
    pub warm_start: Option<WarmStartSpec>,
    #[serde(default)]
    pub events: Vec<EventSpec>,
}

fn default_start() -> i64 {
    // 2026-06-01T00:00:00Z
    1_780_272_000
}
fn default_settle() -> u64 {
    600
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OscillatorSpec {
    pub offset_ppm: f64,
    /// σ of the per-second fractional frequency change.
    pub wander_sigma: f64,
    #[serde(default)]
    pub tempco_ppm_per_c: f64,
    #[serde(default = "default_ref_c")]
    pub reference_c: f64,
    #[serde(default)]
    pub temperature: TemperatureProfile,
    /// Linear frequency drift (crystal aging), ppm per day.
    #[serde(default)]
    pub aging_ppm_per_day: f64,
    /// Cubic part of the crystal curve, ppm per °C³ around `reference-c`.
    #[serde(default)]
    pub tempco_cubic_ppm_per_c3: f64,
    /// The crystal follows the (SoC) sensor temperature with this first-order
    /// lag, s: the sensor the servo reads leads the crystal.
    #[serde(default)]
    pub crystal_lag_s: f64,
    /// The kernel's frequency resolution, ppm (2^-16 ppm on Linux).
    #[serde(default)]
    pub frequency_resolution_ppm: f64,
    /// CPU load (0 or 1) over time, as (seconds, load) points held until the
    /// next: it selects the IRQ-latency scale.
    #[serde(default)]
    pub load: Vec<(f64, f64)>,
}

fn default_ref_c() -> f64 {
    25.0
}

impl OscillatorSpec {
    pub fn to_sim(&self) -> SimOscillator {
        SimOscillator {
            offset_ppm: self.offset_ppm,
            wander_sigma: self.wander_sigma,
            tempco_ppm_per_c: self.tempco_ppm_per_c,
            reference_c: self.reference_c,
            temperature: self.temperature.clone(),
            aging_ppm_per_day: self.aging_ppm_per_day,
            tempco_cubic_ppm_per_c3: self.tempco_cubic_ppm_per_c3,
            crystal_lag_s: self.crystal_lag_s,
            frequency_resolution_ppm: self.frequency_resolution_ppm,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PpsSpec {
    /// White capture noise, ns RMS (after qErr correction).
    pub white_rms_ns: f64,
    /// Fraction of pulses captured late by `outlier-ns`.
    pub outlier_rate: f64,
    pub outlier_ns: f64,
    /// Constant capture latency, ns (the engine is configured with it).
    pub latency_ns: i64,
    /// Fraction of seconds in which a run of missed pulses starts …
    pub missed_rate: f64,
    /// … of 1 ..= this many pulses.
    pub missed_burst_max: u32,
    /// GPIO interrupt latency: one-sided and heavy-tailed (Pareto, shape
    /// `irq-tail-shape`), this scale in ns when the CPU idles …
    pub irq_latency_idle_ns: f64,
    /// … and this scale under load (a Pi 4 shows a few µs idle, tens under load).
    pub irq_latency_load_ns: f64,
    pub irq_tail_shape: f64,
    /// Timestamps are counts of a timer at this frequency, Hz (the Pi's
    /// 54 MHz timer: 18.5 ns granularity); 0: exact.
    pub timer_hz: u64,
}

impl Default for PpsSpec {
    fn default() -> Self {
        Self {
            white_rms_ns: 20.0,
            outlier_rate: 0.0,
            outlier_ns: 0.0,
            latency_ns: 0,
            missed_rate: 0.0,
            missed_burst_max: 1,
            irq_latency_idle_ns: 0.0,
            irq_latency_load_ns: 0.0,
            irq_tail_shape: 3.0,
            timer_hz: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ReceiverSpec {
    /// Peak of the qErr sawtooth, ns (reported in TIM-TP and corrected).
    pub qerr_amplitude_ns: f64,
    /// Message latency after the pulse, uniform in [min, max], ms.
    pub latency_min_ms: f64,
    pub latency_max_ms: f64,
    /// Send TIM-TP and the epoch time as separate messages with independent
    /// latencies, so they arrive in either order.
    pub reorder: bool,
    pub satellites: u32,
}

impl Default for ReceiverSpec {
    fn default() -> Self {
        Self {
            qerr_amplitude_ns: 4.0,
            latency_min_ms: 20.0,
            latency_max_ms: 400.0,
            reorder: false,
            satellites: 12,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WarmStartSpec {
    /// Error of the persisted frequency against the true one, ppm.
    pub frequency_error_ppm: f64,
    /// σ the persisted model claims, ppm.
    #[serde(default = "default_warm_sigma")]
    pub frequency_sigma_ppm: f64,
}

fn default_warm_sigma() -> f64 {
    0.01
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum EventSpec {
    /// No PPS and no receiver messages.
    Outage {
        #[serde(rename = "from-s")]
        from_s: u64,
        #[serde(rename = "to-s")]
        to_s: u64,
    },
    /// Antenna short circuit: PPS continues (receiver free-running), status SHORT.
    AntennaShort {
        #[serde(rename = "from-s")]
        from_s: u64,
        #[serde(rename = "to-s")]
        to_s: u64,
    },
    AntennaOpen {
        #[serde(rename = "from-s")]
        from_s: u64,
        #[serde(rename = "to-s")]
        to_s: u64,
    },
    /// Receiver flags spoofing.
    Spoofing {
        #[serde(rename = "from-s")]
        from_s: u64,
        #[serde(rename = "to-s")]
        to_s: u64,
    },
    /// Receiver flags critical jamming.
    Jamming {
        #[serde(rename = "from-s")]
        from_s: u64,
        #[serde(rename = "to-s")]
        to_s: u64,
    },
    /// Satellites used drop to this number.
    FewSatellites {
        #[serde(rename = "from-s")]
        from_s: u64,
        #[serde(rename = "to-s")]
        to_s: u64,
        satellites: u32,
    },
    /// The receiver marks its time invalid (PPS continues).
    InvalidTime {
        #[serde(rename = "from-s")]
        from_s: u64,
        #[serde(rename = "to-s")]
        to_s: u64,
    },
    /// The receiver's time (labels and pulse) jumps by `jump-ns` from `at-s`
    /// until `to-s` (or the end).
    TimeJump {
        #[serde(rename = "at-s")]
        at_s: u64,
        #[serde(rename = "to-s", default)]
        to_s: Option<u64>,
        #[serde(rename = "jump-ns")]
        jump_ns: i64,
    },
    /// The oscillator's frequency jumps by `ppm` at `at-s` (a crystal
    /// micro-jump, a knock): GNSS stays healthy.
    FrequencyStep {
        #[serde(rename = "at-s")]
        at_s: u64,
        ppm: f64,
    },
    /// No PPS edges (the receiver keeps talking): missed pulses.
    PpsDropout {
        #[serde(rename = "from-s")]
        from_s: u64,
        #[serde(rename = "to-s")]
        to_s: u64,
    },
    /// A leap second at the end of the UTC day `date` (YYYY-MM-DD, a month's last day).
    Leap { date: String, insert: bool },
}

impl EventSpec {
    /// Seconds [from, to) in which GNSS is impaired (for statistics exclusion).
    pub fn impaired_span(&self, duration_s: u64) -> Option<(u64, u64)> {
        match *self {
            Self::Outage { from_s, to_s }
            | Self::AntennaShort { from_s, to_s }
            | Self::AntennaOpen { from_s, to_s }
            | Self::Spoofing { from_s, to_s }
            | Self::Jamming { from_s, to_s }
            | Self::FewSatellites { from_s, to_s, .. }
            | Self::InvalidTime { from_s, to_s } => Some((from_s, to_s)),
            Self::TimeJump { at_s, to_s, .. } => Some((at_s, to_s.unwrap_or(duration_s))),
            Self::Leap { .. } | Self::FrequencyStep { .. } | Self::PpsDropout { .. } => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid scenario {path}: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("invalid scenario: {0}")]
    Invalid(String),
}

impl Scenario {
    pub fn from_toml(text: &str, path: &str) -> Result<Self, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_string(),
            source: e,
        })?;
        s.validate()?;
        Ok(s)
    }

    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Read {
            path: p.clone(),
            source: e,
        })?;
        Self::from_toml(&text, &p)
    }

    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad = |m: String| Err(ScenarioError::Invalid(m));
        if self.duration_s == 0 || self.duration_s > 30 * 86_400 {
            return bad(format!(
                "duration-s {} must be 1..=2592000",
                self.duration_s
            ));
        }
        let r = &self.receiver;
        if !(0.0..=950.0).contains(&r.latency_min_ms)
            || !(0.0..=950.0).contains(&r.latency_max_ms)
            || r.latency_min_ms > r.latency_max_ms
        {
            return bad("receiver latency must satisfy 0 <= min <= max <= 950 ms".into());
        }
        let p = &self.pps;
        if !(0.0..=1.0).contains(&p.missed_rate) || p.missed_burst_max == 0 {
            return bad("pps.missed-rate must be within 0..1, missed-burst-max >= 1".into());
        }
        if !(p.irq_latency_idle_ns >= 0.0
            && p.irq_latency_load_ns >= 0.0
            && p.irq_tail_shape > 1.0
            && p.timer_hz <= 1_000_000_000)
        {
            return bad("pps: irq-latency-*-ns >= 0, irq-tail-shape > 1, timer-hz <= 1e9".into());
        }
        if !(self.oscillator.crystal_lag_s >= 0.0
            && self.oscillator.frequency_resolution_ppm >= 0.0)
        {
            return bad(
                "oscillator: crystal-lag-s and frequency-resolution-ppm must be >= 0".into(),
            );
        }
        if !(0.0..=1.0).contains(&p.outlier_rate) {
            return bad("pps.outlier-rate must be within 0..1".into());
        }
        if p.white_rms_ns.is_nan() || p.white_rms_ns < 0.0 || p.white_rms_ns > 1e8 {
            return bad("pps.white-rms-ns must be within 0..1e8".into());
        }
        let o = &self.oscillator;
        if o.wander_sigma.is_nan() || o.wander_sigma < 0.0 || o.offset_ppm.abs() > 400.0 {
            return bad("oscillator: wander-sigma >= 0 and |offset-ppm| <= 400".into());
        }
        for e in &self.events {
            if let Some((a, b)) = e.impaired_span(self.duration_s) {
                if a > b {
                    return bad(format!("event {e:?}: start after end"));
                }
            }
            if let EventSpec::Leap { date, .. } = e {
                if parse_date(date).is_none() {
                    return bad(format!("leap date {date:?} is not YYYY-MM-DD"));
                }
            }
        }
        Ok(())
    }
}

/// POSIX ns of the midnight that ends the day `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    let start = crate::time::utc_from_fields(y, m, d, 0, 0, 0, 0)?;
    Some(start + crate::time::SECS_PER_DAY * crate::time::NS_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_keys() {
        let ok = r#"
            duration-s = 100
            [oscillator]
            offset-ppm = 20.0
            wander-sigma = 1e-9
            temperature = { kind = "sinusoid", mean-c = 25.0, amplitude-c = 5.0, period-s = 14400.0 }
            [pps]
            white-rms-ns = 1000.0
            [[events]]
            kind = "outage"
            from-s = 10
            to-s = 20
        "#;
        let s = Scenario::from_toml(ok, "x").unwrap();
        assert_eq!(s.events.len(), 1);
        let bad = ok.replace("white-rms-ns", "white-rms");
        let e = Scenario::from_toml(&bad, "x").unwrap_err().to_string();
        assert!(e.contains("white-rms"), "{e}");
        let bad = ok.replace("period-s", "periodd");
        assert!(Scenario::from_toml(&bad, "x").is_err());
        let bad = ok.replace("from-s = 10", "from-s = 30");
        assert!(Scenario::from_toml(&bad, "x").is_err());
    }

    #[test]
    fn leap_date() {
        let t = parse_date("2016-12-31").unwrap();
        assert_eq!(
            t,
            crate::time::utc_from_fields(2017, 1, 1, 0, 0, 0, 0).unwrap()
        );
        assert!(parse_date("2016-13-01").is_none());
    }
}
