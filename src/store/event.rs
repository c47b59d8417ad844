//! Events: what happened, when, how bad. Cores return them as outputs; shells
//! hand them to an `EventSink`, and the store appends them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Notice,
    Warning,
    Error,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UTC ns.
    pub time_ns: i64,
    /// Short machine-readable kind, e.g. `serial.outage`, `lock.transition`.
    pub kind: String,
    pub severity: Severity,
    /// Human-readable details (may be JSON).
    pub details: String,
    /// Committed to disk at once instead of in the next batch.
    pub durable: bool,
}

impl Event {
    pub fn new(time_ns: i64, kind: &str, severity: Severity, details: impl Into<String>) -> Self {
        Self {
            time_ns,
            kind: kind.to_string(),
            severity,
            details: details.into(),
            durable: false,
        }
    }
    pub fn durable(mut self) -> Self {
        self.durable = true;
        self
    }
}

/// Where shells send events. Bounded: when full, events are counted as dropped
/// rather than growing memory without limit.
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: Option<tokio::sync::mpsc::Sender<Event>>,
    dropped: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl EventSink {
    /// A sink that only logs (tests, tools).
    pub fn null() -> Self {
        Self {
            tx: None,
            dropped: Default::default(),
        }
    }
    pub fn channel(capacity: usize) -> (Self, tokio::sync::mpsc::Receiver<Event>) {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity);
        (
            Self {
                tx: Some(tx),
                dropped: Default::default(),
            },
            rx,
        )
    }
    /// Log the event and queue it for the store. Never blocks.
    pub fn emit(&self, ev: Event) {
        match ev.severity {
            Severity::Info | Severity::Notice => {
                tracing::info!(kind = %ev.kind, details = %ev.details, "event")
            }
            Severity::Warning => tracing::warn!(kind = %ev.kind, details = %ev.details, "event"),
            Severity::Error | Severity::Critical => {
                tracing::error!(kind = %ev.kind, details = %ev.details, "event")
            }
        }
        if let Some(tx) = &self.tx {
            if tx.try_send(ev).is_err() {
                self.dropped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }
}
