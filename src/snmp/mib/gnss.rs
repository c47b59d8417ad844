//! GNSS-TIMESERVER-MIB (`board/mibs/GNSS-TIMESERVER-MIB.txt`): the numbers
//! here and in that file are one contract; `tests/snmp_agentx.rs` walks the
//! real agent with the MIB loaded to keep them equal.
//!
//! Most objects are one snapshot field each: they are listed in tables of
//! (OID, JSON pointer, [`Kind`]); only derived values are written out.

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
const WATCH_TABLE: u32 = 10;

/// One scalar: root.1.group.item.0
fn scalar(group: u32, item: u32) -> [u32; 4] {
    [1, group, item, 0]
}

/// How one snapshot field becomes an SNMP value.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Gauge,
    Counter32,
    Counter64,
    Truth,
    /// Position in the list, from 1 (the MIB's enumeration).
    Enum(&'static [&'static str]),
    /// As `Enum`, with this value when the field is absent.
    EnumOr(&'static [&'static str], &'static str),
    /// A number times this factor, rounded, as Integer32.
    Scaled(f64),
    /// A number rounded, as Gauge32.
    RoundGauge,
}

fn value(j: &Json, ptr: &str, kind: Kind) -> Option<Value> {
    match kind {
        Kind::Text => str_at(j, ptr).map(text),
        Kind::Gauge => i64_at(j, ptr).map(gauge),
        Kind::Counter32 => {
            i64_at(j, ptr).map(|v| Value::Counter32(v.clamp(0, u32::MAX as i64) as u32))
        }
        Kind::Counter64 => i64_at(j, ptr).map(counter64),
        Kind::Truth => bool_at(j, ptr).map(truth),
        Kind::Enum(names) => enum_of(str_at(j, ptr), names),
        Kind::EnumOr(names, default) => enum_of(str_at(j, ptr).or(Some(default)), names),
        Kind::Scaled(k) => f64_at(j, ptr).map(|v| int((v * k).round() as i64)),
        Kind::RoundGauge => f64_at(j, ptr).map(|v| gauge(v.round() as i64)),
    }
}

/// Scalars read straight from the snapshot: (group, item, pointer, kind).
const SCALARS: &[(u32, u32, &str, Kind)] = &[
    (SYSTEM, 1, "/version", Kind::Text),
    (SYSTEM, 3, "/receiver/identity/model", Kind::Text),
    (SYSTEM, 4, "/receiver/identity/firmware", Kind::Text),
    (LOCK, 1, "/discipline/state", Kind::Enum(LOCK_STATE)),
    (LOCK, 2, "/discipline/reason", Kind::Text),
    (LOCK, 4, "/discipline/time_error_bound_ns", Kind::Gauge),
    (LOCK, 5, "/discipline/frequency_ppm", Kind::Scaled(1000.0)),
    (LOCK, 6, "/discipline/temperature_c", Kind::Scaled(1000.0)),
    (LOCK, 8, "/discipline/holdover_limit_ns", Kind::Gauge),
    (LOCK, 9, "/discipline/holdover_time_to_limit_s", Kind::Gauge),
    (PPS, 1, "/pps/state", Kind::Enum(PPS_STATE)),
    (PPS, 2, "/discipline/offset_ns", Kind::Scaled(1.0)),
    (PPS, 3, "/pps/interval_jitter_ns", Kind::RoundGauge),
    (PPS, 4, "/discipline/noise_ns", Kind::RoundGauge),
    (PPS, 5, "/pps/pulses", Kind::Counter64),
    (PPS, 6, "/pps/missing", Kind::Counter64),
    (RECEIVER, 1, "/receiver/fix/mode", Kind::Enum(FIX_MODES)),
    (RECEIVER, 2, "/receiver/sats_visible", Kind::Gauge),
    (RECEIVER, 3, "/receiver/sats_used", Kind::Gauge),
    (
        RECEIVER,
        4,
        "/receiver/antenna/status",
        Kind::EnumOr(ANTENNA_STATUS, "unknown"),
    ),
    (
        RECEIVER,
        5,
        "/receiver/antenna/power",
        Kind::EnumOr(ANTENNA_POWER, "unknown"),
    ),
    (
        RECEIVER,
        6,
        "/receiver/security/jamming",
        Kind::EnumOr(JAMMING, "unknown"),
    ),
    (RECEIVER, 7, "/receiver/antenna/jamming", Kind::Gauge),
    (
        RECEIVER,
        8,
        "/receiver/security/spoofing",
        Kind::EnumOr(SPOOFING, "unknown"),
    ),
    (RECEIVER, 9, "/receiver/fix/lat_deg", Kind::Scaled(1e7)),
    (RECEIVER, 10, "/receiver/fix/lon_deg", Kind::Scaled(1e7)),
    (RECEIVER, 11, "/receiver/fix/alt_msl_m", Kind::Scaled(100.0)),
    (SERVED, 1, "/served/stratum", Kind::Gauge),
    (SERVED, 2, "/served/leap_indicator", Kind::Gauge),
    (SERVED, 3, "/served/refid", Kind::Text),
    (SERVED, 4, "/served/root_dispersion_ns", Kind::Gauge),
    (SERVED, 5, "/served/root_delay_ns", Kind::Gauge),
    (SERVED, 6, "/served/synchronized", Kind::Truth),
    (NTP, 1, "/ntp/counters/requests", Kind::Counter64),
    (NTP, 2, "/ntp/counters/responses", Kind::Counter64),
    (NTP, 4, "/ntp/counters/kod_rate", Kind::Counter64),
    (NTP, 5, "/ntp/clients_tracked", Kind::Gauge),
    (NTP, 6, "/ntp/watch_summary/exe", Kind::Gauge),
    (NTP, 7, "/ntp/watch_summary/warn", Kind::Gauge),
    (NTP, 8, "/ntp/watch_summary/fail", Kind::Gauge),
];

/// Columns of the tables, read from each row: (column, pointer, kind).
type Columns = &'static [(u32, &'static str, Kind)];
const CONST_COLUMNS: Columns = &[
    (2, "/gnss", Kind::Text),
    (3, "/visible", Kind::Gauge),
    (4, "/used", Kind::Gauge),
];
const SAT_COLUMNS: Columns = &[
    (3, "/az_deg", Kind::Scaled(1.0)),
    (4, "/el_deg", Kind::Scaled(1.0)),
    (5, "/cn0_dbhz", Kind::Scaled(1.0)),
    (6, "/used", Kind::Truth),
    (7, "/healthy", Kind::Truth),
];
const PART_COLUMNS: Columns = &[
    (2, "/name", Kind::Text),
    (3, "/state", Kind::Enum(PART_STATE)),
    (4, "/restarts", Kind::Counter32),
    (6, "/last_error", Kind::Text),
];
/// The head-end watch (`ntp.watch`); derived columns are in [`rows`].
const WATCH_COLUMNS: Columns = &[
    (2, "/name", Kind::Text),
    (3, "/address", Kind::Text),
    (4, "/rule", Kind::Text),
    (5, "/expected", Kind::Truth),
    (6, "/state", Kind::Enum(WATCH_STATE)),
    (11, "/requests", Kind::Counter64),
    (12, "/mode", Kind::Gauge),
    (13, "/version", Kind::Gauge),
    (14, "/interval_s", Kind::Gauge),
    (15, "/expected_interval_s", Kind::Gauge),
    (16, "/tolerance_ns", Kind::Gauge),
    (18, "/offset_ns", Kind::Scaled(1.0)),
    (19, "/offset_uncertainty_ns", Kind::Gauge),
    (20, "/offset_method", Kind::Enum(OFFSET_METHOD)),
];

fn put_columns(r: &mut Rows, row: &Json, cols: Columns, oid: impl Fn(u32) -> Vec<u32>) {
    for &(col, ptr, kind) in cols {
        r.put(&oid(col), value(row, ptr, kind));
    }
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

const LOCK_STATE: &[&str] = &["acquiring", "locked", "holdover", "unsynchronized"];
const FIX_MODES: &[&str] = &["none", "2d", "3d", "time"];
const ANTENNA_STATUS: &[&str] = &["ok", "short", "open", "unknown"];
const ANTENNA_POWER: &[&str] = &["on", "off", "unknown"];
const JAMMING: &[&str] = &["unknown", "ok", "warning", "critical"];
const SPOOFING: &[&str] = &["unknown", "none", "indicated", "multiple"];
const PPS_STATE: &[&str] = &["waiting", "ok", "no_pulses", "wrong_rate"];
const PART_STATE: &[&str] = &["running", "restarting", "failed", "stalled", "stopped"];
/// GtsWatchState: exe(1), warn(2), fail(3).
pub(crate) const WATCH_STATE: &[&str] = &["EXE", "WARN", "FAIL"];
const OFFSET_METHOD: &[&str] = &["four_timestamp", "one_way", "unknown"];
/// Most rows of the watch table served (the snapshot bounds it already).
const MAX_WATCH_ROWS: usize = 10_000;

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

/// Whole seconds from `ptr`'s instant to the snapshot's time.
fn age_s(row: &Json, ptr: &str, now: Option<i64>) -> Option<Value> {
    let t = i64_at(row, ptr).filter(|&t| t > 0)?;
    Some(gauge((now? - t) / 1_000_000_000))
}

pub(super) fn rows(j: &Json, ctx: &MibContext, r: &mut Rows) {
    let now = now_ns(j);
    for &(group, item, ptr, kind) in SCALARS {
        r.put(&scalar(group, item), value(j, ptr, kind));
    }
    r.put(&scalar(SYSTEM, 2), Some(Value::TimeTicks(ctx.uptime_ticks)));
    r.put(&scalar(LOCK, 3), age_s(j, "/discipline/since_ns", now));
    r.put(&scalar(LOCK, 7), holdover_s(j).map(gauge));
    let (leap, leap_at) = leap_pending(j);
    r.put(&scalar(LOCK, 10), Some(int(leap)));
    r.put(&scalar(LOCK, 11), leap_at.map(|t| text(&iso_utc(t))));

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
    for c in list(j, "/receiver/constellations") {
        if let Some(g) = str_at(c, "/gnss").and_then(gnss_system) {
            put_columns(r, c, CONST_COLUMNS, |col| vec![1, CONST_TABLE, 1, col, g]);
        }
    }

    // Satellites: the contract's `receiver.sky`.
    for s in list(j, "/receiver/sky") {
        if let (Some(g), Some(svid)) = (
            str_at(s, "/gnss").and_then(gnss_system),
            i64_at(s, "/svid").and_then(|v| u32::try_from(v).ok()),
        ) {
            put_columns(r, s, SAT_COLUMNS, |col| vec![1, SAT_TABLE, 1, col, g, svid]);
        }
    }

    // NTP counters: the drops summed (unknown when any is unknown).
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
    .map(|n| i64_at(j, &format!("/ntp/counters/{n}")))
    .try_fold(0i64, |acc, v| v.map(|v| acc.saturating_add(v)));
    r.put(&scalar(NTP, 3), dropped.map(counter64));

    // Parts: the contract's `parts`, indexed by position.
    for (i, p) in list(j, "/parts").take(1000).enumerate() {
        let ix = i as u32 + 1;
        put_columns(r, p, PART_COLUMNS, |col| vec![1, PART_TABLE, 1, col, ix]);
        r.put(
            &[1, PART_TABLE, 1, 5, ix],
            age_s(p, "/last_heartbeat_ns", now),
        );
    }

    // Head-end watch: the contract's `ntp.watch`, indexed by position.
    for (i, w) in list(j, "/ntp/watch").take(MAX_WATCH_ROWS).enumerate() {
        let ix = i as u32 + 1;
        let oid = |col: u32| vec![1, WATCH_TABLE, 1, col, ix];
        put_columns(r, w, WATCH_COLUMNS, oid);
        r.put(&oid(7), Some(text(&list_text(w, "/reasons"))));
        r.put(&oid(8), age_s(w, "/since_ns", now));
        let seen = i64_at(w, "/last_seen_ns").filter(|&t| t > 0);
        r.put(&oid(9), seen.map(|t| text(&iso_utc(t))));
        r.put(&oid(10), age_s(w, "/last_seen_ns", now));
        r.put(&oid(17), f64_at(w, "/offset_ns").map(|v| text(&ms_text(v))));
    }
}

/// The array at `ptr`, or nothing.
fn list<'a>(j: &'a Json, ptr: &str) -> impl Iterator<Item = &'a Json> {
    at(j, ptr)
        .and_then(Json::as_array)
        .map(|a| a.iter())
        .into_iter()
        .flatten()
}

/// The strings of the array at `ptr`, comma-separated (reason codes,
/// configuration keys).
pub(crate) fn list_text(j: &Json, ptr: &str) -> String {
    list(j, ptr)
        .filter_map(Json::as_str)
        .collect::<Vec<_>>()
        .join(",")
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
    WatchState = 20,
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
            ConfigChanged | ClientFarOff | Test | WatchState => &[],
        }
    }
}

/// Objects only carried in notifications (gtsNotifObjects, root.2.N): their
/// values come from the event, not from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifObject {
    ConfigKeys = 2,
    ClientAddress = 3,
    ClientOffset = 4,
    ClientName = 5,
    WatchState = 6,
    WatchPreviousState = 7,
    WatchReasons = 8,
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
    gnss_notification_with(kind, text_, table, &[])
}

/// As [`gnss_notification`], followed by the event's own values.
pub fn gnss_notification_with(
    kind: GnssNotif,
    text_: &str,
    table: &MibTable,
    extra: &[(NotifObject, Value)],
) -> Vec<VarBind> {
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
    v.extend(extra.iter().map(|(o, value)| VarBind {
        name: gnss_root().child(&[2, *o as u32, 0]),
        value: value.clone(),
    }));
    v
}
