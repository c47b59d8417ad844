//! Embedded database (redb): append-only events and small state (survey
//! position, drift model). Owned by the foundation work.

mod event;

pub use event::{Event, EventSink, Severity};

use serde::Serialize;

/// Store view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreStatus {}
