//! Keeps a hardware PPS source read: opens it, and when opening fails or the
//! reader gives up (the kernel reader after 10 errors in a row, the GPIO
//! reader on a poll error), reports why on the event channel and in the
//! part's heartbeat, then opens again with backoff — as the serial reader
//! does. A missing `/dev/pps0` at start-up is an outage, not an end.

use super::{start, PpsEvent, PpsReader, PpsSourceSpec};
use crate::backoff::Backoff;
use crate::liveness::Heartbeat;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Reopen delays for a PPS device; they start over after a successful open.
pub const REOPEN_BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));

/// The thread that owns the reader; stops when dropped.
pub struct ReopeningReader {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ReopeningReader {
    pub fn stop(mut self) {
        self.shutdown();
    }
    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ReopeningReader {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Start the `pps` thread. Fails only when no thread can be created.
pub fn spawn_reopening(
    spec: PpsSourceSpec,
    tx: tokio::sync::mpsc::Sender<PpsEvent>,
    hb: Heartbeat,
    backoff: Backoff,
) -> std::io::Result<ReopeningReader> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let thread = std::thread::Builder::new()
        .name("pps".into())
        .spawn(move || keep_reading(&spec, &tx, &hb, backoff, &s))?;
    Ok(ReopeningReader {
        stop,
        thread: Some(thread),
    })
}

fn keep_reading(
    spec: &PpsSourceSpec,
    tx: &tokio::sync::mpsc::Sender<PpsEvent>,
    hb: &Heartbeat,
    backoff: Backoff,
    stop: &AtomicBool,
) {
    let mut delays = backoff.delays();
    while !stop.load(Ordering::Relaxed) {
        hb.beat();
        let why = match start(spec, tx.clone(), hb.clone()) {
            Ok(reader) => {
                hb.restarted();
                delays.reset();
                // The reader beats from its own loop while it runs.
                while !stop.load(Ordering::Relaxed) && !reader.is_finished() {
                    std::thread::sleep(Duration::from_millis(100));
                }
                reader.stop();
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                format!("{}: reader stopped", spec.device())
            }
            Err(e) => e.to_string(),
        };
        hb.restarting(why.clone());
        let delay = delays.next_delay();
        let msg = PpsEvent::Error {
            message: format!("{why}; reopening in {} ms", delay.as_millis()),
            fatal: false,
        };
        // The consumer is gone: nobody to read for.
        if tx.blocking_send(msg).is_err() {
            return;
        }
        nap(delay, hb, stop);
    }
}

/// Sleep in short slices, beating, so stopping stays prompt.
fn nap(total: Duration, hb: &Heartbeat, stop: &AtomicBool) {
    let mut left = total;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        hb.beat();
        let step = left.min(Duration::from_millis(100));
        std::thread::sleep(step);
        left -= step;
    }
}

impl PpsReader {
    /// The reader's thread has ended (gave up, or its consumer is gone).
    pub fn is_finished(&self) -> bool {
        match self {
            Self::Kernel(r) => r.is_finished(),
            Self::Gpio(r) => r.is_finished(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveness::{PartState, Parts};

    /// A device that does not exist: errors reported, retried with backoff,
    /// the part restarting with the error, the thread alive (beating).
    #[test]
    fn missing_device_is_retried_and_reported() {
        let parts = Parts::default();
        let hb = parts.register("pps", Some(Duration::from_millis(100)));
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let r = spawn_reopening(
            PpsSourceSpec::Kernel {
                path: "/dev/pps-missing-for-test".into(),
                capture_clear: false,
            },
            tx,
            hb.clone(),
            Backoff::new(Duration::from_millis(50), Duration::from_millis(100)),
        )
        .unwrap();
        let mut errors = 0;
        while errors < 3 {
            match rx.blocking_recv() {
                Some(PpsEvent::Error { message, fatal }) => {
                    assert!(!fatal);
                    assert!(message.contains("/dev/pps-missing-for-test"), "{message}");
                    errors += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let st = parts.observe(0);
        assert_eq!(st[0].state, PartState::Restarting);
        assert!(st[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("pps-missing")));
        assert!(hb.beats() >= 3);
        r.stop();
    }
}
