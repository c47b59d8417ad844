//! The receiver part of the snapshot, end to end through a real pty and the
//! daemon's GNSS wiring (`app::start_gnss`): the sky equals what `decode`
//! prints for the same bytes, and each fake-receiver fault scenario gives its
//! own receiver-side events and status. Every wait is bounded and FAILS on
//! timeout.

use gnss_timeserver::app::{start_gnss, GnssParams, Services};
use gnss_timeserver::gnss::decode::decode_stream;
use gnss_timeserver::gnss::serial::SerialParams;
use gnss_timeserver::sim::receiver::{
    FakeOptions, FakeReceiver, Model, ReceiverCore, StartupOutput,
};
use gnss_timeserver::sim::scenario::Scenario;
use gnss_timeserver::status::Snapshot;
use gnss_timeserver::time::{system_realtime_ns, NS_PER_SEC};
use serde_json::Value;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

fn serial(device: &Path) -> SerialParams {
    SerialParams {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(300),
        read_timeout: Duration::from_millis(50),
        ..SerialParams::new(device, 115_200)
    }
}

fn services(dir: &Path) -> Services {
    let mut svc = Services::new(&dir.join("s.redb"), &dir.join("c.sock")).expect("services");
    svc.start_core_tasks(Duration::from_millis(100))
        .expect("core tasks");
    svc
}

async fn wait_snapshot(svc: &Services, what: &str, f: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let mut rx = svc.snapshot_rx();
    let end = Instant::now() + DEADLINE;
    loop {
        {
            let s = rx.borrow_and_update();
            if f(&s) {
                return s.clone();
            }
        }
        let left = end.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, rx.changed()).await.is_err() {
            let r = &rx.borrow().receiver;
            panic!(
                "timed out waiting for {what}: antenna {:?}, security {:?}, fix {:?}, sats {:?}/{:?}",
                r.antenna, r.security, r.fix.mode, r.sats_used, r.sats_visible
            );
        }
    }
}

/// The decode-line view of a satellite, from the snapshot's sky entry.
fn as_decode_line(s: &Value) -> Value {
    serde_json::json!({
        "gnss": s["gnss"],
        "svid": s["svid"],
        "az": s["az_deg"],
        "el": s["el_deg"],
        "cn0": s["cn0_dbhz"],
        "used": s["used"],
    })
}

/// Bytes of three F9T epochs (UBX incl. NAV-SIG, and NMEA 4.11 with GSV per
/// signal) go through a pty into the daemon's GNSS part; the same bytes go
/// through `decode`. The snapshot's `receiver.sky` must equal decode's last
/// epoch, satellite by satellite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_sky_equals_decode_of_the_same_bytes() {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let mut tio = nix::sys::termios::tcgetattr(&pty.slave).expect("tcgetattr");
    nix::sys::termios::cfmakeraw(&mut tio);
    nix::sys::termios::tcsetattr(&pty.slave, nix::sys::termios::SetArg::TCSANOW, &tio)
        .expect("tcsetattr");
    let path = nix::unistd::ttyname(pty.slave.as_fd()).expect("ttyname");
    let mut master = std::fs::File::from(pty.master);

    let dir = tempfile::tempdir().unwrap();
    let mut svc = services(dir.path());
    let part = start_gnss(
        &mut svc,
        GnssParams {
            serial: serial(&path),
            configure: None,
        },
    )
    .expect("start_gnss");
    wait_snapshot(&svc, "serial connected", |s| s.serial.connected).await;

    let t0 = system_realtime_ns().div_euclid(NS_PER_SEC) * NS_PER_SEC;
    let mut core = ReceiverCore::new(
        Model::F9T,
        Scenario::Healthy,
        StartupOutput::Preconfigured,
        t0,
    );
    let mut all = Vec::new();
    for k in 0..3 {
        let bytes = core.epoch(t0 + k * NS_PER_SEC);
        master.write_all(&bytes).expect("write to pty");
        all.extend(bytes);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut out = Vec::new();
    decode_stream(&all[..], &mut out).expect("decode");
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let epochs: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("summary").is_none())
        .collect();
    // The first second's NMEA arrives before any UBX and may form an epoch
    // of its own; the last epoch (closed by NAV-EOE) is the same in both.
    assert!(epochs.len() >= 3, "decode: {} epochs", epochs.len());
    let decoded = epochs[epochs.len() - 1]["satellites"]
        .as_array()
        .expect("satellites")
        .clone();
    let sky_lines = |s: &Snapshot| -> Vec<Value> {
        let json = serde_json::to_value(s).expect("snapshot json");
        json["receiver"]["sky"]
            .as_array()
            .map(|a| a.iter().map(as_decode_line).collect())
            .unwrap_or_default()
    };
    let snap = wait_snapshot(&svc, "the last epoch's sky", |s| {
        s.receiver.counters.epochs >= 3 && sky_lines(s) == decoded
    })
    .await;
    let json = serde_json::to_value(&snap).expect("snapshot json");
    let sky = json["receiver"]["sky"].as_array().expect("receiver.sky");
    let ours: Vec<Value> = sky.iter().map(as_decode_line).collect();
    assert_eq!(ours, decoded, "snapshot sky vs decode");
    assert_eq!(ours.len(), 12);

    // Per-signal data flowed (NAV-SIG): two bands on high satellites, and a
    // satellite's C/N0 is its best signal's.
    for s in sky {
        let sigs = s["signals"].as_array().expect("signals");
        assert!(!sigs.is_empty(), "no signals: {s}");
        let best = sigs
            .iter()
            .filter_map(|g| g["cn0_dbhz"].as_f64())
            .fold(f64::MIN, f64::max);
        assert_eq!(s["cn0_dbhz"].as_f64(), Some(best), "{s}");
        assert!(sigs
            .iter()
            .all(|g| g["band"].is_string() && g["quality"].is_string()));
    }
    assert!(sky
        .iter()
        .any(|s| s["signals"].as_array().is_some_and(|g| g.len() == 2)));
    let r = &json["receiver"];
    let used = sky.iter().filter(|s| s["used"] == true).count() as u64;
    assert_eq!(r["sats_visible"].as_u64(), Some(12));
    assert_eq!(r["sats_used"].as_u64(), Some(used));
    assert_eq!(r["fix"]["sats_used"].as_u64(), Some(used));
    let per_gnss: u64 = r["constellations"]
        .as_array()
        .expect("constellations")
        .iter()
        .map(|c| c["visible"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(per_gnss, 12);
    assert!(r["time"]["tacc_ns"].as_u64().is_some(), "tAcc shown");
    assert!(r["clock"]["bias_ns"].is_i64() && r["clock"]["drift_ns_per_s"].is_i64());

    tokio::task::spawn_blocking(move || part.stop())
        .await
        .unwrap();
    svc.supervisor.shutdown(Duration::from_secs(5)).await;
}

/// Payloads (`data`) of the events of `kind` in the store, oldest first.
fn events(svc: &Services, kind: &str) -> Vec<Value> {
    svc.store
        .lock()
        .recent_events(1000, Some(kind))
        .expect("read events")
        .into_iter()
        .map(|e| e.event.data())
        .collect()
}

/// The first event of `kind` after the first `since` ones that matches `f`.
async fn wait_event_since(
    svc: &Services,
    kind: &str,
    since: usize,
    f: impl Fn(&Value) -> bool,
) -> Value {
    let end = Instant::now() + DEADLINE;
    loop {
        let all = events(svc, kind);
        if let Some(e) = all.iter().skip(since).find(|e| f(e)) {
            return e.clone();
        }
        assert!(
            Instant::now() < end,
            "timed out waiting for a {kind} event; have {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_event(svc: &Services, kind: &str, f: impl Fn(&Value) -> bool) -> Value {
    wait_event_since(svc, kind, 0, f).await
}

/// Each fault scenario of the fake receiver, switched while it runs, reaches
/// the store as its own events and the snapshot as its own receiver state.
async fn scenarios_give_their_own_events(model: Model) {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = services(dir.path());
    let fake = FakeReceiver::spawn_with(FakeOptions {
        model,
        scenario: Scenario::Healthy,
        ..FakeOptions::default()
    })
    .expect("fake receiver");
    let part = start_gnss(
        &mut svc,
        GnssParams {
            serial: serial(fake.path()),
            configure: None,
        },
    )
    .expect("start_gnss");

    // Healthy: the first values are reported once.
    wait_event(&svc, "antenna.state", |e| e["status"] == "ok").await;
    wait_event(&svc, "fix.state", |e| e["fix"] == "3d").await;
    wait_event(&svc, "jamming.state", |e| e["state"] == "ok").await;

    let n = events(&svc, "antenna.state").len();
    let fixes = events(&svc, "fix.state").len();
    fake.set_scenario("antenna-open").unwrap();
    let e = wait_event_since(&svc, "antenna.state", n, |e| e["status"] == "open").await;
    assert_eq!(e["power"], "on");
    wait_event_since(&svc, "fix.state", fixes, |e| e["fix"] == "none").await;
    let s = wait_snapshot(&svc, "antenna open in the snapshot", |s| {
        s.receiver
            .antenna
            .is_some_and(|a| a.status == gnss_timeserver::gnss::AntennaStatus::Open)
            && s.receiver.sats_visible == Some(0)
    })
    .await;
    assert_eq!(s.receiver.sats_used, Some(0));

    let n = events(&svc, "antenna.state").len();
    fake.set_scenario("antenna-short").unwrap();
    let e = wait_event_since(&svc, "antenna.state", n, |e| e["status"] == "short").await;
    assert_eq!(e["power"], "off");

    let n = events(&svc, "antenna.state").len();
    fake.set_scenario("jamming").unwrap();
    wait_event_since(&svc, "antenna.state", n, |e| e["status"] == "ok").await;
    let w = wait_event(&svc, "jamming.state", |e| e["state"] == "warning").await;
    assert!(w["indicator"].as_u64().is_some_and(|i| i > 150), "{w}");
    wait_event(&svc, "jamming.state", |e| e["state"] == "critical").await;
    let crit = svc
        .store
        .lock()
        .recent_events(1000, Some("jamming.state"))
        .unwrap()
        .into_iter()
        .find(|e| e.event.data()["state"] == "critical")
        .expect("critical jamming event");
    assert_eq!(
        crit.event.severity,
        gnss_timeserver::events::Severity::Critical
    );
    assert!(crit.event.durable);
    wait_snapshot(&svc, "jamming in the snapshot", |s| {
        s.receiver
            .security
            .is_some_and(|x| x.jamming == gnss_timeserver::gnss::JammingState::Critical)
            && s.receiver
                .antenna
                .and_then(|a| a.jamming)
                .is_some_and(|j| j > 150)
    })
    .await;

    // Signal loss: no satellites and no fix, said by the latest epoch (the
    // top-level counts agree with the fix: 0, not the last healthy count).
    fake.set_scenario("healthy").unwrap();
    wait_snapshot(&svc, "healthy sky", |s| {
        s.receiver.sats_used.is_some_and(|n| n >= 8)
    })
    .await;
    let fixes_before = events(&svc, "fix.state").len();
    fake.set_scenario("signal-loss").unwrap();
    let s = wait_snapshot(&svc, "signal loss in the snapshot", |s| {
        s.receiver.fix.sats_used == Some(0)
    })
    .await;
    assert_eq!(
        (s.receiver.sats_used, s.receiver.sats_visible),
        (Some(0), Some(0)),
        "top-level counts agree with the fix"
    );
    assert!(s.receiver.sky.is_empty() && s.receiver.constellations.is_empty());
    assert!(
        !s.receiver.time.is_some_and(|t| t.is_valid()),
        "time not valid"
    );
    wait_event_since(&svc, "fix.state", fixes_before, |e| e["fix"] == "none").await;
    // Signal loss is not an antenna fault.
    assert_eq!(
        s.receiver.antenna.map(|a| a.status),
        Some(gnss_timeserver::gnss::AntennaStatus::Ok)
    );

    tokio::task::spawn_blocking(move || part.stop())
        .await
        .unwrap();
    svc.supervisor.shutdown(Duration::from_secs(5)).await;
}

/// F9T: antenna and jamming through MON-RF and SEC-SIG.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f9t_scenarios_give_their_own_events() {
    scenarios_give_their_own_events(Model::F9T).await;
}

/// M8T: antenna and jamming through MON-HW.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m8t_scenarios_give_their_own_events() {
    scenarios_give_their_own_events(Model::M8T).await;
}

/// Survey-in configured on an F9T: the snapshot's receiver part shows the
/// progress, then the fixed position the configurator stored, and the
/// receiver's survey-in states arrive as `survey.state` events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_in_progress_and_fixed_position_reach_the_snapshot() {
    use gnss_timeserver::gnss::configure::{ConfigureParams, TimingMode};
    use gnss_timeserver::gnss::SurveyState;
    let dir = tempfile::tempdir().unwrap();
    let mut svc = services(dir.path());
    let fake = FakeReceiver::spawn(Scenario::Healthy, Model::F9T).expect("fake receiver");
    let part = start_gnss(
        &mut svc,
        GnssParams {
            serial: serial(fake.path()),
            configure: Some(ConfigureParams {
                timing: TimingMode::SurveyIn {
                    min_duration_s: 3,
                    accuracy_limit_mm: 2_000,
                },
                ack_timeout_ns: 400_000_000,
                ..ConfigureParams::default()
            }),
        },
    )
    .expect("start_gnss");
    let s = wait_snapshot(&svc, "survey in progress", |s| {
        s.receiver.survey.state == Some(SurveyState::InProgress)
            && s.receiver.survey.progress.is_some_and(|p| p.active)
    })
    .await;
    assert_eq!(s.receiver.survey.fixed_position, None);
    let s = wait_snapshot(&svc, "fixed position", |s| {
        s.receiver.survey.state == Some(SurveyState::Fixed)
            && s.receiver.survey.fixed_position.is_some()
    })
    .await;
    let pos = s.receiver.survey.fixed_position.unwrap();
    let p = s.receiver.survey.progress.expect("TIM-SVIN progress");
    assert_eq!(
        [pos.ecef_x_cm, pos.ecef_y_cm, pos.ecef_z_cm],
        p.mean_ecef_cm,
        "the position the receiver surveyed"
    );
    let fixed = wait_event(&svc, "survey.state", |e| e["state"] == "fixed").await;
    let states: Vec<Value> = events(&svc, "survey.state")
        .iter()
        .map(|e| e["state"].clone())
        .collect();
    assert_eq!(
        states,
        vec!["in_progress", "fixed"],
        "one event per transition"
    );
    assert!(fixed["accuracy_mm"].as_u64().is_some(), "{fixed}");
    tokio::task::spawn_blocking(move || part.stop())
        .await
        .unwrap();
    svc.supervisor.shutdown(Duration::from_secs(5)).await;
}
