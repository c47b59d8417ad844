//! Work refused or cut at a bound (connection slots, request rates), counted
//! where it happens and shown in the status under `drops`, so an operator
//! sees that a limit was hit instead of guessing from a client's error.
//!
//! A neutral module: the control socket and the web server count into it,
//! the status composer reads it. Counting is one relaxed atomic add; the
//! counters only grow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Which bound was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    /// An idle control connection closed to make room for a new one.
    ControlIdleShed,
    /// A control connection refused: every slot was answering a request.
    ControlRefused,
    /// An HTTP connection closed at accept: the connection limit was reached.
    HttpRefused,
    /// An HTTP request answered 429 by the per-client rate limit.
    HttpRateLimited,
}

/// The counters, shared by every part that sheds (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Sheds(Arc<[AtomicU64; 4]>);

/// The counters' values at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShedCounts {
    pub control_idle_shed: u64,
    pub control_refused: u64,
    pub http_refused: u64,
    pub http_rate_limited: u64,
}

impl Sheds {
    pub fn hit(&self, what: Shed) {
        self.0[what as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn counts(&self) -> ShedCounts {
        let c = |s: Shed| self.0[s as usize].load(Ordering::Relaxed);
        ShedCounts {
            control_idle_shed: c(Shed::ControlIdleShed),
            control_refused: c(Shed::ControlRefused),
            http_refused: c(Shed::HttpRefused),
            http_rate_limited: c(Shed::HttpRateLimited),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bound_counts_on_its_own_and_clones_share_counters() {
        let s = Sheds::default();
        let t = s.clone();
        s.hit(Shed::ControlIdleShed);
        t.hit(Shed::ControlIdleShed);
        t.hit(Shed::HttpRateLimited);
        assert_eq!(
            s.counts(),
            ShedCounts {
                control_idle_shed: 2,
                control_refused: 0,
                http_refused: 0,
                http_rate_limited: 1,
            }
        );
    }
}
