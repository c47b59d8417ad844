//! The antenna page's "longest period without a fix", from `fix.state`
//! events (pure: the events and the time come in, the period goes out).

use serde::Serialize;

/// Fix spellings that mean no position (the event's `fix`).
pub fn is_no_fix(fix: &str) -> bool {
    matches!(fix, "none" | "no_fix")
}

/// The longest period without a fix inside the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NoFixPeriod {
    pub from_ns: i64,
    /// `None`: still without a fix.
    pub to_ns: Option<i64>,
    pub duration_ns: i64,
}

/// `changes`: (time, has_fix) oldest first, all inside the window. A period
/// counts from a change to no fix until the next change to a fix, or until
/// `now_ns` when none followed. Before the first change the state is not
/// known and is not counted (the daemon may not have been running).
pub fn longest_without_fix(changes: &[(i64, bool)], now_ns: i64) -> Option<NoFixPeriod> {
    let mut best: Option<NoFixPeriod> = None;
    let mut lost_at: Option<i64> = None;
    let mut consider = |from: i64, to: Option<i64>| {
        let d = to.unwrap_or(now_ns).saturating_sub(from).max(0);
        if best.is_none_or(|b| d > b.duration_ns) {
            best = Some(NoFixPeriod {
                from_ns: from,
                to_ns: to,
                duration_ns: d,
            });
        }
    };
    for &(t, has_fix) in changes {
        match (has_fix, lost_at) {
            (false, None) => lost_at = Some(t),
            (true, Some(from)) => {
                consider(from, Some(t));
                lost_at = None;
            }
            _ => {}
        }
    }
    if let Some(from) = lost_at {
        consider(from, None);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_closed_or_ongoing_gap() {
        assert_eq!(longest_without_fix(&[], 100), None);
        assert_eq!(longest_without_fix(&[(10, true)], 100), None);
        let changes = [
            (10, false),
            (20, true),
            (30, false),
            (31, false),
            (70, true),
            (90, false),
        ];
        assert_eq!(
            longest_without_fix(&changes, 100),
            Some(NoFixPeriod {
                from_ns: 30,
                to_ns: Some(70),
                duration_ns: 40
            })
        );
        assert_eq!(
            longest_without_fix(&changes, 200),
            Some(NoFixPeriod {
                from_ns: 90,
                to_ns: None,
                duration_ns: 110
            })
        );
        assert!(is_no_fix("none") && is_no_fix("no_fix") && !is_no_fix("3d"));
    }
}
