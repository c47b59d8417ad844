//! Liveness of the daemon's parts (threads and supervised tasks): each part
//! holds a [`Heartbeat`] and beats from its loop; the status shows, per part,
//! its state, last heartbeat, restarts and last error, and "stalled" when a
//! part with a period has not beaten for [`STALL_PERIODS`] periods.
//!
//! A beat is one relaxed atomic add, no clock read: the NTP workers beat per
//! receive loop at no measurable cost. The observer (the status composer,
//! once a second) notices which counters moved and when, on the monotonic
//! clock, and renders those instants on the served clock's scale.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// A part is stalled after this many periods without a beat.
pub const STALL_PERIODS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    #[default]
    Running,
    /// Failed and waiting for its restart (supervised tasks, reopening readers).
    Restarting,
    /// Gave up; will not come back by itself.
    Failed,
    /// Running, but no heartbeat for several periods.
    Stalled,
    Stopped,
}

/// One part as the status shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartStatus {
    pub name: String,
    pub state: PartState,
    /// When the part last beat (served clock, ns); null before its first beat.
    pub last_heartbeat_ns: Option<i64>,
    pub restarts: u64,
    pub last_error: Option<String>,
}

#[derive(Debug)]
struct Cell {
    name: String,
    /// Expected beat period; `None`: event-driven, never "stalled".
    period: Option<Duration>,
    beats: AtomicU64,
    info: Mutex<Info>,
}

#[derive(Debug, Default)]
struct Info {
    state: PartState,
    restarts: u64,
    last_error: Option<String>,
    /// Observer's view: the beat count last seen and when it last moved.
    seen_beats: u64,
    moved_at: Option<Instant>,
    registered_at: Option<Instant>,
}

fn lock(m: &Mutex<Info>) -> MutexGuard<'_, Info> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A part's handle: beat from its loop, report state changes and errors.
#[derive(Debug, Clone)]
pub struct Heartbeat(Arc<Cell>);

impl Heartbeat {
    /// A heartbeat nobody watches (tests, tools).
    pub fn detached(name: &str) -> Self {
        Self(Arc::new(Cell {
            name: name.to_string(),
            period: None,
            beats: AtomicU64::new(0),
            info: Mutex::new(Info::default()),
        }))
    }

    #[inline]
    pub fn beat(&self) {
        self.0.beats.fetch_add(1, Ordering::Relaxed);
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    pub fn beats(&self) -> u64 {
        self.0.beats.load(Ordering::Relaxed)
    }

    pub fn set_state(&self, state: PartState) {
        lock(&self.0.info).state = state;
    }

    /// An error the part survived or is about to retry after.
    pub fn error(&self, message: impl Into<String>) {
        lock(&self.0.info).last_error = Some(message.into());
    }

    /// The part failed and will be restarted (reopened).
    pub fn restarting(&self, message: impl Into<String>) {
        let mut i = lock(&self.0.info);
        i.state = PartState::Restarting;
        i.last_error = Some(message.into());
    }

    /// The part runs (again): counts a restart when it was restarting.
    pub fn restarted(&self) {
        let mut i = lock(&self.0.info);
        if i.state == PartState::Restarting {
            i.restarts += 1;
        }
        i.state = PartState::Running;
    }
}

/// Heartbeats are wiring, not parameters: two are always "equal" so the
/// parameter structs that carry one stay comparable.
impl PartialEq for Heartbeat {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self::detached("detached")
    }
}

/// Every registered part, in registration order.
#[derive(Debug, Clone, Default)]
pub struct Parts(Arc<Mutex<Vec<Arc<Cell>>>>);

impl Parts {
    /// Register a part; `period`: how often it beats when healthy.
    pub fn register(&self, name: &str, period: Option<Duration>) -> Heartbeat {
        let cell = Arc::new(Cell {
            name: name.to_string(),
            period,
            beats: AtomicU64::new(0),
            info: Mutex::new(Info {
                registered_at: Some(Instant::now()),
                ..Info::default()
            }),
        });
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(cell.clone());
        Heartbeat(cell)
    }

    /// The parts' status at `now_ns` on the served clock (called about once
    /// a second: last-heartbeat times have that resolution).
    pub fn observe(&self, now_ns: i64) -> Vec<PartStatus> {
        self.observe_at(now_ns, Instant::now())
    }

    fn observe_at(&self, now_ns: i64, mono: Instant) -> Vec<PartStatus> {
        let cells = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        cells
            .iter()
            .map(|c| {
                let beats = c.beats.load(Ordering::Relaxed);
                let mut i = lock(&c.info);
                if beats != i.seen_beats {
                    i.seen_beats = beats;
                    i.moved_at = Some(mono);
                }
                let quiet_since = i.moved_at.or(i.registered_at);
                let stalled = match (c.period, quiet_since) {
                    (Some(p), Some(t)) => mono.saturating_duration_since(t) > p * STALL_PERIODS,
                    _ => false,
                };
                let state = if i.state == PartState::Running && stalled {
                    PartState::Stalled
                } else {
                    i.state
                };
                let last_heartbeat_ns = i.moved_at.map(|t| {
                    let ago = mono.saturating_duration_since(t).as_nanos();
                    now_ns.saturating_sub(i64::try_from(ago).unwrap_or(i64::MAX))
                });
                PartStatus {
                    name: c.name.clone(),
                    state,
                    last_heartbeat_ns,
                    restarts: i.restarts,
                    last_error: i.last_error.clone(),
                }
            })
            .collect()
    }
}

/// Process start on the monotonic clock (for `uptime_s`).
pub fn started_at() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_are_seen_and_silence_is_stalled() {
        let parts = Parts::default();
        let t0 = Instant::now();
        let a = parts.register("a", Some(Duration::from_secs(1)));
        let b = parts.register("b", None);
        let st = parts.observe_at(1_000, t0);
        assert_eq!(st[0].last_heartbeat_ns, None);
        assert_eq!(st[0].state, PartState::Running);
        a.beat();
        b.beat();
        let st = parts.observe_at(5_000_000_000, t0 + Duration::from_secs(1));
        assert_eq!(st[0].last_heartbeat_ns, Some(5_000_000_000));
        // No beat for 4 s: "a" (period 1 s) stalls, "b" (no period) does not.
        let st = parts.observe_at(9_000_000_000, t0 + Duration::from_secs(5));
        assert_eq!(st[0].state, PartState::Stalled);
        assert_eq!(st[0].last_heartbeat_ns, Some(5_000_000_000));
        assert_eq!(st[1].state, PartState::Running);
        a.beat();
        let st = parts.observe_at(10_000_000_000, t0 + Duration::from_secs(6));
        assert_eq!(st[0].state, PartState::Running);
        a.restarting("gone");
        let st = parts.observe_at(11_000_000_000, t0 + Duration::from_secs(7));
        assert_eq!(st[0].state, PartState::Restarting);
        assert_eq!(st[0].last_error.as_deref(), Some("gone"));
        a.restarted();
        let st = parts.observe_at(11_000_000_000, t0 + Duration::from_secs(7));
        assert_eq!((st[0].state, st[0].restarts), (PartState::Running, 1));
    }
}
