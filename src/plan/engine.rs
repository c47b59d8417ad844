//! `[discipline]`, `[pps]`, `[leap]` and `[ntp] refid` → the discipline
//! engine's own parameters. `run`, `demo` and `simulate` all use this one
//! mapping, so what `simulate` measures is what the daemon runs.

use crate::config::Config;
use crate::discipline::engine::EngineConfig;
use crate::discipline::leap::LeapMode;

pub fn engine_config(cfg: &Config) -> EngineConfig {
    let mut e = EngineConfig::default();
    let d = &cfg.discipline;
    e.step_threshold_ns = (d.step_threshold_ms * 1e6).round() as i64;
    e.servo.max_correction_ppm = d.max_frequency_ppm;
    e.servo.phase_time_constant_s = d.time_constant_s;
    e.lock.bound_limit_ns = d.holdover_limit_ns as f64;
    e.min_satellites = d.min_satellites;
    e.jump_accept_after_s = Some(d.time_jump_accept_after_s).filter(|&s| s > 0);
    e.cable_delay_ns = cfg.pps.cable_delay_ns;
    e.capture_latency_ns = cfg.pps.capture_latency_ns;
    // The one place the advertised reference ID is decided: the engine puts
    // it into the server fields, and NTP replies carry those.
    e.refid = String::from_utf8_lossy(&cfg.ntp.refid.bytes())
        .trim_end_matches('\0')
        .to_string();
    e.leap_tai_utc_override = cfg.leap.tai_utc_override.map(i32::from);
    e.leap_mode = match cfg.leap.mode {
        crate::config::LeapMode::Kernel => LeapMode::Kernel,
        crate::config::LeapMode::Step => LeapMode::Step,
        crate::config::LeapMode::Smear => LeapMode::Smear,
    };
    e
}
