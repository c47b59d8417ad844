//! Idle cost of the once-a-second NTP status publication over a simulated
//! hour: `ClientTable::len` + `top(20)` (what `NtpServerHandle::status` adds
//! to the counters) on the daemon's default 16 384-entry table, while a
//! quiet LAN feeds it: 10 clients polling every 64 s and a new transient
//! client every 5 minutes (phones, laptops). The CPU time of the status work
//! in minute 1 and in minute 60 is measured in the same run; their ratio is
//! the creep (the aim: ~1). For scale it also times the same work on a table
//! a flood filled with 16 384 distinct addresses (the worst case: every
//! entry is a client).
//! `cargo bench --bench ntp_status_idle`

use gnss_timeserver::ntp::clients::{ClientTable, RequestFacts};
use gnss_timeserver::ntp::timestamp::NtpTimestamp;
use std::net::{IpAddr, Ipv4Addr};

const S: i64 = 1_000_000_000;
const T0: i64 = 1_800_000_000 * S;
const TABLE: usize = 16_384;

fn thread_cpu_ns() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec * S + ts.tv_nsec
}

fn request(t: &ClientTable, addr: IpAddr, rx: i64) {
    t.observe(&RequestFacts {
        addr,
        rx_ns: rx,
        mode: 3,
        version: 4,
        origin: NtpTimestamp::ZERO,
        receive: NtpTimestamp::ZERO,
        transmit: NtpTimestamp::from_unix_nanos(rx),
        reply_receive: NtpTimestamp::from_unix_nanos(rx),
        rate_limited: true,
    });
}

/// The publisher's per-second work; returns something so it is not elided.
fn publish(t: &ClientTable) -> usize {
    let top = t.top(20);
    std::hint::black_box(t.len()) + top.len()
}

/// Median of `reps` CPU-time measurements of `rounds` publications, ns per publication.
fn cost(t: &ClientTable, rounds: usize, reps: usize) -> f64 {
    let mut v: Vec<f64> = (0..reps)
        .map(|_| {
            let c0 = thread_cpu_ns();
            for _ in 0..rounds {
                std::hint::black_box(publish(t));
            }
            (thread_cpu_ns() - c0) as f64 / rounds as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Simulate an hour of a quiet LAN; returns (cost at minute 1, cost at
/// minute 60, clients at the end). `churn`: a new client every 5 minutes.
fn hour(churn: bool) -> (f64, f64, usize) {
    let t = ClientTable::new(TABLE, None, None);
    let lan: Vec<IpAddr> = (1..=10)
        .map(|i| IpAddr::V4(Ipv4Addr::new(192, 168, 1, i)))
        .collect();
    let mut minute_1 = 0.0;
    for sec in 0..3600i64 {
        for (k, &a) in lan.iter().enumerate() {
            if (sec + k as i64 * 6) % 64 == 0 {
                request(&t, a, T0 + sec * S);
            }
        }
        if churn && sec % 300 == 0 {
            let a = IpAddr::V4(Ipv4Addr::new(192, 168, 2, (sec / 300) as u8 + 1));
            request(&t, a, T0 + sec * S);
        }
        publish(&t);
        if sec == 59 {
            minute_1 = cost(&t, 2_000, 9);
        }
    }
    (minute_1, cost(&t, 2_000, 9), t.len())
}

fn main() {
    println!("NTP status publication (len + top 20), CPU per publication:");
    for (name, churn) in [
        ("10 steady clients", false),
        ("+1 new client / 5 min", true),
    ] {
        let (m1, m60, n) = hour(churn);
        println!(
            "  {name:<22} minute 1 {m1:>7.0} ns, minute 60 {m60:>7.0} ns ({n} clients), ratio {:.2}",
            m60 / m1
        );
    }
    let full = ClientTable::new(TABLE, None, None);
    for i in 0..(TABLE as u32 * 4) {
        request(
            &full,
            IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i)),
            T0 + i64::from(i),
        );
    }
    let full_cost = cost(&full, 200, 9);
    println!(
        "  flooded table ({} clients): {full_cost:.0} ns ({:.4} % of one core at 1/s)",
        full.len(),
        full_cost / 1e9 * 100.0
    );
}
