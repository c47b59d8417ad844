//! The binary end to end: check-config, status without a daemon, and a demo
//! that starts, answers `status` on its control socket and stops on SIGTERM
//! leaving its start/stop events in the store.

use gnss_timeserver::status::client::request;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gnss-timeserver");

/// Poll `status` until `ok` holds; fail after 30 s with the last snapshot.
fn wait_status(
    sock: &Path,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let end = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let v = request(sock, "status").unwrap();
        if ok(&v) {
            return v;
        }
        assert!(
            std::time::Instant::now() < end,
            "timed out waiting for {what}; last status: {v:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kills the demo if an assertion fails before the test stops it.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn check_config_accepts_the_shipped_example() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("board/gnss-timeserver.toml");
    let out = Command::new(BIN)
        .arg("check-config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn status_without_daemon_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["status", "--socket"])
        .arg(dir.path().join("none.sock"))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no daemon is listening"), "{err}");
}

#[test]
fn status_over_http_without_server_fails_clearly() {
    // A port nobody listens on: bind, learn the port, close.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = Command::new(BIN)
        .args(["status", "--http", &addr.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("http://{addr}")), "{err}");
}

#[test]
fn demo_serves_status_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut demo = KillOnDrop(
        Command::new(BIN)
            .arg("demo")
            .arg("--data")
            .arg(&data)
            .args(["--ntp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Read the banner on a thread so a silent demo fails the test instead of hanging it.
    let stdout = demo.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut socket = None;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        if let Some(p) = line.trim().strip_prefix("control socket:") {
            socket = Some(p.trim().to_string());
            break;
        }
    }
    let socket = socket.expect("demo printed no control socket line");
    assert_eq!(Path::new(&socket), data.join("control.sock"));

    let out = Command::new(BIN)
        .args(["status", "--socket", &socket])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(text.contains("\n  \""), "pretty-printed");

    // `status --summary --config FILE`: the socket comes from the config's
    // `[status] socket`, the output is a few lines for a person.
    let cfg = dir.path().join("daemon.toml");
    std::fs::write(&cfg, format!("[status]\nsocket = \"{socket}\"\n")).unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["status", "--summary", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert!(
        summary.starts_with(&format!("gnss-timeserver {}", env!("CARGO_PKG_VERSION"))),
        "{summary}"
    );
    assert!(
        summary.contains("time ") && summary.contains("receiver "),
        "{summary}"
    );
    assert!(summary.lines().count() < 15, "{summary}");

    // Fake receiver → pty → serial task → receiver model → snapshot.
    let sock = Path::new(&socket);
    let fixed = wait_status(sock, "a 3D fix from the fake receiver", |v| {
        v["serial"]["connected"] == true
            && v["receiver"]["fix"]["mode"] == "3d"
            && v["receiver"]["sats_used"].as_u64().unwrap_or(0) >= 4
    });
    assert!(fixed["receiver"]["counters"]["epochs"].as_u64().unwrap() > 0);

    // Switch the scenario through the control socket and see it arrive.
    let r = request(sock, "scenario antenna-short").unwrap();
    assert_eq!(r["ok"], true, "{r}");
    wait_status(sock, "antenna SHORT after switching scenario", |v| {
        v["receiver"]["antenna"]["status"] == "short"
    });
    let bad = request(sock, "scenario no-such-scenario").unwrap();
    assert!(bad["error"].is_string(), "{bad}");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(demo.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = demo.0.wait().unwrap();
    assert!(status.success(), "demo exit status {status}");
    assert!(!data.join("control.sock").exists());

    let store = gnss_timeserver::store::Store::open(&data.join("store.redb")).unwrap();
    let evs = store.recent_events(100, None).unwrap();
    let kinds: Vec<&str> = evs.iter().map(|e| e.event.name()).collect();
    assert!(kinds.contains(&"daemon.start"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"daemon.stop"), "{kinds:?}");
}

#[test]
fn run_with_config_serves_status_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("run/control.sock");
    let store = dir.path().join("lib/store.redb");
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            // Never the Linux clock or port 123 in a test: a virtual clock,
            // an ephemeral loopback port, and a PPS device that is missing.
            "[receiver]\ndevice = \"{}\"\n[pps]\ndevice = \"{}\"\n[discipline]\nclock = \"virtual\"\n[ntp]\nlisten = [\"127.0.0.1:0\"]\n[store]\npath = \"{}\"\ncommit-interval-s = 1\n[status]\nsocket = \"{}\"\n",
            dir.path().join("no-such-tty").display(),
            dir.path().join("no-such-pps").display(),
            store.display(),
            sock.display()
        ),
    )
    .unwrap();
    let mut run = KillOnDrop(
        Command::new(BIN)
            .args(["run", "--config"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Poll (bounded) until the daemon answers on its socket.
    let mut reply = None;
    for _ in 0..600 {
        if let Ok(v) = gnss_timeserver::status::client::request(&sock, "status") {
            reply = Some(v);
            break;
        }
        assert!(run.0.try_wait().unwrap().is_none(), "run exited early");
        std::thread::sleep(Duration::from_millis(100));
    }
    let v = reply.expect("run never answered on its control socket");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    // The missing receiver is retried and reported, not fatal.
    let v = wait_status(&sock, "the serial outage to be reported", |v| {
        v["serial"]["outages"].as_u64().unwrap_or(0) >= 1
    });
    assert_eq!(v["serial"]["connected"], false);
    assert!(v["serial"]["last_error"].is_string(), "{v:#}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(run.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(run.0.wait().unwrap().success());
    let s = gnss_timeserver::store::Store::open(&store).unwrap();
    let kinds: Vec<String> = s
        .recent_events(10, None)
        .unwrap()
        .into_iter()
        .map(|e| e.event.name().to_string())
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("daemon.start"));
    assert_eq!(kinds.last().map(String::as_str), Some("daemon.stop"));
    // One outage event for the whole outage, however many retries.
    let outages = kinds.iter().filter(|k| *k == "serial.outage").count();
    assert_eq!(outages, 1, "{kinds:?}");
    // A missing PPS device is reported, not fatal.
    assert!(kinds.iter().any(|k| k == "pps.unavailable"), "{kinds:?}");
}

#[test]
fn run_with_invalid_config_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[ntp]\nworkerz = 2\n").unwrap();
    let out = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workerz"));
}

#[test]
fn demo_with_unknown_scenario_exits_2_listing_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("demo")
        .arg("--data")
        .arg(dir.path())
        .args(["--scenario", "sunny-day"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sunny-day") && err.contains("healthy"),
        "{err}"
    );
}
