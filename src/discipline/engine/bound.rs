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
    /// The bound without the offset still to steer out: k σ of the phase
    /// estimate extrapolated to now plus the systematic allowance, ns.
    pub(super) fn bound_sigma_part_ns(&self) -> f64 {
        self.bound_sigma_part_ahead_ns(0.0)
    }

    /// The same, `ahead_s` from now with no new sample.
    fn bound_sigma_part_ahead_ns(&self, ahead_s: f64) -> f64 {
        let Some(st) = self.servo_time else {
            return f64::INFINITY;
        };
        let dt = (self.now_local.saturating_sub(st)) as f64 / NS_PER_SEC as f64 + ahead_s;
        let var = self.servo.predicted_phase_var(dt, self.dtemp());
        // Capture latency is one-sided (interrupts are only ever late): its
        // mean biases every sample by up to about its spread, which no
        // averaging removes, so the measured noise is part of the bound.
        time_error_bound_ns(
            var.sqrt(),
            self.cfg.bound_sigmas,
            self.cfg.systematic_error_ns,
        ) + self.servo.noise_ns()
    }

    /// Honest time-error bound now, ns (infinite before the first sample).
    pub fn bound_ns(&self) -> f64 {
        if self.servo_time.is_none() {
            return f64::INFINITY;
        }
        let k_sigma = self.bound_sigma_part_ns();
        let offset = self.offset_now_ns().abs();
        let mut bound = offset + k_sigma;
        let run = self.servo.consecutive_outliers() as usize;
        if run >= EVIDENCE_RUN as usize && !self.lock.jump_pending() {
            let n = run.min(self.jump_innovations.len());
            let recent: Vec<(i64, f64)> = self
                .jump_innovations
                .iter()
                .skip(self.jump_innovations.len() - n)
                .copied()
                .collect();
            if let Some(&(t_last, last)) = recent.last() {
                // The samples lag the clock by a second or two, and the bound
                // is published once a tick: carry a ramping run forward to
                // the next tick.
                let age = self.now_local.saturating_sub(t_last).max(0) as f64 / NS_PER_SEC as f64;
                let slope = super::divergence::trend(&recent).map_or(0.0, |(s, _)| s.abs());
                bound = bound.max(offset + last.abs() + slope * (age + 1.0) + k_sigma);
            }
        }
        bound
    }

    /// Seconds until the bound passes the holdover limit without samples
    /// (bisection: the predicted variance grows with time). None when not
    /// serving or the servo has no state; capped at 30 days.
    pub(super) fn time_to_limit_s(&self) -> Option<f64> {
        use crate::discipline::lock::LockState;
        if !matches!(self.lock.state(), LockState::Locked | LockState::Holdover) {
            return None;
        }
        let limit = self.lock.config().bound_limit_ns;
        let now = self.bound_ns();
        if !now.is_finite() {
            return None;
        }
        if now >= limit {
            return Some(0.0);
        }
        let offset = self.offset_now_ns().abs();
        let ahead = |s: f64| offset + self.bound_sigma_part_ahead_ns(s);
        let (mut lo, mut hi) = (0.0f64, 30.0 * 86_400.0);
        if ahead(hi) < limit {
            return Some(hi);
        }
        while hi - lo > 0.5 {
            let mid = 0.5 * (lo + hi);
            if ahead(mid) < limit {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi.round())
    }
}
