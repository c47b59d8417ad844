//! A PPS source that stops after lock (the simulated source closed): the
//! timing loop carries on, holdover follows, then unsynchronized once the
//! bound passes its limit, and the root dispersion NTP serves grows between
//! replies meanwhile. The daemon's own parts (fake receiver on a pty, serial
//! thread, discipline task, NTP workers) wired as `demo` wires them.

mod daemon_support;

use daemon_support::query;
use gnss_timeserver::app::{self, GnssParams, PpsInput, Services, TimingParams};
use gnss_timeserver::clock::{Clock, VirtualClock};
use gnss_timeserver::gnss::serial::SerialParams;
use gnss_timeserver::pps::sim::PpsNoise;
use gnss_timeserver::sim::receiver::{FakeOptions, FakeReceiver, Model};
use gnss_timeserver::sim::scenario::Scenario;
use gnss_timeserver::status::Snapshot;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Holdover ends when the bound passes this: small, so the test sees the
/// end of holdover in minutes rather than hours, and large enough for the
/// bound to cross a few NTP short-format units (15.26 us) before.
const LIMIT_NS: f64 = 40_000.0;

async fn wait(
    svc: &Services,
    what: &str,
    limit: Duration,
    pred: impl Fn(&Snapshot) -> bool,
) -> Snapshot {
    let rx = svc.snapshot_rx();
    let end = Instant::now() + limit;
    loop {
        let snap = rx.borrow().clone();
        if pred(&snap) {
            return snap;
        }
        assert!(Instant::now() < end, "never {what}: {:#?}", snap.discipline);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pps_lost_after_lock_holdover_then_unsynchronized_dispersion_grows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut svc =
        Services::new(&dir.path().join("s.redb"), &dir.path().join("c.sock")).expect("services");
    svc.start_core_tasks(Duration::from_secs(5)).expect("core");
    let fake = FakeReceiver::spawn_with(FakeOptions {
        model: Model::M8T,
        scenario: Scenario::Healthy,
        ..FakeOptions::default()
    })
    .expect("fake receiver");
    let gnss = app::start_gnss(
        &mut svc,
        GnssParams {
            serial: SerialParams::new(fake.path(), 115_200),
            configure: None,
        },
    )
    .expect("gnss");
    let mut engine = app::engine_config(&gnss_timeserver::config::Config::default());
    engine.lock.bound_limit_ns = LIMIT_NS;
    let clock: Arc<dyn Clock> = Arc::new(VirtualClock::new());
    let timing = app::start_timing(
        &mut svc,
        &gnss,
        clock,
        TimingParams {
            engine,
            pps: PpsInput::Simulated {
                noise: PpsNoise {
                    white_rms_ns: 50.0,
                    ..PpsNoise::default()
                },
                seed: 1,
            },
            thermal_zone: None,
            leap_seconds_file: None,
        },
    )
    .expect("timing");
    let ntp = app::ntp::start_ntp(
        &mut svc,
        gnss_timeserver::ntp::NtpServerConfig {
            bind: vec!["127.0.0.1:0".parse().expect("addr")],
            workers: 1,
            rate_limit_interval_ms: 0,
            ..gnss_timeserver::ntp::NtpServerConfig::default()
        },
        timing.served.clone(),
    )
    .expect("ntp");
    let addr = ntp.local_addrs()[0];

    let locked = wait(&svc, "locked", Duration::from_secs(120), |s| {
        s.discipline.state == gnss_timeserver::discipline::LockState::Locked
            && s.served.synchronized
    })
    .await;
    assert!(locked.discipline.holdover_time_to_limit_s.is_some());
    let r = tokio::task::spawn_blocking(move || query(addr))
        .await
        .expect("query");
    assert_eq!((r.li, r.stratum), (0, 1));

    // The PPS source closes; nothing else changes.
    let timing = tokio::task::spawn_blocking(move || timing.stop_pps_source())
        .await
        .expect("stop pps");
    let hold = wait(&svc, "holdover", Duration::from_secs(30), |s| {
        s.discipline.state == gnss_timeserver::discipline::LockState::Holdover
    })
    .await;
    assert!(hold.discipline.holdover_started_ns.is_some());
    assert_eq!(
        hold.served.stratum, 1,
        "holdover within the limit still serves"
    );
    let first = tokio::task::spawn_blocking(move || query(addr))
        .await
        .expect("query");
    // What the wire says must grow while holdover lasts: ask again (bounded)
    // until a reply carries a larger root dispersion than the first.
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    let second = loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let r = tokio::task::spawn_blocking(move || query(addr))
            .await
            .expect("query");
        if r.root_dispersion > first.root_dispersion || std::time::Instant::now() > deadline {
            break r;
        }
    };
    assert_eq!((second.li, second.stratum), (0, 1), "{second:?}");
    assert!(
        second.root_dispersion > first.root_dispersion,
        "dispersion grows in holdover: {first:?} then {second:?}"
    );

    let unsync = wait(&svc, "unsynchronized", Duration::from_secs(300), |s| {
        s.discipline.state == gnss_timeserver::discipline::LockState::Unsynchronized
    })
    .await;
    assert!(!unsync.served.synchronized);
    let last = tokio::task::spawn_blocking(move || query(addr))
        .await
        .expect("query");
    assert_eq!((last.li, last.stratum), (3, 16));
    // The loop never stopped: the discipline task is still running and beating.
    let disc = unsync
        .parts
        .iter()
        .find(|p| p.name == "discipline")
        .expect("discipline part");
    assert_eq!(disc.state, gnss_timeserver::liveness::PartState::Running);

    drop(ntp);
    timing.stop();
    tokio::task::spawn_blocking(move || gnss.stop())
        .await
        .expect("gnss stop");
    svc.supervisor.shutdown(Duration::from_secs(5)).await;
}
