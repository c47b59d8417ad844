//! Shared helpers for the NTP integration tests: an in-process server on
//! loopback serving the system clock, and real client tools.

#![allow(dead_code)]

use gnss_timeserver::clock::TimeSource;
use gnss_timeserver::ntp::{self, NtpServerConfig, NtpServerHandle};
use gnss_timeserver::status::{LeapIndicator, ServerFields, ServerFieldsCell};
use gnss_timeserver::store::EventSink;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

/// The served clock is the system clock (like `demo` with zero correction).
pub struct SystemClock;

impl TimeSource for SystemClock {
    fn from_system_ns(&self, system_ns: i64) -> i64 {
        system_ns
    }
}

pub fn synced_fields() -> ServerFields {
    ServerFields {
        leap: LeapIndicator::NoWarning,
        stratum: 1,
        refid: *b"GPS\0",
        precision: -20,
        root_delay_ns: 0,
        root_dispersion_ns: 10_000,
        reference_time_ns: gnss_timeserver::time::system_realtime_ns(),
        as_of_ns: gnss_timeserver::time::system_realtime_ns(),
    }
}

/// Loopback test config: one address, 2 workers, no rate limit.
pub fn test_config(bind: &str) -> NtpServerConfig {
    NtpServerConfig {
        bind: vec![bind.parse().expect("bind address")],
        workers: 2,
        rate_limit_interval_ms: 0,
        client_offset_alarm_ms: 0,
        // The fields are set once here, with no discipline loop refreshing them.
        stale_after_ms: 0,
        ..NtpServerConfig::default()
    }
}

pub fn start(cfg: NtpServerConfig, fields: ServerFields) -> (NtpServerHandle, SocketAddr) {
    let h = ntp::spawn(
        cfg,
        Arc::new(SystemClock),
        ServerFieldsCell::new(fields),
        EventSink::null(),
        &gnss_timeserver::liveness::Parts::default(),
    )
    .expect("spawn NTP server");
    let addr = h.local_addrs()[0];
    (h, addr)
}

/// Path of a required external tool; panics (the test FAILS) when missing.
pub fn require_tool(name: &str) -> String {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p.to_string_lossy().into_owned();
        }
    }
    panic!("required tool `{name}` not found: install it (CI: apt-get install chrony ntpsec-ntpdate sntp)");
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

pub fn run(cmd: &mut Command) -> (Output, String) {
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

/// Result of a one-shot `chronyd -Q` measurement.
pub struct ChronyRun {
    pub output: String,
    /// `log measurements` lines (header stripped).
    pub measurements: Vec<String>,
    /// Offset from "System clock wrong by X seconds", if any.
    pub offset: Option<f64>,
}

/// Run `chronyd -Q` (measure once, never touch the clock) against `server`
/// with a private config, pid file, drift file, socket and log dir in a temp
/// dir. `extra` is appended to the `server` line; `directives` added verbatim.
pub fn chronyd_oneshot(
    server: SocketAddr,
    extra: &str,
    directives: &str,
    timeout_s: u32,
) -> ChronyRun {
    let chronyd = require_tool("chronyd");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display().to_string();
    let conf = format!(
        "server {} port {} iburst minpoll -4 maxpoll -4 {extra}\n\
         pidfile {d}/chronyd.pid\ndriftfile {d}/drift\nbindcmdaddress {d}/chronyd.sock\n\
         cmdport 0\nport 0\nlogdir {d}\nlog measurements\n{directives}\n",
        server.ip(),
        server.port()
    );
    std::fs::write(dir.path().join("chrony.conf"), conf).expect("write chrony.conf");
    let mut cmd = Command::new(chronyd);
    cmd.arg("-Q").arg("-f").arg(dir.path().join("chrony.conf"));
    cmd.arg("-t").arg(timeout_s.to_string());
    if is_root() {
        cmd.args(["-u", "root"]);
    } else {
        cmd.arg("-U");
    }
    let (_, output) = run(&mut cmd);
    let measurements = std::fs::read_to_string(dir.path().join("measurements.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
        .collect();
    let offset = output.lines().find_map(|l| {
        let rest = l.split("System clock wrong by ").nth(1)?;
        rest.split_whitespace().next()?.parse::<f64>().ok()
    });
    ChronyRun {
        output,
        measurements,
        offset,
    }
}
