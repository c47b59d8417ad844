//! Daemon wiring: starts the tasks for `run` and `demo` and supervises them.

pub mod gnss;
pub mod history;
pub mod notify;
pub mod ntp;
pub mod services;
pub mod snmp;
pub mod supervisor;
pub mod timing;

pub use gnss::{start_gnss, GnssParams, GnssPart, TimedEpoch};
pub use services::Services;
pub use supervisor::{Backoff, Shutdown, Supervisor};
pub use timing::{start_timing, PpsInput, ServedClock, TimingParams, TimingPart};

use crate::clock::Clock;
use crate::discipline::engine::EngineConfig;
use crate::events::{Event, EventKind};
use crate::gnss::configure::{ConfigureParams, TimingMode};
use crate::gnss::serial::SerialParams;
use crate::pps::sim::PpsNoise;
use crate::sim::receiver::{FakeOptions, FakeReceiver, Model, StartupOutput};
use crate::sim::scenario::Scenario;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
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
    /// snmpd's AgentX master socket (path or tcp:HOST:PORT): run the SNMP subagent.
    #[arg(long)]
    pub agentx: Option<String>,
    /// Holdover limit (time-error bound, ns) instead of the default, e.g. to
    /// watch holdover end within a minute.
    #[arg(long, value_parser = clap::value_parser!(u64).range(100..=10_000_000_000))]
    pub holdover_limit_ns: Option<u64>,
}

/// PPS capture noise of the demo's simulated pulse, ns RMS (kernel PPS class).
const DEMO_PPS_NOISE_NS: f64 = 50.0;

/// NTP workers in `demo`: `GNSS_TIMESERVER_NTP_WORKERS` (the benchmark sets
/// it), else 0 = one per core.
fn demo_ntp_workers() -> usize {
    std::env::var("GNSS_TIMESERVER_NTP_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Map the config sections onto the discipline engine's parameters. The
/// `simulate` runs use this very mapping of the default config, so what they
/// measure is what the daemon runs.
pub fn engine_config(cfg: &crate::config::Config) -> EngineConfig {
    let mut e = EngineConfig::default();
    let d = &cfg.discipline;
    e.step_threshold_ns = (d.step_threshold_ms * 1e6).round() as i64;
    e.servo.max_correction_ppm = d.max_frequency_ppm;
    e.servo.phase_time_constant_s = d.time_constant_s;
    e.lock.bound_limit_ns = d.holdover_limit_ns as f64;
    e.min_satellites = d.min_satellites;
    e.jump_accept_after_s = Some(d.time_jump_accept_after_s).filter(|&s| s > 0);
    e.cable_delay_ns = cfg.pps.cable_delay_ns;
    e.capture_latency_ns = cfg.pps.capture_latency_ns;
    e.refid = String::from_utf8_lossy(&cfg.ntp.refid.bytes())
        .trim_end_matches('\0')
        .to_string();
    e.leap_tai_utc_override = cfg.leap.tai_utc_override.map(i32::from);
    e.leap_mode = match cfg.leap.mode {
        crate::config::LeapMode::Kernel => crate::discipline::leap::LeapMode::Kernel,
        crate::config::LeapMode::Step => crate::discipline::leap::LeapMode::Step,
        crate::config::LeapMode::Smear => crate::discipline::leap::LeapMode::Smear,
    };
    e
}

/// Map `[pps]` onto a PPS input.
fn pps_input(p: &crate::config::PpsConfig) -> PpsInput {
    use crate::config::{PpsEdgeKind, PpsSource};
    match p.source {
        PpsSource::Kpps => PpsInput::Device(crate::pps::PpsSourceSpec::Kernel {
            path: p.device.clone(),
            capture_clear: false,
        }),
        PpsSource::Gpio => PpsInput::Device(crate::pps::PpsSourceSpec::Gpio {
            chip: p.gpio_chip.clone(),
            line: p.gpio_line,
            polarity: match p.edge {
                PpsEdgeKind::Assert => crate::pps::gpio::Polarity::Rising,
                PpsEdgeKind::Clear => crate::pps::gpio::Polarity::Falling,
            },
        }),
        PpsSource::Sim => PpsInput::Simulated {
            noise: PpsNoise::default(),
            seed: 1,
        },
    }
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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
    svc.store.lock().set_max_events(cfg.store.max_events);
    svc.events.emit(Event::now(EventKind::DaemonStart {
        mode: "run".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: None,
    }));
    svc.start_core_tasks(Duration::from_secs(u64::from(cfg.store.commit_interval_s)))?;
    // A missing device is not fatal: the serial thread retries with backoff
    // and reports the outage in the status and as an event.
    let mut gnss_params = GnssParams::from_config(&cfg.receiver);
    // `[receiver] simulate`: the fake receiver's pty stands in for the device.
    let fake = match &cfg.receiver.simulate {
        Some(name) => {
            let fake = FakeReceiver::spawn_with(FakeOptions {
                model: Model::F9T,
                scenario: name.parse()?,
                startup: StartupOutput::FactoryDefaults,
                ..FakeOptions::default()
            })?;
            gnss_params.serial = SerialParams::new(fake.path(), cfg.receiver.baud);
            Some(fake)
        }
        None => None,
    };
    let gnss = start_gnss(&mut svc, gnss_params)?;
    let clock: Arc<dyn Clock> = match cfg.discipline.clock {
        crate::config::ClockKind::Linux => Arc::new(crate::clock::LinuxClock::new()),
        crate::config::ClockKind::Virtual => Arc::new(crate::clock::VirtualClock::new()),
    };
    let timing = start_timing(
        &mut svc,
        &gnss,
        clock,
        TimingParams {
            engine: engine_config(&cfg),
            pps: pps_input(&cfg.pps),
            thermal_zone: Some(PathBuf::from(crate::discipline::holdover::PI_THERMAL_ZONE)),
            leap_seconds_file: cfg.leap.leap_seconds_file.clone(),
        },
    )?;
    // NTP failing to bind (port 123 taken) is reported but the rest runs.
    let ntp = match ntp::start_ntp(
        &mut svc,
        ntp::server_config(&cfg.ntp),
        timing.served.clone(),
    ) {
        Ok(h) => Some(h),
        Err(e) => {
            svc.events.emit(Event::now(EventKind::NtpBindFailed {
                error: format!("{e:#}"),
            }));
            None
        }
    };
    if let Some(a) = &cfg.snmp.agentx {
        // Validated with the config: an error here is a bug, reported as such.
        let addr =
            crate::snmp::AgentxAddr::parse(a).map_err(|e| anyhow::anyhow!("snmp.agentx: {e}"))?;
        snmp::start_snmp(&mut svc, addr, cfg.snmp.heartbeat_interval_s);
    }
    tracing::info!(socket = %cfg.status.socket.display(), store = %cfg.store.path.display(), "running");
    let notify = notify::start(&mut svc);
    signals.wait().await;
    notify.stopping();
    drop(ntp);
    timing.stop();
    stop(svc, gnss).await;
    drop(fake);
    Ok(ExitCode::SUCCESS)
}

/// The configuration `demo` runs: the defaults, with its options applied.
fn demo_config(opts: &DemoOptions) -> crate::config::Config {
    let mut cfg = crate::config::Config::default();
    if let Some(limit) = opts.holdover_limit_ns {
        cfg.discipline.holdover_limit_ns = limit;
    }
    cfg
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
    let scenario: Scenario = match opts.scenario.parse() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --scenario: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let agentx = match opts.agentx.as_deref().map(crate::snmp::AgentxAddr::parse) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            eprintln!("error: --agentx: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut svc = Services::new(&store_path, &socket)?;
    svc.events.emit(Event::now(EventKind::DaemonStart {
        mode: "demo".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: Some(opts.scenario.clone()),
    }));

    // The fake receiver starts with factory output, so the demo exercises
    // the real configuration path (identify, enable messages, survey-in).
    let fake = Arc::new(FakeReceiver::spawn_with(FakeOptions {
        model: Model::F9T,
        scenario,
        startup: StartupOutput::FactoryDefaults,
        ..FakeOptions::default()
    })?);
    let f = fake.clone();
    svc.scenario_hook = Some(Arc::new(move |name: &str| {
        f.set_scenario(name)
            .map(|()| format!("fake receiver now runs scenario {name}"))
            .map_err(|e| e.to_string())
    }));

    svc.start_core_tasks(DEMO_COMMIT_INTERVAL)?;
    let gnss = start_gnss(
        &mut svc,
        GnssParams {
            serial: SerialParams::new(fake.path(), 115_200),
            configure: Some(ConfigureParams {
                baud: 115_200,
                timing: TimingMode::SurveyIn {
                    min_duration_s: 60,
                    accuracy_limit_mm: 2_000,
                },
                ..ConfigureParams::default()
            }),
        },
    )?;
    // The demo never touches the system clock: it steers a virtual clock
    // (system time plus a correction) and serves that.
    let clock: Arc<dyn Clock> = Arc::new(crate::clock::VirtualClock::new());
    let timing = start_timing(
        &mut svc,
        &gnss,
        clock,
        TimingParams {
            // The daemon's defaults, as `run` maps them and `simulate` measures them.
            engine: engine_config(&demo_config(&opts)),
            pps: PpsInput::Simulated {
                noise: PpsNoise {
                    white_rms_ns: DEMO_PPS_NOISE_NS,
                    ..PpsNoise::default()
                },
                seed: 1,
            },
            thermal_zone: None,
            leap_seconds_file: None,
        },
    )?;
    let ntp_cfg = crate::ntp::NtpServerConfig {
        bind: vec![opts.ntp],
        workers: demo_ntp_workers(),
        // One host sends everything in a demo (and the load benchmark).
        rate_limit_interval_ms: 0,
        ..crate::ntp::NtpServerConfig::default()
    };
    let ntp = ntp::start_ntp(&mut svc, ntp_cfg, timing.served.clone())?;
    if let Some(a) = &agentx {
        snmp::start_snmp(&mut svc, a.clone(), 0);
    }

    let banner = |out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(out, "gnss-timeserver demo {}", env!("CARGO_PKG_VERSION"))?;
        writeln!(out, "  data dir:       {}", opts.data.display())?;
        writeln!(out, "  store:          {}", store_path.display())?;
        writeln!(out, "  control socket: {}", socket.display())?;
        writeln!(
            out,
            "  receiver pty:   {} (scenario {})",
            gnss.device.display(),
            opts.scenario
        )?;
        for a in ntp.local_addrs() {
            writeln!(out, "  ntp:            {a} (udp)")?;
        }
        writeln!(out, "  http:           {} (not available yet)", opts.http)?;
        if let Some(a) = &agentx {
            writeln!(out, "  agentx:         {a}")?;
        }
        writeln!(
            out,
            "status: gnss-timeserver status --socket {}",
            socket.display()
        )?;
        out.flush()
    };
    // A closed stdout (the caller stopped reading) must not stop time serving.
    if let Err(e) = banner(&mut std::io::stdout().lock()) {
        tracing::warn!(error = %e, "could not print the banner");
    }

    signals.wait().await;
    drop(ntp);
    timing.stop();
    stop(svc, gnss).await;
    drop(fake);
    Ok(ExitCode::SUCCESS)
}

async fn stop(svc: Services, gnss: GnssPart) {
    // The serial thread first: no new input while the tasks wind down.
    let _ = tokio::task::spawn_blocking(move || gnss.stop()).await;
    svc.events.emit(Event::now(EventKind::DaemonStop {
        reason: "signal".into(),
    }));
    // Stop tasks first; the store task commits what is queued on its way out.
    svc.supervisor.shutdown(SHUTDOWN_GRACE).await;
    if let Err(e) = svc.store.flush().await {
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
