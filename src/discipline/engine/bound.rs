//! The published time-error bound (NTP root dispersion): the offset not yet
//! steered out, k σ of the phase estimate extrapolated to now, the
//! systematic allowance, and, while samples are being rejected in a row,
//! what those samples say: a bound that ignores its own measurements lied
//! while Locked (issue 12, D4).

use super::Engine;
use crate::discipline::holdover::time_error_bound_ns;
use crate::time::NS_PER_SEC;

/// Rejections in a row from which their innovations enter the bound (a
/// single one is an IRQ-latency spike; two in a row may be the truth).
const EVIDENCE_RUN: u32 = 2;

impl Engine {
    /// Honest time-error bound now, ns (infinite before the first sample).
    pub fn bound_ns(&self) -> f64 {
        let Some(st) = self.servo_time else {
            return f64::INFINITY;
        };
        let dt = (self.now_local.saturating_sub(st)) as f64 / NS_PER_SEC as f64;
        let var = self.servo.predicted_phase_var(dt, self.dtemp());
        let k_sigma = time_error_bound_ns(
            var.sqrt(),
            self.cfg.bound_sigmas,
            self.cfg.systematic_error_ns,
        );
        let offset = self.offset_now_ns().abs();
        let mut bound = offset + k_sigma;
        if self.servo.consecutive_outliers() >= EVIDENCE_RUN && !self.lock.jump_pending() {
            let worst = self
                .jump_innovations
                .iter()
                .rev()
                .take(self.servo.consecutive_outliers() as usize)
                .map(|p| p.1.abs())
                .fold(0.0, f64::max);
            bound = bound.max(offset + worst + k_sigma);
        }
        bound
    }
}
