//! Retry delays that double per failure up to a cap and start over after a
//! success: one policy for every part that reconnects or restarts (serial
//! reopen, PPS reopen, AgentX reconnect, supervised task restart). Sans-IO:
//! it only computes delays; the caller sleeps and decides what "success" is.

use std::time::Duration;

/// Delays: `initial`, doubling per failure up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max }
    }

    /// A fresh sequence of delays under this policy.
    pub fn delays(self) -> Delays {
        Delays {
            policy: self,
            next: self.first(),
        }
    }

    /// The first delay; never above the cap, even when misconfigured.
    fn first(&self) -> Duration {
        self.initial.min(self.max)
    }
}

/// Where a retry sequence stands: the delay to wait at the next failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delays {
    policy: Backoff,
    next: Duration,
}

impl Delays {
    /// A failure happened: the delay to wait now; the one after doubles.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = d.saturating_mul(2).min(self.policy.max);
        d
    }

    /// A success happened: the next failure waits `initial` again.
    pub fn reset(&mut self) {
        self.next = self.policy.first();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: &mut Delays, n: usize) -> Vec<u64> {
        (0..n).map(|_| d.next_delay().as_secs()).collect()
    }

    #[test]
    fn doubles_caps_and_resets() {
        let mut d = Backoff::new(Duration::from_secs(1), Duration::from_secs(8)).delays();
        assert_eq!(secs(&mut d, 6), vec![1, 2, 4, 8, 8, 8]);
        d.reset();
        assert_eq!(secs(&mut d, 2), vec![1, 2]);
    }

    #[test]
    fn cap_need_not_be_a_power_of_two_of_initial() {
        let b = Backoff::new(Duration::from_millis(50), Duration::from_millis(300));
        let mut d = b.delays();
        let ms: Vec<u128> = (0..5).map(|_| d.next_delay().as_millis()).collect();
        assert_eq!(ms, vec![50, 100, 200, 300, 300]);
    }

    #[test]
    fn initial_above_cap_is_capped() {
        let b = Backoff::new(Duration::from_secs(10), Duration::from_secs(3));
        assert_eq!(secs(&mut b.delays(), 2), vec![3, 3]);
    }

    #[test]
    fn huge_delays_do_not_overflow() {
        let b = Backoff::new(Duration::MAX / 2 + Duration::from_secs(1), Duration::MAX);
        let mut d = b.delays();
        d.next_delay();
        assert_eq!(d.next_delay(), Duration::MAX);
    }
}
