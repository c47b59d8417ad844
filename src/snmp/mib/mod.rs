//! The snapshot as SNMP objects: NTPv4-MIB (RFC 5907) and our enterprise
//! GNSS-TIMESERVER-MIB (`board/mibs/`). Pure functions of the snapshot's JSON
//! (the contract every interface renders), so a field other parts add later
//! shows up here by name, and an unknown value (`null`) is left out of the
//! table (a walk skips it) instead of being served as 0.

mod gnss;
mod ntpv4;

use super::codec::Value;
use super::oid::Oid;
use super::table::MibTable;
use serde_json::Value as Json;

/// Placeholder private enterprise number: 32473 is reserved for
/// documentation and examples (RFC 5612). Change it here and in
/// `board/mibs/GNSS-TIMESERVER-MIB.txt` once a PEN is assigned.
pub const ENTERPRISE: u32 = 32473;

/// `enterprises.ENTERPRISE`: the GNSS-TIMESERVER-MIB module.
pub fn gnss_root() -> Oid {
    Oid::new(&[1, 3, 6, 1, 4, 1, ENTERPRISE])
}

/// `mib-2.197`: NTPv4-MIB.
pub fn ntp_root() -> Oid {
    Oid::new(&[1, 3, 6, 1, 2, 1, 197])
}

pub use gnss::{
    gnss_notification, gnss_notification_with, notif_text_oid, snmp_trap_oid, GnssNotif,
    NotifObject,
};
pub(crate) use gnss::{list_text, WATCH_STATE};
pub(crate) use ntpv4::ms_text;

/// Leap pending code of the enterprise MIB: 1 none, 2 insert, 3 delete.
pub fn leap_pending_code(j: &Json) -> i64 {
    gnss::leap_pending(j).0
}
pub use ntpv4::{ntp_notification, NtpNotif};

/// What the tables need besides the snapshot.
#[derive(Debug, Clone, Copy, Default)]
pub struct MibContext {
    /// Daemon uptime in hundredths of a second.
    pub uptime_ticks: u32,
    /// Notifications sent since start (ntpEntStatusNotifications).
    pub notifications_sent: u64,
    /// ntpEntHeartbeatInterval, s (0: no heartbeat).
    pub heartbeat_interval_s: u32,
}

/// Both MIBs' objects for one snapshot.
pub fn build(snap: &Json, ctx: &MibContext) -> MibTable {
    let mut rows = Vec::with_capacity(256);
    gnss::rows(snap, ctx, &mut Rows::new(gnss_root(), &mut rows));
    ntpv4::rows(snap, ctx, &mut Rows::new(ntp_root(), &mut rows));
    MibTable::new(rows)
}

/// Appends rows under a root; `None` values are skipped (unknown ≠ 0).
pub(crate) struct Rows<'a> {
    root: Oid,
    out: &'a mut Vec<(Oid, Value)>,
}

impl<'a> Rows<'a> {
    fn new(root: Oid, out: &'a mut Vec<(Oid, Value)>) -> Self {
        Rows { root, out }
    }

    pub fn put(&mut self, sub: &[u32], v: Option<Value>) {
        if let Some(v) = v {
            self.out.push((self.root.child(sub), v));
        }
    }
}

/// Typed reads from the snapshot JSON by pointer (`/discipline/state`).
pub(crate) fn at<'a>(j: &'a Json, ptr: &str) -> Option<&'a Json> {
    j.pointer(ptr).filter(|v| !v.is_null())
}

pub(crate) fn f64_at(j: &Json, ptr: &str) -> Option<f64> {
    at(j, ptr)?.as_f64().filter(|v| v.is_finite())
}

pub(crate) fn i64_at(j: &Json, ptr: &str) -> Option<i64> {
    let v = at(j, ptr)?;
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite())
            .map(|f| f.round() as i64)
    })
}

pub(crate) fn str_at<'a>(j: &'a Json, ptr: &str) -> Option<&'a str> {
    at(j, ptr)?.as_str()
}

pub(crate) fn bool_at(j: &Json, ptr: &str) -> Option<bool> {
    at(j, ptr)?.as_bool()
}

/// Integer32, saturated.
pub(crate) fn int(v: i64) -> Value {
    Value::Integer(v.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
}

/// Gauge32 / Unsigned32, saturated at both ends.
pub(crate) fn gauge(v: i64) -> Value {
    Value::Gauge32(v.clamp(0, u32::MAX as i64) as u32)
}

pub(crate) fn counter64(v: i64) -> Value {
    Value::Counter64(v.max(0) as u64)
}

/// SNMPv2-TC TruthValue.
pub(crate) fn truth(b: bool) -> Value {
    Value::Integer(if b { 1 } else { 2 })
}

pub(crate) fn text(s: &str) -> Value {
    // DisplayString is at most 255 octets.
    let mut end = s.len().min(255);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Value::text(&s[..end])
}

/// Snapshot time (`generated_at_ns`), when the snapshot has one.
pub(crate) fn now_ns(j: &Json) -> Option<i64> {
    i64_at(j, "/generated_at_ns").filter(|&t| t > 0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a UTC instant in ns.
pub(crate) fn iso_utc(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::time::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
