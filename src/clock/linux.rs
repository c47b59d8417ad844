//! `Linux`: steers CLOCK_REALTIME through clock_adjtime(2). Needs CAP_SYS_TIME
//! for anything but read-only calls. The kernel PLL is switched off (STA_PLL
//! cleared) because the servo steers frequency itself.

use super::{Clock, ClockCommand, ClockError, ClockState, LeapFlag, TimeSource, MAX_FREQ_PPM};
use crate::time::{UnixNanos, NS_PER_SEC};

/// The kernel's `freq` field is ppm with a 16-bit binary fraction.
pub const FREQ_SCALE: f64 = 65_536.0;

/// ppm → kernel scaled-ppm units, clamped to the kernel's ±500 ppm.
pub fn ppm_to_scaled(ppm: f64) -> i64 {
    let p = if ppm.is_finite() { ppm } else { 0.0 };
    (p.clamp(-MAX_FREQ_PPM, MAX_FREQ_PPM) * FREQ_SCALE).round() as i64
}

/// Kernel scaled-ppm units → ppm.
pub fn scaled_to_ppm(scaled: i64) -> f64 {
    scaled as f64 / FREQ_SCALE
}

/// Split a signed ns delta into the (seconds, nanoseconds) pair ADJ_SETOFFSET
/// with ADJ_NANO expects: nanoseconds always in 0..1e9.
pub fn split_offset_ns(delta_ns: i64) -> (i64, i64) {
    (
        delta_ns.div_euclid(NS_PER_SEC),
        delta_ns.rem_euclid(NS_PER_SEC),
    )
}

/// Kernel status bits → leap flag.
pub fn leap_from_status(status: i32) -> LeapFlag {
    if status & libc::STA_INS != 0 {
        LeapFlag::Insert
    } else if status & libc::STA_DEL != 0 {
        LeapFlag::Delete
    } else {
        LeapFlag::None
    }
}

/// Kernel status with STA_UNSYNC set or cleared, every other bit kept.
pub fn sync_status(status: i32, synchronized: bool) -> i32 {
    if synchronized {
        status & !libc::STA_UNSYNC
    } else {
        status | libc::STA_UNSYNC
    }
}

/// CAP_SYS_TIME's bit in the capability sets.
const CAP_SYS_TIME: u32 = 25;

/// Whether this process may steer the system clock: CAP_SYS_TIME in its
/// effective set, from `/proc/self/status` (`None` when unreadable).
pub fn may_steer_system_clock() -> Option<bool> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    cap_eff_has(&status, CAP_SYS_TIME)
}

/// Whether the `CapEff:` line of a `/proc/<pid>/status` text has bit `cap`.
fn cap_eff_has(status: &str, cap: u32) -> Option<bool> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    let bits = u64::from_str_radix(hex, 16).ok()?;
    Some(bits & (1u64 << cap) != 0)
}

#[derive(Debug, Default)]
pub struct LinuxClock;

impl LinuxClock {
    pub fn new() -> Self {
        Self
    }

    fn adjtime(&self, tx: &mut libc::timex) -> Result<i32, ClockError> {
        // SAFETY: `tx` is a valid, exclusively borrowed timex for the duration of the call.
        let rc = unsafe { libc::clock_adjtime(libc::CLOCK_REALTIME, tx) };
        if rc < 0 {
            return Err(ClockError::Os(std::io::Error::last_os_error()));
        }
        Ok(rc)
    }

    fn blank() -> libc::timex {
        // SAFETY: timex is a plain C struct of integers; all-zero is a valid value
        // and modes = 0 means "read only".
        unsafe { std::mem::zeroed() }
    }

    /// Read-only query (modes = 0): never changes the clock.
    pub fn read_timex(&self) -> Result<(libc::timex, i32), ClockError> {
        let mut tx = Self::blank();
        let rc = self.adjtime(&mut tx)?;
        Ok((tx, rc))
    }
}

impl TimeSource for LinuxClock {
    fn from_system_ns(&self, system_ns: UnixNanos) -> UnixNanos {
        system_ns
    }
}

/// The clock_adjtime request for a command, given the kernel's current
/// status word (pure, so the bits are tested without touching the clock).
pub fn timex_for(cmd: &ClockCommand, status: i32) -> Result<libc::timex, ClockError> {
    let mut tx = LinuxClock::blank();
    match *cmd {
        ClockCommand::SetFrequency { ppm } => {
            tx.modes = libc::ADJ_FREQUENCY | libc::ADJ_STATUS;
            tx.freq = ppm_to_scaled(ppm) as _;
            // STA_UNSYNC is left alone: only `SetSync` says whether we are synchronized.
            tx.status = status & !(libc::STA_PLL | libc::STA_FLL);
        }
        ClockCommand::Slew { offset_ns } => {
            // ADJ_OFFSET only feeds the kernel PLL, which we keep off (it
            // returns Ok and does nothing): the adjtime(3)-style single-shot
            // slew (500 ppm, µs) works whatever the PLL bits say.
            if offset_ns.abs() >= NS_PER_SEC / 2 {
                return Err(ClockError::Range("slew larger than 0.5 s"));
            }
            tx.modes = ADJ_OFFSET_SINGLESHOT;
            tx.offset = (offset_ns / 1_000) as _;
        }
        ClockCommand::ReleasePll => {
            // A phase offset left by an earlier PLL user (ntpd, chrony) is
            // slewed in every second whether STA_PLL is set or not; the
            // kernel only accepts a new (zero) offset while STA_PLL is set.
            // `SetFrequency` clears STA_PLL again right after.
            tx.modes = libc::ADJ_OFFSET | libc::ADJ_STATUS | libc::ADJ_NANO;
            tx.status = status | libc::STA_PLL;
            tx.offset = 0;
        }
        ClockCommand::Step { delta_ns } => {
            let (s, ns) = split_offset_ns(delta_ns);
            tx.modes = libc::ADJ_SETOFFSET | libc::ADJ_NANO;
            tx.time.tv_sec = s as _;
            tx.time.tv_usec = ns as _;
        }
        ClockCommand::SetLeap { flag } => {
            let mut st = status & !(libc::STA_INS | libc::STA_DEL);
            match flag {
                LeapFlag::Insert => st |= libc::STA_INS,
                LeapFlag::Delete => st |= libc::STA_DEL,
                LeapFlag::None => {}
            }
            tx.modes = libc::ADJ_STATUS;
            tx.status = st;
        }
        ClockCommand::SetSync { synchronized } => {
            tx.modes = libc::ADJ_STATUS;
            tx.status = sync_status(status, synchronized);
        }
        ClockCommand::SetTaiOffset { seconds } => {
            tx.modes = libc::ADJ_TAI;
            tx.constant = seconds as _;
        }
        ClockCommand::SetErrors {
            maxerror_ns,
            esterror_ns,
        } => {
            // The kernel keeps these in microseconds.
            tx.modes = libc::ADJ_MAXERROR | libc::ADJ_ESTERROR;
            tx.maxerror = (maxerror_ns / 1000).min(16_000_000) as _;
            tx.esterror = (esterror_ns / 1000).min(16_000_000) as _;
        }
    }
    Ok(tx)
}

/// adjtime(3)-style one-shot slew (ADJ_OFFSET | ADJ_OFFSET_SINGLESHOT in the
/// kernel's uapi; libc does not export it for every target).
pub const ADJ_OFFSET_SINGLESHOT: libc::c_uint = 0x8001;

impl Clock for LinuxClock {
    fn apply(&self, cmd: &ClockCommand) -> Result<(), ClockError> {
        // Commands that keep other status bits need the current status.
        let status = match cmd {
            ClockCommand::SetFrequency { .. }
            | ClockCommand::SetLeap { .. }
            | ClockCommand::SetSync { .. }
            | ClockCommand::ReleasePll => self.read_timex()?.0.status,
            _ => 0,
        };
        let mut tx = timex_for(cmd, status)?;
        self.adjtime(&mut tx).map(|_| ())
    }

    // c_long is i64 here but i32 on 32-bit targets.
    #[allow(clippy::useless_conversion)]
    fn state(&self) -> Result<ClockState, ClockError> {
        let (tx, rc) = self.read_timex()?;
        Ok(ClockState {
            frequency_ppm: scaled_to_ppm(i64::from(tx.freq)),
            leap: leap_from_status(tx.status),
            tai_offset_s: tx.tai,
            maxerror_ns: i64::from(tx.maxerror).max(0) as u64 * 1000,
            esterror_ns: i64::from(tx.esterror).max(0) as u64 * 1000,
            unsync: tx.status & libc::STA_UNSYNC != 0 || rc == libc::TIME_ERROR,
        })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn cap_sys_time_is_read_from_cap_eff() {
        let text = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t0000000002000000\n";
        assert_eq!(cap_eff_has(text, CAP_SYS_TIME), Some(true));
        assert_eq!(cap_eff_has(text, 12), Some(false));
        assert_eq!(cap_eff_has("CapEff:\tzz\n", CAP_SYS_TIME), None);
        assert_eq!(cap_eff_has("", CAP_SYS_TIME), None);
        // This process: the answer exists (root in CI has it, users not).
        assert!(may_steer_system_clock().is_some());
    }

    use super::*;

    #[test]
    fn scaled_ppm_units() {
        assert_eq!(ppm_to_scaled(1.0), 65_536);
        assert_eq!(ppm_to_scaled(-20.5), -1_343_488);
        assert_eq!(ppm_to_scaled(1e6), 32_768_000);
        assert_eq!(ppm_to_scaled(f64::NAN), 0);
        assert!((scaled_to_ppm(32_768) - 0.5).abs() < 1e-12);
        assert!((scaled_to_ppm(ppm_to_scaled(12.345678)) - 12.345678).abs() < 1.0 / 65_536.0);
    }

    #[test]
    fn offset_split_keeps_nanos_positive() {
        assert_eq!(split_offset_ns(1_500_000_000), (1, 500_000_000));
        assert_eq!(split_offset_ns(-1), (-1, 999_999_999));
        assert_eq!(split_offset_ns(-2_000_000_000), (-2, 0));
    }

    #[test]
    fn leap_bits() {
        assert_eq!(leap_from_status(libc::STA_INS), LeapFlag::Insert);
        assert_eq!(
            leap_from_status(libc::STA_DEL | libc::STA_PLL),
            LeapFlag::Delete
        );
        assert_eq!(leap_from_status(0), LeapFlag::None);
    }

    /// The slew must not depend on the PLL we keep off; taking over sets
    /// STA_PLL only to zero the leftover offset.
    #[test]
    fn slew_is_single_shot_and_release_zeroes_the_pll_offset() {
        let tx = timex_for(&ClockCommand::Slew { offset_ns: -12_345 }, 0).unwrap();
        assert_eq!(tx.modes, ADJ_OFFSET_SINGLESHOT);
        assert_eq!(tx.offset, -12);
        assert!(timex_for(
            &ClockCommand::Slew {
                offset_ns: NS_PER_SEC
            },
            0
        )
        .is_err());
        let tx = timex_for(&ClockCommand::ReleasePll, libc::STA_UNSYNC).unwrap();
        assert_eq!(
            tx.modes,
            libc::ADJ_OFFSET | libc::ADJ_STATUS | libc::ADJ_NANO
        );
        assert_eq!(tx.offset, 0);
        assert_eq!(tx.status, libc::STA_UNSYNC | libc::STA_PLL);
        let tx = timex_for(&ClockCommand::SetFrequency { ppm: 1.0 }, libc::STA_PLL).unwrap();
        assert_eq!(tx.status & libc::STA_PLL, 0);
        assert_eq!(tx.freq, 65_536);
    }

    #[test]
    fn sync_bit_alone_changes() {
        let st = libc::STA_INS | libc::STA_PPSSIGNAL;
        assert_eq!(sync_status(st, false), st | libc::STA_UNSYNC);
        assert_eq!(sync_status(st | libc::STA_UNSYNC, true), st);
        assert_eq!(sync_status(st, true), st);
    }

    /// Read-only (modes = 0) call: works without privileges, changes nothing.
    #[test]
    fn read_only_query_works() {
        let c = LinuxClock::new();
        let st = c.state().expect("read-only clock_adjtime must succeed");
        assert!(st.frequency_ppm.abs() <= MAX_FREQ_PPM);
        let now = c.read_ns();
        assert!(now > 1_600_000_000 * NS_PER_SEC);
    }
}
