use super::*;

fn oid(s: &str) -> Oid {
    Oid::parse(s).unwrap()
}

fn header(packet_id: u32) -> Header {
    Header {
        session_id: 7,
        transaction_id: 9,
        packet_id,
        ..Header::default()
    }
}

fn samples() -> Vec<Pdu> {
    let range = SearchRange {
        start: oid("1.3.6.1.4.1.32473.1.1"),
        include: true,
        end: oid("1.3.6.1.4.1.32473.2"),
    };
    let vbs = vec![
        VarBind {
            name: oid("1.3.6.1.2.1.197.1.2.2.0"),
            value: Value::Gauge32(1),
        },
        VarBind {
            name: oid("2.5.9"),
            value: Value::Integer(-3),
        },
        VarBind {
            name: oid("1.3.6.1.6.3.1.1.4.1.0"),
            value: Value::ObjectId(oid("1.3.6.1.4.1.32473.0.1")),
        },
        VarBind {
            name: oid("1.3"),
            value: Value::OctetString(b"holdover".to_vec()),
        },
        VarBind {
            name: oid("1.3"),
            value: Value::Counter64(0x0102_0304_0506_0708),
        },
        VarBind {
            name: oid("1.3"),
            value: Value::IpAddress([127, 0, 0, 1]),
        },
        VarBind {
            name: oid("1.3"),
            value: Value::TimeTicks(42),
        },
        VarBind {
            name: oid("1.3"),
            value: Value::EndOfMibView,
        },
    ];
    vec![
        Pdu::Open {
            timeout: 5,
            id: oid("1.3.6.1.4.1.32473"),
            descr: b"gnss-timeserver".to_vec(),
        },
        Pdu::Close { reason: 5 },
        Pdu::Register {
            context: None,
            timeout: 0,
            priority: 127,
            subtree: oid("1.3.6.1.2.1.197"),
            range: None,
        },
        Pdu::Register {
            context: Some(b"ctx".to_vec()),
            timeout: 0,
            priority: 127,
            subtree: oid("1.3.6.1.2.1.197"),
            range: Some((8, 12)),
        },
        Pdu::Get {
            context: None,
            ranges: vec![range.clone()],
        },
        Pdu::GetNext {
            context: None,
            ranges: vec![range.clone(), range.clone()],
        },
        Pdu::GetBulk {
            context: None,
            non_repeaters: 1,
            max_repetitions: 10,
            ranges: vec![range],
        },
        Pdu::TestSet {
            context: None,
            varbinds: vbs.clone(),
        },
        Pdu::CommitSet,
        Pdu::CleanupSet,
        Pdu::Notify {
            context: None,
            varbinds: vbs.clone(),
        },
        Pdu::Ping { context: None },
        Pdu::Response {
            sys_uptime: 100,
            error: 0,
            index: 0,
            varbinds: vbs,
        },
    ]
}

#[test]
fn every_pdu_round_trips() {
    for (i, pdu) in samples().into_iter().enumerate() {
        let bytes = encode(&header(i as u32), &pdu);
        assert_eq!(bytes.len() % 4, 0);
        let (p, used) = decode(&bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(p.pdu, pdu, "pdu {i}");
        assert_eq!(p.header.packet_id, i as u32);
        assert_eq!(p.header.session_id, 7);
    }
}

#[test]
fn prefix_compression_is_used_and_understood() {
    let pdu = Pdu::Register {
        context: None,
        timeout: 0,
        priority: 127,
        subtree: oid("1.3.6.1.4.1.32473"),
        range: None,
    };
    let bytes = encode(&header(1), &pdu);
    // n_subid 2 (enterprises' 1 and 32473), prefix 4.
    assert_eq!(&bytes[24..28], &[2, 4, 0, 0]);
    assert_eq!(bytes.len(), 20 + 4 + 4 + 8);
}

#[test]
fn little_endian_peers_are_read() {
    // GetNext from a little-endian master: header + one range, built by hand.
    let mut b = vec![1, types::GET_NEXT, 0, 0];
    for v in [3u32, 4, 5, 16] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&[2, 2, 1, 0]);
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&197u32.to_le_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]);
    let (p, _) = decode(&b).unwrap().unwrap();
    assert_eq!(p.header.packet_id, 5);
    assert_eq!(
        p.pdu,
        Pdu::GetNext {
            context: None,
            ranges: vec![SearchRange {
                start: oid("1.3.6.1.2.1.197"),
                include: true,
                end: Oid::default()
            }]
        }
    );
}

#[test]
fn truncation_anywhere_waits_or_errors() {
    for pdu in samples() {
        let bytes = encode(&header(1), &pdu);
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
        // A payload length shorter than the PDU: an error, never a panic.
        if bytes.len() > HEADER_LEN {
            let mut short = bytes.clone();
            let n = (bytes.len() - HEADER_LEN - 4) as u32;
            short[16..20].copy_from_slice(&n.to_be_bytes());
            let r = decode(&short[..HEADER_LEN + n as usize]);
            assert!(
                matches!(r, Err(_) | Ok(Some(_))),
                "shortened payload: {r:?}"
            );
        }
    }
}

#[test]
fn hostile_headers_are_errors() {
    let mut b = encode(&header(1), &Pdu::Ping { context: None });
    b[0] = 2;
    assert_eq!(decode(&b), Err(DecodeError::Version(2)));
    b[0] = 1;
    b[1] = 99;
    assert_eq!(decode(&b), Err(DecodeError::UnknownType(99)));
    b[1] = types::PING;
    b[16..20].copy_from_slice(&(MAX_PAYLOAD + 4).to_be_bytes());
    assert!(matches!(decode(&b), Err(DecodeError::PayloadTooLarge(_))));
    b[16..20].copy_from_slice(&3u32.to_be_bytes());
    assert!(matches!(
        decode(&b),
        Err(DecodeError::LengthMismatch { .. })
    ));
    // A Ping with 4 stray payload bytes.
    b[16..20].copy_from_slice(&4u32.to_be_bytes());
    b.extend_from_slice(&[0; 4]);
    assert!(matches!(
        decode(&b),
        Err(DecodeError::LengthMismatch { .. })
    ));
}

#[test]
fn oversized_lists_and_oids_are_refused() {
    let ranges = vec![
        SearchRange {
            start: oid("1.3"),
            include: false,
            end: Oid::default()
        };
        MAX_LIST + 1
    ];
    let b = encode(
        &header(1),
        &Pdu::Get {
            context: None,
            ranges,
        },
    );
    assert_eq!(decode(&b), Err(DecodeError::TooMany));
    // An OID claiming 200 sub-identifiers.
    let mut b = vec![1, types::GET, flags::NETWORK_BYTE_ORDER, 0];
    b.extend_from_slice(&[0; 12]);
    b.extend_from_slice(&(4u32 + 800).to_be_bytes());
    b.extend_from_slice(&[200, 0, 0, 0]);
    b.extend_from_slice(&[0; 800]);
    assert_eq!(decode(&b), Err(DecodeError::OidTooLong(200)));
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn mutated_pdus_never_panic(i in 0usize..13, at in 0usize..400, v in proptest::num::u8::ANY) {
        let pdus = samples();
        let mut b = encode(&header(1), &pdus[i % pdus.len()]);
        let n = b.len();
        b[at % n] = v;
        let _ = decode(&b);
    }
}
