//! Telling a local clock jump (someone set the system time) from a receiver
//! time jump. CLOCK_REALTIME − CLOCK_MONOTONIC changes only when the clock
//! is stepped or slewed, and a slew moves it at most `MAX_RATE_PPM` (the
//! kernel's 500 ppm frequency limit plus its 500 ppm slew rate), so a larger
//! change we did not command is someone else's step. The receiver is then
//! right and our clock is not: the engine steps back at once
//! (`Engine::on_local_clock_jump`), whereas a receiver jump is held for the
//! operator. Sans-IO: the shell passes both readings in.

/// Changes below this are reading jitter, ns.
pub const LOCAL_JUMP_MIN_NS: i64 = 1_000_000;
/// Fastest a slewed clock drifts from CLOCK_MONOTONIC, ppm.
pub const MAX_RATE_PPM: i64 = 1000;

#[derive(Debug, Clone, Default)]
pub struct LocalJumpDetector {
    /// (realtime − monotonic, monotonic) at the last reading, plus steps we
    /// commanded since.
    last: Option<(i64, i64)>,
}

impl LocalJumpDetector {
    pub fn new() -> Self {
        Self::default()
    }

    /// We stepped the clock ourselves by `delta_ns`.
    pub fn note_step(&mut self, delta_ns: i64) {
        if let Some((e, _)) = self.last.as_mut() {
            *e = e.saturating_add(delta_ns);
        }
    }

    /// A pair of readings taken together; the jump someone else made, if any.
    pub fn on_reading(&mut self, realtime_ns: i64, monotonic_ns: i64) -> Option<i64> {
        let off = realtime_ns.saturating_sub(monotonic_ns);
        let jump = self.last.and_then(|(expected, mono)| {
            let elapsed = monotonic_ns.saturating_sub(mono).max(0);
            let slewable = elapsed.saturating_mul(MAX_RATE_PPM) / 1_000_000;
            let d = off.saturating_sub(expected);
            (d.saturating_abs() >= LOCAL_JUMP_MIN_NS.saturating_add(slewable)).then_some(d)
        });
        self.last = Some((off, monotonic_ns));
        jump
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_steps_are_not_jumps_and_others_are() {
        let mut d = LocalJumpDetector::new();
        assert_eq!(d.on_reading(1_000_000_000_000, 5_000), None);
        // Time passes on both clocks alike (slewed frequency included).
        assert_eq!(d.on_reading(1_000_500_000_000, 500_005_000), None);
        d.note_step(-3_000_000);
        assert_eq!(d.on_reading(1_000_997_000_000, 1_000_005_000), None);
        // Someone set the clock 2 s ahead.
        assert_eq!(
            d.on_reading(1_003_497_000_000, 1_500_005_000),
            Some(2_000_000_000)
        );
        assert_eq!(d.on_reading(1_003_997_000_000, 2_000_005_000), None);
    }

    #[test]
    fn a_slew_at_the_kernel_limit_is_not_a_jump() {
        let mut d = LocalJumpDetector::new();
        assert_eq!(d.on_reading(0, 0), None);
        // 10 s at 1000 ppm: 10 ms, all of it slewing.
        assert_eq!(d.on_reading(10_010_000_000, 10_000_000_000), None);
        // 5 ms more than a slew could do in 1 s is someone's step.
        assert_eq!(
            d.on_reading(11_016_000_000, 11_000_000_000),
            Some(6_000_000)
        );
    }
}
