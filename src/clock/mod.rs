//! One clock abstraction with three implementations: `Linux` (clock_adjtime on
//! CLOCK_REALTIME), `Virtual` (system clock plus a software correction) and
//! `Sim` (a simulated oscillator). The NTP server reads time through the same
//! clock the servo steers.

use crate::time::UnixNanos;

/// Read side of a clock, as the NTP server and status need it.
pub trait TimeSource: Send + Sync {
    /// Map a CLOCK_REALTIME reading (e.g. a kernel packet receive timestamp)
    /// onto this clock's time scale.
    #[allow(clippy::wrong_self_convention)]
    fn from_system_ns(&self, system_ns: UnixNanos) -> UnixNanos;

    /// Now, on this clock's scale.
    fn now_ns(&self) -> UnixNanos {
        self.from_system_ns(crate::time::system_realtime_ns())
    }
}
