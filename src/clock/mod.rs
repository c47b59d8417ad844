//! One clock abstraction with three implementations: `Linux` (clock_adjtime on
//! CLOCK_REALTIME), `Virtual` (system clock plus a software correction) and
//! `Sim` (a simulated oscillator). The NTP server reads time through the same
//! clock the servo steers.

#[allow(unsafe_code)] // clock_adjtime
pub mod linux;
pub mod sim;
pub mod virtual_clock;

pub use linux::LinuxClock;
pub use sim::{SimClock, SimOscillator, TemperatureProfile};
pub use virtual_clock::VirtualClock;

use crate::time::UnixNanos;
use serde::{Deserialize, Serialize};

/// Read side of a clock, as the NTP server and status need it.
pub trait TimeSource: Send + Sync {
    /// Map a CLOCK_REALTIME reading (e.g. a kernel packet receive timestamp)
    /// onto this clock's time scale.
    #[allow(clippy::wrong_self_convention)]
    fn from_system_ns(&self, system_ns: UnixNanos) -> UnixNanos;

    /// `from_system_ns` over many readings in place (an NTP worker's receive
    /// batch): implementations override it to look their correction up once.
    #[allow(clippy::wrong_self_convention)]
    fn from_system_ns_slice(&self, system_ns: &mut [UnixNanos]) {
        for t in system_ns {
            *t = self.from_system_ns(*t);
        }
    }

    /// Now, on this clock's scale.
    fn now_ns(&self) -> UnixNanos {
        self.from_system_ns(crate::time::system_realtime_ns())
    }
}

/// Kernel-style leap second flag (STA_INS / STA_DEL): armed during the last
/// UTC day, acted on at the end of that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LeapFlag {
    #[default]
    None,
    Insert,
    Delete,
}

/// What the discipline engine asks of a clock. The engine emits these; a thin
/// shell applies them to the real (or virtual, or simulated) clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ClockCommand {
    /// Absolute frequency correction, ppm (positive = clock runs faster).
    SetFrequency { ppm: f64 },
    /// Slew the phase by this much (kernel-style gradual offset correction).
    Slew { offset_ns: i64 },
    /// Taking over the clock: zero a phase offset an earlier kernel-PLL user
    /// left behind (it would keep being slewed in).
    ReleasePll,
    /// Step the clock by this much at once (start-up only; always logged).
    Step { delta_ns: i64 },
    /// Arm or clear the kernel leap flag.
    SetLeap { flag: LeapFlag },
    /// TAI − UTC, seconds.
    SetTaiOffset { seconds: i32 },
    /// Error estimates the kernel reports to other programs (ntp_adjtime users).
    SetErrors { maxerror_ns: u64, esterror_ns: u64 },
    /// Tell other programs whether the clock is synchronized (the kernel's
    /// STA_UNSYNC bit, which `timedatectl`, `ntp_adjtime` users and the RTC
    /// sync read): false whenever we would serve stratum 16.
    SetSync { synchronized: bool },
}

#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error("clock_adjtime failed: {0}")]
    Os(#[from] std::io::Error),
    #[error("value out of range: {0}")]
    Range(&'static str),
}

/// Read-out of the clock's discipline state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct ClockState {
    pub frequency_ppm: f64,
    pub leap: LeapFlag,
    pub tai_offset_s: i32,
    pub maxerror_ns: u64,
    pub esterror_ns: u64,
    /// Kernel says the clock is unsynchronized (STA_UNSYNC), where applicable.
    pub unsync: bool,
}

/// A steerable clock. Methods take `&self`: readers (NTP workers) and the
/// steering loop share one instance.
pub trait Clock: TimeSource {
    /// Current time on this clock's scale.
    fn read_ns(&self) -> UnixNanos {
        self.now_ns()
    }
    /// Apply one command from the discipline engine.
    fn apply(&self, cmd: &ClockCommand) -> Result<(), ClockError>;
    /// Current discipline state (frequency, leap flag, TAI offset, errors).
    fn state(&self) -> Result<ClockState, ClockError>;

    fn set_frequency_ppm(&self, ppm: f64) -> Result<(), ClockError> {
        self.apply(&ClockCommand::SetFrequency { ppm })
    }
    fn slew_ns(&self, offset_ns: i64) -> Result<(), ClockError> {
        self.apply(&ClockCommand::Slew { offset_ns })
    }
    fn step_ns(&self, delta_ns: i64) -> Result<(), ClockError> {
        self.apply(&ClockCommand::Step { delta_ns })
    }
    fn set_leap(&self, flag: LeapFlag) -> Result<(), ClockError> {
        self.apply(&ClockCommand::SetLeap { flag })
    }
    fn set_tai_offset(&self, seconds: i32) -> Result<(), ClockError> {
        self.apply(&ClockCommand::SetTaiOffset { seconds })
    }
}

/// Largest frequency correction any clock accepts, ppm (the kernel's limit).
pub const MAX_FREQ_PPM: f64 = 500.0;
