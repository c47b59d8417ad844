//! [`Ingest`]: the standard [`LinkHandler`] (framer → receiver configuration
//! → decoded messages), [`EpochSink`] (receiver model → epochs) and
//! [`spawn_gnss_input`], the whole GNSS input in one call.

use super::{spawn, LinkHandler, SerialParams, SerialTask};
use crate::events::{Event, EventKind, EventSink};
use crate::gnss::configure::{
    ConfigState, Configurator, ConfigureParams, ConfigureReport, SurveyPosition, SurveyState,
    SurveyStore,
};
use crate::gnss::dispatch::decode_frame;
use crate::gnss::framer::{Frame, Framer};
use crate::gnss::message::Message;
use crate::gnss::receiver::ReceiverChange;
use crate::gnss::{DecodeError, GnssEpoch, Receiver, ReceiverStatus};
use crate::time::{system_realtime_ns, NS_PER_SEC};
use std::time::Duration;
use tokio::sync::watch;

/// Where [`Ingest`] puts decoded messages.
pub trait MessageSink: Send + 'static {
    fn message(&mut self, arrival_ns: i64, message: Message);
    /// A frame passed its checksum but did not decode.
    fn decode_error(&mut self, _error: &DecodeError) {}
    /// The link went up (`true`) or down (`false`): epoch assembly should restart.
    fn link(&mut self, _up: bool, _now_ns: i64) {}
    /// What the configuration set up for survey-in, and the fixed position.
    fn survey_setup(&mut self, _state: Option<SurveyState>, _fixed: Option<SurveyPosition>) {}
}

/// Decoded messages to a channel; a full channel drops (the reader never blocks).
impl MessageSink for tokio::sync::mpsc::Sender<(i64, Message)> {
    fn message(&mut self, arrival_ns: i64, message: Message) {
        let _ = self.try_send((arrival_ns, message));
    }
}

/// A receiver change and the CLOCK_REALTIME ns of the bytes that showed it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedChange {
    pub arrival_ns: i64,
    pub change: ReceiverChange,
}

/// Runs the receiver model (`gnss::Receiver`) on the decoded messages and
/// sends every assembled epoch with the CLOCK_REALTIME arrival time (ns) of
/// its first bytes, and every receiver change. A full channel drops (counted)
/// rather than blocking the reader.
pub struct EpochSink {
    receiver: Receiver,
    tx: tokio::sync::mpsc::Sender<(GnssEpoch, i64)>,
    changes: Option<tokio::sync::mpsc::Sender<TimedChange>>,
    status: watch::Sender<ReceiverStatus>,
    survey: (Option<SurveyState>, Option<SurveyPosition>),
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
                changes: None,
                status,
                survey: (None, None),
                epoch_start_ns: None,
                dropped: 0,
            },
            rx,
        )
    }

    /// Also send the receiver's changes (antenna, jamming, ...) to `tx`.
    pub fn with_changes(mut self, tx: tokio::sync::mpsc::Sender<TimedChange>) -> Self {
        self.changes = Some(tx);
        self
    }

    /// Epochs (and changes) lost to a full channel.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The model's view plus what only the configuration knows.
    fn publish(&mut self) {
        let mut st = self.receiver.status();
        st.survey.state = self.survey.0;
        st.survey.fixed_position = self.survey.1;
        self.status.send_replace(st);
    }

    fn send_changes(&mut self, arrival_ns: i64) {
        let changes = self.receiver.drain_changes();
        let Some(tx) = &self.changes else { return };
        for change in changes {
            if tx.try_send(TimedChange { arrival_ns, change }).is_err() {
                self.dropped += 1;
            }
        }
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
        let identifies = matches!(message, Message::MonVer(_));
        let epoch = self.receiver.handle(&message);
        self.send_changes(arrival_ns);
        let Some(epoch) = epoch else {
            if content {
                self.epoch_start_ns.get_or_insert(arrival_ns);
            }
            if identifies {
                self.publish();
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
        self.publish();
    }

    fn decode_error(&mut self, error: &DecodeError) {
        self.receiver.note_decode_error(error);
    }

    fn link(&mut self, _up: bool, now_ns: i64) {
        // Half an epoch from before a reconnect is not worth assembling.
        let _ = self.receiver.flush();
        self.send_changes(now_ns);
        self.epoch_start_ns = None;
        self.publish();
    }

    fn survey_setup(&mut self, state: Option<SurveyState>, fixed: Option<SurveyPosition>) {
        if self.survey != (state, fixed) {
            self.survey = (state, fixed);
            self.publish();
        }
    }
}

/// An operator's request to the receiver, answered on `reply`.
#[derive(Debug)]
pub enum ReceiverCommand {
    /// Survey the antenna position again (`Configurator::restart_survey`).
    RestartSurvey {
        by: Option<String>,
        reply: tokio::sync::oneshot::Sender<Result<String, String>>,
    },
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
    /// Valid frames since the last (re)connect or rate change.
    frames_since_connect: u64,
    /// Operator commands, taken at every tick.
    commands: Option<std::sync::mpsc::Receiver<ReceiverCommand>>,
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
            frames_since_connect: 0,
            commands: None,
        }
    }

    /// Take operator commands from `rx` (checked every tick, 20 times a second).
    pub fn with_commands(mut self, rx: std::sync::mpsc::Receiver<ReceiverCommand>) -> Self {
        self.commands = Some(rx);
        self
    }

    /// Bytes to write for the commands waiting; each is answered.
    fn run_commands(&mut self, now_ns: i64) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(cmd) = self.commands.as_ref().and_then(|rx| rx.try_recv().ok()) {
            match cmd {
                ReceiverCommand::RestartSurvey { by, reply } => {
                    let answer = match &mut self.configurator {
                        None => Err("the receiver is not configured by this daemon \
                                     ([receiver] configure = false)"
                            .to_string()),
                        Some(c) => match c.restart_survey(by, now_ns) {
                            Ok(bytes) => {
                                out.extend(bytes);
                                Ok("survey-in restarted".to_string())
                            }
                            Err(e) => Err(e.to_string()),
                        },
                    };
                    // The asker may have given up (timeout): nothing to do then.
                    let _ = reply.send(answer);
                }
            }
        }
        out
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
        self.sink
            .survey_setup(Some(c.report().survey), c.fixed_position());
        if let Some(pos) = c.take_survey_result() {
            if let Err(e) = self.survey_store.save(&pos) {
                self.events.emit(Event::new(
                    system_realtime_ns(),
                    EventKind::GnssSurveyStoreFailed { error: e },
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
    fn connected(&mut self, now_ns: i64, baud: u32) -> Vec<u8> {
        self.frames_since_connect = 0;
        if let Some(c) = &mut self.configurator {
            c.set_baud(baud, now_ns);
        }
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
            self.frames_since_connect += 1;
            match &frame {
                Frame::Ubx(u) if u.class == 0x01 => self.last_ubx_nav_ns = Some(arrival_ns),
                Frame::Nmea(_) => self.last_nmea_ns = Some(arrival_ns),
                _ => {}
            }
            if let (Some(c), Frame::Nmea(s)) = (&mut self.configurator, &frame) {
                if is_boot_banner(s) {
                    self.last_start_ns = arrival_ns;
                    self.last_ubx_nav_ns = None;
                    out.extend(c.start(arrival_ns));
                }
            }
            // Decoded once: the configuration and the receiver model see the
            // same message.
            match decode_frame(&frame) {
                Some(Ok(msg)) => {
                    if let Some(c) = &mut self.configurator {
                        out.extend(c.on_message(&msg, arrival_ns));
                    }
                    self.sink.message(arrival_ns, msg);
                }
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
        out.extend(self.run_commands(now_ns));
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
                EventKind::GnssReconfigure {
                    reason: "UBX navigation stopped while NMEA continues".into(),
                },
            ));
            out.extend(self.restart_configuration(now_ns));
        }
        self.drain_configurator();
        out
    }

    fn disconnected(&mut self, now_ns: i64) {
        self.sink.link(false, now_ns);
    }

    fn take_baud_request(&mut self) -> Option<u32> {
        self.configurator.as_mut()?.take_baud_request()
    }

    fn frames_seen(&self) -> Option<bool> {
        // A few frames: one checksum-valid frame can happen by chance in noise.
        Some(self.frames_since_connect >= 3)
    }

    fn configure_report(&self) -> Option<&ConfigureReport> {
        self.configurator.as_ref().map(|c| c.report())
    }
}

/// The GNSS input of `run`/`demo`: serial task → framer → configuration →
/// receiver model → epochs.
pub struct GnssInput {
    /// Stops the thread when dropped; `task.status()` is the [`crate::gnss::SerialStatus`].
    pub task: SerialTask,
    /// Assembled epochs with the CLOCK_REALTIME arrival (ns) of their first bytes.
    pub epochs: tokio::sync::mpsc::Receiver<(GnssEpoch, i64)>,
    /// Receiver changes (antenna, jamming, spoofing, fix, survey-in).
    pub changes: tokio::sync::mpsc::Receiver<TimedChange>,
    pub receiver_status: watch::Receiver<ReceiverStatus>,
    /// Operator commands to the receiver (survey-in restart).
    pub commands: std::sync::mpsc::SyncSender<ReceiverCommand>,
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
        target_baud: c.target_baud.or(Some(params.baud)),
        port: c
            .port
            .or_else(|| Some(crate::gnss::configure::keys::Port::guess(&params.device))),
        ..c
    });
    let (tx, epochs) = tokio::sync::mpsc::channel(64);
    let (changes_tx, changes) = tokio::sync::mpsc::channel(64);
    let (sink, receiver_status) = EpochSink::new(Receiver::new(), tx);
    let sink = sink.with_changes(changes_tx);
    let (commands, commands_rx) = std::sync::mpsc::sync_channel(4);
    let ingest =
        Ingest::new(configure, survey_store, events.clone(), sink).with_commands(commands_rx);
    let task = spawn(params, ingest, events)?;
    Ok(GnssInput {
        task,
        epochs,
        changes,
        receiver_status,
        commands,
    })
}
