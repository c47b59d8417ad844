use super::*;
use crate::gnss::framer::{Frame, Framer};
use crate::sim::receiver::{Model, ReceiverCore, StartupOutput};
use crate::sim::scenario::Scenario;

const T0: i64 = 1_763_700_000 * NS_PER_SEC;

/// Frames the way the serial shell hands them over: decoded once, then fed.
trait FeedUbx {
    fn on_ubx(&mut self, class: u8, id: u8, payload: &[u8], now_ns: i64) -> Vec<u8>;
}

impl FeedUbx for Configurator {
    fn on_ubx(&mut self, class: u8, id: u8, payload: &[u8], now_ns: i64) -> Vec<u8> {
        match crate::gnss::ubx::decode(class, id, payload) {
            Ok(m) => self.on_message(&m, now_ns),
            Err(_) => Vec::new(),
        }
    }
}

fn identify(payload: &[u8]) -> Option<ReceiverIdentity> {
    match crate::gnss::ubx::decode(0x0A, 0x04, payload) {
        Ok(Message::MonVer(v)) => Some(ReceiverIdentity::from_mon_ver(&v)),
        _ => None,
    }
}

/// Run the configurator against the fake receiver's core, sans-IO: bytes
/// go back and forth through the real framer, time advances 1 s per epoch.
fn converse(
    c: &mut Configurator,
    rx: &mut ReceiverCore,
    seconds: i64,
    answer: bool,
) -> Vec<(u8, u8)> {
    let to_rx = c.start(T0);
    converse_from(c, rx, to_rx, T0, seconds, answer)
}

/// `converse` from `t0` on, starting with `to_rx` already due to the receiver.
fn converse_from(
    c: &mut Configurator,
    rx: &mut ReceiverCore,
    mut to_rx: Vec<u8>,
    t0: i64,
    seconds: i64,
    answer: bool,
) -> Vec<(u8, u8)> {
    let mut framer = Framer::new();
    let mut seen = Vec::new();
    for step in 0..seconds * 10 {
        let now = t0 + step * NS_PER_SEC / 10;
        let mut from_rx = if answer {
            rx.input(&to_rx, now)
        } else {
            Vec::new()
        };
        if step % 10 == 0 {
            from_rx.extend(rx.epoch(now));
        }
        to_rx = Vec::new();
        framer.push(&from_rx);
        while let Some(f) = framer.next_frame() {
            if let Frame::Ubx(u) = f {
                seen.push((u.class, u.id));
                to_rx.extend(c.on_ubx(u.class, u.id, u.payload, now));
            }
        }
        to_rx.extend(c.on_tick(now));
    }
    seen
}

#[test]
fn m8t_is_identified_and_configured_with_cfg_msg() {
    let mut rx = ReceiverCore::new(
        Model::M8T,
        Scenario::Healthy,
        StartupOutput::FactoryDefaults,
        T0,
    );
    let mut c = Configurator::new(ConfigureParams::default(), None);
    let seen = converse(&mut c, &mut rx, 3, true);
    let r = c.report();
    assert_eq!(r.state, ConfigState::Done, "{r:?}");
    assert_eq!(r.class, Some(ReceiverClass::M8));
    let id = c.identity().unwrap();
    assert_eq!(id.class, ReceiverClass::M8);
    assert_eq!(id.protocol_version(), Some((22, 0)));
    assert_eq!(id.model.as_deref(), Some("NEO-M8T-0"));
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert!(r.acked.iter().any(|a| a == "CFG-MSG TIM-TP"));
    assert!(r.acked.iter().any(|a| a == "CFG-TP5 1Hz UTC"));
    // Factory defaults had no UBX output: now the timing set flows.
    for id in ReceiverCore::timing_set(Model::M8T) {
        assert!(rx.enabled().contains(&id), "{id:?} not enabled");
        assert!(seen.contains(&id), "{id:?} never received");
    }
    let log = rx.command_log();
    assert!(log.iter().all(|l| l.acked != Some(false)), "{log:?}");
    assert!(!log.iter().any(|l| l.id == 0x8A), "VALSET sent to an M8");
    let evs = c.take_events();
    assert!(evs.iter().any(|e| e.kind == "gnss.configured"));
}

#[test]
fn f9t_is_configured_with_valset() {
    let mut rx = ReceiverCore::new(
        Model::F9T,
        Scenario::Healthy,
        StartupOutput::FactoryDefaults,
        T0,
    );
    let mut c = Configurator::new(ConfigureParams::default(), None);
    converse(&mut c, &mut rx, 3, true);
    let r = c.report();
    assert_eq!(r.state, ConfigState::Done);
    assert_eq!(r.class, Some(ReceiverClass::F9));
    assert_eq!(
        r.acked,
        vec!["CFG-VALSET messages", "CFG-VALSET time pulse"]
    );
    for id in ReceiverCore::timing_set(Model::F9T) {
        assert!(rx.enabled().contains(&id), "{id:?} not enabled");
    }
    assert!(rx
        .command_log()
        .iter()
        .all(|l| l.class != 0x06 || l.id == 0x8A));
}

#[test]
fn survey_in_completes_and_the_stored_position_is_used_next_time() {
    let params = ConfigureParams {
        timing: TimingMode::SurveyIn {
            min_duration_s: 3,
            accuracy_limit_mm: 2000,
        },
        ..ConfigureParams::default()
    };
    for model in [Model::M8T, Model::F9T] {
        let mut rx =
            ReceiverCore::new(model, Scenario::Healthy, StartupOutput::FactoryDefaults, T0);
        let mut c = Configurator::new(params.clone(), None);
        converse(&mut c, &mut rx, 8, true);
        assert_eq!(c.report().survey, SurveyState::Fixed, "{model:?}");
        let pos = c.take_survey_result().expect("survey result");
        // The fake's antenna is near Prague: |ECEF| ≈ Earth radius.
        let r = ((pos.ecef_x_cm as f64).powi(2)
            + (pos.ecef_y_cm as f64).powi(2)
            + (pos.ecef_z_cm as f64).powi(2))
        .sqrt()
            / 100.0;
        assert!((6_360_000.0..6_370_000.0).contains(&r), "{r}");
        let mut store = MemorySurveyStore::default();
        store.save(&pos).unwrap();

        // Restart: fixed position straight away, no new survey.
        let mut rx2 =
            ReceiverCore::new(model, Scenario::Healthy, StartupOutput::FactoryDefaults, T0);
        let mut c2 = Configurator::new(params.clone(), store.load());
        converse(&mut c2, &mut rx2, 2, true);
        assert_eq!(c2.report().survey, SurveyState::Fixed);
        assert!(
            c2.report().acked.iter().any(|a| a.contains("fixed")),
            "{:?}",
            c2.report()
        );
        assert!(c2.take_survey_result().is_none());
    }
}

#[test]
fn silent_receiver_ends_nmea_only_after_retries() {
    let mut rx = ReceiverCore::new(
        Model::M8T,
        Scenario::Healthy,
        StartupOutput::FactoryDefaults,
        T0,
    );
    let params = ConfigureParams::default();
    let mut c = Configurator::new(params.clone(), None);
    converse(&mut c, &mut rx, 5, false);
    assert_eq!(c.report().state, ConfigState::NmeaOnly);
    let evs = c.take_events();
    assert_eq!(evs.len(), 1);
    assert!(evs[0]
        .message()
        .contains(&format!("{} attempts", params.retries + 1)));
}

#[test]
fn nak_and_missing_ack_are_reported_per_command() {
    // Pretend the F9 is an M8-class receiver by feeding MON-VER of an M8,
    // then answer one command with NAK and let another time out.
    let mut c = Configurator::new(ConfigureParams::default(), None);
    c.start(T0);
    let ver = crate::sim::receiver::messages::mon_ver(Model::M8T);
    let first = c.on_ubx(0x0A, 0x04, &ver, T0);
    assert_eq!(&first[2..4], &[0x06, 0x00], "CFG-PRT first");
    let second = c.on_ubx(0x05, 0x00, &[0x06, 0x00], T0);
    assert_eq!(&second[2..4], &[0x06, 0x01]);
    // An ACK for a different message is ignored.
    assert!(c.on_ubx(0x05, 0x01, &[0x06, 0x31], T0).is_empty());
    // No answer: retried twice (same bytes), then given up.
    let t1 = T0 + NS_PER_SEC;
    assert_eq!(c.on_tick(t1), second);
    assert_eq!(c.on_tick(t1 + NS_PER_SEC), second);
    let third = c.on_tick(t1 + 2 * NS_PER_SEC);
    assert_ne!(third, second);
    let r = c.report();
    assert_eq!(r.failed.len(), 2, "{:?}", r.failed);
    assert!(r.failed[0].contains("CFG-PRT") && r.failed[0].contains("NAK"));
    assert!(r.failed[1].contains("NAV-PVT") && r.failed[1].contains("no ACK"));
}

#[test]
fn mon_ver_parsing_handles_short_and_odd_payloads() {
    assert!(identify(&[0u8; 39]).is_none());
    let id = identify(&crate::sim::receiver::messages::mon_ver(Model::F9T)).unwrap();
    assert_eq!(id.protocol_version(), Some((29, 20)));
    assert_eq!(id.class, ReceiverClass::F9);
    // Old firmware without PROTVER: hardware generation decides.
    let mut p = vec![0u8; 40];
    p[30..38].copy_from_slice(b"00190000");
    assert_eq!(identify(&p).unwrap().class, ReceiverClass::F9);
    p[30..38].copy_from_slice(b"00070000");
    assert_eq!(identify(&p).unwrap().class, ReceiverClass::M8);
}

proptest::proptest! {
    /// Hostile replies never panic the state machine and it always ends
    /// (Done or NmeaOnly) once time runs past every timeout.
    #[test]
    fn arbitrary_replies_never_panic_and_always_terminate(
        frames in proptest::collection::vec(
            (
                proptest::sample::select(vec![0x05u8, 0x0A, 0x0D, 0x06, 0x01]),
                proptest::sample::select(vec![0x00u8, 0x01, 0x04, 0x31]),
                proptest::collection::vec(proptest::num::u8::ANY, 0..120),
            ),
            0..40,
        ),
        survey in proptest::bool::ANY,
    ) {
        let params = ConfigureParams {
            timing: if survey {
                TimingMode::SurveyIn { min_duration_s: 1, accuracy_limit_mm: 1 }
            } else {
                TimingMode::Off
            },
            ..ConfigureParams::default()
        };
        let mut c = Configurator::new(params, None);
        c.start(T0);
        for (i, (class, id, payload)) in frames.iter().enumerate() {
            let _ = c.on_ubx(*class, *id, payload, T0 + i as i64);
            let _ = c.on_tick(T0 + i as i64);
        }
        for k in 1..200 {
            let _ = c.on_tick(T0 + k * NS_PER_SEC);
        }
        proptest::prop_assert!(matches!(
            c.report().state,
            ConfigState::Done | ConfigState::NmeaOnly
        ));
    }
}

#[test]
fn msgout_keys_follow_the_port() {
    use keys::Port;
    assert_eq!(
        keys::msgout_key((0x01, 0x07), Port::Uart1),
        Some(0x2091_0007)
    );
    assert_eq!(keys::msgout_key((0x01, 0x07), Port::Usb), Some(0x2091_0009));
    assert_eq!(keys::msgout_message(0x2091_0009), Some((0x01, 0x07)));
    assert_eq!(keys::msgout_message(0x2091_0008), Some((0x01, 0x07)));
    assert_eq!(keys::msgout_message(0x2091_000a), None, "SPI is not ours");
    assert_eq!(Port::guess(std::path::Path::new("/dev/ttyACM0")), Port::Usb);
    assert_eq!(
        Port::guess(std::path::Path::new(
            "/dev/serial/by-id/usb-u-blox_AG_ZED-F9T-if00"
        )),
        Port::Usb
    );
    assert_eq!(
        Port::guess(std::path::Path::new("/dev/ttyAMA0")),
        Port::Uart1
    );
    assert_eq!(
        Port::guess(std::path::Path::new("/dev/ttyUSB0")),
        Port::Uart1
    );
}

#[test]
fn f9t_over_usb_gets_usb_keys() {
    let mut c = Configurator::new(
        ConfigureParams {
            port: Some(keys::Port::Usb),
            ..ConfigureParams::default()
        },
        None,
    );
    c.start(T0);
    let ver = crate::sim::receiver::messages::mon_ver(Model::F9T);
    let valset = c.on_ubx(0x0A, 0x04, &ver, T0);
    assert_eq!(&valset[2..4], &[0x06, 0x8A]);
    let has_key = |k: u32| valset.windows(4).any(|w| w == k.to_le_bytes());
    assert!(has_key(0x2091_0009), "NAV-PVT on USB");
    assert!(has_key(keys::USBOUTPROT_UBX));
    assert!(!has_key(0x2091_0007), "no UART1 key");
}

#[test]
fn baud_switch_is_requested_once_and_dropped_when_it_does_not_happen() {
    let mut rx = ReceiverCore::new(
        Model::M8T,
        Scenario::Healthy,
        StartupOutput::FactoryDefaults,
        T0,
    );
    let params = ConfigureParams {
        baud: 9_600,
        target_baud: Some(115_200),
        ..ConfigureParams::default()
    };
    let mut c = Configurator::new(params, None);
    converse(&mut c, &mut rx, 3, true);
    assert_eq!(c.report().state, ConfigState::Done);
    assert_eq!(c.take_baud_request(), Some(115_200));
    assert_eq!(rx.take_baud_change(), Some(115_200), "receiver was told");
    assert!(c.take_events().iter().any(|e| e.kind == "gnss.baud_switch"));
    // The link comes back at 9600: the switch did not happen. Say so, and do
    // not try again on the next configuration.
    c.set_baud(9_600, T0);
    assert!(c
        .take_events()
        .iter()
        .any(|e| e.kind == "gnss.baud_switch_failed"));
    converse(&mut c, &mut rx, 3, true);
    assert_eq!(c.report().state, ConfigState::Done);
    assert_eq!(c.take_baud_request(), None);
}

#[test]
fn slow_line_keeps_nmea_off_so_the_ubx_epoch_fits() {
    for model in [Model::M8T, Model::F9T] {
        let mut rx =
            ReceiverCore::new(model, Scenario::Healthy, StartupOutput::FactoryDefaults, T0);
        let params = ConfigureParams {
            baud: 9_600,
            ..ConfigureParams::default()
        };
        let mut c = Configurator::new(params, None);
        converse(&mut c, &mut rx, 3, true);
        assert_eq!(c.report().state, ConfigState::Done);
        assert!(!rx.nmea_output(), "{model:?}: NMEA still on at 9600");
        assert_eq!(c.take_baud_request(), None, "no target: stay");
        // One epoch of UBX alone fits in a second at 9600 baud (≈960 B/s).
        assert!(rx.epoch(T0 + 10 * NS_PER_SEC).len() < 900);
    }
}

#[test]
fn survey_restart_starts_a_new_survey_on_the_receiver() {
    let params = ConfigureParams {
        timing: TimingMode::SurveyIn {
            min_duration_s: 3,
            accuracy_limit_mm: 2000,
        },
        ..ConfigureParams::default()
    };
    for model in [Model::M8T, Model::F9T] {
        let mut rx =
            ReceiverCore::new(model, Scenario::Healthy, StartupOutput::FactoryDefaults, T0);
        let mut c = Configurator::new(params.clone(), None);
        converse(&mut c, &mut rx, 8, true);
        assert_eq!(c.report().survey, SurveyState::Fixed, "{model:?}");
        assert!(c.take_survey_result().is_some());
        c.take_events();
        let t1 = T0 + 8 * NS_PER_SEC;
        let out = c.restart_survey(Some("admin".into()), t1).unwrap();
        assert!(!out.is_empty());
        assert_eq!(c.report().survey, SurveyState::InProgress);
        assert_eq!(c.fixed_position(), None, "no longer held fixed");
        // A second request while the first is under way is refused.
        assert_eq!(c.restart_survey(None, t1), Err(SurveyRestartRefused::Busy));
        converse_from(&mut c, &mut rx, out, t1, 2, true);
        let r = c.report();
        assert_eq!(r.state, ConfigState::Done, "{model:?} {r:?}");
        assert!(r.failed.is_empty(), "{model:?} {:?}", r.failed);
        // The old survey's replies did not end the new one at once.
        assert_eq!(r.survey, SurveyState::InProgress, "{model:?}");
        let events = c.take_events();
        assert!(
            events.iter().any(|e| matches!(&e.kind,
                EventKind::GnssSurveyRestarted { by } if by.as_deref() == Some("admin"))),
            "{events:?}"
        );
        // The receiver surveys again and the configurator sees it through.
        converse_from(&mut c, &mut rx, Vec::new(), t1 + 2 * NS_PER_SEC, 5, true);
        assert_eq!(c.report().survey, SurveyState::Fixed, "{model:?}");
        assert!(c.take_survey_result().is_some(), "a new position to store");
    }
    // Nothing to restart without a timing mode.
    let mut rx = ReceiverCore::new(
        Model::M8T,
        Scenario::Healthy,
        StartupOutput::FactoryDefaults,
        T0,
    );
    let mut c = Configurator::new(ConfigureParams::default(), None);
    assert_eq!(
        c.restart_survey(None, T0),
        Err(SurveyRestartRefused::TimingOff)
    );
    converse(&mut c, &mut rx, 3, true);
    assert_eq!(
        c.restart_survey(None, T0),
        Err(SurveyRestartRefused::TimingOff)
    );
}
