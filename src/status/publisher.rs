//! The one place the snapshot is composed and published.

use super::{ServedStatus, Snapshot, SCHEMA_VERSION};
use crate::clock::TimeSource;
use crate::liveness::Parts;
use crate::server_fields::ServerFieldsCell;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::{watch, Notify};

/// What composition reads besides the parts' drafts. Filled in as the
/// parts start (the served clock exists once the timing part runs).
#[derive(Clone, Default)]
pub struct ComposeContext {
    /// The served clock; the system clock until it is set.
    pub time: Option<Arc<dyn TimeSource>>,
    pub fields: Option<ServerFieldsCell>,
    /// `[ntp] stale-after-s` in ns (as the NTP handler uses it).
    pub stale_after_ns: i64,
    pub parts: Option<Parts>,
}

/// Which changes publish at once rather than at the next second.
#[derive(Debug, Clone, PartialEq)]
struct TransitionKey {
    lock: crate::discipline::LockState,
    reason: crate::discipline::Reason,
    pps: crate::pps::PulseState,
    serial_connected: bool,
}

impl TransitionKey {
    fn of(s: &Snapshot) -> Self {
        Self {
            lock: s.discipline.state,
            reason: s.discipline.reason,
            pps: s.pps.state,
            serial_connected: s.serial.connected,
        }
    }
}

struct Inner {
    draft: Mutex<Snapshot>,
    tx: watch::Sender<Snapshot>,
    key: Mutex<TransitionKey>,
    transition: Notify,
    ctx: Mutex<ComposeContext>,
    started: Instant,
}

/// Parts write into the draft; `compose` publishes it. Cheap to clone.
#[derive(Clone)]
pub struct Publisher(Arc<Inner>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Default for Publisher {
    fn default() -> Self {
        Self::new()
    }
}

impl Publisher {
    pub fn new() -> Self {
        let snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            version: env!("CARGO_PKG_VERSION").to_string(),
            ..Snapshot::default()
        };
        let key = TransitionKey::of(&snap);
        let (tx, _) = watch::channel(snap.clone());
        Self(Arc::new(Inner {
            draft: Mutex::new(snap),
            tx,
            key: Mutex::new(key),
            transition: Notify::new(),
            ctx: Mutex::new(ComposeContext::default()),
            started: crate::liveness::started_at(),
        }))
    }

    /// A part updates its own sub-struct of the draft. A state transition
    /// (lock state or reason, PPS state, serial link) wakes the composer.
    pub fn send_modify(&self, f: impl FnOnce(&mut Snapshot)) {
        let key = {
            let mut d = lock(&self.0.draft);
            f(&mut d);
            TransitionKey::of(&d)
        };
        let mut last = lock(&self.0.key);
        if *last != key {
            *last = key;
            self.0.transition.notify_one();
        }
    }

    /// Set what composition reads (served clock, fields, parts).
    pub fn set_context(&self, f: impl FnOnce(&mut ComposeContext)) {
        f(&mut lock(&self.0.ctx));
    }

    /// Resolves at the next state transition.
    pub async fn transition(&self) {
        self.0.transition.notified().await;
    }

    /// Compose the snapshot from the draft and publish it.
    pub fn compose(&self) {
        let ctx = lock(&self.0.ctx).clone();
        let now = match &ctx.time {
            Some(t) => t.now_ns(),
            None => crate::time::system_realtime_ns(),
        };
        let mut snap = lock(&self.0.draft).clone();
        snap.schema_version = SCHEMA_VERSION;
        snap.generated_at_ns = Some(now);
        snap.uptime_s = self.0.started.elapsed().as_secs();
        if let Some(fields) = &ctx.fields {
            snap.served = ServedStatus::of(&fields.load(), now, ctx.stale_after_ns);
        }
        if let Some(parts) = &ctx.parts {
            snap.parts = parts.observe(now);
        }
        self.0.tx.send_replace(snap);
    }

    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.0.tx.subscribe()
    }

    /// The last published snapshot.
    pub fn borrow(&self) -> watch::Ref<'_, Snapshot> {
        self.0.tx.borrow()
    }
}
