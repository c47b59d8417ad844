//! Running `demo` and real net-snmp / NTP tools in integration tests.
#![allow(dead_code)]

use gnss_timeserver::status::client::request;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_gnss-timeserver");

/// A child process killed (and reaped) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where `.ci/run` unpacks ntpsec's `ntpq`: Debian's ntpsec package
/// conflicts with chrony (both are time daemons), so only its files are
/// extracted, never installed or started.
pub const NTPSEC_TOOLS: &str = "/opt/ntpsec-tools/usr/bin";

/// Path of a required external tool; panics (the test FAILS) when missing.
pub fn require_tool(name: &str) -> String {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/lib/nagios/plugins",
        NTPSEC_TOOLS,
    ] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p.to_string_lossy().into_owned();
        }
    }
    panic!(
        "required tool `{name}` not found: install it (see .ci/run: snmpd snmp snmptrapd \
         smitools monitoring-plugins-basic, python3-ntp + ntpsec's ntpq in {NTPSEC_TOOLS})"
    );
}

/// `board/mibs` and the IETF modules they import, for `-M` and SMIPATH.
pub fn mib_dirs() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("board/mibs");
    format!("{}:{}", root.display(), root.join("ietf").display())
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The demo with `args` appended; returns it and its control socket.
pub fn start_demo(data: &Path, ntp: &str, args: &[&str]) -> (Proc, PathBuf) {
    let (p, sock, _) = start_demo_http(data, ntp, args);
    (p, sock)
}

/// As [`start_demo`], also returning the web panel's address.
pub fn start_demo_http(
    data: &Path,
    ntp: &str,
    args: &[&str],
) -> (Proc, PathBuf, std::net::SocketAddr) {
    let mut child = Proc(
        Command::new(BIN)
            .arg("demo")
            .arg("--data")
            .arg(data)
            .args(["--ntp", ntp, "--http", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
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
    let (mut http, mut sock) = (None, None);
    while http.is_none() || sock.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("demo banner incomplete");
        let line = line.trim();
        if let Some(url) = line.strip_prefix("http:") {
            let addr = url
                .trim()
                .trim_start_matches("http://")
                .trim_end_matches('/');
            http = Some(addr.parse().expect("http address parses"));
        }
        if let Some(p) = line.strip_prefix("control socket:") {
            sock = Some(PathBuf::from(p.trim()));
        }
    }
    (child, sock.expect("socket"), http.expect("http"))
}

pub fn status(sock: &Path) -> serde_json::Value {
    request(sock, "status").expect("status")
}

/// Poll the snapshot until `pred` holds (a bounded wait, not a timing test).
pub fn wait_status(
    sock: &Path,
    what: &str,
    limit: Duration,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let end = Instant::now() + limit;
    loop {
        let v = status(sock);
        if pred(&v) {
            return v;
        }
        assert!(Instant::now() < end, "never {what}: {:#}", v["discipline"]);
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn scenario(sock: &Path, name: &str) {
    let v = request(sock, &format!("scenario {name}")).expect("scenario");
    assert_eq!(v["ok"], true, "{v}");
}
