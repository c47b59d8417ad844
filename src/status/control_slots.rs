//! Connection slots of the control socket: a fixed number of connections,
//! and when all are taken a new one takes the slot of the connection that
//! has been idle longest. Idle clients (or 300 of them opened on purpose)
//! can then never lock an operator's `status` out: they are shed in the
//! order they stopped talking, while a connection in the middle of a request
//! is never cut.

use crate::sheds::{Shed, Sheds};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Debug)]
struct Entry {
    /// Waiting for a request line since this sequence number; `None` while
    /// a request is being answered.
    idle_since: Option<u64>,
    shed: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<u64, Entry>,
    next_id: u64,
    /// Orders idle periods without reading a clock.
    seq: u64,
}

/// Shared by the accept loop and the connection tasks.
#[derive(Debug, Clone)]
pub struct Slots {
    capacity: usize,
    table: Arc<Mutex<Table>>,
    /// Sheds and refusals, shown in the status under `drops`.
    sheds: Sheds,
}

/// One connection's slot; frees itself when dropped.
#[derive(Debug)]
pub struct Slot {
    id: u64,
    table: Arc<Mutex<Table>>,
    /// Fires when a newer connection took this one's place.
    pub shed: Arc<Notify>,
}

impl Slots {
    pub fn new(capacity: usize, sheds: Sheds) -> Self {
        Self {
            capacity: capacity.max(1),
            table: Arc::default(),
            sheds,
        }
    }

    /// A slot for a new connection (idle until it reads), shedding the
    /// longest-idle one when full; `None` when every slot is mid-request.
    pub fn admit(&self) -> Option<Slot> {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if t.entries.len() >= self.capacity {
            let oldest = t
                .entries
                .iter()
                .filter_map(|(&id, e)| e.idle_since.map(|s| (s, id)))
                .min()
                .map(|(_, id)| id);
            let Some(oldest) = oldest else {
                self.sheds.hit(Shed::ControlRefused);
                return None;
            };
            if let Some(e) = t.entries.remove(&oldest) {
                e.shed.notify_one();
                self.sheds.hit(Shed::ControlIdleShed);
            }
        }
        let id = t.next_id;
        t.next_id += 1;
        t.seq += 1;
        let shed = Arc::new(Notify::new());
        let idle_since = Some(t.seq);
        t.entries.insert(
            id,
            Entry {
                idle_since,
                shed: shed.clone(),
            },
        );
        Some(Slot {
            id,
            table: self.table.clone(),
            shed,
        })
    }
}

impl Slot {
    /// Mark the connection idle (waiting for a line) or busy (answering).
    pub fn set_idle(&self, idle: bool) {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        t.seq += 1;
        let seq = t.seq;
        if let Some(e) = t.entries.get_mut(&self.id) {
            e.idle_since = idle.then_some(seq);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        t.entries.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_table_sheds_the_longest_idle_never_a_busy_one() {
        let sheds = Sheds::default();
        let slots = Slots::new(2, sheds.clone());
        let a = slots.admit().unwrap();
        let b = slots.admit().unwrap();
        b.set_idle(false);
        a.set_idle(true);
        // Full: a is idle (b busy), so a goes.
        let c = slots.admit().unwrap();
        assert_eq!(sheds.counts().control_idle_shed, 1);
        c.set_idle(false);
        // Both remaining busy: a newcomer is refused, and counted.
        assert!(slots.admit().is_none());
        assert_eq!(sheds.counts().control_refused, 1);
        assert_eq!(sheds.counts().control_idle_shed, 1);
        drop(b);
        assert!(slots.admit().is_some());
        drop(a);
    }

    #[tokio::test]
    async fn shed_connection_is_woken() {
        let slots = Slots::new(1, Sheds::default());
        let a = slots.admit().unwrap();
        let _b = slots.admit().unwrap();
        // The permit is stored: a task that starts waiting later still wakes.
        tokio::time::timeout(std::time::Duration::from_secs(1), a.shed.notified())
            .await
            .expect("shed notified");
    }
}
