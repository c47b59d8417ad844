//! GNSS-TIMESERVER-MIB (`board/mibs/GNSS-TIMESERVER-MIB.txt`): the numbers
//! here and in that file are one contract; `tests/snmp_agentx.rs` walks the
//! real agent with the MIB loaded to keep them equal.

use super::*;
use crate::snmp::codec::VarBind;

// Groups under gtsObjects (root.1).
const SYSTEM: u32 = 1;
const LOCK: u32 = 2;
const PPS: u32 = 3;
const RECEIVER: u32 = 4;
const CONST_TABLE: u32 = 5;
const SAT_TABLE: u32 = 6;
const SERVED: u32 = 7;
const NTP: u32 = 8;
const PART_TABLE: u32 = 9;

/// One scalar: root.1.group.item.0
fn scalar(group: u32, item: u32) -> [u32; 4] {
    [1, group, item, 0]
}

fn lock_state(s: &str) -> Option<i64> {
    Some(match s {
        "acquiring" => 1,
        "locked" => 2,
        "holdover" => 3,
        "unsynchronized" => 4,
        _ => return None,
    })
}

/// GnssSystem textual convention: u-blox gnssId + 1.
pub(crate) fn gnss_system(name: &str) -> Option<u32> {
    Some(match name {
        "GPS" => 1,
        "SBAS" => 2,
        "Galileo" => 3,
        "BeiDou" => 4,
        "IMES" => 5,
        "QZSS" => 6,
        "GLONASS" => 7,
        "NavIC" => 8,
        _ => return None,
    })
}

fn enum_of(s: Option<&str>, names: &[&str]) -> Option<Value> {
    let s = s?;
    names
        .iter()
        .position(|n| *n == s)
        .map(|i| Value::Integer(i as i32 + 1))
}

const FIX_MODES: &[&str] = &["none", "2d", "3d", "time"];
const ANTENNA_STATUS: &[&str] = &["ok", "short", "open", "unknown"];
const ANTENNA_POWER: &[&str] = &["on", "off", "unknown"];
const JAMMING: &[&str] = &["unknown", "ok", "warning", "critical"];
const SPOOFING: &[&str] = &["unknown", "none", "indicated", "multiple"];
const PPS_STATE: &[&str] = &["waiting", "ok", "no_pulses", "wrong_rate"];
const PART_STATE: &[&str] = &["running", "restarting", "failed", "stalled", "stopped"];

/// Leap pending: (1 none | 2 insert | 3 delete, UTC ns of the leap).
pub(crate) fn leap_pending(j: &Json) -> (i64, Option<i64>) {
    match at(j, "/discipline/leap/pending") {
        Some(p) => {
            let insert = bool_at(p, "/insert").unwrap_or(true);
            (if insert { 2 } else { 3 }, i64_at(p, "/at_utc_ns"))
        }
        None => (1, None),
    }
}

/// Seconds in holdover (the current state's age), when in holdover.
pub(crate) fn holdover_s(j: &Json) -> Option<i64> {
    if str_at(j, "/discipline/state")? != "holdover" {
        return None;
    }
    let since = i64_at(j, "/discipline/since_ns")?;
    Some((now_ns(j)? - since).max(0) / 1_000_000_000)
}

pub(super) fn rows(j: &Json, ctx: &MibContext, r: &mut Rows) {
    // System.
    r.put(&scalar(SYSTEM, 1), str_at(j, "/version").map(text));
    r.put(&scalar(SYSTEM, 2), Some(Value::TimeTicks(ctx.uptime_ticks)));
    r.put(
        &scalar(SYSTEM, 3),
        str_at(j, "/receiver/identity/model").map(text),
    );
    r.put(
        &scalar(SYSTEM, 4),
        str_at(j, "/receiver/identity/firmware").map(text),
    );

    // Lock and discipline.
    let state = str_at(j, "/discipline/state");
    r.put(&scalar(LOCK, 1), state.and_then(lock_state).map(int));
    r.put(&scalar(LOCK, 2), str_at(j, "/discipline/reason").map(text));
    let since = i64_at(j, "/discipline/since_ns").filter(|&t| t > 0);
    r.put(
        &scalar(LOCK, 3),
        since
            .zip(now_ns(j))
            .map(|(s, n)| gauge((n - s) / 1_000_000_000)),
    );
    r.put(
        &scalar(LOCK, 4),
        i64_at(j, "/discipline/time_error_bound_ns").map(gauge),
    );
    r.put(
        &scalar(LOCK, 5),
        f64_at(j, "/discipline/frequency_ppm").map(|f| int((f * 1000.0).round() as i64)),
    );
    r.put(
        &scalar(LOCK, 6),
        f64_at(j, "/discipline/temperature_c").map(|t| int((t * 1000.0).round() as i64)),
    );
    r.put(&scalar(LOCK, 7), holdover_s(j).map(gauge));
    // Planned snapshot fields (shared contract): holdover limit and projection.
    r.put(
        &scalar(LOCK, 8),
        i64_at(j, "/discipline/holdover_limit_ns").map(gauge),
    );
    r.put(
        &scalar(LOCK, 9),
        i64_at(j, "/discipline/holdover_time_to_limit_s").map(gauge),
    );
    let (leap, leap_at) = leap_pending(j);
    r.put(&scalar(LOCK, 10), Some(int(leap)));
    r.put(&scalar(LOCK, 11), leap_at.map(|t| text(&iso_utc(t))));

    // PPS.
    r.put(&scalar(PPS, 1), enum_of(str_at(j, "/pps/state"), PPS_STATE));
    r.put(
        &scalar(PPS, 2),
        f64_at(j, "/discipline/offset_ns").map(|v| int(v.round() as i64)),
    );
    r.put(
        &scalar(PPS, 3),
        f64_at(j, "/pps/interval_jitter_ns").map(|v| gauge(v.round() as i64)),
    );
    r.put(
        &scalar(PPS, 4),
        f64_at(j, "/discipline/noise_ns").map(|v| gauge(v.round() as i64)),
    );
    r.put(&scalar(PPS, 5), i64_at(j, "/pps/pulses").map(counter64));
    r.put(&scalar(PPS, 6), i64_at(j, "/pps/missing").map(counter64));

    // Receiver.
    r.put(
        &scalar(RECEIVER, 1),
        enum_of(str_at(j, "/receiver/fix/mode"), FIX_MODES),
    );
    r.put(
        &scalar(RECEIVER, 2),
        i64_at(j, "/receiver/sats_visible").map(gauge),
    );
    r.put(
        &scalar(RECEIVER, 3),
        i64_at(j, "/receiver/sats_used").map(gauge),
    );
    r.put(
        &scalar(RECEIVER, 4),
        enum_of(
            str_at(j, "/receiver/antenna/status").or(Some("unknown")),
            ANTENNA_STATUS,
        ),
    );
    r.put(
        &scalar(RECEIVER, 5),
        enum_of(
            str_at(j, "/receiver/antenna/power").or(Some("unknown")),
            ANTENNA_POWER,
        ),
    );
    r.put(
        &scalar(RECEIVER, 6),
        enum_of(
            str_at(j, "/receiver/security/jamming").or(Some("unknown")),
            JAMMING,
        ),
    );
    r.put(
        &scalar(RECEIVER, 7),
        i64_at(j, "/receiver/antenna/jamming").map(gauge),
    );
    r.put(
        &scalar(RECEIVER, 8),
        enum_of(
            str_at(j, "/receiver/security/spoofing").or(Some("unknown")),
            SPOOFING,
        ),
    );
    let deg = |p: &str| f64_at(j, p).map(|v| int((v * 1e7).round() as i64));
    r.put(&scalar(RECEIVER, 9), deg("/receiver/fix/lat_deg"));
    r.put(&scalar(RECEIVER, 10), deg("/receiver/fix/lon_deg"));
    r.put(
        &scalar(RECEIVER, 11),
        f64_at(j, "/receiver/fix/alt_msl_m").map(|v| int((v * 100.0).round() as i64)),
    );
    let survey = at(j, "/receiver/survey/progress").map(|s| {
        if bool_at(s, "/active") == Some(true) {
            2
        } else if bool_at(s, "/valid") == Some(true) {
            3
        } else {
            1
        }
    });
    r.put(&scalar(RECEIVER, 12), Some(int(survey.unwrap_or(1))));
    r.put(
        &scalar(RECEIVER, 13),
        bool_at(j, "/serial/connected")
            .map(|c| truth(c && bool_at(j, "/serial/silent") != Some(true))),
    );

    // Constellations: the contract's `receiver.constellations`.
    if let Some(list) = at(j, "/receiver/constellations").and_then(Json::as_array) {
        for c in list {
            let Some(g) = str_at(c, "/gnss").and_then(gnss_system) else {
                continue;
            };
            r.put(&[1, CONST_TABLE, 1, 2, g], str_at(c, "/gnss").map(text));
            r.put(&[1, CONST_TABLE, 1, 3, g], i64_at(c, "/visible").map(gauge));
            r.put(&[1, CONST_TABLE, 1, 4, g], i64_at(c, "/used").map(gauge));
        }
    }

    // Satellites: the contract's `receiver.sky`.
    if let Some(sky) = at(j, "/receiver/sky").and_then(Json::as_array) {
        for s in sky {
            let (Some(g), Some(svid)) = (
                str_at(s, "/gnss").and_then(gnss_system),
                i64_at(s, "/svid").filter(|v| (0..=u32::MAX as i64).contains(v)),
            ) else {
                continue;
            };
            let ix = |col: u32| [1, SAT_TABLE, 1, col, g, svid as u32];
            r.put(&ix(3), f64_at(s, "/az_deg").map(|v| int(v.round() as i64)));
            r.put(&ix(4), f64_at(s, "/el_deg").map(|v| int(v.round() as i64)));
            r.put(
                &ix(5),
                f64_at(s, "/cn0_dbhz").map(|v| int(v.round() as i64)),
            );
            r.put(&ix(6), bool_at(s, "/used").map(truth));
            r.put(&ix(7), bool_at(s, "/healthy").map(truth));
        }
    }

    // What NTP serves: the contract's `served`, else the discipline's view.
    let synced = bool_at(j, "/served/synchronized");
    r.put(&scalar(SERVED, 1), i64_at(j, "/served/stratum").map(gauge));
    r.put(
        &scalar(SERVED, 2),
        i64_at(j, "/served/leap_indicator").map(gauge),
    );
    r.put(&scalar(SERVED, 3), str_at(j, "/served/refid").map(text));
    r.put(
        &scalar(SERVED, 4),
        i64_at(j, "/served/root_dispersion_ns").map(gauge),
    );
    r.put(
        &scalar(SERVED, 5),
        i64_at(j, "/served/root_delay_ns").map(gauge),
    );
    r.put(&scalar(SERVED, 6), synced.map(truth));

    // NTP counters.
    let c = |name: &str| i64_at(j, &format!("/ntp/counters/{name}"));
    r.put(&scalar(NTP, 1), c("requests").map(counter64));
    r.put(&scalar(NTP, 2), c("responses").map(counter64));
    let dropped = [
        "drop_truncated",
        "drop_version",
        "drop_mode",
        "drop_malformed",
        "drop_denied",
        "drop_rate",
        "drop_auth",
    ]
    .iter()
    .map(|n| c(n))
    .try_fold(0i64, |acc, v| v.map(|v| acc.saturating_add(v)));
    r.put(&scalar(NTP, 3), dropped.map(counter64));
    r.put(&scalar(NTP, 4), c("kod_rate").map(counter64));
    r.put(
        &scalar(NTP, 5),
        i64_at(j, "/ntp/clients_tracked").map(gauge),
    );

    // Parts: the contract's `parts`, indexed by position.
    if let Some(parts) = at(j, "/parts").and_then(Json::as_array) {
        let now = now_ns(j);
        for (i, p) in parts.iter().enumerate().take(1000) {
            let ix = |col: u32| [1, PART_TABLE, 1, col, i as u32 + 1];
            r.put(&ix(2), str_at(p, "/name").map(text));
            r.put(&ix(3), enum_of(str_at(p, "/state"), PART_STATE));
            r.put(
                &ix(4),
                i64_at(p, "/restarts")
                    .map(|v| Value::Counter32(v.clamp(0, u32::MAX as i64) as u32)),
            );
            let hb = i64_at(p, "/last_heartbeat_ns").zip(now);
            r.put(&ix(5), hb.map(|(h, n)| gauge((n - h) / 1_000_000_000)));
            r.put(&ix(6), str_at(p, "/last_error").map(text));
        }
    }
}

/// The enterprise notifications (root.0.N), each with its text varbind
/// (gtsNotifText) and the objects the MIB lists for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GnssNotif {
    NotSynchronized = 1,
    Synchronized = 2,
    HoldoverEntered = 3,
    HoldoverLeft = 4,
    ReceiverNotResponding = 5,
    ReceiverResponding = 6,
    ReceiverNotSynchronized = 7,
    ReceiverSynchronized = 8,
    AntennaFault = 9,
    AntennaOk = 10,
    JammingDetected = 11,
    JammingCleared = 12,
    SpoofingDetected = 13,
    SpoofingCleared = 14,
    LeapAnnounced = 15,
    ConfigChanged = 16,
    DaemonStarted = 17,
    ClientFarOff = 18,
    Test = 19,
}

impl GnssNotif {
    /// The scalar objects each notification carries after gtsNotifText.
    fn objects(self) -> &'static [[u32; 4]] {
        use GnssNotif::*;
        const LOCK_OBJS: &[[u32; 4]] = &[[1, LOCK, 1, 0], [1, LOCK, 2, 0], [1, LOCK, 4, 0]];
        const RECV: &[[u32; 4]] = &[[1, RECEIVER, 1, 0], [1, RECEIVER, 3, 0]];
        match self {
            NotSynchronized | Synchronized | HoldoverEntered | HoldoverLeft => LOCK_OBJS,
            ReceiverNotResponding | ReceiverResponding => &[[1, RECEIVER, 13, 0]],
            ReceiverNotSynchronized | ReceiverSynchronized => RECV,
            AntennaFault | AntennaOk => &[[1, RECEIVER, 4, 0], [1, RECEIVER, 5, 0]],
            JammingDetected | JammingCleared => &[[1, RECEIVER, 6, 0], [1, RECEIVER, 7, 0]],
            SpoofingDetected | SpoofingCleared => &[[1, RECEIVER, 8, 0]],
            LeapAnnounced => &[[1, LOCK, 10, 0], [1, LOCK, 11, 0]],
            DaemonStarted => &[[1, SYSTEM, 1, 0]],
            ConfigChanged | ClientFarOff | Test => &[],
        }
    }
}

/// snmpTrapOID.0 (SNMPv2-MIB).
pub fn snmp_trap_oid() -> Oid {
    Oid::new(&[1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0])
}

/// gtsNotifText.0
pub fn notif_text_oid() -> Oid {
    gnss_root().child(&[2, 1, 0])
}

/// Varbinds of one notification: snmpTrapOID.0, gtsNotifText.0, then the
/// listed objects as the current table has them (absent ones are left out).
pub fn gnss_notification(kind: GnssNotif, text_: &str, table: &MibTable) -> Vec<VarBind> {
    let mut v = vec![
        VarBind {
            name: snmp_trap_oid(),
            value: Value::ObjectId(gnss_root().child(&[0, kind as u32])),
        },
        VarBind {
            name: notif_text_oid(),
            value: text(text_),
        },
    ];
    for sub in kind.objects() {
        let vb = table.get(&gnss_root().child(sub));
        if !matches!(vb.value, Value::NoSuchObject | Value::NoSuchInstance) {
            v.push(vb);
        }
    }
    v
}
