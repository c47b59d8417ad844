//! `Virtual`: the system clock plus a software correction (phase, frequency
//! and an in-progress slew). Used by `demo` and whenever the daemon may not
//! steer the system clock. Readers are lock-free: the correction is an
//! immutable value swapped atomically.

use super::{Clock, ClockCommand, ClockError, ClockState, LeapFlag, TimeSource, MAX_FREQ_PPM};
use crate::time::UnixNanos;
use arc_swap::ArcSwap;
use std::sync::Arc;

/// Kernel-like slew rate for `Slew` commands, ppm.
const SLEW_RATE_PPM: f64 = 500.0;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Correction {
    /// System time at which `phase_ns` holds.
    ref_sys_ns: i64,
    phase_ns: f64,
    freq_ppm: f64,
    /// Remaining slew at `ref_sys_ns`, applied at SLEW_RATE_PPM.
    slew_ns: f64,
    leap: LeapFlag,
    tai_offset_s: i32,
    maxerror_ns: u64,
    esterror_ns: u64,
    unsync: bool,
}

impl Correction {
    /// Correction (ns) at system time `sys`.
    fn offset_at(&self, sys: i64) -> f64 {
        let dt = (sys - self.ref_sys_ns) as f64;
        let slewed = if self.slew_ns == 0.0 || dt <= 0.0 {
            0.0
        } else {
            let max = dt * SLEW_RATE_PPM * 1e-6;
            self.slew_ns.signum() * self.slew_ns.abs().min(max)
        };
        self.phase_ns + dt * self.freq_ppm * 1e-6 + slewed
    }
    /// Corrected time at system time `sys`.
    #[inline]
    fn map(&self, sys: i64) -> i64 {
        sys.saturating_add(round_half_away(self.offset_at(sys)))
    }
    /// The same correction re-expressed at system time `sys`.
    fn rebased(&self, sys: i64) -> Self {
        let dt = (sys - self.ref_sys_ns).max(0) as f64;
        let done = self.slew_ns.signum() * self.slew_ns.abs().min(dt * SLEW_RATE_PPM * 1e-6);
        Self {
            ref_sys_ns: sys,
            phase_ns: self.offset_at(sys),
            slew_ns: self.slew_ns - done,
            ..*self
        }
    }
}

/// `x.round() as i64` without the libm call `f64::round` compiles to on
/// baseline x86-64 (it sits on the NTP receive path, once per datagram).
#[inline]
fn round_half_away(x: f64) -> i64 {
    let t = x as i64; // truncates toward zero, saturates
    let frac = x - t as f64;
    if frac >= 0.5 {
        t.saturating_add(1)
    } else if frac <= -0.5 {
        t.saturating_sub(1)
    } else {
        t
    }
}

#[derive(Debug, Clone)]
pub struct VirtualClock {
    corr: Arc<ArcSwap<Correction>>,
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtualClock {
    pub fn new() -> Self {
        Self {
            corr: Arc::new(ArcSwap::from_pointee(Correction {
                ref_sys_ns: crate::time::system_realtime_ns(),
                unsync: true,
                ..Correction::default()
            })),
        }
    }

    /// Apply a command as if issued at system time `sys_ns` (sans-IO core of `apply`).
    pub fn apply_at(&self, cmd: &ClockCommand, sys_ns: i64) -> Result<(), ClockError> {
        let mut c = self.corr.load().rebased(sys_ns);
        match *cmd {
            ClockCommand::SetFrequency { ppm } => {
                if !ppm.is_finite() {
                    return Err(ClockError::Range("frequency not finite"));
                }
                c.freq_ppm = ppm.clamp(-MAX_FREQ_PPM, MAX_FREQ_PPM);
            }
            ClockCommand::Slew { offset_ns } => c.slew_ns = offset_ns as f64,
            ClockCommand::Step { delta_ns } => c.phase_ns += delta_ns as f64,
            ClockCommand::SetLeap { flag } => c.leap = flag,
            ClockCommand::SetTaiOffset { seconds } => c.tai_offset_s = seconds,
            ClockCommand::SetErrors {
                maxerror_ns,
                esterror_ns,
            } => {
                c.maxerror_ns = maxerror_ns;
                c.esterror_ns = esterror_ns;
            }
            ClockCommand::SetSync { synchronized } => c.unsync = !synchronized,
            // The system clock is not ours to touch.
            ClockCommand::ReleasePll => {}
        }
        self.corr.store(Arc::new(c));
        Ok(())
    }
}

impl TimeSource for VirtualClock {
    fn from_system_ns(&self, system_ns: UnixNanos) -> UnixNanos {
        self.corr.load().map(system_ns)
    }

    /// One atomic load of the correction for the whole slice: the same
    /// result as mapping each reading on its own.
    fn from_system_ns_slice(&self, system_ns: &mut [UnixNanos]) {
        let c = self.corr.load();
        for t in system_ns {
            *t = c.map(*t);
        }
    }
}

impl Clock for VirtualClock {
    fn apply(&self, cmd: &ClockCommand) -> Result<(), ClockError> {
        self.apply_at(cmd, crate::time::system_realtime_ns())
    }

    fn state(&self) -> Result<ClockState, ClockError> {
        let c = self.corr.load();
        Ok(ClockState {
            frequency_ppm: c.freq_ppm,
            leap: c.leap,
            tai_offset_s: c.tai_offset_s,
            maxerror_ns: c.maxerror_ns,
            esterror_ns: c.esterror_ns,
            unsync: c.unsync,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_step_and_slew_map_system_time() {
        let v = VirtualClock::new();
        let t0 = 1_700_000_000_000_000_000i64;
        v.apply_at(&ClockCommand::Step { delta_ns: 0 }, t0).unwrap();
        v.apply_at(&ClockCommand::SetFrequency { ppm: 10.0 }, t0)
            .unwrap();
        // 10 ppm over 1 s = 10 µs.
        assert_eq!(v.from_system_ns(t0 + 1_000_000_000), t0 + 1_000_010_000);
        v.apply_at(&ClockCommand::Step { delta_ns: -5_000 }, t0 + 1_000_000_000)
            .unwrap();
        assert_eq!(v.from_system_ns(t0 + 1_000_000_000), t0 + 1_000_005_000);
        // Slew 1 ms at 500 ppm takes 2 s; frequency keeps running.
        v.apply_at(&ClockCommand::SetFrequency { ppm: 0.0 }, t0 + 1_000_000_000)
            .unwrap();
        v.apply_at(
            &ClockCommand::Slew {
                offset_ns: 1_000_000,
            },
            t0 + 1_000_000_000,
        )
        .unwrap();
        assert_eq!(v.from_system_ns(t0 + 2_000_000_000), t0 + 2_000_505_000);
        assert_eq!(v.from_system_ns(t0 + 5_000_000_000), t0 + 5_001_005_000);
        assert_eq!(v.state().unwrap().frequency_ppm, 0.0);
    }

    #[test]
    fn rounding_matches_f64_round() {
        for x in [
            0.0,
            0.4,
            0.5,
            0.6,
            1.5,
            2.5,
            -0.4,
            -0.5,
            -0.6,
            -1.5,
            -2.5,
            1e12 + 0.5,
            -1e12 - 0.5,
            123_456.499_999,
            -7.499_999_999,
        ] {
            assert_eq!(round_half_away(x), x.round() as i64, "{x}");
        }
        assert_eq!(round_half_away(f64::NAN), 0);
        assert_eq!(round_half_away(1e30), i64::MAX);
    }

    #[test]
    fn slice_mapping_equals_single_mapping() {
        let v = VirtualClock::new();
        let t0 = 1_700_000_000_000_000_000i64;
        v.apply_at(&ClockCommand::SetFrequency { ppm: -12.5 }, t0)
            .unwrap();
        v.apply_at(
            &ClockCommand::Slew {
                offset_ns: -300_000,
            },
            t0,
        )
        .unwrap();
        // Before the reference, during the slew and after it ended.
        let mut ts: Vec<i64> = [-1_000_000i64, 0, 333_333_333, 600_000_000, 5_000_000_000]
            .iter()
            .map(|d| t0 + d)
            .collect();
        let single: Vec<i64> = ts.iter().map(|&t| v.from_system_ns(t)).collect();
        v.from_system_ns_slice(&mut ts);
        assert_eq!(ts, single);
        assert_ne!(ts[4] - (t0 + 5_000_000_000), 0);
    }
}
