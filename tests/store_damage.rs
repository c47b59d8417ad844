//! A damaged database never keeps the daemon down: a real store file cut
//! short or overwritten at many offsets opens (a fresh store when the damage
//! is found, the old file moved aside and reported), and `demo` started on a
//! damaged store serves NTP and shows the damage in its status and events.

use gnss_timeserver::events::{Event, EventKind};
use gnss_timeserver::status::client::request;
use gnss_timeserver::store::history::{HistorySample, SatSample, Series};
use gnss_timeserver::store::Store;
use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gnss-timeserver");
const PAGE: u64 = 4096;

/// A store with events and an hour of history, closed cleanly.
fn pristine(dir: &Path) -> PathBuf {
    let path = dir.join("pristine.redb");
    let mut s = Store::open(&path).unwrap();
    for i in 0..3000i64 {
        let kind = if i % 50 == 0 {
            EventKind::ClockStep {
                delta_ns: i,
                reason: "test".into(),
            }
        } else {
            EventKind::ServoRestart {
                reason: format!("event {i} with some text to take space"),
            }
        };
        s.append(Event::new(i, kind)).unwrap();
    }
    for t in 0..3600i64 {
        let mut h = HistorySample {
            time_ns: 1_700_000_000_000_000_000 + t * 1_000_000_000,
            ..Default::default()
        };
        h.set(Series::SatsUsed, Some((t % 12) as f64));
        h.sats.push(SatSample {
            gnss: "GPS".into(),
            svid: 5,
            az_deg: (t % 360) as f64,
            el_deg: 45.0,
            cn0_dbhz: Some(40.0),
        });
        s.record_history(&h);
        if t % 300 == 0 {
            s.commit().unwrap();
        }
    }
    s.save_state("k", &42u32).unwrap();
    drop(s);
    path
}

#[derive(Debug)]
enum Damage {
    TruncateTo(u64),
    Overwrite { at: u64, pages: u64, seed: u64 },
}

fn damage(pristine: &Path, to: &Path, d: &Damage) {
    std::fs::copy(pristine, to).unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(to).unwrap();
    match *d {
        Damage::TruncateTo(n) => f.set_len(n).unwrap(),
        Damage::Overwrite { at, pages, seed } => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let bytes: Vec<u8> = (0..pages * PAGE).map(|_| rng.gen()).collect();
            f.seek(SeekFrom::Start(at)).unwrap();
            f.write_all(&bytes).unwrap();
        }
    }
}

#[test]
fn damaged_files_at_many_offsets_open_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let src = pristine(dir.path());
    let len = std::fs::metadata(&src).unwrap().len();
    assert!(
        len > 64 * PAGE,
        "store too small to damage meaningfully: {len}"
    );
    let mut cases = vec![
        Damage::TruncateTo(PAGE),
        Damage::TruncateTo(len / 4),
        Damage::TruncateTo(len / 2),
        Damage::TruncateTo(3 * len / 4),
        Damage::TruncateTo(len - PAGE),
        Damage::Overwrite {
            at: (len / 2) / PAGE * PAGE,
            pages: 8,
            seed: 1,
        },
    ];
    // Random single-page overwrites all over the file (seeded).
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for seed in 0..24 {
        let page = rng.gen_range(0..len / PAGE);
        cases.push(Damage::Overwrite {
            at: page * PAGE,
            pages: 1,
            seed,
        });
    }
    let mut recovered = 0;
    for (i, d) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.redb"));
        damage(&src, &path, d);
        let (mut s, rec) =
            Store::open_or_recover(&path).unwrap_or_else(|e| panic!("{d:?}: open failed: {e}"));
        match &rec {
            Some(r) => {
                recovered += 1;
                assert!(r.moved_to.exists(), "{d:?}");
                assert_eq!(s.status().events_stored, 0, "{d:?}: a fresh store");
                s.note_recovery(r);
                let evs = s.take_events();
                assert!(evs.iter().any(|e| e.kind == "store.corrupt"), "{d:?}");
                assert!(s.status().recovered.is_some());
            }
            None => {
                // Damage redb did not see (free pages): the data must read
                // back, or fail with an error, never a panic.
                let _ = s.recent_events(10_000, None);
                let _ = s.history(Series::SatsUsed, 0, i64::MAX / 2, 60_000_000_000);
            }
        }
        // Either way the store works now and survives a reopen.
        let id = s
            .append(Event::new(
                1,
                EventKind::ClockStep {
                    delta_ns: 1,
                    reason: "after".into(),
                },
            ))
            .unwrap_or_else(|e| panic!("{d:?}: append after open: {e}"));
        drop(s);
        let s = Store::open(&path).unwrap_or_else(|e| panic!("{d:?}: reopen: {e}"));
        let last = s.recent_events(1, None).unwrap();
        assert_eq!(last.last().map(|e| e.id), Some(id), "{d:?}");
    }
    // Every truncation and the 8-page overwrite in the middle are found.
    assert!(
        recovered >= 6,
        "only {recovered} of {} recovered",
        cases.len()
    );
    eprintln!(
        "{recovered} of {} damaged files detected and replaced",
        cases.len()
    );
}

#[test]
fn an_unopenable_store_is_unavailable_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: open fails every time.
    let path = dir.path().join("store.redb");
    std::fs::create_dir(&path).unwrap();
    let (mut s, rec) = Store::open_resilient(&path, Duration::from_secs(5));
    assert!(rec.is_none());
    let st = s.status();
    assert_eq!(
        serde_json::to_value(st.state).unwrap(),
        "unavailable",
        "{st:?}"
    );
    assert!(s.take_events().iter().any(|e| e.kind == "store.degraded"));
    // Events wait in memory meanwhile.
    s.append(Event::new(
        1,
        EventKind::ServoRestart { reason: "x".into() },
    ))
    .unwrap();
    assert_eq!(s.recent_events(5, None).unwrap().len(), 1);
}

/// An SNTP request; returns the reply's stratum.
fn sntp(addr: &str) -> Option<u8> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut req = [0u8; 48];
    req[0] = 0x23; // LI 0, version 4, mode 3
    req[40..48].copy_from_slice(&0x1234_5678_9abc_def0u64.to_be_bytes());
    sock.send_to(&req, addr).ok()?;
    let mut buf = [0u8; 128];
    let (n, _) = sock.recv_from(&mut buf).ok()?;
    (n >= 48 && buf[0] & 7 == 4 && buf[24..32] == req[40..48]).then_some(buf[1])
}

struct KillOnDrop(std::process::Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn demo_on_a_damaged_store_serves_ntp_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = pristine(dir.path());
    let len = std::fs::metadata(&src).unwrap().len();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Cut in half: the case that made redb panic on every start.
    damage(&src, &data.join("store.redb"), &Damage::TruncateTo(len / 2));
    let mut demo = KillOnDrop(
        Command::new(BIN)
            .arg("demo")
            .arg("--data")
            .arg(&data)
            .args(["--ntp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = demo.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut socket, mut ntp) = (None, None);
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        let l = line.trim();
        if let Some(p) = l.strip_prefix("control socket:") {
            socket = Some(PathBuf::from(p.trim()));
        }
        if let Some(a) = l.strip_prefix("ntp:") {
            ntp = a.split_whitespace().next().map(str::to_string);
        }
        if socket.is_some() && ntp.is_some() {
            break;
        }
    }
    let (socket, ntp) = (
        socket.expect("no control socket line"),
        ntp.expect("no ntp line"),
    );
    // It answers NTP (stratum 16 until the servo locks, but it answers).
    let end = std::time::Instant::now() + Duration::from_secs(20);
    let stratum = loop {
        if let Some(s) = sntp(&ntp) {
            break s;
        }
        assert!(std::time::Instant::now() < end, "no NTP reply from {ntp}");
    };
    assert!(stratum == 16 || stratum == 1, "stratum {stratum}");
    let v = request(&socket, "status").unwrap();
    let rec = &v["store"]["recovered"];
    assert!(
        rec["moved_to"]
            .as_str()
            .is_some_and(|p| p.contains(".corrupt-")),
        "{:#}",
        v["store"]
    );
    assert_eq!(v["store"]["state"], "ok", "{:#}", v["store"]);
    let evs = request(&socket, "events 10 store.corrupt").unwrap();
    let evs = evs["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0]["durable"], true);
    assert!(evs[0]["data"]["error"].is_string());
}
