//! Corrections larger than the bound: when the phase being steered out
//! exceeds what the bound claimed without it (a relock after holdover, a
//! re-acquisition), clients see a quasi-step. It is never silent: one
//! `clock.correction` event per episode, and the published bound (NTP root
//! dispersion) includes the offset for as long as it is being removed.

use super::Engine;
use crate::events::{Event, EventKind};

/// Corrections below this are ordinary steering, ns.
const CORRECTION_MIN_NS: f64 = 100.0;

impl Engine {
    /// The steering is about to remove `x_ns` at `ppm` (local time `now`).
    pub(super) fn note_correction(&mut self, x_ns: f64, ppm: f64, now: i64) {
        let claimed = self.bound_sigma_part_ns();
        let big = x_ns.abs() > claimed.max(CORRECTION_MIN_NS);
        if big && !self.correcting {
            self.events.push(Event::new(
                self.utc_of(now),
                EventKind::ClockCorrection {
                    offset_ns: Some(x_ns.round() as i64),
                    frequency_ppm: Some(ppm),
                    reason: format!(
                        "larger than the bound ({claimed:.0} ns) while {}",
                        self.lock.state().as_str()
                    ),
                },
            ));
        }
        self.correcting = big;
    }
}
