//! Stability metrics over a time-error series sampled once per second: MTIE
//! and TDEV, and the ITU-T G.8272 PRTC-A / PRTC-B masks they are judged by.
//!
//! Masks (G.8272, locked mode; τ in seconds, results in ns):
//! * PRTC-A MTIE: 0.275·τ + 25 for 1 < τ ≤ 273; 100 above.
//!   TDEV: 3 for τ ≤ 100; 0.03·τ for 100 < τ ≤ 1000; 30 for 1000 < τ ≤ 10000.
//! * PRTC-B MTIE: 0.275·τ + 10 for 1 < τ ≤ 109; 40 above (G.8272 writes
//!   0.275e-3·τ + 0.010 µs: continuous at 109 s).
//!   TDEV: 1 for τ ≤ 30; 0.0333·τ for 30 < τ ≤ 300; 10 for 300 < τ ≤ 1000.

use std::collections::VecDeque;

/// MTIE at an observation interval of `tau` samples: the largest peak-to-peak
/// time error within any window spanning `tau` sample intervals. O(N).
pub fn mtie(x: &[f64], tau: usize) -> Option<f64> {
    let w = tau + 1;
    if tau == 0 || x.len() < w {
        return None;
    }
    let mut maxq: VecDeque<usize> = VecDeque::new();
    let mut minq: VecDeque<usize> = VecDeque::new();
    let mut best = 0.0f64;
    for (i, &v) in x.iter().enumerate() {
        while maxq.back().is_some_and(|&j| x[j] <= v) {
            maxq.pop_back();
        }
        maxq.push_back(i);
        while minq.back().is_some_and(|&j| x[j] >= v) {
            minq.pop_back();
        }
        minq.push_back(i);
        if i + 1 >= w {
            let start = i + 1 - w;
            while maxq.front().is_some_and(|&j| j < start) {
                maxq.pop_front();
            }
            while minq.front().is_some_and(|&j| j < start) {
                minq.pop_front();
            }
            if let (Some(&a), Some(&b)) = (maxq.front(), minq.front()) {
                best = best.max(x[a] - x[b]);
            }
        }
    }
    Some(best)
}

/// TDEV at `n` samples (τ = n·τ0), standard estimator:
/// TDEV² = 1/(6n²(N−3n+1)) Σ_j [Σ_{i=j}^{j+n−1} (x_{i+2n} − 2x_{i+n} + x_i)]².
pub fn tdev(x: &[f64], n: usize) -> Option<f64> {
    let len = x.len();
    if n == 0 || len < 3 * n + 1 {
        return None;
    }
    let mut c = Vec::with_capacity(len + 1);
    c.push(0.0);
    let mut acc = 0.0;
    for &v in x {
        acc += v;
        c.push(acc);
    }
    let m = len - 3 * n + 1;
    let mut sum = 0.0;
    for j in 0..m {
        let a = c[j + 3 * n] - c[j + 2 * n];
        let b = c[j + 2 * n] - c[j + n];
        let d = c[j + n] - c[j];
        let s = a - 2.0 * b + d;
        sum += s * s;
    }
    let nf = n as f64;
    Some((sum / (6.0 * nf * nf * m as f64)).sqrt())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrtcClass {
    A,
    B,
}

/// MTIE mask limit, ns.
pub fn mtie_mask_ns(class: PrtcClass, tau_s: f64) -> f64 {
    match class {
        PrtcClass::A if tau_s <= 273.0 => 0.275 * tau_s + 25.0,
        PrtcClass::A => 100.0,
        PrtcClass::B if tau_s <= 109.0 => 0.275 * tau_s + 10.0,
        PrtcClass::B => 40.0,
    }
}

/// TDEV mask limit, ns (None beyond the mask's range).
pub fn tdev_mask_ns(class: PrtcClass, tau_s: f64) -> Option<f64> {
    match class {
        PrtcClass::A if tau_s <= 100.0 => Some(3.0),
        PrtcClass::A if tau_s <= 1000.0 => Some(0.03 * tau_s),
        PrtcClass::A if tau_s <= 10_000.0 => Some(30.0),
        PrtcClass::B if tau_s <= 30.0 => Some(1.0),
        PrtcClass::B if tau_s <= 300.0 => Some(0.0333 * tau_s),
        PrtcClass::B if tau_s <= 1000.0 => Some(10.0),
        _ => None,
    }
}

/// Observation intervals (s) at which masks are checked.
pub const MASK_TAUS: &[usize] = &[
    1, 2, 3, 5, 10, 20, 30, 50, 100, 109, 110, 200, 273, 274, 300, 500, 1000, 2000, 3000, 5000,
    10_000,
];

/// Does the series meet the class's MTIE and TDEV masks at every interval it
/// is long enough for?
pub fn meets_mask(x: &[f64], class: PrtcClass) -> bool {
    MASK_TAUS.iter().all(|&tau| {
        let m_ok = mtie(x, tau).is_none_or(|m| m <= mtie_mask_ns(class, tau as f64));
        let t_ok = match (tdev(x, tau), tdev_mask_ns(class, tau as f64)) {
            (Some(t), Some(lim)) => t <= lim,
            _ => true,
        };
        m_ok && t_ok
    })
}

/// Worst TDEV / mask ratio over `MASK_TAUS` (None when too short).
pub fn worst_tdev_ratio(x: &[f64], class: PrtcClass) -> Option<f64> {
    MASK_TAUS
        .iter()
        .filter_map(|&tau| Some(tdev(x, tau)? / tdev_mask_ns(class, tau as f64)?))
        .reduce(f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtie_of_a_ramp_and_a_spike() {
        let ramp: Vec<f64> = (0..100).map(|i| i as f64).collect();
        assert_eq!(mtie(&ramp, 10), Some(10.0));
        let mut spike = vec![0.0; 50];
        spike[20] = 7.0;
        spike[30] = -3.0;
        assert_eq!(mtie(&spike, 5), Some(7.0));
        assert_eq!(mtie(&spike, 10), Some(10.0));
        assert_eq!(mtie(&spike, 50), None);
    }

    #[test]
    fn tdev_of_white_phase_noise_scales_as_expected() {
        // White PM: TDEV(n) = σ/sqrt(n)·... for n = 1, TDEV = σ·sqrt(6/6)/... use
        // the closed form for n = 1: E[(x2 − 2x1 + x0)²] = 6σ² → TDEV = σ.
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let nd = Normal::new(0.0, 10.0).unwrap();
        let x: Vec<f64> = (0..100_000).map(|_| nd.sample(&mut rng)).collect();
        let t1 = tdev(&x, 1).unwrap();
        assert!((t1 - 10.0).abs() < 0.2, "{t1}");
        // For white PM TDEV falls as 1/sqrt(n).
        let t16 = tdev(&x, 16).unwrap();
        assert!((t16 - 10.0 / 4.0).abs() < 0.25, "{t16}");
        // A linear ramp has zero second difference.
        let ramp: Vec<f64> = (0..1000).map(|i| 3.0 * i as f64).collect();
        assert!(tdev(&ramp, 10).unwrap() < 1e-9);
    }

    #[test]
    fn masks() {
        assert_eq!(mtie_mask_ns(PrtcClass::A, 100.0), 52.5);
        assert_eq!(mtie_mask_ns(PrtcClass::A, 1000.0), 100.0);
        assert_eq!(mtie_mask_ns(PrtcClass::B, 1000.0), 40.0);
        // G.8272 PRTC-B: 10 ns floor rising 0.275 ns/s to 40 ns at 109 s.
        assert_eq!(mtie_mask_ns(PrtcClass::B, 1.0), 10.275);
        assert!((mtie_mask_ns(PrtcClass::B, 109.0) - 39.975).abs() < 1e-9);
        assert_eq!(tdev_mask_ns(PrtcClass::A, 500.0), Some(15.0));
        assert_eq!(tdev_mask_ns(PrtcClass::B, 30.0), Some(1.0));
        assert!((tdev_mask_ns(PrtcClass::B, 300.0).unwrap() - 9.99).abs() < 1e-9);
        assert_eq!(tdev_mask_ns(PrtcClass::B, 1000.0), Some(10.0));
        assert_eq!(tdev_mask_ns(PrtcClass::B, 2000.0), None);
        // A 15 ns step passes PRTC-A's 25 ns MTIE floor but not PRTC-B's 10 ns.
        let step: Vec<f64> = (0..6000)
            .map(|i| if i < 3000 { 0.0 } else { 15.0 })
            .collect();
        assert!(meets_mask(&step, PrtcClass::A));
        assert!(!meets_mask(&step, PrtcClass::B));
        let quiet = vec![0.0; 5000];
        assert!(meets_mask(&quiet, PrtcClass::B));
        let mut bad = quiet.clone();
        bad[100] = 200.0;
        assert!(!meets_mask(&bad, PrtcClass::A));
    }
}
