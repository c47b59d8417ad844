//! Shared by the web tests: start `demo` on ephemeral ports, and a minimal
//! HTTP/1.1 client (one request per connection) so the tests depend on no
//! HTTP client crate and see the server's bytes as they are.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_gnss-timeserver");

pub struct Demo {
    child: Child,
    pub http: SocketAddr,
    /// The NTP addresses the banner lists (printed before `http:`).
    pub ntp: Vec<SocketAddr>,
    pub socket: PathBuf,
    pub data: PathBuf,
    /// Lines of stderr (the setup code is logged there).
    pub log: mpsc::Receiver<String>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_demo(data: &Path) -> Demo {
    let mut child = Command::new(BIN)
        .arg("demo")
        .arg("--data")
        .arg(data)
        .args(["--ntp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn demo");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (ltx, lrx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = ltx.send(line);
        }
    });
    let (mut http, mut sock, mut ntp) = (None, None, Vec::new());
    while http.is_none() || sock.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(90))
            .expect("demo banner incomplete");
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("http:") {
            let url = rest.trim();
            let addr = url
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string();
            http = Some(addr.parse::<SocketAddr>().expect("http address parses"));
        }
        if let Some(a) = line
            .strip_prefix("ntp:")
            .and_then(|r| r.trim().strip_suffix("(udp)"))
            .and_then(|a| a.trim().parse::<SocketAddr>().ok())
        {
            ntp.push(a);
        }
        if let Some(p) = line.strip_prefix("control socket:") {
            sock = Some(PathBuf::from(p.trim()));
        }
    }
    Demo {
        child,
        http: http.expect("http"),
        ntp,
        socket: sock.expect("socket"),
        data: data.to_path_buf(),
        log: lrx,
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Send raw request bytes; read the whole reply (the request says close).
pub fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // The server may answer (413) and close before reading a large body.
    let _ = s.write_all(request);
    // Read to the end of the body by its length (some servers keep the
    // connection open despite `Connection: close`), else to EOF.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|n| buf.len() >= end + 4 + n) {
                break;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    parse(&buf)
}

pub fn parse(buf: &[u8]) -> Reply {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(buf)));
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..pos])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = pos + 2;
        out.extend_from_slice(&b[start..(start + size).min(b.len())]);
        b = &b[(start + size + 2).min(b.len())..];
    }
    out
}

/// A request with optional cookie, CSRF token and JSON body.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req += &format!("Cookie: {c}\r\n");
    }
    if let Some(t) = csrf {
        req += &format!("X-CSRF-Token: {t}\r\n");
    }
    if let Some(b) = body {
        req += &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        );
    }
    req += "\r\n";
    if let Some(b) = body {
        req += b;
    }
    raw(addr, req.as_bytes())
}

pub fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, None, None, None)
}

/// Set a user's password with the CLI (as an operator would).
pub fn set_password(data: &Path, user: &str, role: &str, password: &str) {
    let mut child = Command::new(BIN)
        .args(["set-password", "--data"])
        .arg(data)
        .args(["--user", user, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn set-password");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write password");
    assert!(child.wait().expect("wait").success(), "set-password failed");
}

/// Log in; returns (cookie "name=value", csrf token).
pub fn login(addr: SocketAddr, user: &str, password: &str) -> (String, String) {
    let r = request(
        addr,
        "POST",
        "/api/v1/login",
        None,
        None,
        Some(&serde_json::json!({"user": user, "password": password}).to_string()),
    );
    assert_eq!(r.status, 200, "login: {}", r.text());
    let cookie = r
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string();
    let csrf = r.json()["csrf_token"]
        .as_str()
        .expect("csrf token")
        .to_string();
    (cookie, csrf)
}

/// Poll until `f` is true or the deadline passes.
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}
