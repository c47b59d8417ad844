//! `run` serves the panel over HTTPS with a self-signed certificate made on
//! the first start (key 0600, kept across restarts) and redirects plain
//! HTTP to it. The client is curl (Debian `curl`); the test fails without it.

mod web_support;

use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use web_support::{wait_for, BIN};

struct Daemon(Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn curl(args: &[&str]) -> (bool, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is needed: install the Debian package `curl` (see .ci/run)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn start(dir: &std::path::Path, https: u16, plain: u16) -> Daemon {
    let ntp = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "[receiver]\ndevice = \"{d}/no-such-tty\"\n[pps]\nsource = \"sim\"\n[discipline]\nclock = \"virtual\"\n\
             [ntp]\nlisten = [\"127.0.0.1:{ntp}\"]\n[store]\npath = \"{d}/store.redb\"\n\
             [http]\nlisten = \"127.0.0.1:{https}\"\nredirect-from = \"127.0.0.1:{plain}\"\n\
             [status]\nsocket = \"{d}/control.sock\"\n",
            d = dir.display()
        ),
    )
    .unwrap();
    Daemon(
        Command::new(BIN)
            .args(["run", "--config"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn https_with_self_signed_certificate_and_redirect() {
    let dir = tempfile::tempdir().unwrap();
    let (https, plain) = (tcp_port(), tcp_port());
    let daemon = start(dir.path(), https, plain);
    let url = format!("https://127.0.0.1:{https}/api/v1/session");
    wait_for("HTTPS", Duration::from_secs(30), || curl(&["-k", &url]).0);
    let (_, body) = curl(&["-k", "-D", "-", &url]);
    assert!(body.contains("strict-transport-security"), "{body}");
    assert!(body.contains("\"setup_required\":true"), "{body}");
    // Without -k the self-signed certificate is (rightly) not trusted.
    assert!(!curl(&[&url]).0);
    // Plain HTTP only redirects, keeping path and query.
    let (_, head) = curl(&[
        "-D",
        "-",
        "-o",
        "/dev/null",
        &format!("http://127.0.0.1:{plain}/api/v1/events?limit=5"),
    ]);
    assert!(head.starts_with("HTTP/1.1 308"), "{head}");
    assert!(
        head.contains(&format!(
            "location: https://127.0.0.1:{https}/api/v1/events?limit=5"
        )),
        "{head}"
    );
    use std::os::unix::fs::PermissionsExt;
    let key = dir.path().join("web/key.pem");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let cert = std::fs::read(dir.path().join("web/cert.pem")).unwrap();
    drop(daemon);
    // The same certificate after a restart.
    let _daemon = start(dir.path(), https, plain);
    wait_for("HTTPS again", Duration::from_secs(30), || {
        curl(&["-k", &url]).0
    });
    assert_eq!(
        std::fs::read(dir.path().join("web/cert.pem")).unwrap(),
        cert
    );
}
