//! Paging through events: newest first, by time range, kinds and minimum
//! severity, continued with a cursor (`before_id`). Queued events (not yet
//! committed) are included.

use super::db::{Store, StoreError, StoredEvent, EVENTS};
use crate::events::{Event, Severity};
use serde::Serialize;

/// Most events one page returns.
pub const MAX_PAGE: usize = 10_000;
/// Most stored rows one query reads: a filter that matches little cannot
/// make a request scan the whole table; the page then ends early with a
/// cursor to continue from.
pub const MAX_SCAN: usize = 50_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Events at or after this UTC ns.
    pub from_ns: Option<i64>,
    /// Events before this UTC ns.
    pub to_ns: Option<i64>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<String>,
    pub min_severity: Option<Severity>,
    /// At most this many (capped at `MAX_PAGE`).
    pub limit: usize,
    /// Only ids below this (the previous page's `next_before_id`).
    pub before_id: Option<u64>,
}

impl EventQuery {
    fn matches(&self, id: u64, e: &Event) -> bool {
        self.before_id.is_none_or(|b| id < b)
            && self.from_ns.is_none_or(|f| e.time_ns >= f)
            && self.to_ns.is_none_or(|t| e.time_ns < t)
            && self.min_severity.is_none_or(|s| e.severity >= s)
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| e.kind == k.as_str()))
    }
}

/// One page, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    /// Pass as `before_id` for the next page; `None` when nothing older is left.
    pub next_before_id: Option<u64>,
}

impl Store {
    pub fn query_events(&self, q: &EventQuery) -> Result<EventPage, StoreError> {
        let limit = q.limit.min(MAX_PAGE);
        let mut out = Vec::new();
        let mut lowest_seen: Option<u64> = None;
        for (id, e) in self.pending_newest_first() {
            if out.len() >= limit {
                break;
            }
            lowest_seen = Some(*id);
            if q.matches(*id, e) {
                out.push(StoredEvent {
                    id: *id,
                    event: e.clone(),
                    committed: false,
                });
            }
        }
        let mut exhausted = true;
        if out.len() < limit {
            if let Some(db) = &self.db {
                super::open::guarded(&self.path, || {
                    let txn = db.begin_read().map_err(|e| self.db_err(e))?;
                    let table = txn.open_table(EVENTS).map_err(|e| self.db_err(e))?;
                    let upper = q.before_id.unwrap_or(u64::MAX);
                    let rows = table.range(..upper).map_err(|e| self.db_err(e))?.rev();
                    for (scanned, row) in rows.enumerate() {
                        if out.len() >= limit || scanned >= MAX_SCAN {
                            exhausted = false;
                            break;
                        }
                        let (k, v) = row.map_err(|e| self.db_err(e))?;
                        let id = k.value();
                        lowest_seen = Some(id);
                        // Undecodable rows are skipped, never fatal.
                        let Ok(mut event) = serde_json::from_slice::<Event>(v.value()) else {
                            continue;
                        };
                        event.id = Some(id);
                        if q.matches(id, &event) {
                            out.push(StoredEvent {
                                id,
                                event,
                                committed: true,
                            });
                        }
                    }
                    Ok(())
                })?;
            }
        } else {
            exhausted = false;
        }
        // Sorted by id even when the queue and the table interleave.
        out.sort_by_key(|e| std::cmp::Reverse(e.id));
        out.truncate(limit);
        let next_before_id = if exhausted {
            None
        } else if out.len() >= limit {
            out.last().map(|e| e.id)
        } else {
            lowest_seen
        };
        Ok(EventPage {
            events: out,
            next_before_id,
        })
    }
}
