//! The live `demo` snapshot (control socket `status`) against the JSON
//! Schema in docs/status.schema.json, and every part of the daemon in it
//! with a heartbeat.

mod daemon_support;

use daemon_support::{start_demo, wait_status};
use std::time::Duration;

fn schema() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/status.schema.json");
    let text = std::fs::read_to_string(path).expect("docs/status.schema.json");
    serde_json::from_str(&text).expect("the schema is JSON")
}

fn check(validator: &jsonschema::Validator, snap: &serde_json::Value, when: &str) {
    let errors: Vec<String> = validator
        .iter_errors(snap)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{when}: {errors:#?}\n{snap:#}");
}

#[test]
fn live_demo_snapshot_matches_the_schema_and_shows_every_part() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid JSON Schema");
    let dir = tempfile::tempdir().expect("tempdir");
    let (_demo, _ntp, sock) = start_demo(&dir.path().join("data"));

    // Early: nothing known yet (nulls where unknown) must fit too.
    let early = wait_status(&sock, "composed", Duration::from_secs(30), |v| {
        v["generated_at_ns"].is_i64()
    });
    check(&validator, &early, "before lock");
    assert_eq!(early["served"]["stratum"], 16);

    let locked = wait_status(&sock, "locked", Duration::from_secs(120), |v| {
        v["discipline"]["state"] == "locked" && v["served"]["synchronized"] == true
    });
    check(&validator, &locked, "locked");
    assert_eq!(locked["schema_version"], 1);
    assert_eq!(locked["served"]["stratum"], 1);
    assert_eq!(locked["served"]["refid"], "GPS");
    assert!(locked["discipline"]["time_error_bound_ns"].is_f64());
    assert!(locked["discipline"]["holdover_time_to_limit_s"].is_f64());

    // Every thread and task, alive: a heartbeat seen and running.
    let parts = locked["parts"].as_array().expect("parts");
    let names: Vec<&str> = parts.iter().filter_map(|p| p["name"].as_str()).collect();
    for want in [
        "serial",
        "pps",
        "discipline",
        "ntp-worker-0",
        "store",
        "publish",
        "control",
        "ntp-status",
    ] {
        assert!(names.contains(&want), "part {want} missing from {names:?}");
    }
    let generated = locked["generated_at_ns"].as_i64().expect("stamped");
    for p in parts {
        assert_eq!(p["state"], "running", "{p}");
        let hb = p["last_heartbeat_ns"]
            .as_i64()
            .unwrap_or_else(|| panic!("no heartbeat: {p}"));
        assert!(hb <= generated, "{p}");
    }
    // Threads beat all the time: their last heartbeat is recent.
    for name in ["serial", "pps", "discipline", "ntp-worker-0"] {
        let p = parts.iter().find(|p| p["name"] == name).expect("part");
        let age = generated - p["last_heartbeat_ns"].as_i64().unwrap_or(0);
        assert!(age < 5_000_000_000, "{name} last beat {age} ns ago");
    }
}
