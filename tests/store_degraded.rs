//! A full disk degrades the store, not the process: writes fail, the status
//! says `degraded` with a `store.degraded` event, events wait in memory, and
//! once space is back the store reopens, writes them and says
//! `store.restored`. The disk is a 2 MiB tmpfs mounted in a private mount
//! namespace (`unshare -m`, root or user namespaces), so nothing outside
//! the test sees it.

use gnss_timeserver::events::{Event, EventKind};
use gnss_timeserver::store::{Store, StoreState};
use std::io::Write;
use std::process::Command;
use std::time::Duration;

const CHILD_ENV: &str = "GNSS_TIMESERVER_STORE_FULL_CHILD";

fn step(i: i64) -> Event {
    Event::new(
        i,
        EventKind::ClockStep {
            delta_ns: i,
            reason: format!("s{i}"),
        },
    )
}

/// Runs inside the namespace with the tmpfs mounted at the given directory.
#[test]
fn full_disk_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    let path = dir.join("store.redb");
    let mut s = Store::open(&path).expect("open");
    s.set_reopen_interval(Duration::from_millis(100));
    s.append(step(0)).expect("first durable event");
    // Fill the file system.
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    drop(f);
    // Durable events now fail to commit; the process carries on.
    let mut failed = 0;
    for i in 1..=20 {
        // Big payloads so the commit needs new pages.
        let ev = Event::new(
            i,
            EventKind::GnssSurveyStoreFailed {
                error: "x".repeat(4000),
            },
        );
        let _ = s.append(ev);
        if s.append(step(i)).is_err() {
            failed += 1;
        }
    }
    assert!(failed > 0, "the full disk never made a commit fail");
    let st = s.status();
    assert_ne!(st.state, StoreState::Ok, "{st:?}");
    assert!(st.errors > 0 && st.last_error.is_some(), "{st:?}");
    let evs = s.take_events();
    assert_eq!(
        evs.iter().filter(|e| e.kind == "store.degraded").count(),
        1,
        "one event per degradation: {evs:?}"
    );
    // Space again: the next commit reopens and writes what waited.
    std::fs::remove_file(&filler).expect("rm filler");
    std::thread::sleep(Duration::from_millis(200));
    s.commit().expect("commit after space is back");
    assert_eq!(s.status().state, StoreState::Ok);
    assert!(s.take_events().iter().any(|e| e.kind == "store.restored"));
    drop(s);
    let s = Store::open(&path).expect("reopen");
    let steps = s.recent_events(100, Some("clock.step")).unwrap();
    assert_eq!(steps.len(), 21, "every durable event on disk in the end");
    println!("child ok: {failed} commits failed while full");
}

#[test]
fn full_disk_degrades_the_store_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "mount -t tmpfs -o size=2m tmpfs '{d}' && exec '{}' --exact full_disk_child --nocapture --test-threads=1",
        exe.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env(CHILD_ENV, &d)
        .output()
        .expect("unshare (util-linux) must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("child ok"),
        "child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}
