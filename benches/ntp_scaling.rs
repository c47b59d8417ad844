//! In-process scaling of the NTP request path — `Handler::prepare` (access,
//! auth, client table, reply), the served clock (`ServedClock` over the
//! `VirtualClock` the daemon steers), `finish` and the TX record — on 1 and
//! 2 threads sharing one client table, as the workers do. No sockets: this
//! is the part of a request that more cores could divide. Two client mixes:
//! `spread` (requests from 4096 addresses, spread over the table's shards)
//! and `one address` (every request hits one shard: the worst case for the
//! shard locks). Prints throughput per thread, the 2-thread/1-thread ratio
//! and the shard-lock contention (times a thread found a shard locked).
//! `cargo bench --bench ntp_scaling` (DURATION_S=2 per measurement)

use gnss_timeserver::app::ServedClock;
use gnss_timeserver::clock::{Clock, TimeSource, VirtualClock};
use gnss_timeserver::discipline::leap::LeapMode;
use gnss_timeserver::ntp::auth::KeyStore;
use gnss_timeserver::ntp::clients::{ClientTable, RateLimit};
use gnss_timeserver::ntp::counters::Counters;
use gnss_timeserver::ntp::handler::{Handler, HandlerConfig, Outcome};
use gnss_timeserver::status::{LeapIndicator, ServerFields};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fields() -> ServerFields {
    ServerFields {
        leap: LeapIndicator::NoWarning,
        stratum: 1,
        reference_time_ns: gnss_timeserver::time::system_realtime_ns(),
        ..ServerFields::default()
    }
}

/// Requests answered by one thread until `stop`.
fn worker(
    clients: Arc<ClientTable>,
    time: Arc<dyn TimeSource>,
    addrs: Arc<Vec<IpAddr>>,
    offset: usize,
    stop: Arc<AtomicBool>,
) -> u64 {
    let h = Handler::new(
        Arc::new(HandlerConfig::default()),
        Arc::new(KeyStore::default()),
        clients,
        Arc::new(Counters::default()),
    );
    let f = fields();
    let mut req = [0u8; 48];
    req[0] = 0x23;
    req[2] = 6;
    let mut out = [0u8; 128];
    let mut n = 0u64;
    let mut i = offset;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..256 {
            i = i.wrapping_add(1);
            let addr = addrs[i % addrs.len()];
            req[40..48].copy_from_slice(&(i as u64).to_be_bytes());
            let rx = time.now_ns();
            if let Outcome::Reply(r) = h.prepare(&req, addr, rx, &f, &mut out) {
                let tx = time.now_ns();
                let wire = h.finish(&mut out, &r, tx);
                h.record_tx(&r, tx, Some(wire));
                n += 1;
            }
        }
    }
    n
}

/// (requests/s per thread, contended locks per million requests).
fn measure(threads: usize, addrs: &Arc<Vec<IpAddr>>, secs: f64) -> (f64, f64) {
    // No rate limit: the bench measures the path, not the policy.
    let clients = Arc::new(ClientTable::new(
        16_384,
        None::<RateLimit>,
        Some(1_000_000_000),
    ));
    let clock: Arc<dyn Clock> = Arc::new(VirtualClock::new());
    let time: Arc<dyn TimeSource> = Arc::new(ServedClock::new(clock, LeapMode::Kernel));
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (c, tm, a, s) = (clients.clone(), time.clone(), addrs.clone(), stop.clone());
            std::thread::spawn(move || worker(c, tm, a, t * 7919, s))
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    let elapsed = start.elapsed().as_secs_f64();
    let per_thread = total as f64 / elapsed / threads as f64;
    (
        per_thread,
        clients.contended() as f64 * 1e6 / total.max(1) as f64,
    )
}

fn main() {
    let secs: f64 = std::env::var("DURATION_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let spread: Arc<Vec<IpAddr>> = Arc::new(
        (0..4096u32)
            .map(|i| IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i * 2_654_435_761 % (1 << 24))))
            .collect(),
    );
    let single: Arc<Vec<IpAddr>> = Arc::new(vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]);
    println!("request path in process, {cores} cores, {secs} s per measurement");
    println!(
        "{:<12} {:>8} {:>16} {:>14} {:>22}",
        "clients", "threads", "req/s per thread", "vs 1 thread", "contended per 1e6 req"
    );
    for (name, addrs) in [("spread", &spread), ("one address", &single)] {
        let (one, c1) = measure(1, addrs, secs);
        println!("{name:<12} {:>8} {one:>16.0} {:>14} {c1:>22.1}", 1, "1.00");
        let (two, c2) = measure(2, addrs, secs);
        println!(
            "{name:<12} {:>8} {two:>16.0} {:>14.2} {c2:>22.1}",
            2,
            two / one
        );
    }
}
