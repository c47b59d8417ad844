//! Fuzz the AgentX side of the SNMP subagent: the PDU decoder on arbitrary
//! bytes (never a panic; what decodes re-encodes to something that decodes
//! to the same PDU), and the session core fed the same bytes as a master
//! would send them, in two arbitrary pieces.
//! Run: `cd fuzz && cargo +nightly fuzz run agentx_decode`.
#![no_main]

use gnss_timeserver::snmp::codec::{decode, encode};
use gnss_timeserver::snmp::session::{Session, SessionConfig};
use gnss_timeserver::snmp::table::MibTable;
use gnss_timeserver::snmp::Oid;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
