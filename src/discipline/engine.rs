//! The discipline engine (sans-IO): PPS edges and receiver epochs in, clock
//! commands, events and the holdover model out. Combines `Pairing`, the
//! Kalman `Servo`, the `LockMachine`, the holdover bound and the leap
//! schedule. The daemon, `demo` and `simulate` all drive this same type.
//!
//! Timing: samples come out of the pairing about a second after their edge,
//! so the servo's state lives at the time of the last sample, and steering
//! extrapolates it to "now" with the corrections already applied (kept in a
//! `CorrectionLog`). Commands are issued on `on_tick` (the shell calls it about
//! once a second) and take effect at the tick's local time.

use super::holdover::{time_error_bound_ns, HoldoverModel};
use super::lock::{LockConfig, LockMachine, LockState, Reason, Transition};
use super::pairing::{Pairing, PairingConfig, PairingStatus};
use super::servo::{Servo, ServoConfig, UpdateOutcome};
use super::DisciplineStatus;
use crate::clock::ClockCommand;
use crate::events::{Event, EventKind};
use crate::gnss::{AntennaStatus, GnssEpoch, JammingState, SpoofingState};
use crate::pps::PpsEdge;
use crate::status::{LeapIndicator, ServerFields};
use crate::time::NS_PER_SEC;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct EngineConfig {
    pub servo: ServoConfig,
    pub lock: LockConfig,
    /// Antenna cable delay, ns (pulse late by this much).
    pub cable_delay_ns: i64,
    /// PPS capture latency, ns (timestamp late by this much).
    pub capture_latency_ns: i64,
    /// At start-up only: step the clock when the offset exceeds this, ns.
    pub step_threshold_ns: i64,
    /// NTP reference ID (up to 4 ASCII characters).
    pub refid: String,
    pub min_satellites: u32,
    /// No PPS edge for this long: GNSS not trusted.
    pub pps_timeout_ms: i64,
    /// No valid receiver time for this long: GNSS not trusted.
    pub time_timeout_ms: i64,
    /// The published bound is this many σ of the phase estimate …
    pub bound_sigmas: f64,
    /// … plus this allowance for calibration errors, ns.
    pub systematic_error_ns: f64,
    /// Hand out the holdover model for persistence this often while locked, s.
    pub model_interval_s: i64,
    /// How leap seconds are carried out: kernel, step or smear.
    pub leap_mode: super::leap::LeapMode,
    /// Operator's TAI − UTC, seconds (a leap source like the receiver and the file).
    pub leap_tai_utc_override: Option<i32>,
    /// Accept a time jump by itself once it has persisted (with consistent
    /// samples) this long, s. None: only an operator accepts it.
    pub jump_accept_after_s: Option<u32>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            servo: ServoConfig::default(),
            lock: LockConfig::default(),
            cable_delay_ns: 0,
            capture_latency_ns: 0,
            step_threshold_ns: 1_000_000,
            refid: "GPS".to_string(),
            min_satellites: 4,
            pps_timeout_ms: 2_500,
            time_timeout_ms: 3_000,
            bound_sigmas: 4.0,
            systematic_error_ns: 0.0,
            model_interval_s: 600,
            leap_mode: super::leap::LeapMode::Kernel,
            leap_tai_utc_override: None,
            jump_accept_after_s: None,
        }
    }
}

impl EngineConfig {
    pub fn pairing(&self) -> PairingConfig {
        PairingConfig {
            cable_delay_ns: self.cable_delay_ns,
            capture_latency_ns: self.capture_latency_ns,
            ..PairingConfig::default()
        }
    }
    pub fn refid_bytes(&self) -> [u8; 4] {
        let mut r = [0u8; 4];
        for (d, s) in r.iter_mut().zip(self.refid.bytes()) {
            *d = s;
        }
        r
    }
}

/// Frequency corrections applied over time (local ns, ppm), so the phase they
/// added between two instants can be integrated exactly.
#[derive(Debug, Clone)]
struct CorrectionLog {
    /// (from local ns, ppm), sorted; the last entry is the current correction.
    segs: VecDeque<(i64, f64)>,
}

impl CorrectionLog {
    fn new(ppm: f64) -> Self {
        Self {
            segs: VecDeque::from([(i64::MIN, ppm)]),
        }
    }
    fn current(&self) -> f64 {
        self.segs.back().map_or(0.0, |s| s.1)
    }
    fn set(&mut self, at: i64, ppm: f64) {
        while self.segs.back().is_some_and(|s| s.0 >= at) && self.segs.len() > 1 {
            self.segs.pop_back();
        }
        self.segs.push_back((at, ppm));
    }
    /// Phase added between t0 and t1 (local ns), ns.
    fn integral(&self, t0: i64, t1: i64) -> f64 {
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
    fn prune(&mut self, t: i64) {
        while self.segs.len() > 1 && self.segs.get(1).is_some_and(|s| s.0 <= t) {
            self.segs.pop_front();
        }
    }
    fn shift(&mut self, delta: i64) {
        for s in self.segs.iter_mut() {
            if s.0 != i64::MIN {
                s.0 = s.0.saturating_add(delta);
            }
        }
    }
}

/// Latest receiver health, as far as trust in GNSS time goes.
#[derive(Debug, Clone, Default)]
struct GnssHealth {
    last_edge_local: Option<i64>,
    last_valid_time_local: Option<i64>,
    last_time_invalid: bool,
    sats_used: Option<u32>,
    antenna: AntennaStatus,
    spoofing: SpoofingState,
    jamming: JammingState,
}

/// Servo state is kept this far behind "now" when propagated without
/// samples, so late samples (pairing decides ~1.2 s after an edge) still lie
/// after it.
const HOLD_LAG_NS: i64 = 2 * NS_PER_SEC;
/// Rejections in a row that restart acquisition before the first lock.
const ACQUIRE_RESTART_OUTLIERS: u32 = 4;
/// Rejected innovations kept as evidence for a time jump.
const JUMP_EVIDENCE: usize = 16;
/// Innovations that must agree before a jump may be accepted.
const JUMP_AGREEING: usize = 8;
/// Agreement needed among them: the larger of this and 10 noise σ, ns.
const JUMP_SPREAD_FLOOR_NS: f64 = 2_000.0;

/// Why a time jump cannot be accepted now.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JumpRefusal {
    #[error("no time jump is pending")]
    NotPending,
    #[error("too few recent receiver samples to measure the jump ({0} of {JUMP_AGREEING})")]
    TooFewSamples(usize),
    #[error("the receiver's samples disagree among themselves by {spread_ns:.0} ns (allowed {allowed_ns:.0} ns)")]
    Inconsistent { spread_ns: f64, allowed_ns: f64 },
}

/// Who decided that a pending time jump is the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JumpAcceptance {
    /// An operator, through the control socket.
    Operator,
    /// The jump persisted for the configured time (`time-jump-accept-after-s`).
    Persistent,
}

impl JumpAcceptance {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "time_jump_operator",
            Self::Persistent => "time_jump_persistent",
        }
    }
}

#[derive(Debug)]
pub struct Engine {
    cfg: EngineConfig,
    pairing: Pairing,
    servo: Servo,
    /// Warm-start prior, kept for a restart of acquisition.
    warm: Option<super::servo::WarmStart>,
    lock: LockMachine,
    log: CorrectionLog,
    /// Local time of the servo's state.
    servo_time: Option<i64>,
    health: GnssHealth,
    /// Last local time at which GNSS was found untrustworthy: edges captured
    /// before it are not used even if their sample is decided later.
    last_distrust_local: Option<i64>,
    temp_c: Option<f64>,
    stepped: bool,
    steps: u64,
    /// What the clock was last told about synchronization (`SetSync`).
    sync_told: Option<bool>,
    /// Recent rejected innovations (local time, ns) while the receiver's
    /// time disagrees with ours: the evidence for accepting a time jump.
    jump_innovations: std::collections::VecDeque<(i64, f64)>,
    /// Since when (local) a time jump has been pending.
    jump_since_local: Option<i64>,
    samples: u64,
    ignored: u64,
    /// Local time of the last accepted update.
    last_update_local: Option<i64>,
    last_model_local: Option<i64>,
    now_local: i64,
    leap: super::leap_view::LeapView,
    commands: Vec<ClockCommand>,
    events: Vec<Event>,
    transitions: Vec<Transition>,
    model_out: Option<HoldoverModel>,
}

impl Engine {
    /// `initial_correction_ppm`: the clock's frequency correction as found
    /// (the kernel keeps it across daemon restarts). `warm`: the persisted
    /// holdover model, if any.
    pub fn new(
        cfg: EngineConfig,
        now_local_ns: i64,
        initial_correction_ppm: f64,
        warm: Option<&HoldoverModel>,
        temp_c: Option<f64>,
    ) -> Self {
        let ws = warm.map(|m| {
            let age = now_local_ns.saturating_sub(m.learned_at_ns) as f64 / NS_PER_SEC as f64;
            m.warm_start(age, temp_c, cfg.servo.wander_sigma)
        });
        Self {
            pairing: Pairing::new(cfg.pairing()),
            servo: Servo::new(cfg.servo.clone(), ws),
            warm: ws,
            lock: LockMachine::new(cfg.lock.clone(), now_local_ns),
            log: CorrectionLog::new(initial_correction_ppm),
            servo_time: None,
            health: GnssHealth::default(),
            last_distrust_local: None,
            temp_c,
            stepped: false,
            sync_told: None,
            jump_innovations: std::collections::VecDeque::with_capacity(JUMP_EVIDENCE),
            jump_since_local: None,
            steps: 0,
            samples: 0,
            ignored: 0,
            last_update_local: None,
            last_model_local: None,
            now_local: now_local_ns,
            leap: super::leap_view::LeapView::new(cfg.leap_mode, cfg.leap_tai_utc_override),
            commands: Vec::new(),
            events: Vec::new(),
            transitions: Vec::new(),
            model_out: None,
            cfg,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// A receiver epoch as it arrived (local clock time).
    pub fn on_epoch(&mut self, epoch: &GnssEpoch, arrival_local_ns: i64) {
        self.now_local = self.now_local.max(arrival_local_ns);
        let h = &mut self.health;
        if let Some(t) = epoch.time {
            if t.is_valid() {
                h.last_valid_time_local = Some(arrival_local_ns);
                h.last_time_invalid = false;
            } else {
                h.last_time_invalid = true;
            }
        }
        if let Some(n) = epoch.fix.sats_used {
            h.sats_used = Some(n);
        }
        if let Some(a) = epoch.antenna {
            h.antenna = a.status;
        }
        if let Some(s) = epoch.security {
            h.spoofing = s.spoofing;
            h.jamming = s.jamming;
        }
        if let Some(l) = epoch.leap {
            self.leap.on_receiver(&l, epoch.time.map(|t| t.utc_ns));
        }
        if self.distrust(arrival_local_ns).is_some() {
            self.last_distrust_local = Some(arrival_local_ns);
        }
        self.pairing.on_epoch(epoch, arrival_local_ns);
        self.process_samples();
    }

    /// A PPS edge (timestamp on the disciplined clock's scale).
    pub fn on_edge(&mut self, edge: PpsEdge) {
        self.now_local = self.now_local.max(edge.local_ns);
        self.health.last_edge_local = Some(edge.local_ns);
        self.pairing.on_edge(edge);
        self.process_samples();
    }

    /// About once a second: judge GNSS trust, propagate holdover, steer.
    pub fn on_tick(&mut self, now_local_ns: i64, temp_c: Option<f64>) {
        self.now_local = self.now_local.max(now_local_ns);
        let now = self.now_local;
        // A broken sensor reading must not poison the filter.
        let temp_c = temp_c.filter(|t| t.is_finite() && (-100.0..=200.0).contains(t));
        if temp_c.is_some() {
            self.temp_c = temp_c;
        }
        self.pairing.on_tick(now);
        self.process_samples();
        self.maybe_accept_persistent_jump(now);

        if let Some(reason) = self.distrust(now) {
            self.last_distrust_local = Some(now);
            if let Some(t) = self.lock.on_distrust(reason, now) {
                self.record_transition(t);
                // Entering holdover: hand out the model learned so far.
                self.model_out = Some(self.model());
            }
        }
        // Without fresh samples, carry the servo state forward (holdover).
        if let Some(st) = self.servo_time {
            let target = now.saturating_sub(HOLD_LAG_NS);
            if target > st && now.saturating_sub(st) > HOLD_LAG_NS + NS_PER_SEC / 2 {
                self.advance_servo(target);
            }
        }
        let bound = self.bound_ns();
        if let Some(t) = self.lock.on_bound(bound, now) {
            self.record_transition(t);
        }
        self.steer(now);
        self.sync_command();
        if bound.is_finite() && self.servo.is_initialized() {
            // Error estimates for other ntp_adjtime users (kernel keeps µs).
            self.commands.push(ClockCommand::SetErrors {
                maxerror_ns: bound.max(0.0) as u64,
                esterror_ns: self.servo.offset_sigma_ns().max(0.0) as u64,
            });
        }
        self.leap_commands(now);
        if self.lock.state() == LockState::Locked {
            let due = self.last_model_local.is_none_or(|t| {
                now.saturating_sub(t) >= self.cfg.model_interval_s.saturating_mul(NS_PER_SEC)
            });
            if due {
                self.last_model_local = Some(now);
                self.model_out = Some(self.model());
            }
        }
    }

    /// Commands for the clock, in order.
    pub fn drain_commands(&mut self) -> Vec<ClockCommand> {
        std::mem::take(&mut self.commands)
    }
    /// Events for the store.
    pub fn drain_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
    /// Lock transitions since the last call (also emitted as events).
    pub fn drain_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.transitions)
    }
    /// The holdover model, when it is due for persistence.
    pub fn take_model(&mut self) -> Option<HoldoverModel> {
        self.model_out.take()
    }

    pub fn lock_state(&self) -> LockState {
        self.lock.state()
    }
    pub fn servo(&self) -> &Servo {
        &self.servo
    }
    /// The leap schedule, e.g. to install a verified leap-seconds.list.
    pub fn leap_schedule_mut(&mut self) -> &mut super::leap::LeapSchedule {
        self.leap.schedule_mut()
    }

    /// Smear offset to add to served time now (smear mode; 0 otherwise).
    pub fn smear_offset_ns(&self) -> i64 {
        self.leap
            .status(self.utc_of(self.now_local))
            .smear_offset_ns
    }

    pub fn pairing_status(&self) -> PairingStatus {
        self.pairing.status()
    }

    /// The learned oscillator model as of now.
    pub fn model(&self) -> HoldoverModel {
        HoldoverModel::from_servo(&self.servo, self.utc_of(self.now_local))
    }

    /// UTC for a local time, using the servo's offset estimate.
    fn utc_of(&self, local: i64) -> i64 {
        local.saturating_sub(self.offset_now_ns().round() as i64)
    }

    fn dtemp(&self) -> f64 {
        match (self.temp_c, self.servo.temperature_c()) {
            (Some(a), Some(b)) => a - b,
            _ => 0.0,
        }
    }

    /// Estimated offset of the clock now (local − UTC), ns.
    pub fn offset_now_ns(&self) -> f64 {
        let Some(st) = self.servo_time else {
            return 0.0;
        };
        let dt = (self.now_local.saturating_sub(st)) as f64 / NS_PER_SEC as f64;
        let u = self.log.integral(st, self.now_local);
        self.servo.extrapolate_offset_ns(dt, u, self.dtemp())
    }

    /// Honest time-error bound now: |estimated offset| + k·σ + systematic, ns
    /// (infinite before the first sample).
    pub fn bound_ns(&self) -> f64 {
        let Some(st) = self.servo_time else {
            return f64::INFINITY;
        };
        let dt = (self.now_local.saturating_sub(st)) as f64 / NS_PER_SEC as f64;
        let var = self.servo.predicted_phase_var(dt, self.dtemp());
        // The estimated offset not yet steered out is error too.
        self.offset_now_ns().abs()
            + time_error_bound_ns(
                var.sqrt(),
                self.cfg.bound_sigmas,
                self.cfg.systematic_error_ns,
            )
    }

    /// Why GNSS cannot be trusted right now, if it cannot.
    fn distrust(&self, now: i64) -> Option<Reason> {
        let h = &self.health;
        let ms = 1_000_000;
        if h.last_edge_local
            .is_none_or(|t| now.saturating_sub(t) > self.cfg.pps_timeout_ms.saturating_mul(ms))
        {
            return Some(Reason::PpsMissing);
        }
        if h.last_time_invalid
            || h.last_valid_time_local
                .is_none_or(|t| now.saturating_sub(t) > self.cfg.time_timeout_ms.saturating_mul(ms))
        {
            return Some(Reason::NoValidTime);
        }
        if h.sats_used.is_some_and(|n| n < self.cfg.min_satellites) {
            return Some(Reason::TooFewSatellites);
        }
        match h.antenna {
            AntennaStatus::Short => return Some(Reason::AntennaShort),
            AntennaStatus::Open => return Some(Reason::AntennaOpen),
            _ => {}
        }
        if matches!(
            h.spoofing,
            SpoofingState::Indicated | SpoofingState::Multiple
        ) {
            return Some(Reason::Spoofing);
        }
        if h.jamming == JammingState::Critical {
            return Some(Reason::Jamming);
        }
        None
    }

    fn advance_servo(&mut self, to: i64) {
        let Some(st) = self.servo_time else { return };
        if to <= st {
            return;
        }
        let dt = (to.saturating_sub(st)) as f64 / NS_PER_SEC as f64;
        let u = self.log.integral(st, to);
        self.servo.predict(dt, u, self.temp_c);
        self.servo_time = Some(to);
        self.log.prune(to);
    }

    fn process_samples(&mut self) {
        while let Some(s) = self.pairing.next_sample() {
            self.samples += 1;
            let now = self.now_local;
            if self.last_distrust_local.is_some_and(|t| s.local_ns <= t) {
                // Captured while GNSS was not trusted.
                self.ignored += 1;
                continue;
            }
            if let Some(reason) = self.distrust(now) {
                self.last_distrust_local = Some(now);
                self.ignored += 1;
                if let Some(t) = self.lock.on_distrust(reason, now) {
                    self.record_transition(t);
                    self.model_out = Some(self.model());
                }
                continue;
            }
            if self.leap.near_leap(s.utc_ns) {
                self.ignored += 1;
                continue;
            }
            let z = s.offset_ns() as f64;
            match self.servo_time {
                None => {
                    self.servo.update(z, self.temp_c);
                    self.servo_time = Some(s.local_ns);
                    self.last_update_local = Some(s.local_ns);
                    continue;
                }
                Some(st) if s.local_ns <= st => {
                    // Older than the servo state (e.g. right after holdover
                    // propagation): no information we can place in time.
                    self.ignored += 1;
                    continue;
                }
                Some(_) => self.advance_servo(s.local_ns),
            }
            match self.servo.update(z, self.temp_c) {
                UpdateOutcome::Accepted { .. } => {
                    self.jump_innovations.clear();
                    self.last_update_local = Some(s.local_ns);
                    let (x, sig) = (self.servo.offset_ns(), self.servo.offset_sigma_ns());
                    let fsig = self.servo.frequency_sigma_ppm();
                    if let Some(t) = self.lock.on_accepted(x, sig, fsig, now) {
                        self.record_transition(t);
                    }
                }
                UpdateOutcome::Outlier { innovation_ns, .. } => {
                    if self.jump_innovations.len() >= JUMP_EVIDENCE {
                        self.jump_innovations.pop_front();
                    }
                    self.jump_innovations.push_back((s.local_ns, innovation_ns));
                    if let Some(t) = self.lock.on_rejected(innovation_ns, now) {
                        self.record_transition(t);
                        self.model_out = Some(self.model());
                    }
                    // Before the first lock a run of rejections means the filter
                    // started from a bad sample (e.g. an IRQ-latency outlier):
                    // start it again rather than trust it.
                    if !self.lock.ever_locked()
                        && self.servo.consecutive_outliers() >= ACQUIRE_RESTART_OUTLIERS
                    {
                        self.servo = Servo::new(self.cfg.servo.clone(), self.warm);
                        self.servo_time = None;
                        self.events.push(Event::new(
                            self.utc_of(now),
                            EventKind::ServoRestart {
                                reason: "acquisition restarted after consecutive outliers".into(),
                            },
                        ));
                    }
                }
            }
            self.maybe_startup_step();
        }
    }

    /// The jump the receiver's time made against ours, if one is pending and
    /// the receiver's recent samples agree on it (their median, ns; the
    /// clock must be stepped by minus this to follow).
    pub fn pending_jump_ns(&self) -> Result<f64, JumpRefusal> {
        if !self.lock.jump_pending() {
            return Err(JumpRefusal::NotPending);
        }
        // Only samples from the last minute count: old evidence is not evidence.
        let recent: Vec<f64> = self
            .jump_innovations
            .iter()
            .filter(|(t, _)| self.now_local.saturating_sub(*t) <= 60 * NS_PER_SEC)
            .rev()
            .take(JUMP_AGREEING)
            .map(|&(_, v)| v)
            .collect();
        if recent.len() < JUMP_AGREEING {
            return Err(JumpRefusal::TooFewSamples(recent.len()));
        }
        let mut sorted = recent;
        sorted.sort_by(f64::total_cmp);
        let (lo, hi) = (sorted[0], sorted[sorted.len() - 1]);
        let allowed = JUMP_SPREAD_FLOOR_NS.max(10.0 * self.servo.noise_ns());
        if hi - lo > allowed {
            return Err(JumpRefusal::Inconsistent {
                spread_ns: hi - lo,
                allowed_ns: allowed,
            });
        }
        Ok(sorted[sorted.len() / 2])
    }

    /// Accept a pending time jump as the truth: step the clock onto the
    /// receiver's time (keeping all frequency knowledge) and let the lock
    /// machine re-lock after a run of consistent samples. Returns the step.
    pub fn accept_time_jump(&mut self, by: JumpAcceptance) -> Result<i64, JumpRefusal> {
        let jump = self.pending_jump_ns()?;
        let Some(st) = self.servo_time else {
            return Err(JumpRefusal::TooFewSamples(0));
        };
        let delta = -(jump.round() as i64);
        // The servo's phase already describes the clock after the step (the
        // receiver, not our oscillator, moved); only local-time marks move.
        self.step_clock(st, delta, by.as_str());
        self.lock.jump_accepted();
        self.jump_innovations.clear();
        self.jump_since_local = None;
        Ok(delta)
    }

    fn maybe_accept_persistent_jump(&mut self, now: i64) {
        if !self.lock.jump_pending() {
            self.jump_since_local = None;
            return;
        }
        let since = *self.jump_since_local.get_or_insert(now);
        let Some(after_s) = self.cfg.jump_accept_after_s.filter(|&s| s > 0) else {
            return;
        };
        if now.saturating_sub(since) >= i64::from(after_s).saturating_mul(NS_PER_SEC) {
            // Inconsistent evidence: keep waiting (and keep serving stratum 16
            // once the bound is passed) rather than follow noise.
            let _ = self.accept_time_jump(JumpAcceptance::Persistent);
        }
    }

    /// A step is allowed once, at start-up, before the first lock.
    fn maybe_startup_step(&mut self) {
        if self.stepped || self.lock.ever_locked() || self.servo.accepted() < 3 {
            return;
        }
        let Some(st) = self.servo_time else { return };
        // The offset now, not at the sample: corrections keep running meanwhile.
        let x = self.offset_now_ns();
        if x.abs() <= self.cfg.step_threshold_ns as f64 {
            // Small enough to slew: start-up no longer steps.
            if self.servo.accepted() >= 8 {
                self.stepped = true;
            }
            return;
        }
        let delta = -(x.round() as i64);
        self.servo.shift_phase(delta as f64);
        self.step_clock(st, delta, "startup");
    }

    /// Step the clock by `delta` and move every local-time mark with it.
    fn step_clock(&mut self, servo_time: i64, delta: i64, reason: &str) {
        self.commands.push(ClockCommand::Step { delta_ns: delta });
        self.servo_time = Some(servo_time.saturating_add(delta));
        self.log.shift(delta);
        self.pairing.reset();
        let h = &mut self.health;
        for t in [&mut h.last_edge_local, &mut h.last_valid_time_local] {
            if let Some(v) = t.as_mut() {
                *v = v.saturating_add(delta);
            }
        }
        if let Some(v) = self.last_update_local.as_mut() {
            *v = v.saturating_add(delta);
        }
        self.now_local = self.now_local.saturating_add(delta);
        self.stepped = true;
        self.steps += 1;
        let utc = self.now_local;
        self.events.push(Event::new(
            utc,
            EventKind::ClockStep {
                delta_ns: delta,
                reason: reason.to_string(),
            },
        ));
    }

    fn steer(&mut self, now: i64) {
        let Some(st) = self.servo_time else {
            return;
        };
        let dt = (now.saturating_sub(st)) as f64 / NS_PER_SEC as f64;
        let u = self.log.integral(st, now);
        let dtemp = self.dtemp();
        let mut x = self.servo.extrapolate_offset_ns(dt, u, dtemp);
        let y = self.servo.extrapolate_frequency(dt, dtemp);
        if !self.stepped && !self.lock.ever_locked() {
            // Until the start-up step decision: hold frequency, leave phase.
            x = 0.0;
        }
        let ppm = self.servo.steer_for(x, y);
        self.log.set(now, ppm);
        self.commands.push(ClockCommand::SetFrequency { ppm });
    }

    /// Other programs see the clock as synchronized exactly when NTP serves
    /// it at stratum 1 (locked or holdover within the bound).
    fn sync_command(&mut self) {
        let synchronized = matches!(self.lock.state(), LockState::Locked | LockState::Holdover);
        if self.sync_told != Some(synchronized) {
            self.sync_told = Some(synchronized);
            self.commands.push(ClockCommand::SetSync { synchronized });
        }
    }

    fn leap_commands(&mut self, now: i64) {
        let utc = self.utc_of(now);
        let serving = matches!(self.lock.state(), LockState::Locked | LockState::Holdover);
        for c in self.leap.commands(utc, serving) {
            self.commands.push(c);
        }
        self.events.extend(self.leap.drain_events());
    }

    fn record_transition(&mut self, t: Transition) {
        self.events.push(Event::new(
            self.utc_of(t.at_ns),
            EventKind::LockTransition {
                from: t.from.as_str().into(),
                to: t.to.as_str().into(),
                reason: t.reason.as_str().into(),
            },
        ));
        self.transitions.push(t);
    }

    /// Everything the status snapshot shows about discipline.
    pub fn status(&self) -> DisciplineStatus {
        DisciplineStatus {
            state: self.lock.state(),
            reason: self.lock.reason(),
            since_ns: self.utc_of(self.lock.since_ns()),
            offset_ns: self.offset_now_ns(),
            offset_sigma_ns: self.servo.offset_sigma_ns(),
            frequency_ppm: self.servo.frequency_ppm(),
            correction_ppm: self.log.current(),
            time_error_bound_ns: self.bound_ns(),
            noise_ns: self.servo.noise_ns(),
            wander_sigma: self.servo.wander_sigma(),
            samples: self.samples,
            accepted: self.servo.accepted(),
            outliers: self.servo.outliers(),
            ignored: self.ignored,
            steps: self.steps,
            temperature_c: self.temp_c,
            last_update_ns: self.last_update_local.map(|t| self.utc_of(t)),
            model: self.model(),
            leap: Some(self.leap.status(self.utc_of(self.now_local))),
            pending_time_jump_ns: self.pending_jump_ns().ok().map(|j| -(j.round() as i64)),
        }
    }

    /// What NTP replies advertise. Stratum 1 while locked or in holdover
    /// within the limit; stratum 16 / LI 3 otherwise.
    pub fn server_fields(&self, precision: i8) -> ServerFields {
        let serving = matches!(self.lock.state(), LockState::Locked | LockState::Holdover);
        let bound = self.bound_ns();
        let disp = if bound.is_finite() {
            bound.max(0.0).min(16.0 * NS_PER_SEC as f64) as u64
        } else {
            16 * NS_PER_SEC as u64
        };
        ServerFields {
            leap: if serving {
                self.leap.indicator(self.utc_of(self.now_local))
            } else {
                LeapIndicator::Unsynchronized
            },
            stratum: if serving { 1 } else { 16 },
            refid: self.cfg.refid_bytes(),
            precision,
            root_delay_ns: 0,
            root_dispersion_ns: disp,
            reference_time_ns: self.last_update_local.map_or(0, |t| self.utc_of(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::{EpochTime, Fix, FixMode, TimePulse};

    /// A perfect receiver and PPS on a clock that is exactly right, fed by hand.
    fn second(e: &mut Engine, k: i64, pps: bool) -> Vec<ClockCommand> {
        second_shifted(e, k, pps, 0, 0)
    }

    /// One second at true time t0 + k s, with the local clock `local_shift`
    /// ahead of true time and the receiver's UTC `utc_shift` ahead of it.
    fn second_shifted(
        e: &mut Engine,
        k: i64,
        pps: bool,
        local_shift: i64,
        utc_shift: i64,
    ) -> Vec<ClockCommand> {
        let t0 = 1_780_272_000 * NS_PER_SEC;
        let true_t = t0 + k * NS_PER_SEC;
        let t = true_t + local_shift;
        let utc = true_t + utc_shift;
        if pps {
            e.on_edge(PpsEdge {
                local_ns: t,
                sequence: k as u64,
            });
            let ep = GnssEpoch {
                time: Some(EpochTime {
                    utc_ns: utc,
                    valid_date: true,
                    valid_time: true,
                    fully_resolved: true,
                    tacc_ns: Some(20),
                    source: "NAV-TIMEUTC",
                }),
                time_pulse: Some(TimePulse {
                    utc_ns: utc + NS_PER_SEC,
                    qerr_ps: Some(0),
                    utc_based: true,
                    utc_valid: true,
                }),
                fix: Fix {
                    mode: FixMode::Time,
                    sats_used: Some(10),
                    ..Fix::default()
                },
                ..GnssEpoch::default()
            };
            e.on_epoch(&ep, t + 100_000_000);
        }
        e.on_tick(t + 500_000_000, Some(25.0));
        // The clock is perfect: corrections must stay tiny.
        let cmds = e.drain_commands();
        for c in &cmds {
            if let ClockCommand::SetFrequency { ppm } = c {
                assert!(ppm.abs() < 1.0, "k {k}: {ppm}");
            }
        }
        cmds
    }

    /// Locked on a perfect clock for 60 s, then the receiver's UTC jumps 1 s
    /// ahead and stays there. Runs `secs` seconds, applying every Step the
    /// engine commands to the local clock, and calls `act` each second.
    fn jump_run(
        e: &mut Engine,
        secs: i64,
        mut act: impl FnMut(&mut Engine, i64),
    ) -> (Vec<i64>, i64) {
        const JUMP: i64 = NS_PER_SEC;
        let (mut local_shift, mut steps) = (0, Vec::new());
        for k in 0..secs {
            let utc_shift = if k >= 60 { JUMP } else { 0 };
            for c in second_shifted(e, k, true, local_shift, utc_shift) {
                if let ClockCommand::Step { delta_ns } = c {
                    local_shift += delta_ns;
                    steps.push(delta_ns);
                }
            }
            act(e, k);
        }
        (steps, local_shift)
    }

    #[test]
    fn time_jump_is_held_until_an_operator_accepts_it() {
        let t0 = 1_780_272_000 * NS_PER_SEC;
        let mut e = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
        assert_eq!(
            e.accept_time_jump(JumpAcceptance::Operator),
            Err(JumpRefusal::NotPending)
        );
        let mut accepted = None;
        let (steps, shift) = jump_run(&mut e, 400, |e, k| {
            if k == 60 + 30 {
                assert_eq!(e.lock_state(), LockState::Holdover);
                assert_eq!(e.status().reason, Reason::TimeJump);
                let j = e.pending_jump_ns().expect("a consistent jump");
                assert!((j + 1e9).abs() < 2_000.0, "{j}");
                accepted = Some(e.accept_time_jump(JumpAcceptance::Operator));
            }
        });
        let delta = accepted.expect("reached").expect("accepted");
        assert!((delta - NS_PER_SEC).abs() < 2_000, "{delta}");
        // Exactly one step after the start-up decision: the accepted jump.
        assert_eq!(steps, vec![delta]);
        assert_eq!(shift, delta);
        assert_eq!(e.lock_state(), LockState::Locked);
        assert_eq!(e.status().reason, Reason::ConsistentSamples);
        assert!(e.status().offset_ns.abs() < 2_000.0);
        let ev = e.drain_events();
        assert!(ev
            .iter()
            .any(|ev| ev.kind == "clock.step" && ev.message().contains("time_jump_operator")));
    }

    #[test]
    fn time_jump_is_never_followed_by_itself_unless_configured() {
        let t0 = 1_780_272_000 * NS_PER_SEC;
        let mut never = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
        let (steps, _) = jump_run(&mut never, 900, |_, _| {});
        assert!(steps.is_empty(), "{steps:?}");
        assert_ne!(never.lock_state(), LockState::Locked);
        assert!(never.pending_jump_ns().is_ok());

        let cfg = EngineConfig {
            jump_accept_after_s: Some(120),
            ..EngineConfig::default()
        };
        let mut auto = Engine::new(cfg, t0, 0.0, None, Some(25.0));
        let mut first_step_at = None;
        let (steps, _) = jump_run(&mut auto, 600, |e, k| {
            if first_step_at.is_none() && e.pending_jump_ns().is_err() && k > 70 {
                first_step_at = Some(k);
            }
        });
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert!((steps[0] - NS_PER_SEC).abs() < 2_000, "{steps:?}");
        // Pending from ~65 s; accepted 120 s later, not before.
        let at = first_step_at.expect("accepted");
        assert!((185..=200).contains(&at), "accepted at {at}");
        assert_eq!(auto.lock_state(), LockState::Locked);
    }

    /// The kernel's STA_UNSYNC follows what NTP serves: unsynchronized until
    /// the first lock, synchronized while locked or in holdover, and
    /// unsynchronized again once the holdover bound is passed.
    #[test]
    fn sync_flag_follows_lock_state() {
        let t0 = 1_780_272_000 * NS_PER_SEC;
        let cfg = EngineConfig {
            lock: crate::discipline::lock::LockConfig {
                bound_limit_ns: 20_000.0,
                ..Default::default()
            },
            ..EngineConfig::default()
        };
        let mut e = Engine::new(cfg, t0, 0.0, None, Some(25.0));
        let mut told = Vec::new();
        for k in 0..3_000 {
            let pps = k < 60;
            for c in second(&mut e, k, pps) {
                if let ClockCommand::SetSync { synchronized } = c {
                    told.push((synchronized, e.lock_state()));
                }
            }
        }
        assert_eq!(e.lock_state(), LockState::Unsynchronized);
        assert_eq!(
            told,
            vec![
                (false, LockState::Acquiring),
                (true, LockState::Locked),
                (false, LockState::Unsynchronized)
            ]
        );
    }

    #[test]
    fn configured_tai_utc_is_a_leap_source() {
        let t0 = 1_780_272_000 * NS_PER_SEC;
        let cfg = EngineConfig {
            leap_tai_utc_override: Some(37),
            ..EngineConfig::default()
        };
        let mut e = Engine::new(cfg, t0, 0.0, None, None);
        e.on_tick(t0, None);
        let leap = e.status().leap.expect("leap state");
        assert!(leap.sources.config.is_some(), "{leap:?}");
        assert_eq!(leap.tai_utc, Some(37));
        let plain = Engine::new(EngineConfig::default(), t0, 0.0, None, None);
        let none = plain.status().leap.map(|l| l.sources.config.is_some());
        assert_ne!(none, Some(true));
    }

    #[test]
    fn server_fields_follow_lock_state() {
        let t0 = 1_780_272_000 * NS_PER_SEC;
        let mut e = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
        let f = e.server_fields(-20);
        assert_eq!((f.stratum, f.leap), (16, LeapIndicator::Unsynchronized));
        assert_eq!(&f.refid, b"GPS\0");
        for k in 0..60 {
            second(&mut e, k, true);
        }
        assert_eq!(e.lock_state(), LockState::Locked);
        let f = e.server_fields(-20);
        assert_eq!((f.stratum, f.leap), (1, LeapIndicator::NoWarning));
        assert!(f.reference_time_ns > t0 + 55 * NS_PER_SEC);
        let locked_disp = f.root_dispersion_ns;
        assert!(locked_disp < 5_000, "{locked_disp}");
        let ev = e.drain_events();
        assert!(ev
            .iter()
            .any(|ev| ev.kind == "lock.transition" && ev.message().contains("locked")));
        assert!(e.take_model().is_some(), "model handed out when locked");
        // PPS gone: holdover, still stratum 1, dispersion grows.
        for k in 60..200 {
            second(&mut e, k, false);
        }
        assert_eq!(e.lock_state(), LockState::Holdover);
        assert_eq!(e.status().reason, Reason::PpsMissing);
        let f = e.server_fields(-20);
        assert_eq!(f.stratum, 1);
        assert!(f.root_dispersion_ns > locked_disp);
        let st = e.status();
        assert!(st.time_error_bound_ns.is_finite());
        assert!(st.accepted >= 50);
    }

    #[test]
    fn correction_log_integrates_piecewise() {
        let mut l = CorrectionLog::new(1.0);
        l.set(1_000_000_000, -2.0);
        // 1 ppm for 0.5 s, then −2 ppm for 1 s.
        let u = l.integral(500_000_000, 2_000_000_000);
        assert!((u - (500.0 - 2000.0)).abs() < 1e-9, "{u}");
        l.prune(1_500_000_000);
        assert!((l.integral(1_500_000_000, 2_000_000_000) + 1000.0).abs() < 1e-9);
        l.shift(-1_000_000_000);
        assert!((l.integral(0, 1_000_000_000) + 2000.0).abs() < 1e-9);
    }
}
