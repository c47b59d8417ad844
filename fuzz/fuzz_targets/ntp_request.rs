//! Fuzz the sans-IO NTP request handler: arbitrary bytes from arbitrary
//! sources must never panic, and a reply is never longer than the request.
//! Run: `cd fuzz && cargo +nightly fuzz run ntp_request`.
#![no_main]

use gnss_timeserver::ntp::auth::{Key, KeyStore, KeyType};
use gnss_timeserver::ntp::clients::{ClientTable, RateLimit};
use gnss_timeserver::ntp::counters::Counters;
use gnss_timeserver::ntp::handler::{Handler, HandlerConfig};
use gnss_timeserver::status::{LeapIndicator, ServerFields};
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, OnceLock};

fn handler() -> &'static Handler {
    static H: OnceLock<Handler> = OnceLock::new();
    H.get_or_init(|| {
        let mut keys = KeyStore::default();
        // Keys exist so MAC verification paths run (fuzzed MACs fail, as they should).
        for (id, kind, secret) in [
            (1, KeyType::Md5, b"0123456789".to_vec()),
            (2, KeyType::Sha1, b"abcdefghij".to_vec()),
            (3, KeyType::AesCmac, vec![7u8; 16]),
        ] {
            if let Ok(k) = Key::new(id, kind, secret) {
                keys.insert(k);
            }
        }
        Handler::new(
            Arc::new(HandlerConfig::default()),
            Arc::new(keys),
            Arc::new(ClientTable::new(
                1024,
                Some(RateLimit {
                    interval_ns: 1_000_000,
                    burst: 8,
                }),
                Some(1_000_000),
            )),
            Arc::new(Counters::default()),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    // First bytes choose the source address and times; the rest is the packet.
    let (meta, pkt) = data.split_at(data.len().min(9));
    let mut m = [0u8; 9];
    m[..meta.len()].copy_from_slice(meta);
    let src = if m[0] & 1 == 0 {
        IpAddr::V4(Ipv4Addr::new(10, 0, m[1], m[2]))
    } else {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, u16::from(m[1]), u16::from(m[2])))
    };
    let rx = 1_800_000_000_000_000_000i64
        + i64::from(u32::from_le_bytes([m[3], m[4], m[5], m[6]])) * 1000;
    let tx = rx + i64::from(u16::from_le_bytes([m[7], m[8]]));
    let fields = ServerFields {
        leap: if m[0] & 2 == 0 {
            LeapIndicator::NoWarning
        } else {
            LeapIndicator::Unsynchronized
        },
        stratum: 1,
        // Fresh or stale fields, by the transmit-time byte.
        as_of_ns: rx - i64::from(m[8]) * 100_000_000,
        ..ServerFields::default()
    };
    let mut out = [0u8; 128];
    if let Some(n) = handler().respond(pkt, src, rx, tx, &fields, &mut out) {
        assert!(n <= pkt.len(), "amplification: {n} > {}", pkt.len());
        assert!(n >= 48);
    }
});
