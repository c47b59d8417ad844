//! Micro-benchmark of sans-IO NTP request handling (prepare + finish + TX
//! record), without sockets: basic, interleaved-capable, and authenticated
//! (MD5, AES-128-CMAC) requests, plus a table with many distinct clients.
//! The `ntp_watch_feed` group measures the worker's request path with and
//! without the head-end watch hand-over (one `try_send` per reply, drained by
//! another thread each millisecond as the daemon's status task would):
//! compare the two in the same run.
//! `cargo bench --bench ntp_handle`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use gnss_timeserver::ntp::auth::{Key, KeyStore, KeyType};
use gnss_timeserver::ntp::clients::ClientTable;
use gnss_timeserver::ntp::counters::Counters;
use gnss_timeserver::ntp::handler::{Handler, HandlerConfig, Outcome};
use gnss_timeserver::ntp::watch::feed;
use gnss_timeserver::status::{LeapIndicator, ServerFields};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

const T0: i64 = 1_800_000_000_000_000_000;

fn handler() -> Handler {
    let mut keys = KeyStore::default();
    keys.insert(Key::new(1, KeyType::Md5, b"benchmark-key".to_vec()).unwrap());
    keys.insert(Key::new(3, KeyType::AesCmac, vec![0x42; 16]).unwrap());
    Handler::new(
        Arc::new(HandlerConfig::default()),
        Arc::new(keys),
        Arc::new(ClientTable::new(65_536, None, Some(1_000_000_000))),
        Arc::new(Counters::default()),
    )
}

fn fields() -> ServerFields {
    ServerFields {
        leap: LeapIndicator::NoWarning,
        stratum: 1,
        reference_time_ns: T0,
        as_of_ns: T0,
        ..ServerFields::default()
    }
}

fn request() -> Vec<u8> {
    let mut r = vec![0u8; 48];
    r[0] = 0x23;
    r[40..48].copy_from_slice(&0x1234_5678_9abc_def0u64.to_be_bytes());
    r
}

fn signed(key_id: u32, kind: KeyType, secret: &[u8]) -> Vec<u8> {
    let mut r = request();
    let k = Key::new(key_id, kind, secret.to_vec()).unwrap();
    let mut mac = [0u8; 20];
    let n = k.compute(&r, &mut mac);
    r.extend_from_slice(&key_id.to_be_bytes());
    r.extend_from_slice(&mac[..n]);
    r
}

fn bench(c: &mut Criterion) {
    let f = fields();
    let mut g = c.benchmark_group("ntp_handle");
    g.throughput(Throughput::Elements(1));
    let cases = [
        ("basic", request()),
        ("md5", signed(1, KeyType::Md5, b"benchmark-key")),
        ("aes_cmac", signed(3, KeyType::AesCmac, &[0x42; 16])),
    ];
    for (name, req) in cases {
        let h = handler();
        let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let mut out = [0u8; 128];
        let mut t = T0;
        g.bench_function(name, |b| {
            b.iter(|| {
                t += 1_000_000;
                black_box(h.respond(black_box(&req), src, t, t + 20_000, &f, &mut out))
            })
        });
    }
    // Many clients: each request hits a different table entry.
    let h = handler();
    let req = request();
    let mut out = [0u8; 128];
    let mut i: u32 = 0;
    g.bench_function("basic_100k_clients", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let src = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | (i % 100_000)));
            let t = T0 + i64::from(i) * 1000;
            black_box(h.respond(&req, src, t, t + 20_000, &f, &mut out))
        })
    });
    g.finish();
}

/// prepare + finish + TX record, as a worker does per request; `feed`
/// adds the watch hand-over.
fn serve_one(
    h: &Handler,
    req: &[u8],
    src: IpAddr,
    t: i64,
    f: &ServerFields,
    out: &mut [u8],
    feed: Option<&feed::WatchFeed>,
) -> Option<usize> {
    match h.prepare(req, src, t, f, out) {
        Outcome::Reply(r) => {
            if let Some(feed) = feed {
                feed.push(r.watch);
            }
            let wire = h.finish(out, &r, t + 20_000);
            h.record_tx(&r, t + 20_000, Some(wire));
            Some(r.len)
        }
        Outcome::Drop(_) => None,
    }
}

fn bench_watch_feed(c: &mut Criterion) {
    let f = fields();
    let req = request();
    let mut g = c.benchmark_group("ntp_watch_feed");
    g.throughput(Throughput::Elements(1));
    let (tx, inbox) = feed::channel(vec!["192.0.2.0/24".parse().unwrap()]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let drainer = std::thread::spawn(move || {
        let mut n = 0u64;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            inbox.drain(|_| n += 1);
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        (n, inbox.dropped())
    });
    for (name, feed) in [("without_feed", None), ("with_feed", Some(&tx))] {
        for (who, src) in [
            ("watched", IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
            ("stranger", IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1))),
        ] {
            let h = handler();
            let mut out = [0u8; 128];
            let mut t = T0;
            g.bench_function(format!("{name}/{who}"), |b| {
                b.iter(|| {
                    t += 1_000_000;
                    black_box(serve_one(&h, black_box(&req), src, t, &f, &mut out, feed))
                })
            });
        }
    }
    g.finish();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Ok((n, dropped)) = drainer.join() {
        eprintln!("watch feed: {n} observations drained, {dropped} dropped (channel full)");
    }
}

criterion_group!(benches, bench, bench_watch_feed);
criterion_main!(benches);
