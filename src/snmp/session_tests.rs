use super::*;
use crate::snmp::codec::{SearchRange, Value};

const S: i64 = 1_000_000_000;

fn oid(s: &str) -> Oid {
    Oid::parse(s).unwrap()
}

fn cfg() -> SessionConfig {
    SessionConfig {
        id: oid("1.3.6.1.4.1.32473"),
        descr: "test".into(),
        timeout_s: 0,
        priority: 127,
        subtrees: vec![oid("1.3.6.1.2.1.197"), oid("1.3.6.1.4.1.32473")],
        response_timeout_ns: 5 * S,
        ping_interval_ns: 30 * S,
    }
}

fn mib() -> MibTable {
    MibTable::new(vec![
        (oid("1.3.6.1.4.1.32473.1.1.0"), Value::Integer(1)),
        (oid("1.3.6.1.4.1.32473.1.2.0"), Value::text("locked")),
    ])
}

/// Every packet in `bytes`.
fn packets(mut bytes: &[u8]) -> Vec<Packet> {
    let mut v = Vec::new();
    while let Some((p, n)) = codec::decode(bytes).unwrap() {
        v.push(p);
        bytes = &bytes[n..];
    }
    assert!(bytes.is_empty());
    v
}

fn answer(to: &Packet, session_id: u32, error: u16) -> Vec<u8> {
    let h = Header {
        session_id,
        transaction_id: to.header.transaction_id,
        packet_id: to.header.packet_id,
        ..Header::default()
    };
    codec::encode(
        &h,
        &Pdu::Response {
            sys_uptime: 0,
            error,
            index: 0,
            varbinds: vec![],
        },
    )
}

/// A session taken through Open and both registrations.
fn open_session() -> Session {
    let mut s = Session::new(cfg(), 0);
    let open = packets(&s.take_output());
    assert!(matches!(open[0].pdu, Pdu::Open { .. }));
    s.on_bytes(&answer(&open[0], 42, 0), S, &mib()).unwrap();
    let regs = packets(&s.take_output());
    assert_eq!(regs.len(), 2);
    for r in &regs {
        assert_eq!(r.header.session_id, 42);
        s.on_bytes(&answer(r, 42, 0), S, &mib()).unwrap();
    }
    let ev = s.drain_events();
    assert_eq!(ev[0], SessionEvent::Opened { session_id: 42 });
    assert_eq!(ev[1], SessionEvent::Registered(oid("1.3.6.1.2.1.197")));
    s
}

fn request(pdu: Pdu, packet_id: u32) -> Vec<u8> {
    codec::encode(
        &Header {
            session_id: 42,
            transaction_id: 3,
            packet_id,
            ..Header::default()
        },
        &pdu,
    )
}

#[test]
fn opens_registers_and_answers_get_next_byte_by_byte() {
    let mut s = open_session();
    let req = request(
        Pdu::GetNext {
            context: None,
            ranges: vec![SearchRange {
                start: oid("1.3.6.1.4.1.32473"),
                include: false,
                end: oid("1.3.6.1.4.1.32474"),
            }],
        },
        77,
    );
    // Split delivery: the answer comes only when the PDU is whole.
    for b in &req[..req.len() - 1] {
        s.on_bytes(std::slice::from_ref(b), 2 * S, &mib()).unwrap();
        assert!(s.take_output().is_empty());
    }
    s.on_bytes(&req[req.len() - 1..], 2 * S, &mib()).unwrap();
    let out = packets(&s.take_output());
    assert_eq!(out[0].header.packet_id, 77);
    assert_eq!(out[0].header.transaction_id, 3);
    let Pdu::Response {
        varbinds,
        error,
        sys_uptime,
        ..
    } = &out[0].pdu
    else {
        panic!("not a response")
    };
    assert_eq!(*error, 0);
    assert_eq!(*sys_uptime, 200);
    assert_eq!(varbinds[0].value, Value::Integer(1));
}

#[test]
fn sets_are_refused_as_not_writable() {
    let mut s = open_session();
    let set = request(
        Pdu::TestSet {
            context: None,
            varbinds: vec![VarBind {
                name: oid("1.3.6.1.2.1.197.1.4.1.0"),
                value: Value::Gauge32(5),
            }],
        },
        5,
    );
    s.on_bytes(&set, S, &mib()).unwrap();
    let out = packets(&s.take_output());
    assert!(matches!(
        out[0].pdu,
        Pdu::Response {
            error: errors::NOT_WRITABLE,
            index: 1,
            ..
        }
    ));
    s.on_bytes(&request(Pdu::CleanupSet, 6), S, &mib()).unwrap();
    assert!(s.take_output().is_empty());
}

#[test]
fn notify_needs_an_open_session_and_reports_the_answer() {
    let mut s = Session::new(cfg(), 0);
    assert!(!s.notify(vec![], 0));
    assert_eq!(s.notifications_dropped, 1);
    let mut s = open_session();
    assert!(s.notify(vec![], S));
    let n = packets(&s.take_output());
    assert!(matches!(n[0].pdu, Pdu::Notify { .. }));
    s.on_bytes(&answer(&n[0], 42, 0), S, &mib()).unwrap();
    assert_eq!(s.drain_events(), vec![SessionEvent::NotifyAccepted]);
}

#[test]
fn pings_and_times_out_a_silent_master() {
    let mut s = open_session();
    s.on_tick(30 * S).unwrap();
    let p = packets(&s.take_output());
    assert!(matches!(p[0].pdu, Pdu::Ping { .. }));
    s.on_tick(34 * S).unwrap();
    assert_eq!(s.on_tick(36 * S), Err(SessionError::Timeout("Ping")));
    let mut s = Session::new(cfg(), 0);
    assert_eq!(s.on_tick(6 * S), Err(SessionError::Timeout("Open")));
}

#[test]
fn hostile_masters_end_the_session_with_a_typed_error() {
    let mut s = open_session();
    let mut bad = request(Pdu::Ping { context: None }, 9);
    bad[1] = 77;
    assert!(matches!(
        s.on_bytes(&bad, S, &mib()),
        Err(SessionError::Decode(DecodeError::UnknownType(77)))
    ));
    let mut s = open_session();
    let open = request(
        Pdu::Open {
            timeout: 0,
            id: oid("1.3"),
            descr: vec![],
        },
        9,
    );
    assert_eq!(
        s.on_bytes(&open, S, &mib()),
        Err(SessionError::Unexpected("Open"))
    );
    let mut s = Session::new(cfg(), 0);
    let get = request(
        Pdu::Get {
            context: None,
            ranges: vec![],
        },
        9,
    );
    assert!(s.on_bytes(&get, S, &mib()).is_err());
    let mut s = Session::new(cfg(), 0);
    let open = packets(&s.take_output());
    assert_eq!(
        s.on_bytes(&answer(&open[0], 0, errors::OPEN_FAILED), S, &mib()),
        Err(SessionError::OpenRefused(errors::OPEN_FAILED))
    );
}

#[test]
fn ready_once_every_registration_is_answered_even_refused() {
    let mut s = Session::new(cfg(), 0);
    assert!(!s.is_ready());
    let open = packets(&s.take_output());
    s.on_bytes(&answer(&open[0], 7, 0), S, &mib()).unwrap();
    // Open, but the registrations are still out: not ready yet.
    assert!(s.is_open() && !s.is_ready());
    let regs = packets(&s.take_output());
    s.on_bytes(&answer(&regs[0], 7, 0), S, &mib()).unwrap();
    assert!(!s.is_ready());
    // A refused registration is an answer too (another agent owns it).
    s.on_bytes(&answer(&regs[1], 7, 263), S, &mib()).unwrap();
    assert!(s.is_ready());
    assert!(open_session().is_ready());
}
