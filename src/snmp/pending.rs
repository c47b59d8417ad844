//! Notifications waiting for an AgentX session, sans-IO.
//!
//! The events that matter most (antenna open, receiver gone, lock lost)
//! often happen at boot before snmpd is up, or while snmpd restarts. They
//! wait here, in the order they were raised, and are delivered once a
//! session is open and registered. Bounded: at most [`CAPACITY`] wait (the
//! oldest goes first when full), and one older than [`MAX_AGE_NS`] at
//! delivery is discarded — a trap about a state long gone misleads more
//! than it tells. Every discard counts as lost.

use super::codec::VarBind;
use std::collections::VecDeque;

/// Most notifications kept while no session is open.
pub const CAPACITY: usize = 64;
/// Older than this at delivery: discarded (10 minutes).
pub const MAX_AGE_NS: i64 = 600_000_000_000;

/// One notification and when it was raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub raised_ns: i64,
    pub varbinds: Vec<VarBind>,
}

#[derive(Debug, Default)]
pub struct Pending {
    queue: VecDeque<Queued>,
    /// Notifications lost: the queue was full, or they expired in it.
    pub notifications_dropped: u64,
    /// Notifications delivered late, after waiting here for a session.
    pub notifications_queued: u64,
}

impl Pending {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Keep a notification raised at `raised_ns`; when full, the oldest is
    /// dropped (counted) to make room.
    pub fn push(&mut self, varbinds: Vec<VarBind>, raised_ns: i64) {
        if self.queue.len() >= CAPACITY {
            self.queue.pop_front();
            self.notifications_dropped += 1;
        }
        self.queue.push_back(Queued {
            raised_ns,
            varbinds,
        });
    }

    /// Everything to deliver now, oldest first; the expired ones are
    /// discarded and counted. The caller reports the ones it could not hand
    /// over with [`Pending::lost`].
    pub fn take(&mut self, now_ns: i64) -> Vec<Queued> {
        let all: Vec<Queued> = self.queue.drain(..).collect();
        let before = all.len();
        let fresh: Vec<Queued> = all
            .into_iter()
            .filter(|q| now_ns.saturating_sub(q.raised_ns) <= MAX_AGE_NS)
            .collect();
        self.notifications_dropped += (before - fresh.len()) as u64;
        self.notifications_queued += fresh.len() as u64;
        fresh
    }

    /// Taken notifications the session refused after all.
    pub fn lost(&mut self, n: u64) {
        self.notifications_dropped += n;
        self.notifications_queued = self.notifications_queued.saturating_sub(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmp::codec::Value;
    use crate::snmp::Oid;

    const S: i64 = 1_000_000_000;

    fn n(i: u32) -> Vec<VarBind> {
        vec![VarBind {
            name: Oid::new(&[1, 3, 6, 1, 4, 1, 32473, 0, i]),
            value: Value::Integer(i as i32),
        }]
    }

    fn ids(q: &[Queued]) -> Vec<i64> {
        q.iter()
            .map(|q| match q.varbinds[0].value {
                Value::Integer(i) => i64::from(i),
                _ => -1,
            })
            .collect()
    }

    #[test]
    fn delivered_in_the_order_raised_with_their_times() {
        let mut p = Pending::new();
        p.push(n(1), 10 * S);
        p.push(n(2), 11 * S);
        p.push(n(3), 12 * S);
        assert_eq!(p.len(), 3);
        let out = p.take(20 * S);
        assert_eq!(ids(&out), vec![1, 2, 3]);
        assert_eq!(
            out.iter().map(|q| q.raised_ns).collect::<Vec<_>>(),
            vec![10 * S, 11 * S, 12 * S]
        );
        assert!(p.is_empty());
        assert_eq!(p.notifications_queued, 3);
        assert_eq!(p.notifications_dropped, 0);
        // Taken once: a second session gets nothing again.
        assert!(p.take(21 * S).is_empty());
        assert_eq!(p.notifications_queued, 3);
    }

    #[test]
    fn when_full_the_oldest_go_first_and_count_as_lost() {
        let mut p = Pending::new();
        for i in 0..(CAPACITY as u32 + 5) {
            p.push(n(i), i64::from(i) * S);
        }
        assert_eq!(p.len(), CAPACITY);
        assert_eq!(p.notifications_dropped, 5);
        let out = p.take(100 * S);
        let want: Vec<i64> = (5..CAPACITY as i64 + 5).collect();
        assert_eq!(ids(&out), want);
        assert_eq!(p.notifications_queued, CAPACITY as u64);
        assert_eq!(p.notifications_dropped, 5);
    }

    #[test]
    fn older_than_ten_minutes_at_delivery_is_discarded_and_counted() {
        let mut p = Pending::new();
        p.push(n(1), 0);
        p.push(n(2), 100 * S);
        p.push(n(3), 500 * S);
        // At 700 s: #1 is 700 s old (gone), #2 exactly 600 s (kept), #3 kept.
        let out = p.take(700 * S);
        assert_eq!(ids(&out), vec![2, 3]);
        assert_eq!(p.notifications_dropped, 1);
        assert_eq!(p.notifications_queued, 2);
    }

    #[test]
    fn age_is_judged_when_the_session_opens_not_when_raised() {
        let mut p = Pending::new();
        p.push(n(1), 0);
        // Ten minutes pass with no session; nothing is discarded meanwhile.
        assert_eq!(p.notifications_dropped, 0);
        assert_eq!(p.len(), 1);
        assert_eq!(ids(&p.take(MAX_AGE_NS + 1)), Vec::<i64>::new());
        assert_eq!(p.notifications_dropped, 1);
    }

    #[test]
    fn refused_after_taking_moves_from_queued_to_lost() {
        let mut p = Pending::new();
        p.push(n(1), 0);
        p.push(n(2), 0);
        assert_eq!(p.take(S).len(), 2);
        p.lost(1);
        assert_eq!(p.notifications_queued, 1);
        assert_eq!(p.notifications_dropped, 1);
    }
}
