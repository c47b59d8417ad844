//! Where shells send events: each one is numbered, written to the journal
//! (stderr) with structured fields, queued for the store and published on
//! the live feed. Never blocks: a full store queue counts a drop, a slow
//! live subscriber misses events (its receiver reports `Lagged`).

use super::{Event, Severity};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};

/// Events a live subscriber may fall behind by before it misses some.
pub const LIVE_CAPACITY: usize = 1024;

/// The live feed: `subscribe()` for the panel's stream and SNMP traps.
pub type LiveEvents = broadcast::Sender<Event>;

#[derive(Debug, Clone)]
pub struct EventSink {
    tx: Option<mpsc::Sender<Event>>,
    live: LiveEvents,
    /// Next id; the lock also keeps ids in queue order across threads.
    next_id: Arc<Mutex<u64>>,
    dropped: Arc<AtomicU64>,
}

impl EventSink {
    fn with(tx: Option<mpsc::Sender<Event>>) -> Self {
        Self {
            tx,
            live: broadcast::channel(LIVE_CAPACITY).0,
            next_id: Arc::new(Mutex::new(1)),
            dropped: Default::default(),
        }
    }

    /// A sink that only logs and publishes live (tests, tools).
    pub fn null() -> Self {
        Self::with(None)
    }

    /// A sink feeding a bounded queue of `capacity` events to the store.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self::with(Some(tx)), rx)
    }

    /// Continue numbering after what the store already holds.
    pub fn start_ids_at(&self, next: u64) {
        let mut n = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
        *n = (*n).max(next);
    }

    /// The live feed's sender (subscribe to it).
    pub fn live(&self) -> LiveEvents {
        self.live.clone()
    }

    /// Number, log, queue for the store and publish. Never blocks.
    pub fn emit(&self, mut ev: Event) {
        let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
        let id = *next;
        *next += 1;
        ev.id = Some(id);
        journal(&ev);
        if let Some(tx) = &self.tx {
            if tx.try_send(ev.clone()).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        // No subscriber is not an error.
        let _ = self.live.send(ev);
    }

    /// Events the store queue refused (full or closed).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// One journal line with structured fields (kind, severity, id, durable,
/// time, data as JSON) and the message as text.
fn journal(ev: &Event) {
    let kind = ev.name();
    let severity = ev.severity.as_str();
    let id = ev.id.unwrap_or(0);
    let data = ev.data().to_string();
    let message = ev.message();
    macro_rules! line {
        ($lvl:ident) => {
            tracing::$lvl!(
                kind,
                severity,
                id,
                durable = ev.durable,
                time_ns = ev.time_ns,
                %data,
                "event: {message}"
            )
        };
    }
    match ev.severity {
        Severity::Info | Severity::Notice => line!(info),
        Severity::Warning => line!(warn),
        Severity::Error | Severity::Critical => line!(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventKind;

    fn ev(i: i64) -> Event {
        Event::new(
            i,
            EventKind::ServoRestart {
                reason: format!("r{i}"),
            },
        )
    }

    #[test]
    fn numbers_queues_publishes_and_counts_drops() {
        let (sink, mut rx) = EventSink::channel(2);
        sink.start_ids_at(10);
        let mut live = sink.live().subscribe();
        for i in 0..3 {
            sink.emit(ev(i));
        }
        assert_eq!(sink.dropped(), 1);
        assert_eq!(rx.try_recv().unwrap().id, Some(10));
        assert_eq!(rx.try_recv().unwrap().id, Some(11));
        // The live feed saw all three, the dropped one too.
        let ids: Vec<_> = (0..3).map(|_| live.try_recv().unwrap().id).collect();
        assert_eq!(ids, vec![Some(10), Some(11), Some(12)]);
    }
}
