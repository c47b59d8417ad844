//! The SNMP subagent's notification counters, shared with the status composer
//! (`snmp` in the status JSON; null when SNMP is off). Written by the
//! subagent task after each change, read once a second; counters since
//! start, across reconnects.

use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// The values at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NotificationCounts {
    /// Notifications handed to snmpd.
    pub notifications_sent: u64,
    /// Notifications lost: queue full, expired in the queue, or snmpd had
    /// too many unanswered.
    pub notifications_dropped: u64,
    /// Notifications delivered late, after waiting for a session.
    pub notifications_queued: u64,
}

#[derive(Debug, Default)]
struct Inner {
    enabled: AtomicBool,
    sent: AtomicU64,
    dropped: AtomicU64,
    queued: AtomicU64,
}

/// Cheap to clone; every clone shares the counters.
#[derive(Debug, Clone, Default)]
pub struct SnmpCounters(Arc<Inner>);

impl SnmpCounters {
    /// SNMP is configured: the status shows the counters from now on.
    pub fn enable(&self) {
        self.0.enabled.store(true, Ordering::Relaxed);
    }

    pub fn set(&self, c: NotificationCounts) {
        self.0.sent.store(c.notifications_sent, Ordering::Relaxed);
        self.0
            .dropped
            .store(c.notifications_dropped, Ordering::Relaxed);
        self.0
            .queued
            .store(c.notifications_queued, Ordering::Relaxed);
    }

    /// None while SNMP is off.
    pub fn counts(&self) -> Option<NotificationCounts> {
        self.0
            .enabled
            .load(Ordering::Relaxed)
            .then(|| NotificationCounts {
                notifications_sent: self.0.sent.load(Ordering::Relaxed),
                notifications_dropped: self.0.dropped.load(Ordering::Relaxed),
                notifications_queued: self.0.queued.load(Ordering::Relaxed),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_until_enabled_and_clones_share_the_values() {
        let c = SnmpCounters::default();
        let seen = c.clone();
        c.set(NotificationCounts {
            notifications_sent: 3,
            notifications_dropped: 2,
            notifications_queued: 1,
        });
        assert_eq!(seen.counts(), None);
        c.enable();
        let got = seen.counts().unwrap_or_default();
        assert_eq!(
            (
                got.notifications_sent,
                got.notifications_dropped,
                got.notifications_queued
            ),
            (3, 2, 1)
        );
    }
}
