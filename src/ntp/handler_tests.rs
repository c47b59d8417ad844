//! Unit tests of the sans-IO request handler.

use super::access::AccessList;
use super::auth::{Key, KeyStore, KeyType};
use super::clients::{ClientTable, RateLimit};
use super::counters::{Counters, NtpCounters};
use super::handler::*;
use super::packet::Header;
use super::timestamp::{short_from_nanos_ceil, NtpTimestamp};
use crate::server_fields::{LeapIndicator, ServerFields};
use crate::time::NS_PER_SEC;
use md5::Md5;
use proptest::prelude::*;
use sha1::{Digest, Sha1};
use std::net::IpAddr;
use std::sync::Arc;

const RX: i64 = 1_795_000_000 * NS_PER_SEC + 123_456_789;
const TX: i64 = RX + 25_000;

fn synced() -> ServerFields {
    ServerFields {
        leap: LeapIndicator::NoWarning,
        stratum: 1,
        refid: *b"GPS\0",
        precision: -20,
        root_delay_ns: 0,
        root_dispersion_ns: 1_000, // 1 us -> must round up to 1 unit (15.26 us)
        reference_time_ns: RX - 500_000_000,
        as_of_ns: RX - 200_000_000,
    }
}

fn keys() -> KeyStore {
    let mut ks = KeyStore::default();
    ks.insert(Key::new(1, KeyType::Md5, b"md5secret".to_vec()).unwrap());
    ks.insert(Key::new(2, KeyType::Sha1, b"sha1secret".to_vec()).unwrap());
    ks.insert(
        Key::new(
            3,
            KeyType::AesCmac,
            hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap(),
        )
        .unwrap(),
    );
    ks
}

fn handler_with(cfg: HandlerConfig, rate: Option<RateLimit>) -> Handler {
    Handler::new(
        Arc::new(cfg),
        Arc::new(keys()),
        Arc::new(ClientTable::new(256, rate, None)),
        Arc::new(Counters::default()),
    )
}

fn handler() -> Handler {
    handler_with(HandlerConfig::default(), None)
}

fn request(version: u8, mode: u8, transmit: u64) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0] = version << 3 | mode;
    b[2] = 6; // poll
    b[40..48].copy_from_slice(&transmit.to_be_bytes());
    b
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn counters(h: &Handler) -> NtpCounters {
    let mut c = NtpCounters::default();
    c.add(h.counters());
    c
}

fn answer(h: &Handler, req: &[u8], fields: &ServerFields) -> Option<Vec<u8>> {
    let mut out = [0u8; 128];
    h.respond(req, ip("192.0.2.1"), RX, TX, fields, &mut out)
        .map(|n| out[..n].to_vec())
}

#[test]
fn client_request_gets_server_reply() {
    let h = handler();
    let req = request(4, 3, 0x0102_0304_0506_0708);
    let reply = answer(&h, &req, &synced()).expect("reply");
    assert_eq!(reply.len(), 48);
    let r = Header::parse(&reply).unwrap();
    assert_eq!((r.leap, r.version, r.mode, r.stratum), (0, 4, 4, 1));
    assert_eq!(r.refid, *b"GPS\0");
    assert_eq!(r.origin, NtpTimestamp(0x0102_0304_0506_0708));
    assert_eq!(r.receive, NtpTimestamp::from_unix_nanos(RX));
    assert_eq!(r.transmit, NtpTimestamp::from_unix_nanos(TX));
    assert_eq!(r.reference, NtpTimestamp::from_unix_nanos(RX - 500_000_000));
    assert_eq!(r.root_delay, 0);
    assert_eq!(r.root_dispersion, 1, "rounded up, never under-reported");
    assert_eq!(r.poll, 6);
    assert_eq!(r.precision, -20);
    let c = counters(&h);
    assert_eq!(
        (c.requests, c.responses, c.by_mode[3], c.by_version[4]),
        (1, 1, 1, 1)
    );
}

#[test]
fn versions_one_to_four_are_echoed() {
    let h = handler();
    for v in 1..=4u8 {
        let reply = answer(&h, &request(v, 3, 77), &synced()).expect("reply");
        assert_eq!(Header::parse(&reply).unwrap().version, v);
    }
}

#[test]
fn symmetric_active_gets_symmetric_passive() {
    let h = handler();
    let reply = answer(&h, &request(3, 1, 0xAABB), &synced()).expect("reply");
    let r = Header::parse(&reply).unwrap();
    assert_eq!(r.mode, 2);
    assert_eq!(r.version, 3);
    assert_eq!(r.origin, NtpTimestamp(0xAABB));
}

#[test]
fn unsynchronized_reply_says_so() {
    let h = handler();
    let fields = ServerFields::default(); // unsynchronized, never was
    let r = Header::parse(&answer(&h, &request(4, 3, 1), &fields).unwrap()).unwrap();
    assert_eq!((r.leap, r.stratum), (3, 16));
    assert_eq!(r.refid, *b"INIT", "a kiss code, not the source's name");
    // Synchronized once, lost it since.
    let lost = ServerFields {
        reference_time_ns: RX - 3_600 * NS_PER_SEC,
        ..ServerFields::default()
    };
    let r = Header::parse(&answer(&h, &request(4, 3, 2), &lost).unwrap()).unwrap();
    assert_eq!((r.leap, r.stratum, r.refid), (3, 16, *b"STEP"));
    // The source's refid only ever names a synchronized source.
    let named = ServerFields {
        refid: *b"PPS\0",
        ..fields
    };
    let r = Header::parse(&answer(&h, &request(4, 3, 3), &named).unwrap()).unwrap();
    assert_eq!(r.refid, *b"INIT");
}

#[test]
fn ntpv1_mode_0_request_is_answered_in_mode_4() {
    let h = handler();
    let reply = answer(&h, &request(1, 0, 0xABCD), &synced()).expect("reply");
    let r = Header::parse(&reply).unwrap();
    assert_eq!((r.version, r.mode, r.stratum), (1, 4, 1));
    assert_eq!(r.origin, NtpTimestamp(0xABCD));
    // Mode 0 of later versions stays unanswered.
    for v in 2..=4 {
        assert!(answer(&h, &request(v, 0, 1), &synced()).is_none(), "v{v}");
    }
}

#[test]
fn leap_announcement_and_refid_from_fields() {
    let h = handler();
    let mut f = synced();
    f.leap = LeapIndicator::InsertSecond;
    f.refid = *b"PPS\0";
    let r = Header::parse(&answer(&h, &request(4, 3, 1), &f).unwrap()).unwrap();
    assert_eq!(r.leap, 1);
    assert_eq!(r.refid, *b"PPS\0");
}

/// Fields the discipline loop stopped refreshing: unsynchronized, whatever
/// they say; fresh fields age their dispersion by PHI from `as_of_ns`.
#[test]
fn stale_fields_answer_unsynchronized_and_dispersion_ages() {
    let h = handler_with(
        HandlerConfig {
            stale_after_ns: 5 * NS_PER_SEC,
            ..HandlerConfig::default()
        },
        None,
    );
    let mut f = synced();
    f.root_dispersion_ns = 1_000_000;
    f.as_of_ns = RX - 4 * NS_PER_SEC;
    let fresh = Header::parse(&answer(&h, &request(4, 3, 1), &f).unwrap()).unwrap();
    assert_eq!((fresh.leap, fresh.stratum), (0, 1));
    // 1 ms + 4 s x 15 ppm = 1.06 ms, in 2^-16 s units rounded up.
    assert_eq!(fresh.root_dispersion, short_from_nanos_ceil(1_060_000));
    let younger = {
        let mut g = f.clone();
        g.as_of_ns = RX - NS_PER_SEC;
        Header::parse(&answer(&h, &request(4, 3, 1), &g).unwrap()).unwrap()
    };
    assert!(younger.root_dispersion < fresh.root_dispersion);
    f.as_of_ns = RX - 6 * NS_PER_SEC;
    let stale = Header::parse(&answer(&h, &request(4, 3, 1), &f).unwrap()).unwrap();
    assert_eq!((stale.leap, stale.stratum), (3, 16));
}

#[test]
fn poll_is_clamped() {
    let h = handler();
    let mut req = request(4, 3, 1);
    req[2] = (-6i8) as u8;
    let r = Header::parse(&answer(&h, &req, &synced()).unwrap()).unwrap();
    assert_eq!(r.poll, 4);
    req[2] = 17;
    let r = Header::parse(&answer(&h, &req, &synced()).unwrap()).unwrap();
    assert_eq!(r.poll, 10, "at most 1024 s");
    req[2] = 30;
    let r = Header::parse(&answer(&h, &req, &synced()).unwrap()).unwrap();
    assert_eq!(r.poll, 10);
}

#[test]
fn bad_input_is_ignored() {
    let h = handler();
    let f = synced();
    assert!(answer(&h, &[0x23; 47], &f).is_none(), "truncated");
    assert!(answer(&h, &[], &f).is_none(), "empty");
    for v in [0u8, 5, 6, 7] {
        assert!(answer(&h, &request(v, 3, 1), &f).is_none(), "version {v}");
    }
    for m in [0u8, 2, 4, 5, 6, 7] {
        assert!(answer(&h, &request(4, m, 1), &f).is_none(), "mode {m}");
    }
    // Garbage extension field.
    let mut e = request(4, 3, 1);
    e.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    e.extend_from_slice(&[0u8; 40]);
    assert!(answer(&h, &e, &f).is_none());
    // Odd trailer.
    let mut e = request(4, 3, 1);
    e.extend_from_slice(&[1, 2, 3]);
    assert!(answer(&h, &e, &f).is_none());
    // Crypto-NAK inside a request.
    let mut e = request(4, 3, 1);
    e.extend_from_slice(&[0, 0, 0, 0]);
    assert!(answer(&h, &e, &f).is_none());
    let c = counters(&h);
    assert_eq!(c.responses, 0);
    assert_eq!(c.drop_truncated, 2);
    assert_eq!(c.drop_version, 4);
    assert_eq!(c.drop_mode, 6);
    assert_eq!(c.drop_malformed, 3);
}

#[test]
fn unknown_extension_fields_are_ignored_and_not_echoed() {
    let h = handler();
    let mut e = request(4, 3, 9);
    e.extend_from_slice(&[0x12, 0x34, 0, 64]);
    e.extend_from_slice(&[0xAB; 60]);
    let reply = answer(&h, &e, &synced()).expect("reply");
    assert_eq!(reply.len(), 48);
    assert_eq!(counters(&h).extension_fields, 1);
}

fn sign_legacy(req: &mut Vec<u8>, key_id: u32, kind: KeyType, secret: &[u8]) {
    let data = req.clone();
    req.extend_from_slice(&key_id.to_be_bytes());
    match kind {
        KeyType::Md5 => {
            let mut m = Md5::new();
            m.update(secret);
            m.update(&data);
            req.extend_from_slice(&m.finalize());
        }
        KeyType::Sha1 => {
            let mut m = Sha1::new();
            m.update(secret);
            m.update(&data);
            req.extend_from_slice(&m.finalize());
        }
        KeyType::AesCmac => {
            use cmac::Mac;
            let mut m = <cmac::Cmac<aes::Aes128> as Mac>::new_from_slice(secret).unwrap();
            m.update(&data);
            req.extend_from_slice(&m.finalize().into_bytes());
        }
    }
}

fn check_signed_reply(reply: &[u8], key_id: u32, kind: KeyType, secret: &[u8]) {
    let mut expect = reply[..48].to_vec();
    sign_legacy(&mut expect, key_id, kind, secret);
    assert_eq!(reply, &expect[..], "reply MAC for {kind:?}");
}

#[test]
fn authenticated_round_trips() {
    let cmac_key = hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
    let cases: [(u32, KeyType, &[u8]); 3] = [
        (1, KeyType::Md5, b"md5secret"),
        (2, KeyType::Sha1, b"sha1secret"),
        (3, KeyType::AesCmac, &cmac_key),
    ];
    let h = handler();
    for (id, kind, secret) in cases {
        let mut req = request(4, 3, 0x55);
        sign_legacy(&mut req, id, kind, secret);
        let reply = answer(&h, &req, &synced()).expect("signed reply");
        assert_eq!(reply.len(), req.len());
        check_signed_reply(&reply, id, kind, secret);
    }
    assert_eq!(counters(&h).auth_ok, 3);
}

#[test]
fn bad_mac_unknown_key_and_require_auth() {
    let h = handler();
    let mut req = request(4, 3, 0x55);
    sign_legacy(&mut req, 1, KeyType::Md5, b"wrong");
    assert!(answer(&h, &req, &synced()).is_none(), "bad MAC dropped");
    // A key we do not have: crypto-NAK (the client learns it is unknown).
    let mut req = request(4, 3, 0x55);
    sign_legacy(&mut req, 99, KeyType::Sha1, b"whatever");
    let nak = answer(&h, &req, &synced()).expect("crypto-NAK for an unknown key");
    assert_eq!(nak.len(), 52);
    assert_eq!(&nak[48..], &[0, 0, 0, 0]);
    assert_eq!(Header::parse(&nak).unwrap().origin, NtpTimestamp(0x55));
    // Wrong digest length for the key type.
    let mut req = request(4, 3, 0x55);
    sign_legacy(&mut req, 2, KeyType::Md5, b"sha1secret");
    assert!(answer(&h, &req, &synced()).is_none());
    let c = counters(&h);
    assert_eq!((c.auth_fail, c.crypto_nak), (3, 1));

    // Crypto-NAK when configured.
    let h = handler_with(
        HandlerConfig {
            auth_failure: AuthFailureAction::CryptoNak,
            ..HandlerConfig::default()
        },
        None,
    );
    let mut req = request(4, 3, 0x55);
    sign_legacy(&mut req, 1, KeyType::Md5, b"wrong");
    let reply = answer(&h, &req, &synced()).expect("crypto-NAK");
    assert_eq!(reply.len(), 52);
    assert_eq!(&reply[48..], &[0, 0, 0, 0]);

    // MS-SNTP request (unknown key, zero digest): answered unsigned.
    let h = handler();
    let mut req = request(3, 3, 0x55);
    req.extend_from_slice(&0x0000_0457u32.to_be_bytes());
    req.extend_from_slice(&[0u8; 16]);
    assert_eq!(answer(&h, &req, &synced()).expect("unsigned").len(), 48);

    // require_auth: unauthenticated requests are dropped, signed ones served.
    let h = handler_with(
        HandlerConfig {
            require_auth: true,
            ..HandlerConfig::default()
        },
        None,
    );
    assert!(answer(&h, &request(4, 3, 1), &synced()).is_none());
    let mut req = request(4, 3, 0x55);
    sign_legacy(&mut req, 1, KeyType::Md5, b"md5secret");
    assert!(answer(&h, &req, &synced()).is_some());
}

#[test]
fn denied_clients_get_kod_deny_or_nothing() {
    let access = AccessList {
        allow: vec![],
        deny: vec!["192.0.2.0/24".parse().unwrap()],
    };
    let h = handler_with(
        HandlerConfig {
            access: access.clone(),
            ..HandlerConfig::default()
        },
        None,
    );
    let r = Header::parse(&answer(&h, &request(4, 3, 5), &synced()).unwrap()).unwrap();
    assert_eq!((r.leap, r.stratum, r.refid), (3, 0, *b"DENY"));
    assert_eq!(r.origin, NtpTimestamp(5));
    let h = handler_with(
        HandlerConfig {
            access,
            deny_action: DenyAction::Drop,
            ..HandlerConfig::default()
        },
        None,
    );
    assert!(answer(&h, &request(4, 3, 5), &synced()).is_none());
}

#[test]
fn flooding_client_gets_rate_kod_then_drops() {
    let h = handler_with(
        HandlerConfig {
            kod_rate_poll: 9,
            ..HandlerConfig::default()
        },
        Some(RateLimit {
            interval_ns: NS_PER_SEC,
            burst: 2,
        }),
    );
    let f = synced();
    let mut out = [0u8; 128];
    let mut kinds = vec![];
    for i in 0..5 {
        let n = h.respond(
            &request(4, 3, 1),
            ip("198.51.100.7"),
            RX + i,
            TX + i,
            &f,
            &mut out,
        );
        kinds.push(n.map(|_| Header::parse(&out).unwrap().refid));
    }
    assert_eq!(kinds[0], Some(*b"GPS\0"));
    assert_eq!(kinds[1], Some(*b"GPS\0"));
    assert_eq!(kinds[2], Some(*b"RATE"));
    assert!(
        Header::parse(&out).unwrap().poll >= 4,
        "KoD RATE advertises a back-off poll"
    );
    assert_eq!(kinds[3], None);
    assert_eq!(kinds[4], None);
    // Someone else is still served.
    assert!(h
        .respond(
            &request(4, 3, 1),
            ip("198.51.100.8"),
            RX + 9,
            TX + 9,
            &f,
            &mut out
        )
        .is_some());
    let c = counters(&h);
    assert_eq!((c.kod_rate, c.drop_rate), (1, 2));
}

#[test]
fn interleaved_exchange_like_chrony() {
    let h = handler();
    let f = synced();
    let src = ip("203.0.113.5");
    let mut out = [0u8; 128];
    // Request 1 (basic): the reply carries rx1; its TX time becomes known.
    let req1 = request(4, 3, 0x1111);
    let Outcome::Reply(r1) = h.prepare(&req1, src, RX, &f, &mut out) else {
        panic!("no reply")
    };
    h.finish(&mut out, &r1, TX);
    let rx1 = Header::parse(&out).unwrap().receive;
    let kernel_tx1 = TX + 3_000; // the kernel's TX timestamp, more accurate
    h.record_tx(&r1, kernel_tx1, None);
    // Request 2: origin = rx1, receive = client's RX of reply 1, transmit new.
    let mut req2 = request(4, 3, 0x2222);
    req2[24..32].copy_from_slice(&rx1.to_be_bytes());
    req2[32..40].copy_from_slice(&0x3333u64.to_be_bytes());
    let rx2 = RX + NS_PER_SEC;
    let Outcome::Reply(r2) = h.prepare(&req2, src, rx2, &f, &mut out) else {
        panic!("no reply")
    };
    assert_eq!(r2.kind, ReplyKind::Interleaved);
    h.finish(&mut out, &r2, rx2 + 20_000);
    let p = Header::parse(&out).unwrap();
    assert_eq!(
        p.origin,
        NtpTimestamp(0x3333),
        "origin = client's receive ts"
    );
    assert_eq!(p.receive, NtpTimestamp::from_unix_nanos(rx2));
    assert_eq!(p.transmit, NtpTimestamp::from_unix_nanos(kernel_tx1));
    assert_eq!(counters(&h).interleaved, 1);
}

#[test]
fn small_output_buffer_is_refused() {
    let h = handler();
    let mut out = [0u8; 50];
    assert!(h
        .respond(
            &request(4, 3, 1),
            ip("192.0.2.1"),
            RX,
            TX,
            &synced(),
            &mut out
        )
        .is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn random_bytes_never_panic_or_amplify(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let h = handler();
        let mut out = [0u8; 128];
        if let Some(n) = h.respond(&bytes, ip("192.0.2.1"), RX, TX, &synced(), &mut out) {
            prop_assert!(n <= bytes.len());
            prop_assert!(n >= 48);
        }
    }

    #[test]
    fn plausible_requests_never_panic_or_amplify(
        vm in 0u8..64,
        rest in proptest::collection::vec(any::<u8>(), 47..200),
        tail_kind in 0u8..4,
    ) {
        // Valid-looking first byte and lengths around the MAC/extension boundaries.
        let mut bytes = vec![vm];
        bytes.extend_from_slice(&rest);
        match tail_kind {
            0 => bytes.truncate(48),
            1 => bytes.truncate(68),
            2 => bytes.truncate(72),
            _ => {}
        }
        let h = handler();
        let mut out = [0u8; 128];
        if let Some(n) = h.respond(&bytes, ip("2001:db8::1"), RX, TX, &synced(), &mut out) {
            prop_assert!(n <= bytes.len());
            let r = Header::parse(&out).unwrap();
            prop_assert!(r.mode == 4 || r.mode == 2);
        }
    }
}

#[test]
fn kod_deny_is_rate_limited_too() {
    let h = handler_with(
        HandlerConfig {
            access: AccessList {
                allow: vec!["10.0.0.0/8".parse().unwrap()],
                deny: vec![],
            },
            ..HandlerConfig::default()
        },
        Some(RateLimit {
            interval_ns: NS_PER_SEC,
            burst: 2,
        }),
    );
    let mut out = [0u8; 128];
    let answered: Vec<bool> = (0..6)
        .map(|i| {
            h.respond(
                &request(4, 3, 1),
                ip("192.0.2.200"),
                RX + i,
                TX + i,
                &synced(),
                &mut out,
            )
            .is_some()
        })
        .collect();
    // Two within the burst, one more at the limit, then silence.
    assert_eq!(answered, vec![true, true, true, false, false, false]);
    assert_eq!(&out[12..16], b"DENY");
    assert_eq!(counters(&h).kod_deny, 3);
}

#[test]
fn interleaved_mode_can_be_switched_off() {
    let h = handler_with(
        HandlerConfig {
            interleaved: false,
            ..HandlerConfig::default()
        },
        None,
    );
    let f = synced();
    let src = ip("203.0.113.6");
    let mut out = [0u8; 128];
    h.respond(&request(4, 3, 0x1111), src, RX, TX, &f, &mut out)
        .unwrap();
    let rx1 = Header::parse(&out).unwrap().receive;
    let mut req2 = request(4, 3, 0x2222);
    req2[24..32].copy_from_slice(&rx1.to_be_bytes());
    req2[32..40].copy_from_slice(&0x3333u64.to_be_bytes());
    h.respond(&req2, src, RX + NS_PER_SEC, TX + NS_PER_SEC, &f, &mut out)
        .unwrap();
    let p = Header::parse(&out).unwrap();
    assert_eq!(p.origin, NtpTimestamp(0x2222), "basic reply");
    assert_eq!(counters(&h).interleaved, 0);
}
