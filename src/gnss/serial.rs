//! The serial task: opens the receiver's device with `serialport`, reads it
//! on a dedicated blocking thread and hands every chunk, stamped with its
//! CLOCK_REALTIME arrival time (integer ns), to a [`LinkHandler`]. Survives
//! unplug/replug (reopens with capped exponential backoff, one
//! `serial.outage` + one `serial.restored` event per outage), garbage and
//! receiver resets. A device missing at start is an outage like any other.
//!
//! Why a plain thread and not tokio-serial: the arrival timestamp is taken
//! right after `read()` returns, with no async scheduler between the byte
//! and the clock read; the data rate is tiny; and `serialport` is all we need
//! (no extra dependency). Consumers get data through channels.
//!
//! [`Ingest`] is the standard handler: Framer → receiver configuration
//! ([`Configurator`]) → decoded messages to a [`MessageSink`].

use super::configure::{ConfigState, Configurator, ConfigureParams, ConfigureReport, SurveyStore};
use super::framer::{Frame, Framer};
use super::message::{decode_frame, Message};
use super::{DecodeError, GnssEpoch, Receiver, ReceiverStatus, SerialStatus};
use crate::store::{Event, EventSink, Severity};
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
    /// No byte for this long while open: `serial.silent` (a UART whose
    /// receiver lost power or cable never reports an error, it just goes quiet).
    pub silence_timeout: Duration,
}

impl SerialParams {
    pub fn new(device: impl Into<PathBuf>, baud: u32) -> Self {
        Self {
            device: device.into(),
            baud,
            backoff_initial: Duration::from_millis(200),
            backoff_max: Duration::from_secs(4),
            read_timeout: Duration::from_millis(100),
            silence_timeout: Duration::from_secs(5),
        }
    }
}

/// What the serial thread drives. Every method returns bytes to write to
/// the receiver (empty for none).
pub trait LinkHandler: Send + 'static {
    /// The device was (re)opened.
    fn connected(&mut self, _now_ns: i64) -> Vec<u8> {
        Vec::new()
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
}

impl<H: LinkHandler> Link<H> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn run(mut self) {
        let mut backoff = self.params.backoff_initial;
        let mut first = true;
        while !self.stopped() {
            let opened = serialport::new(self.params.device.to_string_lossy(), self.params.baud)
                .timeout(self.params.read_timeout)
                .open_native();
            match opened {
                Ok(port) => {
                    backoff = self.params.backoff_initial;
                    self.on_open(first);
                    first = false;
                    let err = self.read_until_error(port);
                    if let Some(err) = err {
                        self.on_lost(&err);
                    }
                }
                Err(e) => {
                    self.on_open_failed(&e.to_string(), first);
                    first = false;
                    let ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX);
                    self.status.send_modify(|s| s.retry_in_ms = Some(ms));
                    self.nap(backoff);
                    backoff = (backoff * 2).min(self.params.backoff_max);
                }
            }
        }
    }

    /// Sleep in short slices so that stopping stays prompt.
    fn nap(&self, total: Duration) {
        let mut left = total;
        while !left.is_zero() && !self.stopped() {
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
                "serial.restored",
                Severity::Notice,
                format!(
                    "{} open again after {}.{:03} s",
                    self.params.device.display(),
                    dur_ms / 1000,
                    dur_ms % 1000
                ),
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
            "serial.outage",
            Severity::Warning,
            format!("{}: {why}", self.params.device.display()),
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

    /// Read until the device fails (returns the error) or we are stopped (None).
    fn read_until_error(&mut self, mut port: serialport::TTYPort) -> Option<String> {
        let mut buf = vec![0u8; 4096];
        // Bytes queued before we opened carry no usable arrival time.
        let _ = serialport::SerialPort::clear(&port, serialport::ClearBuffer::Input);
        let out = self.handler.connected(system_realtime_ns());
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
        while !self.stopped() {
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
                    let arrival = system_realtime_ns();
                    last_data = arrival;
                    if let Some(since) = silent_since.take() {
                        self.events.emit(Event::new(
                            arrival,
                            "serial.data_resumed",
                            Severity::Notice,
                            format!(
                                "{}: data again after {} ms of silence",
                                self.params.device.display(),
                                (arrival - since) / 1_000_000
                            ),
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
                    "serial.silent",
                    Severity::Warning,
                    format!(
                        "{}: open but no data for {} ms",
                        self.params.device.display(),
                        (now - last_data) / 1_000_000
                    ),
                ));
                self.status.send_modify(|s| s.silent = true);
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

fn write_all(port: &mut serialport::TTYPort, bytes: &[u8]) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    port.write_all(bytes)?;
    port.flush()
}

/// Where [`Ingest`] puts decoded messages.
pub trait MessageSink: Send + 'static {
    fn message(&mut self, arrival_ns: i64, message: Message);
    /// A frame passed its checksum but did not decode.
    fn decode_error(&mut self, _error: &DecodeError) {}
    /// The link went up (`true`) or down (`false`): epoch assembly should restart.
    fn link(&mut self, _up: bool, _now_ns: i64) {}
}

/// Decoded messages to a channel; a full channel drops (the reader never blocks).
impl MessageSink for tokio::sync::mpsc::Sender<(i64, Message)> {
    fn message(&mut self, arrival_ns: i64, message: Message) {
        let _ = self.try_send((arrival_ns, message));
    }
}

/// Runs the receiver model (`gnss::Receiver`) on the decoded messages and
/// sends every assembled epoch with the CLOCK_REALTIME arrival time (ns) of
/// its first bytes. A full channel drops the epoch (counted) rather than
/// blocking the reader.
pub struct EpochSink {
    receiver: Receiver,
    tx: tokio::sync::mpsc::Sender<(GnssEpoch, i64)>,
    status: watch::Sender<ReceiverStatus>,
    epoch_start_ns: Option<i64>,
    dropped: u64,
}

impl EpochSink {
    pub fn new(
        receiver: Receiver,
        tx: tokio::sync::mpsc::Sender<(GnssEpoch, i64)>,
    ) -> (Self, watch::Receiver<ReceiverStatus>) {
        let (status, rx) = watch::channel(receiver.status());
        (
            Self {
                receiver,
                tx,
                status,
                epoch_start_ns: None,
                dropped: 0,
            },
            rx,
        )
    }

    /// Epochs lost to a full channel.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl MessageSink for EpochSink {
    fn message(&mut self, arrival_ns: i64, message: Message) {
        let closes_with_this = matches!(message, Message::NavEoe { .. });
        // Replies to our commands and banners are not part of any epoch:
        // they must not date the next one.
        let content = !matches!(
            message,
            Message::AckAck { .. }
                | Message::AckNak { .. }
                | Message::MonVer(_)
                | Message::Txt(_)
                | Message::Other { .. }
                | Message::UbxUnknown { .. }
        );
        let Some(epoch) = self.receiver.handle(&message) else {
            if content {
                self.epoch_start_ns.get_or_insert(arrival_ns);
            }
            return;
        };
        let start = if closes_with_this {
            // NAV-EOE ends the epoch it belongs to.
            self.epoch_start_ns.take()
        } else {
            // This message already belongs to the next epoch.
            self.epoch_start_ns.replace(arrival_ns)
        };
        if self
            .tx
            .try_send((epoch, start.unwrap_or(arrival_ns)))
            .is_err()
        {
            self.dropped += 1;
        }
        self.status.send_replace(self.receiver.status());
    }

    fn decode_error(&mut self, error: &DecodeError) {
        self.receiver.note_decode_error(error);
    }

    fn link(&mut self, _up: bool, _now_ns: i64) {
        // Half an epoch from before a reconnect is not worth assembling.
        let _ = self.receiver.flush();
        self.epoch_start_ns = None;
        self.status.send_replace(self.receiver.status());
    }
}

/// The standard [`LinkHandler`]: frames the byte stream, runs the receiver
/// configuration on every connect (and after a receiver reset), persists a
/// completed survey, and passes every decoded message on.
pub struct Ingest<S: MessageSink> {
    framer: Framer,
    configurator: Option<Configurator>,
    survey_store: Box<dyn SurveyStore>,
    events: EventSink,
    sink: S,
    decode_errors: u64,
    /// UBX navigation silent this long while NMEA flows, after a completed
    /// configuration: the receiver lost its settings without a boot banner.
    ubx_watchdog_ns: i64,
    last_ubx_nav_ns: Option<i64>,
    last_nmea_ns: Option<i64>,
    last_start_ns: i64,
    /// Last watchdog-triggered restart: at most one per 12 watchdog periods,
    /// so a receiver that ACKs but never sends UBX is not nagged forever.
    last_watchdog_ns: Option<i64>,
}

impl<S: MessageSink> Ingest<S> {
    /// `configure`: `None` to only listen (never write to the receiver).
    pub fn new(
        configure: Option<ConfigureParams>,
        survey_store: Box<dyn SurveyStore>,
        events: EventSink,
        sink: S,
    ) -> Self {
        let stored = survey_store.load();
        Self {
            framer: Framer::new(),
            configurator: configure.map(|p| Configurator::new(p, stored)),
            survey_store,
            events,
            sink,
            decode_errors: 0,
            ubx_watchdog_ns: 5 * NS_PER_SEC,
            last_ubx_nav_ns: None,
            last_nmea_ns: None,
            last_start_ns: 0,
            last_watchdog_ns: None,
        }
    }

    /// See the `ubx_watchdog_ns` field; default 5 s.
    pub fn with_ubx_watchdog(mut self, after: Duration) -> Self {
        self.ubx_watchdog_ns = i64::try_from(after.as_nanos()).unwrap_or(i64::MAX);
        self
    }

    fn restart_configuration(&mut self, now_ns: i64) -> Vec<u8> {
        self.last_start_ns = now_ns;
        self.last_ubx_nav_ns = None;
        match &mut self.configurator {
            Some(c) => c.start(now_ns),
            None => Vec::new(),
        }
    }

    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }

    fn drain_configurator(&mut self) {
        let Some(c) = &mut self.configurator else {
            return;
        };
        for ev in c.take_events() {
            self.events.emit(ev);
        }
        if let Some(pos) = c.take_survey_result() {
            if let Err(e) = self.survey_store.save(&pos) {
                self.events.emit(Event::new(
                    system_realtime_ns(),
                    "gnss.survey_store_failed",
                    Severity::Error,
                    e,
                ));
            }
        }
    }
}

/// The u-blox boot banner: the receiver restarted and lost its RAM configuration.
fn is_boot_banner(sentence: &str) -> bool {
    sentence.len() > 6 && sentence.get(3..6) == Some("TXT") && sentence.contains("u-blox AG")
}

impl<S: MessageSink> LinkHandler for Ingest<S> {
    fn connected(&mut self, now_ns: i64) -> Vec<u8> {
        // Bytes from before the outage are not part of the new stream.
        self.framer = Framer::new();
        self.sink.link(true, now_ns);
        self.last_nmea_ns = None;
        let out = self.restart_configuration(now_ns);
        self.drain_configurator();
        out
    }

    fn data(&mut self, arrival_ns: i64, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.framer.push(bytes);
        while let Some(frame) = self.framer.next_frame() {
            match &frame {
                Frame::Ubx(u) if u.class == 0x01 => self.last_ubx_nav_ns = Some(arrival_ns),
                Frame::Nmea(_) => self.last_nmea_ns = Some(arrival_ns),
                _ => {}
            }
            if let Some(c) = &mut self.configurator {
                match &frame {
                    Frame::Ubx(u) => out.extend(c.on_ubx(u.class, u.id, u.payload, arrival_ns)),
                    Frame::Nmea(s) if is_boot_banner(s) => {
                        self.last_start_ns = arrival_ns;
                        self.last_ubx_nav_ns = None;
                        out.extend(c.start(arrival_ns));
                    }
                    _ => {}
                }
            }
            match decode_frame(&frame) {
                Some(Ok(msg)) => self.sink.message(arrival_ns, msg),
                Some(Err(e)) => {
                    self.decode_errors += 1;
                    self.sink.decode_error(&e);
                }
                None => {}
            }
        }
        self.drain_configurator();
        out
    }

    fn tick(&mut self, now_ns: i64) -> Vec<u8> {
        let mut out = match &mut self.configurator {
            Some(c) => c.on_tick(now_ns),
            None => Vec::new(),
        };
        let configured = self
            .configurator
            .as_ref()
            .is_some_and(|c| c.report().state == ConfigState::Done);
        let nmea_flowing = self
            .last_nmea_ns
            .is_some_and(|t| now_ns - t < 2 * NS_PER_SEC);
        let ubx_since = self.last_ubx_nav_ns.unwrap_or(self.last_start_ns);
        if configured
            && nmea_flowing
            && now_ns - ubx_since > self.ubx_watchdog_ns
            && now_ns - self.last_start_ns > self.ubx_watchdog_ns
            && self
                .last_watchdog_ns
                .is_none_or(|t| now_ns - t > self.ubx_watchdog_ns.saturating_mul(12))
        {
            self.last_watchdog_ns = Some(now_ns);
            self.events.emit(Event::new(
                now_ns,
                "gnss.reconfigure",
                Severity::Notice,
                "UBX navigation stopped while NMEA continues: configuring again",
            ));
            out.extend(self.restart_configuration(now_ns));
        }
        self.drain_configurator();
        out
    }

    fn disconnected(&mut self, now_ns: i64) {
        self.sink.link(false, now_ns);
    }

    fn configure_report(&self) -> Option<&ConfigureReport> {
        self.configurator.as_ref().map(|c| c.report())
    }
}

/// The GNSS input of `run`/`demo`: serial task → framer → configuration →
/// receiver model → epochs.
pub struct GnssInput {
    /// Stops the thread when dropped; `task.status()` is the [`SerialStatus`].
    pub task: SerialTask,
    /// Assembled epochs with the CLOCK_REALTIME arrival (ns) of their first bytes.
    pub epochs: tokio::sync::mpsc::Receiver<(GnssEpoch, i64)>,
    pub receiver_status: watch::Receiver<ReceiverStatus>,
}

/// Start the whole GNSS input. `configure: None` never writes to the receiver.
pub fn spawn_gnss_input(
    params: SerialParams,
    configure: Option<ConfigureParams>,
    survey_store: Box<dyn SurveyStore>,
    events: EventSink,
) -> std::io::Result<GnssInput> {
    // CFG-PRT must restate the rate we talk at, never change it under us.
    let configure = configure.map(|c| ConfigureParams {
        baud: params.baud,
        ..c
    });
    let (tx, epochs) = tokio::sync::mpsc::channel(64);
    let (sink, receiver_status) = EpochSink::new(Receiver::new(), tx);
    let ingest = Ingest::new(configure, survey_store, events.clone(), sink);
    let task = spawn(params, ingest, events)?;
    Ok(GnssInput {
        task,
        epochs,
        receiver_status,
    })
}
