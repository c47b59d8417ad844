//! The async side of the store: a cloneable handle (blocking database work
//! runs on tokio's blocking pool) and the task that drains the `EventSink`.

use super::db::{Store, StoreError, StoredEvent};
use super::history::Series;
use super::{EventPage, EventQuery, HistoryPoint, SatTrack, SkyCell, StoreStatus};
use crate::events::Event;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;

/// Commit early when this many ordinary events are queued.
pub const BATCH_MAX_EVENTS: usize = 256;

/// Shared access to the open store.
#[derive(Debug, Clone)]
pub struct StoreHandle(Arc<Mutex<Store>>);

impl StoreHandle {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self::new(Store::open(path)?))
    }

    pub fn new(store: Store) -> Self {
        Self(Arc::new(Mutex::new(store)))
    }

    /// Direct access for synchronous callers (start-up, tests).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves the store usable: every
        // method keeps its fields consistent before it can fail.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> R + Send + 'static,
    ) -> anyhow::Result<R> {
        let h = self.clone();
        // A panic here (inside redb) fails this call, not the caller's task.
        Ok(tokio::task::spawn_blocking(move || f(&mut h.lock())).await?)
    }

    pub async fn append(&self, ev: Event) -> anyhow::Result<u64> {
        Ok(self.blocking(move |s| s.append(ev)).await??)
    }

    pub async fn commit(&self) -> anyhow::Result<()> {
        Ok(self.blocking(|s| s.commit()).await??)
    }

    /// Everything queued, history included (shutdown).
    pub async fn flush(&self) -> anyhow::Result<()> {
        Ok(self.blocking(|s| s.flush()).await??)
    }

    pub async fn recent_events(
        &self,
        n: usize,
        kind: Option<String>,
    ) -> anyhow::Result<Vec<StoredEvent>> {
        Ok(self
            .blocking(move |s| s.recent_events(n, kind.as_deref()))
            .await??)
    }

    pub async fn save_state<T: Serialize + Send + 'static>(
        &self,
        key: &str,
        value: T,
    ) -> anyhow::Result<()> {
        let key = key.to_string();
        Ok(self.blocking(move |s| s.save_state(&key, &value)).await??)
    }

    pub async fn load_state<T: DeserializeOwned + Send + 'static>(
        &self,
        key: &str,
    ) -> anyhow::Result<Option<T>> {
        let key = key.to_string();
        Ok(self.blocking(move |s| s.load_state(&key)).await??)
    }

    /// Feed one history sample (in memory until the next commit).
    pub async fn record_history(&self, s: super::history::HistorySample) -> anyhow::Result<()> {
        self.blocking(move |st| st.record_history(&s)).await
    }

    /// A page of events, newest first.
    pub async fn query_events(&self, q: EventQuery) -> anyhow::Result<EventPage> {
        Ok(self.blocking(move |s| s.query_events(&q)).await??)
    }

    /// One history series in buckets of `step_ns` (see `Store::history`).
    pub async fn history(
        &self,
        series: Series,
        from_ns: i64,
        to_ns: i64,
        step_ns: i64,
    ) -> anyhow::Result<Vec<HistoryPoint>> {
        Ok(self
            .blocking(move |s| s.history(series, from_ns, to_ns, step_ns))
            .await??)
    }

    pub async fn sky_cells(&self, from_ns: i64, to_ns: i64) -> anyhow::Result<Vec<SkyCell>> {
        Ok(self
            .blocking(move |s| s.sky_cells(from_ns, to_ns))
            .await??)
    }

    pub async fn sky_tracks(&self, from_ns: i64, to_ns: i64) -> anyhow::Result<Vec<SatTrack>> {
        Ok(self
            .blocking(move |s| s.sky_tracks(from_ns, to_ns))
            .await??)
    }

    pub fn status(&self) -> StoreStatus {
        self.lock().status()
    }
}

/// The receiving end of the `EventSink`, shareable so a restarted store task
/// picks up where the failed one stopped.
pub type SharedEventRx = Arc<tokio::sync::Mutex<mpsc::Receiver<Event>>>;

/// Drain events into the store: batched every `commit_interval` or
/// `BATCH_MAX_EVENTS`, durable ones at once. Commit failures are counted in
/// the status and retried at the next commit. Returns after a final commit
/// when `shutdown` turns true or every sender is gone.
pub async fn run_store_task(
    store: StoreHandle,
    events: SharedEventRx,
    commit_interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut rx = events.lock().await;
    let mut tick = tokio::time::interval(commit_interval.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                // Take whatever else is already queued, in one blocking call.
                let mut batch = vec![ev];
                while batch.len() < BATCH_MAX_EVENTS {
                    match rx.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(_) => break,
                    }
                }
                store.blocking(move |s| {
                    for e in batch {
                        if let Err(err) = s.append(e) {
                            tracing::warn!(error = %err, "store: durable commit failed");
                        }
                    }
                    if s.pending() >= BATCH_MAX_EVENTS {
                        if let Err(err) = s.commit() {
                            tracing::warn!(error = %err, "store: commit failed");
                        }
                    }
                }).await?;
            }
            _ = tick.tick() => {
                if let Err(err) = store.commit().await {
                    tracing::warn!(error = %err, "store: commit failed");
                }
            }
            res = shutdown.changed() => {
                if res.is_err() || *shutdown.borrow() { break; }
            }
        }
    }
    // Whatever arrived before shutdown still goes to disk.
    while let Ok(e) = rx.try_recv() {
        store.append(e).await.ok();
    }
    store.flush().await
}
