//! Pulse monitor (sans-IO): is the pulse train one clean edge per second?
//!
//! Detects
//! * no pulses: nothing for `timeout_ns` (driven by [`PulseMonitor::on_tick`]);
//! * double edges: an edge within `double_edge_ns` of the previous one (a
//!   bouncing or ringing input, or both edges captured as one kind);
//! * wrong rate: an interval neither ~1 s nor a whole number of seconds (a
//!   whole number > 1 is counted as missing pulses instead);
//! * wrong polarity, two ways: when both edges are captured, the on-time
//!   (assert) edge should start a *short* pulse (u-blox default 100 ms), so an
//!   assert→clear width above half a second means the edges are swapped; and
//!   from paired samples, edges that sit consistently 100–900 ms away from the
//!   UTC second (while the local clock is within a few ms) are the trailing edge.

use std::collections::VecDeque;

use super::{PpsEdge, PpsEvent, PpsSourceKind, PpsStatus, PulseState};
use crate::time::NS_PER_SEC;

#[derive(Debug, Clone, PartialEq)]
pub struct MonitorConfig {
    /// No edge for this long: `NoPulses`.
    pub timeout_ns: i64,
    /// Edges closer than this to the previous edge are double edges.
    pub double_edge_ns: i64,
    /// An interval within this of a whole number of seconds is on rate.
    pub rate_tolerance_ns: i64,
    /// Intervals in the jitter RMS window.
    pub jitter_window: usize,
    /// Samples in the polarity windows.
    pub polarity_window: usize,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            timeout_ns: 2_500_000_000,
            double_edge_ns: 200_000_000,
            rate_tolerance_ns: 50_000_000,
            jitter_window: 60,
            polarity_window: 8,
        }
    }
}

/// What one on-time edge looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeVerdict {
    First,
    Ok,
    /// Too close to the previous edge: ignored.
    Double,
    /// A gap of this many whole seconds (pulses missing in between).
    Gap {
        missing: u64,
    },
    WrongRate,
}

#[derive(Debug, Clone)]
pub struct PulseMonitor {
    cfg: MonitorConfig,
    status: PpsStatus,
    last_assert: Option<i64>,
    intervals: VecDeque<i64>,
    /// Recent verdicts (true = bad rate), to decide `WrongRate` state.
    recent_bad: VecDeque<bool>,
    widths: VecDeque<i64>,
    offsets_off_second: VecDeque<bool>,
    timed_out: bool,
}

impl PulseMonitor {
    pub fn new(cfg: MonitorConfig, source: PpsSourceKind, device: impl Into<String>) -> Self {
        Self {
            cfg,
            status: PpsStatus {
                source,
                device: device.into(),
                ..PpsStatus::default()
            },
            last_assert: None,
            intervals: VecDeque::new(),
            recent_bad: VecDeque::new(),
            widths: VecDeque::new(),
            offsets_off_second: VecDeque::new(),
            timed_out: false,
        }
    }

    pub fn status(&self) -> PpsStatus {
        self.status.clone()
    }

    pub fn on_error(&mut self, message: impl Into<String>) {
        self.status.last_error = Some(message.into());
    }

    fn push_bounded<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
        q.push_back(v);
        while q.len() > cap.max(1) {
            q.pop_front();
        }
    }

    /// Feed one reader event.
    pub fn on_event(&mut self, event: &PpsEvent) {
        match event {
            PpsEvent::Assert(e) => {
                self.on_assert(*e);
            }
            PpsEvent::Clear(e) => self.on_clear(*e),
            PpsEvent::Error { message, .. } => self.on_error(message.clone()),
        }
    }

    /// An on-time edge.
    pub fn on_assert(&mut self, edge: PpsEdge) -> EdgeVerdict {
        let t = edge.local_ns;
        let Some(prev) = self.last_assert else {
            self.last_assert = Some(t);
            self.status.pulses += 1;
            self.status.last_edge_ns = Some(t);
            self.status.state = PulseState::Ok;
            return EdgeVerdict::First;
        };
        let interval = t.saturating_sub(prev);
        if interval < self.cfg.double_edge_ns {
            // Keep the first edge as the reference: a bounce follows the real edge.
            self.status.double_edges += 1;
            return EdgeVerdict::Double;
        }
        self.last_assert = Some(t);
        self.status.pulses += 1;
        self.status.last_edge_ns = Some(t);
        self.status.last_interval_ns = Some(interval);
        self.timed_out = false;
        let whole = interval
            .saturating_add(NS_PER_SEC / 2)
            .div_euclid(NS_PER_SEC);
        let near_whole = (interval - whole * NS_PER_SEC).abs() <= self.cfg.rate_tolerance_ns;
        let verdict = if near_whole && whole == 1 {
            Self::push_bounded(
                &mut self.intervals,
                interval - NS_PER_SEC,
                self.cfg.jitter_window,
            );
            let n = self.intervals.len() as f64;
            let ms = self
                .intervals
                .iter()
                .map(|d| (*d as f64) * (*d as f64))
                .sum::<f64>()
                / n;
            self.status.interval_jitter_ns = Some(ms.sqrt());
            EdgeVerdict::Ok
        } else if near_whole && whole > 1 {
            let missing = (whole - 1) as u64;
            self.status.missing += missing;
            EdgeVerdict::Gap { missing }
        } else {
            self.status.wrong_rate += 1;
            EdgeVerdict::WrongRate
        };
        Self::push_bounded(
            &mut self.recent_bad,
            verdict == EdgeVerdict::WrongRate,
            self.cfg.polarity_window,
        );
        let bad = self.recent_bad.iter().filter(|b| **b).count();
        self.status.state = if bad * 2 > self.recent_bad.len() {
            PulseState::WrongRate
        } else {
            PulseState::Ok
        };
        verdict
    }

    /// The other edge (sources that capture both).
    pub fn on_clear(&mut self, edge: PpsEdge) {
        let Some(a) = self.last_assert else {
            return;
        };
        let width = edge.local_ns.saturating_sub(a);
        if !(0..NS_PER_SEC).contains(&width) {
            return;
        }
        Self::push_bounded(&mut self.widths, width, self.cfg.polarity_window);
        let mut sorted: Vec<i64> = self.widths.iter().copied().collect();
        sorted.sort_unstable();
        let median = sorted.get(sorted.len() / 2).copied();
        self.status.pulse_width_ns = median;
        self.update_polarity();
    }

    /// A paired sample's offset (local − UTC), taken while the local clock is
    /// known to be within a few ms of UTC (e.g. NTP-set at boot, before the
    /// servo steers). Edges 100–900 ms off the second are the wrong edge.
    pub fn on_paired_offset(&mut self, offset_ns: i64) {
        let frac = offset_ns.rem_euclid(NS_PER_SEC);
        let off = (100_000_000..=900_000_000).contains(&frac);
        Self::push_bounded(&mut self.offsets_off_second, off, self.cfg.polarity_window);
        self.update_polarity();
    }

    fn update_polarity(&mut self) {
        let w = self.cfg.polarity_window.max(1);
        let by_width = self.widths.len() >= w.min(3)
            && self
                .status
                .pulse_width_ns
                .is_some_and(|m| m > NS_PER_SEC / 2);
        let by_offset =
            self.offsets_off_second.len() >= w && self.offsets_off_second.iter().all(|b| *b);
        self.status.polarity_suspect = by_width || by_offset;
    }

    /// Time passes (call about once a second, on the edges' local scale).
    pub fn on_tick(&mut self, now_local_ns: i64) {
        let Some(last) = self.last_assert else {
            return;
        };
        let quiet = now_local_ns.saturating_sub(last);
        if quiet > self.cfg.timeout_ns {
            if !self.timed_out {
                self.timed_out = true;
                self.status.timeouts += 1;
            }
            self.status.state = PulseState::NoPulses;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(t: i64) -> PpsEdge {
        PpsEdge {
            local_ns: t,
            sequence: 0,
        }
    }

    #[test]
    fn clean_train_is_ok_with_small_jitter() {
        let mut m = PulseMonitor::new(MonitorConfig::default(), PpsSourceKind::Simulated, "sim");
        for i in 0..10 {
            let jitter = if i % 2 == 0 { 1_000 } else { -1_000 };
            m.on_assert(e(i * NS_PER_SEC + jitter));
        }
        let s = m.status();
        assert_eq!(s.state, PulseState::Ok);
        assert_eq!(s.pulses, 10);
        let j = s.interval_jitter_ns.expect("jitter");
        assert!((j - 2_000.0).abs() < 1.0, "{j}");
    }
}
