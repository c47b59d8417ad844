//! Unit tests of the client table.

use super::*;

const T0: i64 = 1_800_000_000 * NS_PER_SEC;

fn facts(addr: &str, rx_ns: i64, transmit_ns: Option<i64>) -> RequestFacts {
    RequestFacts {
        addr: addr.parse().unwrap(),
        rx_ns,
        mode: 3,
        version: 4,
        origin: NtpTimestamp::ZERO,
        receive: NtpTimestamp::ZERO,
        transmit: transmit_ns
            .map(NtpTimestamp::from_unix_nanos)
            .unwrap_or(NtpTimestamp(0x1234_5678_9abc_def0)),
        reply_receive: NtpTimestamp::from_unix_nanos(rx_ns),
        rate_limited: true,
    }
}

#[test]
fn rate_limit_burst_then_kod_then_drop_then_recovers() {
    let t = ClientTable::new(
        64,
        Some(RateLimit {
            interval_ns: NS_PER_SEC,
            burst: 3,
        }),
        None,
    );
    let mut verdicts = vec![];
    for i in 0..6 {
        verdicts.push(t.observe(&facts("10.0.0.1", T0 + i, None)).rate);
    }
    use RateVerdict::*;
    assert_eq!(verdicts, vec![Serve, Serve, Serve, Kod, Drop, Drop]);
    // Another client is unaffected.
    assert_eq!(t.observe(&facts("10.0.0.2", T0 + 7, None)).rate, Serve);
    // After the interval the flooder gets one more answer.
    assert_eq!(
        t.observe(&facts("10.0.0.1", T0 + NS_PER_SEC + 10, None))
            .rate,
        Serve
    );
}

#[test]
fn entry_size_keeps_memory_bounded() {
    // 16384 clients (the default table) stay under 4 MiB.
    let size = std::mem::size_of::<Entry>();
    println!("client table entry: {size} bytes");
    assert!(size <= 256, "entry is {size} bytes");
    assert!(16_384 * size <= 4 << 20);
}

#[test]
fn table_is_bounded_and_evicts_oldest() {
    let t = ClientTable::new(64, None, None);
    for i in 0..1000u32 {
        let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0A00_0000 + i));
        let mut f = facts("10.0.0.1", T0 + i64::from(i), None);
        f.addr = ip;
        t.observe(&f);
    }
    assert_eq!(t.capacity(), 64);
    assert_eq!(t.len(), 64);
    assert_eq!(t.evictions(), 1000 - 64);
    // The most recent client survived.
    let last = IpAddr::from(std::net::Ipv4Addr::from(0x0A00_0000 + 999));
    assert!(t.top(64).iter().any(|c| c.addr == last.to_string()));
}

#[test]
fn interleaved_detection_follows_chrony_rules() {
    let t = ClientTable::new(64, None, None);
    let a = "192.0.2.1";
    // First request: basic.
    let mut f = facts(a, T0, Some(T0));
    let o1 = t.observe(&f);
    assert_eq!(o1.interleaved_tx_ns, None);
    let rx1 = f.reply_receive;
    t.record_tx(t.key(a.parse().unwrap()), rx1, T0 + 5_000, None);
    // Second request echoes our receive timestamp as origin: interleaved,
    // and the reply's transmit is the previous reply's TX time.
    f = facts(a, T0 + NS_PER_SEC, Some(T0 + NS_PER_SEC));
    f.origin = rx1;
    f.receive = NtpTimestamp::from_unix_nanos(T0 + 9_000);
    assert_eq!(t.observe(&f).interleaved_tx_ns, Some(T0 + 5_000));
    // Origin not matching the latest receive timestamp: basic.
    let mut g = facts(a, T0 + 2 * NS_PER_SEC, Some(T0 + 2 * NS_PER_SEC));
    g.origin = rx1;
    g.receive = NtpTimestamp(7);
    assert_eq!(t.observe(&g).interleaved_tx_ns, None);
    // receive == transmit means a basic-mode client.
    let rx3 = g.reply_receive;
    t.record_tx(
        t.key(a.parse().unwrap()),
        rx3,
        T0 + 2 * NS_PER_SEC + 1,
        None,
    );
    let mut h = facts(a, T0 + 3 * NS_PER_SEC, Some(T0 + 3 * NS_PER_SEC));
    h.origin = rx3;
    h.receive = h.transmit;
    assert_eq!(t.observe(&h).interleaved_tx_ns, None);
}

#[test]
fn monitor_estimates_real_clock_and_alarms_once() {
    let t = ClientTable::new(64, None, Some(50_000_000));
    let a = "192.0.2.9";
    let skew = 200_000_000; // client 200 ms ahead
    let mut raised = 0;
    for i in 0..5 {
        let rx = T0 + i * 16 * NS_PER_SEC;
        let o = t.observe(&facts(a, rx, Some(rx + skew)));
        if matches!(o.alarm, Some(AlarmChange::Raised { .. })) {
            raised += 1;
        }
    }
    assert_eq!(raised, 1);
    let info = &t.top(1)[0];
    assert_eq!(info.offset_ns, Some(skew));
    assert!(info.offset_alarm);
    assert_eq!(info.observed_poll, Some(4));
    // Back to normal clears the alarm once.
    let rx = T0 + 100 * NS_PER_SEC;
    let o = t.observe(&facts(a, rx, Some(rx + 1_000)));
    // One large jump resets the consistency streak; the next one clears.
    assert_eq!(o.alarm, None);
    let rx = T0 + 116 * NS_PER_SEC;
    let o = t.observe(&facts(a, rx, Some(rx + 1_000)));
    assert_eq!(o.alarm, Some(AlarmChange::Cleared { offset_ns: 1_000 }));
}

#[test]
fn randomized_transmit_timestamps_give_no_estimate() {
    let t = ClientTable::new(64, None, Some(1));
    let a = "192.0.2.10";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..10 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut f = facts(a, T0 + i * NS_PER_SEC, None);
        f.transmit = NtpTimestamp(x);
        assert_eq!(t.observe(&f).alarm, None);
    }
    assert_eq!(t.top(1)[0].offset_ns, None);
}

#[test]
fn four_timestamp_exchange_bounds_the_offset() {
    let t = ClientTable::new(64, None, None);
    let a = "192.0.2.11";
    let offset = 30_000_000i64; // client ahead by 30 ms
    let d = 2_000_000i64; // 2 ms each way
                          // Exchange 1: client sends at server time s1 (client clock s1+offset).
    let s1 = T0;
    let rx1 = s1 + d;
    let mut f = facts(a, rx1, Some(s1 + offset));
    f.mode = 1;
    t.observe(&f);
    let tx1 = rx1 + 100_000;
    let wire_tx1 = NtpTimestamp::from_unix_nanos(tx1);
    t.record_tx(
        t.key(a.parse().unwrap()),
        f.reply_receive,
        tx1,
        Some(wire_tx1),
    );
    // Client receives at server time tx1 + d, then sends again 8 s later.
    let t4 = tx1 + d + offset;
    let s2 = s1 + 8 * NS_PER_SEC;
    let mut g = facts(a, s2 + d, Some(s2 + offset));
    g.mode = 1;
    g.origin = wire_tx1;
    g.receive = NtpTimestamp::from_unix_nanos(t4);
    t.observe(&g);
    let info = &t.top(1)[0];
    let est = info.offset_ns.unwrap();
    let bound = info.offset_bound_ns.unwrap();
    assert!((bound - d).abs() <= 2, "bound {bound}");
    assert!((est - offset).abs() <= bound, "est {est} bound {bound}");
}

#[test]
fn sequential_addresses_spread_over_sets() {
    // 1024 clients in a 16384-entry table (2048 sets of 8; a full set by
    // chance has odds below 1e-5): a hash that
    // spreads addresses leaves no set full; a degenerate one evicts.
    let t = ClientTable::new(16_384, None, None);
    for i in 0..512u32 {
        let v4 = std::net::Ipv4Addr::from(0x0a00_0000 + i);
        let v6 = std::net::Ipv6Addr::from((0x2001_0db8_u128 << 96) | (u128::from(i) << 64));
        let mut f = facts("10.0.0.1", T0 + i64::from(i), None);
        f.addr = IpAddr::V4(v4);
        t.observe(&f);
        f.addr = IpAddr::V6(v6);
        t.observe(&f);
    }
    assert_eq!(t.evictions(), 0);
    assert_eq!(t.len(), 1024);
}

#[test]
fn observe_reports_a_client_asking_for_interleave() {
    let t = ClientTable::new(64, None, None);
    let first = facts("10.0.0.1", T0, None);
    assert!(!t.observe(&first).asks_interleaved);
    // Next request: origin = receive timestamp of our previous reply.
    let mut next = facts("10.0.0.1", T0 + NS_PER_SEC, None);
    next.origin = first.reply_receive;
    next.receive = NtpTimestamp(7);
    assert!(t.observe(&next).asks_interleaved);
}

#[test]
fn batched_tx_records_match_single_records() {
    // Many clients, several per shard, recorded in one batch: every client
    // gets its own TX time; a record for an older reply changes nothing.
    let t = ClientTable::new(1024, None, None);
    let addrs: Vec<IpAddr> = (0..40u32)
        .map(|i| IpAddr::from(std::net::Ipv4Addr::from(0xC000_0200 + i)))
        .collect();
    let mut records = vec![];
    for (i, a) in addrs.iter().enumerate() {
        let mut f = facts("0.0.0.0", T0 + i as i64, Some(T0));
        f.addr = *a;
        let o = t.observe(&f);
        let tx_ns = T0 + 1_000 + i as i64;
        // Half by the observation's key (way hint), half by a fresh key
        // (scan), and one stale record before the real one.
        let key = if i % 2 == 0 { o.key } else { t.key(*a) };
        if i == 7 {
            records.push(TxRecord {
                key,
                reply_receive: NtpTimestamp(1),
                tx_ns: 42,
                wire_transmit: None,
            });
        }
        records.push(TxRecord {
            key,
            reply_receive: f.reply_receive,
            tx_ns,
            wire_transmit: None,
        });
    }
    // Sorted by shard so consecutive records share locks, like a burst.
    records.sort_by_key(|r| t.locate(&r.key).0);
    t.record_tx_batch(&records);
    for (i, a) in addrs.iter().enumerate() {
        let mut f = facts("0.0.0.0", T0 + NS_PER_SEC + i as i64, Some(T0));
        f.addr = *a;
        f.origin = NtpTimestamp::from_unix_nanos(T0 + i as i64);
        f.receive = NtpTimestamp::from_unix_nanos(T0 + 5);
        assert_eq!(
            t.observe(&f).interleaved_tx_ns,
            Some(T0 + 1_000 + i as i64),
            "client {a}"
        );
    }
}

#[test]
fn top_walks_clients_and_ranks_like_a_full_sort() {
    let t = ClientTable::new(4096, None, None);
    // 300 clients with request counts that tie in groups of 3.
    for i in 0..300u32 {
        let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0A00_0000 + i * 7919 % 65_536));
        for k in 0..(i / 3) {
            let mut f = facts("10.0.0.1", T0 + i64::from(k) * NS_PER_SEC, None);
            f.addr = ip;
            t.observe(&f);
        }
    }
    let all = t.top(usize::MAX >> 1);
    assert_eq!(all.len(), t.len());
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| {
        let (ia, ib): (IpAddr, IpAddr) = (a.addr.parse().unwrap(), b.addr.parse().unwrap());
        b.requests.cmp(&a.requests).then(ia.cmp(&ib))
    });
    assert_eq!(all, sorted);
    let top = t.top(10);
    assert_eq!(top, sorted[..10].to_vec());
    assert!(t.top(0).is_empty());
}

#[test]
fn len_counts_clients_not_slots() {
    let t = ClientTable::new(16_384, None, None);
    assert_eq!(t.len(), 0);
    assert!(t.top(20).is_empty());
    t.observe(&facts("192.0.2.9", T0, None));
    t.observe(&facts("192.0.2.9", T0 + 1, None));
    assert_eq!(t.len(), 1);
    assert_eq!(t.top(20).len(), 1);
}

#[test]
fn flooder_timestamps_never_give_an_estimate_or_alarm() {
    let t = ClientTable::new(64, None, Some(1_000_000_000));
    let a = "192.0.2.12";
    // A fixed garbage transmit timestamp ~9 years off, 1000 requests a second.
    let garbage = NtpTimestamp::from_unix_nanos(T0 + 290_000_000 * NS_PER_SEC);
    for i in 0..5_000 {
        let mut f = facts(a, T0 + i * 1_000_000, None);
        f.transmit = garbage;
        assert_eq!(t.observe(&f).alarm, None, "request {i}");
    }
    assert_eq!(t.top(1)[0].offset_ns, None, "fixed garbage");
    // A cookie that lands within 100 ms of the last one (as random cookies
    // do, now and then, in a long flood): still no estimate.
    let b = "192.0.2.13";
    for i in 0..100 {
        let rx = T0 + i * 1_000;
        let mut f = facts(b, rx, None);
        f.transmit =
            NtpTimestamp::from_unix_nanos(rx + 290_000_000 * NS_PER_SEC + (i % 3) * 1_000_000);
        assert_eq!(t.observe(&f).alarm, None);
    }
    let info = t.top(2).into_iter().find(|c| c.addr == b).unwrap();
    assert_eq!(info.offset_ns, None, "clustered cookies");
}
