//! Daemon wiring: starts the tasks for `run` and `demo` and supervises them.

pub mod gnss;
pub mod history;
pub mod instance;
pub mod notify;
pub mod ntp;
pub mod services;
pub mod snmp;
pub mod supervisor;
pub mod timing;
pub mod web;

pub use crate::plan::engine_config;
pub use gnss::{start_gnss, GnssParams, GnssPart, TimedEpoch};
pub use services::Services;
pub use supervisor::{RestartPolicy, Shutdown, Supervisor};
pub use timing::{start_timing, PpsInput, ServedClock, TimingParams, TimingPart};

use crate::clock::Clock;
use crate::events::{Event, EventKind};
use crate::plan::{ClockChoice, DemoSettings, Mode, Plan, ReceiverSource};
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

/// NTP workers in `demo`: `GNSS_TIMESERVER_NTP_WORKERS` (the benchmark sets
/// it), else 0 = one per core.
fn demo_ntp_workers() -> usize {
    std::env::var("GNSS_TIMESERVER_NTP_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl DemoOptions {
    pub fn settings(&self) -> DemoSettings {
        DemoSettings {
            data: self.data.clone(),
            ntp: self.ntp,
            http: self.http,
            scenario: self.scenario.clone(),
            ntp_workers: demo_ntp_workers(),
            agentx: self.agentx.clone(),
            holdover_limit_ns: self.holdover_limit_ns,
        }
    }
}

/// How long tasks get to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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
    if let Err(e) = check_clock_privilege(cfg.discipline.clock) {
        eprintln!("error: {e}");
        return Ok(ExitCode::from(2));
    }
    let web = web_params(&cfg, config.to_path_buf());
    runtime()?.block_on(start(Plan::from_config(&cfg), web))
}

/// `[http]` mapped onto the web part; `None` when `listen` is unset.
fn web_params(cfg: &crate::config::Config, config_path: PathBuf) -> Option<crate::web::WebParams> {
    let h = &cfg.http;
    let data_dir = cfg
        .store
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let tls = match (&h.cert, &h.key, h.tls) {
        (_, _, false) => crate::web::TlsSource::Off,
        (Some(cert), Some(key), true) => crate::web::TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => crate::web::TlsSource::SelfSigned {
            dir: crate::web::web_dir(&data_dir),
        },
    };
    Some(crate::web::WebParams {
        listen: h.listen?,
        tls,
        redirect_from: h.redirect_from,
        data_dir,
        config: cfg.clone(),
        config_path,
    })
}

/// `demo`: the default configuration plus the demo's overrides
/// (`Plan::demo`): no hardware, no root.
pub fn demo_blocking(opts: DemoOptions) -> anyhow::Result<ExitCode> {
    if let Err(e) = opts.scenario.parse::<Scenario>() {
        eprintln!("error: --scenario: {e}");
        return Ok(ExitCode::from(2));
    }
    if let Some(Err(e)) = opts.agentx.as_deref().map(crate::snmp::AgentxAddr::parse) {
        eprintln!("error: --agentx: {e}");
        return Ok(ExitCode::from(2));
    }
    // Plain HTTP: the demo listens on localhost. Admin changes go to
    // <data>/config.toml, which the next demo shows.
    let config_path = opts.data.join("config.toml");
    let shown = crate::config::Config::load(&config_path).unwrap_or_default();
    // The head-end watch list is the one part of that file the demo runs
    // with (the rest is the demo's own): it shows the watch without clients.
    let mut base = crate::config::Config::default();
    base.ntp.watch = shown.ntp.watch.clone();
    base.ntp.watch_learned = shown.ntp.watch_learned;
    let plan = Plan::demo(&base, &opts.settings());
    let web = crate::web::WebParams {
        listen: opts.http,
        tls: crate::web::TlsSource::Off,
        redirect_from: None,
        data_dir: opts.data.clone(),
        config: shown,
        config_path,
    };
    runtime()?.block_on(start(plan, Some(web)))
}

/// The one start-up path of `run` and `demo`: every part wired from the plan,
/// then serve until SIGINT/SIGTERM.
///
/// The web part's parameters come beside the plan: they carry the config
/// file itself (the panel edits it).
pub async fn start(mut plan: Plan, web: Option<crate::web::WebParams>) -> anyhow::Result<ExitCode> {
    let mut signals = Signals::install()?;
    let demo = plan.mode == Mode::Demo;
    if demo {
        if let Some(dir) = plan.data_dir() {
            std::fs::create_dir_all(dir)?;
        }
    }
    // The fake receiver starts with factory output, so the demo exercises
    // the real configuration path (identify, enable messages, survey-in).
    let fake = match &plan.receiver {
        ReceiverSource::Device => None,
        ReceiverSource::FakeReceiver { scenario } => {
            let scenario: Scenario = scenario.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let fake = Arc::new(FakeReceiver::spawn_with(FakeOptions {
                model: Model::F9T,
                scenario,
                startup: StartupOutput::FactoryDefaults,
                ..FakeOptions::default()
            })?);
            plan.gnss.serial.device = fake.path().to_path_buf();
            Some(fake)
        }
    };

    let data_dir = plan
        .data_dir()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let Some(claims) = Claims::acquire(&data_dir, &plan.ntp.bind) else {
        return Ok(ExitCode::FAILURE);
    };
    let mut svc = Services::new(&plan.store_path, &plan.control_socket)?;
    svc.store.lock().set_max_events(plan.max_events);
    let mode = if demo { "demo" } else { "run" };
    let scenario = match &plan.receiver {
        ReceiverSource::Device => None,
        ReceiverSource::FakeReceiver { scenario } => Some(scenario.clone()),
    };
    svc.events.emit(Event::now(EventKind::DaemonStart {
        mode: mode.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario,
    }));
    claims.report_unclean(&svc);
    if let Some(f) = fake.clone() {
        svc.scenario_hook = Some(Arc::new(move |name: &str| {
            f.set_scenario(name)
                .map(|()| format!("fake receiver now runs scenario {name}"))
                .map_err(|e| e.to_string())
        }));
    }
    svc.start_core_tasks(plan.commit_interval)?;
    // A missing device is not fatal: the serial thread retries with backoff
    // and reports the outage in the status and as an event.
    let gnss = start_gnss(&mut svc, plan.gnss.clone())?;
    let clock: Arc<dyn Clock> = match plan.clock {
        ClockChoice::Linux => Arc::new(crate::clock::LinuxClock::new()),
        ClockChoice::Virtual => Arc::new(crate::clock::VirtualClock::new()),
    };
    let timing = start_timing(&mut svc, &gnss, clock, plan.timing.clone())?;
    // The appliance keeps running when NTP cannot bind (port 123 taken) and
    // reports it; a demo that cannot serve NTP has no point and stops.
    let ntp = match ntp::start_ntp(&mut svc, plan.ntp.clone(), timing.served.clone()) {
        Ok(h) => Some(h),
        Err(e) if demo => return Err(e),
        Err(e) => {
            svc.events.emit(Event::now(EventKind::NtpBindFailed {
                error: format!("{e:#}"),
            }));
            None
        }
    };
    if let Some(a) = &plan.snmp.agentx {
        // Validated with the config / demo options: an error here is a bug.
        let addr =
            crate::snmp::AgentxAddr::parse(a).map_err(|e| anyhow::anyhow!("snmp.agentx: {e}"))?;
        snmp::start_snmp(&mut svc, addr, plan.snmp.heartbeat_interval_s);
    } else {
        svc.snmp_rx = None;
    }
    // The web part failing (port taken, bad certificate) is reported; time
    // serving goes on. A demo without its panel has no point and stops.
    let web = match web.map(|p| web::start_web(&mut svc, p, Some(gnss.survey_hook()), ntp.clone()))
    {
        None => None,
        Some(Ok(w)) => Some(w),
        Some(Err(e)) if demo => return Err(e),
        Some(Err(e)) => {
            svc.events.emit(Event::now(EventKind::PartState {
                part: "http".into(),
                state: "failed".into(),
                error: Some(format!("{e:#}")),
            }));
            None
        }
    };
    if demo {
        print_banner(
            &plan,
            &gnss,
            ntp.as_deref(),
            web.as_ref().map(|w| w.local_addr),
        );
    }
    tracing::info!(socket = %plan.control_socket.display(), store = %plan.store_path.display(), "running");
    // systemd (Type=notify): READY now, WATCHDOG while the snapshot is fresh.
    let notify = notify::start(&mut svc);
    signals.wait().await;
    notify.stopping();
    drop(ntp);
    timing.stop();
    stop(svc, gnss).await;
    drop(fake);
    claims.data_dir.mark_clean_stop();
    Ok(ExitCode::SUCCESS)
}

/// Where each service of the demo listens.
fn print_banner(
    plan: &Plan,
    gnss: &GnssPart,
    ntp: Option<&crate::ntp::NtpServerHandle>,
    http: Option<SocketAddr>,
) {
    let banner = |out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(out, "gnss-timeserver demo {}", env!("CARGO_PKG_VERSION"))?;
        if let Some(dir) = plan.data_dir() {
            writeln!(out, "  data dir:       {}", dir.display())?;
        }
        writeln!(out, "  store:          {}", plan.store_path.display())?;
        writeln!(out, "  control socket: {}", plan.control_socket.display())?;
        let scenario = match &plan.receiver {
            ReceiverSource::FakeReceiver { scenario } => scenario.as_str(),
            ReceiverSource::Device => "-",
        };
        writeln!(
            out,
            "  receiver pty:   {} (scenario {scenario})",
            gnss.device.display(),
        )?;
        for a in ntp.map(|n| n.local_addrs()).unwrap_or_default() {
            writeln!(out, "  ntp:            {a} (udp)")?;
        }
        if let Some(h) = http {
            writeln!(out, "  http:           http://{h}/")?;
        }
        if let Some(a) = &plan.snmp.agentx {
            writeln!(out, "  agentx:         {a}")?;
        }
        writeln!(
            out,
            "status: gnss-timeserver status --socket {}",
            plan.control_socket.display()
        )?;
        out.flush()
    };
    // A closed stdout (the caller stopped reading) must not stop time serving.
    if let Err(e) = banner(&mut std::io::stdout().lock()) {
        tracing::warn!(error = %e, "could not print the banner");
    }
}

/// What makes this daemon the only one on its data directory and NTP
/// addresses; held until it exits.
struct Claims {
    data_dir: instance::DataDirLock,
    _ntp: instance::NtpAddressClaim,
}

impl Claims {
    /// `None` (after printing why) when another daemon holds one of them.
    fn acquire(data_dir: &Path, ntp: &[SocketAddr]) -> Option<Self> {
        // Port 0 asks the kernel for a free port: nothing to share.
        let ntp: Vec<SocketAddr> = ntp.iter().copied().filter(|a| a.port() != 0).collect();
        let claims = instance::DataDirLock::acquire(data_dir, crate::time::system_realtime_ns())
            .and_then(|d| Ok((d, instance::NtpAddressClaim::acquire(&ntp)?)));
        match claims {
            Ok((data_dir, ntp)) => Some(Self {
                data_dir,
                _ntp: ntp,
            }),
            Err(e) => {
                eprintln!("error: {e}");
                None
            }
        }
    }

    /// A durable `daemon.unclean_shutdown` event when the previous run on
    /// this data directory ended without a clean stop (crash, kill, power).
    fn report_unclean(&self, svc: &Services) {
        let Some(prev) = &self.data_dir.previous_unclean else {
            return;
        };
        tracing::warn!(
            pid = ?prev.pid,
            started_ns = ?prev.started_ns,
            "the previous run did not stop cleanly"
        );
        // The pid file records the previous run's start, not its last sign
        // of life: that stays unknown.
        svc.events
            .emit(Event::now(EventKind::DaemonUncleanShutdown {
                last_seen_ns: None,
            }));
    }
}

/// `clock = "linux"` steers the system clock, which needs CAP_SYS_TIME. A
/// daemon without it would run, look healthy, and never correct the clock:
/// refuse to start instead, saying what to do. (Falling back to the virtual
/// clock would serve correct time but leave the system clock unsteered
/// while the config says otherwise; the operator decides, not the daemon.)
fn check_clock_privilege(clock: crate::config::ClockKind) -> Result<(), String> {
    if clock != crate::config::ClockKind::Linux {
        return Ok(());
    }
    match crate::clock::linux::may_steer_system_clock() {
        Some(false) => Err(
            "[discipline] clock = \"linux\" steers the system clock, which needs CAP_SYS_TIME: \
             run as root, give the service AmbientCapabilities=CAP_SYS_TIME \
             (board/gnss-timeserver.service does), or set clock = \"virtual\" to serve \
             GNSS time without steering the system clock"
                .to_string(),
        ),
        _ => Ok(()),
    }
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
