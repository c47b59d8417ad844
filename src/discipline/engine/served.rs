//! What the engine shows: the status view and the fields NTP serves.

use super::Engine;
use crate::discipline::lock::{LockState, Reason};
use crate::discipline::DisciplineStatus;
use crate::server_fields::{LeapIndicator, ServerFields};
use crate::time::NS_PER_SEC;

impl Engine {
    /// Everything the status snapshot shows about discipline.
    pub fn status(&self) -> DisciplineStatus {
        DisciplineStatus {
            state: self.lock.state(),
            reason: self.shown_reason(),
            since_ns: self.utc_of(self.lock.since_ns()),
            offset_ns: self.offset_now_ns(),
            offset_sigma_ns: self.servo.offset_sigma_ns(),
            frequency_ppm: self.servo.frequency_ppm(),
            correction_ppm: self.log.current(),
            time_error_bound_ns: Some(self.bound_ns()).filter(|b| b.is_finite()),
            holdover_started_ns: (self.lock.state() == LockState::Holdover)
                .then(|| self.utc_of(self.lock.since_ns())),
            holdover_limit_ns: self.lock.config().bound_limit_ns,
            holdover_time_to_limit_s: self.time_to_limit_s(),
            pairing: self.pairing.status(),
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
            local_clock_jumps: self.local_jumps,
            last_local_clock_jump_ns: self.last_local_jump_ns,
        }
    }

    /// The last transition's reason, except when not serving time with a
    /// silent receiver: then the cause to fix is the receiver itself
    /// (without it the state stays acquiring, reason "startup", forever).
    fn shown_reason(&self) -> Reason {
        let serving = matches!(self.lock.state(), LockState::Locked | LockState::Holdover);
        if !serving && self.receiver_silent(self.now_local) {
            Reason::NoReceiver
        } else {
            self.lock.reason()
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
            // The served clock is the steered one: the bound holds at now.
            as_of_ns: self.now_local,
        }
    }
}
