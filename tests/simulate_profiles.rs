//! The shipped profiles meet their targets (fixed seeds, numbers asserted).
//! chrony 4.8 best-settings numbers in the comments come from the issue.

use gnss_timeserver::sim::timing::{simulate, Scenario, Summary};
use std::path::Path;

fn profile(name: &str) -> Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(format!("profile-{name}.toml"));
    Scenario::load(&p).expect("profile loads")
}

fn run(name: &str, seed: u64) -> Summary {
    simulate(&profile(name), seed).0
}

fn num(v: Option<f64>) -> f64 {
    v.expect("statistic present")
}

#[test]
fn profile_a_te_within_100ns_after_lock() {
    for seed in 1..=5 {
        let s = run("a", seed);
        assert!(
            num(s.te_max_ns) <= 100.0,
            "seed {seed}: max {:?}",
            s.te_max_ns
        );
        assert!(
            num(s.te_rms_ns) < 19.0,
            "seed {seed}: rms {:?}",
            s.te_rms_ns
        );
        assert!(s.te_seconds > 13_000);
        assert!(s.time_to_lock_s.is_some_and(|t| t < 60.0));
    }
}

/// Issue 12: worst TDEV / G.8272 PRTC-A mask <= 1.45 on every seed (the
/// minimum-variance loop measured 1.43-1.59 on these seeds; the design
/// model flattens its peak at τ ≈ 30 s).
#[test]
fn profile_a_tdev_within_1_45_of_the_prtc_a_mask() {
    for seed in 1..=5 {
        let s = run("a", seed);
        let r = num(s.tdev_prtc_a_worst_ratio);
        assert!(
            r <= 1.45,
            "seed {seed}: worst TDEV/mask {r} {:?}",
            s.tdev_ns
        );
    }
}

#[test]
fn profile_a_prime_beats_chrony_best() {
    // chrony best: TE RMS 18.6 ns, max 89 ns, MTIE(1000 s) 149 ns.
    for seed in 1..=5 {
        let s = run("a-prime", seed);
        assert!(
            num(s.te_rms_ns) < 18.6,
            "seed {seed}: rms {:?}",
            s.te_rms_ns
        );
        assert!(
            num(s.te_max_ns) < 89.0,
            "seed {seed}: max {:?}",
            s.te_max_ns
        );
        let m = num(s.mtie_ns["1000"]);
        assert!(m < 149.0, "seed {seed}: mtie(1000) {m}");
    }
}

#[test]
fn profile_b_beats_chrony_best() {
    // chrony best: TE RMS 273 ns, max 1855 ns.
    for seed in 1..=5 {
        let s = run("b", seed);
        assert!(
            num(s.te_rms_ns) < 273.0,
            "seed {seed}: rms {:?}",
            s.te_rms_ns
        );
        assert!(
            num(s.te_max_ns) < 1855.0,
            "seed {seed}: max {:?}",
            s.te_max_ns
        );
    }
}

#[test]
fn profile_c_beats_chrony_best_and_rejects_outliers() {
    // chrony best: TE RMS 345 ns, max 2073 ns.
    // Seed 5 starts with an outlier as its first sample: acquisition must recover.
    for seed in 1..=5 {
        let s = run("c", seed);
        assert!(
            num(s.te_rms_ns) < 345.0,
            "seed {seed}: rms {:?}",
            s.te_rms_ns
        );
        assert!(
            num(s.te_max_ns) < 2073.0,
            "seed {seed}: max {:?}",
            s.te_max_ns
        );
        // 1% of 14400 pulses are +20 µs outliers: nearly all must be rejected.
        assert!(s.outliers >= 100, "seed {seed}: outliers {}", s.outliers);
        assert!(s.time_to_lock_s.is_some_and(|t| t < 60.0), "seed {seed}");
    }
}

#[test]
fn profile_d_holdover_over_20_seeds() {
    // chrony: |TE| after 1 h without PPS: median 80 µs, p90 220 µs.
    let mut te = Vec::new();
    let mut covered = 0;
    for seed in 1..=20 {
        let s = run("d", seed);
        let t = s.holdover_te_ns["3600"];
        let b = s.holdover_bound_ns["3600"];
        if t.abs() <= b {
            covered += 1;
        }
        assert!(
            s.transitions
                .iter()
                .any(|t| t.to == "holdover" && t.reason == "pps_missing"),
            "seed {seed}: {:?}",
            s.transitions
        );
        te.push(t.abs());
    }
    te.sort_by(f64::total_cmp);
    let median = (te[9] + te[10]) / 2.0;
    // p90 by linear interpolation between the 18th and 19th of 20.
    let p90 = te[17] + 0.1 * (te[18] - te[17]);
    assert!(median <= 80_000.0, "median {median}");
    assert!(p90 <= 220_000.0, "p90 {p90}");
    assert!(covered >= 19, "bound covered {covered}/20");
}

#[test]
fn profile_d_prime_temperature_model_halves_frequency_only_error() {
    for seed in [1, 2, 3] {
        let s = run("d-prime", seed);
        let ours = s.holdover_te_ns["3600"].abs();
        let fo = s.holdover_freq_only_te_ns["3600"].abs();
        assert!(ours < 0.5 * fo, "seed {seed}: ours {ours} freq-only {fo}");
        assert!(
            (s.final_tempco_ppm_per_c - 0.2).abs() < 0.02,
            "seed {seed}: tempco {}",
            s.final_tempco_ppm_per_c
        );
    }
}

#[test]
fn bound_covers_time_error_in_profiles() {
    for name in [
        "a",
        "a-prime",
        "b",
        "c",
        "d",
        "d-prime",
        "a-dropouts",
        "a-temp-step",
        "hw-f9t",
        "hw-ocxo",
    ] {
        let s = run(name, 1);
        let c = s.bound_coverage.expect("coverage");
        assert!(c >= 0.999, "{name}: coverage {c}");
    }
}

/// Not one of the profiles: the aging state of the holdover model
/// earns its keep. 24 h locked on an OCXO-class oscillator aging 0.05 ppm/day,
/// then 4 h without PPS: holding the learned drift beats holding the frequency
/// alone (measured: 0.1–5 µs against 52–63 µs), and the bound still covers.
#[test]
fn profile_aging_learned_drift_beats_frequency_only_hold() {
    for seed in [1, 2, 3] {
        let s = run("aging", seed);
        let ours = s.holdover_te_ns["14400"].abs();
        let fo = s.holdover_freq_only_te_ns["14400"].abs();
        let bound = s.holdover_bound_ns["14400"];
        assert!(ours < 0.25 * fo, "seed {seed}: ours {ours} freq-only {fo}");
        assert!(
            ours <= bound,
            "seed {seed}: |TE| {ours} beyond bound {bound}"
        );
    }
}

/// Missed pulses (issue 12, D1): six single 1 s dropouts leave profile A's
/// TE RMS within 10 % of the same seed without them, and max |TE| <= 50 ns.
#[test]
fn missed_pulses_cost_nothing_on_profile_a() {
    for seed in 1..=5 {
        let base = num(run("a", seed).te_rms_ns);
        let s = run("a-dropouts", seed);
        let rms = num(s.te_rms_ns);
        assert!(rms <= 1.1 * base, "seed {seed}: rms {rms} vs {base}");
        assert!(
            num(s.te_max_ns) <= 50.0,
            "seed {seed}: max {:?}",
            s.te_max_ns
        );
    }
}

/// A CPU-load temperature step (+10 °C in 60 s and back, 0.1 ppm/°C) with
/// healthy GNSS: never out of Locked, bound covers, max |TE| <= 200 ns.
#[test]
fn temperature_steps_keep_lock_on_profile_a() {
    for seed in 1..=5 {
        let s = run("a-temp-step", seed);
        assert_eq!(s.transitions.len(), 1, "seed {seed}: {:?}", s.transitions);
        let c = s.bound_coverage.expect("coverage");
        assert!(c >= 0.999, "seed {seed}: coverage {c}");
        assert!(
            num(s.te_max_ns) <= 200.0,
            "seed {seed}: max {:?}",
            s.te_max_ns
        );
    }
}

/// Hardware-class inputs meet the G.8272 PRTC-B masks.
#[test]
fn hardware_class_profiles_meet_prtc_b() {
    for name in ["hw-f9t", "hw-ocxo"] {
        for seed in 1..=5 {
            let s = run(name, seed);
            assert!(s.prtc_b_pass, "{name} seed {seed}: {:?}", s.tdev_ns);
            assert!(num(s.te_max_ns) <= 40.0, "{name} seed {seed}");
        }
    }
}

/// The Pi profile (IRQ latency, 54 MHz timer, missed pulses, load heat with
/// a lagging crystal, kernel frequency steps): the servo re-acquires by
/// itself whenever it loses the oscillator and ends locked, and the bound
/// covers >= 99.9 % of the seconds (measured 99.93-100 %; it was 99.0-99.4 %
/// before the tracking evidence entered the bound).
#[test]
fn pi_profile_recovers_by_itself_and_its_bound_covers() {
    for seed in 1..=5 {
        let s = run("pi", seed);
        assert!(
            s.transitions.iter().all(|t| t.to != "unsynchronized"),
            "seed {seed}: {:?}",
            s.transitions
        );
        assert_eq!(
            s.transitions.last().map(|t| t.to),
            Some("locked"),
            "seed {seed}"
        );
        assert_eq!(s.steps, 1, "seed {seed}: only the start-up step");
        let c = s.bound_coverage.expect("coverage");
        assert!(c >= 0.999, "seed {seed}: coverage {c}");
    }
}
