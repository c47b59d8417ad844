//! A fake AgentX master (a real Unix socket) feeding the subagent truncated
//! PDUs, wrong lengths, unknown types and huge OID lists: each one ends the
//! session (the subagent sends Close and hangs up), the subagent reconnects
//! with a fresh Open, and it never panics.

use gnss_timeserver::snmp::codec::{self, types, Header, Pdu, SearchRange, Value};
use gnss_timeserver::snmp::{run_subagent, AgentxAddr, Oid, SubagentInputs, SubagentParams};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

const T: Duration = Duration::from_secs(20);

/// The master's end of one connection, with what was read but not decoded.
struct Master {
    s: UnixStream,
    buf: Vec<u8>,
}

impl Master {
    async fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.s.write_all(b).await
    }
}

/// Read one whole PDU from the subagent.
async fn read_pdu(m: &mut Master) -> Option<codec::Packet> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Ok(Some((p, used))) = codec::decode(&m.buf) {
            m.buf.drain(..used);
            return Some(p);
        }
        let n = tokio::time::timeout(T, m.s.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        m.buf.extend_from_slice(&chunk[..n]);
    }
}

fn response_to(p: &codec::Packet, session_id: u32) -> Vec<u8> {
    codec::encode(
        &Header {
            session_id,
            transaction_id: p.header.transaction_id,
            packet_id: p.header.packet_id,
            ..Header::default()
        },
        &Pdu::Response {
            sys_uptime: 0,
            error: 0,
            index: 0,
            varbinds: vec![],
        },
    )
}

/// Accept the subagent, answer Open and both Registers: an open session.
async fn open_session(l: &UnixListener) -> Master {
    let (s, _) = tokio::time::timeout(T, l.accept())
        .await
        .expect("the subagent (re)connects")
        .expect("accept");
    let mut s = Master { s, buf: Vec::new() };
    let open = read_pdu(&mut s).await.expect("Open");
    assert_eq!(open.header.pdu_type, types::OPEN);
    s.write_all(&response_to(&open, 9)).await.unwrap();
    for _ in 0..2 {
        let reg = read_pdu(&mut s).await.expect("Register");
        assert_eq!(reg.header.pdu_type, types::REGISTER);
        s.write_all(&response_to(&reg, 9)).await.unwrap();
    }
    s
}

fn get_next(ranges: usize) -> Vec<u8> {
    codec::encode(
        &Header {
            session_id: 9,
            packet_id: 100,
            ..Header::default()
        },
        &Pdu::GetNext {
            context: None,
            ranges: vec![
                SearchRange {
                    start: Oid::parse("1.3.6.1.4.1.32473").unwrap(),
                    include: false,
                    end: Oid::default(),
                };
                ranges
            ],
        },
    )
}

/// After `bad`, the subagent closes with a Close PDU (or just hangs up).
async fn expect_reset(mut s: Master, bad: &[u8], what: &str) {
    s.write_all(bad).await.unwrap();
    loop {
        match read_pdu(&mut s).await {
            None => return,
            Some(p) if p.header.pdu_type == types::CLOSE => {
                // Then EOF.
                assert!(
                    read_pdu(&mut s).await.is_none(),
                    "{what}: still talking after Close"
                );
                return;
            }
            // Notifications (daemon started) may come first.
            Some(p) if p.header.pdu_type == types::NOTIFY => {
                s.write_all(&response_to(&p, 9)).await.unwrap();
            }
            Some(p) => panic!("{what}: unexpected {:?}", p.pdu),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_master_resets_sessions_without_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.sock");
    let l = UnixListener::bind(&path).unwrap();
    let (snap_tx, snap_rx) = gnss_timeserver::status::channel();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let events_tx = gnss_timeserver::events::EventSink::null().live();
    let agent = tokio::spawn(run_subagent(
        SubagentParams {
            addr: AgentxAddr::Unix(path.clone()),
            heartbeat_interval_s: 0,
        },
        SubagentInputs {
            snapshot: snap_rx,
            served: Default::default(),
            events: events_tx.subscribe(),
            requests: Default::default(),
            counters: Default::default(),
        },
        stop_rx,
    ));

    // A sane request first: answered from the snapshot.
    snap_tx.send_modify(|s| s.receiver.sats_visible = Some(17));
    let mut s = open_session(&l).await;
    s.write_all(&get_next(1)).await.unwrap();
    let answer = loop {
        let p = read_pdu(&mut s).await.expect("an answer");
        if p.header.packet_id == 100 {
            break p;
        }
        if p.header.pdu_type == types::NOTIFY {
            s.write_all(&response_to(&p, 9)).await.unwrap();
        }
    };
    let Pdu::Response { varbinds, .. } = answer.pdu else {
        panic!("not a response")
    };
    assert_eq!(varbinds.len(), 1);
    assert_ne!(varbinds[0].value, Value::EndOfMibView);

    let mut bad: Vec<(&str, Vec<u8>)> = Vec::new();
    // Unknown PDU type.
    let mut b = get_next(1);
    b[1] = 99;
    bad.push(("unknown type", b));
    // Payload length that does not match the PDU (declared shorter).
    let mut b = get_next(1);
    let short = (b.len() - 20 - 8) as u32;
    b[16..20].copy_from_slice(&short.to_be_bytes());
    b.truncate(20 + short as usize);
    bad.push(("short payload length", b));
    // Payload length not a multiple of 4.
    let mut b = get_next(1);
    b[16..20].copy_from_slice(&13u32.to_be_bytes());
    bad.push(("odd payload length", b));
    // A huge OID list.
    bad.push(("huge OID list", get_next(5000)));
    // An OID claiming more sub-identifiers than SNMP allows.
    let mut b = vec![1, types::GET, 0x10, 0];
    b.extend_from_slice(&[0; 12]);
    b.extend_from_slice(&(4u32 + 800).to_be_bytes());
    b.extend_from_slice(&[200, 0, 0, 0]);
    b.extend_from_slice(&[0; 800]);
    bad.push(("oversized OID", b));
    // Wrong version.
    let mut b = get_next(1);
    b[0] = 3;
    bad.push(("wrong version", b));

    for (what, bytes) in bad {
        expect_reset(s, &bytes, what).await;
        s = open_session(&l).await;
        assert!(!agent.is_finished(), "{what}: the subagent task ended");
    }
    // Truncated: half a PDU, then the master goes away mid-PDU.
    let b = get_next(1);
    s.write_all(&b[..b.len() / 2]).await.unwrap();
    drop(s);
    let _s = open_session(&l).await;

    stop_tx.send(true).unwrap();
    let r = tokio::time::timeout(T, agent)
        .await
        .expect("stops")
        .expect("no panic");
    assert!(r.is_ok(), "{r:?}");
}
