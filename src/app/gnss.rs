//! The GNSS part of the daemon: serial task (own thread, reopens with
//! backoff) → framer/decoders/configuration (`serial::Ingest`) → receiver
//! model (a supervised task) → `snapshot.receiver` / `snapshot.serial` and a
//! broadcast of assembled epochs for the timing part.

use super::services::Services;
use super::supervisor::{wait_true, Shutdown};
use crate::config::{ReceiverConfig, ReceiverModel};
use crate::gnss::configure::{ConfigureParams, SurveyPosition, SurveyStore, TimingMode};
use crate::gnss::message::Message;
use crate::gnss::serial::{self, Ingest, MessageSink, SerialParams, SerialTask};
use crate::gnss::{GnssEpoch, Receiver};
use crate::status::SnapshotTx;
use crate::store::StoreHandle;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Decoded messages queued between the serial thread and the receiver model.
const MESSAGE_QUEUE: usize = 4096;
/// Epochs kept for slow subscribers (a lagging one skips ahead).
const EPOCH_QUEUE: usize = 64;
/// Longest the receiver view in the snapshot lags behind the model.
const PUBLISH_EVERY: Duration = Duration::from_millis(500);

/// An assembled epoch and the CLOCK_REALTIME ns at which the bytes that
/// completed it arrived (what pairing needs to match it with a PPS edge).
#[derive(Debug, Clone)]
pub struct TimedEpoch {
    pub arrival_ns: i64,
    pub epoch: GnssEpoch,
}

#[derive(Debug, Clone)]
pub struct GnssParams {
    pub serial: SerialParams,
    /// `None`: only listen, never write to the receiver.
    pub configure: Option<ConfigureParams>,
}

impl GnssParams {
    /// Map the `[receiver]` section.
    pub fn from_config(cfg: &ReceiverConfig) -> Self {
        let configure = (cfg.configure && cfg.model != ReceiverModel::NmeaOnly).then(|| {
            let timing = match cfg.timing_mode {
                crate::config::TimingMode::Off => TimingMode::Off,
                // `fixed` uses the stored position; the configurator surveys
                // only when none is stored.
                crate::config::TimingMode::SurveyIn | crate::config::TimingMode::Fixed => {
                    TimingMode::SurveyIn {
                        min_duration_s: cfg.survey_min_duration_s,
                        accuracy_limit_mm: (cfg.survey_accuracy_m * 1000.0).round() as u32,
                    }
                }
            };
            ConfigureParams {
                baud: cfg.baud,
                timing,
                ..ConfigureParams::default()
            }
        });
        Self {
            serial: SerialParams::new(cfg.device.clone(), cfg.baud),
            configure,
        }
    }
}

/// Handle of the running GNSS part.
pub struct GnssPart {
    /// Subscribe for assembled epochs (discipline, pairing).
    pub epochs: broadcast::Sender<TimedEpoch>,
    pub device: PathBuf,
    serial: Option<SerialTask>,
}

impl GnssPart {
    /// Stop the serial thread (the receiver task stops with the supervisor).
    pub fn stop(mut self) {
        if let Some(s) = self.serial.take() {
            s.stop();
        }
    }
}

enum Input {
    Message(i64, Message),
    /// The link went up or down.
    Link,
}

struct ChannelSink(mpsc::Sender<Input>);

impl MessageSink for ChannelSink {
    fn message(&mut self, arrival_ns: i64, message: Message) {
        // Never block the serial thread; a full queue drops (counted by the model's gaps).
        let _ = self.0.try_send(Input::Message(arrival_ns, message));
    }
    fn link(&mut self, up: bool, _now_ns: i64) {
        let _ = (up, self.0.try_send(Input::Link));
    }
}

/// The surveyed position lives in the store's state table.
struct StoreSurvey(StoreHandle);

impl SurveyStore for StoreSurvey {
    fn load(&self) -> Option<SurveyPosition> {
        match self
            .0
            .lock()
            .load_state(crate::store::keys::SURVEY_POSITION)
        {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "stored survey position unreadable; surveying again");
                None
            }
        }
    }
    fn save(&mut self, pos: &SurveyPosition) -> Result<(), String> {
        self.0
            .lock()
            .save_state(crate::store::keys::SURVEY_POSITION, pos)
            .map_err(|e| e.to_string())
    }
}

/// Start the serial thread and the supervised receiver-model and
/// serial-status tasks.
pub fn start_gnss(svc: &mut Services, params: GnssParams) -> anyhow::Result<GnssPart> {
    let (tx, rx) = mpsc::channel(MESSAGE_QUEUE);
    let ingest = Ingest::new(
        params.configure,
        Box::new(StoreSurvey(svc.store.clone())),
        svc.events.clone(),
        ChannelSink(tx),
    );
    let device = params.serial.device.clone();
    let task = serial::spawn(params.serial, ingest, svc.events.clone())?;

    let (epochs, _) = broadcast::channel(EPOCH_QUEUE);
    // Model and queue outlive a restart of the task that drives them.
    let state = Arc::new(tokio::sync::Mutex::new((Receiver::new(), rx)));
    let snapshot = svc.snapshot.clone();
    let ep = epochs.clone();
    svc.supervisor.spawn("receiver", move |shutdown| {
        receiver_loop(state.clone(), snapshot.clone(), ep.clone(), shutdown)
    });

    let serial_status = task.status();
    let snapshot = svc.snapshot.clone();
    svc.supervisor.spawn("serial-status", move |shutdown| {
        forward_serial_status(serial_status.clone(), snapshot.clone(), shutdown)
    });

    Ok(GnssPart {
        epochs,
        device,
        serial: Some(task),
    })
}

async fn receiver_loop(
    state: Arc<tokio::sync::Mutex<(Receiver, mpsc::Receiver<Input>)>>,
    snapshot: SnapshotTx,
    epochs: broadcast::Sender<TimedEpoch>,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut guard = state.lock().await;
    let (model, rx) = &mut *guard;
    let mut tick = tokio::time::interval(PUBLISH_EVERY);
    let mut dirty = true;
    loop {
        tokio::select! {
            input = rx.recv() => {
                let Some(input) = input else { return Ok(()) };
                let epoch = match input {
                    Input::Message(at, msg) => model.handle(&msg).map(|e| (at, e)),
                    // Assembly restarts across an outage: close what was open.
                    Input::Link => model.flush().map(|e| (crate::time::system_realtime_ns(), e)),
                };
                dirty = true;
                if let Some((arrival_ns, epoch)) = epoch {
                    // No subscriber yet is fine.
                    let _ = epochs.send(TimedEpoch { arrival_ns, epoch });
                    let st = model.status();
                    snapshot.send_modify(|s| s.receiver = st);
                    dirty = false;
                }
            }
            _ = tick.tick() => {
                if dirty {
                    let st = model.status();
                    snapshot.send_modify(|s| s.receiver = st);
                    dirty = false;
                }
            }
            _ = wait_true(&mut shutdown) => return Ok(()),
        }
    }
}

async fn forward_serial_status(
    mut rx: tokio::sync::watch::Receiver<crate::gnss::SerialStatus>,
    snapshot: SnapshotTx,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    loop {
        let st = rx.borrow_and_update().clone();
        snapshot.send_modify(|s| s.serial = st);
        tokio::select! {
            res = rx.changed() => {
                // The serial thread stopped: nothing more to forward.
                if res.is_err() { return Ok(()); }
            }
            _ = wait_true(&mut shutdown) => return Ok(()),
        }
    }
}
