//! Fuzz NTP control messages (mode 6): arbitrary bytes from allowed and
//! denied sources never panic, a reply is one datagram of at most
//! `MAX_REPLY` bytes, and denied sources never get one.
//! Run: `cd fuzz && cargo +nightly fuzz run mode6_request`.
#![no_main]

use gnss_timeserver::ntp::mode6::{ControlService, ControlView, Outcome, MAX_REPLY};
use gnss_timeserver::status::{LeapIndicator, ServerFields};
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

fn service() -> &'static ControlService {
    static S: OnceLock<ControlService> = OnceLock::new();
    S.get_or_init(|| {
        let allow = "127.0.0.0/8".parse().map(|c| vec![c]).unwrap_or_default();
        ControlService::new(allow, -20)
    })
}

fuzz_target!(|data: &[u8]| {
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
    match service().answer(pkt, src, 1_800_000_000_000_000_000, &fields, &view, &mut out) {
        Outcome::Reply(n) => {
            assert!(allowed, "a denied source got a reply");
            assert!(n <= MAX_REPLY && n >= 12);
        }
        Outcome::Drop => {}
    }
});
