//! PPS sources: `/dev/ppsN` (RFC 2783), a GPIO line through gpio-cdev, or the
//! simulator. All yield the same `PpsEdge`.

use serde::Serialize;

/// One captured pulse edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PpsEdge {
    /// Local (system realtime, or simulated clock) timestamp of the edge, ns.
    pub local_ns: i64,
    /// Kernel or source sequence number.
    pub sequence: u64,
}

/// PPS view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PpsStatus {}
