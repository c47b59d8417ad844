//! The notifications that come from operators and events rather than from
//! the receiver's state, end to end through a real `snmpd` and `snmptrapd`:
//! `gnss-timeserver snmp test-trap` (refused with the reason while snmpd is
//! down), a configuration change through the web API (`config.changed`),
//! and an NTP client whose clock is 2 s ahead (`ntp.client_offset`). Each
//! arrives with its text and its values. Prints the test notification's
//! latency from the request to snmptrapd (a number for the docs; nothing
//! here asserts a duration). Notifications raised before snmpd is up wait
//! and arrive, in order, once the subagent's first session is registered.
//!
//! Needs `snmpd`, `snmptrapd` (Debian snmpd, snmptrapd): a missing tool
//! FAILS the test.

mod demo_support;
mod snmp_support;
mod web_support;

use demo_support::*;
use snmp_support::*;
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

const ADMIN_PW: &str = "correct horse battery staple";

/// `gnss-timeserver snmp test-trap --socket SOCK`: (success, stdout+stderr).
fn test_trap(sock: &std::path::Path) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["snmp", "test-trap", "--socket"])
        .arg(sock)
        .output()
        .expect("run snmp test-trap");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Requests from a client whose clock runs 2 s ahead, until one is answered.
fn query_from_a_client_2s_ahead(ntp: std::net::SocketAddr) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 128];
    let mut answered = 0;
    for i in 0..20 {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(600));
        }
        let mut req = [0u8; 48];
        req[0] = 0x1B;
        let t = gnss_timeserver::time::system_realtime_ns() + 2_000_000_000;
        req[40..48].copy_from_slice(
            &gnss_timeserver::ntp::timestamp::NtpTimestamp::from_unix_nanos(t).to_be_bytes(),
        );
        sock.send_to(&req, ntp).unwrap();
        if sock.recv_from(&mut buf).is_ok() {
            answered += 1;
            if answered >= 4 {
                return;
            }
        }
    }
    panic!("the demo's NTP server answered {answered} of 20 requests");
}

#[test]
fn test_config_and_client_notifications_reach_snmptrapd() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path());
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    web_support::set_password(&data, "admin", "admin", ADMIN_PW);
    let (_trapd, traps) = start_trapd(&net);
    let snmpd = start_snmpd(&net);
    let agentx = net.agentx.to_string_lossy().into_owned();
    let ntp = std::net::SocketAddr::from(([127, 0, 0, 1], free_udp_port()));
    let (_demo, sock, http) = start_demo_http(&data, &ntp.to_string(), &["--agentx", &agentx]);
    wait_trap(&traps, &format!("{GTS}.0.17"), Duration::from_secs(60));

    // The test notification, on request.
    let t0 = Instant::now();
    let (ok, out) = test_trap(&sock);
    assert!(ok, "snmp test-trap failed: {out}");
    let t = wait_trap(&traps, &format!("{GTS}.0.19"), Duration::from_secs(30));
    assert!(
        t.line
            .contains(&format!("{GTS}.2.1.0 = STRING: test notification")),
        "{}",
        t.line
    );
    println!(
        "NOTIFY-LATENCY test notification: CLI request -> snmptrapd {:?} (CLI process start included)",
        t.at - t0
    );

    // A configuration change through the web API.
    let (cookie, csrf) = web_support::login(http, "admin", ADMIN_PW);
    let patch = serde_json::json!({"http": {"time-zone": "Europe/Madrid"}}).to_string();
    let r = web_support::request(
        http,
        "PUT",
        "/api/v1/config",
        Some(&cookie),
        Some(&csrf),
        Some(&patch),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = wait_trap(&traps, &format!("{GTS}.0.16"), Duration::from_secs(30));
    assert!(
        t.line.contains(&format!("{GTS}.2.2.0 = STRING: ")) && t.line.contains("time-zone"),
        "changed keys: {}",
        t.line
    );
    assert!(t.line.contains("by admin"), "who: {}", t.line);

    // A client 2 s ahead, once NTP serves time.
    wait_status(&sock, "locked", Duration::from_secs(120), |v| {
        v["served"]["synchronized"] == true
    });
    query_from_a_client_2s_ahead(ntp);
    let t = wait_trap(&traps, &format!("{GTS}.0.18"), Duration::from_secs(30));
    assert!(
        t.line
            .contains(&format!("{GTS}.2.3.0 = STRING: 127.0.0.1\t")),
        "client address: {}",
        t.line
    );
    let offset = t
        .line
        .split(&format!("{GTS}.2.4.0 = STRING: "))
        .nth(1)
        .and_then(|s| s.split(" ms").next())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("client offset: {}", t.line));
    assert!(
        offset.abs() > 1500.0 && offset.abs() < 2500.0,
        "a client 2 s off is reported about 2000 ms off: {offset}"
    );

    // snmpd gone: the request is refused with the reason.
    drop(snmpd);
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let (ok, out) = test_trap(&sock);
        if !ok {
            assert!(out.contains("AgentX"), "{out}");
            break;
        }
        assert!(
            Instant::now() < end,
            "test-trap still succeeds without snmpd"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Issue 14 through SNMP: a `[[ntp.watch]]` client that never comes turns
/// FAIL; the watch table shows it (fail(3), never_seen) in `snmpwalk` and
/// `snmptrapd` receives gtsWatchStateChange with its name and states.
#[test]
fn a_watched_client_that_never_comes_fails_in_the_walk_and_a_trap() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path());
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // FAIL once 1.5 intervals pass without a request: 15 s after start.
    std::fs::write(
        data.join("config.toml"),
        "[[ntp.watch]]\nname = \"plc-never\"\naddress = \"192.0.2.77\"\ninterval-s = 10\n",
    )
    .unwrap();
    let (_trapd, traps) = start_trapd(&net);
    let _snmpd = start_snmpd(&net);
    let agentx = net.agentx.to_string_lossy().into_owned();
    let (_demo, sock) = start_demo(&data, "127.0.0.1:0", &["--agentx", &agentx]);
    wait_trap(&traps, &format!("{GTS}.0.17"), Duration::from_secs(60));

    let t = wait_trap(&traps, &format!("{GTS}.0.20"), Duration::from_secs(90));
    for want in [
        format!("{GTS}.2.5.0 = STRING: plc-never\t"),
        format!("{GTS}.2.3.0 = STRING: 192.0.2.77\t"),
        format!("{GTS}.2.6.0 = INTEGER: fail(3)"),
        format!("{GTS}.2.8.0 = STRING: never_seen"),
    ] {
        assert!(t.line.contains(&want), "{want} not in {}", t.line);
    }
    // The snapshot is composed each second: it may trail the event.
    let snap = wait_status(
        &sock,
        "FAIL in the snapshot",
        Duration::from_secs(10),
        |v| v["ntp"]["watch"][0]["state"] == "FAIL",
    );
    assert_eq!(snap["ntp"]["watch"][0]["name"], "plc-never");

    let w = walk(&net, false, &format!("{GTS}.1"));
    let col = |c: u32| {
        w.get(&format!("{GTS}.1.10.1.{c}.1"))
            .cloned()
            .unwrap_or_else(|| panic!("watch column {c} missing: {w:#?}"))
    };
    assert_eq!(col(2), "plc-never");
    assert_eq!(col(3), "192.0.2.77");
    assert_eq!(col(5), "1", "expected: true");
    assert_eq!(col(6), "3", "fail(3)");
    assert_eq!(col(7), "never_seen");
    assert_eq!(col(11), "0", "no requests");
    assert!(
        !w.contains_key(&format!("{GTS}.1.10.1.9.1")),
        "never seen: no last-seen instance"
    );
    assert_eq!(
        w.get(&format!("{GTS}.1.8.8.0")).map(String::as_str),
        Some("1")
    );
    assert_eq!(
        w.get(&format!("{GTS}.1.8.6.0")).map(String::as_str),
        Some("0")
    );
}

/// Boot with snmpd not up yet: an antenna that goes open and comes back, and
/// a configuration change, all before any AgentX session. Once snmpd and
/// snmptrapd start, the subagent connects and they all arrive, after the
/// daemon-started notification and in the order raised, each with the values
/// it had when raised (the antenna fault still says open(3)).
#[test]
fn notifications_raised_before_snmpd_is_up_arrive_once_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path());
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    web_support::set_password(&data, "admin", "admin", ADMIN_PW);
    let agentx = net.agentx.to_string_lossy().into_owned();
    let (_demo, sock, http) = start_demo_http(&data, "127.0.0.1:0", &["--agentx", &agentx]);
    assert!(!net.agentx.exists(), "snmpd must not be up yet");

    let antenna = |v: &serde_json::Value| v["receiver"]["antenna"]["status"].clone();
    wait_status(&sock, "antenna ok", Duration::from_secs(60), |v| {
        antenna(v) == "ok"
    });
    scenario(&sock, "antenna-open");
    wait_status(&sock, "antenna open", Duration::from_secs(60), |v| {
        antenna(v) == "open"
    });
    scenario(&sock, "healthy");
    wait_status(&sock, "antenna ok again", Duration::from_secs(60), |v| {
        antenna(v) == "ok"
    });
    let (cookie, csrf) = web_support::login(http, "admin", ADMIN_PW);
    let patch = serde_json::json!({"http": {"time-zone": "Europe/Madrid"}}).to_string();
    let r = web_support::request(
        http,
        "PUT",
        "/api/v1/config",
        Some(&cookie),
        Some(&csrf),
        Some(&patch),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // The test request is still refused: no session, nothing claims otherwise.
    let (ok, out) = test_trap(&sock);
    assert!(!ok, "test-trap without snmpd: {out}");
    let snap = status(&sock);
    assert_eq!(snap["snmp"]["notifications_queued"], 0, "{}", snap["snmp"]);
    assert_eq!(snap["snmp"]["notifications_sent"], 0, "{}", snap["snmp"]);

    let (_trapd, traps) = start_trapd(&net);
    let _snmpd = start_snmpd(&net);
    // The subagent retries with a backoff of at most 30 s.
    let limit = Duration::from_secs(90);
    wait_trap(&traps, &format!("{GTS}.0.17"), limit);
    // wait_trap skips other notifications: a wrong order fails here.
    let fault = wait_trap(&traps, &format!("{GTS}.0.9"), Duration::from_secs(30));
    assert!(
        fault
            .line
            .contains(&format!("{GTS}.1.4.4.0 = INTEGER: open(3)")),
        "the fault as it was raised: {}",
        fault.line
    );
    wait_trap(&traps, &format!("{GTS}.0.10"), Duration::from_secs(30));
    let t = wait_trap(&traps, &format!("{GTS}.0.16"), Duration::from_secs(30));
    assert!(
        t.line.contains("time-zone") && t.line.contains("by admin"),
        "the configuration change: {}",
        t.line
    );
    // The status counts them as delivered late, none lost.
    let snap = wait_status(&sock, "queued counted", Duration::from_secs(10), |v| {
        v["snmp"]["notifications_queued"].as_u64() >= Some(3)
    });
    assert_eq!(snap["snmp"]["notifications_dropped"], 0, "{}", snap["snmp"]);
    // Delivered once: nothing queued is sent again by the live session.
    let (ok, out) = test_trap(&sock);
    assert!(ok, "snmp test-trap failed: {out}");
    let mut after = Vec::new();
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let t = traps.recv_timeout(left).expect("the test notification");
        if t.line.contains(&format!("OID: {GTS}.0.19")) {
            break;
        }
        after.push(t.line);
    }
    assert!(
        !after
            .iter()
            .any(|l| l.contains(&format!("OID: {GTS}.0.16"))
                || l.contains(&format!("OID: {GTS}.0.9"))),
        "a queued notification was delivered twice: {after:#?}"
    );
}
