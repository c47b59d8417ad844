//! Embedded database (redb): append-only events and small state (survey
//! position, drift model).
//!
//! redb rather than sled: the appliance lives on an SD card that loses power;
//! redb is ACID with copy-on-write B-trees and checksummed commits, while
//! sled 0.34 is beta with open corruption-after-crash reports.

mod db;
mod task;

pub use db::{Store, StoreError, StoredEvent, DEFAULT_MAX_EVENTS};
/// Events live in the neutral `events` module; re-exported for the shells.
pub use crate::events::{Event, EventKind, EventSink, Severity};
pub use task::{run_store_task, SharedEventRx, StoreHandle, BATCH_MAX_EVENTS};

use serde::Serialize;

/// Well-known keys of the state table.
pub mod keys {
    /// Surveyed antenna position (timing mode `fixed`).
    pub const SURVEY_POSITION: &str = "survey-position";
    /// Learned oscillator model for a warm restart / holdover.
    pub const DRIFT_MODEL: &str = "drift-model";
}

/// Store view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreStatus {
    pub path: String,
    /// Events on disk.
    pub events_stored: u64,
    /// Events waiting for the next batch commit.
    pub pending: u64,
    pub commits: u64,
    /// UTC ns of the last successful commit; 0 when none since start.
    pub last_commit_ns: i64,
    /// Failed commits since start.
    pub errors: u64,
    pub last_error: Option<String>,
    /// Events lost: queue to the store full, or disk failing for too long.
    pub dropped_events: u64,
}
