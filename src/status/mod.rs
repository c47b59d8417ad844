//! One snapshot of the truth. Every interface (CLI `status`, web, SNMP, metrics)
//! renders this same value; none computes its own version of the state.

pub mod client;
pub mod control;
mod control_slots;
mod server_fields;
pub mod summary;

pub use server_fields::{LeapIndicator, ServerFields, ServerFieldsCell};

use serde::Serialize;

/// Everything a user can see, published on a `tokio::sync::watch`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    /// When this snapshot was made (UTC ns, from the served clock).
    pub generated_at_ns: i64,
    pub version: String,
    pub receiver: crate::gnss::ReceiverStatus,
    pub serial: crate::gnss::SerialStatus,
    pub pps: crate::pps::PpsStatus,
    pub discipline: crate::discipline::DisciplineStatus,
    pub ntp: crate::ntp::NtpStatus,
    pub store: crate::store::StoreStatus,
}

pub type SnapshotTx = tokio::sync::watch::Sender<Snapshot>;
pub type SnapshotRx = tokio::sync::watch::Receiver<Snapshot>;

/// A fresh publication channel holding a default snapshot.
pub fn channel() -> (SnapshotTx, SnapshotRx) {
    let snap = Snapshot {
        version: env!("CARGO_PKG_VERSION").to_string(),
        ..Snapshot::default()
    };
    tokio::sync::watch::channel(snap)
}
