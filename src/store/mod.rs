//! Embedded database (redb): events, small state (survey position, drift
//! model) and history (1 s values for an hour, minute aggregates for 30
//! days, sky cells and satellite tracks for 24 h).
//!
//! redb rather than sled: the appliance lives on an SD card that loses power;
//! redb is ACID with copy-on-write B-trees and checksummed commits, while
//! sled 0.34 is beta with open corruption-after-crash reports. A damaged
//! file is moved aside and replaced (`open.rs`); failing writes degrade the
//! store, never the daemon (`db.rs`).

mod db;
pub mod history;
mod history_db;
mod open;
mod query;
mod task;

pub use db::{Store, StoreError, StoredEvent, DEFAULT_MAX_EVENTS};
pub use history_db::{HistoryPoint, HistoryStatus, RowCounts, SatTrack, SkyCell, TrackPoint};
pub use open::{Recovery, OPEN_TIMEOUT};
pub use query::{EventPage, EventQuery, MAX_PAGE, MAX_SCAN};
pub use task::{run_store_task, SharedEventRx, StoreHandle, BATCH_MAX_EVENTS};

/// Events live in the neutral `events` module; re-exported for the shells.
pub use crate::events::{Event, EventKind, EventSink, Severity};

use serde::Serialize;

/// Well-known keys of the state table.
pub mod keys {
    /// Surveyed antenna position (timing mode `fixed`).
    pub const SURVEY_POSITION: &str = "survey-position";
    /// Learned oscillator model for a warm restart / holdover.
    pub const DRIFT_MODEL: &str = "drift-model";
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreState {
    #[default]
    Ok,
    /// Writes failing; retried every commit, events wait in memory.
    Degraded,
    /// No database open (open failed or has not finished); retried.
    Unavailable,
}

/// A damaged file found and replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoveryStatus {
    pub at_ns: i64,
    pub error: String,
    pub moved_to: String,
}

/// Store view in the status snapshot (`store`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreStatus {
    pub path: String,
    pub state: StoreState,
    pub degraded_since_ns: Option<i64>,
    /// Size of the database file; `null` when it cannot be read.
    pub size_bytes: Option<u64>,
    /// Events on disk.
    pub events_stored: u64,
    /// Events kept before the oldest are deleted.
    pub max_events: u64,
    /// Events waiting for the next batch commit.
    pub pending: u64,
    pub commits: u64,
    /// UTC ns of the last successful commit; `null` when none since start.
    pub last_commit_ns: Option<i64>,
    /// Failed commits since start.
    pub errors: u64,
    pub last_error: Option<String>,
    /// Events lost: queue to the store full, or disk failing for too long.
    pub dropped_events: u64,
    /// The last damaged file replaced by this run.
    pub recovered: Option<RecoveryStatus>,
    pub history: HistoryStatus,
}
