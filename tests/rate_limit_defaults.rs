//! The daemon's default rate limit, as `run` maps it from the config, against
//! what real clients send: none of them is ever limited; a flood is.

use gnss_timeserver::config::Config;
use gnss_timeserver::ntp::clients::{ClientTable, RateLimit, RateVerdict, RequestFacts};
use gnss_timeserver::ntp::timestamp::NtpTimestamp;
use gnss_timeserver::plan::ntp_server_config as server_config;
use std::net::IpAddr;

const S: i64 = 1_000_000_000;
const T0: i64 = 1_800_000_000 * S;

fn default_table() -> ClientTable {
    let cfg = server_config(&Config::default().ntp);
    assert!(
        cfg.rate_limit_interval_ms > 0,
        "run limits rates by default"
    );
    ClientTable::new(
        1024,
        Some(RateLimit {
            interval_ns: cfg.rate_limit_interval_ms as i64 * 1_000_000,
            burst: cfg.rate_limit_burst,
        }),
        None,
    )
}

/// Verdicts for requests at these offsets (ns from T0) from `addr`.
fn verdicts(t: &ClientTable, addr: &str, at: &[i64]) -> Vec<RateVerdict> {
    let addr: IpAddr = addr.parse().unwrap();
    at.iter()
        .map(|&dt| {
            let rx = T0 + dt;
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
            })
            .rate
        })
        .collect()
}

/// A burst of `n` requests `gap` apart at each poll of `poll` s, for `polls` polls.
fn bursts(n: i64, gap: i64, poll: i64, polls: i64) -> Vec<i64> {
    (0..polls)
        .flat_map(|p| (0..n).map(move |k| p * poll * S + k * gap))
        .collect()
}

#[test]
fn well_behaved_clients_are_never_limited() {
    let t = default_table();
    // Deterministic ±100 ms jitter.
    let jitter = |i: i64| ((i * 7919) % 201 - 100) * 1_000_000;
    let cases: Vec<(&str, &str, Vec<i64>)> = vec![
        (
            "1 Hz probe for an hour, jittered",
            "192.0.2.1",
            (0..3600).map(|i| i * S + jitter(i)).collect(),
        ),
        // ntpd `iburst`: 8 requests 2 s apart, then 64 s polls.
        ("ntpd iburst", "192.0.2.2", {
            let mut v = bursts(8, 2 * S, 0, 1);
            v.extend((1..60).map(|p| 16 * S + p * 64 * S));
            v
        }),
        // ntpd `burst`: 8 requests 2 s apart at every 64 s poll.
        ("ntpd burst", "192.0.2.3", bursts(8, 2 * S, 64, 60)),
        // chrony `iburst` (4-8 at 2 s), then `burst` (4 at 2 s) per 64 s poll.
        ("chrony iburst+burst", "192.0.2.4", {
            let mut v = bursts(8, 2 * S, 0, 1);
            v.extend(bursts(4, 2 * S, 64, 60).into_iter().map(|x| x + 20 * S));
            v
        }),
        // Windows Time: a few quick requests at start or `w32tm /resync`,
        // then 64 s and up (mode 1 or 3 alike for the limit).
        ("Windows Time", "192.0.2.5", {
            let mut v: Vec<i64> = (0..6).map(|k| k * 200_000_000).collect();
            v.extend((1..100).map(|p| 2 * S + p * 64 * S));
            v.extend((0..6).map(|k| 7_000 * S + k * 200_000_000));
            v
        }),
    ];
    for (name, addr, at) in cases {
        let v = verdicts(&t, addr, &at);
        let limited = v.iter().filter(|&&x| x != RateVerdict::Serve).count();
        assert_eq!(limited, 0, "{name}: {limited} of {} limited", v.len());
    }
}

#[test]
fn a_flood_is_limited_at_once() {
    let t = default_table();
    // 10 requests a second from one address.
    let at: Vec<i64> = (0..100).map(|i| i * S / 10).collect();
    let v = verdicts(&t, "198.51.100.1", &at);
    let first_kod = v.iter().position(|&x| x == RateVerdict::Kod);
    assert!(
        first_kod.is_some_and(|i| i < 25),
        "KoD within the first burst: {first_kod:?}"
    );
    let served = v.iter().filter(|&&x| x == RateVerdict::Serve).count();
    assert!(served < 40, "at most the burst plus 1/s: {served}");
}
