//! Store: batched vs durable commits, event order, queries, state, reopen.

use gnss_timeserver::events::{Event, EventKind, EventSink};
use gnss_timeserver::store::{run_store_task, EventQuery, Store, StoreHandle};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// A batched event of one of two kinds (`servo.restart` for "a"/"odd"/...,
/// `gnss.reconfigure` for "even"), or a durable `clock.step` ("durable");
/// the payload says `n={i}`.
fn ev(i: i64, kind: &str) -> Event {
    let reason = format!("n={i}");
    let k = match kind {
        "even" => EventKind::GnssReconfigure { reason },
        "durable" => EventKind::ClockStep {
            delta_ns: i,
            reason,
        },
        _ => EventKind::ServoRestart { reason },
    };
    Event::new(1_700_000_000_000_000_000 + i, k)
}

fn reason(e: &Event) -> String {
    e.data()["reason"].as_str().unwrap_or_default().to_string()
}

#[test]
fn batched_events_wait_durable_events_commit_everything_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let mut s = Store::open(&path).unwrap();
    let a = s.append(ev(1, "a")).unwrap();
    let b = s.append(ev(2, "b")).unwrap();
    assert!(b > a);
    let st = s.status();
    assert_eq!((st.pending, st.events_stored, st.commits), (2, 0, 0));

    let c = s.append(ev(3, "durable")).unwrap();
    let st = s.status();
    assert_eq!((st.pending, st.events_stored, st.commits), (0, 3, 1));

    let recent = s.recent_events(10, None).unwrap();
    let ids: Vec<u64> = recent.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![a, b, c]);
    assert!(recent.iter().all(|e| e.committed));
    assert!(recent[2].event.durable);
}

#[test]
fn recent_events_filters_by_kind_and_includes_queued() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("s.redb")).unwrap();
    for i in 0..20 {
        s.append(ev(i, if i % 2 == 0 { "even" } else { "odd" }))
            .unwrap();
        if i == 9 {
            s.commit().unwrap();
        }
    }
    // 10 committed, 10 queued.
    assert_eq!(s.status().pending, 10);
    let last3 = s.recent_events(3, None).unwrap();
    let details: Vec<String> = last3.iter().map(|e| reason(&e.event)).collect();
    assert_eq!(details, vec!["n=17", "n=18", "n=19"]);
    assert!(last3.iter().all(|e| !e.committed));

    let odd = s.recent_events(7, Some("servo.restart")).unwrap();
    let details: Vec<String> = odd.iter().map(|e| reason(&e.event)).collect();
    assert_eq!(
        details,
        vec!["n=7", "n=9", "n=11", "n=13", "n=15", "n=17", "n=19"]
    );
    // Spans the commit boundary: n=7 and n=9 come from disk.
    assert!(odd[0].committed && odd[1].committed && !odd[2].committed);
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Position {
    lat: f64,
    lon: f64,
    h: f64,
}

#[test]
fn state_and_events_survive_reopen_ids_keep_increasing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let pos = Position {
        lat: 52.1,
        lon: 4.3,
        h: 12.5,
    };
    let last_id;
    {
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.load_state::<Position>("survey-position").unwrap(), None);
        s.save_state("survey-position", &pos).unwrap();
        s.append(ev(1, "x")).unwrap();
        last_id = s.append(ev(2, "x")).unwrap();
        // Dropped without an explicit commit: a clean close keeps the batch.
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(
        s.load_state::<Position>("survey-position").unwrap(),
        Some(pos)
    );
    assert_eq!(s.status().events_stored, 2);
    let next = s.append(ev(3, "x")).unwrap();
    assert_eq!(next, last_id + 1);
    // Wrong type for a stored key is an error, not a panic.
    assert!(s.load_state::<u64>("survey-position").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_task_drains_sink_and_flushes_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let handle = StoreHandle::open(&path).unwrap();
    let (sink, rx) = EventSink::channel(1024);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // A long interval: only the durable event and shutdown cause commits.
    let task = tokio::spawn(run_store_task(
        handle.clone(),
        rx,
        Duration::from_secs(3600),
        stop_rx,
    ));
    for i in 0..5 {
        sink.emit(ev(i, "batched"));
    }
    sink.emit(ev(5, "durable"));
    sink.emit(ev(6, "batched"));
    // Wait (bounded) until the task has seen all seven.
    for _ in 0..500 {
        let st = handle.status();
        if st.events_stored + st.pending == 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let st = handle.status();
    assert_eq!(st.events_stored, 6, "{st:?}");
    assert_eq!(st.pending, 1, "{st:?}");
    stop_tx.send(true).unwrap();
    task.await.unwrap().unwrap();
    let st = handle.status();
    assert_eq!((st.events_stored, st.pending), (7, 0), "{st:?}");
    let all = handle.recent_events(100, None).await.unwrap();
    let details: Vec<String> = all.iter().map(|e| reason(&e.event)).collect();
    let want: Vec<String> = (0..7).map(|i| format!("n={i}")).collect();
    assert_eq!(details, want);
    assert_eq!(sink.dropped(), 0);
}

#[test]
fn corrupt_file_is_moved_aside_and_a_fresh_store_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    std::fs::write(&path, vec![0x5au8; 64 * 1024]).unwrap();
    let r = Store::open(&path);
    assert!(
        matches!(r, Err(gnss_timeserver::store::StoreError::Corrupt { .. })),
        "{r:?}"
    );
    let (mut s, aside) = Store::open_or_recover(&path).unwrap();
    let aside = aside.expect("corrupt file moved aside");
    assert!(aside.moved_to.exists());
    assert_eq!(
        std::fs::read(&aside.moved_to).unwrap(),
        vec![0x5au8; 64 * 1024]
    );
    assert_eq!(s.append(ev(1, "durable")).unwrap(), 1);
    // A healthy store is opened as it is.
    drop(s);
    let (s, aside) = Store::open_or_recover(&path).unwrap();
    assert!(aside.is_none());
    assert_eq!(s.status().events_stored, 1);
}

#[test]
fn retention_deletes_the_oldest_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let mut s = Store::open(&path).unwrap();
        s.set_max_events(5);
        for i in 0..8 {
            s.append(ev(i, "r")).unwrap();
        }
        s.commit().unwrap();
        assert_eq!(s.status().events_stored, 5);
        s.append(ev(8, "durable")).unwrap();
        let kept: Vec<String> = s
            .recent_events(100, None)
            .unwrap()
            .into_iter()
            .map(|e| reason(&e.event))
            .collect();
        assert_eq!(kept, vec!["n=4", "n=5", "n=6", "n=7", "n=8"]);
    }
    // The count on disk agrees after a reopen.
    let s = Store::open(&path).unwrap();
    assert_eq!(s.status().events_stored, 5);
}

#[test]
fn pages_newest_first_by_time_kind_severity_with_a_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("s.redb")).unwrap();
    for i in 0..30 {
        let kind = match i % 3 {
            0 => "even",
            1 => "odd",
            _ => "durable",
        };
        s.append(ev(i, kind)).unwrap();
        if i == 14 {
            s.commit().unwrap();
        }
    }
    let t0 = 1_700_000_000_000_000_000;
    // Two kinds, a time window, pages of 4 across the commit boundary.
    let mut q = EventQuery {
        kinds: vec!["gnss.reconfigure".into(), "clock.step".into()],
        from_ns: Some(t0 + 5),
        to_ns: Some(t0 + 25),
        limit: 4,
        ..Default::default()
    };
    let mut got = Vec::new();
    loop {
        let page = s.query_events(&q).unwrap();
        assert!(page.events.len() <= 4);
        got.extend(page.events.iter().map(|e| reason(&e.event)));
        match page.next_before_id {
            Some(b) => q.before_id = Some(b),
            None => break,
        }
    }
    let want: Vec<String> = (5..25)
        .rev()
        .filter(|i| i % 3 != 1)
        .map(|i| format!("n={i}"))
        .collect();
    assert_eq!(got, want);
    // Minimum severity: clock.step and gnss.reconfigure are notice, servo.restart info.
    let q = EventQuery {
        min_severity: Some(gnss_timeserver::events::Severity::Notice),
        limit: 100,
        ..Default::default()
    };
    let page = s.query_events(&q).unwrap();
    assert_eq!(page.events.len(), 20);
    assert!(page.events.iter().all(|e| e.event.kind != "servo.restart"));
    assert_eq!(page.next_before_id, None);
}

#[test]
fn sink_ids_are_the_stored_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let mut s = Store::open(&path).unwrap();
    s.append(ev(0, "durable")).unwrap();
    let (sink, mut rx) = EventSink::channel(8);
    sink.start_ids_at(s.next_id());
    let mut live = sink.live().subscribe();
    sink.emit(ev(1, "a"));
    let queued = rx.try_recv().unwrap();
    let id = s.append(queued).unwrap();
    assert_eq!(Some(id), live.try_recv().unwrap().id);
    assert_eq!(id, 2);
}
