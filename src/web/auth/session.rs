//! Logged-in sessions. Sans-IO: tokens are made by the caller (from the OS
//! random source) and time is passed in as monotonic nanoseconds.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Admin,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "admin" => Ok(Role::Admin),
            _ => Err(format!("unknown role `{s}` (viewer or admin)")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// Sent back in the `X-CSRF-Token` header of every change.
    pub csrf: String,
    created_ns: i64,
    last_seen_ns: i64,
}

/// A session ends after this long without a request…
const IDLE_NS: i64 = 30 * 60 * 1_000_000_000;
/// …and after this long in any case.
const MAX_AGE_NS: i64 = 12 * 3600 * 1_000_000_000;
/// Open sessions at most; the least recently used goes first.
const MAX_SESSIONS: usize = 256;

#[derive(Debug, Default)]
pub struct Sessions {
    by_token: HashMap<String, Session>,
}

impl Sessions {
    pub fn create(&mut self, token: String, csrf: String, user: &str, role: Role, now_ns: i64) {
        self.expire(now_ns);
        if self.by_token.len() >= MAX_SESSIONS {
            if let Some(oldest) = self
                .by_token
                .iter()
                .min_by_key(|(_, s)| s.last_seen_ns)
                .map(|(t, _)| t.clone())
            {
                self.by_token.remove(&oldest);
            }
        }
        self.by_token.insert(
            token,
            Session {
                user: user.to_string(),
                role,
                csrf,
                created_ns: now_ns,
                last_seen_ns: now_ns,
            },
        );
    }

    /// The live session of `token`, refreshed; `None` when unknown or expired.
    pub fn get(&mut self, token: &str, now_ns: i64) -> Option<Session> {
        let s = self.by_token.get_mut(token)?;
        if now_ns - s.last_seen_ns >= IDLE_NS || now_ns - s.created_ns >= MAX_AGE_NS {
            self.by_token.remove(token);
            return None;
        }
        s.last_seen_ns = now_ns;
        Some(s.clone())
    }

    pub fn remove(&mut self, token: &str) {
        self.by_token.remove(token);
    }

    /// End every session of `user` (after a password change).
    pub fn remove_user(&mut self, user: &str) {
        self.by_token.retain(|_, s| s.user != user);
    }

    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }

    fn expire(&mut self, now_ns: i64) {
        self.by_token
            .retain(|_, s| now_ns - s.last_seen_ns < IDLE_NS && now_ns - s.created_ns < MAX_AGE_NS);
    }
}

/// Compare secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60 * 1_000_000_000;

    #[test]
    fn idle_and_absolute_expiry() {
        let mut s = Sessions::default();
        s.create("t".into(), "c".into(), "admin", Role::Admin, 0);
        assert_eq!(s.get("t", 29 * MIN).unwrap().role, Role::Admin);
        // Kept alive by use, but not beyond the absolute limit.
        let mut now = 29 * MIN;
        while now < 12 * 60 * MIN - 20 * MIN {
            now += 20 * MIN;
            assert!(s.get("t", now).is_some(), "alive at {now}");
        }
        assert!(s.get("t", 12 * 60 * MIN).is_none());
        s.create("u".into(), "c".into(), "v", Role::Viewer, 0);
        assert!(s.get("u", 31 * MIN).is_none(), "idle for 31 min");
        assert!(s.is_empty());
    }

    #[test]
    fn bounded_and_per_user_removal() {
        let mut s = Sessions::default();
        for i in 0..(MAX_SESSIONS + 5) {
            s.create(format!("t{i}"), "c".into(), "admin", Role::Admin, i as i64);
        }
        assert_eq!(s.len(), MAX_SESSIONS);
        assert!(s.get("t0", 10).is_none(), "least recently used went first");
        s.create("x".into(), "c".into(), "other", Role::Viewer, 10);
        s.remove_user("admin");
        assert_eq!(s.len(), 1);
        assert!(s.get("x", 11).is_some());
    }

    #[test]
    fn secrets_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
