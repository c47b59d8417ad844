//! Servo tests: closed loops against synthetic clocks.

use super::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Closed loop against a synthetic clock: constant 20 ppm, white noise.
fn run(noise_ns: f64, outlier_every: usize, n: usize) -> (Servo, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let noise = Normal::new(0.0, noise_ns).unwrap();
    let mut servo = Servo::new(ServoConfig::default(), None);
    let y_true = 20_000.0; // ns/s
    let mut x_true = 5_000.0;
    let mut corr = 0.0;
    let mut sq = 0.0;
    let mut cnt = 0.0;
    for k in 0..n {
        if k > 0 {
            let u = corr * NS_PER_S_PER_PPM;
            x_true += y_true + u;
            servo.predict(1.0, u, None);
        }
        if k > 300 {
            sq += x_true * x_true;
            cnt += 1.0;
        }
        let mut z = x_true + noise.sample(&mut rng);
        if outlier_every > 0 && k % outlier_every == 7 {
            z += 20_000.0;
        }
        servo.update(z, None);
        corr = servo.steer_ppm();
    }
    (servo, (sq / cnt).sqrt())
}

#[test]
fn converges_and_estimates_frequency_and_noise() {
    let (servo, rms) = run(1_000.0, 0, 3000);
    assert!(
        (servo.frequency_ppm() - 20.0).abs() < 0.01,
        "{}",
        servo.frequency_ppm()
    );
    assert!(rms < 400.0, "rms {rms}");
    assert!(
        (servo.noise_ns() - 1_000.0).abs() < 250.0,
        "noise {}",
        servo.noise_ns()
    );
}

#[test]
fn rejects_single_outliers() {
    let (servo, rms) = run(1_000.0, 100, 3000);
    assert!(servo.outliers() >= 29, "outliers {}", servo.outliers());
    assert!(rms < 400.0, "rms {rms}");
}

#[test]
fn steer_is_clamped() {
    let mut s = Servo::new(ServoConfig::default(), None);
    s.update(1e9, None);
    assert_eq!(s.steer_ppm(), -500.0);
}

#[test]
fn learns_temperature_coefficient() {
    // 0.2 ppm/°C, temperature ramps ±5 °C; no wander, 20 ns noise.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let noise = Normal::new(0.0, 20.0).unwrap();
    let mut servo = Servo::new(ServoConfig::default(), None);
    let mut x_true = 0.0;
    let mut corr = 0.0;
    for k in 0..7200 {
        let temp = 25.0 + 5.0 * (k as f64 * std::f64::consts::TAU / 14_400.0).sin();
        let y_true = 3_000.0 + 200.0 * (temp - 25.0);
        if k > 0 {
            let u = corr * NS_PER_S_PER_PPM;
            x_true += y_true + u;
            servo.predict(1.0, u, Some(temp));
        }
        servo.update(x_true + noise.sample(&mut rng), Some(temp));
        corr = servo.steer_ppm();
    }
    assert!(
        (servo.tempco_ppm_per_c() - 0.2).abs() < 0.02,
        "tempco {}",
        servo.tempco_ppm_per_c()
    );
}

/// A closed loop with random-walk wander (σ per second, fractional), white
/// noise, a temperature path with its tempco, and seconds whose sample is
/// missing (the time update then spans the gap, as the engine does).
struct Loop {
    wander: f64,
    noise_ns: f64,
    tempco_ppm_per_c: f64,
    temp: fn(usize) -> f64,
    missing: fn(usize) -> bool,
    n: usize,
}

/// Returns the servo and the largest |true phase| after 600 s.
fn closed_loop(l: &Loop, seed: u64) -> (Servo, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, l.noise_ns).unwrap();
    let step = Normal::new(0.0, l.wander * 1e9).unwrap();
    let mut servo = Servo::new(ServoConfig::default(), None);
    let (mut walk, mut x_true, mut corr, mut dt, mut max) = (0.0, 5_000.0, 0.0, 0.0, 0.0f64);
    let mut u_acc = 0.0;
    for k in 0..l.n {
        let temp = (l.temp)(k);
        if k > 0 {
            walk += step.sample(&mut rng);
            let y = 20_000.0 + walk + l.tempco_ppm_per_c * 1e3 * (temp - 25.0);
            let u = corr * NS_PER_S_PER_PPM;
            x_true += y + u;
            u_acc += u;
            dt += 1.0;
        }
        if k > 600 {
            max = max.max(x_true.abs());
        }
        if k > 0 && (l.missing)(k) {
            continue;
        }
        if k > 0 {
            servo.predict(dt, u_acc, Some(temp));
        }
        (dt, u_acc) = (0.0, 0.0);
        servo.update(x_true + noise.sample(&mut rng), Some(temp));
        corr = servo.steer_ppm();
    }
    (servo, max)
}

/// D1: a missed pulse on a 20 ppm free-running ramp must not be read as
/// wander (a hole in a 100-sample block shifted its mean by ~200 ns).
#[test]
fn missed_pulses_do_not_inflate_the_wander_estimate() {
    let l = Loop {
        wander: 1e-10,
        noise_ns: 20.0,
        tempco_ppm_per_c: 0.0,
        temp: |_| 25.0,
        missing: |k| [1_234, 3_001, 3_002, 5_555, 7_000, 9_100].contains(&k),
        n: 14_400,
    };
    for seed in 1..=3 {
        let (servo, _) = closed_loop(&l, seed);
        let w = servo.wander_sigma();
        assert!((0.4e-10..2.5e-10).contains(&w), "seed {seed}: wander {w:e}");
    }
}

/// D2: a temperature step with the cold tempco prior (1 ppm/°C) blows up P00
/// for a few samples; the noise estimate must not collapse with it, and the
/// filter must keep accepting samples.
#[test]
fn noise_estimate_survives_a_prior_variance_jump() {
    let l = Loop {
        wander: 1e-10,
        noise_ns: 20.0,
        tempco_ppm_per_c: 0.1,
        temp: |k| 25.0 + 10.0 * ((k as f64 - 3_600.0) / 60.0).clamp(0.0, 1.0),
        missing: |_| false,
        n: 5_400,
    };
    for seed in 1..=3 {
        let (servo, max) = closed_loop(&l, seed);
        let noise = servo.noise_ns();
        assert!((12.0..35.0).contains(&noise), "seed {seed}: noise {noise}");
        assert!(
            servo.outliers() < 10,
            "seed {seed}: {} outliers",
            servo.outliers()
        );
        assert!(max < 200.0, "seed {seed}: max |x| {max}");
    }
}

/// The gains come from the design model, but the σ the bound and holdover
/// read must be the real error's: over a long run on profile A's noise
/// (20 ns white, wander 1e-10) the mean P00 matches the squared error of the
/// phase estimate (measured 0.98), the frequency's likewise (0.95). The
/// design covariance read 27 % high in phase and 31 % low in frequency
/// variance (0.79 / 1.45): the holdover bound escaped on 2 of 300 D seeds.
#[test]
fn reported_sigma_is_the_real_error_under_the_design_gains() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let white = Normal::new(0.0, 20.0).unwrap();
    let walk = Normal::new(0.0, 0.1).unwrap();
    let mut servo = Servo::new(ServoConfig::default(), None);
    let (mut x, mut y) = (0.0, 20_000.0);
    let (mut err2, mut p00, mut yerr2, mut p11, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for k in 0..40_000 {
        if k > 0 {
            y += walk.sample(&mut rng);
            x += y;
            servo.predict(1.0, 0.0, None);
        }
        servo.update(x + white.sample(&mut rng), None);
        if k > 5_000 {
            err2 += (servo.offset_ns() - x).powi(2);
            p00 += servo.offset_sigma_ns().powi(2);
            yerr2 += (servo.frequency_ppm() * NS_PER_S_PER_PPM - y).powi(2);
            p11 += (servo.frequency_sigma_ppm() * NS_PER_S_PER_PPM).powi(2);
            n += 1.0;
        }
    }
    let phase = (err2 / n) / (p00 / n);
    let freq = (yerr2 / n) / (p11 / n);
    assert!(
        (0.85..1.15).contains(&phase),
        "phase error² / P00 = {phase}"
    );
    assert!(
        (0.8..1.25).contains(&freq),
        "frequency error² / P11 = {freq}"
    );
}
