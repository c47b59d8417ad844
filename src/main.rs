//! CLI only: parse arguments and hand over to the library.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "gnss-timeserver",
    version,
    about = "GNSS-disciplined stratum-1 time server"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the appliance daemon from a config file.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Run everything with no hardware and no root: fake receiver on a pty,
    /// simulated PPS, virtual clock, NTP on a high port.
    Demo(gnss_timeserver::app::DemoOptions),
    /// Decode a raw receiver capture; one JSON object per epoch on stdout.
    Decode { file: PathBuf },
    /// Validate a config file; exits 2 when it is invalid.
    CheckConfig { file: PathBuf },
    /// Print the status snapshot of a running daemon (JSON; `--summary` for
    /// a few lines to read at a glance).
    Status {
        /// Control socket of the daemon (default: from `--config`, else the
        /// demo's in ./gnss-timeserver-data, else /etc/gnss-timeserver.toml's).
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Daemon config whose `[status] socket` to use.
        #[arg(long, conflicts_with = "socket")]
        config: Option<PathBuf>,
        /// A few lines for a person instead of the JSON snapshot.
        #[arg(long, conflicts_with = "json")]
        summary: bool,
        /// The whole snapshot as pretty-printed JSON (the default).
        #[arg(long)]
        json: bool,
        /// HTTP address of the daemon (alternative to the socket).
        #[arg(long)]
        http: Option<SocketAddr>,
    },
    /// Accept a pending receiver time jump: step the clock onto the
    /// receiver's time and re-lock (the daemon never follows a jump by itself
    /// unless `time-jump-accept-after-s` is set).
    AcceptTimeJump {
        /// Control socket of the daemon (default: as for `status`).
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Daemon config whose `[status] socket` to use.
        #[arg(long, conflicts_with = "socket")]
        config: Option<PathBuf>,
    },
    /// SNMP operator requests to a running daemon.
    #[command(subcommand)]
    Snmp(SnmpCmd),
    /// Create or change a web panel user; the password is read from stdin.
    SetPassword {
        /// Data directory of the daemon (the demo's is ./gnss-timeserver-data).
        #[arg(long, default_value = "/var/lib/gnss-timeserver")]
        data: PathBuf,
        #[arg(long, default_value = "admin")]
        user: String,
        /// viewer or admin.
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// Run a timing scenario fast and deterministically with the simulated clock.
    Simulate {
        #[arg(long)]
        scenario: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum SnmpCmd {
    /// Send the test notification (gtsTestNotification) through snmpd to
    /// the configured trap sinks, to check the notification path.
    TestTrap {
        /// Control socket of the daemon (default: as for `status`).
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Daemon config whose `[status] socket` to use.
        #[arg(long, conflicts_with = "socket")]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    gnss_timeserver::app::init_logging();
    let result = match cli.cmd {
        Cmd::Run { config } => gnss_timeserver::app::run_blocking(&config),
        Cmd::Demo(opts) => gnss_timeserver::app::demo_blocking(opts),
        Cmd::Decode { file } => gnss_timeserver::gnss::decode::run_cli(&file),
        Cmd::CheckConfig { file } => gnss_timeserver::config::check_config_cli(&file),
        Cmd::Status {
            socket,
            config,
            http,
            summary,
            json: _,
        } => {
            use gnss_timeserver::status::client::{run_cli, StatusFormat};
            let format = if summary {
                StatusFormat::Summary
            } else {
                StatusFormat::Json
            };
            run_cli(socket, config, http, format, &socket_of_config)
        }
        Cmd::AcceptTimeJump { socket, config } => {
            gnss_timeserver::status::client::accept_time_jump_cli(socket, config, &socket_of_config)
        }
        Cmd::Snmp(SnmpCmd::TestTrap { socket, config }) => {
            gnss_timeserver::status::client::snmp_test_trap_cli(socket, config, &socket_of_config)
        }
        Cmd::SetPassword { data, user, role } => {
            gnss_timeserver::web::auth::users::set_password_cli(&data, &user, &role)
        }
        Cmd::Simulate {
            scenario,
            seed,
            out,
        } => gnss_timeserver::sim::timing::run_cli(&scenario, seed, &out),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The `[status] socket` of a config file (for `status`, `accept-time-jump`, `snmp test-trap`).
fn socket_of_config(path: &std::path::Path) -> Result<std::path::PathBuf, String> {
    gnss_timeserver::config::Config::load(path)
        .map(|c| c.status.socket)
        .map_err(|e| e.to_string())
}
