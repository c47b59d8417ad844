//! Serial link behaviour through a real pty: silence on an open port,
//! backoff growth, large garbage bursts, and survey-in persisted through a
//! `SurveyStore` across a restart. Every wait has a deadline that FAILS.

use gnss_timeserver::gnss::configure::{
    ConfigState, ConfigureParams, SurveyPosition, SurveyStore, TimingMode,
};
use gnss_timeserver::gnss::serial::{spawn_gnss_input, GnssInput, SerialParams};
use gnss_timeserver::gnss::{FixMode, GnssEpoch, SerialStatus};
use gnss_timeserver::sim::receiver::{FakeOptions, FakeReceiver, Model, StartupOutput};
use gnss_timeserver::store::{Event, EventSink};
use gnss_timeserver::time::system_realtime_ns;
use rand::{RngCore, SeedableRng};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(12);

#[derive(Clone, Default)]
struct SharedStore(Arc<Mutex<Option<SurveyPosition>>>);

impl SurveyStore for SharedStore {
    fn load(&self) -> Option<SurveyPosition> {
        *self.0.lock().unwrap()
    }
    fn save(&mut self, pos: &SurveyPosition) -> Result<(), String> {
        *self.0.lock().unwrap() = Some(*pos);
        Ok(())
    }
}

struct Rig {
    input: GnssInput,
    events: tokio::sync::mpsc::Receiver<Event>,
    seen: Vec<Event>,
}

fn rig(device: &Path, configure: ConfigureParams, store: SharedStore) -> Rig {
    let (sink, events) = EventSink::channel(256);
    let params = SerialParams {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(300),
        read_timeout: Duration::from_millis(50),
        silence_timeout: Duration::from_millis(1500),
        ..SerialParams::new(device, 115_200)
    };
    let input = spawn_gnss_input(params, Some(configure), Box::new(store), sink).expect("spawn");
    Rig {
        input,
        events,
        seen: Vec::new(),
    }
}

fn quick_configure() -> ConfigureParams {
    ConfigureParams {
        ack_timeout_ns: 400_000_000,
        ..ConfigureParams::default()
    }
}

impl Rig {
    fn wait_event(&mut self, kind: &str) -> Event {
        let end = Instant::now() + DEADLINE;
        loop {
            while let Ok(ev) = self.events.try_recv() {
                self.seen.push(ev.clone());
                if ev.kind == kind {
                    return ev;
                }
            }
            assert!(Instant::now() < end, "no {kind} event; got {:?}", self.seen);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_status(&self, what: &str, f: impl Fn(&SerialStatus) -> bool) -> SerialStatus {
        let rx = self.input.task.status();
        let end = Instant::now() + DEADLINE;
        loop {
            let s = rx.borrow().clone();
            if f(&s) {
                return s;
            }
            assert!(Instant::now() < end, "timed out waiting for {what}: {s:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_epoch<T>(&mut self, what: &str, mut f: impl FnMut(&GnssEpoch, i64) -> Option<T>) -> T {
        let end = Instant::now() + DEADLINE;
        loop {
            while let Ok((e, at)) = self.input.epochs.try_recv() {
                if let Some(v) = f(&e, at) {
                    return v;
                }
            }
            assert!(Instant::now() < end, "timed out waiting for epoch: {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn silence_on_an_open_port_is_reported_once_and_cleared() {
    let fake = FakeReceiver::spawn(
        gnss_timeserver::sim::scenario::Scenario::Healthy,
        Model::M8T,
    )
    .expect("fake");
    let mut r = rig(fake.path(), quick_configure(), SharedStore::default());
    r.wait_epoch("first epoch", |_, _| Some(()));
    fake.set_transmitting(false);
    let ev = r.wait_event("serial.silent");
    assert!(ev.message().contains("no data"), "{}", ev.message());
    let s = r.wait_status("silent flag", |s| s.silent);
    assert!(s.connected, "silence is not a lost device");
    assert_eq!(s.outages, 0);
    fake.set_transmitting(true);
    r.wait_event("serial.data_resumed");
    r.wait_status("silent cleared", |s| !s.silent);
    let silent_events = r.seen.iter().filter(|e| e.kind == "serial.silent").count();
    assert_eq!(silent_events, 1, "{:?}", r.seen);
}

#[test]
fn reopen_backoff_doubles_up_to_its_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = rig(
        &dir.path().join("absent"),
        quick_configure(),
        SharedStore::default(),
    );
    // 50 → 100 → 200 → 300 (cap): reaching exactly the cap proves both growth and bound.
    let s = r.wait_status("backoff at cap", |s| s.retry_in_ms == Some(300));
    assert!(s.open_failures >= 4, "{s:?}");
    let s = r.wait_status("still capped", |s| s.open_failures >= 6);
    assert_eq!(s.retry_in_ms, Some(300));
    assert_eq!(s.outages, 1);
}

#[test]
fn large_garbage_burst_costs_only_itself() {
    let fake = FakeReceiver::spawn(
        gnss_timeserver::sim::scenario::Scenario::Healthy,
        Model::F9T,
    )
    .expect("fake");
    let mut r = rig(fake.path(), quick_configure(), SharedStore::default());
    r.wait_epoch("first epoch", |e, _| {
        (e.fix.mode == FixMode::ThreeD).then_some(())
    });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut junk = vec![0u8; 64 * 1024];
    rng.fill_bytes(&mut junk);
    let after = system_realtime_ns();
    for chunk in junk.chunks(4096) {
        fake.inject(chunk);
    }
    // Epochs keep coming, complete, after the burst.
    r.wait_epoch("3D epoch after garbage", |e, at| {
        (at > after + 1_000_000_000 && e.fix.mode == FixMode::ThreeD && e.satellites.len() == 12)
            .then_some(())
    });
    assert!(r.input.task.status().borrow().connected);
}

#[test]
fn survey_in_position_is_stored_and_used_after_restart() {
    let store = SharedStore::default();
    let configure = ConfigureParams {
        timing: TimingMode::SurveyIn {
            min_duration_s: 2,
            accuracy_limit_mm: 5_000,
        },
        ..quick_configure()
    };
    let opts = FakeOptions {
        model: Model::F9T,
        startup: StartupOutput::FactoryDefaults,
        ..FakeOptions::default()
    };
    {
        let fake = FakeReceiver::spawn_with(opts.clone()).expect("fake");
        let mut r = rig(fake.path(), configure.clone(), store.clone());
        let ev = r.wait_event("gnss.survey_complete");
        assert!(ev.durable, "survey result must be committed at once");
        let pos = store
            .load()
            .expect("position saved through the SurveyStore");
        assert!(pos.ecef_x_cm != 0 && pos.ecef_z_cm != 0, "{pos:?}");
    }
    // Restart (new receiver, new daemon): fixed position straight from the store.
    let fake = FakeReceiver::spawn_with(opts).expect("fake");
    let mut r = rig(fake.path(), configure, store.clone());
    let s = r.wait_status("configured", |s| {
        s.configuration.as_ref().map(|c| c.state) == Some(ConfigState::Done)
    });
    let conf = s.configuration.expect("report");
    assert!(
        conf.acked.iter().any(|a| a.contains("fixed position")),
        "{:?}",
        conf.acked
    );
    r.wait_epoch("time-only fix", |e, _| {
        (e.fix.mode == FixMode::Time).then_some(())
    });
}

#[test]
fn true_time_offset_shifts_what_the_receiver_reports() {
    let fake = FakeReceiver::spawn_with(FakeOptions {
        true_time_offset_ns: 100 * gnss_timeserver::time::NS_PER_SEC,
        ..FakeOptions::default()
    })
    .expect("fake");
    let mut r = rig(fake.path(), quick_configure(), SharedStore::default());
    let diff = r.wait_epoch("epoch with time", |e, at| {
        let t = e.time.filter(|t| t.is_valid())?;
        Some(t.utc_ns - at)
    });
    // Reported UTC runs 100 s ahead of the local clock (minus the delivery delay).
    let s = gnss_timeserver::time::NS_PER_SEC;
    assert!(diff > 90 * s && diff <= 100 * s, "{diff}");
}

#[test]
fn configuration_lost_without_a_banner_is_noticed_and_redone() {
    use gnss_timeserver::gnss::message::Message;
    use gnss_timeserver::gnss::serial::{self, Ingest, MessageSink};
    struct Sink(std::sync::mpsc::Sender<(i64, bool)>);
    impl MessageSink for Sink {
        fn message(&mut self, at: i64, m: Message) {
            let _ = self.0.send((at, matches!(m, Message::NavPvt(_))));
        }
    }
    let fake = FakeReceiver::spawn_with(FakeOptions {
        model: Model::M8T,
        startup: StartupOutput::FactoryDefaults,
        ..FakeOptions::default()
    })
    .expect("fake");
    let (events, mut ev_rx) = EventSink::channel(64);
    let (tx, rx) = std::sync::mpsc::channel();
    let ingest = Ingest::new(
        Some(quick_configure()),
        Box::new(SharedStore::default()),
        events.clone(),
        Sink(tx),
    )
    .with_ubx_watchdog(Duration::from_millis(1500));
    let params = SerialParams {
        read_timeout: Duration::from_millis(50),
        ..SerialParams::new(fake.path(), 115_200)
    };
    let _task = serial::spawn(params, ingest, events).expect("spawn");
    let wait_pvt = |after: i64| {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((at, true)) if at > after => return,
                Ok(_) => {}
                Err(_) => panic!("no NAV-PVT after {after}"),
            }
        }
    };
    wait_pvt(0);
    fake.forget_configuration();
    let lost_at = system_realtime_ns();
    // UBX stops; the watchdog notices while NMEA continues and configures again.
    let end = Instant::now() + DEADLINE;
    let mut kinds = Vec::new();
    loop {
        if let Ok(ev) = ev_rx.try_recv() {
            kinds.push(ev.kind.clone());
            if ev.kind == "gnss.reconfigure" {
                break;
            }
        }
        assert!(Instant::now() < end, "no gnss.reconfigure; got {kinds:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_pvt(lost_at + 1_000_000_000);
}

#[test]
fn receiver_at_another_baud_is_found_and_moved_to_the_configured_one() {
    // A factory-default M8T talks at 9600; the daemon is configured for 115200.
    let fake = FakeReceiver::spawn_with(FakeOptions {
        model: Model::M8T,
        startup: StartupOutput::FactoryDefaults,
        baud: Some(9_600),
        ..FakeOptions::default()
    })
    .expect("fake");
    let (sink, events) = EventSink::channel(256);
    let params = SerialParams {
        read_timeout: Duration::from_millis(50),
        autobaud_window: Duration::from_millis(1200),
        ..SerialParams::new(fake.path(), 115_200)
    };
    let input = spawn_gnss_input(
        params,
        Some(quick_configure()),
        Box::new(SharedStore::default()),
        sink,
    )
    .expect("spawn");
    let mut r = Rig {
        input,
        events,
        seen: Vec::new(),
    };
    let ev = r.wait_event("serial.baud_detected");
    assert!(ev.message().contains("9600"), "{}", ev.message());
    // Then the receiver is moved to the configured rate and the link follows.
    r.wait_event("gnss.baud_switch");
    let s = r.wait_status("configured at 115200", |s| {
        s.baud == 115_200 && s.configuration.as_ref().map(|c| c.state) == Some(ConfigState::Done)
    });
    assert!(s.connected && s.outages == 0);
    let conf = s.configuration.expect("report");
    assert!(conf.failed.is_empty(), "{:?}", conf.failed);
    assert_eq!(fake.baud(), Some(115_200));
    assert!(fake.nmea_output(), "NMEA back on at 115200");
    let moved = system_realtime_ns();
    r.wait_epoch("3D fix at 115200", |e, at| {
        (at > moved && e.fix.mode == FixMode::ThreeD).then_some(())
    });
    assert_eq!(r.input.task.status().borrow().baud, 115_200);
}
