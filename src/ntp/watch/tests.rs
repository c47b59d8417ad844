use super::*;
use crate::time::NS_PER_SEC as S;

const T0: i64 = 1_800_000_000 * S;

fn rule(name: &str, target: &str, interval_s: Option<i64>) -> WatchRule {
    WatchRule {
        name: name.into(),
        target: target.parse().expect("cidr"),
        interval_ns: interval_s.map(|s| s * S),
        tolerance_ns: 100_000_000,
    }
}

fn watch(rules: Vec<WatchRule>, learned_max: usize) -> Watch {
    Watch::new(
        WatchParams {
            rules,
            learned_max,
            learned_tolerance_ns: 100_000_000,
        },
        T0,
    )
}

/// A mode 3 request from `addr` at `t` whose clock is off by `offset_ns`.
fn req(addr: &str, t: i64, offset_ns: i64) -> WatchObservation {
    WatchObservation {
        addr: addr.parse().expect("ip"),
        port: 50123,
        rx_ns: t,
        mode: 3,
        version: 3,
        client_tx_ns: Some(t + offset_ns),
        root_dispersion_ns: 0,
        four: None,
        kod: false,
    }
}

fn row<'a>(rows: &'a [WatchRow], addr: &str) -> &'a WatchRow {
    rows.iter().find(|r| r.address == addr).expect("row")
}

#[test]
fn exe_then_warn_then_fail_at_one_and_a_half_intervals() {
    let mut w = watch(vec![rule("sgo-1", "10.0.0.5", Some(64))], 8);
    let mut t = T0;
    for _ in 0..5 {
        w.observe(&req("10.0.0.5", t, 5_000_000));
        assert!(w.tick(t).is_empty());
        t += 64 * S;
    }
    let r = w.rows();
    assert_eq!(row(&r, "10.0.0.5").state, WatchState::Exe);
    assert_eq!(row(&r, "10.0.0.5").offset_method, OffsetMethod::OneWay);
    assert_eq!(row(&r, "10.0.0.5").offset_ns, Some(5_000_000));
    // Stepped by 2 s: the first request after a jump is not trusted (it
    // looks like a random transmit field), the second confirms: WARN.
    w.observe(&req("10.0.0.5", t, 2 * S));
    assert!(w.tick(t).is_empty());
    assert_eq!(w.rows()[0].offset_method, OffsetMethod::Unknown);
    t += 64 * S;
    w.observe(&req("10.0.0.5", t, 2 * S));
    let ch = w.tick(t);
    assert_eq!(ch.len(), 1);
    assert_eq!((ch[0].from, ch[0].to), (WatchState::Exe, WatchState::Warn));
    assert_eq!(ch[0].reasons, vec![WatchReason::OffsetBeyondTolerance]);
    assert_eq!(ch[0].name.as_deref(), Some("sgo-1"));
    // Then silence: still WARN at 1.5 × 64 s, FAIL just after.
    let last = t;
    assert!(w.tick(last + 96 * S).is_empty());
    let ch = w.tick(last + 96 * S + 1);
    assert_eq!((ch[0].from, ch[0].to), (WatchState::Warn, WatchState::Fail));
    assert_eq!(ch[0].reasons, vec![WatchReason::NotSeen]);
    assert_eq!(ch[0].last_seen_ns, Some(last));
    assert_eq!(
        w.summary(),
        WatchSummary {
            exe: 0,
            warn: 0,
            fail: 1
        }
    );
    // Back on time with a good clock: EXE again.
    w.observe(&req("10.0.0.5", last + 120 * S, 0));
    w.observe(&req("10.0.0.5", last + 184 * S, 0));
    w.observe(&req("10.0.0.5", last + 248 * S, 0));
    w.observe(&req("10.0.0.5", last + 312 * S, 0));
    let ch = w.tick(last + 312 * S);
    assert_eq!(ch.last().map(|c| c.to), Some(WatchState::Exe), "{ch:?}");
}

#[test]
fn never_seen_fails_after_grace() {
    let mut w = watch(
        vec![
            rule("sgo-2", "10.0.0.6", Some(60)),
            rule("sgo-net", "10.1.0.0/24", None),
        ],
        8,
    );
    assert!(w.tick(T0 + 90 * S).is_empty());
    let ch = w.tick(T0 + 90 * S + 1);
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0].address, "10.0.0.6");
    assert_eq!(ch[0].reasons, vec![WatchReason::NeverSeen]);
    // The learn rule waits 1.5 × 1024 s.
    assert!(w.tick(T0 + 1536 * S).is_empty());
    let ch = w.tick(T0 + 1536 * S + 1);
    assert_eq!(ch[0].address, "10.1.0.0/24");
    let rows = w.rows();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r.expected && r.state == WatchState::Fail));
}

#[test]
fn learns_interval_ignoring_start_burst() {
    let mut w = watch(vec![rule("w32", "10.0.0.7", None)], 8);
    let mut t = T0;
    // w32tm /resync style burst, then 1024 s polls.
    for gap in [0, 2, 2, 2, 1024, 1024, 1024] {
        t += gap * S;
        w.observe(&req("10.0.0.7", t, 0));
    }
    w.tick(t);
    let r = w.rows();
    let r = row(&r, "10.0.0.7");
    assert_eq!(r.interval_s, Some(1024.0));
    assert_eq!(r.expected_interval_s, Some(1024.0));
    assert_eq!(r.state, WatchState::Exe, "{:?}", r.reasons);
    // FAIL at 1.5 × the learned interval.
    assert!(w.tick(t + 1536 * S).is_empty());
    assert_eq!(w.tick(t + 1536 * S + 1)[0].to, WatchState::Fail);
}

#[test]
fn irregular_polling_warns() {
    let mut w = watch(vec![rule("sgo", "10.0.0.8", Some(64))], 8);
    let mut t = T0;
    for gap in [0, 64, 64, 20, 64] {
        t += gap * S;
        w.observe(&req("10.0.0.8", t, 0));
    }
    let ch = w.tick(t);
    assert_eq!(ch[0].reasons, vec![WatchReason::IrregularPolling]);
}

#[test]
fn symmetric_active_from_port_123_and_old_version_warn() {
    let mut w = watch(vec![rule("w32", "10.0.0.9", Some(64))], 8);
    let mut o = req("10.0.0.9", T0, 0);
    o.mode = 1;
    o.port = 123;
    o.version = 2;
    w.observe(&o);
    let ch = w.tick(T0);
    assert_eq!(
        ch[0].reasons,
        vec![WatchReason::SymmetricActive, WatchReason::OldVersion]
    );
    assert_eq!(w.rows()[0].mode, Some(1));
}

#[test]
fn kod_rate_warns() {
    let mut w = watch(vec![rule("sgo", "10.0.0.10", Some(64))], 8);
    let mut o = req("10.0.0.10", T0, 0);
    o.kod = true;
    w.observe(&o);
    assert_eq!(w.tick(T0)[0].reasons, vec![WatchReason::RateLimited]);
}

#[test]
fn randomized_transmit_is_unknown_not_a_number() {
    let mut w = watch(vec![rule("chrony", "10.0.0.11", Some(64))], 8);
    let mut x: i64 = 0x1234_5678;
    for i in 0..6 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let t = T0 + i * 64 * S;
        let mut o = req("10.0.0.11", t, 0);
        o.client_tx_ns = Some(t + (x >> 8));
        w.observe(&o);
    }
    w.tick(T0 + 5 * 64 * S);
    let r = &w.rows()[0];
    assert_eq!(r.offset_method, OffsetMethod::Unknown);
    assert_eq!(r.offset_ns, None);
    assert_eq!(r.state, WatchState::Exe);
}

#[test]
fn four_timestamp_estimate_and_centred_one_way() {
    let mut w = watch(vec![rule("ntpd", "10.0.0.12", Some(64))], 8);
    // Client 30 ms ahead, 10 ms each way.
    let (t1, t2, t3, t4) = (T0, T0 - 20_000_000, T0 - 19_000_000, T0 + 21_000_000);
    let f = FourTimestamp::from_times(t1, t2, t3, t4).expect("plausible");
    assert_eq!(f.delay_ns, 20_000_000);
    assert_eq!(f.offset_ns, 30_000_000);
    let mut o = req("10.0.0.12", T0 + 64 * S, 30_000_000 - 10_000_000);
    o.four = Some(f);
    w.observe(&o);
    let r = &w.rows()[0];
    assert_eq!(r.offset_method, OffsetMethod::FourTimestamp);
    assert_eq!(
        (r.offset_ns, r.offset_uncertainty_ns),
        (Some(30_000_000), Some(10_000_000))
    );
    // Next request without the echo: one-way, centred with the known delay.
    w.observe(&req("10.0.0.12", T0 + 128 * S, 20_000_000));
    let r = &w.rows()[0];
    assert_eq!(r.offset_method, OffsetMethod::OneWay);
    assert_eq!(
        (r.offset_ns, r.offset_uncertainty_ns),
        (Some(30_000_000), Some(10_000_000))
    );
}

#[test]
fn flood_does_not_evict_watched_and_learned_stay_bounded() {
    let mut w = watch(
        vec![
            rule("sgo", "10.0.0.5", Some(64)),
            rule("net", "192.0.2.0/24", Some(64)),
        ],
        16,
    );
    w.observe(&req("10.0.0.5", T0, 0));
    let mut x: u32 = 7;
    for i in 0..100_000 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let a = std::net::Ipv4Addr::from(x).to_string();
        w.observe(&req(&a, T0 + i, 0));
    }
    // Sources inside the watched prefix: at most MAX_PER_RULE tracked.
    for i in 0..=255u32 {
        w.observe(&req(
            &format!("192.0.2.{i}"),
            T0 + 200_000 + i64::from(i),
            0,
        ));
    }
    let rows = w.rows();
    assert!(rows
        .iter()
        .any(|r| r.address == "10.0.0.5" && r.expected && r.requests == 1));
    let net = rows
        .iter()
        .filter(|r| r.rule.as_deref() == Some("192.0.2.0/24"))
        .count();
    assert_eq!(net, MAX_PER_RULE);
    assert_eq!(rows.iter().filter(|r| !r.expected).count(), 16);
    assert!(w.evicted() > 0);
    assert!(w
        .history("10.0.0.5".parse().expect("ip"))
        .is_some_and(|h| h.len() == 1));
}

#[test]
fn feed_keeps_watched_observations_when_general_channel_is_full() {
    let (feed, inbox) = feed::channel(vec!["10.0.0.5".parse().expect("cidr")]);
    for i in 0..20_000 {
        feed.push(req("198.51.100.1", T0 + i, 0));
    }
    feed.push(req("10.0.0.5", T0, 0));
    assert!(inbox.dropped() > 0);
    let mut seen_watched = false;
    inbox.drain(|o| seen_watched |= o.addr.to_string() == "10.0.0.5");
    assert!(seen_watched);
}

#[test]
fn snapshot_row_shape_is_the_contract() {
    let mut w = watch(vec![rule("sgo", "10.0.0.5", Some(64))], 8);
    w.observe(&req("10.0.0.5", T0, 0));
    w.tick(T0);
    let v = serde_json::to_value(&w.rows()[0]).expect("json");
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(|k| k.as_str())
        .collect();
    for k in [
        "name",
        "address",
        "rule",
        "expected",
        "state",
        "reasons",
        "since_ns",
        "last_seen_ns",
        "requests",
        "mode",
        "version",
        "interval_s",
        "expected_interval_s",
        "tolerance_ns",
        "offset_ns",
        "offset_uncertainty_ns",
        "offset_method",
    ] {
        assert!(keys.contains(&k), "missing {k}");
    }
    assert_eq!(v["state"], "EXE");
    assert_eq!(v["offset_method"], "unknown");
}
