//! `status --summary`: the snapshot as a few lines a person reads at a
//! glance. Rendered from the snapshot's JSON (the same value `status` prints),
//! so a field another part has not published yet shows as `unknown` instead
//! of failing; nothing here computes its own version of the state.

use serde_json::Value;
use std::fmt::Write;

/// A field as text, `unknown` when absent or null.
fn text(v: &Value, ptr: &str) -> String {
    match v.pointer(ptr) {
        None | Some(Value::Null) => "unknown".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn num(v: &Value, ptr: &str) -> Option<f64> {
    v.pointer(ptr).and_then(Value::as_f64)
}

/// Nanoseconds in the unit a person reads: `850 ns`, `12.3 µs`, `4.1 ms`, `2.0 s`.
pub fn human_ns(ns: f64) -> String {
    let a = ns.abs();
    if !ns.is_finite() {
        "unknown".to_string()
    } else if a < 1e3 {
        format!("{ns:.0} ns")
    } else if a < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if a < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.1} s", ns / 1e9)
    }
}

/// Seconds as `3d 4h`, `2h 13m`, `5m 20s`, `42s`.
pub fn human_duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "unknown".to_string();
    }
    let s = s as u64;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) => format!("{m}m {sec}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// The summary lines (each ends with a newline).
pub fn render(v: &Value) -> String {
    let mut o = String::new();
    let uptime = num(v, "/uptime_s").map_or("unknown".to_string(), human_duration);
    let _ = writeln!(o, "gnss-timeserver {}  up {uptime}", text(v, "/version"));

    let state = text(v, "/discipline/state").to_uppercase();
    let bound = num(v, "/discipline/time_error_bound_ns").map_or("unknown".into(), human_ns);
    let offset = num(v, "/discipline/offset_ns").map_or("unknown".into(), human_ns);
    let _ = writeln!(
        o,
        "time       {state} ({})  error bound ±{bound}  offset {offset}",
        text(v, "/discipline/reason")
    );
    if let Some(jump) = num(v, "/discipline/pending_time_jump_ns") {
        let _ = writeln!(
            o,
            "           receiver time jumped by {}: `gnss-timeserver accept-time-jump` follows it",
            human_ns(jump)
        );
    }

    // What NTP serves: the snapshot's `served` view when published, else
    // what the discipline state implies is not guessed: unknown.
    let stratum = text(v, "/served/stratum");
    let li = text(v, "/served/leap_indicator");
    let refid = text(v, "/served/refid");
    let _ = writeln!(o, "ntp        stratum {stratum}  LI {li}  refid {refid}");
    let _ = writeln!(
        o,
        "           {} requests  {} answered  {} KoD RATE  {} kernel drops  {} clients",
        text(v, "/ntp/counters/requests"),
        text(v, "/ntp/counters/responses"),
        text(v, "/ntp/counters/kod_rate"),
        text(v, "/ntp/counters/kernel_rx_drops"),
        text(v, "/ntp/clients_tracked"),
    );

    let _ = writeln!(
        o,
        "receiver   fix {}  satellites {} used / {} visible  antenna {}",
        text(v, "/receiver/fix"),
        text(v, "/receiver/sats_used"),
        text(v, "/receiver/sats_visible"),
        text(v, "/receiver/antenna/status"),
    );
    let _ = writeln!(
        o,
        "           jamming {}  spoofing {}  serial {}",
        text(v, "/receiver/security/jamming"),
        text(v, "/receiver/security/spoofing"),
        match v.pointer("/serial/connected").and_then(Value::as_bool) {
            Some(true) => "connected",
            Some(false) => "DISCONNECTED",
            None => "unknown",
        },
    );
    let _ = writeln!(
        o,
        "pps        {}  {} pulses  {} missing",
        text(v, "/pps/state"),
        text(v, "/pps/pulses"),
        text(v, "/pps/missing"),
    );
    let _ = writeln!(
        o,
        "store      {} events  {} errors  {} dropped",
        text(v, "/store/events_stored"),
        text(v, "/store/errors"),
        text(v, "/store/dropped_events"),
    );
    // Parts that are not running, when the snapshot lists parts.
    if let Some(parts) = v.pointer("/parts").and_then(Value::as_array) {
        let bad: Vec<String> = parts
            .iter()
            .filter(|p| p.get("state").and_then(Value::as_str) != Some("running"))
            .map(|p| format!("{} {}", text(p, "/name"), text(p, "/state")))
            .collect();
        if bad.is_empty() {
            let _ = writeln!(o, "parts      all {} running", parts.len());
        } else {
            let _ = writeln!(o, "parts      {}", bad.join(", "));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn units_a_person_reads() {
        assert_eq!(human_ns(850.0), "850 ns");
        assert_eq!(human_ns(12_345.0), "12.3 µs");
        assert_eq!(human_ns(-4_100_000.0), "-4.1 ms");
        assert_eq!(human_ns(2.0e9), "2.0 s");
        assert_eq!(human_duration(42.0), "42s");
        assert_eq!(human_duration(8_000.0), "2h 13m");
        assert_eq!(human_duration(3.0 * 86_400.0 + 4.0 * 3600.0), "3d 4h");
    }

    #[test]
    fn missing_fields_read_unknown_and_present_ones_show() {
        let v = json!({
            "version": "9.9.9",
            "discipline": { "state": "locked", "reason": "tracking", "time_error_bound_ns": 123.0, "offset_ns": -4.0 },
            "ntp": { "counters": { "requests": 10, "responses": 9 } },
            "receiver": { "fix": "3d", "sats_used": 7, "sats_visible": 12, "antenna": null },
            "parts": [{ "name": "serial", "state": "running" }, { "name": "snmp", "state": "failed" }],
        });
        let s = render(&v);
        assert!(s.starts_with("gnss-timeserver 9.9.9  up unknown\n"), "{s}");
        assert!(
            s.contains("time       LOCKED (tracking)  error bound ±123 ns"),
            "{s}"
        );
        assert!(s.contains("10 requests  9 answered"), "{s}");
        assert!(s.contains("stratum unknown"), "{s}");
        assert!(s.contains("7 used / 12 visible  antenna unknown"), "{s}");
        assert!(s.contains("parts      snmp failed"), "{s}");
        assert!(s.lines().count() <= 12, "a glance, not a page: {s}");
    }
}
