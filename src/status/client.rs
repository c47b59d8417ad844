//! `gnss-timeserver status`: fetch and print the snapshot from a running daemon.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run_cli(_socket: Option<PathBuf>, _http: Option<SocketAddr>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("status: not implemented yet")
}
