//! PPS from a GPIO line through the gpio-cdev character device (fallback when
//! the `pps-gpio` overlay is not set up).
//!
//! gpio-cdev 0.6 speaks the v1 uAPI. Since Linux 5.7 its event timestamps are
//! CLOCK_MONOTONIC (before 5.7 they were CLOCK_REALTIME; v2's REALTIME/HTE
//! flags are not reachable through v1). The scale is detected from the first
//! event ([`TimestampScale::detect`]) and monotonic stamps are moved onto
//! CLOCK_REALTIME with an offset sampled right after each event: read
//! (realtime, monotonic, realtime), take the realtime midpoint, keep the
//! narrowest of a few tries. The offset only changes when the realtime clock
//! is stepped (frequency and slew adjustments apply to both clocks).

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gpio_cdev::{Chip, EventRequestFlags, EventType, LineRequestFlags};

use super::{PpsEdge, PpsEvent};
use crate::time::NS_PER_SEC;

/// Which clock the kernel used for event timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampScale {
    Monotonic,
    Realtime,
}

impl TimestampScale {
    /// Pick the scale an event timestamp `ts` belongs to, given both clocks read
    /// just after the event: it must be the clock it is closest to (events are
    /// read within moments of capture, and the two clocks differ by decades of
    /// seconds on any booted system).
    pub fn detect(ts: i64, mono_now: i64, realtime_now: i64) -> Self {
        let dm = (mono_now - ts).abs();
        let dr = (realtime_now - ts).abs();
        if dr < dm {
            Self::Realtime
        } else {
            Self::Monotonic
        }
    }
}

/// One bracketed reading of realtime − monotonic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockBracket {
    pub realtime_before: i64,
    pub monotonic: i64,
    pub realtime_after: i64,
}

impl ClockBracket {
    /// realtime − monotonic at the monotonic reading, using the realtime
    /// midpoint; with the half-width of the bracket as its uncertainty.
    pub fn offset(&self) -> (i64, i64) {
        let width = self.realtime_after - self.realtime_before;
        let mid = self.realtime_before + width / 2;
        (mid - self.monotonic, width.abs() / 2)
    }
}

/// The narrowest of several brackets (fewest interruptions between reads).
pub fn best_offset(brackets: &[ClockBracket]) -> Option<(i64, i64)> {
    brackets
        .iter()
        .filter(|b| b.realtime_after >= b.realtime_before)
        .map(ClockBracket::offset)
        .min_by_key(|(_, unc)| *unc)
}

/// An event timestamp on the realtime scale.
pub fn to_realtime(ts: i64, scale: TimestampScale, realtime_minus_monotonic: i64) -> i64 {
    match scale {
        TimestampScale::Realtime => ts,
        TimestampScale::Monotonic => ts.saturating_add(realtime_minus_monotonic),
    }
}

fn read_bracket() -> Option<ClockBracket> {
    use nix::time::{clock_gettime, ClockId};
    let ns = |t: nix::sys::time::TimeSpec| t.tv_sec() * NS_PER_SEC + t.tv_nsec();
    let a = clock_gettime(ClockId::CLOCK_REALTIME).ok()?;
    let m = clock_gettime(ClockId::CLOCK_MONOTONIC).ok()?;
    let b = clock_gettime(ClockId::CLOCK_REALTIME).ok()?;
    Some(ClockBracket {
        realtime_before: ns(a),
        monotonic: ns(m),
        realtime_after: ns(b),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum GpioPpsError {
    #[error("{path}: {source} (is the GPIO chip present and accessible?)")]
    Chip {
        path: PathBuf,
        source: gpio_cdev::Error,
    },
    #[error("{path} line {line}: {source}")]
    Line {
        path: PathBuf,
        line: u32,
        source: gpio_cdev::Error,
    },
    #[error("cannot start reader thread: {0}")]
    Thread(std::io::Error),
}

/// Which edge marks the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Polarity {
    /// Rising edge on time (u-blox default).
    #[default]
    Rising,
    Falling,
}

pub struct GpioReader {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GpioReader {
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for GpioReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Request both edges of `line` on `chip_path` and send them on `tx` as
/// `Assert` (the on-time edge per `polarity`) and `Clear`, on the realtime scale.
pub fn spawn(
    chip_path: &Path,
    line: u32,
    polarity: Polarity,
    tx: tokio::sync::mpsc::Sender<PpsEvent>,
    hb: crate::liveness::Heartbeat,
) -> Result<GpioReader, GpioPpsError> {
    let path = chip_path.to_path_buf();
    let mut chip = Chip::new(chip_path).map_err(|source| GpioPpsError::Chip {
        path: path.clone(),
        source,
    })?;
    let line_err = |source| GpioPpsError::Line {
        path: path.clone(),
        line,
        source,
    };
    let handle = chip
        .get_line(line)
        .map_err(line_err)?
        .events(
            LineRequestFlags::INPUT,
            EventRequestFlags::BOTH_EDGES,
            "gnss-timeserver-pps",
        )
        .map_err(line_err)?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::Builder::new()
        .name("pps-gpio".into())
        .spawn(move || {
            let mut handle = handle;
            let mut scale: Option<TimestampScale> = None;
            let (mut assert_seq, mut clear_seq) = (0u64, 0u64);
            while !stop2.load(Ordering::Relaxed) {
                hb.beat();
                // Wait with a timeout so stop() is honoured.
                let fd = handle.as_raw_fd();
                // SAFETY: the fd stays open for the lifetime of `handle`.
                let bfd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
                let mut fds = [nix::poll::PollFd::new(bfd, nix::poll::PollFlags::POLLIN)];
                match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(500u16)) {
                    Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                    Ok(_) => {}
                    Err(e) => {
                        let _ = tx.blocking_send(PpsEvent::Error {
                            message: format!("poll: {e}"),
                            fatal: true,
                        });
                        return;
                    }
                }
                let ev = match handle.get_event() {
                    Ok(ev) => ev,
                    Err(e) => {
                        if tx
                            .blocking_send(PpsEvent::Error {
                                message: format!("gpio event: {e}"),
                                fatal: false,
                            })
                            .is_err()
                        {
                            return;
                        }
                        continue;
                    }
                };
                let brackets: Vec<ClockBracket> = (0..3).filter_map(|_| read_bracket()).collect();
                let Some((offset, _unc)) = best_offset(&brackets) else {
                    continue;
                };
                let ts = i64::try_from(ev.timestamp()).unwrap_or(i64::MAX);
                let sc = *scale.get_or_insert_with(|| {
                    let b = brackets.first().copied();
                    b.map_or(TimestampScale::Monotonic, |b| {
                        TimestampScale::detect(ts, b.monotonic, b.realtime_before)
                    })
                });
                let local_ns = to_realtime(ts, sc, offset);
                let on_time = matches!(
                    (polarity, ev.event_type()),
                    (Polarity::Rising, EventType::RisingEdge)
                        | (Polarity::Falling, EventType::FallingEdge)
                );
                let msg = if on_time {
                    assert_seq += 1;
                    PpsEvent::Assert(PpsEdge {
                        local_ns,
                        sequence: assert_seq,
                    })
                } else {
                    clear_seq += 1;
                    PpsEvent::Clear(PpsEdge {
                        local_ns,
                        sequence: clear_seq,
                    })
                };
                if tx.blocking_send(msg).is_err() {
                    return;
                }
            }
        })
        .map_err(GpioPpsError::Thread)?;
    Ok(GpioReader {
        stop,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midpoint_offset_and_conversion() {
        // Realtime 1.7e18-ish, monotonic 1000 s; the monotonic read sits
        // between two realtime reads 300 ns apart.
        let rt0 = 1_700_000_000 * NS_PER_SEC;
        let b = ClockBracket {
            realtime_before: rt0,
            monotonic: 1_000 * NS_PER_SEC + 150,
            realtime_after: rt0 + 300,
        };
        let (off, unc) = b.offset();
        assert_eq!(off, rt0 + 150 - (1_000 * NS_PER_SEC + 150));
        assert_eq!(unc, 150);
        // An event captured 2 ms before the bracket on the monotonic scale.
        let ev = 1_000 * NS_PER_SEC + 150 - 2_000_000;
        assert_eq!(
            to_realtime(ev, TimestampScale::Monotonic, off),
            rt0 + 150 - 2_000_000
        );
        assert_eq!(to_realtime(ev, TimestampScale::Realtime, off), ev);
    }
}
