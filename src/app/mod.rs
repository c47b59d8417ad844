//! Daemon wiring: starts the tasks for `run` and `demo` and supervises them.

pub mod services;
pub mod supervisor;

pub use services::Services;
pub use supervisor::{Backoff, Shutdown, Supervisor};

use crate::store::Severity;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

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

/// How long tasks get to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Batch commit interval of the demo's store (short: a demo is watched).
const DEMO_COMMIT_INTERVAL: Duration = Duration::from_secs(5);

/// `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gnss-timeserver")
        .build()?)
}

/// `run --config FILE`: the appliance daemon.
pub fn run_blocking(config: &Path) -> anyhow::Result<ExitCode> {
    let cfg = match crate::config::Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    runtime()?.block_on(run(cfg))
}

async fn run(cfg: crate::config::Config) -> anyhow::Result<ExitCode> {
    let mut signals = Signals::install()?;
    let mut svc = Services::new(&cfg.store.path, &cfg.status.socket)?;
    svc.start_core_tasks(Duration::from_secs(u64::from(cfg.store.commit_interval_s)))?;
    // TODO(lead): receiver (serial task + receiver model from cfg.receiver),
    // PPS (cfg.pps), discipline (cfg.discipline, cfg.leap), NTP (cfg.ntp),
    // HTTP (cfg.http): one `svc.supervisor.spawn(...)` each, as in `demo`.
    svc.events.emit(
        Services::stamp(
            "daemon.start",
            Severity::Notice,
            format!("run, version {}", env!("CARGO_PKG_VERSION")),
        )
        .durable(),
    );
    tracing::info!(socket = %cfg.status.socket.display(), store = %cfg.store.path.display(), "running");
    signals.wait().await;
    stop(svc).await;
    Ok(ExitCode::SUCCESS)
}

/// `demo`: everything with no hardware and no root.
pub fn demo_blocking(opts: DemoOptions) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(demo(opts))
}

async fn demo(opts: DemoOptions) -> anyhow::Result<ExitCode> {
    let mut signals = Signals::install()?;
    std::fs::create_dir_all(&opts.data)?;
    let store_path = opts.data.join("store.redb");
    let socket = opts.data.join("control.sock");
    let mut svc = Services::new(&store_path, &socket)?;

    // TODO(gnss-serial/gnss-decode): fake receiver on a pty with
    // `opts.scenario`, its scenario hook into `svc.scenario_hook`, and the
    // serial task + receiver model publishing `snapshot.receiver/serial`.
    let receiver_pty: Option<PathBuf> = None;

    svc.start_core_tasks(DEMO_COMMIT_INTERVAL)?;
    svc.events.emit(
        Services::stamp(
            "daemon.start",
            Severity::Notice,
            format!("demo, scenario {}", opts.scenario),
        )
        .durable(),
    );

    let pty = receiver_pty
        .as_ref()
        .map_or("not wired yet".to_string(), |p| p.display().to_string());
    let mut out = std::io::stdout().lock();
    writeln!(out, "gnss-timeserver demo {}", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "  data dir:       {}", opts.data.display())?;
    writeln!(out, "  store:          {}", store_path.display())?;
    writeln!(out, "  control socket: {}", socket.display())?;
    writeln!(out, "  receiver pty:   {pty} (scenario {})", opts.scenario)?;
    writeln!(out, "  ntp:            {} (not wired yet)", opts.ntp)?;
    writeln!(out, "  http:           {} (not available yet)", opts.http)?;
    writeln!(
        out,
        "status: gnss-timeserver status --socket {}",
        socket.display()
    )?;
    out.flush()?;
    drop(out);

    signals.wait().await;
    stop(svc).await;
    Ok(ExitCode::SUCCESS)
}

async fn stop(svc: Services) {
    svc.events
        .emit(Services::stamp("daemon.stop", Severity::Notice, "signal").durable());
    // Stop tasks first; the store task commits what is queued on its way out.
    svc.supervisor.shutdown(SHUTDOWN_GRACE).await;
    if let Err(e) = svc.store.commit().await {
        tracing::warn!(error = %e, "final store commit failed");
    }
}

/// SIGINT/SIGTERM handlers, installed before anything is announced so an
/// early signal still means a graceful stop.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.int.recv() => tracing::info!("SIGINT: shutting down"),
            _ = self.term.recv() => tracing::info!("SIGTERM: shutting down"),
        }
    }
}
