//! Fuzz the store-open path with damaged files: a real store (events,
//! state, history) is cut short and overwritten as the input says, then
//! opened with `Store::open_or_recover`. It must never panic out (redb's
//! own panics on damaged files are caught at the open boundary), must
//! return a store, and that store takes a durable event or reports itself
//! degraded.
//!
//! Input: [0..4) truncate length (LE u32, modulo the file size + 1; 0 keeps
//! the size), then records of (LE u32 offset, u8 len, len bytes) written over
//! the file.
#![no_main]

use gnss_timeserver::events::{Event, EventKind};
use gnss_timeserver::store::history::{HistorySample, Series};
use gnss_timeserver::store::{Store, StoreState};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Base {
    _dir: tempfile::TempDir,
    bytes: Vec<u8>,
    work: PathBuf,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        // libfuzzer-sys aborts on any panic, even a caught one; the open
        // path catches redb's panics by design, so let them unwind (one that
        // escapes still fails the run: libfuzzer-sys aborts on it).
        std::panic::set_hook(Box::new(|_| {}));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("base.redb");
        {
            let mut s = Store::open(&path).expect("open base");
            for i in 0..200i64 {
                s.append(Event::new(i, EventKind::ServoRestart { reason: format!("e{i}") }))
                    .expect("append");
            }
            for t in 0..600i64 {
                let mut h = HistorySample {
                    time_ns: 1_700_000_000_000_000_000 + t * 1_000_000_000,
                    ..Default::default()
                };
                h.set(Series::SatsUsed, Some(t as f64));
                s.record_history(&h);
            }
            s.save_state("k", &1u8).expect("state");
        }
        let bytes = std::fs::read(&path).expect("read base");
        let work = dir.path().join("work.redb");
        Base {
            _dir: dir,
            bytes,
            work,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let b = base();
    let mut file = b.bytes.clone();
    if data.len() >= 4 {
        let cut = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
        let cut = cut % (file.len() + 1);
        if cut > 0 {
            file.truncate(cut);
        }
        let mut rest = &data[4..];
        while rest.len() >= 5 {
            let off = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let n = usize::from(rest[4]).min(rest.len() - 5);
            let bytes = &rest[5..5 + n];
            if !file.is_empty() {
                let off = off % file.len();
                let end = (off + n).min(file.len());
                file[off..end].copy_from_slice(&bytes[..end - off]);
            }
            rest = &rest[5 + n..];
        }
    }
    // Remove what an earlier run moved aside or left.
    if let Some(dir) = b.work.parent() {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with("work.redb") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    std::fs::write(&b.work, &file).expect("write");
    let (mut s, _recovery) = Store::open_or_recover(&b.work).expect("open_or_recover");
    let _ = s.recent_events(50, None);
    let _ = s.history(Series::SatsUsed, 0, i64::MAX / 4, 60_000_000_000);
    let res = s.append(Event::new(
        1,
        EventKind::ClockStep {
            delta_ns: 1,
            reason: "fuzz".into(),
        },
    ));
    // A write may still fail on a file redb accepted; then the store says so.
    if res.is_err() {
        assert_ne!(s.status().state, StoreState::Ok);
    }
});
