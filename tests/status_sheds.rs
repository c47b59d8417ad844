//! Every bound that refuses work shows in the status under `drops`: a real
//! `demo`, its control socket flooded with idle connections, its HTTP port
//! with connections and requests past the limits; the snapshot then counts
//! what was shed.

mod daemon_support;

use daemon_support::{start_demo_with_http, wait_status};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// The control socket's slots (`status::control`); beyond them each new
/// connection sheds the longest-idle one.
const CONTROL_SLOTS: u64 = 16;
/// The HTTP connection limit (`web::server`).
const HTTP_CONNECTIONS: usize = 512;

fn count(v: &serde_json::Value, key: &str) -> u64 {
    v["drops"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("drops.{key} missing: {v:#}"))
}

#[test]
fn control_sheds_and_http_limits_are_counted_in_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, _ntp, sock, http) = start_demo_with_http(dir.path());
    let before = wait_status(&sock, "a snapshot", Duration::from_secs(30), |v| {
        v["drops"].is_object()
    });
    for key in [
        "control_idle_shed",
        "control_refused",
        "http_refused",
        "http_rate_limited",
    ] {
        assert_eq!(count(&before, key), 0, "nothing shed yet: {key}");
    }

    // 300 idle control connections: all but the slots' worth are shed.
    let idle: Vec<UnixStream> = (0..300)
        .map(|_| UnixStream::connect(&sock).unwrap())
        .collect();
    let v = wait_status(&sock, "idle sheds counted", Duration::from_secs(30), |v| {
        count(v, "control_idle_shed") >= 300 - CONTROL_SLOTS
    });
    assert_eq!(
        count(&v, "control_refused"),
        0,
        "idle ones are shed, not refused"
    );
    drop(idle);

    // Requests past the per-client rate limit get 429, each one counted.
    let mut limited = 0u64;
    for _ in 0..400 {
        if http_status(http) == 429 {
            limited += 1;
        }
    }
    assert!(limited > 0, "400 requests at once never hit the rate limit");
    wait_status(&sock, "429s counted", Duration::from_secs(30), |v| {
        count(v, "http_rate_limited") == limited
    });

    // Connections past the limit are closed at accept, and counted.
    let extra = 20;
    let held: Vec<TcpStream> = (0..HTTP_CONNECTIONS + extra)
        .map(|_| TcpStream::connect(http).unwrap())
        .collect();
    wait_status(
        &sock,
        "refused connections counted",
        Duration::from_secs(30),
        |v| count(v, "http_refused") >= extra as u64,
    );
    drop(held);
}

/// One request on its own connection: the response's status code.
fn http_status(addr: SocketAddr) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /no-such-page HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP status line: {head:?}"))
}
