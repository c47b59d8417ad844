//! Divergence: a run of rejected samples whose innovations *ramp* means the
//! filter lost the oscillator (a frequency change it could not follow), not
//! that the receiver's time jumped (a jump's innovations are flat). With
//! healthy GNSS the servo re-acquires by itself from the measurements; a
//! jump is still held for the operator (`time_jump`).

use super::Engine;
use crate::events::{Event, EventKind};
use crate::time::NS_PER_SEC;

/// Rejections in a row before the run is judged.
const DIVERGE_RUN: u32 = 5;
/// Innovations of the run used for the trend.
const TREND_SAMPLES: usize = 8;
/// Smallest change over the run that counts as a ramp, ns.
const RAMP_FLOOR_NS: f64 = 200.0;

/// Least-squares slope (ns/s) of (local ns, innovation ns) and the span (s).
pub(super) fn trend(points: &[(i64, f64)]) -> Option<(f64, f64)> {
    let (t0, _) = *points.first()?;
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let ts: Vec<f64> = points
        .iter()
        .map(|(t, _)| t.saturating_sub(t0) as f64 / NS_PER_SEC as f64)
        .collect();
    let mt = ts.iter().sum::<f64>() / n;
    let mv = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, (_, v)) in ts.iter().zip(points) {
        sxy += (t - mt) * (v - mv);
        sxx += (t - mt) * (t - mt);
    }
    let span = ts.last().copied().unwrap_or(0.0);
    (sxx > 0.0).then(|| (sxy / sxx, span))
}

impl Engine {
    /// After a rejected sample at local `now`: if the current run of
    /// rejections ramps, re-acquire from the latest measurement `z` and
    /// return true (the run is then no evidence of a time jump).
    pub(super) fn check_divergence(&mut self, z: f64, now: i64) -> bool {
        let run = self.servo.consecutive_outliers();
        if run < DIVERGE_RUN || !self.lock.ever_locked() {
            return false;
        }
        let n = (run as usize)
            .min(TREND_SAMPLES)
            .min(self.jump_innovations.len());
        let recent: Vec<(i64, f64)> = self
            .jump_innovations
            .iter()
            .skip(self.jump_innovations.len() - n)
            .copied()
            .collect();
        let Some((slope, span)) = trend(&recent) else {
            return false;
        };
        // A flat run (a jump) moves by noise only: σ of the fitted change
        // over the run is about noise·√(12/n).
        let noise_change = self.servo.noise_ns() * (12.0 / n as f64).sqrt();
        if (slope * span).abs() <= RAMP_FLOOR_NS.max(5.0 * noise_change) {
            return false;
        }
        self.servo.reacquire(z, slope);
        self.jump_innovations.clear();
        let at = self.utc_of(now);
        if let Some(t) = self.lock.on_divergence(now) {
            self.record_transition(t);
        }
        self.events.push(Event::new(
            at,
            EventKind::ServoRestart {
                reason: format!(
                    "divergence: innovation {:.0} ns ramping at {slope:.1} ns/s",
                    recent.last().map_or(0.0, |p| p.1)
                ),
            },
        ));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::trend;

    #[test]
    fn trend_tells_a_ramp_from_a_step() {
        let ramp: Vec<_> = (0..6)
            .map(|k| (k * 1_000_000_000, 3_000.0 * k as f64))
            .collect();
        let (s, span) = trend(&ramp).unwrap();
        assert!((s - 3_000.0).abs() < 1e-6 && (span - 5.0).abs() < 1e-9);
        let flat: Vec<_> = (0..6).map(|k| (k * 1_000_000_000, 1e9)).collect();
        assert!(trend(&flat).unwrap().0.abs() < 1e-6);
    }
}
