//! Fake receiver → real pseudo-terminal → serial task → framer/decoders.
//! Every wait is bounded by a deadline that FAILS the test; nothing sleeps
//! and hopes.

use gnss_timeserver::gnss::configure::{
    ConfigState, ConfigureParams, MemorySurveyStore, ReceiverClass,
};
use gnss_timeserver::gnss::message::Message;
use gnss_timeserver::gnss::serial::{
    self, GnssInput, Ingest, MessageSink, SerialParams, SerialTask,
};
use gnss_timeserver::gnss::{
    AntennaPower, AntennaStatus, Constellation, FixMode, GnssEpoch, JammingState, SerialStatus,
};
use gnss_timeserver::sim::receiver::{FakeOptions, FakeReceiver, Model, StartupOutput};
use gnss_timeserver::sim::scenario::Scenario;
use gnss_timeserver::store::{Event, EventSink};
use gnss_timeserver::time::NS_PER_SEC;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(10);

struct ChannelSink(mpsc::Sender<(i64, Message)>);

impl MessageSink for ChannelSink {
    fn message(&mut self, arrival_ns: i64, message: Message) {
        let _ = self.0.send((arrival_ns, message));
    }
}

struct Rig {
    task: SerialTask,
    messages: mpsc::Receiver<(i64, Message)>,
    events: tokio::sync::mpsc::Receiver<Event>,
    seen_events: Vec<Event>,
}

fn params(device: &Path) -> SerialParams {
    SerialParams {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(300),
        read_timeout: Duration::from_millis(50),
        ..SerialParams::new(device, 115_200)
    }
}

fn configure() -> ConfigureParams {
    ConfigureParams {
        ack_timeout_ns: 400_000_000,
        retries: 2,
        ..ConfigureParams::default()
    }
}

fn rig(device: &Path, configure: Option<ConfigureParams>) -> Rig {
    let (events, ev_rx) = EventSink::channel(256);
    let (tx, rx) = mpsc::channel();
    let ingest = Ingest::new(
        configure,
        Box::new(MemorySurveyStore::default()),
        events.clone(),
        ChannelSink(tx),
    );
    let task = serial::spawn(params(device), ingest, events).expect("spawn serial task");
    Rig {
        task,
        messages: rx,
        events: ev_rx,
        seen_events: Vec::new(),
    }
}

impl Rig {
    /// Next message matching `f`, or fail after `DEADLINE`.
    fn wait_message<T>(&self, what: &str, mut f: impl FnMut(i64, &Message) -> Option<T>) -> T {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok((at, m)) => {
                    if let Some(v) = f(at, &m) {
                        return v;
                    }
                }
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }

    fn wait_status(&self, what: &str, f: impl Fn(&SerialStatus) -> bool) -> SerialStatus {
        let mut rx = self.task.status();
        let end = Instant::now() + DEADLINE;
        loop {
            {
                let s = rx.borrow_and_update();
                if f(&s) {
                    return s.clone();
                }
            }
            assert!(
                Instant::now() < end,
                "timed out waiting for {what}: {:?}",
                *rx.borrow()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_event(&mut self, kind: &str) -> Event {
        let end = Instant::now() + DEADLINE;
        loop {
            while let Ok(ev) = self.events.try_recv() {
                self.seen_events.push(ev.clone());
                if ev.kind == kind {
                    return ev;
                }
            }
            assert!(
                Instant::now() < end,
                "timed out waiting for event {kind}; got {:?}",
                self.seen_events
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn count_events(&mut self, kind: &str) -> usize {
        while let Ok(ev) = self.events.try_recv() {
            self.seen_events.push(ev);
        }
        self.seen_events.iter().filter(|e| e.kind == kind).count()
    }
}

#[test]
fn f9t_from_factory_defaults_is_configured_and_reaches_3d_fix_with_the_scenario_sky() {
    let fake = FakeReceiver::spawn_with(FakeOptions {
        model: Model::F9T,
        startup: StartupOutput::FactoryDefaults,
        ..FakeOptions::default()
    })
    .expect("fake receiver");
    let r = rig(fake.path(), Some(configure()));

    // UBX only flows once the configuration enabled it, so a 3D NAV-PVT proves
    // the ACKed configuration actually took effect.
    let (arrival, pvt_utc) = r.wait_message("3D NAV-PVT", |at, m| match m {
        Message::NavPvt(p) if p.fix_type == 3 => {
            let t = gnss_timeserver::time::utc_from_fields(
                i64::from(p.year),
                u32::from(p.month),
                u32::from(p.day),
                u32::from(p.hour),
                u32::from(p.min),
                u32::from(p.sec),
                0,
            )?;
            Some((at, t))
        }
        _ => None,
    });
    // The arrival stamp is CLOCK_REALTIME ns of the same epoch (loose bound: a
    // sanity check of units and clock, not a latency measurement).
    assert!(
        (arrival - pvt_utc).abs() < 5 * NS_PER_SEC,
        "arrival {arrival} vs epoch {pvt_utc}"
    );

    let (sats, t) = r.wait_message("NAV-SAT", |at, m| match m {
        Message::NavSat(s) => Some((s.sats.clone(), at)),
        _ => None,
    });
    let got: BTreeSet<(Constellation, u16)> = sats.iter().map(|s| (s.gnss, s.svid)).collect();
    let second = t.div_euclid(NS_PER_SEC) * NS_PER_SEC;
    let want: BTreeSet<(Constellation, u16)> = fake
        .conditions(second)
        .sky
        .iter()
        .map(|s| (s.gnss, u16::from(s.svid)))
        .collect();
    assert_eq!(got, want);
    assert_eq!(want.len(), 12);

    let status = r.wait_status("configuration done", |s| {
        s.configuration.as_ref().map(|c| c.state) == Some(ConfigState::Done)
    });
    let conf = status.configuration.unwrap();
    assert!(conf.failed.is_empty(), "{:?}", conf.failed);
    assert_eq!(conf.acked.len(), 2, "{:?}", conf.acked);
    assert_eq!(conf.class, Some(ReceiverClass::F9));
    let log = fake.command_log();
    assert!(log.iter().any(|c| (c.class, c.id) == (0x0A, 0x04)));
    assert!(log.iter().filter(|c| c.acked == Some(true)).count() >= 2);
    assert!(status.connected && status.bytes > 0 && status.outages == 0);
}

/// Next epoch matching `f` from the full GNSS input, or fail after `DEADLINE`.
fn wait_epoch<T>(
    input: &mut GnssInput,
    what: &str,
    mut f: impl FnMut(&GnssEpoch, i64) -> Option<T>,
) -> T {
    let end = Instant::now() + DEADLINE;
    loop {
        while let Ok((epoch, at)) = input.epochs.try_recv() {
            if let Some(v) = f(&epoch, at) {
                return v;
            }
        }
        assert!(Instant::now() < end, "timed out waiting for epoch: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn gnss_input(device: &Path) -> GnssInput {
    serial::spawn_gnss_input(
        params(device),
        Some(configure()),
        Box::new(MemorySurveyStore::default()),
        EventSink::null(),
    )
    .expect("spawn gnss input")
}

#[test]
fn receiver_model_reaches_3d_fix_with_the_scenario_satellites() {
    for model in [Model::M8T, Model::F9T] {
        let fake = FakeReceiver::spawn_with(FakeOptions {
            model,
            startup: StartupOutput::FactoryDefaults,
            ..FakeOptions::default()
        })
        .expect("fake receiver");
        let mut input = gnss_input(fake.path());
        let (sky, utc) = wait_epoch(&mut input, "3D fix with satellites", |e, _| {
            let t = e.time?;
            (e.fix.mode == FixMode::ThreeD && !e.satellites.is_empty() && t.is_valid())
                .then(|| (e.satellites.clone(), t.utc_ns))
        });
        let got: BTreeSet<(Constellation, u16)> = sky.iter().map(|s| (s.gnss, s.svid)).collect();
        let want: BTreeSet<(Constellation, u16)> = fake
            .conditions(utc)
            .sky
            .iter()
            .map(|s| (s.gnss, u16::from(s.svid)))
            .collect();
        assert_eq!(got, want, "{model:?}");
        let used_want = fake.conditions(utc).used_count();
        assert_eq!(sky.iter().filter(|s| s.used).count(), used_want);
        let ident = input.receiver_status.borrow().identity.clone();
        assert!(ident.is_some(), "MON-VER reached the receiver model");
    }
}

#[test]
fn m8t_antenna_short_shows_short() {
    let fake = FakeReceiver::spawn(Scenario::AntennaShort, Model::M8T).expect("fake");
    let mut input = gnss_input(fake.path());
    let antenna = wait_epoch(&mut input, "antenna status", |e, _| e.antenna);
    assert_eq!(antenna.status, AntennaStatus::Short);
    assert_eq!(antenna.power, AntennaPower::Off);
    // Switching scenario while running takes effect on the next epochs.
    fake.set_scenario("healthy").expect("known scenario");
    let err = fake.set_scenario("sunny").unwrap_err().to_string();
    assert!(err.contains("antenna-short"), "{err}");
    wait_epoch(&mut input, "antenna OK after switch", |e, _| {
        (e.antenna?.status == AntennaStatus::Ok).then_some(())
    });
}

#[test]
fn f9t_jamming_is_reported_by_mon_rf_and_sec_sig() {
    let fake = FakeReceiver::spawn(Scenario::Jamming, Model::F9T).expect("fake");
    let mut input = gnss_input(fake.path());
    let (jam, sec) = wait_epoch(&mut input, "jamming indication", |e, _| {
        Some((e.antenna?.jamming?, e.security?.jamming))
    });
    assert!(jam > 150, "jamInd {jam}");
    assert!(
        matches!(sec, JammingState::Warning | JammingState::Critical),
        "{sec:?}"
    );
}

#[test]
fn unplug_and_replug_on_the_same_path_is_exactly_one_outage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("gnss0");
    let opts = FakeOptions {
        model: Model::M8T,
        link: Some(link.clone()),
        ..FakeOptions::default()
    };
    let first = FakeReceiver::spawn_with(opts.clone()).expect("fake");
    let mut r = rig(&link, Some(configure()));
    r.wait_message("data before unplug", |_, m| match m {
        Message::NavPvt(_) => Some(()),
        _ => None,
    });
    r.wait_status("connected", |s| s.connected);

    drop(first); // unplug
    r.wait_event("serial.outage");
    let down = r.wait_status("disconnected", |s| !s.connected);
    assert!(down.last_error.is_some());

    let _second = FakeReceiver::spawn_with(opts).expect("fake again"); // replug
    let restored = r.wait_event("serial.restored");
    assert!(
        restored.message().contains("open again after"),
        "{}",
        restored.message()
    );
    let up = r.wait_status("reconnected", |s| s.connected && s.reopens == 1);
    // Fresh data from the new receiver, through the same path.
    let before = up.bytes;
    r.wait_status("bytes after replug", |s| s.bytes > before);
    r.wait_message("data after replug", |at, m| match m {
        Message::NavPvt(_) if at > up.connected_since_ns.unwrap_or(i64::MAX) => Some(()),
        _ => None,
    });
    assert_eq!(r.count_events("serial.outage"), 1, "{:?}", r.seen_events);
    assert_eq!(r.count_events("serial.restored"), 1);
    let s = r.task.status().borrow().clone();
    assert_eq!(s.outages, 1);
    assert_eq!(s.reopens, 1);
}

#[test]
fn missing_device_at_start_is_retried_with_backoff_and_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("not-yet");
    let mut r = rig(&link, Some(configure()));
    let ev = r.wait_event("serial.outage");
    assert!(ev.message().contains("at start"), "{}", ev.message());
    let s = r.wait_status("several failed opens", |s| s.open_failures >= 3);
    assert!(!s.connected);
    assert!(s.last_error.is_some());
    assert_eq!(s.outages, 1, "retries are one outage, not many");
    assert_eq!(r.count_events("serial.outage"), 1);

    // The device appears: picked up without a restart.
    let _fake = FakeReceiver::spawn_with(FakeOptions {
        link: Some(link.clone()),
        ..FakeOptions::default()
    })
    .expect("fake");
    r.wait_event("serial.restored");
    r.wait_message("data once present", |_, m| match m {
        Message::Gga(_) => Some(()),
        _ => None,
    });
}

#[test]
fn receiver_reset_and_garbage_mid_stream_are_survived_and_reconfigured() {
    let fake = FakeReceiver::spawn_with(FakeOptions {
        model: Model::M8T,
        startup: StartupOutput::FactoryDefaults,
        ..FakeOptions::default()
    })
    .expect("fake");
    let r = rig(fake.path(), Some(configure()));
    r.wait_status("configured", |s| {
        s.configuration.as_ref().map(|c| c.state) == Some(ConfigState::Done)
    });
    let polls_before = fake
        .command_log()
        .iter()
        .filter(|c| (c.class, c.id) == (0x0A, 0x04))
        .count();

    // Garbage, a torn frame, then a reset back to factory defaults.
    fake.inject(&[
        0xB5, 0x62, 0x01, 0x07, 0xFF, 0x00, 0x13, b'$', b'G', 0x00, 0xFF,
    ]);
    fake.reset();
    let reset_at = gnss_timeserver::time::system_realtime_ns();

    // The boot banner makes the serial side configure again, so UBX comes back.
    r.wait_message("NAV-PVT after reset", |at, m| match m {
        Message::NavPvt(p) if at > reset_at + NS_PER_SEC && p.fix_type == 3 => Some(()),
        _ => None,
    });
    let polls_after = fake
        .command_log()
        .iter()
        .filter(|c| (c.class, c.id) == (0x0A, 0x04))
        .count();
    assert!(
        polls_after > polls_before,
        "no re-identification after reset"
    );
    let s = r.task.status().borrow().clone();
    assert!(s.connected);
    assert_eq!(s.outages, 0, "a receiver reset is not a link outage");
}

#[test]
fn nmea_only_receiver_still_works_after_configuration_gives_up() {
    let fake = FakeReceiver::spawn_with(FakeOptions {
        model: Model::M8T,
        startup: StartupOutput::FactoryDefaults,
        accepts_commands: false,
        ..FakeOptions::default()
    })
    .expect("fake");
    let mut r = rig(fake.path(), Some(configure()));
    let s = r.wait_status("NMEA-only", |s| {
        s.configuration.as_ref().map(|c| c.state) == Some(ConfigState::NmeaOnly)
    });
    assert!(s.connected);
    let ev = r.wait_event("gnss.configure_failed");
    assert!(ev.message().contains("NMEA only"), "{}", ev.message());
    r.wait_message("GSV after giving up", |_, m| match m {
        Message::Gsv(_) => Some(()),
        _ => None,
    });
    r.wait_message("RMC after giving up", |_, m| match m {
        Message::Rmc(_) => Some(()),
        _ => None,
    });
}
