//! Functional checks of the `ntp-load` tool: against its own bare reflector
//! and against a real chronyd. Counts and validation only, never timing.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TOOL: &str = env!("CARGO_BIN_EXE_ntp-load");

/// Kills and reaps the child when the test ends, pass or fail.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_reflector() -> (Reaper, String) {
    let mut child = Command::new(TOOL)
        .args(["reflect", "--listen", "127.0.0.1:0", "--workers", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn reflector");
    let stdout = child.stdout.take().expect("reflector stdout");
    let reaper = Reaper(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read reflector address");
    let addr = line
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("unexpected reflector banner {line:?}"))
        .trim()
        .to_string();
    (reaper, addr)
}

fn run_load(target: &str, extra: &[&str]) -> (Output, Value) {
    let out = Command::new(TOOL)
        .args(["load", "--target", target, "--json", "--duration", "20"])
        .args(extra)
        .output()
        .expect("run load tool");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "load tool printed no JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, json)
}

fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn reflector_replies_all_validate() {
    let (_r, addr) = start_reflector();
    let (out, j) = run_load(
        &addr,
        &[
            "--max-requests",
            "2000",
            "--expect-stratum",
            "1",
            "--expect-leap",
            "0",
        ],
    );
    assert!(out.status.success(), "exit {:?}: {j}", out.status);
    assert_eq!(u(&j, "sent"), 2000);
    assert!(u(&j, "answered") >= 1, "{j}");
    assert_eq!(u(&j, "invalid_total"), 0, "{j}");
    // Every request is accounted for exactly once.
    assert_eq!(u(&j, "answered") + u(&j, "lost"), 2000, "{j}");
}

#[test]
fn wrong_expected_stratum_counts_invalid_replies() {
    let (_r, addr) = start_reflector();
    let (out, j) = run_load(&addr, &["--max-requests", "500", "--expect-stratum", "2"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no valid reply must exit 2: {j}"
    );
    assert_eq!(u(&j, "answered"), 0, "{j}");
    assert!(u(&j["invalid"], "stratum") >= 1, "{j}");
}

#[test]
fn server_cpu_is_measured_for_reflector_pid() {
    let (r, addr) = start_reflector();
    let pid = r.0.id().to_string();
    let (out, j) = run_load(
        &addr,
        &[
            "--max-requests",
            "2000",
            "--server-pid",
            &pid,
            "--idle-secs",
            "0.2",
        ],
    );
    assert!(out.status.success(), "{j}");
    let server = &j["server"];
    assert_eq!(server["pid"].as_u64(), Some(u64::from(r.0.id())));
    assert!(server["vm_rss_kib"].as_u64().unwrap_or(0) > 0, "{j}");
    assert!(server["total_us_per_req"].as_f64().is_some(), "{j}");
}

#[test]
fn refuses_non_loopback_target() {
    let out = Command::new(TOOL)
        .args(["load", "--target", "192.0.2.1:123", "--max-requests", "1"])
        .output()
        .expect("run load tool");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a loopback"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn find_chronyd() -> PathBuf {
    let dirs = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d: PathBuf| d.join("chronyd"))
        .find(|p| p.is_file())
        .expect("chronyd not found: install the `chrony` package (apt-get install chrony)")
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("probe port")
        .port()
}

/// A private chronyd serving `local stratum 1` on loopback; `-x` so it never
/// touches the system clock, all state files in `dir`.
fn start_chronyd(dir: &Path, port: u16) -> Reaper {
    let conf = dir.join("chrony.conf");
    std::fs::write(
        &conf,
        format!(
            "local stratum 1\nport {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\ncmdport 0\n\
             pidfile {d}/chronyd.pid\ndriftfile {d}/drift\n",
            d = dir.display()
        ),
    )
    .expect("write chrony.conf");
    // As root keep root (the temp dir is not the chrony user's); otherwise
    // skip chronyd's root check.
    let privs: &[&str] = if running_as_root() {
        &["-u", "root"]
    } else {
        &["-U"]
    };
    let child = Command::new(find_chronyd())
        .args(["-x", "-d"])
        .args(privs)
        .arg("-f")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chronyd");
    Reaper(child)
}

#[test]
fn chronyd_replies_validate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_udp_port();
    let _chronyd = start_chronyd(dir.path(), port);
    let target = format!("127.0.0.1:{port}");
    // Readiness poll: chronyd needs a moment to bind. Not a timing check.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (out, j) = run_load(&target, &["--max-requests", "20", "--timeout-ms", "200"]);
        if out.status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "chronyd never answered: {j}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (out, j) = run_load(
        &target,
        &[
            "--max-requests",
            "2000",
            "--expect-stratum",
            "1",
            "--expect-leap",
            "0",
        ],
    );
    assert!(out.status.success(), "{j}");
    assert!(u(&j, "answered") >= 1, "{j}");
    assert_eq!(u(&j, "invalid_total"), 0, "{j}");
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
