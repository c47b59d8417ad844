//! Micro-benchmark of sans-IO NTP request handling (prepare + finish + TX
//! record), without sockets: basic, interleaved-capable, and authenticated
//! (MD5, AES-128-CMAC) requests, plus a table with many distinct clients.
//! `cargo bench --bench ntp_handle`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use gnss_timeserver::ntp::auth::{Key, KeyStore, KeyType};
use gnss_timeserver::ntp::clients::ClientTable;
use gnss_timeserver::ntp::counters::Counters;
use gnss_timeserver::ntp::handler::{Handler, HandlerConfig};
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

criterion_group!(benches, bench);
criterion_main!(benches);
