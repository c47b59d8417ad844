//! `gnss-timeserver status`: fetch and print the snapshot from a running daemon.

use std::io::{BufRead, BufReader, Write};
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
    if let Some(addr) = http {
        eprintln!(
            "error: status over HTTP ({addr}) is not available yet; use --socket (default {DEFAULT_SOCKET})"
        );
        return Ok(ExitCode::from(2));
    }
    let socket = match find_socket(socket, config.as_deref(), socket_of) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    match request(&socket, "status") {
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
