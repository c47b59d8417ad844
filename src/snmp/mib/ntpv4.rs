//! NTPv4-MIB (RFC 5907, `board/mibs/NTPv4-MIB.txt`), root mib-2.197. The
//! GNSS/PPS reference is association 1. Offsets, jitters and distances are
//! DisplayStrings with their unit, as the MIB defines them.

use super::*;
use crate::snmp::codec::VarBind;

/// Our single association: the GNSS receiver disciplined by its PPS.
pub const ASSOC_ID: u32 = 1;
/// ntpd's pseudo-address convention for reference clocks (127.127.t.u).
const ASSOC_ADDRESS: [u8; 4] = [127, 127, 20, 0];
/// Seconds between 1900 (NTP) and 1970 (Unix).
const NTP_UNIX_OFFSET_S: i64 = 2_208_988_800;

const CURRENT_MODE_NOT_SYNCHRONIZED: i64 = 2;
const CURRENT_MODE_SYNC_TO_REFCLOCK: i64 = 5;

/// "0.000123 ms": the MIB's display form for times in ns.
pub(crate) fn ms_text(ns: f64) -> String {
    format!("{:.6} ms", ns / 1e6)
}

/// NtpDateTime: era (signed), era offset (s), 64-bit fraction.
pub(crate) fn ntp_date_time(unix_ns: i64) -> Vec<u8> {
    let secs = unix_ns.div_euclid(1_000_000_000) + NTP_UNIX_OFFSET_S;
    let frac_ns = unix_ns.rem_euclid(1_000_000_000) as u128;
    let era = secs.div_euclid(1 << 32) as i32;
    let offset = secs.rem_euclid(1 << 32) as u32;
    let fraction = ((frac_ns << 64) / 1_000_000_000) as u64;
    let mut v = Vec::with_capacity(16);
    v.extend_from_slice(&era.to_be_bytes());
    v.extend_from_slice(&offset.to_be_bytes());
    v.extend_from_slice(&fraction.to_be_bytes());
    v
}

pub(crate) fn synchronized(j: &Json) -> Option<bool> {
    bool_at(j, "/served/synchronized")
}

fn current_mode(j: &Json) -> Option<i64> {
    synchronized(j).map(|s| {
        if s {
            CURRENT_MODE_SYNC_TO_REFCLOCK
        } else {
            CURRENT_MODE_NOT_SYNCHRONIZED
        }
    })
}

fn counter32(v: i64) -> Value {
    // Counter32 wraps by definition.
    Value::Counter32(v.max(0) as u64 as u32)
}

/// ntpEntNotifBits: the notifications we send (BITS, bit 0 = MSB).
fn notif_bits(heartbeat: bool) -> Vec<u8> {
    let mut bits = [0u8; 2];
    let mut set = |n: usize| bits[n / 8] |= 0x80 >> (n % 8);
    set(1); // entNotifModeChange
    set(2); // entNotifStratumChange
    set(7); // entNotifLeapSecondAnnounced
    if heartbeat {
        set(8); // entNotifHeartbeat
    }
    bits.to_vec()
}

pub(super) fn rows(j: &Json, ctx: &MibContext, r: &mut Rows) {
    let info = |i: u32| [1, 1, i, 0];
    let status = |i: u32| [1, 2, i, 0];
    r.put(&info(1), Some(text(env!("CARGO_PKG_NAME"))));
    r.put(&info(2), str_at(j, "/version").map(text));
    r.put(&info(3), Some(text("gnss-timeserver project")));
    r.put(
        &info(4),
        Some(text(&format!(
            "{} {}",
            std::env::consts::OS,
            std::env::consts::ARCH
        ))),
    );
    // Clock reads are in ns.
    r.put(&info(5), Some(Value::Gauge32(1_000_000_000)));
    r.put(&info(6), i64_at(j, "/ntp/precision").map(int));
    let delay = f64_at(j, "/served/root_delay_ns");
    let disp = f64_at(j, "/served/root_dispersion_ns");
    r.put(
        &info(7),
        delay.zip(disp).map(|(d, e)| text(&ms_text(d / 2.0 + e))),
    );

    let synced = synchronized(j);
    r.put(&status(1), current_mode(j).map(int));
    r.put(
        &status(2),
        i64_at(j, "/served/stratum").map(|s| gauge(s.clamp(1, 16))),
    );
    r.put(
        &status(3),
        synced.map(|s| Value::Gauge32(if s { ASSOC_ID } else { 0 })),
    );
    r.put(&status(4), Some(text("GNSS+PPS")));
    let offset = f64_at(j, "/discipline/offset_ns");
    r.put(&status(5), offset.map(|o| text(&ms_text(o))));
    r.put(&status(6), Some(Value::Gauge32(1)));
    r.put(&status(7), disp.map(|d| text(&ms_text(d))));
    r.put(&status(8), Some(Value::TimeTicks(ctx.uptime_ticks)));
    r.put(
        &status(9),
        now_ns(j).map(|t| Value::OctetString(ntp_date_time(t))),
    );
    let (leap, leap_at) = super::gnss::leap_pending(j);
    r.put(
        &status(10),
        Some(Value::OctetString(
            leap_at.map(ntp_date_time).unwrap_or_default(),
        )),
    );
    r.put(
        &status(11),
        Some(int(match leap {
            2 => 1,
            3 => -1,
            _ => 0,
        })),
    );
    let c = |name: &str| i64_at(j, &format!("/ntp/counters/{name}"));
    r.put(&status(12), c("requests").map(counter32));
    r.put(&status(13), c("responses").map(counter32));
    r.put(&status(14), c("drop_version").map(counter32));
    let proto = ["drop_truncated", "drop_malformed", "drop_mode"]
        .iter()
        .map(|n| c(n))
        .try_fold(0i64, |a, v| v.map(|v| a.saturating_add(v)));
    r.put(&status(15), proto.map(counter32));
    r.put(
        &status(16),
        Some(Value::Counter32(ctx.notifications_sent as u32)),
    );
    // Per-mode packet table (index: mode 1..6). What we send is a reply
    // per answered request: mode 4 to clients, mode 2 to symmetric peers.
    if let Some(by_mode) = at(j, "/ntp/counters/by_mode").and_then(Json::as_array) {
        let rx = |m: usize| by_mode.get(m).and_then(Json::as_i64);
        let responses = c("responses");
        for mode in 1u32..=6 {
            let sent = match mode {
                4 => responses.map(|r| r - rx(1).unwrap_or(0)),
                2 => rx(1),
                _ => Some(0),
            };
            r.put(&[1, 2, 17, 1, 2, mode], sent.map(counter32));
            r.put(&[1, 2, 17, 1, 3, mode], rx(mode as usize).map(counter32));
        }
    }

    // The association table: the GNSS/PPS reference.
    let a = |col: u32| [1, 3, 1, 1, col, ASSOC_ID];
    r.put(&a(2), Some(text("GNSS+PPS")));
    r.put(&a(3), str_at(j, "/served/refid").map(text));
    r.put(&a(4), Some(int(1))); // ipv4
    r.put(&a(5), Some(Value::OctetString(ASSOC_ADDRESS.to_vec())));
    r.put(&a(6), offset.map(|o| text(&ms_text(o))));
    r.put(
        &a(7),
        i64_at(j, "/served/stratum").map(|s| gauge(s.clamp(1, 16))),
    );
    r.put(
        &a(8),
        f64_at(j, "/pps/interval_jitter_ns").map(|v| text(&ms_text(v))),
    );
    r.put(&a(9), Some(text(&ms_text(0.0))));
    r.put(
        &a(10),
        f64_at(j, "/discipline/time_error_bound_ns").map(|v| text(&ms_text(v))),
    );
    let s = |col: u32| [1, 3, 2, 1, col, ASSOC_ID];
    r.put(&s(1), i64_at(j, "/receiver/counters/epochs").map(counter32));
    r.put(&s(2), Some(Value::Counter32(0)));
    r.put(
        &s(3),
        i64_at(j, "/receiver/counters/decode_errors").map(counter32),
    );

    // Control: read-only here (sets are refused).
    r.put(
        &[1, 4, 1, 0],
        Some(Value::Gauge32(ctx.heartbeat_interval_s)),
    );
    r.put(
        &[1, 4, 2, 0],
        Some(Value::OctetString(notif_bits(ctx.heartbeat_interval_s > 0))),
    );
}

/// NTPv4-MIB notifications we send (root.0.N).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NtpNotif {
    ModeChange = 1,
    StratumChange = 2,
    ConfigChanged = 6,
    LeapSecondAnnounced = 7,
    Heartbeat = 8,
}

/// Varbinds of an NTPv4-MIB notification: the objects RFC 5907 lists for it,
/// ntpEntNotifMessage carrying the text.
pub fn ntp_notification(kind: NtpNotif, message: &str, table: &MibTable) -> Vec<VarBind> {
    let root = ntp_root();
    let mut v = vec![VarBind {
        name: super::gnss::snmp_trap_oid(),
        value: Value::ObjectId(root.child(&[0, kind as u32])),
    }];
    let date = [1, 2, 9, 0];
    let mode = [1, 2, 1, 0];
    let stratum = [1, 2, 2, 0];
    let heartbeat = [1, 4, 1, 0];
    let objs: &[[u32; 4]] = match kind {
        NtpNotif::ModeChange => &[mode],
        NtpNotif::StratumChange => &[date, stratum],
        NtpNotif::ConfigChanged | NtpNotif::LeapSecondAnnounced => &[date],
        NtpNotif::Heartbeat => &[date, mode, heartbeat],
    };
    for sub in objs {
        let vb = table.get(&root.child(sub));
        if !matches!(vb.value, Value::NoSuchObject | Value::NoSuchInstance) {
            v.push(vb);
        }
    }
    if kind != NtpNotif::ModeChange {
        v.push(VarBind {
            name: root.child(&[1, 5, 1, 0]),
            value: text(message),
        });
    }
    v
}
