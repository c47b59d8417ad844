//! Fake receiver core: its output through the real framer, decoders and
//! receiver model, and its answers to host commands.

use super::core::*;
use super::messages;
use super::wire::ubx;
use super::Model;
use crate::gnss::dispatch::decode_frame;
use crate::gnss::framer::Framer;
use crate::gnss::message::Message;
use crate::sim::scenario::Scenario;
use crate::time::NS_PER_SEC;

const T0: i64 = 1_763_700_000 * NS_PER_SEC;

fn decode_all(bytes: &[u8]) -> Vec<Message> {
    let mut framer = Framer::new();
    let mut out = Vec::new();
    framer.feed(bytes, |f| match decode_frame(&f) {
        Some(Ok(m)) => out.push(m),
        Some(Err(e)) => panic!("decoder rejected fake output: {e}"),
        None => {}
    });
    assert_eq!(framer.stats().garbage_bytes, 0);
    out
}

#[test]
fn every_scenario_and_model_decodes_cleanly() {
    for model in [Model::M8T, Model::F9T] {
        for sc in Scenario::ALL {
            let mut rx = ReceiverCore::new(model, sc, StartupOutput::Preconfigured, T0);
            let msgs = decode_all(&rx.epoch(T0 + 20 * NS_PER_SEC));
            let names: Vec<&str> = msgs.iter().map(|m| m.name()).collect();
            assert!(
                msgs.iter().any(|m| matches!(m, Message::NavPvt(_))),
                "{names:?}"
            );
            assert!(msgs.iter().any(|m| matches!(m, Message::TimTp(_))));
            assert!(msgs.iter().any(|m| matches!(m, Message::Zda(_))));
            assert!(msgs.iter().any(|m| matches!(m, Message::Gns(_))));
            let has_hw = msgs.iter().any(|m| matches!(m, Message::MonHw(_)));
            let has_rf = msgs.iter().any(|m| matches!(m, Message::MonRf(_)));
            let has_sig = msgs.iter().any(|m| matches!(m, Message::SecSig(_)));
            assert_eq!(
                (has_hw, has_rf, has_sig),
                (
                    model == Model::M8T,
                    model == Model::F9T,
                    model == Model::F9T
                ),
                "{model:?} {sc}"
            );
        }
    }
}

#[test]
fn decoded_values_match_the_scenario() {
    let t = T0 + 5 * NS_PER_SEC;
    let mut rx = ReceiverCore::new(
        Model::M8T,
        Scenario::Healthy,
        StartupOutput::Preconfigured,
        T0,
    );
    let cond = rx.conditions(t);
    let msgs = decode_all(&rx.epoch(t));
    let sat = msgs
        .iter()
        .find_map(|m| match m {
            Message::NavSat(s) => Some(s),
            _ => None,
        })
        .unwrap();
    let got: Vec<_> = sat.sats.iter().map(|s| (s.gnss, s.svid, s.used)).collect();
    let want: Vec<_> = cond
        .sky
        .iter()
        .map(|s| (s.gnss, u16::from(s.svid), s.used))
        .collect();
    assert_eq!(got, want);
    let pvt = msgs
        .iter()
        .find_map(|m| match m {
            Message::NavPvt(p) => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(pvt.fix_type, 3);
    assert!((pvt.lat_deg - cond.lat_deg).abs() < 1e-6);
    assert_eq!(pvt.num_sv as usize, cond.used_count());
    let tp = msgs
        .iter()
        .find_map(|m| match m {
            Message::TimTp(p) => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(tp.q_err_ps, messages::qerr_ps(t / NS_PER_SEC + 1));

    let mut short = ReceiverCore::new(
        Model::M8T,
        Scenario::AntennaShort,
        StartupOutput::Preconfigured,
        T0,
    );
    let hw = decode_all(&short.epoch(t))
        .into_iter()
        .find_map(|m| match m {
            Message::MonHw(h) => Some(h),
            _ => None,
        })
        .unwrap();
    assert_eq!((hw.a_status, hw.a_power), (3, 0));
}

#[test]
fn factory_defaults_are_nmea_only_and_reset_restores_startup() {
    let mut rx = ReceiverCore::new(
        Model::F9T,
        Scenario::Healthy,
        StartupOutput::FactoryDefaults,
        T0,
    );
    let msgs = decode_all(&rx.epoch(T0));
    assert!(!msgs.is_empty());
    assert!(msgs.iter().all(|m| !matches!(m, Message::NavPvt(_))));
    // Enable NAV-PVT via CFG-MSG, then reset: back to NMEA only after a silent second.
    let reply = rx.input(&ubx(0x06, 0x01, &[0x01, 0x07, 1]), T0);
    assert_eq!(reply, ubx(0x05, 0x01, &[0x06, 0x01]));
    assert!(decode_all(&rx.epoch(T0 + NS_PER_SEC))
        .iter()
        .any(|m| matches!(m, Message::NavPvt(_))));
    let torn = rx.reset(T0 + 2 * NS_PER_SEC);
    assert!(!torn.is_empty());
    assert!(rx.epoch(T0 + 2 * NS_PER_SEC).is_empty());
    let after = decode_all(&rx.epoch(T0 + 3 * NS_PER_SEC));
    assert!(matches!(&after[0], Message::Txt(_)));
    assert!(after.iter().all(|m| !matches!(m, Message::NavPvt(_))));
}

#[test]
fn unsupported_commands_get_nak() {
    let mut m8 = ReceiverCore::new(
        Model::M8T,
        Scenario::Healthy,
        StartupOutput::Preconfigured,
        T0,
    );
    let valset = ubx(0x06, 0x8A, &[0, 1, 0, 0, 0x07, 0x00, 0x91, 0x20, 1]);
    assert_eq!(m8.input(&valset, T0), ubx(0x05, 0x00, &[0x06, 0x8A]));
    let mut f9 = ReceiverCore::new(
        Model::F9T,
        Scenario::Healthy,
        StartupOutput::FactoryDefaults,
        T0,
    );
    assert_eq!(f9.input(&valset, T0), ubx(0x05, 0x01, &[0x06, 0x8A]));
    assert!(f9.enabled().contains(&NAV_PVT));
    // Unknown key: whole VALSET refused.
    let bad = ubx(0x06, 0x8A, &[0, 1, 0, 0, 0x99, 0x99, 0x99, 0x20, 1]);
    assert_eq!(f9.input(&bad, T0), ubx(0x05, 0x00, &[0x06, 0x8A]));
    // Unknown CFG message: NAK.
    assert_eq!(
        f9.input(&ubx(0x06, 0x7F, &[]), T0),
        ubx(0x05, 0x00, &[0x06, 0x7F])
    );
}

/// Run `seconds` epochs of `sc` through the real framer and receiver
/// model; returns every assembled epoch.
fn model_epochs(model: Model, sc: Scenario, seconds: i64) -> Vec<crate::gnss::GnssEpoch> {
    let mut rx = ReceiverCore::new(model, sc, StartupOutput::Preconfigured, T0);
    let mut framer = Framer::new();
    let mut receiver = crate::gnss::Receiver::new();
    let mut out = Vec::new();
    for i in 0..seconds {
        framer.push(&rx.epoch(T0 + i * NS_PER_SEC));
        while let Some(f) = framer.next_frame() {
            out.extend(receiver.handle_frame(&f));
        }
    }
    out
}

#[test]
fn receiver_model_sees_each_scenario_as_intended() {
    use crate::gnss::{AntennaStatus, FixMode, JammingState};
    use crate::sim::scenario::{end_of_month_ns, JUMP_AFTER_S, TIME_JUMP_S};
    for model in [Model::M8T, Model::F9T] {
        // NAV-EOE closes each second's epoch: one epoch per second once
        // UBX drives the boundaries (the very first second may split in
        // two while NMEA still drives them).
        let healthy = model_epochs(model, Scenario::Healthy, 4);
        assert!(healthy.len() == 4 || healthy.len() == 5, "{model:?}");
        for (i, e) in healthy[healthy.len() - 3..].iter().enumerate() {
            let i = i + 1;
            assert_eq!(e.fix.mode, FixMode::ThreeD);
            let t = e.time.expect("time");
            assert!(t.is_valid());
            assert_eq!(t.utc_ns, T0 + i as i64 * NS_PER_SEC);
            let tp = e.time_pulse.expect("TIM-TP");
            assert_eq!(tp.utc_ns, T0 + (i as i64 + 1) * NS_PER_SEC, "next pulse");
            assert_eq!(e.satellites.len(), 12);
            assert_eq!(e.leap.map(|l| l.current), Some(18));
        }

        let loss = model_epochs(model, Scenario::SignalLoss, 2);
        let last = loss.last().expect("epoch");
        assert_eq!(last.fix.mode, FixMode::None);
        assert!(last.time.is_none_or(|t| !t.is_valid()), "{:?}", last.time);
        assert!(last.satellites.is_empty());
        assert_eq!(
            last.time_pulse.and_then(|p| p.qerr_ps),
            None,
            "qErr invalid without signal"
        );

        let last = |sc| model_epochs(model, sc, 2).pop().expect("epoch");
        let open = last(Scenario::AntennaOpen);
        assert_eq!(open.antenna.map(|a| a.status), Some(AntennaStatus::Open));

        let l = last(Scenario::LeapAnnounced).leap.expect("leap");
        assert_eq!(l.change, 1);
        let t1 = T0 + NS_PER_SEC;
        let to_event = (end_of_month_ns(t1) - t1) / NS_PER_SEC;
        assert_eq!(l.time_to_change_s, Some(to_event));
        assert_eq!(
            last(Scenario::LeapNegative).leap.map(|l| l.change),
            Some(-1)
        );

        let jump = model_epochs(model, Scenario::TimeJump, JUMP_AFTER_S + 2);
        let times: Vec<i64> = jump.iter().filter_map(|e| Some(e.time?.utc_ns)).collect();
        let steps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            steps.contains(&((TIME_JUMP_S + 1) * NS_PER_SEC)),
            "{steps:?}"
        );
    }
    let jam = model_epochs(Model::F9T, Scenario::Jamming, 2);
    assert!(matches!(
        jam.last().and_then(|e| e.security).map(|s| s.jamming),
        Some(JammingState::Warning | JammingState::Critical)
    ));
}

/// The fault scenarios differ where a receiver shows them: antenna status
/// and power (MON-HW / MON-RF), jamming state and indicator, no satellites
/// and no fix; F9T adds per-signal data (NAV-SIG), M8T has none.
#[test]
fn fault_scenarios_are_distinct_on_the_receiver_side() {
    use crate::gnss::{AntennaPower, AntennaStatus, FixMode, JammingState};
    for model in [Model::M8T, Model::F9T] {
        let last = |sc| model_epochs(model, sc, 2).pop().expect("epoch");
        let view = |sc| {
            let e = last(sc);
            let a = e.antenna.expect("antenna reported");
            (
                a.status,
                a.power,
                a.jamming.unwrap_or(0) > 150,
                e.security.map(|s| s.jamming),
                e.sky_reported && e.satellites.is_empty(),
                e.fix.mode == FixMode::None,
            )
        };
        let ok = Some(JammingState::Ok);
        assert_eq!(
            view(Scenario::AntennaOpen),
            (AntennaStatus::Open, AntennaPower::On, false, ok, true, true),
            "{model:?}"
        );
        assert_eq!(
            view(Scenario::AntennaShort),
            (
                AntennaStatus::Short,
                AntennaPower::Off,
                false,
                ok,
                true,
                true
            ),
            "{model:?}"
        );
        assert_eq!(
            view(Scenario::SignalLoss),
            (AntennaStatus::Ok, AntennaPower::On, false, ok, true, true),
            "{model:?}"
        );
        let jam = view(Scenario::Jamming);
        assert_eq!(
            (jam.0, jam.2, jam.3, jam.4),
            (AntennaStatus::Ok, true, Some(JammingState::Warning), false),
            "{model:?}"
        );
        let healthy = last(Scenario::Healthy);
        let signals: usize = healthy.satellites.iter().map(|s| s.signals.len()).sum();
        match model {
            Model::M8T => assert_eq!(signals, 0, "M8T sends no NAV-SIG"),
            Model::F9T => {
                assert!(signals > 12, "L1 and a second band: {signals}");
                assert!(healthy.satellites.iter().all(|s| !s.signals.is_empty()));
            }
        }
    }
}

proptest::proptest! {
    /// Whatever a host sends, the fake answers without panicking and
    /// keeps producing decodable epochs.
    #[test]
    fn arbitrary_host_bytes_never_panic(
        cmds in proptest::collection::vec(
            (
                proptest::sample::select(vec![0x06u8, 0x0A, 0x01]),
                proptest::sample::select(vec![0x00u8, 0x01, 0x04, 0x31, 0x71, 0x8A, 0x8B]),
                proptest::collection::vec(proptest::num::u8::ANY, 0..60),
            ),
            0..30,
        ),
        noise in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
    ) {
        for model in [Model::M8T, Model::F9T] {
            let mut rx = ReceiverCore::new(model, Scenario::Healthy, StartupOutput::Preconfigured, T0);
            let _ = rx.input(&noise, T0);
            for (class, id, p) in &cmds {
                let _ = rx.input(&ubx(*class, *id, p), T0);
            }
            let mut framer = Framer::new();
            framer.push(&rx.epoch(T0 + 3 * NS_PER_SEC));
            while let Some(f) = framer.next_frame() {
                proptest::prop_assert!(!matches!(decode_frame(&f), Some(Err(_))));
            }
        }
    }
}
