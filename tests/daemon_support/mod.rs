//! Running the real binary (`demo`, `run`) for end-to-end tests, plus a
//! bare NTP query that returns what the reply advertises.
#![allow(dead_code)] // each test file uses a part

use gnss_timeserver::status::client::request;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_gnss-timeserver");

pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `demo` on ephemeral ports: the process, its NTP address and control socket.
pub fn start_demo(data: &Path) -> (KillOnDrop, SocketAddr, PathBuf) {
    let (child, ntp, sock, _) = start_demo_with_http(data);
    (child, ntp, sock)
}

/// `demo` on ephemeral ports: the process, its NTP address, control socket
/// and HTTP address.
pub fn start_demo_with_http(data: &Path) -> (KillOnDrop, SocketAddr, PathBuf, SocketAddr) {
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
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut ntp, mut sock, mut http) = (None, None, None);
    while ntp.is_none() || sock.is_none() || http.is_none() {
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
        if let Some(rest) = line.strip_prefix("http:") {
            let url = rest.trim();
            let addr = url.trim_start_matches("http://").trim_end_matches('/');
            http = Some(addr.parse::<SocketAddr>().expect("http address parses"));
        }
    }
    (
        child,
        ntp.expect("ntp"),
        sock.expect("socket"),
        http.expect("http"),
    )
}

/// What one reply advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub li: u8,
    pub stratum: u8,
    /// Root dispersion in NTP short format (2^-16 s).
    pub root_dispersion: u32,
}

/// One mode 3 request.
pub fn query(server: SocketAddr) -> Reply {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut req = [0u8; 48];
    req[0] = 0x23; // LI 0, version 4, mode 3
    req[40..48].copy_from_slice(&0x1234_5678_9abc_def0u64.to_be_bytes());
    s.send_to(&req, server).expect("send");
    let mut buf = [0u8; 128];
    let (n, _) = s.recv_from(&mut buf).expect("the daemon answers NTP");
    assert_eq!(n, 48);
    assert_eq!(buf[0] & 7, 4, "server mode");
    assert_eq!(&buf[24..32], &req[40..48], "origin timestamp echoed");
    Reply {
        li: buf[0] >> 6,
        stratum: buf[1],
        root_dispersion: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
    }
}

/// Poll the snapshot until `pred` holds (a bounded wait, not a timing assert).
pub fn wait_status(
    sock: &Path,
    what: &str,
    limit: Duration,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let end = Instant::now() + limit;
    loop {
        if let Ok(v) = request(sock, "status") {
            if pred(&v) {
                return v;
            }
            assert!(Instant::now() < end, "never {what}: {v:#}");
        } else {
            assert!(
                Instant::now() < end,
                "never {what}: no status from {sock:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A free UDP port on loopback (bound and released).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}
