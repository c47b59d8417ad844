//! One daemon per data directory and per NTP address: a second `demo` on
//! either is refused with a message naming the first one's pid; a daemon
//! killed without a clean stop is reported by the next start
//! (`daemon.unclean_shutdown`), a clean stop is not.

use gnss_timeserver::status::client::request;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gnss-timeserver");

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn demo_cmd(data: &Path, ntp: &str) -> Command {
    let mut c = Command::new(BIN);
    c.arg("demo")
        .arg("--data")
        .arg(data)
        .args(["--ntp", ntp, "--http", "127.0.0.1:0"])
        .stdin(Stdio::null());
    c
}

/// Start a demo and wait for its banner; returns it and its control socket.
fn start_demo(data: &Path, ntp: &str) -> (KillOnDrop, PathBuf) {
    let mut child = KillOnDrop(
        demo_cmd(data, ntp)
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
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("demo banner incomplete");
        if let Some(p) = line.trim().strip_prefix("control socket:") {
            return (child, PathBuf::from(p.trim()));
        }
    }
}

/// Run a demo that must be refused; returns its stderr.
fn refused(data: &Path, ntp: &str) -> String {
    let mut child = demo_cmd(data, ntp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn demo");
    // A demo that is not refused runs until killed: bound the wait.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "a second demo on {} / {ntp} was not refused",
                data.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("stderr");
    assert!(!status.success(), "refused demo exits with failure: {err}");
    err
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a: SocketAddr| a.port())
        .expect("free port")
}

fn count_events(sock: &Path, kind: &str) -> usize {
    let v = request(sock, &format!("events 100 {kind}")).expect("events");
    v["events"].as_array().map_or(0, Vec::len)
}

#[test]
fn second_instance_is_refused_naming_the_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let ntp = format!("127.0.0.1:{}", free_udp_port());
    let (first, sock) = start_demo(&data, &ntp);
    let pid = first.0.id();

    let err = refused(&data, "127.0.0.1:0");
    assert!(
        err.contains("data directory") && err.contains(&format!("pid {pid}")),
        "same data dir: {err}"
    );
    let err = refused(&dir.path().join("other"), &ntp);
    assert!(
        err.contains(&format!("NTP address {ntp}")) && err.contains(&format!("pid {pid}")),
        "same NTP address: {err}"
    );
    // The refused ones changed nothing: the first still answers.
    assert!(request(&sock, "status").is_ok());
    drop(first);
}

#[test]
fn unclean_and_clean_stops_are_told_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (first, _) = start_demo(&data, "127.0.0.1:0");
    drop(first); // SIGKILL: no clean stop

    let (mut second, sock) = start_demo(&data, "127.0.0.1:0");
    assert_eq!(count_events(&sock, "daemon.unclean_shutdown"), 1);
    // SAFETY: a signal to our own child.
    let rc = unsafe { libc::kill(second.0.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let st = second.0.wait().expect("wait");
    assert!(st.success(), "clean stop exits 0: {st:?}");

    let (_third, sock) = start_demo(&data, "127.0.0.1:0");
    assert_eq!(
        count_events(&sock, "daemon.unclean_shutdown"),
        1,
        "no new one"
    );
    assert!(count_events(&sock, "daemon.stop") >= 1);
}
