use super::*;
use crate::status::LeapIndicator;

const NS: i64 = 1_900_000_000_000_000_000;

fn svc() -> ControlService {
    ControlService::new(vec!["127.0.0.0/8".parse().unwrap()], -20)
}

fn fields(synced: bool) -> ServerFields {
    ServerFields {
        leap: if synced {
            LeapIndicator::NoWarning
        } else {
            LeapIndicator::Unsynchronized
        },
        stratum: if synced { 1 } else { 16 },
        root_dispersion_ns: 1500,
        reference_time_ns: NS - 1_000_000_000,
        ..ServerFields::default()
    }
}

fn view() -> ControlView {
    ControlView {
        version: "gnss-timeserver 0.1.0".into(),
        offset_ns: Some(-12_345.0),
        jitter_ns: Some(50.0),
        frequency_ppm: Some(1.5),
        tai_utc: Some(37),
        leap_at_ns: None,
        last_sample_ns: Some(NS - 500_000_000),
        reach: 0o377,
        state: "locked".into(),
    }
}

fn request(op: u8, assoc: u16, data: &[u8]) -> Vec<u8> {
    let mut v = vec![(2 << 3) | 6, op, 0, 7, 0, 0];
    v.extend_from_slice(&assoc.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(data);
    v
}

fn ask(s: &ControlService, req: &[u8], synced: bool) -> Option<Vec<u8>> {
    let mut out = [0u8; MAX_REPLY];
    match s.answer(
        req,
        "127.0.0.1".parse().unwrap(),
        NS,
        &fields(synced),
        &view(),
        &mut out,
    ) {
        Outcome::Reply(n) => Some(out[..n].to_vec()),
        Outcome::Drop => None,
    }
}

fn data(reply: &[u8]) -> String {
    let n = u16::from_be_bytes([reply[10], reply[11]]) as usize;
    String::from_utf8(reply[12..12 + n].to_vec()).unwrap()
}

#[test]
fn readstat_lists_the_reference_as_system_peer() {
    let s = svc();
    let r = ask(&s, &request(opcode::READSTAT, 0, b""), true).unwrap();
    assert_eq!(r[0] & 7, 6);
    assert_eq!(r[1], 0x80 | opcode::READSTAT);
    assert_eq!(&r[2..4], &[0, 7], "sequence echoed");
    assert_eq!(r[0] >> 6, 0, "LI");
    assert_eq!(&r[10..12], &[0, 4]);
    assert_eq!(&r[12..14], &ASSOC_ID.to_be_bytes());
    assert_eq!((r[14]) & 7, 6, "selection: sys.peer");
    // Unsynchronized: LI 3 and no sync source.
    let r = ask(&s, &request(opcode::READSTAT, 0, b""), false).unwrap();
    assert_eq!(r[0] >> 6, 3);
    assert!(r[14] & 7 < 6);
}

#[test]
fn readvar_answers_only_what_was_asked() {
    let s = svc();
    let r = ask(
        &s,
        &request(opcode::READVAR, ASSOC_ID, b"stratum,offset,jitter"),
        true,
    )
    .unwrap();
    assert_eq!(data(&r), "stratum=0, offset=-0.012345, jitter=0.000050");
    assert_eq!(r.len() % 4, 0);
    let r = ask(&s, &request(opcode::READVAR, 0, b"stratum, leap"), true).unwrap();
    assert_eq!(data(&r), "stratum=1, leap=0");
    let r = ask(&s, &request(opcode::READVAR, 0, b"stratum"), false).unwrap();
    assert_eq!(data(&r), "stratum=16");
}

#[test]
fn readvar_without_names_gives_everything_in_one_datagram() {
    let s = svc();
    for assoc in [0, ASSOC_ID] {
        let r = ask(&s, &request(opcode::READVAR, assoc, b""), true).unwrap();
        let d = data(&r);
        assert!(r.len() <= MAX_REPLY);
        assert!(d.contains("offset=-0.012345"), "{d}");
        assert!(d.contains("refid=GPS"), "{d}");
        assert_eq!(r[1] & 0x20, 0, "no more fragments");
    }
    let d = data(&ask(&s, &request(opcode::READVAR, 0, b""), true).unwrap());
    assert!(d.contains("version=\"gnss-timeserver 0.1.0\""), "{d}");
    assert!(d.contains("reftime=0x"), "{d}");
    assert!(d.contains("tai=37"), "{d}");
    assert!(!d.contains("leapsec"), "unknown values are left out: {d}");
}

#[test]
fn errors_carry_the_proper_codes() {
    let s = svc();
    let code = |r: Vec<u8>| {
        assert_eq!(r[1] & 0x40, 0x40, "E bit");
        r[4]
    };
    for op in [
        opcode::WRITEVAR,
        opcode::CONFIGURE,
        opcode::SETTRAP,
        opcode::WRITECLOCK,
    ] {
        let r = ask(&s, &request(op, 0, b"leap=1"), true).unwrap();
        assert_eq!(code(r), error::PROHIBITED);
    }
    assert_eq!(s.counters().refused_writes, 4);
    assert_eq!(
        code(ask(&s, &request(10, 0, b""), true).unwrap()),
        error::BAD_OPCODE
    );
    assert_eq!(
        code(ask(&s, &request(opcode::READVAR, 9, b""), true).unwrap()),
        error::UNKNOWN_ASSOC
    );
    assert_eq!(
        code(ask(&s, &request(opcode::READVAR, 0, b"no_such_var"), true).unwrap()),
        error::UNKNOWN_VAR
    );
}

#[test]
fn denied_malformed_and_flooding_sources_get_nothing() {
    let s = svc();
    let mut out = [0u8; MAX_REPLY];
    let req = request(opcode::READVAR, 0, b"");
    let other: IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!(
        s.answer(&req, other, NS, &fields(true), &view(), &mut out),
        Outcome::Drop
    );
    assert_eq!(s.counters().denied, 1);
    // Truncated, wrong mode, responses, fragments, count past the end.
    assert_eq!(ask(&s, &req[..11], true), None);
    let mut r = req.clone();
    r[0] = (2 << 3) | 3;
    assert_eq!(ask(&s, &r, true), None);
    let mut r = req.clone();
    r[1] |= 0x80;
    assert_eq!(ask(&s, &r, true), None);
    let mut r = req.clone();
    r[9] = 4;
    assert_eq!(ask(&s, &r, true), None);
    let mut r = req.clone();
    r[11] = 200;
    assert_eq!(ask(&s, &r, true), None);
    assert_eq!(
        ask(&s, &request(0, 0, b""), true),
        None,
        "reserved opcode 0"
    );
    // A burst is answered, a flood is cut off.
    let s = svc();
    let answered = (0..100).filter(|_| ask(&s, &req, true).is_some()).count();
    assert_eq!(answered, BURST as usize);
    assert_eq!(s.counters().rate_limited, 100 - BURST as u64);
}

proptest::proptest! {
    #[test]
    fn any_bytes_are_answered_within_bounds_or_dropped(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let s = svc();
        if let Some(r) = ask(&s, &bytes, true) {
            proptest::prop_assert!(r.len() <= MAX_REPLY);
            proptest::prop_assert_eq!(r[0] & 7, 6);
        }
    }
}
