//! Online estimate of the oscillator's random-walk frequency wander, so one
//! default configuration fits a TCXO and a cheap crystal alike.
//!
//! The free-running phase φ (measured offset minus every correction the
//! servo applied, minus the modelled temperature effect) is averaged over
//! blocks of `m` samples; the second difference D of consecutive block means
//! has, for random-walk FM with per-second variance q plus white phase noise
//! R, E[D²] = 0.55·q·m³ + 6·R/m. Solving for q needs no help from the Kalman
//! filter itself, so a mistuned filter cannot talk itself into its own tuning.

use std::collections::VecDeque;

/// E[D²] = K·q·m³ for random-walk FM (block-mean second difference).
const K_RWFM: f64 = 0.55;

#[derive(Debug, Clone)]
pub struct WanderEstimator {
    m: usize,
    sum_phi: f64,
    sum_theta: f64,
    n: usize,
    blocks: VecDeque<(f64, f64)>,
    mean_d2: f64,
    count: u32,
    /// Latest noise estimate (ns²), for removing the white-noise part.
    r: f64,
    /// The last (phi, theta) pushed, for bridging missed samples.
    last: Option<(f64, f64)>,
}

/// Gaps up to this long (s) are bridged; longer ones break the sequence.
pub const MAX_BRIDGED_GAP_S: f64 = 5.5;

impl WanderEstimator {
    pub fn new(m: usize) -> Self {
        Self {
            m: m.max(8),
            sum_phi: 0.0,
            sum_theta: 0.0,
            n: 0,
            blocks: VecDeque::with_capacity(3),
            mean_d2: 0.0,
            count: 0,
            r: 0.0,
            last: None,
        }
    }

    /// Samples were missing (holdover, outage): blocks no longer line up.
    pub fn break_sequence(&mut self) {
        self.sum_phi = 0.0;
        self.sum_theta = 0.0;
        self.n = 0;
        self.blocks.clear();
        self.last = None;
    }

    /// A sample `gap_s` seconds after the previous one. A few missed pulses
    /// are bridged by linear interpolation: on a free-running ramp of tens of
    /// µs per second a hole would shift its block's mean by far more than
    /// any wander (one missed pulse once read as 20× the true wander).
    /// Longer gaps break the sequence.
    pub fn push_after(&mut self, gap_s: f64, phi: f64, theta: f64, c: f64, r: f64) {
        if gap_s > MAX_BRIDGED_GAP_S {
            self.break_sequence();
        } else if let Some((p0, t0)) = self.last {
            let steps = gap_s.round().max(1.0) as usize;
            for i in 1..steps {
                let f = i as f64 / steps as f64;
                self.push(p0 + f * (phi - p0), t0 + f * (theta - t0), c, r);
            }
        }
        self.push(phi, theta, c, r);
    }

    /// One accepted sample: free-running phase `phi` (ns), integrated
    /// temperature `theta` (°C·s), current tempco estimate `c` (ns/s/°C) and
    /// measurement noise `r` (ns²).
    pub fn push(&mut self, phi: f64, theta: f64, c: f64, r: f64) {
        self.r = r;
        self.last = Some((phi, theta));
        self.sum_phi += phi;
        self.sum_theta += theta;
        self.n += 1;
        if self.n < self.m {
            return;
        }
        let mf = self.n as f64;
        self.blocks
            .push_back((self.sum_phi / mf, self.sum_theta / mf));
        self.sum_phi = 0.0;
        self.sum_theta = 0.0;
        self.n = 0;
        if self.blocks.len() > 3 {
            self.blocks.pop_front();
        }
        if let (Some(a), Some(b), Some(d)) =
            (self.blocks.front(), self.blocks.get(1), self.blocks.get(2))
        {
            let dphi = d.0 - 2.0 * b.0 + a.0;
            let dtheta = d.1 - 2.0 * b.1 + a.1;
            let dd = dphi - c * dtheta;
            self.count = self.count.saturating_add(1);
            let w = 1.0 / f64::from(self.count.min(64));
            self.mean_d2 += w * (dd * dd - self.mean_d2);
        }
    }

    /// Estimated per-second frequency variance q ((ns/s)² per s), once
    /// `min_blocks` differences were seen.
    pub fn q(&self, min_blocks: u32) -> Option<f64> {
        if self.count < min_blocks {
            return None;
        }
        let m = self.m as f64;
        let white = 6.0 * self.r / m;
        Some(((self.mean_d2 - white).max(0.0)) / (K_RWFM * m * m * m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn recovers_random_walk_level_under_white_noise() {
        for (sigma_ns_per_s, white) in [(1.0, 1000.0), (0.1, 20.0)] {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
            let w = Normal::new(0.0, sigma_ns_per_s).unwrap();
            let n = Normal::new(0.0, white).unwrap();
            let mut est = WanderEstimator::new(100);
            let (mut y, mut x) = (20_000.0, 0.0);
            for _ in 0..40_000 {
                y += w.sample(&mut rng);
                x += y;
                est.push(x + n.sample(&mut rng), 0.0, 0.0, white * white);
            }
            let q = est.q(8).unwrap();
            let ratio = q.sqrt() / sigma_ns_per_s;
            assert!(
                (0.6..1.5).contains(&ratio),
                "σ {sigma_ns_per_s}: ratio {ratio}"
            );
        }
    }
}
