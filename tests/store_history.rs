//! History in the store: after N simulated minutes the minute aggregates,
//! the 1 s values, the sky cells and the tracks hold what was fed, across a
//! reopen; retention keeps each table to its window.

use gnss_timeserver::store::history::{HistorySample, SatSample, Series, NS_PER_MIN, NS_PER_S};
use gnss_timeserver::store::Store;

const T0: i64 = 1_700_000_040_000_000_000; // a minute boundary

fn sample(t: i64) -> HistorySample {
    let mut s = HistorySample {
        time_ns: T0 + t * NS_PER_S,
        ..Default::default()
    };
    // sats_used: minute m holds m, m+1, ... m+59 over its seconds.
    let minute = t / 60;
    s.set(Series::SatsUsed, Some((minute + t % 60) as f64));
    // te_bound_ns unknown in the first minute, then 100.
    s.set(Series::TeBoundNs, (minute > 0).then_some(100.0));
    // One satellite sweeping azimuth 1° a minute at 30° elevation, C/N0 40;
    // another below the horizon (no cell).
    s.sats.push(SatSample {
        gnss: "Galileo".into(),
        svid: 11,
        az_deg: minute as f64,
        el_deg: 32.0,
        cn0_dbhz: Some(40.0 + (t % 2) as f64),
    });
    s.sats.push(SatSample {
        gnss: "GPS".into(),
        svid: 3,
        az_deg: 100.0,
        el_deg: -2.0,
        cn0_dbhz: Some(20.0),
    });
    s
}

#[test]
fn minutes_seconds_sky_cells_and_tracks_hold_what_was_fed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.redb");
    let minutes = 25;
    {
        let mut s = Store::open(&path).unwrap();
        for t in 0..minutes * 60 {
            s.record_history(&sample(t));
            if t % 60 == 59 {
                s.commit().unwrap();
            }
        }
        // The last minute is still being filled: its aggregate comes from memory.
        let pts = s
            .history(Series::SatsUsed, T0, T0 + minutes * NS_PER_MIN, NS_PER_MIN)
            .unwrap();
        assert_eq!(pts.len(), minutes as usize);
        assert_eq!(pts.last().unwrap().samples, 60);
    }
    let s = Store::open(&path).unwrap();
    let pts = s
        .history(
            Series::SatsUsed,
            T0,
            T0 + (minutes - 1) * NS_PER_MIN,
            NS_PER_MIN,
        )
        .unwrap();
    assert_eq!(pts.len(), (minutes - 1) as usize);
    for (m, p) in pts.iter().enumerate() {
        let m = m as f64;
        assert_eq!(p.time_ns, T0 + m as i64 * NS_PER_MIN);
        assert_eq!((p.min, p.max, p.samples), (Some(m), Some(m + 59.0), 60));
        assert!((p.mean.unwrap() - (m + 29.5)).abs() < 1e-3, "{p:?}");
    }
    // 5-minute buckets combine minutes: min of mins, max of maxes.
    let five = s
        .history(Series::SatsUsed, T0, T0 + 10 * NS_PER_MIN, 5 * NS_PER_MIN)
        .unwrap();
    assert_eq!(five.len(), 2);
    assert_eq!(
        (five[1].min, five[1].max, five[1].samples),
        (Some(5.0), Some(68.0), 300)
    );
    // Unknown stays unknown: no bound in the first minute.
    let bound = s
        .history(Series::TeBoundNs, T0, T0 + 2 * NS_PER_MIN, NS_PER_MIN)
        .unwrap();
    assert_eq!((bound[0].mean, bound[0].samples), (None, 0));
    assert_eq!(bound[1].mean, Some(100.0));
    // 1 s values of the last hour, restored after the reopen.
    let secs = s
        .history(
            Series::SatsUsed,
            T0 + 60 * NS_PER_S,
            T0 + 70 * NS_PER_S,
            NS_PER_S,
        )
        .unwrap();
    let v: Vec<f64> = secs.iter().map(|p| p.mean.unwrap()).collect();
    assert_eq!(v, (1..11).map(|x| x as f64).collect::<Vec<_>>());

    // Sky: 25 minutes at azimuth 0..24°, elevation 32° → cells az 0,10,20 at el 30.
    let cells = s.sky_cells(T0, T0 + minutes * NS_PER_MIN).unwrap();
    let got: Vec<(f64, f64, u32)> = cells
        .iter()
        .map(|c| (c.az_deg, c.el_deg, c.samples))
        .collect();
    let fed = (minutes * 60) as u32;
    assert_eq!(
        got,
        vec![
            (0.0, 30.0, 600),
            (10.0, 30.0, 600),
            (20.0, 30.0, fed - 1200)
        ]
    );
    for c in &cells {
        assert!((c.cn0_mean_dbhz - 40.5).abs() < 1e-3, "{c:?}");
    }
    // Tracks: one point a minute per satellite, below-horizon ones too.
    let tracks = s.sky_tracks(T0, T0 + minutes * NS_PER_MIN).unwrap();
    assert_eq!(tracks.len(), 2);
    let gal = tracks.iter().find(|t| t.gnss == "Galileo").unwrap();
    assert_eq!(gal.svid, 11);
    assert_eq!(gal.points.len(), minutes as usize);
    assert_eq!(gal.points[7].az_deg, 7.0);
    assert_eq!(gal.points[7].el_deg, 32.0);
    let st = s.status().history;
    assert_eq!(st.rows.minutes, (minutes - 1) as u64);
    assert_eq!(st.rows.track_minutes, minutes as u64);
}

#[test]
fn retention_keeps_an_hour_of_seconds_and_a_day_of_sky() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("h.redb")).unwrap();
    // 26 simulated hours, one sample a minute-ish (every 20 s) to stay quick.
    let hours = 26;
    for t in (0..hours * 3600).step_by(20) {
        s.record_history(&sample(t));
        if t % 3600 == 0 {
            s.commit().unwrap();
        }
    }
    s.commit().unwrap();
    let rows = s.status().history.rows;
    assert!(rows.seconds <= 61, "{rows:?}");
    assert!(rows.track_minutes <= 24 * 60 + 1, "{rows:?}");
    assert!(rows.sky_slots <= 24 * 6 + 1, "{rows:?}");
    assert_eq!(rows.minutes, (hours * 60 - 1) as u64);
    // Nothing older than a day in the sky.
    let old = s.sky_cells(T0, T0 + NS_PER_MIN * 60).unwrap();
    assert!(old.is_empty(), "{old:?}");
}
