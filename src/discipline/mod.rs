//! Turns PPS edges plus receiver time into a disciplined clock: pairing, servo,
//! lock states, holdover, leap seconds, stability metrics.

pub mod engine;
pub mod holdover;
pub mod leap;
pub mod leap_view;
pub mod local_jump;
pub mod lock;
pub mod pairing;
pub mod servo;
pub mod stability;
pub mod wander;

pub use engine::{Engine, EngineConfig};
pub use holdover::HoldoverModel;
pub use lock::{LockState, Reason, Transition};

use serde::Serialize;

/// Discipline view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DisciplineStatus {
    pub state: LockState,
    pub reason: Reason,
    /// UTC ns of the last transition.
    pub since_ns: i64,
    /// Estimated offset of the clock now (local − UTC), ns.
    pub offset_ns: f64,
    pub offset_sigma_ns: f64,
    /// Free-running oscillator frequency, ppm.
    pub frequency_ppm: f64,
    /// Frequency correction applied to the clock, ppm.
    pub correction_ppm: f64,
    /// Honest time-error bound (NTP root dispersion), ns; null until the
    /// servo has a state (unknown is not zero).
    pub time_error_bound_ns: Option<f64>,
    /// Holdover starts when GNSS stops being trusted after a lock (UTC ns).
    pub holdover_started_ns: Option<i64>,
    /// The bound at which holdover ends (unsynchronized, stratum 16), ns.
    pub holdover_limit_ns: f64,
    /// Seconds until the bound passes the limit: while in holdover, from
    /// now; while locked, if GNSS were lost now. Null when unknown.
    pub holdover_time_to_limit_s: Option<f64>,
    pub pairing: pairing::PairingStatus,
    /// Estimated PPS measurement noise, ns RMS.
    pub noise_ns: f64,
    /// Oscillator wander the servo assumes (estimated online), σ per √s.
    pub wander_sigma: f64,
    pub samples: u64,
    pub accepted: u64,
    pub outliers: u64,
    /// Samples not used (GNSS not trusted, around a leap, stale).
    pub ignored: u64,
    pub steps: u64,
    pub temperature_c: Option<f64>,
    /// UTC ns of the last accepted servo update.
    pub last_update_ns: Option<i64>,
    pub model: HoldoverModel,
    pub leap: Option<leap::LeapState>,
    /// A receiver time jump is pending (held, not followed): the step (ns)
    /// `accept-time-jump` would take now, when the receiver's samples agree.
    pub pending_time_jump_ns: Option<i64>,
    /// Times someone else set the local clock (told from a receiver jump
    /// with CLOCK_MONOTONIC) and it was stepped back.
    pub local_clock_jumps: u64,
    /// The last such jump, ns (what was set minus what it was); null if none.
    pub last_local_clock_jump_ns: Option<i64>,
}
