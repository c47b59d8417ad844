//! The engine takes hostile input (receiver epochs with absurd times, edges
//! out of order or far apart, non-finite temperatures) without panicking.

use gnss_timeserver::discipline::{Engine, EngineConfig};
use gnss_timeserver::gnss::{
    AntennaInfo, AntennaStatus, EpochTime, Fix, GnssEpoch, LeapInfo, TimeOrigin, TimePulse,
};
use gnss_timeserver::pps::PpsEdge;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Input {
    Edge(i64),
    Epoch {
        at: i64,
        utc: i64,
        tp: i64,
        qerr: i64,
        leap_change: i8,
        ttc: i64,
    },
    Tick(i64, f64),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        any::<i64>().prop_map(Input::Edge),
        (
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i8>(),
            any::<i64>()
        )
            .prop_map(|(at, utc, tp, qerr, leap_change, ttc)| Input::Epoch {
                at,
                utc,
                tp,
                qerr,
                leap_change,
                ttc
            }),
        (
            any::<i64>(),
            prop_oneof![Just(f64::NAN), Just(f64::INFINITY), -50.0..150.0f64]
        )
            .prop_map(|(t, c)| Input::Tick(t, c)),
        // Plausible traffic around 2026 so the servo actually runs.
        (0i64..5_000).prop_map(|k| Input::Edge(1_780_272_000_000_000_000 + k * 1_000_000_000)),
        (0i64..5_000)
            .prop_map(|k| Input::Tick(1_780_272_000_500_000_000 + k * 1_000_000_000, f64::NAN)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn engine_never_panics(inputs in proptest::collection::vec(input(), 1..200)) {
        let mut e = Engine::new(EngineConfig::default(), 1_780_272_000_000_000_000, 0.0, None, None);
        for i in inputs {
            match i {
                Input::Edge(t) => e.on_edge(PpsEdge { local_ns: t, sequence: 0 }),
                Input::Epoch { at, utc, tp, qerr, leap_change, ttc } => {
                    let ep = GnssEpoch {
                        time: Some(EpochTime {
                            utc_ns: utc,
                            valid_date: true,
                            valid_time: true,
                            fully_resolved: true,
                            tacc_ns: None,
                            source: "X",
                        }),
                        time_pulse: Some(TimePulse { utc_ns: tp, qerr_ps: Some(qerr), utc_based: true, utc_valid: true }),
                        fix: Fix { sats_used: Some(9), ..Fix::default() },
                        leap: Some(LeapInfo { current: 18, change: leap_change, time_to_change_s: Some(ttc), valid: true, origin: TimeOrigin::Satellites }),
                        antenna: Some(AntennaInfo { status: AntennaStatus::Ok, ..AntennaInfo::default() }),
                        ..GnssEpoch::default()
                    };
                    e.on_epoch(&ep, at);
                }
                Input::Tick(t, c) => e.on_tick(t, Some(c)),
            }
            let _ = e.drain_commands();
            let _ = e.drain_events();
        }
        let st = e.status();
        let f = e.server_fields(-20);
        prop_assert!(f.stratum == 1 || f.stratum == 16);
        prop_assert!(f.root_dispersion_ns <= 16_000_000_000);
        prop_assert!(!st.time_error_bound_ns.is_some_and(f64::is_nan));
    }
}
