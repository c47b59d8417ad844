//! Prometheus side: the live `/metrics` of `demo` passes `promtool check
//! metrics`; the alert rules pass `promtool check rules` and their unit
//! tests (`promtool test rules`); every metric the rules and the Grafana
//! dashboard use is one `/metrics` exports. promtool comes from the Debian
//! package `prometheus`; these tests fail when it is missing.

mod web_support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use web_support::*;

fn promtool() -> Command {
    let found = Command::new("promtool").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "promtool not found: install the Debian package `prometheus` (see .ci/run)"
    );
    Command::new("promtool")
}

fn board(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("board").join(p)
}

#[test]
fn live_metrics_pass_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(dir.path());
    // Families that must be there once the receiver is heard and the servo
    // has samples (before that, unknown values are left out, never 0).
    let families = [
        "gnss_timeserver_info",
        "gnss_timeserver_lock_state",
        "gnss_timeserver_time_error_bound_seconds",
        "gnss_timeserver_frequency_adjustment_ratio",
        "gnss_timeserver_pps_jitter_seconds",
        "gnss_timeserver_antenna_status",
        "gnss_timeserver_ntp_requests_total",
    ];
    let mut text = String::new();
    wait_for("the metric families", Duration::from_secs(90), || {
        text = get(demo.http, "/metrics").text();
        families
            .iter()
            .all(|f| text.contains(&format!("# TYPE {f} ")))
    });
    let r = get(demo.http, "/metrics");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.headers
    );
    let mut child = promtool()
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&r.body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}\n--- metrics ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        r.text()
    );
}

#[test]
fn alert_rules_check_and_unit_tests_pass() {
    let out = promtool()
        .args(["check", "rules"])
        .arg(board("prometheus/alerts.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = promtool()
        .args(["test", "rules"])
        .arg(board("prometheus/alerts_test.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Names `gnss_timeserver_…` used in a text.
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("gnss_timeserver_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

#[test]
fn rules_and_dashboard_use_exported_metrics() {
    // A snapshot with every part of the shared status contract filled in.
    let snap = serde_json::json!({
        "version": "t", "generated_at_ns": 10_000_000_000i64, "uptime_s": 5,
        "discipline": {"state": "holdover", "since_ns": 1, "time_error_bound_ns": 1.0,
            "offset_ns": 1.0, "frequency_ppm": 0.1, "correction_ppm": 0.1, "temperature_c": 40.0,
            "steps": 0, "leap": {"pending": {"at_utc_ns": 1, "insert": true}}},
        "pps": {"interval_jitter_ns": 1.0, "pulses": 1, "missing": 0},
        "receiver": {"antenna": {"status": "ok", "power": "on", "jamming": 1, "noise_per_ms": 80, "agc_count": 5000},
            "security": {"jamming": "ok", "spoofing": "none"},
            "sky": [{"gnss": "GPS", "svid": 1, "cn0_dbhz": 40.0, "used": true}],
            "constellations": [{"gnss": "GPS", "visible": 1, "used": 1}]},
        "served": {"stratum": 1, "leap_indicator": 0, "root_delay_ns": 0, "root_dispersion_ns": 10,
            "reference_time_ns": 1, "synchronized": true},
        "parts": [{"name": "serial", "state": "running", "last_heartbeat_ns": 1, "restarts": 0}],
        "ntp": {"counters": {"requests": 1, "responses": 1, "kod_rate": 0, "drop_mode": 0}, "clients_tracked": 0},
        "serial": {"outages": 0}, "store": {"dropped_events": 0}
    });
    let exported = metric_names(&gnss_timeserver::web::metrics::render(&snap));
    for file in ["prometheus/alerts.yml", "grafana/gnss-timeserver.json"] {
        let text = std::fs::read_to_string(board(file)).unwrap();
        let used = metric_names(&text);
        assert!(!used.is_empty(), "{file} uses no metric");
        for m in &used {
            assert!(
                exported.contains(m),
                "{file} uses {m}, which /metrics does not export"
            );
        }
    }
    let dash: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(board("grafana/gnss-timeserver.json")).unwrap(),
    )
    .unwrap();
    assert!(dash["panels"].as_array().is_some_and(|p| !p.is_empty()));
}
