//! The redb database: an append-only events table, a small key/value state
//! table and the history tables (`history_db.rs`). Synchronous; the async
//! side lives in `task.rs`, opening in `open.rs`.
//!
//! Batching: ordinary events wait in memory and are written in one
//! transaction per commit interval (one fsync instead of one per event, which
//! spares the SD card). A `durable` event commits at once, together with
//! everything queued before it, so ids on disk never have holes before a
//! durable one.
//!
//! Failures never reach the daemon: a failing write marks the store
//! degraded (a `store.degraded` event, events stay queued up to a bound),
//! the next commit reopens the file and retries, and success says
//! `store.restored`. The store's own events leave through `take_events`.

use super::history::History;
use super::open::{guarded, open_database, Recovery};
use super::{RecoveryStatus, StoreState, StoreStatus};
use crate::events::{Event, EventKind};
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// id (monotonically increasing) → JSON-serialized `Event`.
pub(super) const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
/// name → JSON value (survey position, drift model, ...).
const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");

/// Events kept on disk by default; older ones are deleted as new ones are
/// committed, so the file stops growing (about 250 bytes per event).
pub const DEFAULT_MAX_EVENTS: u64 = 200_000;

/// Queued events beyond this are dropped (oldest first) when the disk keeps
/// failing, so a broken SD card cannot grow memory without bound.
const MAX_PENDING: usize = 10_000;

/// An unavailable or degraded store tries to reopen at most this often.
const REOPEN_INTERVAL_NS: i64 = 10_000_000_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Db {
        path: String,
        #[source]
        source: Box<redb::Error>,
    },
    /// The file is not a readable redb database (its commits fail their
    /// checksums, redb panics on it, or it is something else entirely).
    #[error("database {path} is corrupt: {message}")]
    Corrupt { path: String, message: String },
    #[error("cannot create directory for {path}: {source}")]
    Dir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("state `{key}`: {source}")]
    Serde {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// Not open now (failed or unfinished open, or reopening after errors).
    #[error("database {path} is unavailable: {reason}")]
    Unavailable { path: String, reason: String },
}

/// An event as stored: the event (with its id) and whether it is on disk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    #[serde(skip)]
    pub id: u64,
    #[serde(flatten)]
    pub event: Event,
    /// False while it waits in the batch (lost if the power fails now).
    pub committed: bool,
}

type Opening = mpsc::Receiver<Result<(Store, Option<Recovery>), StoreError>>;

pub struct Store {
    pub(super) db: Option<Database>,
    pub(super) path: PathBuf,
    opening: Option<Opening>,
    next_id: u64,
    pending: Vec<(u64, Event)>,
    stored: u64,
    commits: u64,
    last_commit_ns: Option<i64>,
    errors: u64,
    last_error: Option<String>,
    dropped_pending: u64,
    max_events: u64,
    degraded_since_ns: Option<i64>,
    last_reopen_ns: i64,
    recovered: Option<RecoveryStatus>,
    outbox: Vec<Event>,
    pub(super) history: History,
    pub(super) history_rows: super::history_db::RowCounts,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("open", &self.db.is_some())
            .field("next_id", &self.next_id)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Store {
    fn blank(path: &Path) -> Self {
        Self {
            db: None,
            path: path.to_path_buf(),
            opening: None,
            next_id: 1,
            pending: Vec::new(),
            stored: 0,
            commits: 0,
            last_commit_ns: None,
            errors: 0,
            last_error: None,
            dropped_pending: 0,
            max_events: DEFAULT_MAX_EVENTS,
            degraded_since_ns: None,
            last_reopen_ns: 0,
            recovered: None,
            outbox: Vec::new(),
            history: History::default(),
            history_rows: Default::default(),
        }
    }

    /// Open or create the database. redb checks its commit checksums and
    /// repairs the file after an unclean shutdown (kill -9, power loss); a
    /// damaged file is an error here (see `open_or_recover`).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut s = Self::blank(path);
        s.attach(open_database_in(path)?)?;
        Ok(s)
    }

    /// A store with no database behind it (yet); see `open_resilient`.
    pub(super) fn unavailable(path: &Path, reason: String) -> Self {
        let mut s = Self::blank(path);
        s.errors = 1;
        s.last_error = Some(reason.clone());
        s.degraded_since_ns = Some(crate::time::system_realtime_ns());
        s.outbox.push(Event::now(EventKind::StoreDegraded {
            path: path.display().to_string(),
            error: reason,
        }));
        s
    }

    pub(super) fn set_opening(&mut self, rx: Opening) {
        self.opening = Some(rx);
    }

    /// Take over a freshly opened database: create the tables, read the
    /// counters, reload the last hour of history.
    fn attach(&mut self, db: Database) -> Result<(), StoreError> {
        let path = self.path.clone();
        let (next_id, stored) = guarded(&path, || {
            let err = |e: redb::Error| StoreError::Db {
                path: path.display().to_string(),
                source: Box::new(e),
            };
            // Create every table so readers never see "table does not exist".
            let txn = db.begin_write().map_err(|e| err(e.into()))?;
            let r = {
                let events = txn.open_table(EVENTS).map_err(|e| err(e.into()))?;
                txn.open_table(STATE).map_err(|e| err(e.into()))?;
                super::history_db::create_tables(&txn).map_err(err)?;
                let last = events
                    .last()
                    .map_err(|e| err(e.into()))?
                    .map(|(k, _)| k.value());
                let len = events.len().map_err(|e| err(e.into()))?;
                (last.map_or(1, |id| id.saturating_add(1)), len)
            };
            txn.commit().map_err(|e| err(e.into()))?;
            Ok(r)
        })?;
        self.next_id = self.next_id.max(next_id);
        self.stored = stored;
        self.db = Some(db);
        self.history_rows = guarded(&path, || self.load_history())?;
        Ok(())
    }

    /// Keep at most this many events on disk (at least 1).
    pub fn set_max_events(&mut self, max: u64) {
        self.max_events = max.max(1);
    }

    /// The id the next event gets unless it brings a higher one.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn db_err(&self, e: impl Into<redb::Error>) -> StoreError {
        StoreError::Db {
            path: self.path.display().to_string(),
            source: Box::new(e.into()),
        }
    }

    pub(super) fn db(&self) -> Result<&Database, StoreError> {
        self.db.as_ref().ok_or_else(|| StoreError::Unavailable {
            path: self.path.display().to_string(),
            reason: self.last_error.clone().unwrap_or_else(|| "not open".into()),
        })
    }

    /// Events the store raised itself (degraded, restored, corrupt), for the sink.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.outbox)
    }

    /// A damaged file was replaced at open: for the status and an event.
    pub fn note_recovery(&mut self, r: &Recovery) {
        let at_ns = crate::time::system_realtime_ns();
        self.recovered = Some(RecoveryStatus {
            at_ns,
            error: r.error.clone(),
            moved_to: r.moved_to.display().to_string(),
        });
        self.outbox.push(Event::now(EventKind::StoreCorrupt {
            path: self.path.display().to_string(),
            moved_to: Some(r.moved_to.display().to_string()),
            error: r.error.clone(),
        }));
    }

    /// Queue an event; commit at once when it is durable. Returns its id.
    /// An event numbered by the sink keeps its id (ids only grow). On a
    /// failed durable commit the event stays queued for the next try.
    pub fn append(&mut self, mut event: Event) -> Result<u64, StoreError> {
        let id = event
            .id
            .filter(|&i| i >= self.next_id)
            .unwrap_or(self.next_id);
        self.next_id = id + 1;
        event.id = Some(id);
        let durable = event.durable;
        self.pending.push((id, event));
        if self.pending.len() > MAX_PENDING {
            let excess = self.pending.len() - MAX_PENDING;
            self.pending.drain(..excess);
            self.dropped_pending += excess as u64;
        }
        if durable {
            self.commit()?;
        }
        Ok(id)
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Write all queued events in one durable transaction, with the
    /// history batch when it is due (or a durable event goes with it).
    pub fn commit(&mut self) -> Result<(), StoreError> {
        let history = self.history.batch_due() || self.pending.iter().any(|(_, e)| e.durable);
        self.commit_with(history)
    }

    /// Write everything queued, history included (shutdown).
    pub fn flush(&mut self) -> Result<(), StoreError> {
        self.commit_with(true)
    }

    fn commit_with(&mut self, history: bool) -> Result<(), StoreError> {
        let history = history && self.history.has_batch();
        if self.pending.is_empty() && !history {
            return Ok(());
        }
        self.reopen_if_needed();
        let path = self.path.clone();
        let res = guarded(&path, || self.write_pending(history));
        match res {
            Ok(deleted) => {
                self.stored = (self.stored + self.pending.len() as u64).saturating_sub(deleted);
                self.pending.clear();
                if history {
                    self.history.batch_written();
                }
                self.commits += 1;
                let now = crate::time::system_realtime_ns();
                self.last_commit_ns = Some(now);
                if let Some(since) = self.degraded_since_ns.take() {
                    self.outbox.push(Event::now(EventKind::StoreRestored {
                        path: self.path.display().to_string(),
                        degraded_ms: (now - since) / 1_000_000,
                    }));
                }
                Ok(())
            }
            Err(e) => {
                self.fail(&e);
                Err(e)
            }
        }
    }

    /// Record a failure; the first one of a run of failures raises `store.degraded`.
    pub(super) fn fail(&mut self, e: &StoreError) {
        self.errors += 1;
        self.last_error = Some(e.to_string());
        if self.degraded_since_ns.is_none() {
            self.degraded_since_ns = Some(crate::time::system_realtime_ns());
            self.outbox.push(Event::now(EventKind::StoreDegraded {
                path: self.path.display().to_string(),
                error: e.to_string(),
            }));
        }
        // After an I/O error redb refuses further transactions until the
        // file is opened again; after a panic its state is unknown.
        if matches!(e, StoreError::Db { .. } | StoreError::Corrupt { .. }) {
            self.db = None;
        }
    }

    /// While degraded or unavailable: pick up a slow open that finished, or
    /// reopen (at most every `REOPEN_INTERVAL_NS`). A file found damaged on
    /// reopen is moved aside like at start-up.
    fn reopen_if_needed(&mut self) {
        if let Some(rx) = &self.opening {
            match rx.try_recv() {
                Ok(Ok((mut opened, recovery))) => {
                    self.opening = None;
                    if let Some(db) = opened.db.take() {
                        if let Some(r) = recovery {
                            self.note_recovery(&r);
                        }
                        let _ = self.attach(db);
                    }
                }
                Ok(Err(_)) | Err(mpsc::TryRecvError::Disconnected) => self.opening = None,
                Err(mpsc::TryRecvError::Empty) => return,
            }
        }
        if self.db.is_some() {
            return;
        }
        let now = crate::time::system_realtime_ns();
        if now - self.last_reopen_ns < REOPEN_INTERVAL_NS {
            return;
        }
        self.last_reopen_ns = now;
        let res = match open_database_in(&self.path) {
            Err(StoreError::Corrupt { message, .. }) => match super::open::move_aside(&self.path) {
                Ok(moved_to) => {
                    self.note_recovery(&Recovery {
                        error: message,
                        moved_to,
                    });
                    open_database_in(&self.path)
                }
                Err(e) => Err(e),
            },
            other => other,
        };
        match res.and_then(|db| self.attach(db)) {
            Ok(()) => {}
            Err(e) => {
                self.last_error = Some(e.to_string());
            }
        }
    }

    /// Returns how many old events were deleted to stay within `max_events`.
    fn write_pending(&mut self, history: bool) -> Result<u64, StoreError> {
        let db = self.db()?;
        let txn = db.begin_write().map_err(|e| self.db_err(e))?;
        let mut deleted = 0;
        {
            let mut table = txn.open_table(EVENTS).map_err(|e| self.db_err(e))?;
            for (id, ev) in &self.pending {
                let bytes = stored_json(ev).map_err(|source| StoreError::Serde {
                    key: format!("event {id}"),
                    source,
                })?;
                table
                    .insert(*id, bytes.as_slice())
                    .map_err(|e| self.db_err(e))?;
            }
            // Retention, in the same transaction: the oldest ids go first.
            let total = self.stored + self.pending.len() as u64;
            let mut excess = total.saturating_sub(self.max_events);
            while excess > 0 {
                if table.pop_first().map_err(|e| self.db_err(e))?.is_none() {
                    break;
                }
                excess -= 1;
                deleted += 1;
            }
        }
        if history {
            let rows =
                super::history_db::write_batch(&txn, &self.history).map_err(|e| self.db_err(e))?;
            self.history_rows = rows;
        }
        txn.commit().map_err(|e| self.db_err(e))?;
        Ok(deleted)
    }

    /// Queued events, newest first (for queries).
    pub(super) fn pending_newest_first(&self) -> impl Iterator<Item = &(u64, Event)> {
        self.pending.iter().rev()
    }

    /// The last `n` events (committed and queued), oldest first, optionally
    /// only those of one kind. Undecodable rows are skipped.
    pub fn recent_events(
        &self,
        n: usize,
        kind: Option<&str>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let q = super::EventQuery {
            limit: n,
            kinds: kind.map(|k| vec![k.to_string()]).unwrap_or_default(),
            ..Default::default()
        };
        let mut page = self.query_events(&q)?;
        page.events.reverse();
        Ok(page.events)
    }

    /// Save a small state value; committed at once (callers save rarely,
    /// e.g. the survey position once, the drift model hourly).
    pub fn save_state<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Serde {
            key: key.to_string(),
            source,
        })?;
        self.reopen_if_needed();
        let path = self.path.clone();
        let res = guarded(&path, || {
            let db = self.db()?;
            let txn = db.begin_write().map_err(|e| self.db_err(e))?;
            {
                let mut table = txn.open_table(STATE).map_err(|e| self.db_err(e))?;
                table
                    .insert(key, bytes.as_slice())
                    .map_err(|e| self.db_err(e))?;
            }
            txn.commit().map_err(|e| self.db_err(e))
        });
        if let Err(e) = &res {
            self.fail(e);
        }
        res
    }

    /// Load a state value; `Ok(None)` when never saved.
    pub fn load_state<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        guarded(&self.path, || {
            let txn = self.db()?.begin_read().map_err(|e| self.db_err(e))?;
            let table = txn.open_table(STATE).map_err(|e| self.db_err(e))?;
            let Some(v) = table.get(key).map_err(|e| self.db_err(e))? else {
                return Ok(None);
            };
            serde_json::from_slice(v.value())
                .map(Some)
                .map_err(|source| StoreError::Serde {
                    key: key.to_string(),
                    source,
                })
        })
    }

    pub fn status(&self) -> StoreStatus {
        let state = if self.db.is_none() {
            StoreState::Unavailable
        } else if self.degraded_since_ns.is_some() {
            StoreState::Degraded
        } else {
            StoreState::Ok
        };
        StoreStatus {
            path: self.path.display().to_string(),
            state,
            degraded_since_ns: self.degraded_since_ns,
            size_bytes: std::fs::metadata(&self.path).ok().map(|m| m.len()),
            events_stored: self.stored,
            max_events: self.max_events,
            pending: self.pending.len() as u64,
            commits: self.commits,
            last_commit_ns: self.last_commit_ns,
            errors: self.errors,
            last_error: self.last_error.clone(),
            dropped_events: self.dropped_pending,
            recovered: self.recovered.clone(),
            history: self.history_status(),
        }
    }
}

/// The row as stored: the event without its id (the key) and message
/// (derived from the data), to keep rows small.
fn stored_json(ev: &Event) -> Result<Vec<u8>, serde_json::Error> {
    let mut v = serde_json::to_value(ev)?;
    if let Some(m) = v.as_object_mut() {
        m.remove("id");
        m.remove("message");
    }
    serde_json::to_vec(&v)
}

/// `open_database` after making sure the directory exists.
fn open_database_in(path: &Path) -> Result<Database, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: path.display().to_string(),
            source,
        })?;
    }
    open_database(path)
}

impl Drop for Store {
    /// A clean shutdown keeps the batch.
    fn drop(&mut self) {
        if self.db.is_none() {
            return;
        }
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "store: final commit failed");
        }
    }
}
