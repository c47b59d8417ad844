//! Accelerated soak (a benchmark, not a test): simulated days of the
//! daemon's steady work in one process, on simulated time:
//!
//! - the fake receiver's epochs (ZED-F9T, healthy sky, every message of a
//!   timing setup, once a second) through the framer and the receiver model;
//! - NTP requests through the real handler and the default 16 384-entry
//!   client table with the default rate limit: 20 LAN clients polling every
//!   64 s, a new transient client every 5 minutes, and once a simulated hour
//!   a burst from 2 000 spoofed addresses;
//! - the once-a-second NTP status publication (`len` + `top(20)`);
//! - a real store on disk: one history sample a second, an event a minute,
//!   a commit every 60 s (the default), its retention applied as it goes.
//!
//! Per simulated hour it records the process's RSS, the CPU time the hour's
//! work took, and the store file's size; it prints them every 12 simulated
//! hours and the ratios of the last hour to hour 2 (hour 1 is warm-up).
//! Flat RSS and CPU and a size that stops growing once the retention windows
//! are full are the result; nothing is asserted.
//!
//! `SOAK_DAYS=7 cargo bench --bench soak` (default 3 days; `SOAK_DIR` for
//! the store's file system).

use gnss_timeserver::events::{Event, EventKind};
use gnss_timeserver::gnss::framer::Framer;
use gnss_timeserver::gnss::Receiver;
use gnss_timeserver::ntp::auth::KeyStore;
use gnss_timeserver::ntp::clients::{ClientTable, RateLimit};
use gnss_timeserver::ntp::counters::Counters;
use gnss_timeserver::ntp::handler::{Handler, HandlerConfig};
use gnss_timeserver::sim::receiver::{Model, ReceiverCore, StartupOutput};
use gnss_timeserver::sim::scenario::Scenario;
use gnss_timeserver::status::{LeapIndicator, ServerFields};
use gnss_timeserver::store::history::{HistorySample, Series};
use gnss_timeserver::store::Store;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

const S: i64 = 1_000_000_000;
const T0: i64 = 1_800_000_000 * S;

fn thread_cpu_ns() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec * S + ts.tv_nsec
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn request(handler: &Handler, src: IpAddr, now: i64, fields: &ServerFields) -> bool {
    let mut req = [0u8; 48];
    req[0] = 0x23;
    req[40..48].copy_from_slice(&(now as u64).to_be_bytes());
    let mut out = [0u8; 128];
    handler
        .respond(&req, src, now, now + 20_000, fields, &mut out)
        .is_some()
}

struct Hour {
    rss_kib: u64,
    cpu_ms: f64,
    store_bytes: u64,
    answered: u64,
}

fn main() {
    let days: i64 = std::env::var("SOAK_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(3);
    let dir = match std::env::var("SOAK_DIR") {
        Ok(d) => tempfile::tempdir_in(d),
        Err(_) => tempfile::tempdir(),
    }
    .expect("temp dir");
    let path = dir.path().join("soak.redb");
    let mut store = Store::open(&path).expect("open store");

    let mut fake = ReceiverCore::new(
        Model::F9T,
        Scenario::Healthy,
        StartupOutput::Preconfigured,
        T0,
    );
    let mut framer = Framer::new();
    let mut receiver = Receiver::new();
    let table = Arc::new(ClientTable::new(
        16_384,
        Some(RateLimit {
            interval_ns: S,
            burst: 16,
        }),
        Some(S),
    ));
    let handler = Handler::new(
        Arc::new(HandlerConfig::default()),
        Arc::new(KeyStore::default()),
        table.clone(),
        Arc::new(Counters::default()),
    );
    let lan: Vec<IpAddr> = (1..=20)
        .map(|i| IpAddr::V4(Ipv4Addr::new(192, 168, 1, i)))
        .collect();

    let started = Instant::now();
    let mut hours: Vec<Hour> = Vec::new();
    let (mut cpu0, mut answered, mut epochs) = (thread_cpu_ns(), 0u64, 0u64);
    for sec in 0..days * 86_400 {
        let now = T0 + sec * S;
        framer.push(&fake.epoch(now));
        while let Some(f) = framer.next_frame() {
            if receiver.handle_frame(&f).is_some() {
                epochs += 1;
            }
        }
        let fields = ServerFields {
            leap: LeapIndicator::NoWarning,
            stratum: 1,
            as_of_ns: now,
            reference_time_ns: now,
            ..ServerFields::default()
        };
        for (k, &a) in lan.iter().enumerate() {
            if (sec + k as i64 * 3) % 64 == 0 {
                answered += u64::from(request(&handler, a, now, &fields));
            }
        }
        if sec % 300 == 0 {
            let n = (sec / 300) as u32;
            let a = IpAddr::V4(Ipv4Addr::from(0xC0A8_0200 + (n % 50_000)));
            answered += u64::from(request(&handler, a, now, &fields));
        }
        if sec % 3600 == 1800 {
            for i in 0..2_000u32 {
                let a = IpAddr::V4(Ipv4Addr::from(
                    0x0A00_0000 + (sec as u32 / 3600) * 2_000 + i,
                ));
                answered += u64::from(request(&handler, a, now + i64::from(i), &fields));
            }
        }
        std::hint::black_box((table.len(), table.top(20).len()));
        let mut h = HistorySample {
            time_ns: now,
            ..Default::default()
        };
        let st = receiver.status();
        h.set(Series::SatsUsed, st.sats_used.map(f64::from));
        h.set(
            Series::TeEstimateNs,
            Some(((sec as f64) * 0.01).sin() * 20.0),
        );
        store.record_history(&h);
        if sec % 60 == 0 {
            store
                .append(Event::new(
                    now,
                    EventKind::NtpClientOffsetCleared {
                        client: "192.168.1.7:123".into(),
                        offset_ns: 1000,
                    },
                ))
                .expect("append");
            store.commit().expect("commit");
        }
        if sec % 3600 == 3599 {
            let cpu1 = thread_cpu_ns();
            hours.push(Hour {
                rss_kib: rss_kib(),
                cpu_ms: (cpu1 - cpu0) as f64 / 1e6,
                store_bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
                answered,
            });
            cpu0 = cpu1;
            answered = 0;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "soak: {days} simulated days in {wall:.0} s real ({:.0}x), {epochs} receiver epochs",
        (days * 86_400) as f64 / wall
    );
    println!(
        "{:>6} {:>10} {:>14} {:>12} {:>10}",
        "hour", "RSS KiB", "CPU ms / hour", "store KiB", "answered"
    );
    for (i, h) in hours.iter().enumerate() {
        if i < 2 || (i + 1) % 12 == 0 {
            println!(
                "{:>6} {:>10} {:>14.1} {:>12} {:>10}",
                i + 1,
                h.rss_kib,
                h.cpu_ms,
                h.store_bytes / 1024,
                h.answered
            );
        }
    }
    if let (Some(base), Some(last)) = (hours.get(1), hours.last()) {
        let peak = hours.iter().map(|h| h.store_bytes).max().unwrap_or(0);
        println!(
            "last hour / hour 2: RSS {:.2}, CPU {:.2}; store peak {} KiB, last {} KiB",
            last.rss_kib as f64 / base.rss_kib.max(1) as f64,
            last.cpu_ms / base.cpu_ms.max(1e-9),
            peak / 1024,
            last.store_bytes / 1024
        );
    }
}
