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

use super::holdover::HoldoverModel;
use super::lock::{LockMachine, LockState, Transition};
use super::pairing::{Pairing, PairingStatus};
use super::servo::{Servo, UpdateOutcome};
use crate::clock::ClockCommand;
use crate::events::{Event, EventKind};
use crate::gnss::GnssEpoch;
use crate::pps::PpsEdge;
use crate::time::NS_PER_SEC;

mod bound;
mod config;
mod correction;
mod correction_log;
mod divergence;
mod events;
mod leap_commands;
mod served;
mod steering;
#[cfg(test)]
mod tests;
mod time_jump;
mod trust;

pub use config::EngineConfig;
use correction_log::CorrectionLog;
use time_jump::JUMP_EVIDENCE;
pub use time_jump::{JumpAcceptance, JumpRefusal};
use trust::GnssHealth;

/// Servo state is kept this far behind "now" when propagated without
/// samples, so late samples (pairing decides ~1.2 s after an edge) still lie
/// after it.
const HOLD_LAG_NS: i64 = 2 * NS_PER_SEC;
/// Rejections in a row that restart acquisition before the first lock.
const ACQUIRE_RESTART_OUTLIERS: u32 = 4;

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
    /// `ReleasePll` was sent (once, before the first frequency command).
    took_over: bool,
    /// A correction larger than the bound is being steered out.
    correcting: bool,
    steps: u64,
    /// Local clock jumps someone else made, and the last one's size (ns).
    local_jumps: u64,
    last_local_jump_ns: Option<i64>,
    /// The filter's recent innovations, as evidence of a tracking error.
    tracking: bound::TrackingEvidence,
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
            correcting: false,
            took_over: false,
            sync_told: None,
            jump_innovations: std::collections::VecDeque::with_capacity(JUMP_EVIDENCE),
            jump_since_local: None,
            steps: 0,
            local_jumps: 0,
            last_local_jump_ns: None,
            tracking: bound::TrackingEvidence::default(),
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
        self.health.on_epoch(epoch, arrival_local_ns);
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
                UpdateOutcome::Accepted { innovation_ns, .. } => {
                    self.tracking.on_accepted(innovation_ns);
                    self.jump_innovations.clear();
                    self.last_update_local = Some(s.local_ns);
                    let (x, sig) = (self.servo.offset_ns(), self.servo.offset_sigma_ns());
                    let fsig = self.servo.frequency_sigma_ppm();
                    if let Some(t) = self.lock.on_accepted(x, sig, fsig, now) {
                        self.record_transition(t);
                    }
                }
                UpdateOutcome::Outlier { innovation_ns, .. } => {
                    self.tracking
                        .on_rejected(innovation_ns, 5.0 * self.servo.noise_ns());
                    if self.jump_innovations.len() >= JUMP_EVIDENCE {
                        self.jump_innovations.pop_front();
                    }
                    self.jump_innovations.push_back((s.local_ns, innovation_ns));
                    if self.check_divergence(z, now) {
                        self.last_update_local = Some(s.local_ns);
                    } else if let Some(t) = self.lock.on_rejected(innovation_ns, now) {
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
}
