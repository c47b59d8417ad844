//! Which notifications to send, sans-IO: successive snapshots in, the
//! varbind lists of the notifications their differences call for out.
//!
//! Conditions come from the snapshot (lock state, what NTP serves, antenna,
//! jamming, spoofing, serial link, fix, leap). A fault present at the first
//! snapshot is reported (the operator learns of it at start); a state such
//! as "not synchronized yet" at start is not (it is the normal start-up).
//!
//! What has no snapshot state (a configuration change, a client far off, a
//! head-end watch transition) comes from the live event feed instead: its
//! name and JSON data in, one notification out ([`Notifier::on_event`]).

use super::codec::Value;
use super::codec::VarBind;
use super::mib::{
    self, gnss_notification, gnss_notification_with, ntp_notification, GnssNotif, NotifObject,
    NtpNotif,
};
use super::table::MibTable;
use serde_json::Value as Json;

#[derive(Debug, Clone, Default, PartialEq)]
struct Conditions {
    synced: Option<bool>,
    stratum: Option<i64>,
    lock: Option<String>,
    reason: Option<String>,
    responding: Option<bool>,
    fix: Option<bool>,
    antenna_fault: Option<bool>,
    antenna: Option<String>,
    jamming: Option<bool>,
    spoofing: Option<bool>,
    leap: i64,
}

fn conditions(j: &Json) -> Conditions {
    let antenna = mib::str_at(j, "/receiver/antenna/status").map(str::to_string);
    let jam = mib::str_at(j, "/receiver/security/jamming");
    let spoof = mib::str_at(j, "/receiver/security/spoofing");
    Conditions {
        synced: mib::bool_at(j, "/served/synchronized"),
        stratum: mib::i64_at(j, "/served/stratum"),
        lock: mib::str_at(j, "/discipline/state").map(str::to_string),
        reason: mib::str_at(j, "/discipline/reason").map(str::to_string),
        responding: mib::bool_at(j, "/serial/connected")
            .map(|c| c && mib::bool_at(j, "/serial/silent") != Some(true)),
        fix: mib::str_at(j, "/receiver/fix/mode").map(|m| m != "none"),
        antenna_fault: match antenna.as_deref() {
            Some("short") | Some("open") => Some(true),
            Some("ok") => Some(false),
            _ => None,
        },
        antenna,
        jamming: match jam {
            Some("warning") | Some("critical") => Some(true),
            Some("ok") => Some(false),
            _ => None,
        },
        spoofing: match spoof {
            Some("indicated") | Some("multiple") => Some(true),
            Some("none") => Some(false),
            _ => None,
        },
        leap: super::mib::leap_pending_code(j),
    }
}

/// A fault flag's edge: `Some(true)` raised, `Some(false)` cleared. An
/// unknown value keeps the last known one; a fault at start counts.
fn edge(prev: Option<bool>, now: Option<bool>) -> Option<bool> {
    match (prev.unwrap_or(false), now?) {
        (false, true) => Some(true),
        (true, false) => Some(false),
        _ => None,
    }
}

pub struct Notifier {
    prev: Option<Conditions>,
    /// A lost receiver link / fix was reported (its recovery is news then).
    link_alarm: bool,
    fix_alarm: bool,
    heartbeat_interval_ns: i64,
    next_heartbeat_ns: Option<i64>,
}

impl Notifier {
    pub fn new(heartbeat_interval_s: u32) -> Self {
        Notifier {
            prev: None,
            link_alarm: false,
            fix_alarm: false,
            heartbeat_interval_ns: i64::from(heartbeat_interval_s) * 1_000_000_000,
            next_heartbeat_ns: None,
        }
    }

    /// The notification sent once the first session opens after start.
    pub fn daemon_started(&self, table: &MibTable) -> Vec<VarBind> {
        gnss_notification(GnssNotif::DaemonStarted, "gnss-timeserver started", table)
    }

    /// A test notification (operators check their trap path with it).
    pub fn test(&self, table: &MibTable) -> Vec<VarBind> {
        gnss_notification(GnssNotif::Test, "test notification", table)
    }

    /// The notification an event calls for (`kind` is the event's contract
    /// name, `data` its payload), if any.
    pub fn on_event(&self, kind: &str, data: &Json, table: &MibTable) -> Option<Vec<VarBind>> {
        let s = |p: &str| mib::str_at(data, p).unwrap_or("");
        Some(match kind {
            "config.changed" => {
                let keys = mib::list_text(data, "/keys");
                let by = mib::str_at(data, "/by")
                    .map(|u| format!(" by {u}"))
                    .unwrap_or_default();
                gnss_notification_with(
                    GnssNotif::ConfigChanged,
                    &format!("configuration changed{by}: {keys}"),
                    table,
                    &[(NotifObject::ConfigKeys, mib::text(&keys))],
                )
            }
            "ntp.client_offset" => {
                let client = s("/client");
                let offset = mib::f64_at(data, "/offset_ns")?;
                let bound = mib::f64_at(data, "/bound_ns")
                    .map(|b| format!(" (its bound {})", mib::ms_text(b)))
                    .unwrap_or_default();
                gnss_notification_with(
                    GnssNotif::ClientFarOff,
                    &format!("NTP client {client} is {} off{bound}", mib::ms_text(offset)),
                    table,
                    &[
                        (NotifObject::ClientAddress, mib::text(client)),
                        (NotifObject::ClientOffset, mib::text(&mib::ms_text(offset))),
                    ],
                )
            }
            "ntp.watch_state" => {
                let state = |p: &str| {
                    let code = mib::WATCH_STATE.iter().position(|n| *n == s(p))?;
                    Some(Value::Integer(code as i32 + 1))
                };
                let to = state("/to")?;
                let name = mib::str_at(data, "/name").unwrap_or("learned client");
                let address = s("/address");
                let reasons = mib::list_text(data, "/reasons");
                let offset = mib::f64_at(data, "/offset_ns");
                let mut extra = vec![
                    (NotifObject::ClientName, mib::text(name)),
                    (NotifObject::ClientAddress, mib::text(address)),
                    (NotifObject::WatchState, to),
                ];
                extra.extend(state("/from").map(|v| (NotifObject::WatchPreviousState, v)));
                extra.push((NotifObject::WatchReasons, mib::text(&reasons)));
                extra.extend(
                    offset.map(|o| (NotifObject::ClientOffset, mib::text(&mib::ms_text(o)))),
                );
                let why = if reasons.is_empty() {
                    String::new()
                } else {
                    format!(" ({reasons})")
                };
                gnss_notification_with(
                    GnssNotif::WatchState,
                    &format!(
                        "watched NTP client {name} {address}: {} -> {}{why}",
                        s("/from"),
                        s("/to")
                    ),
                    table,
                    &extra,
                )
            }
            _ => return None,
        })
    }

    /// Compare with the previous snapshot; `table` is this snapshot's.
    pub fn observe(&mut self, j: &Json, table: &MibTable, now_ns: i64) -> Vec<Vec<VarBind>> {
        let now = conditions(j);
        let prev = self.prev.take().unwrap_or_else(|| Conditions {
            // Baseline: states at start are not news; faults are.
            synced: now.synced,
            stratum: now.stratum,
            lock: now.lock.clone(),
            leap: 1,
            ..Conditions::default()
        });
        let mut out = Vec::new();
        let lock = now.lock.as_deref().unwrap_or("unknown");
        let reason = now.reason.as_deref().unwrap_or("unknown");
        let g = |k: GnssNotif, t: String| gnss_notification(k, &t, table);

        if let (Some(a), Some(b)) = (prev.synced, now.synced) {
            if a != b {
                out.push(if b {
                    g(
                        GnssNotif::Synchronized,
                        format!("time server synchronized (lock state {lock})"),
                    )
                } else {
                    g(
                        GnssNotif::NotSynchronized,
                        format!(
                            "time server not synchronized (lock state {lock}, reason {reason})"
                        ),
                    )
                });
                out.push(ntp_notification(NtpNotif::ModeChange, "", table));
            }
        }
        if let (Some(a), Some(b)) = (prev.stratum, now.stratum) {
            if a != b {
                out.push(ntp_notification(
                    NtpNotif::StratumChange,
                    &format!("stratum {a} -> {b}"),
                    table,
                ));
            }
        }
        let was_holdover = prev.lock.as_deref() == Some("holdover");
        let is_holdover = now.lock.as_deref() == Some("holdover");
        if !was_holdover && is_holdover {
            out.push(g(
                GnssNotif::HoldoverEntered,
                format!("holdover entered (reason {reason})"),
            ));
        } else if was_holdover && now.lock.is_some() && !is_holdover {
            out.push(g(
                GnssNotif::HoldoverLeft,
                format!("holdover left (lock state {lock}, reason {reason})"),
            ));
        }
        // The link and the fix are still coming up at start: only their loss
        // is news, and their return after a reported loss.
        if prev.responding == Some(true) && now.responding == Some(false) {
            self.link_alarm = true;
            out.push(g(
                GnssNotif::ReceiverNotResponding,
                "GNSS receiver not responding".into(),
            ));
        } else if self.link_alarm && now.responding == Some(true) {
            self.link_alarm = false;
            out.push(g(
                GnssNotif::ReceiverResponding,
                "GNSS receiver responding again".into(),
            ));
        }
        if prev.fix == Some(true) && now.fix == Some(false) {
            self.fix_alarm = true;
            out.push(g(
                GnssNotif::ReceiverNotSynchronized,
                "GNSS receiver lost its fix".into(),
            ));
        } else if self.fix_alarm && now.fix == Some(true) {
            self.fix_alarm = false;
            out.push(g(
                GnssNotif::ReceiverSynchronized,
                "GNSS receiver has a fix again".into(),
            ));
        }
        let antenna = now.antenna.as_deref().unwrap_or("unknown");
        match edge(prev.antenna_fault, now.antenna_fault) {
            Some(true) => out.push(g(
                GnssNotif::AntennaFault,
                format!("GNSS antenna faulty: {antenna}"),
            )),
            Some(false) => out.push(g(GnssNotif::AntennaOk, "GNSS antenna reconnected".into())),
            None => {}
        }
        match edge(prev.jamming, now.jamming) {
            Some(true) => out.push(g(
                GnssNotif::JammingDetected,
                "GNSS jamming detected".into(),
            )),
            Some(false) => out.push(g(GnssNotif::JammingCleared, "GNSS jamming cleared".into())),
            None => {}
        }
        match edge(prev.spoofing, now.spoofing) {
            Some(true) => out.push(g(
                GnssNotif::SpoofingDetected,
                "GNSS spoofing detected".into(),
            )),
            Some(false) => out.push(g(
                GnssNotif::SpoofingCleared,
                "GNSS spoofing cleared".into(),
            )),
            None => {}
        }
        if prev.leap == 1 && now.leap != 1 {
            let dir = if now.leap == 2 { "inserted" } else { "deleted" };
            let t = format!("leap second announced: one second {dir}");
            out.push(g(GnssNotif::LeapAnnounced, t.clone()));
            out.push(ntp_notification(NtpNotif::LeapSecondAnnounced, &t, table));
        }

        if self.heartbeat_interval_ns > 0 {
            let due = *self
                .next_heartbeat_ns
                .get_or_insert(now_ns + self.heartbeat_interval_ns);
            if now_ns >= due {
                self.next_heartbeat_ns = Some(now_ns + self.heartbeat_interval_ns);
                out.push(ntp_notification(NtpNotif::Heartbeat, "heartbeat", table));
            }
        }
        // Keep the last known value of what this snapshot does not know.
        let keep = |a: Option<bool>, b: Option<bool>| b.or(a);
        self.prev = Some(Conditions {
            synced: now.synced.or(prev.synced),
            stratum: now.stratum.or(prev.stratum),
            lock: now.lock.or(prev.lock),
            reason: now.reason,
            responding: keep(prev.responding, now.responding),
            fix: keep(prev.fix, now.fix),
            antenna_fault: keep(prev.antenna_fault, now.antenna_fault),
            antenna: now.antenna,
            jamming: keep(prev.jamming, now.jamming),
            spoofing: keep(prev.spoofing, now.spoofing),
            leap: now.leap,
        });
        out
    }
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
