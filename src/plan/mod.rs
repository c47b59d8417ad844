//! One wiring path: `Config` → one [`Plan`] → `app::start`. `run` builds the
//! plan from its config file; `demo` builds it from the same config
//! (defaults) and then applies [`Plan::apply_demo`], the complete list of
//! what a demo does differently and why. A neutral module: `app` and `sim`
//! both use it, it uses neither.

mod engine;

pub use engine::engine_config;

use crate::config::{Config, ReceiverConfig, ReceiverModel};
use crate::discipline::engine::EngineConfig;
use crate::gnss::configure::{ConfigureParams, TimingMode};
use crate::gnss::serial::SerialParams;
use crate::pps::sim::PpsNoise;
use crate::pps::PpsSourceSpec;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything `app::start` needs, decided before anything runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub mode: Mode,
    pub store_path: PathBuf,
    pub control_socket: PathBuf,
    /// Batched (non-durable) events are committed at most this often.
    pub commit_interval: Duration,
    pub max_events: u64,
    pub receiver: ReceiverSource,
    pub gnss: GnssParams,
    pub clock: ClockChoice,
    pub timing: TimingParams,
    pub ntp: crate::ntp::NtpServerConfig,
    pub http: Option<SocketAddr>,
    /// The SNMP subagent (`[snmp]`).
    pub snmp: crate::config::SnmpConfig,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Run,
    /// `demo`: also prints a banner and accepts `scenario` on the control socket.
    Demo,
}

/// Where the receiver's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiverSource {
    /// `gnss.serial.device`.
    Device,
    /// The fake u-blox F9T on a pseudo-terminal, started with factory output
    /// so configuration really runs; `gnss.serial.device` becomes its pty.
    FakeReceiver { scenario: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockChoice {
    /// clock_adjtime on CLOCK_REALTIME.
    Linux,
    /// System time plus a software correction; the system clock is untouched.
    Virtual,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GnssParams {
    pub serial: SerialParams,
    /// `None`: only listen, never write to the receiver.
    pub configure: Option<ConfigureParams>,
}

/// Where PPS edges come from.
#[derive(Debug, Clone, PartialEq)]
pub enum PpsInput {
    /// `/dev/ppsN` or a GPIO line.
    Device(PpsSourceSpec),
    /// An edge at every second of the system clock, with noise.
    Simulated { noise: PpsNoise, seed: u64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimingParams {
    pub engine: EngineConfig,
    pub pps: PpsInput,
    /// SoC temperature for the holdover model (`/sys/class/thermal/...`).
    pub thermal_zone: Option<PathBuf>,
    pub leap_seconds_file: Option<PathBuf>,
}

/// What `demo` is told on its command line.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSettings {
    pub data: PathBuf,
    pub ntp: SocketAddr,
    pub http: SocketAddr,
    pub scenario: String,
    /// NTP workers (0 = one per core).
    pub ntp_workers: usize,
    /// `--agentx`: snmpd's AgentX master.
    pub agentx: Option<String>,
    /// `--holdover-limit-ns`: a shorter holdover limit, to watch holdover end.
    pub holdover_limit_ns: Option<u64>,
}

/// PPS capture noise of the demo's simulated pulse, ns RMS (kernel PPS class).
pub const DEMO_PPS_NOISE_NS: f64 = 50.0;
/// The demo's store commits often: a demo is watched, not worn out.
const DEMO_COMMIT_INTERVAL: Duration = Duration::from_secs(5);
/// Rate the demo talks to its fake receiver at (moved there by configuration).
const DEMO_BAUD: u32 = 115_200;
/// Survey-in of the demo: a minute, not the appliance's hour.
const DEMO_SURVEY_S: u32 = 60;

impl Plan {
    /// The appliance (`run`): every section of the config mapped once.
    pub fn from_config(cfg: &Config) -> Plan {
        Plan {
            mode: Mode::Run,
            store_path: cfg.store.path.clone(),
            control_socket: cfg.status.socket.clone(),
            commit_interval: Duration::from_secs(u64::from(cfg.store.commit_interval_s)),
            max_events: cfg.store.max_events,
            // `[receiver] simulate`: the fake receiver's pty stands in for the
            // device (the image's boot test; a bench without hardware).
            receiver: match &cfg.receiver.simulate {
                Some(scenario) => ReceiverSource::FakeReceiver {
                    scenario: scenario.clone(),
                },
                None => ReceiverSource::Device,
            },
            gnss: gnss_params(&cfg.receiver),
            clock: match cfg.discipline.clock {
                crate::config::ClockKind::Linux => ClockChoice::Linux,
                crate::config::ClockKind::Virtual => ClockChoice::Virtual,
            },
            timing: TimingParams {
                engine: engine_config(cfg),
                pps: pps_input(&cfg.pps),
                thermal_zone: cfg.discipline.thermal_zone.clone(),
                leap_seconds_file: cfg.leap.leap_seconds_file.clone(),
            },
            ntp: ntp_server_config(&cfg.ntp),
            http: cfg.http.listen,
            snmp: cfg.snmp.clone(),
        }
    }

    /// `demo`: the same mapping of `cfg`, then the demo's overrides.
    pub fn demo(cfg: &Config, d: &DemoSettings) -> Plan {
        let mut p = Plan::from_config(cfg);
        p.apply_demo(d);
        p
    }

    /// Everything `demo` does differently from `run`, and why (the README
    /// lists the same; `tests` check nothing else differs).
    fn apply_demo(&mut self, d: &DemoSettings) {
        self.mode = Mode::Demo;
        // Files under the demo's own directory: no root, no /var.
        self.store_path = d.data.join("store.redb");
        self.control_socket = d.data.join("control.sock");
        self.commit_interval = DEMO_COMMIT_INTERVAL;
        // No hardware: the fake receiver on a pty, at a fixed rate, with a
        // short survey-in so the demo reaches fixed mode in a minute.
        self.receiver = ReceiverSource::FakeReceiver {
            scenario: d.scenario.clone(),
        };
        self.gnss.serial = SerialParams::new(PathBuf::new(), DEMO_BAUD);
        self.gnss.configure = Some(ConfigureParams {
            baud: DEMO_BAUD,
            timing: TimingMode::SurveyIn {
                min_duration_s: DEMO_SURVEY_S,
                accuracy_limit_mm: 2_000,
            },
            ..ConfigureParams::default()
        });
        // Never touch the system clock.
        self.clock = ClockChoice::Virtual;
        // A simulated pulse at every system second; no thermal zone; leap
        // announcements come from the fake receiver's scenarios only.
        self.timing.pps = PpsInput::Simulated {
            noise: PpsNoise {
                white_rms_ns: DEMO_PPS_NOISE_NS,
                ..PpsNoise::default()
            },
            seed: 1,
        };
        self.timing.thermal_zone = None;
        self.timing.leap_seconds_file = None;
        // A high port on loopback; one host sends everything (clients on one
        // machine, the load benchmark), so no per-client rate limit.
        self.ntp.bind = vec![d.ntp];
        self.ntp.workers = d.ntp_workers;
        self.ntp.rate_limit_interval_ms = 0;
        self.http = Some(d.http);
        // SNMP and a short holdover only when asked for (the SNMP tests).
        if d.agentx.is_some() {
            self.snmp.agentx = d.agentx.clone();
            self.snmp.heartbeat_interval_s = 0;
        }
        if let Some(limit) = d.holdover_limit_ns {
            self.timing.engine.lock.bound_limit_ns = limit as f64;
        }
    }

    /// The store's directory must exist before it opens.
    pub fn data_dir(&self) -> Option<&Path> {
        self.store_path.parent()
    }
}

/// Map the `[receiver]` section.
pub fn gnss_params(cfg: &ReceiverConfig) -> GnssParams {
    let configure = (cfg.configure && cfg.model != ReceiverModel::NmeaOnly).then(|| {
        let timing = match cfg.timing_mode {
            crate::config::TimingMode::Off => TimingMode::Off,
            // `fixed` uses the stored position; the configurator surveys
            // only when none is stored.
            crate::config::TimingMode::SurveyIn | crate::config::TimingMode::Fixed => {
                TimingMode::SurveyIn {
                    min_duration_s: cfg.survey_min_duration_s,
                    accuracy_limit_mm: (cfg.survey_accuracy_m * 1000.0).round() as u32,
                }
            }
        };
        ConfigureParams {
            baud: cfg.baud,
            timing,
            ..ConfigureParams::default()
        }
    });
    GnssParams {
        serial: SerialParams::new(cfg.device.clone(), cfg.baud),
        configure,
    }
}

/// Map `[pps]` onto a PPS input.
pub fn pps_input(p: &crate::config::PpsConfig) -> PpsInput {
    use crate::config::{PpsEdgeKind, PpsSource};
    match p.source {
        PpsSource::Kpps => PpsInput::Device(PpsSourceSpec::Kernel {
            path: p.device.clone(),
            capture_clear: false,
        }),
        PpsSource::Gpio => PpsInput::Device(PpsSourceSpec::Gpio {
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

/// Map the `[ntp]` section onto the server's own parameters.
pub fn ntp_server_config(n: &crate::config::NtpConfig) -> crate::ntp::NtpServerConfig {
    use crate::ntp::handler::DenyAction;
    crate::ntp::NtpServerConfig {
        bind: n.listen.clone(),
        workers: n.workers as usize,
        allow: n.allow.clone(),
        deny: n.deny.clone(),
        deny_action: match n.deny_action {
            crate::config::DenyAction::Kod => DenyAction::Kod,
            crate::config::DenyAction::Drop => DenyAction::Drop,
        },
        rate_limit_interval_ms: (n.rate_limit.interval_s * 1000.0).round() as u64,
        rate_limit_burst: n.rate_limit.burst,
        keys_file: n.keys_file.clone(),
        require_auth: n.require_auth,
        kernel_rx_timestamps: n.kernel_timestamps,
        kernel_tx_timestamps: n.kernel_timestamps,
        interleaved: n.interleaved,
        client_table_size: n.monitor_size as usize,
        client_offset_alarm_ms: n.client_offset_alarm_ms.round() as u64,
        stale_after_ms: u64::from(n.stale_after_s) * 1000,
        control_allow: n.control_allow.clone(),
        receive_buffer_bytes: n.receive_buffer_bytes as usize,
        watch: n
            .watch
            .iter()
            .map(|w| crate::ntp::watch::WatchRule {
                name: w.name.clone(),
                target: w.address,
                interval_ns: match w.interval_s {
                    crate::config::WatchInterval::Seconds(s) => Some((s * 1e9).round() as i64),
                    crate::config::WatchInterval::Word(_) => None,
                },
                tolerance_ns: (w.tolerance_ms * 1e6).round() as i64,
            })
            .collect(),
        watch_learned: n.watch_learned as usize,
        ..crate::ntp::NtpServerConfig::default()
    }
}

#[cfg(test)]
mod tests;
