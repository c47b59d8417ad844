//! Request and login throttles. Sans-IO: the caller passes monotonic time in
//! nanoseconds, so the rules are tested without sleeping.

use std::collections::HashMap;
use std::net::IpAddr;

/// Clients tracked at once; beyond this, idle buckets are dropped and new
/// addresses wait until there is room (a flood of spoofed sources must not
/// grow memory).
const MAX_CLIENTS: usize = 4096;

/// The address a limit applies to: IPv6 clients are grouped by /64, which is
/// what one host usually owns.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// A token bucket per client address: `rate` requests per second, bursts of
/// twice that.
#[derive(Debug)]
pub struct RateLimiter {
    rate_per_ns: f64,
    burst: f64,
    buckets: HashMap<IpAddr, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ns: i64,
}

impl RateLimiter {
    pub fn new(rate_per_s: u32) -> Self {
        let rate = f64::from(rate_per_s.max(1));
        Self {
            rate_per_ns: rate / 1e9,
            burst: 2.0 * rate,
            buckets: HashMap::new(),
        }
    }

    /// Whether a request from `ip` at `now_ns` may go through (and count it).
    pub fn allow(&mut self, ip: IpAddr, now_ns: i64) -> bool {
        let key = client_key(ip);
        if !self.buckets.contains_key(&key) && self.buckets.len() >= MAX_CLIENTS {
            self.forget_full(now_ns);
            if self.buckets.len() >= MAX_CLIENTS {
                return false;
            }
        }
        let (rate, burst) = (self.rate_per_ns, self.burst);
        let b = self.buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            last_ns: now_ns,
        });
        let elapsed = now_ns.saturating_sub(b.last_ns).max(0) as f64;
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.last_ns = now_ns;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Drop buckets that have refilled: they carry no information.
    fn forget_full(&mut self, now_ns: i64) {
        let (rate, burst) = (self.rate_per_ns, self.burst);
        self.buckets.retain(|_, b| {
            b.tokens + now_ns.saturating_sub(b.last_ns).max(0) as f64 * rate < burst
        });
    }

    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

/// Failed logins tolerated before the waiting starts.
const FREE_FAILURES: u32 = 3;
/// Longest wait imposed after repeated failures.
const MAX_WAIT_NS: i64 = 300_000_000_000;
/// Failures are forgotten after this long without a new one.
const FORGET_NS: i64 = 900_000_000_000;

/// Login throttle per key (client address and user name are both keys, so
/// neither spreading over addresses nor over names helps a guesser): after
/// a few failures each attempt must wait 1 s, 2 s, 4 s … up to 5 min.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    keys: HashMap<String, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last_ns: i64,
}

impl LoginThrottle {
    /// `Err(seconds to wait)` when an attempt for `key` is not allowed yet.
    pub fn check(&self, key: &str, now_ns: i64) -> Result<(), u64> {
        let Some(f) = self.keys.get(key) else {
            return Ok(());
        };
        let wait = Self::wait_ns(f.count);
        let ready = f.last_ns.saturating_add(wait);
        if now_ns >= ready || now_ns - f.last_ns >= FORGET_NS {
            Ok(())
        } else {
            Err(((ready - now_ns) as u64).div_ceil(1_000_000_000))
        }
    }

    pub fn failure(&mut self, key: &str, now_ns: i64) {
        if self.keys.len() >= MAX_CLIENTS && !self.keys.contains_key(key) {
            self.keys.retain(|_, f| now_ns - f.last_ns < FORGET_NS);
        }
        let f = self.keys.entry(key.to_string()).or_insert(Failures {
            count: 0,
            last_ns: now_ns,
        });
        if now_ns - f.last_ns >= FORGET_NS {
            f.count = 0;
        }
        f.count = f.count.saturating_add(1);
        f.last_ns = now_ns;
    }

    pub fn success(&mut self, key: &str) {
        self.keys.remove(key);
    }

    fn wait_ns(count: u32) -> i64 {
        if count < FREE_FAILURES {
            return 0;
        }
        let shift = (count - FREE_FAILURES).min(16);
        (1_000_000_000i64 << shift).min(MAX_WAIT_NS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn bucket_allows_burst_then_rate() {
        let mut l = RateLimiter::new(10);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let allowed = (0..100).filter(|_| l.allow(ip, 0)).count();
        assert_eq!(allowed, 20, "burst of twice the rate");
        // Half a second later: five more tokens.
        let allowed = (0..100).filter(|_| l.allow(ip, S / 2)).count();
        assert_eq!(allowed, 5);
        // Another address has its own bucket.
        assert!(l.allow("192.0.2.2".parse().unwrap(), S / 2));
    }

    #[test]
    fn ipv6_grouped_by_prefix() {
        let mut l = RateLimiter::new(1);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        assert!(l.allow(a, 0));
        assert!(l.allow(b, 0));
        assert!(!l.allow(a, 0), "same /64 shares the bucket");
        assert_eq!(l.tracked(), 1);
    }

    #[test]
    fn table_stays_bounded() {
        let mut l = RateLimiter::new(1);
        for i in 0..(MAX_CLIENTS as u32 + 10) {
            l.allow(IpAddr::from(i.to_be_bytes()), 0);
        }
        assert_eq!(l.tracked(), MAX_CLIENTS);
        // Much later every bucket is full again and is forgotten for a newcomer.
        assert!(l.allow("198.51.100.1".parse().unwrap(), 100 * S));
        assert!(l.tracked() < MAX_CLIENTS);
    }

    #[test]
    fn login_waits_grow_after_failures_and_reset_on_success() {
        let mut t = LoginThrottle::default();
        for _ in 0..FREE_FAILURES {
            assert!(t.check("ip", 0).is_ok());
            t.failure("ip", 0);
        }
        assert_eq!(t.check("ip", 0), Err(1));
        assert!(t.check("ip", S).is_ok());
        t.failure("ip", S);
        assert_eq!(t.check("ip", S), Err(2));
        for _ in 0..40 {
            t.failure("ip", S);
        }
        assert_eq!(t.check("ip", S), Err(300), "capped at five minutes");
        t.success("ip");
        assert!(t.check("ip", S).is_ok());
    }

    #[test]
    fn login_failures_forgotten_after_quiet_period() {
        let mut t = LoginThrottle::default();
        for _ in 0..10 {
            t.failure("u", 0);
        }
        assert!(t.check("u", 0).is_err());
        assert!(t.check("u", FORGET_NS).is_ok());
        t.failure("u", FORGET_NS);
        assert!(t.check("u", FORGET_NS).is_ok(), "count restarted at one");
    }
}
