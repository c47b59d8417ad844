//! NTP control messages (mode 6) against real clients: ntpsec's `ntpq -c rv`
//! and `ntpq -p`, and the monitoring plugins `check_ntp_peer` (mode 6) and
//! `check_ntp_time` (mode 3), all on `demo`. They report stratum 1 and an
//! offset while locked, and unsynchronized / CRITICAL once signal loss runs
//! past a short holdover limit. Writes are refused with "administratively
//! prohibited" and a source outside `control-allow` gets nothing.
//!
//! ntpq talks to port 123 only: the test re-runs itself in a private
//! network namespace (`unshare -n`, or `-rn` unprivileged), brings `lo` up
//! and serves on 127.0.0.1:123 there. Missing tools FAIL the test.

mod demo_support;

use demo_support::*;
use std::net::UdpSocket;
use std::process::{Command, Output};
use std::time::Duration;

const NS_CHILD_ENV: &str = "GNSS_TS_MODE6_NETNS_CHILD";
/// A documentation address (RFC 5737) put on `lo` as a source that
/// `control-allow` (loopback by default) does not cover.
const DENIED_SRC: &str = "192.0.2.1";

fn run(cmd: &mut Command) -> (Output, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn ntpq_and_monitoring_plugins_read_the_server() {
    if std::env::var_os(NS_CHILD_ENV).is_some() {
        return in_namespace();
    }
    for t in ["ntpq", "check_ntp_peer", "check_ntp_time", "ip"] {
        require_tool(t);
    }
    let unshare = require_tool("unshare");
    let ns_args: &[&str] = if is_root() { &["-n"] } else { &["-rn"] };
    let (out, text) = run(Command::new(unshare)
        .args(ns_args)
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ntpq_and_monitoring_plugins_read_the_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(NS_CHILD_ENV, "1"));
    assert!(out.status.success(), "namespace child failed:\n{text}");
    assert!(
        text.contains("MODE6-OK"),
        "child did not run the checks:\n{text}"
    );
}

/// A raw mode 6 request from `src`: the reply, or None after 1 s.
fn control(src: &str, op: u8, assoc: u16, data: &[u8]) -> Option<Vec<u8>> {
    let s = UdpSocket::bind((src, 0)).expect("bind");
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut req = vec![(2 << 3) | 6, op, 0, 1, 0, 0];
    req.extend_from_slice(&assoc.to_be_bytes());
    req.extend_from_slice(&[0, 0]);
    req.extend_from_slice(&(data.len() as u16).to_be_bytes());
    req.extend_from_slice(data);
    s.send_to(&req, "127.0.0.1:123").expect("send");
    let mut buf = [0u8; 1024];
    s.recv_from(&mut buf).ok().map(|(n, _)| buf[..n].to_vec())
}

fn in_namespace() {
    let ip = require_tool("ip");
    for args in [
        &["link", "set", "lo", "up"][..],
        &["addr", "add", "192.0.2.1/32", "dev", "lo"],
    ] {
        let (out, text) = run(Command::new(&ip).args(args));
        assert!(out.status.success(), "ip {args:?}: {text}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let (_demo, sock) = start_demo(
        &tmp.path().join("data"),
        "127.0.0.1:123",
        &["--holdover-limit-ns", "3000"],
    );
    wait_status(&sock, "locked", Duration::from_secs(120), |v| {
        v["discipline"]["state"] == "locked"
    });
    let ntpq = require_tool("ntpq");
    let peer = require_tool("check_ntp_peer");
    let time = require_tool("check_ntp_time");

    // Locked: stratum 1, an offset, the GNSS reference as system peer.
    let (out, rv) = run(Command::new(&ntpq).args(["-c", "rv", "127.0.0.1"]));
    assert!(out.status.success(), "{rv}");
    assert!(rv.contains("stratum=1,"), "{rv}");
    assert!(rv.contains("offset="), "{rv}");
    assert!(rv.contains("leap=00"), "{rv}");
    assert!(rv.contains("refid=GPS"), "{rv}");
    let (_, p) = run(Command::new(&ntpq).args(["-pn", "127.0.0.1"]));
    assert!(
        p.lines()
            .any(|l| l.starts_with("*127.127.20.0") && l.contains(".GPS.")),
        "system peer line expected:\n{p}"
    );
    let (out, text) = run(Command::new(&peer).args(["-H", "127.0.0.1", "-w", "0.01", "-c", "0.1"]));
    assert_eq!(out.status.code(), Some(0), "check_ntp_peer: {text}");
    assert!(text.contains("NTP OK: Offset"), "{text}");
    let (out, text) = run(Command::new(&time).args(["-H", "127.0.0.1", "-w", "0.01", "-c", "0.1"]));
    assert_eq!(out.status.code(), Some(0), "check_ntp_time: {text}");
    assert!(text.contains("Offset"), "{text}");

    // Only what was asked for, from allowed sources; writes refused.
    let r = control("127.0.0.1", 2, 0, b"stratum").expect("allowed source answered");
    assert_eq!(&r[12..12 + 9], b"stratum=1");
    assert_eq!(u16::from_be_bytes([r[10], r[11]]), 9, "count");
    let r = control("127.0.0.1", 3, 0, b"leap=1").expect("write answered with an error");
    assert_eq!(
        (r[1] & 0x40, r[4]),
        (0x40, 7),
        "administratively prohibited"
    );
    assert_eq!(
        control(DENIED_SRC, 2, 0, b""),
        None,
        "denied source gets nothing"
    );
    assert_eq!(
        control(DENIED_SRC, 1, 0, b""),
        None,
        "denied source gets nothing"
    );

    // Signal loss past the holdover limit: unsynchronized everywhere.
    scenario(&sock, "signal-loss");
    wait_status(&sock, "unsynchronized", Duration::from_secs(300), |v| {
        v["discipline"]["state"] == "unsynchronized"
    });
    std::thread::sleep(Duration::from_millis(1500));
    let (_, rv) = run(Command::new(&ntpq).args(["-c", "rv", "127.0.0.1"]));
    assert!(rv.contains("stratum=16,"), "{rv}");
    assert!(rv.contains("leap_alarm") && rv.contains("leap=11"), "{rv}");
    let (_, p) = run(Command::new(&ntpq).args(["-pn", "127.0.0.1"]));
    assert!(
        !p.lines().any(|l| l.starts_with('*')),
        "no system peer:\n{p}"
    );
    let (out, text) = run(Command::new(&peer).args(["-H", "127.0.0.1"]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "check_ntp_peer CRITICAL: {text}"
    );
    let (out, text) = run(Command::new(&time).args(["-H", "127.0.0.1"]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "check_ntp_time CRITICAL: {text}"
    );
    println!("MODE6-OK");
}
