//! Real NTP clients against the in-process server on loopback.
//!
//! Client configurations:
//! - chronyd 4.x: `chronyd -Q -f <temp>/chrony.conf -t N` (one-shot measure, never
//!   sets the clock) with `server 127.0.0.1 port P iburst minpoll -4 maxpoll -4`
//!   plus private pidfile/driftfile/socket/logdir and `log measurements`;
//!   `xleave` or `key 1` + `keyfile` appended where the test says so.
//! - ntpdate (ntpsec shim over ntpdig) and sntp (also ntpdig): they cannot take
//!   a port, so the test re-runs itself in a private network namespace
//!   (`unshare -rn`), brings `lo` up and serves on 127.0.0.1:123 there.
//!
//! Tools must be installed (CI: apt-get install chrony ntpsec-ntpdate sntp
//! iproute2 util-linux); a missing tool FAILS the test.

mod ntp_support;

use ntp_support::*;
use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

#[test]
fn chronyd_oneshot_offset_under_1ms() {
    let (h, addr) = start(test_config("127.0.0.1:0"), synced_fields());
    let r = chronyd_oneshot(addr, "", "", 20);
    let offset = r
        .offset
        .unwrap_or_else(|| panic!("chronyd reported no offset:\n{}", r.output));
    assert!(offset.abs() < 1e-3, "offset {offset} s\n{}", r.output);
    let c = h.counters();
    assert!(c.responses >= 3, "{c:?}");
    assert!(
        c.rx_kernel_timestamps >= 3,
        "kernel RX timestamps in use: {c:?}"
    );
}

#[test]
fn chronyd_xleave_receives_interleaved_replies() {
    let (h, addr) = start(test_config("127.0.0.1:0"), synced_fields());
    let r = chronyd_oneshot(addr, "xleave", "", 20);
    assert!(r.offset.is_some(), "no offset:\n{}", r.output);
    // measurements.log ends with "<mode>B|I <tx src> <rx src>": 'I' = interleaved.
    let interleaved = r
        .measurements
        .iter()
        .filter(|l| {
            l.split_whitespace()
                .rev()
                .nth(2)
                .is_some_and(|m| m.ends_with('I'))
        })
        .count();
    assert!(
        interleaved >= 1,
        "chronyd saw no interleaved replies:\n{}",
        r.measurements.join("\n")
    );
    let c = h.counters();
    assert!(c.interleaved >= 1, "{c:?}");
    assert!(c.tx_timestamps >= 1, "kernel TX timestamps: {c:?}");
    // Only replies to interleaving clients ask for a TX timestamp (the first
    // reply does not): a kernel id counting every datagram would misplace them.
    assert_eq!(
        c.tx_timestamps_rejected, 0,
        "mismatched TX timestamps: {c:?}"
    );
}

#[test]
fn chronyd_refuses_unsynchronized_server() {
    let (h, addr) = start(test_config("127.0.0.1:0"), Default::default());
    let r = chronyd_oneshot(addr, "", "", 3);
    assert!(
        r.offset.is_none(),
        "chronyd used an unsynchronized server:\n{}",
        r.output
    );
    assert!(
        r.output.contains("No suitable source"),
        "expected chronyd to refuse the source:\n{}",
        r.output
    );
    // It did get answers; they carry LI=3 and stratum 16.
    assert!(h.counters().responses >= 1);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut req = [0u8; 48];
    req[0] = 0x23;
    req[40] = 1;
    sock.send_to(&req, addr).unwrap();
    let mut buf = [0u8; 128];
    let (n, _) = sock.recv_from(&mut buf).expect("reply");
    assert_eq!((n, buf[0] >> 6, buf[1]), (48, 3, 16));
}

#[test]
fn chronyd_authenticated_with_aes_cmac() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("ntp.keys");
    std::fs::write(&keys, "1 AES128 HEX:000102030405060708090A0B0C0D0E0F\n").unwrap();
    let mut cfg = test_config("127.0.0.1:0");
    cfg.keys_file = Some(keys.clone());
    cfg.require_auth = true;
    let (h, addr) = start(cfg, synced_fields());
    let r = chronyd_oneshot(addr, "key 1", &format!("keyfile {}", keys.display()), 20);
    assert!(r.offset.is_some_and(|o| o.abs() < 1e-3), "{}", r.output);
    let c = h.counters();
    assert!(c.auth_ok >= 3 && c.auth_fail == 0, "{c:?}");
}

/// The layout Windows Time (w32time) uses in symmetric active mode: NTPv3,
/// LI=3 until synchronized, mode 1, poll 10, precision -23, its clock in the
/// transmit timestamp, origin/receive zero on the first packet.
#[test]
fn windows_time_mode1_gets_mode2_with_origin() {
    let (_h, addr) = start(test_config("127.0.0.1:0"), synced_fields());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut req = [0u8; 48];
    req[0] = 0b11_011_001;
    req[2] = 10;
    req[3] = (-23i8) as u8;
    req[8..12].copy_from_slice(&0x0001_0000u32.to_be_bytes()); // 1 s root dispersion
    req[12..16].copy_from_slice(b"LOCL");
    let t1 = gnss_timeserver::ntp::timestamp::NtpTimestamp::from_unix_nanos(
        gnss_timeserver::time::system_realtime_ns(),
    );
    req[40..48].copy_from_slice(&t1.to_be_bytes());
    sock.send_to(&req, addr).unwrap();
    let mut buf = [0u8; 128];
    let (n, _) = sock.recv_from(&mut buf).expect("reply to mode 1");
    assert_eq!(n, 48);
    assert_eq!(buf[0] & 7, 2, "symmetric passive");
    assert_eq!((buf[0] >> 3) & 7, 3, "version echoed");
    assert_eq!(buf[0] >> 6, 0, "synchronized");
    assert_eq!(buf[1], 1, "stratum 1");
    assert_eq!(
        &buf[24..32],
        &t1.to_be_bytes(),
        "origin = client's transmit"
    );
    assert_eq!(&buf[12..16], b"GPS\0");
}

#[test]
fn flooding_client_gets_rate_then_silence_while_others_are_served() {
    let mut cfg = test_config("127.0.0.1:0");
    cfg.rate_limit_interval_ms = 10_000;
    cfg.rate_limit_burst = 3;
    let (h, addr) = start(cfg, synced_fields());
    let flood = UdpSocket::bind("127.0.0.1:0").unwrap();
    flood
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut req = [0u8; 48];
    req[0] = 0x23;
    let mut refids = vec![];
    for i in 0..10u64 {
        req[40..48].copy_from_slice(&(i + 1).to_be_bytes());
        flood.send_to(&req, addr).unwrap();
    }
    let mut buf = [0u8; 128];
    while let Ok((n, _)) = flood.recv_from(&mut buf) {
        assert_eq!(n, 48);
        refids.push((buf[1], [buf[12], buf[13], buf[14], buf[15]]));
    }
    let served = refids.iter().filter(|r| r.0 == 1).count();
    let kods: Vec<_> = refids.iter().filter(|r| r.0 == 0).collect();
    assert_eq!(served, 3, "{refids:?}");
    assert_eq!(kods.len(), 1, "{refids:?}");
    assert_eq!(&kods[0].1, b"RATE");
    // Another client (another loopback address) keeps being served.
    let other = UdpSocket::bind("127.0.0.2:0").unwrap();
    other
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    other.send_to(&req, addr).unwrap();
    let (n, _) = other.recv_from(&mut buf).expect("other client served");
    assert_eq!((n, buf[1]), (48, 1));
    let c = h.counters();
    assert_eq!((c.kod_rate, c.drop_rate), (1, 6), "{c:?}");
}

#[test]
fn client_monitor_sees_clients_in_status() {
    let (h, addr) = start(test_config("127.0.0.1:0"), synced_fields());
    let sock = UdpSocket::bind("127.0.0.3:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 128];
    for _ in 0..3 {
        let mut req = [0u8; 48];
        req[0] = 0x1B; // v3 client, real clock in transmit (like ntpd / w32time)
        let now = gnss_timeserver::time::system_realtime_ns() + 250_000_000;
        req[40..48].copy_from_slice(
            &gnss_timeserver::ntp::timestamp::NtpTimestamp::from_unix_nanos(now).to_be_bytes(),
        );
        sock.send_to(&req, addr).unwrap();
        sock.recv_from(&mut buf).expect("reply");
    }
    let st = h.status();
    let c = st
        .top_clients
        .iter()
        .find(|c| c.addr == "127.0.0.3")
        .expect("client listed");
    assert_eq!((c.requests, c.mode, c.version), (3, 3, 3));
    let off = c
        .offset_ns
        .expect("offset estimate for a real-clock client");
    // Client clock is 250 ms ahead; one-way estimate is low by the forward delay.
    assert!((200_000_000..=250_000_000).contains(&off), "{off}");
    assert_eq!(st.counters.by_version[3], 3);
    serde_json::to_string(&st).expect("status serializes");
}

const NS_CHILD_ENV: &str = "GNSS_TS_NTP_NETNS_CHILD";

/// ntpdate -q and sntp (both ntpdig, port 123 only): run inside a private
/// network namespace where this test may bind 127.0.0.1:123.
#[test]
fn ntpdate_and_sntp_query() {
    if std::env::var_os(NS_CHILD_ENV).is_some() {
        return ntpdig_in_namespace();
    }
    require_tool("ntpdate");
    require_tool("sntp");
    let unshare = require_tool("unshare");
    let exe = std::env::current_exe().unwrap();
    // As root a plain new network namespace will do; otherwise a user
    // namespace maps us to root in it (needs unprivileged user namespaces).
    let ns_args: &[&str] = if is_root() { &["-n"] } else { &["-rn"] };
    let (out, text) = run(Command::new(unshare)
        .args(ns_args)
        .arg(exe)
        .args([
            "--exact",
            "ntpdate_and_sntp_query",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(NS_CHILD_ENV, "1"));
    assert!(out.status.success(), "namespace child failed:\n{text}");
    assert!(
        text.contains("NTPDIG-OK"),
        "child did not run the checks:\n{text}"
    );
}

fn ntpdig_in_namespace() {
    let ip = require_tool("ip");
    let (out, text) = run(Command::new(ip).args(["link", "set", "lo", "up"]));
    assert!(out.status.success(), "ip link set lo up: {text}");
    let (h, _) = start(test_config("127.0.0.1:123"), synced_fields());
    for tool in ["ntpdate", "sntp"] {
        let path = require_tool(tool);
        let mut cmd = Command::new(path);
        if tool == "ntpdate" {
            cmd.args(["-q", "127.0.0.1"]);
        } else {
            cmd.args(["-t", "2", "127.0.0.1"]);
        }
        let (_, text) = run(&mut cmd);
        // e.g. "2026-11-21 16:07:00.123 (+0000) +0.000012 +/- 0.000100 127.0.0.1 s1 no-leap"
        let line = text
            .lines()
            .find(|l| l.contains("127.0.0.1") && l.contains("+/-"))
            .unwrap_or_else(|| panic!("{tool}: no result line:\n{text}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        let pm = fields.iter().position(|f| *f == "+/-").unwrap();
        let offset: f64 = fields[pm - 1].parse().unwrap();
        let bound: f64 = fields[pm + 1].parse().unwrap();
        // ntpdig is Python: its own latency on a busy machine can reach ms, so
        // the offset must lie within the uncertainty it reports (half the
        // round trip) plus 0.5 ms, and that uncertainty must be small.
        assert!(bound < 0.25, "{tool} round trip too slow: {line}");
        assert!(
            offset.abs() <= bound + 5e-4,
            "{tool} offset {offset}: {line}"
        );
        assert!(fields.contains(&"s1"), "{tool} stratum: {line}");
    }
    assert!(h.counters().responses >= 2);
    println!("NTPDIG-OK");
}

#[test]
fn ipv6_loopback_is_served() {
    let (_h, addr) = start(test_config("[::1]:0"), synced_fields());
    let sock = UdpSocket::bind("[::1]:0").expect("IPv6 loopback");
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut req = [0u8; 48];
    req[0] = 0x23;
    req[40..48].copy_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
    sock.send_to(&req, addr).unwrap();
    let mut buf = [0u8; 128];
    let (n, _) = sock.recv_from(&mut buf).expect("reply over IPv6");
    assert_eq!((n, buf[0] & 7, buf[1]), (48, 4, 1));
    assert_eq!(&buf[24..32], &0x0102_0304_0506_0708u64.to_be_bytes());
}

#[test]
fn client_clock_alarm_raises_one_event() {
    let mut cfg = test_config("127.0.0.1:0");
    cfg.client_offset_alarm_ms = 100;
    let (events, mut rx) = gnss_timeserver::store::EventSink::channel(64);
    let h = gnss_timeserver::ntp::spawn(
        cfg,
        std::sync::Arc::new(SystemClock),
        gnss_timeserver::status::ServerFieldsCell::new(synced_fields()),
        events,
    )
    .unwrap();
    let addr = h.local_addrs()[0];
    let sock = UdpSocket::bind("127.0.0.4:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 128];
    for _ in 0..5 {
        let mut req = [0u8; 48];
        req[0] = 0x1B;
        // A client whose clock is 2 s ahead.
        let t = gnss_timeserver::time::system_realtime_ns() + 2_000_000_000;
        req[40..48].copy_from_slice(
            &gnss_timeserver::ntp::timestamp::NtpTimestamp::from_unix_nanos(t).to_be_bytes(),
        );
        sock.send_to(&req, addr).unwrap();
        sock.recv_from(&mut buf).expect("reply");
    }
    drop(h); // joins the workers, so every event has been emitted
    let mut got = vec![];
    while let Ok(ev) = rx.try_recv() {
        got.push(ev);
    }
    assert_eq!(got.len(), 1, "one event per excursion: {got:?}");
    assert_eq!(got[0].kind, "ntp.client_offset");
    let gnss_timeserver::events::EventKind::NtpClientOffset { client, .. } = &got[0].kind else {
        panic!("{:?}", got[0]);
    };
    assert!(client.starts_with("127.0.0.4:"), "{client}");
}

/// Bound to the wildcard address, the server answers from the address the
/// request was sent to (IP_PKTINFO): a client connected to 127.0.0.5 only
/// accepts datagrams from 127.0.0.5, while its own source is 127.0.0.1.
#[test]
fn wildcard_bind_replies_from_the_request_destination() {
    let (_h, addr) = start(test_config("0.0.0.0:0"), synced_fields());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.5", addr.port())).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut req = [0u8; 48];
    req[0] = 0x23;
    req[47] = 9;
    sock.send(&req).unwrap();
    let mut buf = [0u8; 128];
    let n = sock.recv(&mut buf).expect("reply from 127.0.0.5");
    assert_eq!((n, buf[0] & 7, buf[31]), (48, 4, 9));
}

/// Bad input over the wire: nothing comes back, and the server keeps serving.
#[test]
fn bad_packets_get_no_reply_and_server_keeps_serving() {
    let (h, addr) = start(test_config("127.0.0.1:0"), synced_fields());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut good = [0u8; 48];
    good[0] = 0x23;
    good[47] = 1;
    let mut bad: Vec<Vec<u8>> = vec![
        vec![0x23; 47],                                   // truncated
        vec![],                                           // empty
        [&good[..], &[0u8; 3000]].concat(), // oversized (larger than the receive buffer)
        [&good[..], &[0xFF; 40]].concat(),  // garbage extension field
        [&good[..], &[0, 0, 0, 1], &[0xAB; 16]].concat(), // MAC with unknown key
    ];
    for v in [0u8, 5, 6, 7] {
        let mut p = good;
        p[0] = v << 3 | 3;
        bad.push(p.to_vec());
    }
    for m in [0u8, 2, 4, 5, 6, 7] {
        let mut p = good;
        p[0] = 4 << 3 | m;
        bad.push(p.to_vec());
    }
    for p in &bad {
        sock.send_to(p, addr).unwrap();
    }
    let mut buf = [0u8; 4096];
    assert!(sock.recv_from(&mut buf).is_err(), "no reply to bad input");
    // A long request with a valid unknown extension field: answered, 48 bytes.
    let mut ext = good.to_vec();
    ext.extend_from_slice(&[0x7F, 0x00, 0x03, 0xE8]);
    ext.extend_from_slice(&[0u8; 996]);
    sock.send_to(&ext, addr).unwrap();
    let (n, _) = sock.recv_from(&mut buf).expect("reply");
    assert_eq!(n, 48);
    let c = h.counters();
    assert_eq!(c.responses, 1, "{c:?}");
    assert!(
        c.drop_truncated >= 1 && c.drop_version == 4 && c.drop_mode == 6,
        "{c:?}"
    );
}
