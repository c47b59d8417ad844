use super::*;
use serde_json::json;

fn snap() -> Json {
    json!({
        "generated_at_ns": 1_800_000_000_000_000_000i64,
        "version": "0.1.0",
        "receiver": {
            "identity": { "model": "ZED-F9T", "firmware": null },
            "fix": { "mode": "time", "lat_deg": 52.5, "lon_deg": -13.25, "alt_msl_m": 34.56 },
            "sats_visible": 20, "sats_used": 12,
            "antenna": { "status": "open", "power": "on", "jamming": 7 },
            "security": { "jamming": "ok", "spoofing": "none" },
            "survey": { "progress": { "active": false, "valid": true } },
            "sky": [
                { "gnss": "GPS", "svid": 5, "az_deg": 120.4, "el_deg": 45.6, "cn0_dbhz": 41.0, "used": true, "healthy": null },
                { "gnss": "Galileo", "svid": 11, "az_deg": null, "el_deg": null, "cn0_dbhz": 30.0, "used": false, "healthy": true },
                { "gnss": "Martian", "svid": 1 }
            ],
            "constellations": [ { "gnss": "GPS", "visible": 9, "used": 7 } ],
            "counters": { "epochs": 100, "decode_errors": 2 }
        },
        "serial": { "connected": true, "silent": false },
        "pps": { "state": "ok", "interval_jitter_ns": 49.6, "pulses": 1000, "missing": 1 },
        "discipline": {
            "state": "holdover", "reason": "pps_missing",
            "since_ns": 1_800_000_000_000_000_000i64 - 90_000_000_000,
            "offset_ns": -12.4, "frequency_ppm": 1.2345, "time_error_bound_ns": 1500.2,
            "noise_ns": 48.0, "temperature_c": null,
            "leap": { "pending": { "at_utc_ns": 1_814_400_000_000_000_000i64, "insert": true } }
        },
        "served": { "stratum": 1, "leap_indicator": 1, "refid": "GPS",
                    "root_delay_ns": 0, "root_dispersion_ns": 1501, "synchronized": true },
        "ntp": { "precision": -23, "clients_tracked": 3,
                 "counters": { "requests": 10, "responses": 9, "drop_truncated": 1, "drop_version": 0,
                               "drop_mode": 0, "drop_malformed": 0, "drop_denied": 0, "drop_rate": 0,
                               "drop_auth": 0, "kod_rate": 0,
                               "by_mode": [0, 1, 0, 9, 0, 0, 0, 0] } },
        "parts": [ { "name": "serial", "state": "running", "restarts": 0,
                     "last_heartbeat_ns": 1_800_000_000_000_000_000i64 - 2_000_000_000, "last_error": null } ]
    })
}

fn get(t: &MibTable, root: &Oid, sub: &[u32]) -> Value {
    t.get(&root.child(sub)).value
}

/// Left out of the table: a Get finds no instance.
fn absent(v: Value) -> bool {
    matches!(v, Value::NoSuchInstance | Value::NoSuchObject)
}

#[test]
fn enterprise_objects_follow_the_snapshot() {
    let t = build(&snap(), &MibContext::default());
    let g = gnss_root();
    assert_eq!(get(&t, &g, &[1, 1, 3, 0]), Value::text("ZED-F9T"));
    // Unknown (null) values are absent, never 0.
    assert!(absent(get(&t, &g, &[1, 1, 4, 0])));
    assert!(absent(get(&t, &g, &[1, 2, 6, 0])));
    assert_eq!(get(&t, &g, &[1, 2, 1, 0]), Value::Integer(3));
    assert_eq!(get(&t, &g, &[1, 2, 2, 0]), Value::text("pps_missing"));
    assert_eq!(get(&t, &g, &[1, 2, 3, 0]), Value::Gauge32(90));
    assert_eq!(get(&t, &g, &[1, 2, 4, 0]), Value::Gauge32(1500));
    assert_eq!(get(&t, &g, &[1, 2, 5, 0]), Value::Integer(1235));
    assert_eq!(get(&t, &g, &[1, 2, 7, 0]), Value::Gauge32(90));
    assert_eq!(get(&t, &g, &[1, 2, 10, 0]), Value::Integer(2));
    assert_eq!(
        get(&t, &g, &[1, 2, 11, 0]),
        Value::text("2027-07-01T00:00:00Z")
    );
    assert_eq!(get(&t, &g, &[1, 3, 2, 0]), Value::Integer(-12));
    assert_eq!(get(&t, &g, &[1, 3, 3, 0]), Value::Gauge32(50));
    assert_eq!(get(&t, &g, &[1, 4, 1, 0]), Value::Integer(4));
    assert_eq!(get(&t, &g, &[1, 4, 4, 0]), Value::Integer(3));
    assert_eq!(get(&t, &g, &[1, 4, 6, 0]), Value::Integer(2));
    assert_eq!(get(&t, &g, &[1, 4, 8, 0]), Value::Integer(2));
    assert_eq!(get(&t, &g, &[1, 4, 9, 0]), Value::Integer(525_000_000));
    assert_eq!(get(&t, &g, &[1, 4, 10, 0]), Value::Integer(-132_500_000));
    assert_eq!(get(&t, &g, &[1, 4, 11, 0]), Value::Integer(3456));
    assert_eq!(get(&t, &g, &[1, 4, 12, 0]), Value::Integer(3));
    assert_eq!(get(&t, &g, &[1, 4, 13, 0]), Value::Integer(1));
    assert_eq!(get(&t, &g, &[1, 5, 1, 3, 1]), Value::Gauge32(9));
    assert_eq!(get(&t, &g, &[1, 6, 1, 3, 1, 5]), Value::Integer(120));
    assert_eq!(get(&t, &g, &[1, 6, 1, 5, 3, 11]), Value::Integer(30));
    assert!(absent(get(&t, &g, &[1, 6, 1, 3, 3, 11])));
    assert!(absent(get(&t, &g, &[1, 6, 1, 7, 1, 5])));
    assert_eq!(get(&t, &g, &[1, 6, 1, 7, 3, 11]), Value::Integer(1));
    assert_eq!(get(&t, &g, &[1, 7, 1, 0]), Value::Gauge32(1));
    assert_eq!(get(&t, &g, &[1, 7, 6, 0]), Value::Integer(1));
    assert_eq!(get(&t, &g, &[1, 8, 3, 0]), Value::Counter64(1));
    assert_eq!(get(&t, &g, &[1, 9, 1, 2, 1]), Value::text("serial"));
    assert_eq!(get(&t, &g, &[1, 9, 1, 5, 1]), Value::Gauge32(2));
    // The unknown constellation is skipped, not mis-indexed.
    assert!(t
        .rows()
        .iter()
        .all(|(o, _)| !o.starts_with(&g.child(&[1, 6, 1, 3, 0]))));
}

#[test]
fn ntpv4_objects_follow_the_snapshot() {
    let ctx = MibContext {
        uptime_ticks: 123,
        notifications_sent: 4,
        heartbeat_interval_s: 60,
    };
    let t = build(&snap(), &ctx);
    let n = ntp_root();
    assert_eq!(get(&t, &n, &[1, 1, 6, 0]), Value::Integer(-23));
    assert_eq!(get(&t, &n, &[1, 1, 7, 0]), Value::text("0.001501 ms"));
    assert_eq!(get(&t, &n, &[1, 2, 1, 0]), Value::Integer(5));
    assert_eq!(get(&t, &n, &[1, 2, 2, 0]), Value::Gauge32(1));
    assert_eq!(get(&t, &n, &[1, 2, 3, 0]), Value::Gauge32(1));
    assert_eq!(get(&t, &n, &[1, 2, 5, 0]), Value::text("-0.000012 ms"));
    assert_eq!(get(&t, &n, &[1, 2, 8, 0]), Value::TimeTicks(123));
    let Value::OctetString(dt) = get(&t, &n, &[1, 2, 9, 0]) else {
        panic!("date-time")
    };
    assert_eq!(dt.len(), 16);
    // 2027: era 0, 1.8e9 + 2 208 988 800 s into it.
    assert_eq!(&dt[..4], &[0, 0, 0, 0]);
    assert_eq!(&dt[4..8], &(4_008_988_800u32).to_be_bytes());
    assert_eq!(get(&t, &n, &[1, 2, 11, 0]), Value::Integer(1));
    assert_eq!(get(&t, &n, &[1, 2, 12, 0]), Value::Counter32(10));
    assert_eq!(get(&t, &n, &[1, 2, 15, 0]), Value::Counter32(1));
    assert_eq!(get(&t, &n, &[1, 2, 16, 0]), Value::Counter32(4));
    assert_eq!(get(&t, &n, &[1, 2, 17, 1, 3, 3]), Value::Counter32(9));
    assert_eq!(get(&t, &n, &[1, 2, 17, 1, 2, 4]), Value::Counter32(8));
    assert_eq!(get(&t, &n, &[1, 3, 1, 1, 3, 1]), Value::text("GPS"));
    assert_eq!(
        get(&t, &n, &[1, 3, 1, 1, 5, 1]),
        Value::OctetString(vec![127, 127, 20, 0])
    );
    assert_eq!(get(&t, &n, &[1, 3, 2, 1, 1, 1]), Value::Counter32(100));
    assert_eq!(
        get(&t, &n, &[1, 4, 2, 0]),
        Value::OctetString(vec![0x61, 0x80])
    );
}

#[test]
fn unsynchronized_serves_mode_2_and_no_active_source() {
    let mut s = snap();
    s["served"]["synchronized"] = json!(false);
    s["served"]["stratum"] = json!(16);
    s["discipline"]["leap"] = json!(null);
    let t = build(&s, &MibContext::default());
    let n = ntp_root();
    assert_eq!(get(&t, &n, &[1, 2, 1, 0]), Value::Integer(2));
    assert_eq!(get(&t, &n, &[1, 2, 2, 0]), Value::Gauge32(16));
    assert_eq!(get(&t, &n, &[1, 2, 3, 0]), Value::Gauge32(0));
    assert_eq!(get(&t, &n, &[1, 2, 10, 0]), Value::OctetString(vec![]));
    assert_eq!(get(&t, &gnss_root(), &[1, 2, 10, 0]), Value::Integer(1));
}

#[test]
fn an_empty_snapshot_builds_without_inventing_values() {
    let t = build(&json!({}), &MibContext::default());
    let g = gnss_root();
    assert!(absent(get(&t, &g, &[1, 2, 1, 0])));
    assert!(absent(get(&t, &g, &[1, 4, 2, 0])));
    // Garbage of the wrong types is skipped too.
    let t = build(
        &json!({"discipline": {"state": 5, "time_error_bound_ns": "x"}, "receiver": {"sky": {"a": 1}}}),
        &MibContext::default(),
    );
    assert!(absent(get(&t, &g, &[1, 2, 1, 0])));
}

/// Rows of the head-end watch contract (`ntp.watch`).
fn watch_snap() -> Json {
    let now = 1_800_000_000_000_000_000i64;
    json!({
        "generated_at_ns": now,
        "ntp": {
            "watch_summary": { "exe": 1, "warn": 0, "fail": 1 },
            "watch": [
                { "name": "plc-1", "address": "10.0.0.7", "rule": "10.0.0.7", "expected": true,
                  "state": "FAIL", "reasons": ["never_seen"], "since_ns": now - 30_000_000_000,
                  "last_seen_ns": null, "requests": 0, "mode": null, "version": null,
                  "interval_s": null, "expected_interval_s": 64, "tolerance_ns": 1_000_000,
                  "offset_ns": null, "offset_uncertainty_ns": null, "offset_method": "unknown" },
                { "name": null, "address": "2001:db8::5", "rule": null, "expected": false,
                  "state": "WARN", "reasons": ["old_version", "irregular_polling"],
                  "since_ns": now - 5_000_000_000, "last_seen_ns": now - 2_000_000_000,
                  "requests": 42, "mode": 3, "version": 3, "interval_s": 16.4,
                  "expected_interval_s": null, "tolerance_ns": 1_000_000,
                  "offset_ns": -3_000_000_000i64, "offset_uncertainty_ns": 250_000,
                  "offset_method": "one_way" }
            ]
        }
    })
}

#[test]
fn watch_table_follows_the_head_end_contract() {
    let t = build(&watch_snap(), &MibContext::default());
    let g = gnss_root();
    let w = |col: u32, row: u32| get(&t, &g, &[1, 10, 1, col, row]);
    assert_eq!(get(&t, &g, &[1, 8, 6, 0]), Value::Gauge32(1));
    assert_eq!(get(&t, &g, &[1, 8, 8, 0]), Value::Gauge32(1));
    assert_eq!(w(2, 1), Value::text("plc-1"));
    assert_eq!(w(5, 1), Value::Integer(1));
    assert_eq!(w(6, 1), Value::Integer(3), "fail(3)");
    assert_eq!(w(7, 1), Value::text("never_seen"));
    assert_eq!(w(8, 1), Value::Gauge32(30));
    assert_eq!(w(15, 1), Value::Gauge32(64));
    assert_eq!(w(20, 1), Value::Integer(3));
    // Never seen: no last-seen, no offset; a learned row has no name.
    for col in [9, 10, 12, 17, 18, 19] {
        assert!(absent(w(col, 1)), "column {col}");
    }
    assert!(absent(w(2, 2)));
    assert_eq!(w(3, 2), Value::text("2001:db8::5"));
    assert_eq!(w(5, 2), Value::Integer(2));
    assert_eq!(w(6, 2), Value::Integer(2), "warn(2)");
    assert_eq!(w(7, 2), Value::text("old_version,irregular_polling"));
    assert_eq!(w(9, 2), Value::text("2027-01-15T07:59:58Z"));
    assert_eq!(w(10, 2), Value::Gauge32(2));
    assert_eq!(w(11, 2), Value::Counter64(42));
    assert_eq!(w(13, 2), Value::Gauge32(3));
    assert_eq!(w(14, 2), Value::Gauge32(16));
    assert_eq!(w(17, 2), Value::text("-3000.000000 ms"));
    assert_eq!(w(18, 2), Value::Integer(i32::MIN), "saturated");
    assert_eq!(w(19, 2), Value::Gauge32(250_000));
    assert_eq!(w(20, 2), Value::Integer(2), "oneWay(2)");
}
