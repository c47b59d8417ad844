//! Time-jump evidence: a run of large rejected innovations is held, never
//! followed, until an operator (or the configured persistence) accepts it.

use super::Engine;
use crate::time::NS_PER_SEC;

/// Rejected innovations kept as evidence for a time jump.
pub(super) const JUMP_EVIDENCE: usize = 16;
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

impl Engine {
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

    /// Someone set the local clock by `delta_ns` (see `local_jump`): the
    /// receiver is right, our clock is not. Step straight back (an event
    /// says so); samples in flight were taken on the other scale and are
    /// dropped. Nothing the servo learned changes.
    pub fn on_local_clock_jump(&mut self, delta_ns: i64) {
        if delta_ns == 0 {
            return;
        }
        self.commands.push(crate::clock::ClockCommand::Step {
            delta_ns: -delta_ns,
        });
        self.pairing.reset();
        self.steps += 1;
        self.local_jumps += 1;
        self.last_local_jump_ns = Some(delta_ns);
        self.events.push(crate::events::Event::new(
            self.utc_of(self.now_local),
            crate::events::EventKind::ClockStep {
                delta_ns: -delta_ns,
                reason: "local_clock_set".into(),
            },
        ));
    }

    pub(super) fn maybe_accept_persistent_jump(&mut self, now: i64) {
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
}
