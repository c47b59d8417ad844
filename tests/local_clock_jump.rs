//! Someone sets the clock behind the daemon's back (here: the Virtual clock
//! is stepped directly, as `date -s` steps the Linux clock): the timing loop
//! tells it from a receiver jump with CLOCK_MONOTONIC, steps the clock back
//! at once (a `clock.step` event, reason `local_clock_set`; the status counts
//! it), stays locked and holds no receiver jump for the operator. The
//! daemon's own parts (fake receiver on a pty, serial thread, discipline
//! task) wired as `demo` wires them.

use gnss_timeserver::app::{self, GnssParams, PpsInput, Services, TimingParams};
use gnss_timeserver::clock::{Clock, TimeSource, VirtualClock};
use gnss_timeserver::discipline::LockState;
use gnss_timeserver::gnss::serial::SerialParams;
use gnss_timeserver::pps::sim::PpsNoise;
use gnss_timeserver::sim::receiver::{FakeOptions, FakeReceiver, Model};
use gnss_timeserver::sim::scenario::Scenario;
use gnss_timeserver::status::Snapshot;
use gnss_timeserver::time::{system_realtime_ns, NS_PER_SEC};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
async fn clock_set_behind_our_back_is_stepped_back_not_held_as_a_receiver_jump() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut svc =
        Services::new(&dir.path().join("s.redb"), &dir.path().join("c.sock")).expect("services");
    svc.start_core_tasks(Duration::from_secs(5)).expect("core");
    let mut events = svc.events.live().subscribe();
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
    let engine = app::engine_config(&gnss_timeserver::config::Config::default());
    let vclock = Arc::new(VirtualClock::new());
    let clock: Arc<dyn Clock> = vclock.clone();
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

    let locked = wait(&svc, "locked", Duration::from_secs(120), |s| {
        s.discipline.state == LockState::Locked
    })
    .await;
    assert_eq!(locked.discipline.local_clock_jumps, 0);
    let steps_before = locked.discipline.steps;

    // Behind the daemon's back: the clock it steers moves 3 s ahead.
    const SET_NS: i64 = 3 * NS_PER_SEC;
    vclock.step_ns(SET_NS).expect("step");
    let after = wait(&svc, "the local jump seen", Duration::from_secs(10), |s| {
        s.discipline.local_clock_jumps == 1
    })
    .await;
    let jump = after
        .discipline
        .last_local_clock_jump_ns
        .expect("jump size");
    assert!(
        (jump - SET_NS).abs() < 5_000_000,
        "jump {jump} ns, set {SET_NS} ns"
    );
    assert_eq!(after.discipline.steps, steps_before + 1);

    // The step back was applied: the served clock is on true (system) time again.
    let err = vclock.now_ns() - system_realtime_ns();
    assert!(
        err.abs() < 5_000_000,
        "served − true {err} ns after the step back"
    );

    // The event says what happened.
    let deadline = Instant::now() + Duration::from_secs(10);
    let ev = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(ev)) if ev.name() == "clock.step" && ev.data()["reason"] == "local_clock_set" => {
                break ev
            }
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("no clock.step/local_clock_set event: {other:?}"),
        }
    };
    let delta = ev.data()["delta_ns"].as_i64().expect("delta_ns");
    assert!((delta + SET_NS).abs() < 5_000_000, "stepped by {delta}");

    // Not a receiver jump: nothing held for the operator, and the clock stays
    // (or is again) locked on the receiver without one.
    let later = wait(&svc, "locked after", Duration::from_secs(60), |s| {
        s.discipline.state == LockState::Locked
            && s.discipline.samples > after.discipline.samples + 10
    })
    .await;
    assert_eq!(later.discipline.pending_time_jump_ns, None);
    assert_eq!(later.discipline.local_clock_jumps, 1);
    assert!(later
        .discipline
        .time_error_bound_ns
        .is_some_and(|b| b < 1e6));
    let err = vclock.now_ns() - system_realtime_ns();
    assert!(err.abs() < 100_000, "served − true {err} ns once settled");

    timing.stop();
    tokio::task::spawn_blocking(move || gnss.stop())
        .await
        .expect("gnss stop");
    svc.supervisor.shutdown(Duration::from_secs(5)).await;
}
