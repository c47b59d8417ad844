//! Sign of the qErr, cable-delay and capture-latency corrections.
//!
//! The simulated receiver emits each pulse off its ideal instant by a
//! sawtooth and reports qErr per the u-blox convention used by the project
//! (pulse at ideal − qErr). Applying qErr with the right sign removes the
//! sawtooth; the wrong sign doubles it.

use gnss_timeserver::discipline::pairing::{Pairing, PairingConfig, QErrConvention, Sample};
use gnss_timeserver::gnss::{GnssEpoch, TimePulse};
use gnss_timeserver::pps::sim::{PpsNoise, Sawtooth, SimPps};

const S: i64 = 1_000_000_000;
const T0: i64 = 1_760_000_000 * S;

/// Runs `n` seconds: edge k from the simulator, TIM-TP for it 300 ms after edge k−1.
fn run(
    cfg: PairingConfig,
    n: i64,
    cable_ns: i64,
    latency_ns: i64,
    saw: Option<Sawtooth>,
) -> Vec<Sample> {
    // A longer cable makes the receiver's pulse late: on the local clock the
    // pulse of true second t shows at t + cable.
    let mut sim = SimPps::new(
        move |t: i64| t + cable_ns,
        PpsNoise {
            latency_ns,
            ..PpsNoise::default()
        },
        1,
    );
    let mut saw = saw;
    let mut p = Pairing::new(cfg);
    let mut out = Vec::new();
    for k in 0..n {
        let t = T0 + k * S;
        let (err_ps, qerr_ps) = saw.as_mut().map_or((0, 0), |s| s.next_pulse());
        // TIM-TP for pulse k, sent after pulse k−1.
        let tp = GnssEpoch {
            time_pulse: Some(TimePulse {
                utc_ns: t,
                qerr_ps: Some(qerr_ps),
                utc_based: true,
                utc_valid: true,
            }),
            ..GnssEpoch::default()
        };
        p.on_epoch(&tp, t - S + 300_000_000);
        p.on_edge(sim.edge_at(t, err_ps));
        while let Some(s) = p.next_sample() {
            out.push(s);
        }
    }
    p.on_tick(T0 + (n + 5) * S);
    while let Some(s) = p.next_sample() {
        out.push(s);
    }
    out
}

fn rms(v: impl Iterator<Item = i64>) -> f64 {
    let v: Vec<f64> = v.map(|x| x as f64).collect();
    (v.iter().map(|x| x * x).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

#[test]
fn qerr_sawtooth_is_removed_and_wrong_sign_doubles_it() {
    // 40 ns ticks (a 25 MHz pulse generator), phase walking 7.3 ns per second.
    let saw = || Sawtooth::new(40_000, 7_321, QErrConvention::PulseAtIdealMinusQErr);
    let right = run(PairingConfig::default(), 2000, 0, 0, Some(saw()));
    let wrong = run(
        PairingConfig {
            qerr_convention: QErrConvention::PulseAtIdealPlusQErr,
            ..PairingConfig::default()
        },
        2000,
        0,
        0,
        Some(saw()),
    );
    assert!(right.len() > 1990 && wrong.len() > 1990);
    let raw = rms(right.iter().map(|s| s.raw_local_ns - s.utc_ns));
    let corrected = rms(right.iter().map(|s| s.offset_ns()));
    let doubled = rms(wrong.iter().map(|s| s.offset_ns()));
    eprintln!(
        "sawtooth rms: raw {raw:.2} ns, corrected {corrected:.2} ns, wrong sign {doubled:.2} ns"
    );
    // A uniform sawtooth of 40 ns peak-to-peak has RMS 40/√12 ≈ 11.5 ns.
    assert!((raw - 11.5).abs() < 1.0, "raw sawtooth rms {raw}");
    // Left: only the sub-ns rounding of the simulator's integer-ns pulses.
    assert!(corrected <= 1.0, "corrected rms {corrected}");
    assert!(
        (doubled / raw - 2.0).abs() < 0.1,
        "wrong sign: {doubled} vs raw {raw}"
    );
    assert!(right.iter().all(|s| s.qerr_ps.is_some()));
}

#[test]
fn cable_delay_and_capture_latency_are_subtracted() {
    let cable = 150; // ~30 m of RG-58
    let latency = 2_500;
    let uncorrected = run(PairingConfig::default(), 20, cable, latency, None);
    assert!(!uncorrected.is_empty());
    // Both make the edge late: the local clock looks ahead of UTC by their sum.
    assert!(uncorrected.iter().all(|s| s.offset_ns() == cable + latency));
    let corrected = run(
        PairingConfig {
            cable_delay_ns: cable,
            capture_latency_ns: latency,
            ..PairingConfig::default()
        },
        20,
        cable,
        latency,
        None,
    );
    assert!(!corrected.is_empty());
    assert!(corrected.iter().all(|s| s.offset_ns() == 0));
    assert!(corrected
        .iter()
        .all(|s| s.raw_local_ns - s.local_ns == cable + latency));
    // A longer cable makes the raw edge later.
    let longer = run(PairingConfig::default(), 20, cable * 2, latency, None);
    assert!(longer
        .iter()
        .zip(&uncorrected)
        .all(|(l, u)| l.raw_local_ns - u.raw_local_ns == cable));
}
