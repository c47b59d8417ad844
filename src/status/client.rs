//! `gnss-timeserver status`: fetch and print the snapshot from a running daemon.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The demo's control socket, used when `--socket` is not given.
pub const DEFAULT_SOCKET: &str = "./gnss-timeserver-data/control.sock";
/// The appliance's config, where `status` looks for the socket when neither
/// `--socket` nor `--config` is given and no demo runs in this directory.
pub const SYSTEM_CONFIG: &str = "/etc/gnss-timeserver.toml";

/// Which control socket to ask: `--socket`, else the `[status] socket` of
/// `--config`, else the demo's in this directory when it exists, else the
/// one of the appliance's config, else the demo's default.
///
/// `socket_of` reads a config file's `[status] socket`: the caller (the CLI)
/// passes the config loader, so the status module does not depend on the
/// config module.
pub fn find_socket(
    socket: Option<PathBuf>,
    config: Option<&Path>,
    socket_of: SocketOfConfig,
) -> Result<PathBuf, String> {
    if let Some(s) = socket {
        return Ok(s);
    }
    if let Some(c) = config {
        return socket_of(c);
    }
    let demo = PathBuf::from(DEFAULT_SOCKET);
    if demo.exists() {
        return Ok(demo);
    }
    let system = Path::new(SYSTEM_CONFIG);
    if system.exists() {
        if let Ok(s) = socket_of(system) {
            return Ok(s);
        }
    }
    Ok(demo)
}

/// Reads the control socket's path from a config file.
pub type SocketOfConfig = &'static dyn Fn(&Path) -> Result<PathBuf, String>;

/// How `status` prints the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFormat {
    /// The whole snapshot, pretty-printed JSON (the default, for scripts).
    Json,
    /// A few lines for a person.
    Summary,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no daemon is listening on {path} ({source}); start one with `gnss-timeserver demo` or `gnss-timeserver run`")]
    NoDaemon {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("control socket {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("control socket {path}: the daemon closed the connection without answering")]
    NoReply { path: String },
    #[error("control socket {path}: reply is not JSON: {source}")]
    BadReply {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Send one request line and return the daemon's JSON reply.
pub fn request(socket: &Path, line: &str) -> Result<serde_json::Value, ClientError> {
    let path = socket.display().to_string();
    let io = |source| ClientError::Io {
        path: path.clone(),
        source,
    };
    let mut stream = UnixStream::connect(socket).map_err(|source| ClientError::NoDaemon {
        path: path.clone(),
        source,
    })?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    stream
        .write_all(format!("{}\n", line.trim()).as_bytes())
        .map_err(io)?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).map_err(io)?;
    if reply.trim().is_empty() {
        return Err(ClientError::NoReply { path });
    }
    serde_json::from_str(&reply).map_err(|source| ClientError::BadReply { path, source })
}

pub fn run_cli(
    socket: Option<PathBuf>,
    config: Option<PathBuf>,
    http: Option<SocketAddr>,
    format: StatusFormat,
    socket_of: SocketOfConfig,
) -> anyhow::Result<ExitCode> {
    let reply = match http {
        Some(addr) => http_status(addr).map_err(|e| format!("http://{addr}: {e}")),
        None => {
            let socket = match find_socket(socket, config.as_deref(), socket_of) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            request(&socket, "status").map_err(|e| e.to_string())
        }
    };
    match reply {
        Ok(v) => {
            if let Some(err) = v.get("error") {
                eprintln!("error: daemon: {err}");
                return Ok(ExitCode::FAILURE);
            }
            match format {
                StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&v)?),
                StatusFormat::Summary => print!("{}", super::summary::render(&v)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `GET /api/v1/status` over plain HTTP/1.0 (no chunking, the server
/// closes): the same snapshot the socket gives, where only the web port is
/// reachable.
fn http_status(addr: SocketAddr) -> Result<serde_json::Value, String> {
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /api/v1/status HTTP/1.0\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    // At most 16 MiB: a snapshot is tens of kB.
    std::io::Read::take(&mut stream, 16 << 20)
        .read_to_end(&mut reply)
        .map_err(|e| e.to_string())?;
    parse_http_reply(&reply)
}

/// The JSON body of an HTTP reply, or what went wrong in words.
pub fn parse_http_reply(reply: &[u8]) -> Result<serde_json::Value, String> {
    if !reply.starts_with(b"HTTP/") {
        return Err(
            "not an HTTP answer (an HTTPS port? --http speaks plain HTTP; use the control socket)"
                .into(),
        );
    }
    let head_end = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("reply ends inside its header")?;
    let head = String::from_utf8_lossy(&reply[..head_end]);
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status code")?;
    let body = &reply[head_end + 4..];
    let json: Result<serde_json::Value, _> = serde_json::from_slice(body);
    match (status, json) {
        (200, Ok(v)) => Ok(v),
        (200, Err(e)) => Err(format!("bad JSON: {e}")),
        (401, _) => Err("401: reads need a login (http.public-read = false)".into()),
        (code, Ok(v)) => Err(format!(
            "{code}: {}",
            v.get("error").and_then(|e| e.as_str()).unwrap_or("error")
        )),
        (code, Err(_)) => Err(format!("HTTP {code}")),
    }
}

/// `gnss-timeserver accept-time-jump`: prints the daemon's JSON answer; exit
/// 0 when the clock was stepped, 1 when the daemon refused (reason printed).
pub fn accept_time_jump_cli(
    socket: Option<PathBuf>,
    config: Option<PathBuf>,
    socket_of: SocketOfConfig,
) -> anyhow::Result<ExitCode> {
    operator_request_cli(socket, config, socket_of, "accept-time-jump")
}

/// `gnss-timeserver snmp test-trap`: asks the daemon to send the SNMP test
/// notification; exit 0 once snmpd has it, 1 when the daemon refused.
pub fn snmp_test_trap_cli(
    socket: Option<PathBuf>,
    config: Option<PathBuf>,
    socket_of: SocketOfConfig,
) -> anyhow::Result<ExitCode> {
    operator_request_cli(socket, config, socket_of, "snmp-test-trap")
}

/// One control request that either succeeds or is refused with a reason.
fn operator_request_cli(
    socket: Option<PathBuf>,
    config: Option<PathBuf>,
    socket_of: SocketOfConfig,
    line: &str,
) -> anyhow::Result<ExitCode> {
    let socket = match find_socket(socket, config.as_deref(), socket_of) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    match request(&socket, line) {
        Ok(v) => {
            println!("{v}");
            if let Some(err) = v.get("error").and_then(|e| e.as_str()) {
                eprintln!("error: daemon refused: {err}");
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

#[cfg(test)]
mod http_tests {
    use super::parse_http_reply;

    #[test]
    fn http_replies_become_json_or_a_reason() {
        let ok = b"HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{\"a\":1}";
        assert_eq!(parse_http_reply(ok).unwrap()["a"], 1);
        let refused = b"HTTP/1.1 429 Too Many\r\n\r\n{\"error\":\"slow down\"}";
        assert_eq!(parse_http_reply(refused).unwrap_err(), "429: slow down");
        assert!(parse_http_reply(b"HTTP/1.1 401 x\r\n\r\n{}")
            .unwrap_err()
            .contains("login"));
        assert!(parse_http_reply(b"\x16\x03\x01junk")
            .unwrap_err()
            .contains("HTTPS"));
        assert!(parse_http_reply(b"HTTP/1.1 200 OK\r\nx: y").is_err());
        assert!(parse_http_reply(b"HTTP/1.1 200 OK\r\n\r\n{not json").is_err());
    }
}
