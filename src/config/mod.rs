//! TOML configuration, validated with errors that name the key and line.
//!
//! Every section has defaults, so an empty file is a valid configuration for
//! the appliance. Keys are kebab-case; unknown keys are errors. The daemon maps
//! these sections onto the plain parameter structs of each core.

mod locate;

pub use crate::cidr::{Cidr, CidrError};

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Config {
    pub receiver: ReceiverConfig,
    pub pps: PpsConfig,
    pub discipline: DisciplineConfig,
    pub leap: LeapConfig,
    pub ntp: NtpConfig,
    pub store: StoreConfig,
    pub http: HttpConfig,
    pub status: StatusConfig,
    pub snmp: SnmpConfig,
}

// ---------------------------------------------------------------- receiver

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ReceiverConfig {
    /// Serial device of the receiver.
    pub device: PathBuf,
    pub baud: u32,
    pub model: ReceiverModel,
    /// Send configuration (messages, time pulse, timing mode) on connect.
    pub configure: bool,
    pub timing_mode: TimingMode,
    pub survey_min_duration_s: u32,
    pub survey_accuracy_m: f64,
    /// Read the project's fake u-blox receiver (on a pseudo-terminal, running
    /// this scenario) instead of `device`: for the image's boot test and
    /// trials without hardware. `None` (the default) reads the real device.
    pub simulate: Option<String>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            device: PathBuf::from("/dev/ttyAMA0"),
            baud: 9600,
            model: ReceiverModel::Auto,
            configure: true,
            timing_mode: TimingMode::SurveyIn,
            survey_min_duration_s: 3600,
            survey_accuracy_m: 2.0,
            simulate: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiverModel {
    /// Identify with MON-VER.
    Auto,
    /// u-blox M8 class (CFG-MSG / CFG-PRT / CFG-TP5 / CFG-TMODE2).
    M8,
    /// u-blox F9 class (CFG-VALSET).
    F9,
    /// Any receiver speaking NMEA only; no configuration is sent.
    NmeaOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimingMode {
    Off,
    /// Survey the position, then switch to fixed mode and store the position.
    SurveyIn,
    /// Use the position stored by an earlier survey-in.
    Fixed,
}

// ---------------------------------------------------------------- pps

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PpsConfig {
    pub source: PpsSource,
    /// Kernel PPS device (`source = "kpps"`).
    pub device: PathBuf,
    /// GPIO character device (`source = "gpio"`).
    pub gpio_chip: PathBuf,
    pub gpio_line: u32,
    pub edge: PpsEdgeKind,
    /// Antenna cable delay, ns (positive: the pulse arrives late).
    pub cable_delay_ns: i64,
    /// Constant delay between the edge and its capture, ns.
    pub capture_latency_ns: i64,
}

impl Default for PpsConfig {
    fn default() -> Self {
        Self {
            source: PpsSource::Kpps,
            device: PathBuf::from("/dev/pps0"),
            gpio_chip: PathBuf::from("/dev/gpiochip0"),
            gpio_line: 18,
            edge: PpsEdgeKind::Assert,
            cable_delay_ns: 0,
            capture_latency_ns: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PpsSource {
    Kpps,
    Gpio,
    Sim,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PpsEdgeKind {
    Assert,
    Clear,
}

// ---------------------------------------------------------------- discipline

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct DisciplineConfig {
    pub clock: ClockKind,
    /// Step (instead of slew) at start-up when the offset exceeds this.
    pub step_threshold_ms: f64,
    pub max_frequency_ppm: f64,
    pub time_constant_s: f64,
    /// Holdover ends (unsynchronized, stratum 16) when the error bound passes this.
    pub holdover_limit_ns: u64,
    pub min_satellites: u32,
    /// A time jump of the receiver against the clock is never followed by
    /// itself unless this is non-zero: then it is accepted once it has
    /// persisted, with consistent samples, this many seconds. 0: only an
    /// operator accepts it (`gnss-timeserver accept-time-jump`).
    pub time_jump_accept_after_s: u32,
    /// SoC temperature for the servo's temperature model (sysfs thermal
    /// zone, millidegrees); read when present, ignored when missing.
    pub thermal_zone: Option<PathBuf>,
}

impl Default for DisciplineConfig {
    fn default() -> Self {
        Self {
            clock: ClockKind::Linux,
            step_threshold_ms: 1.0,
            max_frequency_ppm: 500.0,
            time_constant_s: 1.0,
            holdover_limit_ns: 1_000_000,
            min_satellites: 4,
            time_jump_accept_after_s: 0,
            thermal_zone: Some(PathBuf::from("/sys/class/thermal/thermal_zone0/temp")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockKind {
    /// Steer CLOCK_REALTIME with clock_adjtime (needs CAP_SYS_TIME).
    Linux,
    /// Leave the system clock alone; serve system time plus a software correction.
    Virtual,
}

// ---------------------------------------------------------------- leap

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct LeapConfig {
    pub mode: LeapMode,
    /// IETF `leap-seconds.list`; none to rely on the receiver only.
    pub leap_seconds_file: Option<PathBuf>,
    /// TAI−UTC in seconds, forcing the value when sources disagree or are absent.
    #[serde(rename = "override")]
    pub tai_utc_override: Option<i16>,
}

impl Default for LeapConfig {
    fn default() -> Self {
        Self {
            mode: LeapMode::Kernel,
            leap_seconds_file: Some(PathBuf::from("/usr/share/zoneinfo/leap-seconds.list")),
            tai_utc_override: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeapMode {
    Kernel,
    Step,
    Smear,
}

// ---------------------------------------------------------------- ntp

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct NtpConfig {
    pub listen: Vec<SocketAddr>,
    /// Worker threads (0 = one per core).
    pub workers: u32,
    pub refid: RefId,
    /// When non-empty, only these prefixes are served.
    pub allow: Vec<Cidr>,
    pub deny: Vec<Cidr>,
    pub deny_action: DenyAction,
    pub rate_limit: RateLimitConfig,
    pub keys_file: Option<PathBuf>,
    pub require_auth: bool,
    /// Clients tracked by the monitor (bounded table).
    pub monitor_size: u32,
    /// Event when a client's estimated clock offset exceeds this.
    pub client_offset_alarm_ms: f64,
    pub kernel_timestamps: bool,
    pub interleaved: bool,
    /// Kernel receive buffer per NTP socket, bytes (0 = kernel default).
    pub receive_buffer_bytes: u32,
    /// NTP control messages (mode 6, read-only: `ntpq`, monitoring plugins)
    /// are answered only to these prefixes.
    pub control_allow: Vec<Cidr>,
    /// Answer LI=3 / stratum 16 when the discipline loop has not refreshed
    /// the served fields for this long (it does every second).
    pub stale_after_s: u32,
    /// Head-end watch: the clients that must keep syncing (`[[ntp.watch]]`).
    pub watch: Vec<WatchConfig>,
    /// Other clients the watch learns and shows (bounded; least recently
    /// seen evicted).
    pub watch_learned: u32,
}

/// One `[[ntp.watch]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WatchConfig {
    pub name: String,
    /// An address or a CIDR prefix.
    pub address: Cidr,
    /// Expected poll interval in seconds, or `"learn"`.
    #[serde(default)]
    pub interval_s: WatchInterval,
    /// Offset beyond this turns the client WARN.
    #[serde(default = "default_watch_tolerance_ms")]
    pub tolerance_ms: f64,
}

fn default_watch_tolerance_ms() -> f64 {
    100.0
}

/// `interval-s = 64` or `interval-s = "learn"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WatchInterval {
    Seconds(f64),
    Word(String),
}

impl Default for WatchInterval {
    fn default() -> Self {
        WatchInterval::Word("learn".into())
    }
}

impl Default for NtpConfig {
    fn default() -> Self {
        Self {
            listen: vec![
                SocketAddr::from(([0, 0, 0, 0], 123)),
                SocketAddr::from(([0u16; 8], 123)),
            ],
            workers: 0,
            refid: RefId::Gps,
            allow: Vec::new(),
            deny: Vec::new(),
            deny_action: DenyAction::Kod,
            rate_limit: RateLimitConfig::default(),
            keys_file: None,
            require_auth: false,
            monitor_size: 4096,
            client_offset_alarm_ms: 100.0,
            kernel_timestamps: true,
            interleaved: true,
            receive_buffer_bytes: 1 << 20,
            control_allow: vec![
                Cidr::new([127, 0, 0, 0].into(), 8).expect("valid prefix"),
                Cidr::new(std::net::Ipv6Addr::LOCALHOST.into(), 128).expect("valid prefix"),
            ],
            stale_after_s: 5,
            watch: Vec::new(),
            watch_learned: 64,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefId {
    #[serde(rename = "GPS")]
    Gps,
    #[serde(rename = "GNSS")]
    Gnss,
    #[serde(rename = "PPS")]
    Pps,
}

impl RefId {
    /// The 4-byte reference ID of an NTP reply.
    pub fn bytes(self) -> [u8; 4] {
        match self {
            RefId::Gps => *b"GPS\0",
            RefId::Gnss => *b"GNSS",
            RefId::Pps => *b"PPS\0",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenyAction {
    /// Kiss-o'-Death `DENY`.
    Kod,
    /// No reply.
    Drop,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Average interval a client may send at, seconds (0 disables rate limiting).
    pub interval_s: f64,
    /// Requests a client may send in a burst above that average.
    pub burst: u32,
}

/// Defaults that no well-behaved client ever reaches: ntpd's iburst and
/// burst (8 requests 2 s apart), chrony's iburst (4–8 at 2 s), Windows Time
/// (64 s .. 1 week, a few quick requests at start or `w32tm /resync`) and
/// even a 1 Hz probe average at most one request a second. A flood from one
/// address gets 16 answers, a KoD RATE, then silence.
impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            interval_s: 1.0,
            burst: 16,
        }
    }
}

// ---------------------------------------------------------------- store, http, status

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The redb database file.
    pub path: PathBuf,
    /// Batched (non-durable) events are committed at most this often.
    pub commit_interval_s: u32,
    /// Events kept on disk; the oldest are deleted beyond this.
    pub max_events: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("/var/lib/gnss-timeserver/store.redb"),
            commit_interval_s: 60,
            max_events: crate::store::DEFAULT_MAX_EVENTS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Web panel / HTTP API; none to disable.
    pub listen: Option<SocketAddr>,
    /// Serve HTTPS on `listen` (rustls).
    pub tls: bool,
    /// PEM certificate chain; none: a self-signed certificate made on first
    /// start and kept in the data directory.
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    pub key: Option<PathBuf>,
    /// Plain-HTTP address that only redirects to the HTTPS panel.
    pub redirect_from: Option<SocketAddr>,
    /// Read-only pages and API without logging in (writes always need an admin).
    pub public_read: bool,
    /// The site's IANA time zone, shown beside UTC on the dashboard.
    pub time_zone: String,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: u32,
    /// Requests per second per client address (bursts of twice that).
    pub rate_limit_per_s: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: Some(SocketAddr::from(([0, 0, 0, 0], 8080))),
            tls: true,
            cert: None,
            key: None,
            redirect_from: None,
            public_read: true,
            time_zone: "UTC".to_string(),
            max_body_bytes: 65_536,
            rate_limit_per_s: 50,
        }
    }
}

/// An IANA zone name as the browser's Intl API takes it ("Europe/Madrid",
/// "UTC", "America/Argentina/Buenos_Aires"); the browser checks it exists.
pub fn is_time_zone_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('/')
        && !s.contains("..")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct StatusConfig {
    /// Control socket for `gnss-timeserver status`.
    pub socket: PathBuf,
}

impl Default for StatusConfig {
    fn default() -> Self {
        Self {
            socket: PathBuf::from("/run/gnss-timeserver/control.sock"),
        }
    }
}

/// The fake receiver's scenario names `[receiver] simulate` accepts. Kept
/// here (the config imports no simulator code); `sim::scenario` checks in a
/// test that its `Scenario::ALL` spells exactly these.
pub const FAKE_RECEIVER_SCENARIOS: [&str; 9] = [
    "healthy",
    "antenna-open",
    "antenna-short",
    "jamming",
    "signal-loss",
    "leap-announced",
    "leap-negative",
    "time-jump",
    "position-jump",
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct SnmpConfig {
    /// snmpd's AgentX master socket: a path, or `tcp:HOST:PORT`; unset = off.
    pub agentx: Option<String>,
    /// NTPv4-MIB heartbeat notification interval, s (0 = none).
    pub heartbeat_interval_s: u32,
}

// ---------------------------------------------------------------- errors

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// Syntax errors, unknown keys, wrong types: reported by the TOML parser.
    #[error("{file}:{line}:{column}: {}{message}", key_prefix(.key))]
    Parse {
        file: String,
        key: Option<String>,
        line: usize,
        column: usize,
        message: String,
    },
    /// Values out of range or inconsistent, found after parsing.
    #[error("{file}:{}: key `{key}`: {message}", line.map_or("?".to_string(), |l| l.to_string()))]
    Invalid {
        file: String,
        key: String,
        line: Option<usize>,
        message: String,
    },
}

fn key_prefix(key: &Option<String>) -> String {
    key.as_ref()
        .map(|k| format!("key `{k}`: "))
        .unwrap_or_default()
}

impl ConfigError {
    /// The offending key, when known.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Parse { key, .. } => key.as_deref(),
            ConfigError::Invalid { key, .. } => Some(key),
        }
    }
    /// The 1-based line of the offending key, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Parse { line, .. } => Some(*line),
            ConfigError::Invalid { line, .. } => *line,
        }
    }
}

// ---------------------------------------------------------------- loading

impl Config {
    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            file: file.clone(),
            source,
        })?;
        Self::parse(&text, &file)
    }

    /// Parse and validate config text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| locate::line_col(text, s.start))
                .unwrap_or((1, 1));
            let message = e.message().trim().to_string();
            // Unknown keys: the message names the key; the span's line gives
            // the enclosing table. Wrong types: the line tells the key.
            let key = e
                .span()
                .and_then(|_| locate::key_path_at_line(text, line))
                .or_else(|| missing_key_from_message(&message));
            ConfigError::Parse {
                file: file.to_string(),
                key,
                line,
                column,
                message,
            }
        })?;
        if let Err((key, message)) = cfg.validate() {
            return Err(ConfigError::Invalid {
                file: file.to_string(),
                line: locate::find_key_line(text, &key),
                key,
                message,
            });
        }
        Ok(cfg)
    }

    /// Range and consistency checks: `Err((dotted key, message))`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        fn bad<T>(key: &str, msg: impl Into<String>) -> Result<T, (String, String)> {
            Err((key.to_string(), msg.into()))
        }
        fn range<T: PartialOrd + std::fmt::Display + Copy>(
            key: &str,
            v: T,
            lo: T,
            hi: T,
        ) -> Result<(), (String, String)> {
            // `!(a <= b)` also rejects NaN.
            if !(lo <= v && v <= hi) {
                return bad(key, format!("{v} is out of range {lo}..={hi}"));
            }
            Ok(())
        }
        let r = &self.receiver;
        if r.device.as_os_str().is_empty() {
            return bad("receiver.device", "must not be empty");
        }
        const BAUDS: [u32; 8] = [4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800];
        if !BAUDS.contains(&r.baud) {
            return bad(
                "receiver.baud",
                format!("{} is not a u-blox baud rate (one of {BAUDS:?})", r.baud),
            );
        }
        range(
            "receiver.survey-min-duration-s",
            r.survey_min_duration_s,
            60,
            7 * 86_400,
        )?;
        range(
            "receiver.survey-accuracy-m",
            r.survey_accuracy_m,
            0.01,
            100.0,
        )?;
        if let Some(name) = &r.simulate {
            if !FAKE_RECEIVER_SCENARIOS.contains(&name.as_str()) {
                return bad(
                    "receiver.simulate",
                    format!(
                        "unknown scenario {name:?}; valid scenarios: {}",
                        FAKE_RECEIVER_SCENARIOS.join(", ")
                    ),
                );
            }
        }

        let p = &self.pps;
        range(
            "pps.cable-delay-ns",
            p.cable_delay_ns,
            -1_000_000,
            1_000_000,
        )?;
        range(
            "pps.capture-latency-ns",
            p.capture_latency_ns,
            -1_000_000,
            1_000_000,
        )?;
        range("pps.gpio-line", p.gpio_line, 0, 1023)?;

        let d = &self.discipline;
        range(
            "discipline.step-threshold-ms",
            d.step_threshold_ms,
            0.0,
            3_600_000.0,
        )?;
        range(
            "discipline.max-frequency-ppm",
            d.max_frequency_ppm,
            1.0,
            500.0,
        )?;
        range(
            "discipline.time-constant-s",
            d.time_constant_s,
            1.0,
            100_000.0,
        )?;
        range(
            "discipline.holdover-limit-ns",
            d.holdover_limit_ns,
            100,
            10_000_000_000,
        )?;
        range("discipline.min-satellites", d.min_satellites, 1, 64)?;

        if let Some(v) = self.leap.tai_utc_override {
            range("leap.override", v, 10, 100)?;
        }

        let n = &self.ntp;
        if n.listen.is_empty() {
            return bad("ntp.listen", "needs at least one address");
        }
        range("ntp.workers", n.workers, 0, 256)?;
        range("ntp.monitor-size", n.monitor_size, 0, 1_000_000)?;
        range(
            "ntp.client-offset-alarm-ms",
            n.client_offset_alarm_ms,
            0.001,
            86_400_000.0,
        )?;
        range(
            "ntp.rate-limit.interval-s",
            n.rate_limit.interval_s,
            0.0,
            3600.0,
        )?;
        range("ntp.rate-limit.burst", n.rate_limit.burst, 1, 10_000)?;
        range(
            "ntp.receive-buffer-bytes",
            n.receive_buffer_bytes,
            0,
            256 << 20,
        )?;
        if let Some(a) = &self.snmp.agentx {
            if let Err(e) = crate::snmp::AgentxAddr::parse(a) {
                return bad("snmp.agentx", e);
            }
        }
        range(
            "snmp.heartbeat-interval-s",
            self.snmp.heartbeat_interval_s,
            0,
            86_400,
        )?;
        range("ntp.stale-after-s", n.stale_after_s, 2, 3600)?;
        range("ntp.watch-learned", n.watch_learned, 0, 1024)?;
        for (i, w) in n.watch.iter().enumerate() {
            let key = |k: &str| format!("ntp.watch[{i}].{k}");
            if w.name.trim().is_empty() {
                return bad(&key("name"), "must not be empty");
            }
            if n.watch[..i].iter().any(|o| o.name == w.name) {
                return bad(&key("name"), format!("`{}` is used twice", w.name));
            }
            match &w.interval_s {
                // Windows Time polls up to a week; a second is the least a
                // test can use.
                WatchInterval::Seconds(s) => range(&key("interval-s"), *s, 1.0, 1_209_600.0)?,
                WatchInterval::Word(x) if x == "learn" => {}
                WatchInterval::Word(x) => {
                    return bad(
                        &key("interval-s"),
                        format!("`{x}` is neither seconds nor \"learn\""),
                    )
                }
            }
            range(&key("tolerance-ms"), w.tolerance_ms, 0.001, 86_400_000.0)?;
        }
        if n.require_auth && n.keys_file.is_none() {
            return bad("ntp.require-auth", "needs `ntp.keys-file`");
        }

        if self.store.path.as_os_str().is_empty() {
            return bad("store.path", "must not be empty");
        }
        range(
            "store.commit-interval-s",
            self.store.commit_interval_s,
            1,
            86_400,
        )?;
        let h = &self.http;
        if h.cert.is_some() != h.key.is_some() {
            return bad("http.cert", "`http.cert` and `http.key` go together");
        }
        if !is_time_zone_name(&h.time_zone) {
            return bad(
                "http.time-zone",
                format!(
                    "`{}` is not an IANA zone name like \"Europe/Madrid\"",
                    h.time_zone
                ),
            );
        }
        range("http.max-body-bytes", h.max_body_bytes, 1024, 16 << 20)?;
        range("http.rate-limit-per-s", h.rate_limit_per_s, 1, 100_000)?;
        if self.status.socket.as_os_str().is_empty() {
            return bad("status.socket", "must not be empty");
        }
        Ok(())
    }
}

/// serde's "missing field `x`" has no span; keep the name at least.
fn missing_key_from_message(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// `check-config FILE`: 0 when valid, 2 when invalid (error names key and line).
pub fn check_config_cli(file: &Path) -> anyhow::Result<ExitCode> {
    match Config::load(file) {
        Ok(_) => {
            println!("OK: {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::parse("", "t.toml").unwrap();
        assert_eq!(c, Config::default());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = Config::parse("[receiver]\nbaud = 9600\nbuad = 9600\n", "t.toml").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("buad"), "{s}");
        assert_eq!(e.line(), Some(3), "{s}");
        assert!(s.starts_with("t.toml:3:"), "{s}");
    }

    #[test]
    fn watch_entries_parse_and_errors_name_the_key() {
        let c = Config::parse(
            "[ntp]\nwatch-learned = 10\n[[ntp.watch]]\nname = \"sgo-1\"\naddress = \"10.0.0.5\"\ninterval-s = 64\ntolerance-ms = 50\n[[ntp.watch]]\nname = \"sgo-net\"\naddress = \"10.1.0.0/24\"\ninterval-s = \"learn\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.ntp.watch.len(), 2);
        assert_eq!(c.ntp.watch_learned, 10);
        assert_eq!(c.ntp.watch[0].interval_s, WatchInterval::Seconds(64.0));
        assert_eq!(
            c.ntp.watch[1].interval_s,
            WatchInterval::Word("learn".into())
        );
        let plan = crate::plan::ntp_server_config(&c.ntp);
        assert_eq!(plan.watch[0].interval_ns, Some(64_000_000_000));
        assert_eq!(plan.watch[0].tolerance_ns, 50_000_000);
        assert_eq!(plan.watch[1].interval_ns, None);
        assert_eq!(plan.watch_learned, 10);
        let w = "[[ntp.watch]]\nname = \"a\"\naddress = \"10.0.0.5\"\n";
        let e = Config::parse(&format!("{w}{w}"), "t.toml").unwrap_err();
        assert_eq!(e.key(), Some("ntp.watch[1].name"), "{e}");
        let e = Config::parse(
            &format!(
                "{w}[[ntp.watch]]\nname = \"b\"\naddress = \"10.0.0.6\"\ninterval-s = \"often\"\n"
            ),
            "t.toml",
        )
        .unwrap_err();
        assert_eq!(e.key(), Some("ntp.watch[1].interval-s"), "{e}");
        let e = Config::parse(
            &format!("{w}[[ntp.watch]]\nname = \"b\"\naddress = \"10.0.0.6\"\ninterval-s = 0.1\n"),
            "t.toml",
        )
        .unwrap_err();
        assert_eq!(e.key(), Some("ntp.watch[1].interval-s"), "{e}");
        let e = Config::parse("[ntp]\nwatch-learned = 5000\n", "t.toml").unwrap_err();
        assert_eq!(e.key(), Some("ntp.watch-learned"), "{e}");
    }

    #[test]
    fn wrong_type_names_key_and_line() {
        let e = Config::parse("\n[ntp]\nworkers = \"four\"\n", "t.toml").unwrap_err();
        assert_eq!(e.key(), Some("ntp.workers"), "{e}");
        assert_eq!(e.line(), Some(3), "{e}");
    }

    #[test]
    fn out_of_range_names_key_and_line() {
        let e = Config::parse("[discipline]\n\nmax-frequency-ppm = 900.0\n", "t.toml").unwrap_err();
        assert_eq!(e.key(), Some("discipline.max-frequency-ppm"), "{e}");
        assert_eq!(e.line(), Some(3), "{e}");
        let e = Config::parse(
            "[ntp]\nrate-limit = { interval-s = 1.0, burst = 0 }\n",
            "t.toml",
        )
        .unwrap_err();
        assert_eq!(e.key(), Some("ntp.rate-limit.burst"), "{e}");
        assert_eq!(e.line(), Some(2), "{e}");
    }

    #[test]
    fn simulated_receiver_names_a_known_scenario() {
        let c = Config::parse("[receiver]\nsimulate = \"healthy\"\n", "t.toml").unwrap();
        assert_eq!(c.receiver.simulate.as_deref(), Some("healthy"));
        let e = Config::parse("[receiver]\n\nsimulate = \"sunny\"\n", "t.toml").unwrap_err();
        assert_eq!(e.key(), Some("receiver.simulate"), "{e}");
        assert_eq!(e.line(), Some(3), "{e}");
    }

    #[test]
    fn enums_and_cidrs_parse() {
        let c = Config::parse(
            "[receiver]\nmodel = \"nmea-only\"\ntiming-mode = \"off\"\n[ntp]\nrefid = \"GNSS\"\nallow = [\"10.0.0.0/8\", \"::1\"]\ndeny-action = \"drop\"\n[leap]\noverride = 37\nmode = \"smear\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.receiver.model, ReceiverModel::NmeaOnly);
        assert_eq!(c.receiver.timing_mode, TimingMode::Off);
        assert_eq!(c.ntp.refid.bytes(), *b"GNSS");
        assert_eq!(c.ntp.allow.len(), 2);
        assert_eq!(c.ntp.deny_action, DenyAction::Drop);
        assert_eq!(c.leap.tai_utc_override, Some(37));
        assert_eq!(c.leap.mode, LeapMode::Smear);
        let e = Config::parse("[ntp]\ndeny = [\"10.0.0.1/8\"]\n", "t.toml").unwrap_err();
        assert_eq!(e.line(), Some(2), "{e}");
        assert_eq!(e.key(), Some("ntp.deny"), "{e}");
    }

    #[test]
    fn error_inside_multiline_array_names_the_array() {
        let e =
            Config::parse("[ntp]\nallow = [\n  \"10.0.0.0/8\",\n  5,\n]\n", "t.toml").unwrap_err();
        assert_eq!(e.key(), Some("ntp.allow"), "{e}");
        assert_eq!(e.line(), Some(4), "{e}");
    }

    proptest::proptest! {
        /// Hostile text never panics, and an error's line is inside the document.
        #[test]
        fn arbitrary_text_never_panics(text in "[\\[\\]a-z=\"\\.\\-0-9 \\n{},#']{0,200}") {
            if let Err(e) = Config::parse(&text, "t.toml") {
                let lines = text.split('\n').count();
                if let Some(l) = e.line() {
                    proptest::prop_assert!(l >= 1 && l <= lines, "line {} of {}: {}", l, lines, e);
                }
            }
        }

        /// Single-byte corruptions of the shipped example never panic.
        #[test]
        fn corrupted_example_never_panics(pos in 0usize..4000, byte in proptest::num::u8::ANY) {
            let mut bytes = include_bytes!("../../board/gnss-timeserver.toml").to_vec();
            let pos = pos % bytes.len();
            bytes[pos] = byte;
            let text = String::from_utf8_lossy(&bytes);
            let _ = Config::parse(&text, "t.toml");
        }
    }
}
