//! Pulse monitor detections: no pulses, wrong rate, double edges, missing
//! pulses, wrong polarity (pulse width and paired offset), interval jitter.

use gnss_timeserver::pps::monitor::{EdgeVerdict, MonitorConfig, PulseMonitor};
use gnss_timeserver::pps::sim::{PpsNoise, SimPps};
use gnss_timeserver::pps::{PpsEdge, PpsSourceKind, PulseState};

const S: i64 = 1_000_000_000;
const T0: i64 = 1_770_000_000 * S;

fn edge(t: i64) -> PpsEdge {
    PpsEdge {
        local_ns: t,
        sequence: 0,
    }
}

fn monitor() -> PulseMonitor {
    PulseMonitor::new(MonitorConfig::default(), PpsSourceKind::Kernel, "/dev/pps0")
}

#[test]
fn no_pulses_detected_and_recovered() {
    let mut m = monitor();
    m.on_tick(T0);
    assert_eq!(m.status().state, PulseState::Waiting);
    for k in 0..5 {
        m.on_assert(edge(T0 + k * S));
        m.on_tick(T0 + k * S + S / 2);
    }
    assert_eq!(m.status().state, PulseState::Ok);
    m.on_tick(T0 + 4 * S + 2 * S);
    assert_eq!(
        m.status().state,
        PulseState::Ok,
        "2 s quiet is within timeout"
    );
    m.on_tick(T0 + 4 * S + 3 * S);
    m.on_tick(T0 + 4 * S + 4 * S);
    let st = m.status();
    assert_eq!(st.state, PulseState::NoPulses);
    assert_eq!(st.timeouts, 1, "one outage counted once");
    // Pulses come back after 6 s: 5 missing, state recovers.
    assert_eq!(
        m.on_assert(edge(T0 + 10 * S)),
        EdgeVerdict::Gap { missing: 5 }
    );
    let st = m.status();
    assert_eq!(st.state, PulseState::Ok);
    assert_eq!(st.missing, 5);
    assert_eq!(st.device, "/dev/pps0");
    assert_eq!(st.source, PpsSourceKind::Kernel);
}

#[test]
fn wrong_rate_detected() {
    let mut m = monitor();
    // A 1.3 s train (e.g. a misconfigured time-pulse period).
    for k in 0..10 {
        m.on_assert(edge(T0 + k * 1_300_000_000));
    }
    let st = m.status();
    assert_eq!(st.state, PulseState::WrongRate);
    assert_eq!(st.wrong_rate, 9);
    assert_eq!(st.last_interval_ns, Some(1_300_000_000));
    // And back to 1 Hz.
    let base = T0 + 20 * S;
    for k in 0..10 {
        m.on_assert(edge(base + k * S));
    }
    assert_eq!(m.status().state, PulseState::Ok);
}

#[test]
fn double_edges_counted_and_ignored() {
    let mut m = monitor();
    for k in 0..10 {
        let t = T0 + k * S;
        m.on_assert(edge(t));
        if k % 3 == 0 {
            assert_eq!(m.on_assert(edge(t + 40_000_000)), EdgeVerdict::Double);
        }
    }
    let st = m.status();
    assert_eq!(st.double_edges, 4);
    assert_eq!(st.pulses, 10, "bounces are not pulses");
    assert_eq!(st.wrong_rate, 0, "the train itself is fine");
    assert_eq!(st.state, PulseState::Ok);
}

#[test]
fn polarity_from_pulse_width() {
    // Correct polarity: 100 ms high after the on-time edge.
    let mut ok = monitor();
    // Swapped: the captured "assert" is the trailing edge, the pulse looks 900 ms wide.
    let mut swapped = monitor();
    for k in 0..10 {
        let t = T0 + k * S;
        ok.on_assert(edge(t));
        ok.on_clear(edge(t + 100_000_000));
        swapped.on_assert(edge(t + 100_000_000));
        swapped.on_clear(edge(t + S));
    }
    assert!(!ok.status().polarity_suspect);
    assert_eq!(ok.status().pulse_width_ns, Some(100_000_000));
    assert!(swapped.status().polarity_suspect);
    assert_eq!(swapped.status().pulse_width_ns, Some(900_000_000));
}

#[test]
fn polarity_from_paired_offsets() {
    let mut m = monitor();
    for _ in 0..8 {
        m.on_paired_offset(100_000_000 + 3_000);
    }
    assert!(m.status().polarity_suspect);
    let mut n = monitor();
    for k in 0..8 {
        n.on_paired_offset(if k % 2 == 0 { 2_000_000 } else { -3_000_000 });
    }
    assert!(!n.status().polarity_suspect);
    // One odd sample is not enough.
    let mut o = monitor();
    for k in 0..8 {
        o.on_paired_offset(if k == 3 { 500_000_000 } else { 1_000 });
    }
    assert!(!o.status().polarity_suspect);
}

#[test]
fn interval_jitter_is_rms_of_interval_error() {
    let cfg = MonitorConfig {
        jitter_window: 4000,
        ..MonitorConfig::default()
    };
    let mut m = PulseMonitor::new(cfg, PpsSourceKind::Simulated, "sim");
    let mut sim = SimPps::new(
        |t: i64| t,
        PpsNoise {
            white_rms_ns: 1_000.0,
            ..PpsNoise::default()
        },
        3,
    );
    for k in 0..4001 {
        m.on_assert(sim.edge_at(T0 + k * S, 0));
    }
    // Interval error is the difference of two independent 1 µs errors: √2 µs.
    let j = m.status().interval_jitter_ns.expect("jitter");
    assert!((j - 1414.2).abs() < 60.0, "jitter {j}");
    assert_eq!(m.status().pulses, 4001);
}
