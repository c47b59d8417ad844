//! The frequency corrections applied to the clock, so the phase they added
//! between two instants can be integrated exactly.

use std::collections::VecDeque;

/// Frequency corrections applied over time (local ns, ppm), so the phase they
/// added between two instants can be integrated exactly.
#[derive(Debug, Clone)]
pub(super) struct CorrectionLog {
    /// (from local ns, ppm), sorted; the last entry is the current correction.
    segs: VecDeque<(i64, f64)>,
}

impl CorrectionLog {
    pub(super) fn new(ppm: f64) -> Self {
        Self {
            segs: VecDeque::from([(i64::MIN, ppm)]),
        }
    }
    pub(super) fn current(&self) -> f64 {
        self.segs.back().map_or(0.0, |s| s.1)
    }
    pub(super) fn set(&mut self, at: i64, ppm: f64) {
        while self.segs.back().is_some_and(|s| s.0 >= at) && self.segs.len() > 1 {
            self.segs.pop_back();
        }
        self.segs.push_back((at, ppm));
    }
    /// Phase added between t0 and t1 (local ns), ns.
    pub(super) fn integral(&self, t0: i64, t1: i64) -> f64 {
        if t1 <= t0 {
            return 0.0;
        }
        let mut acc = 0.0;
        for (i, &(start, ppm)) in self.segs.iter().enumerate() {
            let end = self.segs.get(i + 1).map_or(i64::MAX, |s| s.0);
            let a = start.max(t0);
            let b = end.min(t1);
            if b > a {
                acc += b.saturating_sub(a) as f64 * ppm * 1e-6;
            }
        }
        acc
    }
    /// Forget segments that ended before `t`.
    pub(super) fn prune(&mut self, t: i64) {
        while self.segs.len() > 1 && self.segs.get(1).is_some_and(|s| s.0 <= t) {
            self.segs.pop_front();
        }
    }
    pub(super) fn shift(&mut self, delta: i64) {
        for s in self.segs.iter_mut() {
            if s.0 != i64::MIN {
                s.0 = s.0.saturating_add(delta);
            }
        }
    }
}
