//! The health rules: EXE / WARN / FAIL per client, in the words the
//! head-end operators already use for meter syncs.
//!
//! - FAIL (expected clients only): not seen for more than 1.5 × its
//!   interval (Windows Time's own rule for declaring a source
//!   unsynchronized), or never seen 1.5 × its interval after start.
//! - WARN: estimated offset beyond tolerance, irregular polling, mode 1
//!   (symmetric active) where mode 3 is expected, NTP version 1 or 2
//!   (Windows Time speaks 3, so 3 is not "old"), a KoD RATE within the
//!   last two intervals.
//! - EXE otherwise (an unknown offset is not a fault: chrony hides its
//!   clock on purpose).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum WatchState {
    #[default]
    #[serde(rename = "EXE")]
    Exe,
    #[serde(rename = "WARN")]
    Warn,
    #[serde(rename = "FAIL")]
    Fail,
}

impl WatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            WatchState::Exe => "EXE",
            WatchState::Warn => "WARN",
            WatchState::Fail => "FAIL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchReason {
    OffsetBeyondTolerance,
    IrregularPolling,
    SymmetricActive,
    OldVersion,
    RateLimited,
    NotSeen,
    NeverSeen,
}

impl WatchReason {
    pub fn as_str(self) -> &'static str {
        match self {
            WatchReason::OffsetBeyondTolerance => "offset_beyond_tolerance",
            WatchReason::IrregularPolling => "irregular_polling",
            WatchReason::SymmetricActive => "symmetric_active",
            WatchReason::OldVersion => "old_version",
            WatchReason::RateLimited => "rate_limited",
            WatchReason::NotSeen => "not_seen",
            WatchReason::NeverSeen => "never_seen",
        }
    }
}

/// Interval assumed for the never-seen grace of a client whose interval is
/// to be learned (Windows Time's default poll is 1024 s at most in a domain
/// before its special poll settings).
pub const UNLEARNED_INTERVAL_NS: i64 = 1024 * crate::time::NS_PER_SEC;

/// What the rules look at for one client.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub expected: bool,
    pub now_ns: i64,
    pub start_ns: i64,
    pub last_seen_ns: Option<i64>,
    /// Interval the FAIL deadline is measured in.
    pub deadline_interval_ns: i64,
    pub irregular: bool,
    pub mode: Option<u8>,
    pub version: Option<u8>,
    pub last_kod_ns: Option<i64>,
    pub offset_ns: Option<i64>,
    pub tolerance_ns: i64,
}

/// The state and every reason that holds, most serious first.
pub fn judge(f: &Facts) -> (WatchState, Vec<WatchReason>) {
    let limit = f
        .deadline_interval_ns
        .saturating_add(f.deadline_interval_ns / 2);
    if f.expected {
        match f.last_seen_ns {
            None if f.now_ns.saturating_sub(f.start_ns) > limit => {
                return (WatchState::Fail, vec![WatchReason::NeverSeen]);
            }
            Some(t) if f.now_ns.saturating_sub(t) > limit => {
                return (WatchState::Fail, vec![WatchReason::NotSeen]);
            }
            _ => {}
        }
    }
    let mut reasons = Vec::new();
    if f.offset_ns
        .is_some_and(|o| o.unsigned_abs() > f.tolerance_ns.unsigned_abs())
    {
        reasons.push(WatchReason::OffsetBeyondTolerance);
    }
    if f.irregular {
        reasons.push(WatchReason::IrregularPolling);
    }
    if f.mode == Some(1) {
        reasons.push(WatchReason::SymmetricActive);
    }
    if f.version.is_some_and(|v| v < 3) {
        reasons.push(WatchReason::OldVersion);
    }
    if f.last_kod_ns
        .is_some_and(|k| f.now_ns.saturating_sub(k) < f.deadline_interval_ns.saturating_mul(2))
    {
        reasons.push(WatchReason::RateLimited);
    }
    if reasons.is_empty() {
        (WatchState::Exe, reasons)
    } else {
        (WatchState::Warn, reasons)
    }
}
