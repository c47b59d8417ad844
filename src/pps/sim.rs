//! Simulated PPS edges for `demo` (real time) and `simulate` (accelerated).
//!
//! Given a map from true time to the local clock and a noise model, the edge
//! for each true second is `local(true_second + pulse_error) + latency + noise`.
//! The receiver's own quantization (the qErr sawtooth) is modelled by
//! [`Sawtooth`]: it gives the pulse error and the qErr the receiver would
//! report for it, with the sign convention of
//! [`super::QErrConvention`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::QErrConvention;
use super::{PpsEdge, PpsEvent};
use crate::time::NS_PER_SEC;

/// Maps a true instant (ns) to the local clock's reading at that instant.
pub trait LocalClockModel {
    fn local_at(&mut self, true_ns: i64) -> i64;
}

impl<F: FnMut(i64) -> i64> LocalClockModel for F {
    fn local_at(&mut self, true_ns: i64) -> i64 {
        self(true_ns)
    }
}

/// Capture noise.
#[derive(Debug, Clone, PartialEq)]
pub struct PpsNoise {
    /// White (Gaussian) noise RMS, ns.
    pub white_rms_ns: f64,
    /// Probability that a pulse is an outlier (0..=1).
    pub outlier_rate: f64,
    /// Extra delay of an outlier, ns (interrupt latency spikes are late).
    pub outlier_ns: i64,
    /// Constant capture latency, ns.
    pub latency_ns: i64,
}

impl Default for PpsNoise {
    fn default() -> Self {
        Self {
            white_rms_ns: 0.0,
            outlier_rate: 0.0,
            outlier_ns: 0,
            latency_ns: 0,
        }
    }
}

/// The receiver's time-pulse quantization: the pulse can only be emitted on a
/// tick of the receiver's oscillator, so its error is a sawtooth that the
/// receiver reports as qErr (TIM-TP) before the pulse.
#[derive(Debug, Clone, PartialEq)]
pub struct Sawtooth {
    /// Tick period of the receiver's pulse generator, ps (e.g. 8_000 for 125 MHz).
    pub period_ps: i64,
    /// How far the tick phase moves per second, ps (receiver oscillator offset).
    pub drift_ps_per_s: i64,
    pub convention: QErrConvention,
    phase_ps: i64,
}

impl Sawtooth {
    pub fn new(period_ps: i64, drift_ps_per_s: i64, convention: QErrConvention) -> Self {
        Self {
            period_ps: period_ps.max(1),
            drift_ps_per_s,
            convention,
            phase_ps: 0,
        }
    }

    /// Next pulse: (pulse error relative to ideal in ps, reported qErr in ps).
    pub fn next_pulse(&mut self) -> (i64, i64) {
        let p = self.period_ps;
        self.phase_ps = (self.phase_ps + self.drift_ps_per_s).rem_euclid(p);
        // Error in [−p/2, p/2).
        let err = self.phase_ps - p / 2;
        let qerr = match self.convention {
            QErrConvention::PulseAtIdealMinusQErr => -err,
            QErrConvention::PulseAtIdealPlusQErr => err,
        };
        (err, qerr)
    }
}

/// Produces the edge for each true second.
pub struct SimPps<C: LocalClockModel> {
    clock: C,
    noise: PpsNoise,
    rng: ChaCha8Rng,
    white: Option<Normal<f64>>,
    sequence: u64,
}

impl<C: LocalClockModel> SimPps<C> {
    pub fn new(clock: C, noise: PpsNoise, seed: u64) -> Self {
        let white = (noise.white_rms_ns > 0.0 && noise.white_rms_ns.is_finite())
            .then(|| Normal::new(0.0, noise.white_rms_ns).ok())
            .flatten();
        Self {
            clock,
            noise,
            rng: ChaCha8Rng::seed_from_u64(seed),
            white,
            sequence: 0,
        }
    }

    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// The edge marking `true_second_ns`, emitted `pulse_error_ps` off the
    /// ideal instant by the receiver (0 without a sawtooth).
    pub fn edge_at(&mut self, true_second_ns: i64, pulse_error_ps: i64) -> PpsEdge {
        let true_pulse = true_second_ns + pulse_error_ps.div_euclid(1000);
        let mut local = self.clock.local_at(true_pulse) + self.noise.latency_ns;
        if let Some(n) = self.white {
            local += n.sample(&mut self.rng).round() as i64;
        }
        if self.noise.outlier_rate > 0.0 && self.rng.gen_bool(self.noise.outlier_rate.min(1.0)) {
            local += self.noise.outlier_ns;
        }
        self.sequence += 1;
        PpsEdge {
            local_ns: local,
            sequence: self.sequence,
        }
    }
}

/// Handle of a running real-time simulated source; stops it when dropped.
pub struct SimPpsHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimPpsHandle {
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SimPpsHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `demo`: emit an edge at every whole second of the system clock (taken as
/// true time), mapped through `clock` and noise, on `tx`.
pub fn spawn_realtime<C>(
    clock: C,
    noise: PpsNoise,
    seed: u64,
    tx: tokio::sync::mpsc::Sender<PpsEvent>,
) -> std::io::Result<SimPpsHandle>
where
    C: LocalClockModel + Send + 'static,
{
    spawn_realtime_with(
        clock,
        noise,
        seed,
        tx,
        crate::liveness::Heartbeat::default(),
    )
}

/// `spawn_realtime` beating `hb` from its loop.
pub fn spawn_realtime_with<C>(
    clock: C,
    noise: PpsNoise,
    seed: u64,
    tx: tokio::sync::mpsc::Sender<PpsEvent>,
    hb: crate::liveness::Heartbeat,
) -> std::io::Result<SimPpsHandle>
where
    C: LocalClockModel + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::Builder::new()
        .name("pps-sim".into())
        .spawn(move || {
            let mut sim = SimPps::new(clock, noise, seed);
            let next_second = |now: i64| (now.div_euclid(NS_PER_SEC) + 1) * NS_PER_SEC;
            let mut next = next_second(crate::time::system_realtime_ns());
            while !stop2.load(Ordering::Relaxed) {
                hb.beat();
                let now = crate::time::system_realtime_ns();
                // The system clock was stepped (or this thread stalled): resync
                // rather than emit a burst of stale seconds.
                if now - next > 2 * NS_PER_SEC || next - now > 2 * NS_PER_SEC {
                    next = next_second(now);
                    continue;
                }
                if now < next {
                    // Sleep in short slices so stop() is prompt.
                    let wait = (next - now).clamp(0, 200_000_000);
                    std::thread::sleep(std::time::Duration::from_nanos(wait as u64));
                    continue;
                }
                let edge = sim.edge_at(next, 0);
                next += NS_PER_SEC;
                if tx.blocking_send(PpsEvent::Assert(edge)).is_err() {
                    break;
                }
            }
        })?;
    Ok(SimPpsHandle {
        stop,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_edges_and_latency_applies() {
        let noise = PpsNoise {
            white_rms_ns: 100.0,
            latency_ns: 5_000,
            ..PpsNoise::default()
        };
        let mut a = SimPps::new(|t: i64| t + 42, noise.clone(), 7);
        let mut b = SimPps::new(|t: i64| t + 42, noise, 7);
        let mut sum = 0i64;
        for s in 0..1000 {
            let ea = a.edge_at(s * NS_PER_SEC, 0);
            assert_eq!(ea, b.edge_at(s * NS_PER_SEC, 0));
            sum += ea.local_ns - s * NS_PER_SEC;
        }
        let mean = sum / 1000;
        assert!((mean - 5_042).abs() < 20, "mean {mean}");
    }

    #[test]
    fn sawtooth_stays_within_half_period() {
        let mut s = Sawtooth::new(8_000, 1_234, QErrConvention::default());
        for _ in 0..100 {
            let (err, q) = s.next_pulse();
            assert!((-4_000..4_000).contains(&err));
            assert_eq!(q, -err);
        }
    }
}
