//! SNMP end to end with Debian's net-snmp: a private `snmpd` (AgentX master
//! on a socket in a temp dir, SNMP on a free loopback UDP port, v2c
//! community and a v3 authPriv SHA-256/AES user), a private `snmptrapd`, and
//! `demo --agentx`. Checks: `snmpwalk` v2c and v3 over both MIBs agree with
//! the control socket's snapshot and every walked OID has a name in our
//! MIBs; the antenna-fault notification arrives after `scenario
//! antenna-open`, the holdover and not-synchronized ones after
//! `signal-loss` runs past a short holdover limit; snmpd killed and
//! restarted: the subagent registers again and walks work. Prints the
//! walk time of the enterprise MIB and the notification latencies (numbers
//! for the docs; nothing here asserts a duration).
//!
//! Needs `snmpd`, `snmpwalk`, `snmptrapd` (Debian snmpd, snmp, snmptrapd):
//! a missing tool FAILS the test.

mod demo_support;
mod snmp_support;

use demo_support::*;
use serde_json::Value as Json;
use snmp_support::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn u(j: &Json) -> u64 {
    j.as_u64().unwrap_or_else(|| panic!("not a number: {j}"))
}

fn position(names: &[&str], s: &Json) -> String {
    let s = s.as_str().unwrap_or("unknown");
    (names.iter().position(|n| *n == s).expect("known value") + 1).to_string()
}

/// The walked values equal the snapshot taken around the walk (fields that
/// cannot change between the two snapshots while locked and healthy).
fn check_against_snapshot(w: &BTreeMap<String, String>, before: &Json, after: &Json, what: &str) {
    let g = |s: &str| {
        w.get(&format!("{GTS}.{s}"))
            .cloned()
            .unwrap_or_else(|| panic!("{what}: {GTS}.{s} missing"))
    };
    let n = |s: &str| {
        w.get(&format!("{NTPV4}.{s}"))
            .cloned()
            .unwrap_or_else(|| panic!("{what}: {NTPV4}.{s} missing"))
    };
    let r = &after["receiver"];
    assert_eq!(g("1.1.1.0"), after["version"].as_str().unwrap(), "{what}");
    assert_eq!(
        g("1.1.3.0"),
        r["identity"]["model"].as_str().unwrap(),
        "{what}"
    );
    assert_eq!(g("1.2.1.0"), "2", "{what}: gtsLockState locked");
    assert_eq!(after["discipline"]["state"], "locked");
    assert_eq!(
        g("1.2.2.0"),
        after["discipline"]["reason"].as_str().unwrap(),
        "{what}"
    );
    assert_eq!(g("1.4.2.0"), u(&r["sats_visible"]).to_string(), "{what}");
    assert_eq!(g("1.4.3.0"), u(&r["sats_used"]).to_string(), "{what}");
    assert_eq!(
        g("1.4.4.0"),
        position(&["ok", "short", "open", "unknown"], &r["antenna"]["status"]),
        "{what}"
    );
    assert_eq!(
        g("1.4.5.0"),
        position(&["on", "off", "unknown"], &r["antenna"]["power"]),
        "{what}"
    );
    assert_eq!(
        g("1.4.6.0"),
        position(
            &["unknown", "ok", "warning", "critical"],
            &r["security"]["jamming"]
        ),
        "{what}"
    );
    assert_eq!(
        g("1.4.8.0"),
        position(
            &["unknown", "none", "indicated", "multiple"],
            &r["security"]["spoofing"]
        ),
        "{what}"
    );
    assert_eq!(g("1.3.1.0"), "2", "{what}: PPS ok");
    assert_eq!(after["pps"]["state"], "ok");
    let pulses: u64 = g("1.3.5.0").parse().unwrap();
    assert!(
        (u(&before["pps"]["pulses"])..=u(&after["pps"]["pulses"])).contains(&pulses),
        "{what}: pulses {pulses} outside the snapshots' {}..{}",
        before["pps"]["pulses"],
        after["pps"]["pulses"]
    );
    // What NTP serves, in both MIBs.
    assert_eq!(g("1.7.1.0"), "1", "{what}: served stratum");
    assert_eq!(g("1.7.6.0"), "1", "{what}: synchronized");
    assert_eq!(n("1.2.1.0"), "5", "{what}: syncToRefclock");
    assert_eq!(n("1.2.2.0"), "1", "{what}: stratum");
    assert_eq!(
        n("1.2.3.0"),
        "1",
        "{what}: active reference = association 1"
    );
    assert_eq!(n("1.1.2.0"), after["version"].as_str().unwrap(), "{what}");
    assert_eq!(
        n("1.1.6.0"),
        after["ntp"]["precision"].to_string(),
        "{what}"
    );
    // Offsets are DisplayStrings with their unit.
    assert!(n("1.2.5.0").ends_with(" ms"), "{what}: {}", n("1.2.5.0"));
    let bound_ns: f64 = g("1.2.4.0").parse().unwrap();
    let lo = before["discipline"]["time_error_bound_ns"]
        .as_f64()
        .unwrap()
        .min(after["discipline"]["time_error_bound_ns"].as_f64().unwrap());
    assert!(
        bound_ns >= lo.floor() - 1.0 && bound_ns < 1_000_000.0,
        "{what}: bound {bound_ns}"
    );
}

#[test]
fn snmpd_subagent_walks_notifies_and_survives_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path());
    let (_trapd, traps) = start_trapd(&net);
    let mut snmpd = start_snmpd(&net);
    let agentx = net.agentx.to_string_lossy().into_owned();
    // A 3 µs holdover limit: holdover ends within minutes of signal loss.
    let (_demo, sock) = start_demo(
        &net.dir.join("data"),
        "127.0.0.1:0",
        &["--agentx", &agentx, "--holdover-limit-ns", "3000"],
    );

    // The subagent registers and the daemon-started notification goes out.
    wait_trap(&traps, &format!("{GTS}.0.17"), Duration::from_secs(60));
    wait_status(&sock, "locked", Duration::from_secs(120), |v| {
        v["discipline"]["state"] == "locked" && v["pps"]["state"] == "ok"
    });

    // v2c and v3 walks of both MIBs equal the snapshot.
    for v3 in [false, true] {
        let what = if v3 { "v3 authPriv" } else { "v2c" };
        let before = status(&sock);
        let mut w = walk(&net, v3, GTS);
        w.extend(walk(&net, v3, NTPV4));
        let after = status(&sock);
        assert!(w.len() > 80, "{what}: {} objects", w.len());
        check_against_snapshot(&w, &before, &after, what);
    }
    for root in [GTS, NTPV4] {
        let bad = unnamed(&net, root);
        assert!(bad.is_empty(), "OIDs without a name in our MIBs: {bad:#?}");
    }

    // Walk time of the whole enterprise MIB (process start included).
    let mut times = Vec::new();
    let mut objects = 0;
    for _ in 0..5 {
        let t = Instant::now();
        objects = walk(&net, false, GTS).len();
        times.push(t.elapsed());
    }
    times.sort();
    println!("WALK-TIME enterprise MIB, {objects} objects, snmpwalk v2c: median {:?} (min {:?}, max {:?})", times[2], times[0], times[4]);

    // Antenna fault → notification with the antenna status.
    let t0 = Instant::now();
    scenario(&sock, "antenna-open");
    let t = wait_trap(&traps, &format!("{GTS}.0.9"), Duration::from_secs(60));
    assert!(
        t.line
            .contains(&format!("{GTS}.1.4.4.0 = INTEGER: open(3)")),
        "{}",
        t.line
    );
    assert!(
        t.line.contains(&format!("{GTS}.2.1.0 = STRING: ")),
        "text varbind: {}",
        t.line
    );
    println!(
        "NOTIFY-LATENCY antenna-open: scenario switch -> snmptrapd {:?} (includes the fake receiver's next epoch)",
        t.at - t0
    );
    scenario(&sock, "healthy");
    wait_trap(&traps, &format!("{GTS}.0.10"), Duration::from_secs(60));
    wait_status(&sock, "locked again", Duration::from_secs(120), |v| {
        v["discipline"]["state"] == "locked"
    });

    // Signal loss: holdover, then past the limit: not synchronized.
    scenario(&sock, "signal-loss");
    wait_trap(&traps, &format!("{GTS}.0.3"), Duration::from_secs(60));
    let t = wait_trap(&traps, &format!("{GTS}.0.1"), Duration::from_secs(300));
    assert!(
        t.line
            .contains(&format!("{GTS}.1.2.1.0 = INTEGER: unsynchronized(4)")),
        "{}",
        t.line
    );
    wait_trap(&traps, &format!("{NTPV4}.0.1"), Duration::from_secs(10));
    // Latency from the lock-transition event (its timestamp) to snmptrapd.
    let evs = gnss_timeserver::status::client::request(&sock, "events 20 lock.transition")
        .expect("events");
    let ev = evs["events"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .rev()
                .find(|e| e.to_string().contains("unsynchronized"))
        })
        .unwrap_or_else(|| panic!("no lock.transition to unsynchronized: {evs}"));
    let lag_ms = (t.unix_ns - ev["time_ns"].as_i64().expect("time_ns")) as f64 / 1e6;
    println!("NOTIFY-LATENCY not-synchronized: lock.transition event -> snmptrapd {lag_ms:.1} ms");
    let w = walk(&net, false, NTPV4);
    assert_eq!(
        w.get(&format!("{NTPV4}.1.2.1.0")).map(String::as_str),
        Some("2"),
        "notSynchronized"
    );
    assert_eq!(
        w.get(&format!("{NTPV4}.1.2.2.0")).map(String::as_str),
        Some("16")
    );

    // snmpd killed and restarted: the subagent registers again.
    drop(snmpd);
    assert!(
        walk_with(&net, false, GTS, &["-t", "1", "-r", "0"]).is_empty(),
        "no agent, no answers"
    );
    let t = Instant::now();
    snmpd = start_snmpd(&net);
    let end = Instant::now() + Duration::from_secs(90);
    loop {
        let w = walk(&net, false, GTS);
        if w.contains_key(&format!("{GTS}.1.2.1.0")) {
            assert_eq!(w[&format!("{GTS}.1.2.1.0")], "4", "still unsynchronized");
            break;
        }
        assert!(Instant::now() < end, "the subagent never registered again");
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("REREGISTER after snmpd restart: {:?}", t.elapsed());
    assert!(walk(&net, true, NTPV4).len() > 40);
    drop(snmpd);
}
