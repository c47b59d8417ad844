//! The shared parts every task is wired to. Adding a part to `run`/`demo` is
//! a few lines: clone what it needs from `Services` and `supervisor.spawn` it.

use super::supervisor::{Shutdown, Supervisor};
use crate::events::{EventSink, LiveEvents};
use crate::sheds::Sheds;
use crate::status::control::{self, ControlContext, ScenarioHook, SnmpRequest, TimingRequest};
use crate::status::{ServerFieldsCell, SnapshotRx, SnapshotTx};
use crate::store::{SharedEventRx, StoreHandle};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Capacity of the event queue to the store.
const EVENT_QUEUE: usize = 4096;
/// How often the snapshot is composed (and at once on a state transition).
const PUBLISH_INTERVAL: Duration = Duration::from_secs(1);

pub struct Services {
    /// Publish: `snapshot.send_modify(|s| s.receiver = ...)`; each part
    /// writes only its own field; the `publish` task composes and publishes.
    pub snapshot: SnapshotTx,
    /// What NTP replies advertise; the discipline loop stores, NTP workers load.
    pub server_fields: ServerFieldsCell,
    pub events: EventSink,
    /// Every event as it is emitted (numbered like the store's rows);
    /// `events_live.subscribe()` for the panel's stream and SNMP traps.
    pub events_live: LiveEvents,
    pub store: StoreHandle,
    pub supervisor: Supervisor,
    /// Set by `demo` once the fake receiver runs; used by the control socket.
    pub scenario_hook: Option<ScenarioHook>,
    /// Operator requests from the control socket to the discipline task
    /// (created here because the socket starts before the task).
    pub timing_tx: tokio::sync::mpsc::Sender<TimingRequest>,
    pub timing_rx: Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<TimingRequest>>>,
    /// Operator requests to the SNMP subagent (created here because the
    /// socket starts before it); the receiver is taken by the subagent, or
    /// dropped when SNMP is off so the socket answers "not enabled".
    pub snmp_tx: tokio::sync::mpsc::Sender<SnmpRequest>,
    pub snmp_rx: Option<tokio::sync::mpsc::Receiver<SnmpRequest>>,
    events_rx: SharedEventRx,
    pub control_socket: PathBuf,
    /// Work refused at a bound (control slots, HTTP limits); the publisher
    /// shows it under `drops`.
    pub sheds: Sheds,
    /// The SNMP subagent's notification counters (status `snmp`).
    pub snmp_counters: crate::status::snmp_counters::SnmpCounters,
}

impl Services {
    /// Open the store and create the channels. Nothing runs yet.
    pub fn new(store_path: &Path, control_socket: &Path) -> anyhow::Result<Self> {
        // Never fails and never waits long: a damaged file is replaced, an
        // unopenable one leaves the store unavailable (retried) while time
        // serving starts.
        let (mut store, recovery) =
            crate::store::Store::open_resilient(store_path, crate::store::OPEN_TIMEOUT);
        if let Some(r) = &recovery {
            store.note_recovery(r);
        }
        let store = StoreHandle::new(store);
        let (events, rx) = EventSink::channel(EVENT_QUEUE);
        events.start_ids_at(store.lock().next_id());
        for ev in store.lock().take_events() {
            events.emit(ev);
        }
        let (snapshot, _) = crate::status::channel();
        let (timing_tx, timing_rx) = tokio::sync::mpsc::channel(4);
        let (snmp_tx, snmp_rx) = tokio::sync::mpsc::channel(4);
        let server_fields = ServerFieldsCell::default();
        let supervisor = Supervisor::new(events.clone());
        snapshot.set_context(|c| {
            c.fields = Some(server_fields.clone());
            c.parts = Some(supervisor.parts());
            c.stale_after_ns = crate::ntp::handler::HandlerConfig::default().stale_after_ns;
        });
        Ok(Self {
            snapshot,
            server_fields,
            supervisor,
            events_live: events.live(),
            events,
            store,
            scenario_hook: None,
            timing_tx,
            timing_rx: Arc::new(tokio::sync::Mutex::new(timing_rx)),
            snmp_tx,
            snmp_rx: Some(snmp_rx),
            events_rx: Arc::new(tokio::sync::Mutex::new(rx)),
            control_socket: control_socket.to_path_buf(),
            sheds: Sheds::default(),
            snmp_counters: Default::default(),
        })
    }

    pub fn snapshot_rx(&self) -> SnapshotRx {
        self.snapshot.subscribe()
    }

    pub fn shutdown_signal(&self) -> Shutdown {
        self.supervisor.shutdown_signal()
    }

    /// Start the parts every mode has: store writer, snapshot publisher,
    /// control socket. The socket is bound here so a second daemon fails at
    /// once with a clear error.
    pub fn start_core_tasks(&mut self, commit_interval: Duration) -> anyhow::Result<()> {
        let store = self.store.clone();
        let rx = self.events_rx.clone();
        self.supervisor.spawn("store", move |shutdown| {
            crate::store::run_store_task(store.clone(), rx.clone(), commit_interval, shutdown)
        });

        let store = self.store.clone();
        let tx = self.snapshot.clone();
        let sink = self.events.clone();
        let sheds = self.sheds.clone();
        let snmp = self.snmp_counters.clone();
        self.supervisor
            .spawn_with_period("publish", Some(PUBLISH_INTERVAL), move |shutdown| {
                publish_loop(
                    store.clone(),
                    tx.clone(),
                    sink.clone(),
                    (sheds.clone(), snmp.clone()),
                    shutdown,
                )
            });

        let store = self.store.clone();
        let rx = self.snapshot_rx();
        self.supervisor.spawn("history", move |shutdown| {
            super::history::history_loop(store.clone(), rx.clone(), shutdown)
        });

        let listener = control::bind_control_socket(&self.control_socket)?;
        let ctx = ControlContext {
            snapshot: self.snapshot_rx(),
            store: Some(self.store.clone()),
            scenario: self.scenario_hook.clone(),
            timing: Some(self.timing_tx.clone()),
            snmp: Some(self.snmp_tx.clone()),
        };
        // The listener is bound once; if serving fails the socket is rebound.
        let path = self.control_socket.clone();
        let sheds = self.sheds.clone();
        let mut first = Some(listener);
        self.supervisor.spawn("control", move |shutdown| {
            let listener = first
                .take()
                .map(Ok)
                .unwrap_or_else(|| control::bind_control_socket(&path));
            let (ctx, sheds) = (ctx.clone(), sheds.clone());
            async move { control::serve_control(listener?, ctx, sheds, shutdown).await }
        });
        Ok(())
    }
}

/// Compose and publish the snapshot every second and at each state
/// transition, with the store's view, the channel drops and the sheds
/// refreshed.
async fn publish_loop(
    store: StoreHandle,
    tx: SnapshotTx,
    sink: EventSink,
    (sheds, snmp): (Sheds, crate::status::snmp_counters::SnmpCounters),
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(PUBLISH_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tx.transition() => {}
            _ = super::supervisor::wait_true(&mut shutdown) => return Ok(()),
        }
        // The store's own events (degraded, restored, corrupt) go out here.
        let (mut st, own) = {
            let mut s = store.lock();
            (s.status(), s.take_events())
        };
        for ev in own {
            sink.emit(ev);
        }
        let dropped = sink.dropped();
        st.dropped_events += dropped;
        let shed = sheds.counts();
        let snmp = snmp.counts();
        tx.send_modify(|s| {
            s.snmp = snmp;
            s.store = st;
            s.drops.events = dropped;
            s.drops.set_sheds(shed);
        });
        tx.compose();
    }
}
