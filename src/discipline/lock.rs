//! Lock states: `Acquiring` → `Locked` → `Holdover` → `Unsynchronized`, every
//! transition with a reason. Sans-IO: the engine feeds it the GNSS trust
//! verdict, servo outcomes and the holdover bound, with time as a value.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LockState {
    #[default]
    Acquiring,
    Locked,
    Holdover,
    Unsynchronized,
}

impl LockState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acquiring => "acquiring",
            Self::Locked => "locked",
            Self::Holdover => "holdover",
            Self::Unsynchronized => "unsynchronized",
        }
    }
}

/// Why a transition happened. The holdover causes double as the reasons GNSS
/// is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    #[default]
    Startup,
    /// A run of consistent samples.
    ConsistentSamples,
    PpsMissing,
    NoValidTime,
    TooFewSatellites,
    AntennaShort,
    AntennaOpen,
    Spoofing,
    Jamming,
    /// The receiver's time jumped against the local clock beyond the bound.
    TimeJump,
    /// The servo lost the oscillator (its rejected innovations ramped) and
    /// re-acquired from the measurements; GNSS itself is healthy.
    Divergence,
    /// The holdover time-error bound passed the configured limit.
    BoundExceeded,
    /// Not a transition: what the status shows while unsynchronized or
    /// acquiring and no receiver message arrived (device absent or silent).
    NoReceiver,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Startup => "startup",
            Self::ConsistentSamples => "consistent_samples",
            Self::PpsMissing => "pps_missing",
            Self::NoValidTime => "no_valid_time",
            Self::TooFewSatellites => "too_few_satellites",
            Self::AntennaShort => "antenna_short",
            Self::AntennaOpen => "antenna_open",
            Self::Spoofing => "spoofing",
            Self::Jamming => "jamming",
            Self::TimeJump => "time_jump",
            Self::Divergence => "divergence",
            Self::BoundExceeded => "bound_exceeded",
            Self::NoReceiver => "no_receiver",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Transition {
    /// Local clock time of the transition, ns.
    pub at_ns: i64,
    pub from: LockState,
    pub to: LockState,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct LockConfig {
    /// Consecutive accepted samples needed to lock (first lock and re-lock).
    pub lock_run: u32,
    /// Shorter run that suffices when the frequency is already well known
    /// (warm start, re-lock after a short holdover, very clean PPS).
    pub lock_run_fast: u32,
    /// "Well known": frequency σ below this, ppm.
    pub lock_fast_max_freq_sigma_ppm: f64,
    /// Largest estimated phase offset at which the clock counts as locked, ns.
    pub lock_max_offset_ns: f64,
    /// Largest phase-estimate σ at which the clock counts as locked, ns.
    pub lock_max_sigma_ns: f64,
    /// Consecutive rejected samples beyond `jump_min_ns` that mean the
    /// receiver's time jumped.
    pub jump_run: u32,
    /// Smallest innovation that counts towards a jump, ns.
    pub jump_min_ns: f64,
    /// Holdover becomes Unsynchronized when the error bound passes this, ns.
    pub bound_limit_ns: f64,
}

impl Default for LockConfig {
    fn default() -> Self {
        Self {
            lock_run: 16,
            lock_run_fast: 8,
            lock_fast_max_freq_sigma_ppm: 0.05,
            lock_max_offset_ns: 10_000.0,
            lock_max_sigma_ns: 5_000.0,
            jump_run: 5,
            jump_min_ns: 10_000.0,
            bound_limit_ns: 1_000_000.0,
        }
    }
}

/// The state machine. `since_ns` is the local time of the last transition.
#[derive(Debug, Clone)]
pub struct LockMachine {
    cfg: LockConfig,
    state: LockState,
    reason: Reason,
    since_ns: i64,
    /// Consecutive accepted samples while GNSS is trusted.
    run: u32,
    /// Consecutive large rejected samples.
    jump_run: u32,
    /// A time jump was seen and not yet resolved by consistent samples.
    jumped: bool,
    ever_locked: bool,
}

impl LockMachine {
    pub fn new(cfg: LockConfig, now_ns: i64) -> Self {
        Self {
            cfg,
            state: LockState::Acquiring,
            reason: Reason::Startup,
            since_ns: now_ns,
            run: 0,
            jump_run: 0,
            jumped: false,
            ever_locked: false,
        }
    }
    pub fn config(&self) -> &LockConfig {
        &self.cfg
    }
    pub fn state(&self) -> LockState {
        self.state
    }
    pub fn reason(&self) -> Reason {
        self.reason
    }
    pub fn since_ns(&self) -> i64 {
        self.since_ns
    }
    pub fn ever_locked(&self) -> bool {
        self.ever_locked
    }
    pub fn jump_pending(&self) -> bool {
        self.jumped
    }

    fn go(&mut self, to: LockState, reason: Reason, now_ns: i64) -> Option<Transition> {
        if to == self.state {
            return None;
        }
        let t = Transition {
            at_ns: now_ns,
            from: self.state,
            to,
            reason,
        };
        self.state = to;
        self.reason = reason;
        self.since_ns = now_ns;
        if to == LockState::Locked {
            self.ever_locked = true;
        }
        Some(t)
    }

    /// The clock was stepped by `delta_ns`: move the local-time mark.
    pub fn shift(&mut self, delta_ns: i64) {
        self.since_ns = self.since_ns.saturating_add(delta_ns);
    }

    /// GNSS stopped being trustworthy (or still is not).
    pub fn on_distrust(&mut self, reason: Reason, now_ns: i64) -> Option<Transition> {
        self.run = 0;
        match self.state {
            LockState::Locked => self.go(LockState::Holdover, reason, now_ns),
            _ => None,
        }
    }

    /// A sample the servo accepted, with the servo's phase estimate and σ
    /// and its frequency σ (ppm).
    pub fn on_accepted(
        &mut self,
        offset_ns: f64,
        sigma_ns: f64,
        freq_sigma_ppm: f64,
        now_ns: i64,
    ) -> Option<Transition> {
        self.jump_run = 0;
        self.run = self.run.saturating_add(1);
        let needed = if freq_sigma_ppm <= self.cfg.lock_fast_max_freq_sigma_ppm {
            self.cfg.lock_run_fast.min(self.cfg.lock_run)
        } else {
            self.cfg.lock_run
        };
        let good = offset_ns.abs() <= self.cfg.lock_max_offset_ns
            && sigma_ns <= self.cfg.lock_max_sigma_ns
            && self.run >= needed;
        if good {
            self.jumped = false;
            if self.state != LockState::Locked {
                return self.go(LockState::Locked, Reason::ConsistentSamples, now_ns);
            }
        }
        None
    }

    /// A sample the servo rejected, with its innovation.
    pub fn on_rejected(&mut self, innovation_ns: f64, now_ns: i64) -> Option<Transition> {
        self.run = 0;
        if innovation_ns.abs() >= self.cfg.jump_min_ns {
            self.jump_run = self.jump_run.saturating_add(1);
            if self.jump_run >= self.cfg.jump_run {
                self.jumped = true;
                if self.state == LockState::Locked {
                    return self.go(LockState::Holdover, Reason::TimeJump, now_ns);
                }
            }
        } else {
            self.jump_run = 0;
        }
        None
    }

    /// The servo diverged and re-acquired: not a jump; `Locked` needs a
    /// fresh run of consistent samples.
    pub fn on_divergence(&mut self, now_ns: i64) -> Option<Transition> {
        self.jump_run = 0;
        self.jumped = false;
        self.run = 0;
        match self.state {
            LockState::Locked => self.go(LockState::Holdover, Reason::Divergence, now_ns),
            _ => None,
        }
    }

    /// A pending jump was accepted (the clock was stepped onto it): samples
    /// count again from scratch; `Locked` needs a fresh run.
    pub fn jump_accepted(&mut self) {
        self.jumped = false;
        self.jump_run = 0;
        self.run = 0;
    }

    /// The current time-error bound, checked against the limit in holdover.
    pub fn on_bound(&mut self, bound_ns: f64, now_ns: i64) -> Option<Transition> {
        if self.state == LockState::Holdover && bound_ns > self.cfg.bound_limit_ns {
            return self.go(LockState::Unsynchronized, Reason::BoundExceeded, now_ns);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked() -> LockMachine {
        let mut m = LockMachine::new(LockConfig::default(), 0);
        for i in 0..16 {
            m.on_accepted(10.0, 20.0, 1.0, i);
        }
        assert_eq!(m.state(), LockState::Locked);
        m
    }

    #[test]
    fn locks_only_after_a_run() {
        let mut m = LockMachine::new(LockConfig::default(), 0);
        for i in 0..15 {
            assert!(m.on_accepted(10.0, 20.0, 1.0, i).is_none());
        }
        m.on_rejected(100.0, 15);
        for i in 16..31 {
            assert!(m.on_accepted(10.0, 20.0, 1.0, i).is_none());
        }
        let t = m.on_accepted(10.0, 20.0, 1.0, 31).unwrap();
        assert_eq!(
            (t.from, t.to, t.reason),
            (
                LockState::Acquiring,
                LockState::Locked,
                Reason::ConsistentSamples
            )
        );
    }

    #[test]
    fn known_frequency_locks_after_the_short_run() {
        let mut m = LockMachine::new(LockConfig::default(), 0);
        for i in 0..7 {
            assert!(m.on_accepted(10.0, 20.0, 0.01, i).is_none());
        }
        assert!(m.on_accepted(10.0, 20.0, 0.01, 7).is_some());
    }

    #[test]
    fn distrust_enters_holdover_with_reason_and_bound_unsyncs() {
        let mut m = locked();
        let t = m.on_distrust(Reason::AntennaShort, 100).unwrap();
        assert_eq!(
            (t.to, t.reason),
            (LockState::Holdover, Reason::AntennaShort)
        );
        assert!(m.on_bound(999_999.0, 101).is_none());
        let t = m.on_bound(1_000_001.0, 102).unwrap();
        assert_eq!(
            (t.to, t.reason),
            (LockState::Unsynchronized, Reason::BoundExceeded)
        );
    }

    #[test]
    fn jump_needs_a_run_of_large_rejections() {
        let mut m = locked();
        for i in 0..4 {
            assert!(m.on_rejected(1e9, 100 + i).is_none());
        }
        let t = m.on_rejected(1e9, 104).unwrap();
        assert_eq!((t.to, t.reason), (LockState::Holdover, Reason::TimeJump));
        assert!(m.jump_pending());
    }
}
