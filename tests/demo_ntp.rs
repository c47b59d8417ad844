//! `demo` end to end as an NTP server: the fake receiver and simulated PPS
//! discipline the virtual clock, and real clients see it. Before lock the
//! server must say it is unsynchronized (LI=3, stratum 16); after lock it
//! serves stratum 1 and chronyd measures it within 1 ms of this host's clock
//! (the demo's "true time" is the system clock).

mod ntp_support;

use gnss_timeserver::status::client::request;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gnss-timeserver");

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start the demo on ephemeral ports; return it with its NTP address and socket.
fn start_demo(data: &std::path::Path) -> (KillOnDrop, SocketAddr, PathBuf) {
    let mut child = KillOnDrop(
        Command::new(BIN)
            .arg("demo")
            .arg("--data")
            .arg(data)
            .args(["--ntp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn demo"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining after the banner so the demo never writes to a closed pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut ntp, mut sock) = (None, None);
    while ntp.is_none() || sock.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("demo banner incomplete");
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("ntp:") {
            let addr = rest.split_whitespace().next().expect("ntp address");
            ntp = Some(addr.parse::<SocketAddr>().expect("ntp address parses"));
        }
        if let Some(p) = line.strip_prefix("control socket:") {
            sock = Some(PathBuf::from(p.trim()));
        }
    }
    (
        child,
        ntp.unwrap_or_else(|| unreachable!()),
        sock.unwrap_or_else(|| unreachable!()),
    )
}

/// One mode 3 request; returns (LI, stratum) of the reply.
fn query(server: SocketAddr) -> (u8, u8) {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut req = [0u8; 48];
    req[0] = 0x23; // LI 0, version 4, mode 3
    req[40..48].copy_from_slice(&0x1234_5678_9abc_def0u64.to_be_bytes());
    s.send_to(&req, server).expect("send");
    let mut buf = [0u8; 128];
    let (n, _) = s.recv_from(&mut buf).expect("the demo answers NTP");
    assert_eq!(n, 48);
    assert_eq!(buf[0] & 7, 4, "server mode");
    assert_eq!(&buf[24..32], &req[40..48], "origin timestamp echoed");
    (buf[0] >> 6, buf[1])
}

#[test]
fn demo_serves_unsynchronized_then_stratum_1_to_chronyd() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_demo, ntp, sock) = start_demo(&dir.path().join("data"));

    // Right after start the servo has not locked: the server must say so.
    let (li, stratum) = query(ntp);
    assert_eq!((li, stratum), (3, 16), "unsynchronized before lock");

    // Lock comes from ~20 paired PPS seconds; `wait_status` allows generous
    // slack for a loaded CI machine (it bounds the wait, it times nothing).
    wait_status(&sock, "locked", |v| v["discipline"]["state"] == "locked");
    let (li, stratum) = query(ntp);
    assert_eq!((li, stratum), (0, 1), "synchronized after lock");

    let run = ntp_support::chronyd_oneshot(ntp, "", "", 20);
    let offset = run
        .offset
        .unwrap_or_else(|| panic!("chronyd reported no offset:\n{}", run.output));
    assert!(offset.abs() < 1e-3, "offset {offset} s\n{}", run.output);

    // The NTP counters in the snapshot (refreshed once a second) saw our clients.
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let v = request(&sock, "status").expect("status");
        let served = v["ntp"]["counters"]["responses"].as_u64().unwrap_or(0);
        if served >= 2 {
            break;
        }
        assert!(Instant::now() < end, "responses not counted: {v:#}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Poll the snapshot until `pred` holds (bounded wait, not a timing assert).
fn wait_status(sock: &std::path::Path, what: &str, pred: impl Fn(&serde_json::Value) -> bool) {
    let end = Instant::now() + Duration::from_secs(120);
    loop {
        let v = request(sock, "status").expect("status");
        if pred(&v) {
            return;
        }
        assert!(Instant::now() < end, "never {what}: {:#}", v["discipline"]);
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn accept_time_jump(sock: &std::path::Path) -> (bool, serde_json::Value) {
    let out = Command::new(BIN)
        .args(["accept-time-jump", "--socket"])
        .arg(sock)
        .output()
        .expect("run accept-time-jump");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("accept-time-jump printed no JSON ({e}): {out:?}"));
    (out.status.success(), v)
}

/// The fake receiver's time jumps 5 s ahead and stays there: the daemon goes
/// to holdover (reason time_jump), keeps its own time and never steps by
/// itself; `accept-time-jump` from an operator steps onto the receiver's time
/// and the clock re-locks. Asked when nothing is pending, it refuses.
#[test]
fn demo_time_jump_waits_for_the_operator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_demo, ntp, sock) = start_demo(&dir.path().join("data"));
    wait_status(&sock, "locked", |v| v["discipline"]["state"] == "locked");

    let (ok, v) = accept_time_jump(&sock);
    assert!(!ok, "nothing pending, yet accepted: {v}");
    assert!(
        v["error"].as_str().unwrap_or("").contains("no time jump"),
        "{v}"
    );

    let r = request(&sock, "scenario time-jump").expect("switch scenario");
    assert_eq!(r["ok"], true, "{r}");
    wait_status(&sock, "in holdover for the jump", |v| {
        v["discipline"]["state"] == "holdover" && v["discipline"]["reason"] == "time_jump"
    });
    // The snapshot shows what an operator would accept, once the samples agree.
    wait_status(&sock, "showing the pending jump", |v| {
        v["discipline"]["pending_time_jump_ns"]
            .as_i64()
            .is_some_and(|j| (j - 5_000_000_000).abs() < 1_000_000)
    });
    // Still serving its own (right) time: no step was taken.
    let steps = request(&sock, "events 100 clock.step").expect("events");
    let steps = steps["events"].as_array().cloned().unwrap_or_default();
    assert!(
        steps.iter().all(|e| !e["data"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("time_jump")),
        "{steps:?}"
    );

    // The evidence needs a few consistent samples; retry while it gathers.
    let end = Instant::now() + Duration::from_secs(60);
    let step_ns = loop {
        let (ok, v) = accept_time_jump(&sock);
        if ok {
            break v["step_ns"].as_i64().expect("step_ns");
        }
        assert!(Instant::now() < end, "never accepted: {v}");
        std::thread::sleep(Duration::from_secs(1));
    };
    // The receiver says 5 s later than we do: the clock steps 5 s ahead.
    assert!((step_ns - 5_000_000_000).abs() < 1_000_000, "{step_ns}");
    wait_status(&sock, "re-locked", |v| v["discipline"]["state"] == "locked");
    let (li, stratum) = query(ntp);
    assert_eq!((li, stratum), (0, 1));
    let steps = request(&sock, "events 100 clock.step").expect("events");
    assert!(steps.to_string().contains("time_jump_operator"), "{steps}");
}
