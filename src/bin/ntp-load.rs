//! NTP load generator and bare UDP reflector.
//!
//! `ntp-load load --target 127.0.0.1:P ...` sends NTP v4 client requests
//! from many source ports, validates every reply and reports throughput,
//! loss, latency and (with `--server-pid`) the server's CPU time per
//! answered request. `ntp-load reflect --listen 127.0.0.1:P` is the bare
//! reflector that measures the kernel's own cost per packet.

#![deny(unsafe_code)]

#[path = "ntp_load/generator.rs"]
mod generator;
#[path = "ntp_load/histogram.rs"]
mod histogram;
#[path = "ntp_load/packet.rs"]
mod packet;
#[path = "ntp_load/procstat.rs"]
#[allow(unsafe_code)] // sysconf
mod procstat;
#[path = "ntp_load/reflector.rs"]
mod reflector;
#[path = "ntp_load/report.rs"]
mod report;
#[path = "ntp_load/udp.rs"]
#[allow(unsafe_code)] // recvmmsg/sendmmsg
mod udp;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(name = "ntp-load", about = "NTP load generator and bare UDP reflector")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Send NTP client requests to a server and measure it.
    Load(LoadArgs),
    /// Answer every datagram of 48+ bytes with a minimal NTP-looking reply.
    Reflect(ReflectArgs),
}

#[derive(Args, Debug)]
struct LoadArgs {
    /// Server address (loopback only unless --allow-non-loopback).
    #[arg(long)]
    target: SocketAddr,
    /// Sockets (distinct source ports) per thread.
    #[arg(long, default_value_t = 16)]
    sockets: usize,
    /// Closed loop: requests outstanding per socket.
    #[arg(long, default_value_t = 4)]
    window: usize,
    /// Fixed rate in requests/s over all threads (replaces the closed loop).
    #[arg(long)]
    rate: Option<f64>,
    /// Generator threads, each with its own sockets.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// CPUs to pin generator threads to (comma-separated, round-robin).
    #[arg(long, value_delimiter = ',')]
    cpu: Vec<usize>,
    /// Seconds to send for (at most 3600).
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Stop after this many requests in total.
    #[arg(long)]
    max_requests: Option<u64>,
    /// A request without a reply after this many ms counts as lost.
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    /// Count replies with another stratum as invalid.
    #[arg(long)]
    expect_stratum: Option<u8>,
    /// Count replies with another leap indicator (0..=3) as invalid.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=3))]
    expect_leap: Option<u8>,
    /// Server process whose CPU time and memory to measure.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seconds to watch the idle server first, to subtract its background CPU.
    #[arg(long, default_value_t = 2.0)]
    idle_secs: f64,
    /// Datagrams per sendmmsg/recvmmsg call.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Seed for the request cookies.
    #[arg(long, default_value_t = 0x6e74_706c)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Permit a target outside 127.0.0.0/8 and ::1. Load tests must not hit
    /// other machines by accident.
    #[arg(long)]
    allow_non_loopback: bool,
    /// Give every socket its own source address, counting up from this
    /// loopback address (e.g. 127.1.0.0): many clients, as the server's
    /// per-address rate limit and client table see them. IPv4 loopback only.
    #[arg(long)]
    source_base: Option<std::net::Ipv4Addr>,
}

#[derive(Args, Debug)]
struct ReflectArgs {
    /// Address to answer on; port 0 picks one (printed as `listening ADDR`).
    #[arg(long)]
    listen: SocketAddr,
    /// Worker threads, each with its own SO_REUSEPORT socket.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// CPUs to pin workers to (comma-separated, round-robin).
    #[arg(long, value_delimiter = ',')]
    cpu: Vec<usize>,
    /// Datagrams per recvmmsg/sendmmsg call.
    #[arg(long, default_value_t = 32)]
    batch: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Load(a) => load(a),
        Cmd::Reflect(a) => reflector::run(&reflector::ReflectOptions {
            listen: a.listen,
            workers: a.workers,
            cpus: a.cpu,
            batch: a.batch,
        })
        .map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ntp-load: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Exit code when the run completed but not a single valid reply came back.
const EXIT_NO_VALID_REPLY: u8 = 2;

fn load(a: LoadArgs) -> anyhow::Result<ExitCode> {
    if !a.target.ip().is_loopback() && !a.allow_non_loopback {
        bail!(
            "target {} is not a loopback address; pass --allow-non-loopback to load another host",
            a.target
        );
    }
    if !(a.duration > 0.0 && a.duration <= 3600.0) {
        bail!("--duration must be in (0, 3600] seconds");
    }
    if a.sockets == 0 || a.threads == 0 || (a.rate.is_none() && a.window == 0) {
        bail!("--sockets, --threads and --window must be at least 1");
    }
    if let Some(r) = a.rate {
        if !(r > 0.0 && r.is_finite()) {
            bail!("--rate must be a positive number");
        }
    }
    let opts = generator::GenOptions {
        window: a.window,
        rate: a.rate,
        threads: a.threads,
        cpus: a.cpu.clone(),
        duration: Duration::from_secs_f64(a.duration),
        max_requests: a.max_requests,
        timeout: Duration::from_millis(a.timeout_ms.max(1)),
        expect: packet::Expect {
            stratum: a.expect_stratum,
            leap: a.expect_leap,
        },
        batch: a.batch,
        seed: a.seed,
    };

    // Idle window first: the server's own background CPU, to subtract.
    let idle = match a.server_pid {
        Some(pid) => Some(report::measure_idle(pid, a.idle_secs)?),
        None => None,
    };

    if let Some(base) = a.source_base {
        anyhow::ensure!(
            base.is_loopback() && a.target.ip().is_loopback() && a.target.is_ipv4(),
            "--source-base needs an IPv4 loopback base and target"
        );
    }
    let mut per_thread_socks = Vec::new();
    for t in 0..a.threads {
        let first = a
            .source_base
            .map(|b| u32::from(b).wrapping_add((t * a.sockets) as u32));
        per_thread_socks
            .push(generator::open_sockets(a.target, a.sockets, first).context("opening sockets")?);
    }

    let me = std::process::id();
    let client_before = procstat::cpu_times(me)?;
    let server_before = a.server_pid.map(procstat::cpu_times).transpose()?;
    let sched_before = a.server_pid.map(procstat::sched_runtime_ns).transpose()?;
    let window_start = Instant::now();
    let start = Instant::now();
    let handles: Vec<_> = per_thread_socks
        .into_iter()
        .enumerate()
        .map(|(i, socks)| {
            let o = opts.clone();
            thread::Builder::new()
                .name(format!("load-{i}"))
                .spawn(move || generator::run_thread(o, socks, i, start))
        })
        .collect::<Result<_, _>>()?;
    let mut total = generator::GenResult::default();
    for h in handles {
        match h.join() {
            Ok(r) => total.merge(&r?),
            Err(_) => bail!("generator thread panicked"),
        }
    }
    let window_s = window_start.elapsed().as_secs_f64();
    let server_after = a.server_pid.map(procstat::cpu_times).transpose()?;
    let sched_after = a.server_pid.map(procstat::sched_runtime_ns).transpose()?;
    let client_after = procstat::cpu_times(me)?;
    let server_mem = a.server_pid.map(procstat::memory).transpose()?;

    let server = match (a.server_pid, idle, server_before, server_after, server_mem) {
        (Some(pid), Some(idle), Some(b), Some(e), Some(mem)) => Some(report::server_cpu(
            pid,
            &idle,
            e.since(b),
            sched_after
                .unwrap_or(0)
                .saturating_sub(sched_before.unwrap_or(0)) as f64
                / 1e9,
            window_s,
            total.answered,
            mem,
        )),
        _ => None,
    };
    let rep = report::Report::new(
        &a_summary(&a),
        &total,
        server,
        client_after.since(client_before),
    );
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        print!("{}", rep.to_text());
    }
    if total.answered == 0 {
        eprintln!(
            "ntp-load: no valid reply from {} ({} sent, {} invalid, {} lost)",
            a.target,
            total.sent,
            total.invalid_total(),
            total.lost
        );
        return Ok(ExitCode::from(EXIT_NO_VALID_REPLY));
    }
    Ok(ExitCode::SUCCESS)
}

fn a_summary(a: &LoadArgs) -> report::Setup {
    report::Setup {
        target: a.target.to_string(),
        mode: if a.rate.is_some() { "rate" } else { "window" },
        threads: a.threads,
        sockets_per_thread: a.sockets,
        window: a.rate.is_none().then_some(a.window),
        rate: a.rate,
        duration_s: a.duration,
        max_requests: a.max_requests,
        timeout_ms: a.timeout_ms,
        expect_stratum: a.expect_stratum,
        expect_leap: a.expect_leap,
    }
}
