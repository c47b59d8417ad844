//! Card wear and disk use of the store, measured (not asserted):
//!
//! 1. bytes written per hour in steady state: the daemon's load (one history
//!    sample a second with 30 satellites, a commit every 60 s — the default
//!    `commit-interval-s` — and a few events) fed in simulated time after a
//!    25 h warm-up, with the process's `write_bytes` (bytes dirtied for the
//!    block device) and `wchar` (bytes passed to write calls) from
//!    `/proc/self/io` before and after one simulated hour;
//! 2. the file size after 30 simulated days (the retention windows full).
//!
//! `cargo bench --bench store_wear` (set `STORE_WEAR_DIR` to measure on
//! another file system; tmpfs counts no `write_bytes`).

use gnss_timeserver::events::{Event, EventKind};
use gnss_timeserver::store::history::{HistorySample, SatSample, Series};
use gnss_timeserver::store::Store;
use std::time::Instant;

const T0: i64 = 1_800_000_000_000_000_000;
const S: i64 = 1_000_000_000;

fn io() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (get("write_bytes:"), get("wchar:"))
}

/// A full sample: every series known, 30 satellites moving slowly.
fn sample(t: i64) -> HistorySample {
    let mut h = HistorySample {
        time_ns: T0 + t * S,
        ..Default::default()
    };
    let x = t as f64;
    h.set(Series::TeEstimateNs, Some((x * 0.1).sin() * 20.0));
    h.set(Series::TeBoundNs, Some(150.0 + (x * 0.01).cos()));
    h.set(Series::FrequencyPpb, Some(-1234.5 + (x * 1e-4).sin()));
    h.set(Series::TemperatureC, Some(45.0 + (x * 1e-3).sin()));
    h.set(Series::SatsVisible, Some(30.0));
    h.set(Series::SatsUsed, Some(24.0));
    h.set(Series::Cn0MeanDbhz, Some(38.0));
    h.set(Series::Cn0MaxDbhz, Some(49.0));
    h.set(Series::Agc, Some(5000.0));
    h.set(Series::Noise, Some(90.0));
    h.set(Series::Jamming, Some(12.0));
    h.set(Series::NtpRequestsPerS, Some(250.0));
    for k in 0..30u16 {
        let phase = f64::from(k) * 12.0 + x / 240.0;
        h.sats.push(SatSample {
            gnss: ["GPS", "Galileo", "BeiDou", "GLONASS"][usize::from(k % 4)].into(),
            svid: k + 1,
            az_deg: phase.rem_euclid(360.0),
            el_deg: 5.0 + (phase.to_radians().sin().abs() * 80.0),
            cn0_dbhz: Some(30.0 + f64::from(k % 20)),
        });
    }
    h
}

/// Feed `[from, to)` seconds every `every` s, committing every `commit` s
/// and adding a batched event a minute.
fn feed(s: &mut Store, from: i64, to: i64, every: i64, commit: i64) {
    feed_mix(s, from, to, every, commit, true, true)
}

fn feed_mix(
    s: &mut Store,
    from: i64,
    to: i64,
    every: i64,
    commit: i64,
    history: bool,
    events: bool,
) {
    let mut t = from;
    while t < to {
        if history {
            s.record_history(&sample(t));
        }
        if events && t % 60 == 0 {
            let ev = Event::new(
                T0 + t * S,
                EventKind::NtpClientOffsetCleared {
                    client: "192.0.2.7:123".into(),
                    offset_ns: 1000,
                },
            );
            s.append(ev).expect("append");
        }
        if t % commit == 0 {
            s.commit().expect("commit");
        }
        t += every;
    }
}

fn main() {
    let dir = match std::env::var("STORE_WEAR_DIR") {
        Ok(d) => tempfile::tempdir_in(d),
        Err(_) => tempfile::tempdir(),
    }
    .expect("temp dir");
    let path = dir.path().join("wear.redb");
    let mut s = Store::open(&path).expect("open");
    let started = Instant::now();
    // Warm-up: 25 h so every 24 h window is full.
    feed(&mut s, 0, 25 * 3600, 1, 60);
    let (w0, c0) = io();
    let t_hour = Instant::now();
    feed(&mut s, 25 * 3600, 26 * 3600, 1, 60);
    let (w1, c1) = io();
    let hour_wall = t_hour.elapsed();
    let size_day = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    // The same hour split by source: events alone, history alone.
    let (e0, _) = io();
    feed_mix(&mut s, 26 * 3600, 27 * 3600, 1, 60, false, true);
    let (e1, _) = io();
    feed_mix(&mut s, 27 * 3600, 28 * 3600, 1, 60, true, false);
    let (h1, _) = io();
    // Fill to 30 days: a sample every 5 s and a commit every 10 min (the
    // retained rows are the same; only the fill is faster).
    feed(&mut s, 28 * 3600, 30 * 86_400, 5, 600);
    // One more steady hour at the real cadence, then the final size.
    feed(&mut s, 30 * 86_400, 30 * 86_400 + 3600, 1, 60);
    s.commit().expect("commit");
    let st = s.status();
    let size_30d = st.size_bytes.unwrap_or(0);
    println!("store_wear: steady state, one hour (3600 samples, 60 commits, 60 events):");
    println!(
        "  write_bytes {:>10} B/h ({:.2} MiB/h, {:.1} GiB/year)",
        w1 - w0,
        (w1 - w0) as f64 / 1048576.0,
        (w1 - w0) as f64 * 24.0 * 365.0 / 1073741824.0
    );
    println!("  wchar       {:>10} B/h", c1 - c0);
    println!(
        "  of which: events alone {} B/h, history alone {} B/h",
        e1 - e0,
        h1 - e1
    );
    println!("  fed in {:.2} s of wall time", hour_wall.as_secs_f64());
    println!("store size after 25 h: {size_day} B");
    println!(
        "store size after 30 days: {size_30d} B ({:.1} MiB); rows {:?}; events {}",
        size_30d as f64 / 1048576.0,
        st.history.rows,
        st.events_stored
    );
    println!("total wall time {:.1} s", started.elapsed().as_secs_f64());
}
