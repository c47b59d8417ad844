//! Head-end watch series (issue 14): per watched (expected) client, labels
//! `name` and `address`; learned clients are left out (a flood of strangers
//! must not become a flood of series).

use super::{at, Exposition};
use serde_json::Value;

const WATCH_STATES: &[&str] = &["EXE", "WARN", "FAIL"];

pub(super) fn render(e: &mut Exposition, s: &Value) {
    if let Some(sum) = at(s, "ntp.watch_summary") {
        let mut f = e.family(
            "ntp_watch_clients",
            "gauge",
            "Watched NTP clients by head-end state (EXE, WARN, FAIL).",
        );
        for (state, key) in [("EXE", "exe"), ("WARN", "warn"), ("FAIL", "fail")] {
            if let Some(v) = sum.get(key).and_then(Value::as_f64) {
                f.sample("ntp_watch_clients", &[("state", state)], v);
            }
        }
    }
    let Some(Value::Array(rows)) = at(s, "ntp.watch") else {
        return;
    };
    let watched: Vec<(&str, &str, &Value)> = rows
        .iter()
        .filter(|r| r.get("expected").and_then(Value::as_bool) == Some(true))
        .map(|r| {
            (
                r.get("name").and_then(Value::as_str).unwrap_or(""),
                r.get("address").and_then(Value::as_str).unwrap_or(""),
                r,
            )
        })
        .collect();
    if watched.is_empty() {
        return;
    }
    let mut f = e.family(
        "ntp_watch_state",
        "gauge",
        "Head-end state of a watched NTP client (1 for the current state).",
    );
    for (name, addr, r) in &watched {
        let cur = r.get("state").and_then(Value::as_str).unwrap_or("");
        for st in WATCH_STATES {
            let v = if *st == cur { 1.0 } else { 0.0 };
            f.sample(
                "ntp_watch_state",
                &[("name", name), ("address", addr), ("state", st)],
                v,
            );
        }
    }
    // (metric, row key, help, divisor to seconds)
    let series: [(&str, &str, &str, f64); 4] = [
        (
            "ntp_watch_offset_seconds",
            "offset_ns",
            "Estimated clock offset of a watched client (client minus server); absent when unknown.",
            1e9,
        ),
        (
            "ntp_watch_offset_uncertainty_seconds",
            "offset_uncertainty_ns",
            "Uncertainty (half width) of the offset estimate of a watched client.",
            1e9,
        ),
        (
            "ntp_watch_last_seen_timestamp_seconds",
            "last_seen_ns",
            "When a watched client last sent a request (Unix time).",
            1e9,
        ),
        (
            "ntp_watch_poll_interval_seconds",
            "interval_s",
            "Observed poll interval of a watched client (median of recent gaps).",
            1.0,
        ),
    ];
    for (metric, key, help, scale) in series {
        let vals: Vec<_> = watched
            .iter()
            .filter_map(|(n, a, r)| Some((*n, *a, r.get(key)?.as_f64()? / scale)))
            .collect();
        if vals.is_empty() {
            continue;
        }
        let mut f = e.family(metric, "gauge", help);
        for (n, a, v) in vals {
            f.sample(metric, &[("name", n), ("address", a)], v);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn snapshot() -> serde_json::Value {
        json!({"ntp": {
        "counters": {"requests": 1},
        "watch_summary": {"exe": 1, "warn": 0, "fail": 1},
        "watch": [
            {"name": "sgo-1", "address": "10.0.0.5", "expected": true, "state": "EXE",
             "offset_ns": 2_500_000, "offset_uncertainty_ns": 100_000_000,
             "last_seen_ns": 1_800_000_000_000_000_000i64, "interval_s": 64.0},
            {"name": "sgo-2", "address": "10.0.0.6", "expected": true, "state": "FAIL",
             "offset_ns": null, "last_seen_ns": null, "interval_s": null},
            {"name": null, "address": "192.0.2.9", "expected": false, "state": "WARN",
             "offset_ns": 5}
        ]}})
    }

    #[test]
    fn watched_clients_export_state_offset_last_seen_interval() {
        let out = super::super::render(&snapshot());
        for line in [
            "gnss_timeserver_ntp_watch_clients{state=\"FAIL\"} 1",
            "gnss_timeserver_ntp_watch_state{name=\"sgo-1\",address=\"10.0.0.5\",state=\"EXE\"} 1",
            "gnss_timeserver_ntp_watch_state{name=\"sgo-2\",address=\"10.0.0.6\",state=\"FAIL\"} 1",
            "gnss_timeserver_ntp_watch_state{name=\"sgo-2\",address=\"10.0.0.6\",state=\"EXE\"} 0",
            "gnss_timeserver_ntp_watch_offset_seconds{name=\"sgo-1\",address=\"10.0.0.5\"} 2.5e-3",
            "gnss_timeserver_ntp_watch_poll_interval_seconds{name=\"sgo-1\",address=\"10.0.0.5\"} 64",
        ] {
            assert!(out.contains(line), "missing {line}\n{out}");
        }
        assert!(
            out.contains("gnss_timeserver_ntp_watch_last_seen_timestamp_seconds{name=\"sgo-1\"")
        );
        // Unknown values left out; learned clients not exported.
        assert!(!out.contains("offset_seconds{name=\"sgo-2\""), "{out}");
        assert!(!out.contains("192.0.2.9"), "{out}");
    }

    #[test]
    fn watch_series_pass_promtool() {
        use std::io::Write;
        let out = super::super::render(&snapshot());
        let mut child = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("promtool not found: install the Debian package `prometheus` (see .ci/run)");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(out.as_bytes())
            .expect("write");
        let r = child.wait_with_output().expect("promtool");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(
            r.status.success() && !text.contains("ntp_watch"),
            "{text}\n{out}"
        );
    }
}
