//! `gnss-timeserver status`: fetch and print the snapshot from a running daemon.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The demo's control socket, used when `--socket` is not given.
pub const DEFAULT_SOCKET: &str = "./gnss-timeserver-data/control.sock";

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

pub fn run_cli(socket: Option<PathBuf>, http: Option<SocketAddr>) -> anyhow::Result<ExitCode> {
    if let Some(addr) = http {
        eprintln!(
            "error: status over HTTP ({addr}) is not available yet; use --socket (default {DEFAULT_SOCKET})"
        );
        return Ok(ExitCode::from(2));
    }
    let socket = socket.unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET));
    match request(&socket, "status") {
        Ok(v) => {
            if let Some(err) = v.get("error") {
                eprintln!("error: daemon: {err}");
                return Ok(ExitCode::FAILURE);
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `gnss-timeserver accept-time-jump`: prints the daemon's JSON answer; exit
/// 0 when the clock was stepped, 1 when the daemon refused (reason printed).
pub fn accept_time_jump_cli(socket: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let socket = socket.unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET));
    match request(&socket, "accept-time-jump") {
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
