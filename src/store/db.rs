//! The redb database: an append-only events table and a small key/value
//! state table. Synchronous; the async side lives in `task.rs`.
//!
//! Batching: ordinary events wait in memory and are written in one
//! transaction per commit interval (one fsync instead of one per event, which
//! spares the SD card). A `durable` event commits at once, together with
//! everything queued before it, so ids on disk never have holes before a
//! durable one.

use crate::events::Event;
use super::StoreStatus;
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// id (monotonically increasing) → JSON-serialized `Event`.
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
/// name → JSON value (survey position, drift model, ...).
const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");

/// Events kept on disk by default; older ones are deleted as new ones are
/// committed, so the file stops growing (about 200 bytes per event).
pub const DEFAULT_MAX_EVENTS: u64 = 200_000;

/// Queued events beyond this are dropped (oldest first) when the disk keeps
/// failing, so a broken SD card cannot grow memory without bound.
const MAX_PENDING: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Db {
        path: String,
        #[source]
        source: Box<redb::Error>,
    },
    /// The file is not a readable redb database (its commits fail their checksums,
    /// or it is something else entirely).
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
}

/// An event as stored, with its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: u64,
    #[serde(flatten)]
    pub event: Event,
    /// False while it waits in the batch (lost if the power fails now).
    pub committed: bool,
}

pub struct Store {
    db: Database,
    path: PathBuf,
    next_id: u64,
    pending: Vec<(u64, Event)>,
    stored: u64,
    commits: u64,
    last_commit_ns: i64,
    errors: u64,
    last_error: Option<String>,
    dropped_pending: u64,
    max_events: u64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("next_id", &self.next_id)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Store {
    /// Open or create the database. redb checks its commit checksums and
    /// repairs the file after an unclean shutdown (kill -9, power loss).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
                path: path.display().to_string(),
                source,
            })?;
        }
        let err = |e: redb::Error| StoreError::Db {
            path: path.display().to_string(),
            source: Box::new(e),
        };
        let db = match Database::create(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::Storage(redb::StorageError::Corrupted(message))) => {
                return Err(StoreError::Corrupt {
                    path: path.display().to_string(),
                    message,
                })
            }
            // Not a redb file at all (bad magic number) or cut short.
            Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                return Err(StoreError::Corrupt {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })
            }
            Err(e) => return Err(err(e.into())),
        };
        // Create both tables so readers never see "table does not exist".
        let txn = db.begin_write().map_err(|e| err(e.into()))?;
        let (next_id, stored) = {
            let events = txn.open_table(EVENTS).map_err(|e| err(e.into()))?;
            txn.open_table(STATE).map_err(|e| err(e.into()))?;
            let last = events
                .last()
                .map_err(|e| err(e.into()))?
                .map(|(k, _)| k.value());
            let len = events.len().map_err(|e| err(e.into()))?;
            (last.map_or(1, |id| id.saturating_add(1)), len)
        };
        txn.commit().map_err(|e| err(e.into()))?;
        Ok(Self {
            db,
            path: path.to_path_buf(),
            next_id,
            pending: Vec::new(),
            stored,
            commits: 0,
            last_commit_ns: 0,
            errors: 0,
            last_error: None,
            dropped_pending: 0,
            max_events: DEFAULT_MAX_EVENTS,
        })
    }

    /// Keep at most this many events on disk (at least 1).
    pub fn set_max_events(&mut self, max: u64) {
        self.max_events = max.max(1);
    }

    /// Open the database; a corrupt file is renamed to `<path>.corrupt-<unix
    /// seconds>` and a fresh database created, so the appliance keeps serving
    /// time. Returns where the corrupt file went, for an event.
    pub fn open_or_recover(path: &Path) -> Result<(Self, Option<PathBuf>), StoreError> {
        match Self::open(path) {
            Err(StoreError::Corrupt { .. }) => {
                let secs = crate::time::system_realtime_ns() / crate::time::NS_PER_SEC;
                let mut aside = path.as_os_str().to_owned();
                aside.push(format!(".corrupt-{secs}"));
                let aside = PathBuf::from(aside);
                std::fs::rename(path, &aside).map_err(|source| StoreError::Dir {
                    path: path.display().to_string(),
                    source,
                })?;
                Ok((Self::open(path)?, Some(aside)))
            }
            other => other.map(|s| (s, None)),
        }
    }

    fn db_err(&self, e: impl Into<redb::Error>) -> StoreError {
        StoreError::Db {
            path: self.path.display().to_string(),
            source: Box::new(e.into()),
        }
    }

    /// The id the next event gets unless it brings a higher one.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queue an event; commit at once when it is durable. Returns its id.
    /// On a failed durable commit the event stays queued for the next try.
    /// An event numbered by the sink keeps its id (ids only grow).
    pub fn append(&mut self, mut event: Event) -> Result<u64, StoreError> {
        let id = event.id.filter(|&i| i >= self.next_id).unwrap_or(self.next_id);
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

    /// Write all queued events in one durable transaction.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        match self.write_pending() {
            Ok(deleted) => {
                self.stored = (self.stored + self.pending.len() as u64).saturating_sub(deleted);
                self.pending.clear();
                self.commits += 1;
                self.last_commit_ns = crate::time::system_realtime_ns();
                Ok(())
            }
            Err(e) => {
                self.errors += 1;
                self.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Returns how many old events were deleted to stay within `max_events`.
    fn write_pending(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.db_err(e))?;
        let mut deleted = 0;
        {
            let mut table = txn.open_table(EVENTS).map_err(|e| self.db_err(e))?;
            for (id, ev) in &self.pending {
                let bytes = serde_json::to_vec(ev).map_err(|source| StoreError::Serde {
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
        txn.commit().map_err(|e| self.db_err(e))?;
        Ok(deleted)
    }

    /// The last `n` events (committed and queued), oldest first, optionally
    /// only those of one kind. Undecodable rows are skipped.
    pub fn recent_events(
        &self,
        n: usize,
        kind: Option<&str>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let matches = |e: &Event| kind.is_none_or(|k| e.kind == k);
        let mut out: Vec<StoredEvent> = self
            .pending
            .iter()
            .rev()
            .filter(|(_, e)| matches(e))
            .take(n)
            .map(|(id, e)| StoredEvent {
                id: *id,
                event: e.clone(),
                committed: false,
            })
            .collect();
        if out.len() < n {
            let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
            let table = txn.open_table(EVENTS).map_err(|e| self.db_err(e))?;
            for row in table.iter().map_err(|e| self.db_err(e))?.rev() {
                if out.len() >= n {
                    break;
                }
                let (k, v) = row.map_err(|e| self.db_err(e))?;
                let Ok(event) = serde_json::from_slice::<Event>(v.value()) else {
                    continue;
                };
                if matches(&event) {
                    out.push(StoredEvent {
                        id: k.value(),
                        event,
                        committed: true,
                    });
                }
            }
        }
        out.reverse();
        Ok(out)
    }

    /// Save a small state value; committed at once (callers save rarely,
    /// e.g. the survey position once, the drift model hourly).
    pub fn save_state<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Serde {
            key: key.to_string(),
            source,
        })?;
        let res = (|| {
            let txn = self.db.begin_write().map_err(|e| self.db_err(e))?;
            {
                let mut table = txn.open_table(STATE).map_err(|e| self.db_err(e))?;
                table
                    .insert(key, bytes.as_slice())
                    .map_err(|e| self.db_err(e))?;
            }
            txn.commit().map_err(|e| self.db_err(e))
        })();
        if let Err(e) = &res {
            self.errors += 1;
            self.last_error = Some(e.to_string());
        }
        res
    }

    /// Load a state value; `Ok(None)` when never saved.
    pub fn load_state<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
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
    }

    pub fn status(&self) -> StoreStatus {
        StoreStatus {
            path: self.path.display().to_string(),
            events_stored: self.stored,
            pending: self.pending.len() as u64,
            commits: self.commits,
            last_commit_ns: self.last_commit_ns,
            errors: self.errors,
            last_error: self.last_error.clone(),
            dropped_events: self.dropped_pending,
        }
    }
}

impl Drop for Store {
    /// A clean shutdown keeps the batch.
    fn drop(&mut self) {
        if let Err(e) = self.commit() {
            tracing::warn!(error = %e, "store: final commit failed");
        }
    }
}
