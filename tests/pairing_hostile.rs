//! Pairing and the pulse monitor take arbitrary timestamps and receiver
//! values without panicking.

use gnss_timeserver::discipline::pairing::{Pairing, PairingConfig};
use gnss_timeserver::gnss::{EpochTime, GnssEpoch, TimePulse};
use gnss_timeserver::pps::monitor::{MonitorConfig, PulseMonitor};
use gnss_timeserver::pps::{PpsEdge, PpsSourceKind};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Input {
    Edge(i64, u64),
    Epoch {
        arrival: i64,
        time: Option<i64>,
        pulse: Option<(i64, Option<i64>)>,
    },
    Tick(i64),
}

fn input() -> impl Strategy<Value = Input> {
    let t = prop_oneof![
        any::<i64>(),
        (0i64..10_000_000_000).prop_map(|x| 1_700_000_000_000_000_000 + x)
    ];
    prop_oneof![
        (t.clone(), any::<u64>()).prop_map(|(a, s)| Input::Edge(a, s)),
        (
            t.clone(),
            proptest::option::of(t.clone()),
            proptest::option::of((t.clone(), proptest::option::of(any::<i64>())))
        )
            .prop_map(|(arrival, time, pulse)| Input::Epoch {
                arrival,
                time,
                pulse
            }),
        t.prop_map(Input::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn no_panics(inputs in proptest::collection::vec(input(), 0..60)) {
        let mut p = Pairing::new(PairingConfig::default());
        let mut m = PulseMonitor::new(MonitorConfig::default(), PpsSourceKind::Simulated, "x");
        for i in inputs {
            match i {
                Input::Edge(t, s) => {
                    let e = PpsEdge { local_ns: t, sequence: s };
                    p.on_edge(e);
                    m.on_assert(e);
                    m.on_clear(e);
                }
                Input::Epoch { arrival, time, pulse } => {
                    let e = GnssEpoch {
                        time: time.map(|utc_ns| EpochTime {
                            utc_ns,
                            valid_date: true,
                            valid_time: true,
                            fully_resolved: true,
                            tacc_ns: None,
                            source: "x",
                        }),
                        time_pulse: pulse.map(|(utc_ns, qerr_ps)| TimePulse {
                            utc_ns,
                            qerr_ps,
                            utc_based: true,
                            utc_valid: true,
                        }),
                        ..GnssEpoch::default()
                    };
                    p.on_epoch(&e, arrival);
                }
                Input::Tick(t) => {
                    p.on_tick(t);
                    m.on_tick(t);
                    m.on_paired_offset(t);
                }
            }
            while let Some(s) = p.next_sample() {
                let _ = s.offset_ns();
            }
        }
        let st = p.status();
        prop_assert!(st.samples <= st.edges);
    }
}
