//! Pairing: give each PPS edge the UTC second it marks.
//!
//! Sans-IO. Edges and receiver epochs come in with timestamps on the same local
//! scale (edge capture time, message arrival time); nothing here reads a clock.
//!
//! # How an edge gets its label
//!
//! A receiver message cannot arrive before the pulse that triggered it, and it
//! arrives at most `max_latency_ns` after it. That bounds, for each message, the
//! interval in which the edge it describes must lie:
//!
//! * TIM-TP (`GnssEpoch.time_pulse`) is produced right after pulse N−1 and names
//!   pulse N. Arriving at `A`, pulse N−1 lies in `[A − max, A − min]`, so pulse N
//!   lies in `[A + 1 s − max, A + 1 s − min]`.
//! * The epoch time (NAV-TIMEUTC/NAV-PVT/RMC/ZDA, `GnssEpoch.time`) of epoch N is
//!   produced after pulse N, so pulse N lies in `[A − max, A − min]`.
//!
//! Each window is widened by `guard_ns` on both sides. With the defaults
//! (0–950 ms latency, 20 ms guard) a window is 990 ms wide: the neighbouring
//! pulses, 1 s away, can never fall inside it. The configuration is rejected if
//! that margin disappears.
//!
//! An edge is decided only when no message that could still name it can arrive
//! (`finalize_delay`): then every label whose window contains it is compared.
//! TIM-TP wins over the epoch time (it also carries qErr); the epoch time is the
//! fallback. Conflicting labels, or two edges inside one label's window (double
//! edges), drop the edge and count it instead of guessing.
//!
//! # Corrections
//!
//! `local_ns = raw − qErr_sign·qErr − cable_delay − capture_latency`, see
//! [`QErrConvention`] for the qErr sign. A longer antenna cable delays the
//! receiver's notion of time and so makes the pulse late; capture latency makes
//! the timestamp late; both are subtracted.

use std::collections::VecDeque;

use serde::Serialize;

use crate::gnss::GnssEpoch;
use crate::pps::PpsEdge;
use crate::time::NS_PER_SEC;

pub use crate::pps::QErrConvention;

#[derive(Debug, Clone, PartialEq)]
pub struct PairingConfig {
    /// Antenna cable (and antenna/receiver group) delay, ns. Positive: the
    /// pulse comes late by this much.
    pub cable_delay_ns: i64,
    /// PPS capture latency (interrupt or GPIO path), ns. Positive: the edge is
    /// timestamped late by this much.
    pub capture_latency_ns: i64,
    /// Smallest delay between a pulse and the arrival of a message it
    /// triggered, ns.
    pub min_latency_ns: i64,
    /// Largest such delay, ns (message output, serial transfer, queues).
    pub max_latency_ns: i64,
    /// Widening of each label window on both sides (arrival-time jitter, ns).
    pub guard_ns: i64,
    /// How late a call may be delivered after its own timestamp (threads,
    /// channels), ns. Adds to the delay before an edge is decided.
    pub reorder_slack_ns: i64,
    /// An epoch time or TIM-TP time must be this close to a whole second, ns.
    pub whole_second_tolerance_ns: i64,
    /// qErr magnitudes above this are treated as corrupt (not applied), ps.
    pub max_qerr_ps: i64,
    pub qerr_convention: QErrConvention,
    /// Completed samples kept when nobody drains them.
    pub max_queued_samples: usize,
}

impl Default for PairingConfig {
    fn default() -> Self {
        Self {
            cable_delay_ns: 0,
            capture_latency_ns: 0,
            min_latency_ns: 0,
            max_latency_ns: 950_000_000,
            guard_ns: 20_000_000,
            reorder_slack_ns: 250_000_000,
            whole_second_tolerance_ns: 50_000_000,
            max_qerr_ps: 100_000,
            qerr_convention: QErrConvention::default(),
            max_queued_samples: 64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairingConfigError {
    #[error("min_latency_ns ({min}) must be >= 0 and <= max_latency_ns ({max})")]
    LatencyOrder { min: i64, max: i64 },
    #[error("label window {width_ns} ns (latency spread + 2 guards) must be below one second")]
    WindowTooWide { width_ns: i64 },
    #[error("{0} must not be negative")]
    Negative(&'static str),
}

impl PairingConfig {
    /// Checks that a label window can never contain two neighbouring pulses.
    pub fn validate(&self) -> Result<(), PairingConfigError> {
        if self.min_latency_ns < 0 || self.min_latency_ns > self.max_latency_ns {
            return Err(PairingConfigError::LatencyOrder {
                min: self.min_latency_ns,
                max: self.max_latency_ns,
            });
        }
        for (name, v) in [
            ("guard_ns", self.guard_ns),
            ("reorder_slack_ns", self.reorder_slack_ns),
            ("whole_second_tolerance_ns", self.whole_second_tolerance_ns),
            ("max_qerr_ps", self.max_qerr_ps),
        ] {
            if v < 0 {
                return Err(PairingConfigError::Negative(name));
            }
        }
        let width = self.window_width_ns();
        // Pulses are 1 s apart. The neighbours of the named pulse lie at least
        // 1 s − (max − min) away from the window; the guards on both sides of
        // the window absorb jitter, so the full width must stay below 1 s.
        if width >= NS_PER_SEC {
            return Err(PairingConfigError::WindowTooWide { width_ns: width });
        }
        Ok(())
    }

    /// Width of one label window (latency spread plus both guards).
    pub fn window_width_ns(&self) -> i64 {
        (self.max_latency_ns - self.min_latency_ns).saturating_add(self.guard_ns.saturating_mul(2))
    }

    /// After this long past an edge, no message that could name it can still
    /// arrive: samples come out this late (1.26 s with the defaults).
    pub fn finalize_delay_ns(&self) -> i64 {
        self.max_latency_ns
            .max(self.window_width_ns())
            .saturating_add(self.guard_ns)
            .saturating_add(self.reorder_slack_ns)
    }
}

/// Which message labelled the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleSource {
    /// TIM-TP: UTC of the next pulse (with qErr when valid).
    TimTp,
    /// The epoch's own time (NAV-TIMEUTC, NAV-PVT, RMC, ZDA).
    EpochTime,
}

/// One edge with the UTC second it marks. Offset of the local clock:
/// `local_ns - utc_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// The UTC second this edge marks (whole second, ns since the Unix epoch).
    pub utc_ns: i64,
    /// Edge timestamp corrected for qErr, cable delay and capture latency.
    pub local_ns: i64,
    /// Edge timestamp as captured.
    pub raw_local_ns: i64,
    /// The qErr applied, ps (None when labelled by the epoch time or invalid).
    pub qerr_ps: Option<i64>,
    /// Sequence number of the edge.
    pub sequence: u64,
    pub source: SampleSource,
}

impl Sample {
    /// Local clock minus UTC at this edge, ns.
    pub fn offset_ns(&self) -> i64 {
        self.local_ns.saturating_sub(self.utc_ns)
    }
}

/// Counters and the latest result, for the status snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PairingStatus {
    pub edges: u64,
    pub epochs: u64,
    /// Samples produced (labelled edges).
    pub samples: u64,
    pub labelled_by_timtp: u64,
    pub labelled_by_epoch_time: u64,
    /// Edges no message named (e.g. receiver silent, latency beyond bounds).
    pub unlabelled: u64,
    /// Edges dropped because two messages named different seconds.
    pub conflicts: u64,
    /// Edges dropped because a label window held more than one edge.
    pub ambiguous: u64,
    /// Messages that named no edge (missing pulse or latency beyond bounds).
    pub labels_unmatched: u64,
    /// Times ignored: invalid, not fully resolved, not UTC-valid, or not on a
    /// whole second.
    pub labels_rejected: u64,
    /// qErr values ignored as out of range.
    pub qerr_rejected: u64,
    /// Samples discarded because the queue was not drained.
    pub samples_overflowed: u64,
    /// Last sample: UTC second it marked, ns.
    pub last_utc_ns: Option<i64>,
    /// Last sample: local − UTC, ns.
    pub last_offset_ns: Option<i64>,
    /// Last sample: the receiver's second against the local clock's rounded
    /// second (local − UTC, whole seconds). A change between samples is a time
    /// jump for the lock state machine to judge.
    pub last_whole_second_offset_s: Option<i64>,
    pub last_qerr_ps: Option<i64>,
    pub last_source: Option<SampleSource>,
}

#[derive(Debug, Clone, Copy)]
struct Label {
    utc_ns: i64,
    lo_ns: i64,
    hi_ns: i64,
    source: SampleSource,
    qerr_ps: Option<i64>,
    matched: bool,
}

/// Labels edges with UTC seconds. See the module documentation.
#[derive(Debug, Clone)]
pub struct Pairing {
    cfg: PairingConfig,
    /// Edges not yet decided, sorted by local time.
    pending: VecDeque<PpsEdge>,
    /// Recently decided edge timestamps (for double-edge detection).
    recent: VecDeque<i64>,
    labels: Vec<Label>,
    out: VecDeque<Sample>,
    horizon_ns: Option<i64>,
    status: PairingStatus,
}

impl Pairing {
    /// An invalid configuration falls back to the defaults for the timing
    /// windows (use [`PairingConfig::validate`] to report it).
    pub fn new(cfg: PairingConfig) -> Self {
        let cfg = if cfg.validate().is_ok() {
            cfg
        } else {
            PairingConfig {
                cable_delay_ns: cfg.cable_delay_ns,
                capture_latency_ns: cfg.capture_latency_ns,
                qerr_convention: cfg.qerr_convention,
                ..PairingConfig::default()
            }
        };
        Self {
            cfg,
            pending: VecDeque::new(),
            recent: VecDeque::new(),
            labels: Vec::new(),
            out: VecDeque::new(),
            horizon_ns: None,
            status: PairingStatus::default(),
        }
    }

    pub fn config(&self) -> &PairingConfig {
        &self.cfg
    }

    /// Forget everything in flight (call after the local clock was stepped:
    /// timestamps before and after a step are not comparable). Counters stay.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.recent.clear();
        self.labels.clear();
        self.horizon_ns = None;
    }

    /// A GNSS epoch as it arrived (arrival time on the same local scale as edges).
    pub fn on_epoch(&mut self, epoch: &GnssEpoch, arrival_local_ns: i64) {
        self.status.epochs += 1;
        let (min, max, g) = (
            self.cfg.min_latency_ns,
            self.cfg.max_latency_ns,
            self.cfg.guard_ns,
        );
        if let Some(tp) = epoch.time_pulse {
            match self.whole_second(tp.utc_ns) {
                Some(utc) if tp.utc_valid => {
                    let qerr_ps = match tp.qerr_ps {
                        Some(q) if q.checked_abs().is_some_and(|a| a <= self.cfg.max_qerr_ps) => {
                            Some(q)
                        }
                        Some(_) => {
                            self.status.qerr_rejected += 1;
                            None
                        }
                        None => None,
                    };
                    let base = arrival_local_ns.saturating_add(NS_PER_SEC);
                    self.labels.push(Label {
                        utc_ns: utc,
                        lo_ns: base.saturating_sub(max).saturating_sub(g),
                        hi_ns: base.saturating_sub(min).saturating_add(g),
                        source: SampleSource::TimTp,
                        qerr_ps,
                        matched: false,
                    });
                }
                _ => self.status.labels_rejected += 1,
            }
        }
        if let Some(t) = epoch.time {
            match self.whole_second(t.utc_ns) {
                // Without "fully resolved" the receiver itself is unsure of the
                // second (e.g. UTC from a firmware-default leap count).
                Some(utc) if t.is_valid() && t.fully_resolved => self.labels.push(Label {
                    utc_ns: utc,
                    lo_ns: arrival_local_ns.saturating_sub(max).saturating_sub(g),
                    hi_ns: arrival_local_ns.saturating_sub(min).saturating_add(g),
                    source: SampleSource::EpochTime,
                    qerr_ps: None,
                    matched: false,
                }),
                // Sub-second epochs (navigation rate above 1 Hz) mark no pulse.
                _ => self.status.labels_rejected += 1,
            }
        }
        self.advance(arrival_local_ns);
    }

    /// A PPS edge (timestamp already on the disciplined clock's scale).
    pub fn on_edge(&mut self, edge: PpsEdge) {
        self.status.edges += 1;
        let pos = self
            .pending
            .iter()
            .rposition(|e| e.local_ns <= edge.local_ns)
            .map_or(0, |i| i + 1);
        self.pending.insert(pos, edge);
        self.advance(edge.local_ns);
    }

    /// Let time pass without an input (e.g. a tick from the shell), so pending
    /// edges are decided even when the receiver and PPS both went quiet.
    pub fn on_tick(&mut self, now_local_ns: i64) {
        self.advance(now_local_ns);
    }

    /// Completed pairs, oldest first.
    pub fn next_sample(&mut self) -> Option<Sample> {
        self.out.pop_front()
    }

    pub fn status(&self) -> PairingStatus {
        self.status.clone()
    }

    /// The whole second `t` marks, if it is within tolerance of one.
    fn whole_second(&self, t: i64) -> Option<i64> {
        let rounded = t
            .checked_add(NS_PER_SEC / 2)?
            .div_euclid(NS_PER_SEC)
            .checked_mul(NS_PER_SEC)?;
        ((t - rounded).abs() <= self.cfg.whole_second_tolerance_ns).then_some(rounded)
    }

    fn advance(&mut self, t: i64) {
        let horizon = self.horizon_ns.map_or(t, |h| h.max(t));
        self.horizon_ns = Some(horizon);
        let delay = self.cfg.finalize_delay_ns();
        while let Some(edge) = self.pending.front().copied() {
            if edge.local_ns.saturating_add(delay) > horizon {
                break;
            }
            self.pending.pop_front();
            self.decide(edge);
            self.recent.push_back(edge.local_ns);
        }
        // Keep decided edges and labels long enough to judge late arrivals.
        let keep_after = horizon.saturating_sub(delay.saturating_mul(3));
        while self.recent.front().is_some_and(|&t| t < keep_after) {
            self.recent.pop_front();
        }
        let mut unmatched = 0;
        self.labels.retain(|l| {
            let keep = l.hi_ns >= keep_after;
            if !keep && !l.matched {
                unmatched += 1;
            }
            keep
        });
        self.status.labels_unmatched += unmatched;
    }

    fn edges_within(&self, lo: i64, hi: i64) -> usize {
        let inside = |t: &i64| *t >= lo && *t <= hi;
        self.recent.iter().filter(|t| inside(t)).count()
            + self
                .pending
                .iter()
                .map(|e| e.local_ns)
                .filter(|t| inside(t))
                .count()
    }

    fn decide(&mut self, edge: PpsEdge) {
        let e = edge.local_ns;
        let mut timtp: Option<(i64, Option<i64>)> = None;
        let mut epoch: Option<i64> = None;
        let mut conflict = false;
        let mut ambiguous = false;
        // The edge being decided is already out of `pending` and not yet in
        // `recent`, so it counts as one on top of what edges_within finds.
        let hits: Vec<usize> = (0..self.labels.len())
            .filter(|&i| self.labels[i].lo_ns <= e && e <= self.labels[i].hi_ns)
            .collect();
        for &i in &hits {
            let l = self.labels[i];
            if self.edges_within(l.lo_ns, l.hi_ns) > 0 {
                ambiguous = true;
            }
            match l.source {
                SampleSource::TimTp => match timtp {
                    None => timtp = Some((l.utc_ns, l.qerr_ps)),
                    Some((u, _)) if u != l.utc_ns => conflict = true,
                    Some(_) => {}
                },
                SampleSource::EpochTime => match epoch {
                    None => epoch = Some(l.utc_ns),
                    Some(u) if u != l.utc_ns => conflict = true,
                    Some(_) => {}
                },
            }
        }
        for &i in &hits {
            if let Some(l) = self.labels.get_mut(i) {
                l.matched = true;
            }
        }
        if let (Some((a, _)), Some(b)) = (timtp, epoch) {
            if a != b {
                conflict = true;
            }
        }
        if ambiguous {
            self.status.ambiguous += 1;
            return;
        }
        if conflict {
            self.status.conflicts += 1;
            return;
        }
        let (utc_ns, qerr_ps, source) = match (timtp, epoch) {
            (Some((u, q)), _) => (u, q, SampleSource::TimTp),
            (None, Some(u)) => (u, None, SampleSource::EpochTime),
            (None, None) => {
                self.status.unlabelled += 1;
                return;
            }
        };
        let local_ns = self.correct(e, qerr_ps);
        let sample = Sample {
            utc_ns,
            local_ns,
            raw_local_ns: e,
            qerr_ps,
            sequence: edge.sequence,
            source,
        };
        let st = &mut self.status;
        st.samples += 1;
        match source {
            SampleSource::TimTp => st.labelled_by_timtp += 1,
            SampleSource::EpochTime => st.labelled_by_epoch_time += 1,
        }
        let offset = sample.offset_ns();
        st.last_utc_ns = Some(utc_ns);
        st.last_offset_ns = Some(offset);
        st.last_whole_second_offset_s =
            Some(offset.saturating_add(NS_PER_SEC / 2).div_euclid(NS_PER_SEC));
        st.last_qerr_ps = qerr_ps;
        st.last_source = Some(source);
        if self.out.len() >= self.cfg.max_queued_samples.max(1) {
            self.out.pop_front();
            st.samples_overflowed += 1;
        }
        self.out.push_back(sample);
    }

    /// Apply qErr, cable delay and capture latency to a raw edge timestamp.
    pub fn correct(&self, raw_local_ns: i64, qerr_ps: Option<i64>) -> i64 {
        // The pulse was emitted `pulse_error` away from the ideal instant, so
        // the ideal instant is at raw − pulse_error. Rounded to whole ns.
        let pulse_error_ns = qerr_ps.map_or(0, |q| {
            let ps = self.cfg.qerr_convention.pulse_error_ps(q);
            ps.saturating_add(ps.signum() * 500) / 1000
        });
        raw_local_ns
            .saturating_sub(pulse_error_ns)
            .saturating_sub(self.cfg.cable_delay_ns)
            .saturating_sub(self.cfg.capture_latency_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::{EpochTime, TimePulse};

    const T0: i64 = 1_700_000_000 * NS_PER_SEC;

    fn epoch(time: Option<i64>, next_pulse: Option<(i64, Option<i64>)>) -> GnssEpoch {
        GnssEpoch {
            time: time.map(|utc_ns| EpochTime {
                utc_ns,
                valid_date: true,
                valid_time: true,
                fully_resolved: true,
                tacc_ns: Some(20),
                source: "NAV-TIMEUTC",
            }),
            time_pulse: next_pulse.map(|(utc_ns, qerr_ps)| TimePulse {
                utc_ns,
                qerr_ps,
                utc_based: true,
                utc_valid: true,
            }),
            ..GnssEpoch::default()
        }
    }

    #[test]
    fn default_config_is_valid_and_too_wide_is_rejected() {
        assert!(PairingConfig::default().validate().is_ok());
        assert_eq!(PairingConfig::default().window_width_ns(), 990_000_000);
        assert_eq!(PairingConfig::default().finalize_delay_ns(), 1_260_000_000);
        let wide = PairingConfig {
            max_latency_ns: 990_000_000,
            ..PairingConfig::default()
        };
        assert!(matches!(
            wide.validate(),
            Err(PairingConfigError::WindowTooWide { .. })
        ));
    }

    #[test]
    fn timtp_labels_the_following_edge() {
        // Local clock 0.3 s ahead of UTC. TIM-TP for pulse T0+1 s arrives 0.9 s
        // after pulse T0, i.e. only 0.1 s before its own pulse.
        let off = 300_000_000;
        let mut p = Pairing::new(PairingConfig::default());
        p.on_edge(PpsEdge {
            local_ns: T0 + off,
            sequence: 1,
        });
        p.on_epoch(
            &epoch(None, Some((T0 + NS_PER_SEC, Some(0)))),
            T0 + off + 900_000_000,
        );
        p.on_edge(PpsEdge {
            local_ns: T0 + NS_PER_SEC + off,
            sequence: 2,
        });
        p.on_tick(T0 + 5 * NS_PER_SEC);
        let s = p.next_sample().expect("one sample");
        assert_eq!(s.utc_ns, T0 + NS_PER_SEC);
        assert_eq!(s.sequence, 2);
        assert_eq!(s.offset_ns(), off);
        assert_eq!(s.source, SampleSource::TimTp);
        assert!(p.next_sample().is_none());
        assert_eq!(p.status().unlabelled, 1);
    }

    #[test]
    fn epoch_time_labels_the_preceding_edge() {
        let mut p = Pairing::new(PairingConfig::default());
        p.on_edge(PpsEdge {
            local_ns: T0 - 5_000,
            sequence: 7,
        });
        p.on_epoch(&epoch(Some(T0), None), T0 + 940_000_000);
        p.on_tick(T0 + 4 * NS_PER_SEC);
        let s = p.next_sample().expect("sample");
        assert_eq!(s.utc_ns, T0);
        assert_eq!(s.offset_ns(), -5_000);
        assert_eq!(s.source, SampleSource::EpochTime);
    }

    #[test]
    fn conflicting_labels_drop_the_edge() {
        let mut p = Pairing::new(PairingConfig::default());
        p.on_epoch(&epoch(None, Some((T0, None))), T0 - 500_000_000);
        p.on_edge(PpsEdge {
            local_ns: T0,
            sequence: 1,
        });
        // Epoch time claims the same edge is one second later.
        p.on_epoch(&epoch(Some(T0 + NS_PER_SEC), None), T0 + 100_000_000);
        p.on_tick(T0 + 5 * NS_PER_SEC);
        assert!(p.next_sample().is_none());
        assert_eq!(p.status().conflicts, 1);
    }

    #[test]
    fn double_edge_in_window_is_ambiguous() {
        let mut p = Pairing::new(PairingConfig::default());
        p.on_epoch(&epoch(None, Some((T0, None))), T0 - 500_000_000);
        p.on_edge(PpsEdge {
            local_ns: T0,
            sequence: 1,
        });
        p.on_edge(PpsEdge {
            local_ns: T0 + 100_000_000,
            sequence: 2,
        });
        p.on_tick(T0 + 5 * NS_PER_SEC);
        assert!(p.next_sample().is_none());
        assert_eq!(p.status().ambiguous, 2);
    }

    #[test]
    fn unresolved_epoch_time_is_not_a_label() {
        let mut p = Pairing::new(PairingConfig::default());
        p.on_edge(PpsEdge {
            local_ns: T0,
            sequence: 1,
        });
        let mut e = epoch(Some(T0), None);
        if let Some(t) = e.time.as_mut() {
            t.fully_resolved = false;
        }
        p.on_epoch(&e, T0 + 100_000_000);
        let mut tp = epoch(None, Some((T0 + NS_PER_SEC, None)));
        if let Some(t) = tp.time_pulse.as_mut() {
            t.utc_valid = false;
        }
        p.on_epoch(&tp, T0 + 100_000_000);
        p.on_tick(T0 + 5 * NS_PER_SEC);
        assert!(p.next_sample().is_none());
        assert_eq!(p.status().labels_rejected, 2);
        assert_eq!(p.status().unlabelled, 1);
    }

    #[test]
    fn sub_second_epochs_are_not_labels() {
        let mut p = Pairing::new(PairingConfig::default());
        p.on_edge(PpsEdge {
            local_ns: T0,
            sequence: 1,
        });
        p.on_epoch(&epoch(Some(T0 + 200_000_000), None), T0 + 250_000_000);
        p.on_tick(T0 + 5 * NS_PER_SEC);
        assert!(p.next_sample().is_none());
        assert_eq!(p.status().labels_rejected, 1);
    }
}
