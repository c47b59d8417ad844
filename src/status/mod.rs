//! One snapshot of the truth. Every interface (CLI `status`, web, SNMP, metrics)
//! renders this same value; none computes its own version of the state.
//!
//! Parts write their own sub-struct into a draft ([`Publisher::send_modify`]);
//! the snapshot users see is composed in one place ([`Publisher::compose`],
//! once a second and at once on a state transition), stamped with the served
//! clock, with the served NTP fields, the parts' liveness and the uptime
//! filled in there. Serialized field names and enum values are snake_case;
//! unknown values are `null`, never 0. `docs/status.schema.json` describes it.

pub mod client;
pub mod control;
mod control_slots;
mod publisher;
pub mod snmp_counters;
pub mod summary;

pub use crate::server_fields::{LeapIndicator, ServerFields, ServerFieldsCell};
pub use publisher::{ComposeContext, Publisher};

use crate::liveness::PartStatus;
use serde::Serialize;

/// Bumped when a field changes meaning or goes away (adding one does not).
pub const SCHEMA_VERSION: u32 = 1;

/// Everything a user can see, published on a `tokio::sync::watch`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    pub schema_version: u32,
    pub version: String,
    /// When this snapshot was composed (UTC ns on the served clock); null
    /// before the first composition.
    pub generated_at_ns: Option<i64>,
    /// Seconds since the daemon started.
    pub uptime_s: u64,
    /// What an NTP reply carries right now.
    pub served: ServedStatus,
    /// Every thread and task: state, last heartbeat, restarts, last error.
    pub parts: Vec<PartStatus>,
    /// Messages lost on internal channels.
    pub drops: ChannelDrops,
    pub receiver: crate::gnss::ReceiverStatus,
    pub serial: crate::gnss::SerialStatus,
    pub pps: crate::pps::PpsStatus,
    pub discipline: crate::discipline::DisciplineStatus,
    pub ntp: crate::ntp::NtpStatus,
    pub store: crate::store::StoreStatus,
    /// The SNMP subagent's notification counters; null when SNMP is off.
    pub snmp: Option<snmp_counters::NotificationCounts>,
}

/// The served NTP fields as a reply at `generated_at_ns` would carry them
/// (staleness and dispersion aging decided by the same code as the handler).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServedStatus {
    pub stratum: u8,
    /// RFC 5905 LI: 0 none, 1 insert, 2 delete, 3 unsynchronized.
    pub leap_indicator: u8,
    pub refid: String,
    pub root_delay_ns: u64,
    pub root_dispersion_ns: u64,
    /// Last servo update (UTC ns); null when never.
    pub reference_time_ns: Option<i64>,
    pub synchronized: bool,
    /// The timing loop stopped refreshing the fields (`[ntp] stale-after-s`).
    pub stale: bool,
}

impl Default for ServedStatus {
    fn default() -> Self {
        Self::of(&ServerFields::default(), 0, 0)
    }
}

impl ServedStatus {
    /// What a reply at `now_ns` carries, given the current fields.
    pub fn of(f: &ServerFields, now_ns: i64, stale_after_ns: i64) -> Self {
        let serving = f.serving_at(now_ns, stale_after_ns);
        Self {
            stratum: if serving { f.stratum.clamp(1, 15) } else { 16 },
            leap_indicator: if serving { f.leap as u8 } else { 3 },
            refid: f.refid_text(),
            root_delay_ns: f.root_delay_ns,
            root_dispersion_ns: f.dispersion_at(now_ns),
            reference_time_ns: (f.reference_time_ns != 0).then_some(f.reference_time_ns),
            synchronized: serving,
            stale: f.synchronized() && !serving,
        }
    }
}

/// Messages lost on internal channels and work refused at a bound (each a
/// counter since start). NTP's own refusals (rate KoDs, drops) are under
/// `ntp.counters`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelDrops {
    /// Events not queued to the store (queue full).
    pub events: u64,
    /// GNSS epochs the discipline task skipped (it fell behind the broadcast).
    pub gnss_epochs: u64,
    /// Idle control-socket connections closed to make room for new ones.
    pub control_idle_shed: u64,
    /// Control-socket connections refused: every slot was answering.
    pub control_refused: u64,
    /// HTTP connections closed at accept (connection limit).
    pub http_refused: u64,
    /// HTTP requests answered 429 by the per-client rate limit.
    pub http_rate_limited: u64,
}

impl ChannelDrops {
    pub fn set_sheds(&mut self, c: crate::sheds::ShedCounts) {
        self.control_idle_shed = c.control_idle_shed;
        self.control_refused = c.control_refused;
        self.http_refused = c.http_refused;
        self.http_rate_limited = c.http_rate_limited;
    }
}

pub type SnapshotTx = Publisher;
pub type SnapshotRx = tokio::sync::watch::Receiver<Snapshot>;

/// A fresh publisher holding an initial snapshot.
pub fn channel() -> (SnapshotTx, SnapshotRx) {
    let p = Publisher::new();
    let rx = p.subscribe();
    (p, rx)
}
