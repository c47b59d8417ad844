//! Reopen after kill -9: a child process (this test binary re-invoked with an
//! env var) appends durable events and reports each acknowledged id on stdout;
//! the parent SIGKILLs it mid-stream, reopens the database and checks that
//! every acknowledged durable event is there, in order. Three rounds, so
//! recovery from a crash is itself crash-safe. The child also feeds one
//! history sample per event; a durable commit writes the history batch too,
//! so every acknowledged second must be in the history after the kill
//! (only the unflushed batch may be lost).

use gnss_timeserver::events::{Event, EventKind};
use gnss_timeserver::store::history::{HistorySample, Series};
use gnss_timeserver::store::Store;

/// History sample times: T0 + id seconds (ids grow across rounds).
const T0: i64 = 1_700_000_000_000_000_000;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "GNSS_TIMESERVER_STORE_CRASH_CHILD";

/// The child's body; a no-op in a normal test run.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut store = Store::open(std::path::Path::new(&path)).expect("child open");
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let mut h = HistorySample {
            time_ns: T0 + store.next_id() as i64 * 1_000_000_000,
            ..Default::default()
        };
        h.set(Series::SatsUsed, Some(store.next_id() as f64));
        store.record_history(&h);
        // Batched events in between must never corrupt the file either.
        store
            .append(Event::new(
                i as i64,
                EventKind::ServoRestart { reason: "b".into() },
            ))
            .expect("append batched");
        let id = store
            .append(Event::new(
                i as i64,
                EventKind::ClockStep {
                    delta_ns: i as i64,
                    reason: format!("d{i}"),
                },
            ))
            .expect("append durable");
        writeln!(out, "acked {id} d{i}").expect("stdout");
        out.flush().expect("flush");
    }
}

#[test]
fn durable_events_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let mut acked: Vec<(u64, String)> = Vec::new();
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut this_round = 0;
        while this_round < 60 {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("round {round}: child ended early"))
                .unwrap();
            if let Some(rest) = line.strip_prefix("acked ") {
                let (id, details) = rest.split_once(' ').unwrap();
                acked.push((id.parse().unwrap(), details.to_string()));
                this_round += 1;
            }
        }
        // Child::kill sends SIGKILL: no destructors, no final commit.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "child must have been killed");

        let store = Store::open(&path).unwrap();
        let on_disk = store.recent_events(1_000_000, Some("clock.step")).unwrap();
        let mut it = on_disk.iter();
        for (id, details) in &acked {
            let found = it
                .find(|e| e.id == *id)
                .unwrap_or_else(|| panic!("round {round}: acknowledged event {id} lost"));
            assert_eq!(found.event.data()["reason"], details.as_str());
            assert!(found.committed);
        }
        // The history sample of every acknowledged event survived too.
        let (first, last) = (acked[0].0 - 1, acked.last().unwrap().0);
        let pts = store
            .history(
                Series::SatsUsed,
                T0 + first as i64 * 1_000_000_000,
                T0 + (last as i64 + 1) * 1_000_000_000,
                1_000_000_000,
            )
            .unwrap();
        for (id, _) in &acked {
            // The sample was recorded before its batched event (id - 1).
            let at = (id - 1 - first) as usize;
            assert_eq!(
                pts[at].mean,
                Some((id - 1) as f64),
                "round {round}: history of event {id} lost"
            );
        }
        // Ids strictly increase across everything on disk.
        let all = store.recent_events(1_000_000, None).unwrap();
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    }
    assert_eq!(acked.len(), 180);
}
