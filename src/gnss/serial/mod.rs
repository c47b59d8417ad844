//! The serial task: opens the receiver's device with `serialport`, reads it
//! on a dedicated blocking thread and hands every chunk, stamped with its
//! CLOCK_REALTIME arrival time (integer ns), to a [`LinkHandler`]. It
//! survives unplug/replug (reopens with capped exponential backoff, one
//! `serial.outage` + one `serial.restored` event per outage), garbage and
//! receiver resets; a device missing at start is an outage like any other.
//! An open port that goes quiet is reported (`serial.silent`), and when bytes
//! arrive but nothing decodes the line rate is probed (`serial.baud_detected`).
//!
//! Why a plain thread and not tokio-serial: the arrival timestamp is taken
//! right after `read()` returns, with no async scheduler between the byte
//! and the clock read; the data rate is tiny; and `serialport` is all we need
//! (no extra dependency). Consumers get data through channels.
//!
//! [`Ingest`] is the standard handler: Framer → receiver configuration
//! ([`crate::gnss::configure::Configurator`]) → decoded messages to a
//! [`MessageSink`]; [`spawn_gnss_input`] wires all of it to the receiver model.

mod ingest;

pub use ingest::{
    spawn_gnss_input, EpochSink, GnssInput, Ingest, MessageSink, ReceiverCommand, TimedChange,
};

use super::configure::ConfigureReport;
use super::SerialStatus;
use crate::backoff::Backoff;
use crate::events::{Event, EventKind, EventSink};
use crate::time::{system_realtime_ns, NS_PER_SEC};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone, PartialEq)]
pub struct SerialParams {
    /// e.g. `/dev/ttyAMA0`, `/dev/serial/by-id/...`, or the fake receiver's pty.
    pub device: PathBuf,
    pub baud: u32,
    /// First reopen delay; doubles per failed attempt up to `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// Longest a read blocks; also the tick period of the handler.
    pub read_timeout: Duration,
    /// Beaten on every read (timeout included) and retry nap: the thread's
    /// liveness in the status.
    pub heartbeat: crate::liveness::Heartbeat,
    /// No byte for this long while open: `serial.silent` (a UART whose
    /// receiver lost power or cable never reports an error, it just goes quiet).
    pub silence_timeout: Duration,
    /// Rates to try when bytes arrive but nothing decodes at `baud`
    /// (u-blox receivers ship at 9600 or 38400). Empty: never change the rate.
    pub baud_candidates: Vec<u32>,
    /// How long undecodable bytes may flow before the next rate is tried.
    pub autobaud_window: Duration,
}

impl SerialParams {
    pub fn new(device: impl Into<PathBuf>, baud: u32) -> Self {
        Self {
            device: device.into(),
            baud,
            backoff_initial: Duration::from_millis(200),
            backoff_max: Duration::from_secs(4),
            read_timeout: Duration::from_millis(100),
            heartbeat: crate::liveness::Heartbeat::default(),
            silence_timeout: Duration::from_secs(5),
            baud_candidates: vec![9_600, 38_400, 115_200, 230_400],
            autobaud_window: Duration::from_secs(3),
        }
    }
}

/// What the serial thread drives. Every method returns bytes to write to
/// the receiver (empty for none).
pub trait LinkHandler: Send + 'static {
    /// The device was (re)opened, or the line speed changed to `baud`.
    fn connected(&mut self, _now_ns: i64, _baud: u32) -> Vec<u8> {
        Vec::new()
    }
    /// Whether valid frames have arrived since the last `connected`;
    /// `None` when the handler cannot tell (then the rate is never changed).
    fn frames_seen(&self) -> Option<bool> {
        None
    }
    /// The handler told the receiver to change its rate: follow it.
    fn take_baud_request(&mut self) -> Option<u32> {
        None
    }
    /// A chunk arrived at CLOCK_REALTIME `arrival_ns`.
    fn data(&mut self, arrival_ns: i64, bytes: &[u8]) -> Vec<u8>;
    /// Called at least every `read_timeout` while connected.
    fn tick(&mut self, _now_ns: i64) -> Vec<u8> {
        Vec::new()
    }
    /// The device went away.
    fn disconnected(&mut self, _now_ns: i64) {}
    /// Configuration outcome to show in the status, if the handler configures.
    fn configure_report(&self) -> Option<&ConfigureReport> {
        None
    }
}

/// Raw chunks to a channel: for consumers that run their own framer.
impl LinkHandler for tokio::sync::mpsc::Sender<(i64, Vec<u8>)> {
    fn data(&mut self, arrival_ns: i64, bytes: &[u8]) -> Vec<u8> {
        // Never block the reader: a stalled consumer loses chunks, not timestamps.
        let _ = self.try_send((arrival_ns, bytes.to_vec()));
        Vec::new()
    }
}

/// Handle of a running serial task. Dropping it stops the thread.
pub struct SerialTask {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    status: watch::Receiver<SerialStatus>,
}

impl SerialTask {
    pub fn status(&self) -> watch::Receiver<SerialStatus> {
        self.status.clone()
    }
    /// Stop and wait for the thread (at most about one `read_timeout`).
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

impl Drop for SerialTask {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Start the serial task on its own thread.
pub fn spawn(
    params: SerialParams,
    handler: impl LinkHandler,
    events: EventSink,
) -> std::io::Result<SerialTask> {
    let status = SerialStatus {
        device: params.device.display().to_string(),
        baud: params.baud,
        ..SerialStatus::default()
    };
    let (tx, rx) = watch::channel(status);
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("gnss-serial".into())
        .spawn(move || {
            Link {
                params,
                handler,
                events,
                status: tx,
                stop: s,
                outage_since_ns: None,
                baud: None,
            }
            .run()
        })?;
    Ok(SerialTask {
        stop,
        thread: Some(thread),
        status: rx,
    })
}

struct Link<H: LinkHandler> {
    params: SerialParams,
    handler: H,
    events: EventSink,
    status: watch::Sender<SerialStatus>,
    stop: Arc<AtomicBool>,
    /// Set while the device is unavailable (also at start until the first open).
    outage_since_ns: Option<i64>,
    /// Rate that decoded last (kept across reopens); `None` before that.
    baud: Option<u32>,
}

impl<H: LinkHandler> Link<H> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn run(mut self) {
        let mut delays =
            Backoff::new(self.params.backoff_initial, self.params.backoff_max).delays();
        let mut first = true;
        while !self.stopped() {
            let baud = self.baud.unwrap_or(self.params.baud);
            let opened = serialport::new(self.params.device.to_string_lossy(), baud)
                .timeout(self.params.read_timeout)
                .open_native();
            match opened {
                Ok(port) => {
                    self.params.heartbeat.restarted();
                    delays.reset();
                    self.on_open(first);
                    first = false;
                    let err = self.read_until_error(port, baud);
                    if let Some(err) = err {
                        self.params.heartbeat.restarting(err.clone());
                        self.on_lost(&err);
                    }
                }
                Err(e) => {
                    self.params.heartbeat.restarting(e.to_string());
                    self.on_open_failed(&e.to_string(), first);
                    first = false;
                    let delay = delays.next_delay();
                    let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                    self.status.send_modify(|s| s.retry_in_ms = Some(ms));
                    self.nap(delay);
                }
            }
        }
    }

    /// Sleep in short slices so that stopping stays prompt.
    fn nap(&self, total: Duration) {
        let mut left = total;
        while !left.is_zero() && !self.stopped() {
            self.params.heartbeat.beat();
            let step = left.min(Duration::from_millis(50));
            std::thread::sleep(step);
            left -= step;
        }
    }

    fn on_open(&mut self, first: bool) {
        let now = system_realtime_ns();
        if let Some(since) = self.outage_since_ns.take() {
            let dur_ms = (now - since) / 1_000_000;
            self.events.emit(Event::new(
                now,
                EventKind::SerialRestored {
                    device: self.params.device.display().to_string(),
                    outage_ms: dur_ms,
                },
            ));
        }
        self.status.send_modify(|s| {
            s.connected = true;
            s.retry_in_ms = None;
            s.silent = false;
            s.opens += 1;
            if !first {
                s.reopens += 1;
            }
            s.outage_since_ns = None;
            s.connected_since_ns = Some(now);
        });
    }

    fn start_outage(&mut self, now: i64, why: String) {
        if self.outage_since_ns.is_some() {
            return;
        }
        self.outage_since_ns = Some(now);
        self.events.emit(Event::new(
            now,
            EventKind::SerialOutage {
                device: self.params.device.display().to_string(),
                reason: why,
            },
        ));
        self.status.send_modify(|s| {
            s.outages += 1;
            s.outage_since_ns = Some(now);
        });
    }

    fn on_open_failed(&mut self, err: &str, first: bool) {
        let now = system_realtime_ns();
        let why = if first {
            format!("cannot open at start: {err}")
        } else {
            format!("cannot open: {err}")
        };
        self.start_outage(now, why);
        self.status.send_modify(|s| {
            s.open_failures += 1;
            s.last_error = Some(err.to_string());
        });
    }

    fn on_lost(&mut self, err: &str) {
        let now = system_realtime_ns();
        self.handler.disconnected(now);
        self.status.send_modify(|s| {
            s.connected = false;
            s.connected_since_ns = None;
            s.last_error = Some(err.to_string());
        });
        self.start_outage(now, format!("lost: {err}"));
    }

    /// The rate after `current` in the probe order (configured rate first).
    fn next_baud(&self, current: u32) -> u32 {
        let mut order = vec![self.params.baud];
        order.extend(
            self.params
                .baud_candidates
                .iter()
                .filter(|b| **b != self.params.baud),
        );
        let at = order.iter().position(|b| *b == current).unwrap_or(0);
        order
            .get((at + 1) % order.len())
            .copied()
            .unwrap_or(current)
    }

    /// Read until the device fails (returns the error) or we are stopped
    /// (None). Also runs silence detection, autobaud and rate switches.
    fn read_until_error(&mut self, mut port: serialport::TTYPort, mut baud: u32) -> Option<String> {
        let mut buf = vec![0u8; 4096];
        // Bytes queued before we opened carry no usable arrival time.
        let _ = serialport::SerialPort::clear(&port, serialport::ClearBuffer::Input);
        self.status.send_modify(|s| s.baud = baud);
        let out = self.handler.connected(system_realtime_ns(), baud);
        if let Err(e) = write_all(&mut port, &out) {
            return Some(format!("write: {e}"));
        }
        self.publish_report();
        // A hung-up tty can also read as endless zero-length reads.
        let mut empty_reads = 0u32;
        let mut last_tick = system_realtime_ns();
        let silence_ns = i64::try_from(self.params.silence_timeout.as_nanos()).unwrap_or(i64::MAX);
        let mut last_data = last_tick;
        let mut silent_since: Option<i64> = None;
        let window_ns = i64::try_from(self.params.autobaud_window.as_nanos()).unwrap_or(i64::MAX);
        let mut rate_known = self.params.baud_candidates.is_empty();
        let mut window_start = last_tick;
        let mut bytes_in_window = 0usize;
        while !self.stopped() {
            self.params.heartbeat.beat();
            let out = match port.read(&mut buf) {
                Ok(0) => {
                    empty_reads += 1;
                    if empty_reads > 50 {
                        return Some("end of file".into());
                    }
                    std::thread::sleep(Duration::from_millis(10));
                    Vec::new()
                }
                Ok(n) => {
                    empty_reads = 0;
                    bytes_in_window += n;
                    let arrival = system_realtime_ns();
                    last_data = arrival;
                    if let Some(since) = silent_since.take() {
                        self.events.emit(Event::new(
                            arrival,
                            EventKind::SerialDataResumed {
                                device: self.params.device.display().to_string(),
                                silent_ms: (arrival - since) / 1_000_000,
                            },
                        ));
                    }
                    self.status.send_modify(|s| {
                        s.bytes += n as u64;
                        s.last_data_ns = Some(arrival);
                        s.silent = false;
                    });
                    self.handler.data(arrival, &buf[..n])
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Vec::new(),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Vec::new(),
                Err(e) => return Some(e.to_string()),
            };
            if let Err(e) = write_all(&mut port, &out) {
                return Some(format!("write: {e}"));
            }
            let now = system_realtime_ns();
            if silent_since.is_none() && now - last_data >= silence_ns {
                silent_since = Some(last_data);
                self.events.emit(Event::new(
                    now,
                    EventKind::SerialSilent {
                        device: self.params.device.display().to_string(),
                        silent_ms: (now - last_data) / 1_000_000,
                    },
                ));
                self.status.send_modify(|s| s.silent = true);
            }
            if let Some(to) = self.handler.take_baud_request() {
                // Let the switch command leave at the old rate, and give the
                // receiver time to act on it before our side changes.
                let _ = std::io::Write::flush(&mut port);
                std::thread::sleep(Duration::from_millis(100));
                if let Err(e) = serialport::SerialPort::set_baud_rate(&mut port, to) {
                    return Some(format!("set baud {to}: {e}"));
                }
                let _ = serialport::SerialPort::clear(&port, serialport::ClearBuffer::Input);
                baud = to;
                rate_known = self.params.baud_candidates.is_empty();
                window_start = now;
                bytes_in_window = 0;
                self.status.send_modify(|s| s.baud = to);
                let out = self.handler.connected(now, to);
                if let Err(e) = write_all(&mut port, &out) {
                    return Some(format!("write: {e}"));
                }
            }
            if !rate_known {
                match self.handler.frames_seen() {
                    None => rate_known = true,
                    Some(true) => {
                        rate_known = true;
                        self.baud = Some(baud);
                        if baud != self.params.baud {
                            self.events.emit(Event::new(
                                now,
                                EventKind::SerialBaudDetected {
                                    device: self.params.device.display().to_string(),
                                    baud,
                                    configured: self.params.baud,
                                },
                            ));
                        }
                    }
                    Some(false) if bytes_in_window > 0 && now - window_start >= window_ns => {
                        baud = self.next_baud(baud);
                        if let Err(e) = serialport::SerialPort::set_baud_rate(&mut port, baud) {
                            return Some(format!("set baud {baud}: {e}"));
                        }
                        let _ =
                            serialport::SerialPort::clear(&port, serialport::ClearBuffer::Input);
                        window_start = now;
                        bytes_in_window = 0;
                        self.status.send_modify(|s| s.baud = baud);
                        let out = self.handler.connected(now, baud);
                        if let Err(e) = write_all(&mut port, &out) {
                            return Some(format!("write: {e}"));
                        }
                    }
                    Some(false) => {}
                }
            }
            if now - last_tick >= NS_PER_SEC / 20 {
                last_tick = now;
                let out = self.handler.tick(now);
                if let Err(e) = write_all(&mut port, &out) {
                    return Some(format!("write: {e}"));
                }
            }
            self.publish_report();
        }
        None
    }

    fn publish_report(&mut self) {
        let Some(report) = self.handler.configure_report() else {
            return;
        };
        self.status.send_if_modified(|s| {
            if s.configuration.as_ref() == Some(report) {
                false
            } else {
                s.configuration = Some(report.clone());
                true
            }
        });
    }
}

/// Queue bytes for the receiver. No `flush()`: tcdrain would block the
/// reader for the transmit time (100 ms per 100 bytes at 9600 baud) and make
/// arrival stamps late. A full output queue drops the command (the
/// configuration retries it) instead of declaring the link lost.
fn write_all(port: &mut serialport::TTYPort, bytes: &[u8]) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    match port.write_all(bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            tracing::warn!("serial output queue full: {} bytes dropped", bytes.len());
            Ok(())
        }
        other => other,
    }
}
