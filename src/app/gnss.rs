//! The GNSS part of the daemon: `serial::spawn_gnss_input` (serial thread
//! that reopens with backoff → framer/decoders/configuration → receiver
//! model) plus supervised tasks that publish `snapshot.receiver` /
//! `snapshot.serial`, broadcast assembled epochs to the timing part and emit
//! the receiver model's changes as events (`antenna.state`, `jamming.state`,
//! `spoofing.state`, `fix.state`, `survey.state`).

use super::services::Services;
use super::supervisor::{wait_true, Shutdown};
use crate::events::{Event, EventKind, EventSink};
use crate::gnss::configure::{SurveyPosition, SurveyStore};
use crate::gnss::receiver::ReceiverChange;
use crate::gnss::serial::{self, ReceiverCommand, SerialTask, TimedChange};
use crate::gnss::{GnssEpoch, ReceiverStatus, SerialStatus};
use crate::status::SnapshotTx;
use crate::store::StoreHandle;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// Epochs kept for slow subscribers (a lagging one skips ahead).
const EPOCH_QUEUE: usize = 64;

/// An assembled epoch and the CLOCK_REALTIME ns at which its first bytes
/// arrived (what pairing needs to match it with a PPS edge).
#[derive(Debug, Clone)]
pub struct TimedEpoch {
    pub arrival_ns: i64,
    pub epoch: GnssEpoch,
}

pub use crate::plan::GnssParams;

/// Handle of the running GNSS part.
pub struct GnssPart {
    /// Subscribe for assembled epochs (discipline, pairing).
    pub epochs: broadcast::Sender<TimedEpoch>,
    pub device: PathBuf,
    serial: Option<SerialTask>,
    commands: std::sync::mpsc::SyncSender<ReceiverCommand>,
}

impl GnssPart {
    /// The web panel's survey-in restart: a command to the serial thread,
    /// answered once the configurator queued (or refused) it.
    pub fn survey_hook(&self) -> crate::web::SurveyHook {
        let tx = self.commands.clone();
        std::sync::Arc::new(move |by| {
            let (reply, rx) = tokio::sync::oneshot::channel();
            if let Err(e) = tx.try_send(ReceiverCommand::RestartSurvey { by, reply }) {
                let (reply, rx) = tokio::sync::oneshot::channel();
                let _ = reply.send(Err(match e {
                    std::sync::mpsc::TrySendError::Full(_) => "the receiver is busy; try again",
                    std::sync::mpsc::TrySendError::Disconnected(_) => "the receiver part stopped",
                }
                .to_string()));
                return rx;
            }
            rx
        })
    }

    /// Stop the serial thread (the forwarding tasks stop with the supervisor).
    pub fn stop(mut self) {
        if let Some(s) = self.serial.take() {
            s.stop();
        }
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

/// Start the serial thread (with the receiver model on it) and the
/// supervised tasks that publish its status and broadcast its epochs.
pub fn start_gnss(svc: &mut Services, mut params: GnssParams) -> anyhow::Result<GnssPart> {
    let device = params.serial.device.clone();
    // The serial thread beats at least every read timeout / retry slice.
    params.serial.heartbeat = svc
        .supervisor
        .parts()
        .register("serial", Some(Duration::from_secs(1)));
    let input = serial::spawn_gnss_input(
        params.serial,
        params.configure,
        Box::new(StoreSurvey(svc.store.clone())),
        svc.events.clone(),
    )?;

    let (epochs, _) = broadcast::channel(EPOCH_QUEUE);
    // The queue outlives a restart of the task that drains it.
    let rx = Arc::new(tokio::sync::Mutex::new(input.epochs));
    let tx = epochs.clone();
    svc.supervisor.spawn("gnss-epochs", move |shutdown| {
        forward_epochs(rx.clone(), tx.clone(), shutdown)
    });

    let changes = Arc::new(tokio::sync::Mutex::new(input.changes));
    let events = svc.events.clone();
    svc.supervisor.spawn("gnss-changes", move |shutdown| {
        emit_changes(changes.clone(), events.clone(), shutdown)
    });

    let receiver_status = input.receiver_status;
    let serial_status = input.task.status();
    let snapshot = svc.snapshot.clone();
    svc.supervisor.spawn("gnss-status", move |shutdown| {
        forward_status(
            receiver_status.clone(),
            serial_status.clone(),
            snapshot.clone(),
            shutdown,
        )
    });

    Ok(GnssPart {
        epochs,
        device,
        serial: Some(input.task),
        commands: input.commands,
    })
}

async fn forward_epochs(
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<(GnssEpoch, i64)>>>,
    tx: broadcast::Sender<TimedEpoch>,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut rx = rx.lock().await;
    loop {
        tokio::select! {
            e = rx.recv() => {
                // The serial thread is gone: nothing more will come.
                let Some((epoch, arrival_ns)) = e else { return Ok(()) };
                // No subscriber yet is fine.
                let _ = tx.send(TimedEpoch { arrival_ns, epoch });
            }
            _ = wait_true(&mut shutdown) => return Ok(()),
        }
    }
}

/// The event for one receiver change (severity and durability are the
/// kind's, decided in `events`). States use the snapshot's spellings.
pub fn change_event(c: &TimedChange) -> Event {
    fn spelling<T: serde::Serialize>(v: &T) -> String {
        match serde_json::to_value(v) {
            Ok(serde_json::Value::String(s)) => s,
            _ => "unknown".to_string(),
        }
    }
    let kind = match &c.change {
        ReceiverChange::Antenna { to, power, .. } => EventKind::AntennaState {
            status: spelling(to),
            power: spelling(power),
        },
        ReceiverChange::Jamming { to, indicator, .. } => EventKind::JammingState {
            state: spelling(to),
            indicator: indicator.map(u32::from),
        },
        ReceiverChange::Spoofing { to, .. } => EventKind::SpoofingState {
            state: spelling(to),
        },
        ReceiverChange::Fix { to, sats_used, .. } => EventKind::FixState {
            fix: spelling(to),
            sats_used: *sats_used,
        },
        ReceiverChange::Survey {
            to, accuracy_mm, ..
        } => EventKind::SurveyState {
            state: spelling(to),
            accuracy_mm: *accuracy_mm,
        },
    };
    Event::new(c.arrival_ns, kind)
}

async fn emit_changes(
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<TimedChange>>>,
    events: EventSink,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut rx = rx.lock().await;
    loop {
        tokio::select! {
            c = rx.recv() => {
                let Some(c) = c else { return Ok(()) };
                events.emit(change_event(&c));
            }
            _ = wait_true(&mut shutdown) => return Ok(()),
        }
    }
}

/// Copy the receiver and serial views into the snapshot whenever they change.
async fn forward_status(
    mut receiver: watch::Receiver<ReceiverStatus>,
    mut serial: watch::Receiver<SerialStatus>,
    snapshot: SnapshotTx,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut receiver_open = true;
    let mut serial_open = true;
    loop {
        if receiver_open {
            let st = receiver.borrow_and_update().clone();
            snapshot.send_modify(|s| s.receiver = st);
        }
        if serial_open {
            let st = serial.borrow_and_update().clone();
            snapshot.send_modify(|s| s.serial = st);
        }
        if !receiver_open && !serial_open {
            return Ok(());
        }
        tokio::select! {
            r = receiver.changed(), if receiver_open => receiver_open = r.is_ok(),
            r = serial.changed(), if serial_open => serial_open = r.is_ok(),
            _ = wait_true(&mut shutdown) => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::serial::SerialParams;
    use crate::sim::receiver::{FakeOptions, FakeReceiver, Model};
    use crate::sim::scenario::Scenario;

    /// Fake receiver on a pty → start_gnss → epochs on the broadcast and the
    /// receiver view in the snapshot.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn epochs_are_broadcast_and_status_published() {
        let dir = tempfile::tempdir().unwrap();
        let mut svc =
            Services::new(&dir.path().join("s.redb"), &dir.path().join("c.sock")).unwrap();
        let fake = FakeReceiver::spawn_with(FakeOptions {
            model: Model::M8T,
            scenario: Scenario::Healthy,
            ..FakeOptions::default()
        })
        .unwrap();
        let part = start_gnss(
            &mut svc,
            GnssParams {
                serial: SerialParams::new(fake.path(), 115_200),
                configure: None,
            },
        )
        .unwrap();
        let mut epochs = part.epochs.subscribe();
        let snap = svc.snapshot_rx();
        let got = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match epochs.recv().await {
                    Ok(e) if e.epoch.time.is_some_and(|t| t.is_valid()) => return e,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("epoch channel closed: {e}"),
                }
            }
        })
        .await
        .expect("a valid epoch within 20 s");
        assert!(got.arrival_ns > 0);
        // No `publish` task here: compose by hand, as it would each second.
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                svc.snapshot.compose();
                if snap.borrow().receiver.counters.epochs > 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await
        .expect("receiver view published within 20 s");
        assert_eq!(
            svc.snapshot.borrow().serial.device,
            fake.path().display().to_string()
        );
        tokio::task::spawn_blocking(move || part.stop())
            .await
            .unwrap();
        svc.supervisor.shutdown(Duration::from_secs(5)).await;
    }
}
