//! The fuzz targets' bodies, one function per target, so the same code runs
//! under libFuzzer (`fuzz_targets/<name>.rs`, nightly) and as ordinary stable
//! tests (`tests/fuzz_replay.rs` in the main crate includes this file and feeds
//! it every file under `fuzz/corpus/<name>/` and `fuzz/regressions/<name>/`).
//! Only `gnss_timeserver`, `tempfile` and std here: both crates have them.

use gnss_timeserver::discipline::leap::file;
use gnss_timeserver::events::{Event, EventKind};
use gnss_timeserver::gnss::framer::{Frame, Framer};
use gnss_timeserver::gnss::Receiver;
use gnss_timeserver::ntp::auth::{Key, KeyStore, KeyType};
use gnss_timeserver::ntp::clients::{ClientTable, RateLimit};
use gnss_timeserver::ntp::counters::Counters;
use gnss_timeserver::ntp::handler::{Handler, HandlerConfig};
use gnss_timeserver::ntp::mode6::{ControlService, ControlView, Outcome, MAX_REPLY};
use gnss_timeserver::snmp::codec::{decode, encode};
use gnss_timeserver::snmp::session::{Session, SessionConfig};
use gnss_timeserver::snmp::table::MibTable;
use gnss_timeserver::snmp::Oid;
use gnss_timeserver::status::{LeapIndicator, ServerFields};
use gnss_timeserver::store::history::{HistorySample, Series};
use gnss_timeserver::store::{Store, StoreState};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// A target's body: the bytes libFuzzer (or the replay) hands it.
pub type Entry = fn(&[u8]);

/// Every target by name (the replay test walks this list).
pub const TARGETS: &[(&str, Entry)] = &[
    ("framer", framer),
    ("ubx_decode", ubx_decode),
    ("nmea_decode", nmea_decode),
    ("receiver", receiver),
    ("leap_file", leap_file),
    ("ntp_request", ntp_request),
    ("agentx_decode", agentx_decode),
    ("mode6_request", mode6_request),
    ("store_open", store_open),
];

fn run(parts: &[&[u8]]) -> (Vec<Vec<u8>>, String) {
    let mut f = Framer::new();
    let mut out = Vec::new();
    let mut take = |f: &mut Framer| {
        while let Some(fr) = f.next_frame() {
            out.push(match fr {
                Frame::Ubx(u) => u.payload.to_vec(),
                Frame::Nmea(s) => s.as_bytes().to_vec(),
                Frame::Rtcm3(b) => b.to_vec(),
            });
        }
    };
    for p in parts {
        f.push(p);
        take(&mut f);
    }
    f.finish();
    take(&mut f);
    (out, format!("{:?}", f.stats()))
}

/// Framer: arbitrary bytes, split at a point taken from the input, must give
/// the same frames and stats as one push, and never panic.
pub fn framer(data: &[u8]) {
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    let (a, b) = data.split_at(cut);
    assert_eq!(run(&[data]), run(&[a, b]));
}

/// UBX decoder entry point: class, id, then payload. Must never panic.
pub fn ubx_decode(data: &[u8]) {
    if let [class, id, payload @ ..] = data {
        let _ = gnss_timeserver::gnss::ubx::decode(*class, *id, payload);
    }
}

/// NMEA decoder entry point on any text (the framer only passes validated
/// sentences, but the decoder must not rely on it). Must never panic.
pub fn nmea_decode(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = gnss_timeserver::gnss::nmea::decode(s);
    }
}

/// Framer → decoders → receiver model on arbitrary bytes. Must never panic.
pub fn receiver(data: &[u8]) {
    let mut framer = Framer::new();
    let mut rx = Receiver::new();
    framer.push(data);
    framer.finish();
    while let Some(frame) = framer.next_frame() {
        let _ = rx.handle_frame(&frame);
    }
    let _ = rx.flush();
    let _ = rx.status();
}

/// Fuzz the leap-seconds.list parser: arbitrary bytes must never panic, and
/// an accepted list must be internally consistent.
pub fn leap_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(list) = file::parse(text) {
        assert!(!list.entries.is_empty());
        for w in list.entries.windows(2) {
            assert!(w[0].start_utc_ns < w[1].start_utc_ns);
            assert_eq!((w[1].tai_utc - w[0].tai_utc).abs(), 1);
        }
        let first = list.entries[0];
        assert_eq!(list.tai_utc_at(first.start_utc_ns), Some(first.tai_utc));
        let _ = list.next_leap_after(first.start_utc_ns);
    }
}

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

/// Fuzz the sans-IO NTP request handler: arbitrary bytes from arbitrary
/// sources must never panic, and a reply is never longer than the request.
pub fn ntp_request(data: &[u8]) {
    // First bytes choose the source address and times; the rest is the packet.
    let (meta, pkt) = data.split_at(data.len().min(9));
    let mut m = [0u8; 9];
    m[..meta.len()].copy_from_slice(meta);
    let src = if m[0] & 1 == 0 {
        IpAddr::V4(Ipv4Addr::new(10, 0, m[1], m[2]))
    } else {
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            u16::from(m[1]),
            u16::from(m[2]),
        ))
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
}

/// Fuzz the AgentX side of the SNMP subagent: the PDU decoder on arbitrary
/// bytes (never a panic; what decodes re-encodes to something that decodes
/// to the same PDU), and the session core fed the same bytes as a master
/// would send them, in two arbitrary pieces.
pub fn agentx_decode(data: &[u8]) {
    if let Ok(Some((p, used))) = decode(data) {
        assert!(used <= data.len());
        let again = encode(&p.header, &p.pdu);
        match decode(&again) {
            Ok(Some((q, n))) => {
                assert_eq!(n, again.len());
                assert_eq!(q.pdu, p.pdu);
            }
            other => panic!("re-encoded PDU does not decode: {other:?}"),
        }
    }
    let mut s = Session::new(
        SessionConfig {
            id: Oid::new(&[1, 3, 6, 1, 4, 1, 32473]),
            descr: "fuzz".into(),
            timeout_s: 0,
            priority: 127,
            subtrees: vec![Oid::new(&[1, 3, 6, 1, 2, 1, 197])],
            response_timeout_ns: 5_000_000_000,
            ping_interval_ns: 15_000_000_000,
        },
        0,
    );
    let _ = s.take_output();
    let table = MibTable::new(vec![(
        Oid::new(&[1, 3, 6, 1, 2, 1, 197, 1, 2, 2, 0]),
        gnss_timeserver::snmp::codec::Value::Gauge32(1),
    )]);
    let cut = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    if s.on_bytes(&data[..cut], 1, &table).is_ok() {
        let _ = s.on_bytes(&data[cut..], 2, &table);
    }
    let _ = s.take_output();
}

fn service() -> &'static ControlService {
    static S: OnceLock<ControlService> = OnceLock::new();
    S.get_or_init(|| {
        let allow = "127.0.0.0/8".parse().map(|c| vec![c]).unwrap_or_default();
        ControlService::new(allow, -20)
    })
}

/// Fuzz NTP control messages (mode 6): arbitrary bytes from allowed and
/// denied sources never panic, a reply is one datagram of at most
/// `MAX_REPLY` bytes, and denied sources never get one.
pub fn mode6_request(data: &[u8]) {
    let (meta, pkt) = data.split_at(data.len().min(2));
    let m0 = meta.first().copied().unwrap_or(0);
    let allowed = m0 & 1 == 0;
    let src = if allowed {
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, meta.get(1).copied().unwrap_or(1)))
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))
    };
    let fields = ServerFields {
        leap: if m0 & 2 == 0 {
            LeapIndicator::NoWarning
        } else {
            LeapIndicator::Unsynchronized
        },
        stratum: 1,
        ..ServerFields::default()
    };
    let view = ControlView {
        version: "fuzz".into(),
        offset_ns: Some(-12.5),
        jitter_ns: Some(50.0),
        frequency_ppm: Some(1.0),
        tai_utc: Some(37),
        leap_at_ns: (m0 & 4 != 0).then_some(1_800_000_000_000_000_000),
        last_sample_ns: Some(1_800_000_000_000_000_000),
        reach: m0,
        state: "locked".into(),
    };
    let mut out = [0u8; MAX_REPLY];
    match service().answer(
        pkt,
        src,
        1_800_000_000_000_000_000,
        &fields,
        &view,
        &mut out,
    ) {
        Outcome::Reply(n) => {
            assert!(allowed, "a denied source got a reply");
            assert!((12..=MAX_REPLY).contains(&n));
        }
        Outcome::Drop => {}
    }
}

struct Base {
    _dir: tempfile::TempDir,
    bytes: Vec<u8>,
    work: PathBuf,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("base.redb");
        {
            let mut s = Store::open(&path).expect("open base");
            for i in 0..200i64 {
                s.append(Event::new(
                    i,
                    EventKind::ServoRestart {
                        reason: format!("e{i}"),
                    },
                ))
                .expect("append");
            }
            for t in 0..600i64 {
                let mut h = HistorySample {
                    time_ns: 1_700_000_000_000_000_000 + t * 1_000_000_000,
                    ..Default::default()
                };
                h.set(Series::SatsUsed, Some(t as f64));
                s.record_history(&h);
            }
            s.save_state("k", &1u8).expect("state");
        }
        let bytes = std::fs::read(&path).expect("read base");
        let work = dir.path().join("work.redb");
        Base {
            _dir: dir,
            bytes,
            work,
        }
    })
}

/// Fuzz the store-open path with damaged files: a real store (events,
/// state, history) is cut short and overwritten as the input says, then
/// opened with `Store::open_or_recover`. It must never panic out (redb's
/// own panics on damaged files are caught at the open boundary), must
/// return a store, and that store takes a durable event or reports itself
/// degraded.
///
/// Input: [0..4) truncate length (LE u32, modulo the file size + 1; 0 keeps
/// the size), then records of (LE u32 offset, u8 len, len bytes) written over
/// the file.
pub fn store_open(data: &[u8]) {
    let b = base();
    let mut file = b.bytes.clone();
    if data.len() >= 4 {
        let cut = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
        let cut = cut % (file.len() + 1);
        if cut > 0 {
            file.truncate(cut);
        }
        let mut rest = &data[4..];
        while rest.len() >= 5 {
            let off = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let n = usize::from(rest[4]).min(rest.len() - 5);
            let bytes = &rest[5..5 + n];
            if !file.is_empty() {
                let off = off % file.len();
                let end = (off + n).min(file.len());
                file[off..end].copy_from_slice(&bytes[..end - off]);
            }
            rest = &rest[5 + n..];
        }
    }
    // Remove what an earlier run moved aside or left.
    if let Some(dir) = b.work.parent() {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with("work.redb") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    std::fs::write(&b.work, &file).expect("write");
    let (mut s, _recovery) = Store::open_or_recover(&b.work).expect("open_or_recover");
    let _ = s.recent_events(50, None);
    let _ = s.history(Series::SatsUsed, 0, i64::MAX / 4, 60_000_000_000);
    let res = s.append(Event::new(
        1,
        EventKind::ClockStep {
            delta_ns: 1,
            reason: "fuzz".into(),
        },
    ));
    // A write may still fail on a file redb accepted; then the store says so.
    if res.is_err() {
        assert_ne!(s.status().state, StoreState::Ok);
    }
}
