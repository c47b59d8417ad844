use super::*;
use crate::snmp::codec::Value;
use crate::snmp::mib::{build, gnss_root, ntp_root, MibContext};
use serde_json::json;

fn base() -> Json {
    json!({
        "generated_at_ns": 1_000_000_000_000i64,
        "receiver": { "fix": { "mode": "time" },
                      "antenna": { "status": "ok", "power": "on" },
                      "security": { "jamming": "ok", "spoofing": "none" } },
        "serial": { "connected": true, "silent": false },
        "discipline": { "state": "locked", "reason": "consistent_samples", "time_error_bound_ns": 40 },
        "served": { "stratum": 1, "synchronized": true }
    })
}

/// The trap OIDs of what `observe` returns for `j`.
fn traps(n: &mut Notifier, j: &Json) -> Vec<Oid> {
    let t = build(j, &MibContext::default());
    n.observe(j, &t, 0)
        .into_iter()
        .map(|vbs| match &vbs[0].value {
            Value::ObjectId(o) => o.clone(),
            v => panic!("first varbind must be snmpTrapOID: {v:?}"),
        })
        .collect()
}

fn g(n: u32) -> Oid {
    gnss_root().child(&[0, n])
}

fn ntp(n: u32) -> Oid {
    ntp_root().child(&[0, n])
}

use crate::snmp::Oid;

#[test]
fn a_healthy_start_is_quiet_and_an_antenna_fault_is_reported_once() {
    let mut n = Notifier::new(0);
    assert!(traps(&mut n, &base()).is_empty());
    assert!(traps(&mut n, &base()).is_empty());
    let mut j = base();
    j["receiver"]["antenna"]["status"] = json!("open");
    let t = build(&j, &MibContext::default());
    let out = n.observe(&j, &t, 0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0][0].value, Value::ObjectId(g(9)));
    assert_eq!(out[0][1].value, Value::text("GNSS antenna faulty: open"));
    // The antenna status itself rides along.
    assert!(out[0]
        .iter()
        .any(|vb| vb.name == gnss_root().child(&[1, 4, 4, 0]) && vb.value == Value::Integer(3)));
    assert!(traps(&mut n, &j).is_empty());
    // Unknown does not clear; ok does.
    j["receiver"]["antenna"] = json!(null);
    assert!(traps(&mut n, &j).is_empty());
    assert_eq!(traps(&mut n, &base()), vec![g(10)]);
}

#[test]
fn a_fault_present_at_start_is_reported() {
    let mut n = Notifier::new(0);
    let mut j = base();
    j["receiver"]["security"]["jamming"] = json!("critical");
    assert_eq!(traps(&mut n, &j), vec![g(11)]);
}

#[test]
fn holdover_then_unsynchronized_then_locked_again() {
    let mut n = Notifier::new(0);
    traps(&mut n, &base());
    let mut j = base();
    j["discipline"]["state"] = json!("holdover");
    j["discipline"]["reason"] = json!("pps_missing");
    assert_eq!(traps(&mut n, &j), vec![g(3)]);
    j["discipline"]["state"] = json!("unsynchronized");
    j["discipline"]["reason"] = json!("bound_exceeded");
    j["served"] = json!({ "stratum": 16, "synchronized": false });
    assert_eq!(traps(&mut n, &j), vec![g(1), ntp(1), ntp(2), g(4)]);
    assert_eq!(traps(&mut n, &base()), vec![g(2), ntp(1), ntp(2)]);
}

#[test]
fn leap_announcement_and_heartbeat() {
    let mut n = Notifier::new(10);
    let t = build(&base(), &MibContext::default());
    assert!(n.observe(&base(), &t, 0).is_empty());
    let mut j = base();
    j["discipline"]["leap"] = json!({ "pending": { "at_utc_ns": 0, "insert": false } });
    let out = n.observe(&j, &t, 5_000_000_000);
    assert_eq!(out.len(), 2);
    assert!(matches!(&out[1][0].value, Value::ObjectId(o) if *o == ntp(7)));
    let out = n.observe(&j, &t, 10_000_000_000);
    assert_eq!(out.len(), 1, "heartbeat due");
    assert!(matches!(&out[0][0].value, Value::ObjectId(o) if *o == ntp(8)));
    assert!(n.observe(&j, &t, 15_000_000_000).is_empty());
}

#[test]
fn receiver_link_and_fix_changes() {
    let mut n = Notifier::new(0);
    traps(&mut n, &base());
    let mut j = base();
    j["serial"]["silent"] = json!(true);
    j["receiver"]["fix"]["mode"] = json!("none");
    assert_eq!(traps(&mut n, &j), vec![g(5), g(7)]);
    assert_eq!(traps(&mut n, &base()), vec![g(6), g(8)]);
    assert!(traps(&mut n, &base()).is_empty());
}

#[test]
fn a_receiver_coming_up_at_start_is_not_news() {
    let mut n = Notifier::new(0);
    let mut j = base();
    j["serial"]["connected"] = json!(false);
    j["receiver"]["fix"]["mode"] = json!("none");
    assert!(traps(&mut n, &j).is_empty());
    assert!(traps(&mut n, &base()).is_empty());
}

/// The varbind named `sub` under the enterprise root, if carried.
fn carried(vbs: &[crate::snmp::codec::VarBind], sub: &[u32]) -> Option<Value> {
    let name = gnss_root().child(sub);
    vbs.iter()
        .find(|vb| vb.name == name)
        .map(|vb| vb.value.clone())
}

#[test]
fn events_become_their_notifications_with_their_values() {
    let n = Notifier::new(0);
    let t = build(&base(), &MibContext::default());
    let cfg = n
        .on_event(
            "config.changed",
            &json!({ "keys": ["ntp.rate-limit", "http.time-zone"], "by": "admin" }),
            &t,
        )
        .expect("config.changed notifies");
    assert_eq!(cfg[0].value, Value::ObjectId(g(16)));
    assert_eq!(
        cfg[1].value,
        Value::text("configuration changed by admin: ntp.rate-limit,http.time-zone")
    );
    assert_eq!(
        carried(&cfg, &[2, 2, 0]),
        Some(Value::text("ntp.rate-limit,http.time-zone"))
    );

    let far = n
        .on_event(
            "ntp.client_offset",
            &json!({ "client": "192.0.2.9", "offset_ns": 2_000_000_000i64, "bound_ns": 1500 }),
            &t,
        )
        .expect("ntp.client_offset notifies");
    assert_eq!(far[0].value, Value::ObjectId(g(18)));
    assert_eq!(carried(&far, &[2, 3, 0]), Some(Value::text("192.0.2.9")));
    assert_eq!(
        carried(&far, &[2, 4, 0]),
        Some(Value::text("2000.000000 ms"))
    );

    // Events without a notification, and malformed data, send nothing.
    assert!(n
        .on_event("ntp.client_offset_cleared", &json!({}), &t)
        .is_none());
    assert!(n
        .on_event("antenna.state", &json!({"status": "open"}), &t)
        .is_none());
    assert!(n
        .on_event("ntp.client_offset", &json!({"client": 5}), &t)
        .is_none());
    assert!(n
        .on_event("ntp.watch_state", &json!({"to": "BAD"}), &t)
        .is_none());
}

#[test]
fn a_watch_state_event_carries_name_states_reasons_and_offset() {
    let n = Notifier::new(0);
    let t = build(&base(), &MibContext::default());
    let data = json!({ "name": "plc-1", "address": "10.0.0.7", "from": "EXE", "to": "FAIL",
                       "reasons": ["not_seen"], "last_seen_ns": 5, "interval_s": 64,
                       "offset_ns": -1500, "offset_uncertainty_ns": 100,
                       "offset_method": "four_timestamp" });
    let v = n.on_event("ntp.watch_state", &data, &t).expect("notifies");
    assert_eq!(v[0].value, Value::ObjectId(g(20)));
    assert_eq!(
        v[1].value,
        Value::text("watched NTP client plc-1 10.0.0.7: EXE -> FAIL (not_seen)")
    );
    assert_eq!(carried(&v, &[2, 5, 0]), Some(Value::text("plc-1")));
    assert_eq!(carried(&v, &[2, 6, 0]), Some(Value::Integer(3)));
    assert_eq!(carried(&v, &[2, 7, 0]), Some(Value::Integer(1)));
    assert_eq!(carried(&v, &[2, 8, 0]), Some(Value::text("not_seen")));
    assert_eq!(carried(&v, &[2, 4, 0]), Some(Value::text("-0.001500 ms")));
    // First verdict of a learned client: no previous state, no offset.
    let data = json!({ "name": null, "address": "10.0.0.8", "from": null, "to": "WARN",
                       "reasons": [], "offset_ns": null });
    let v = n.on_event("ntp.watch_state", &data, &t).expect("notifies");
    assert_eq!(carried(&v, &[2, 5, 0]), Some(Value::text("learned client")));
    assert_eq!(carried(&v, &[2, 7, 0]), None);
    assert_eq!(carried(&v, &[2, 4, 0]), None);
}
