//! Daemon wiring: starts the tasks for `run` and `demo` and supervises them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `gnss-timeserver demo`. These names are a contract with outside
/// scripts: keep them.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoOptions {
    /// Embedded database and runtime files.
    #[arg(long, default_value = "./gnss-timeserver-data")]
    pub data: PathBuf,
    /// NTP listen address.
    #[arg(long, default_value = "127.0.0.1:1123")]
    pub ntp: SocketAddr,
    /// Web panel / HTTP API listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// Fake receiver scenario (switchable while running).
    #[arg(long, default_value = "healthy")]
    pub scenario: String,
}

/// `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run_blocking(_config: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("run: not implemented yet")
}

pub fn demo_blocking(_opts: DemoOptions) -> anyhow::Result<ExitCode> {
    anyhow::bail!("demo: not implemented yet")
}
