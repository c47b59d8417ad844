//! `Sim`: a simulated oscillator advanced in true time by the simulator.
//! Frequency = offset + random-walk wander (each true second the fractional
//! frequency changes by N(0, σ)) + linear aging + temperature coefficient ×
//! (T − T_ref).
//! Commands act exactly as the kernel would, including leap insert/delete at
//! the end of the UTC day. Deterministic for a given seed.

use super::{Clock, ClockCommand, ClockError, ClockState, LeapFlag, TimeSource, MAX_FREQ_PPM};
use crate::time::{UnixNanos, NS_PER_SEC, SECS_PER_DAY};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;
use std::sync::Mutex;

const SLEW_RATE: f64 = 500e-6;
const DAY_NS: i64 = SECS_PER_DAY * NS_PER_SEC;

/// Temperature seen by the oscillator, as a function of seconds since the start.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TemperatureProfile {
    Constant {
        #[serde(rename = "celsius")]
        celsius: f64,
    },
    Sinusoid {
        #[serde(rename = "mean-c")]
        mean_c: f64,
        #[serde(rename = "amplitude-c")]
        amplitude_c: f64,
        #[serde(rename = "period-s")]
        period_s: f64,
    },
    /// Piecewise-linear through (seconds, °C) points; held flat outside.
    Table { points: Vec<(f64, f64)> },
}

impl Default for TemperatureProfile {
    fn default() -> Self {
        Self::Constant { celsius: 25.0 }
    }
}

impl TemperatureProfile {
    pub fn at(&self, t_s: f64) -> f64 {
        match self {
            Self::Constant { celsius } => *celsius,
            Self::Sinusoid {
                mean_c,
                amplitude_c,
                period_s,
            } => {
                if *period_s <= 0.0 {
                    *mean_c
                } else {
                    mean_c + amplitude_c * (std::f64::consts::TAU * t_s / period_s).sin()
                }
            }
            Self::Table { points } => {
                let Some(first) = points.first() else {
                    return 25.0;
                };
                if t_s <= first.0 {
                    return first.1;
                }
                for w in points.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    if t_s <= b.0 {
                        let span = b.0 - a.0;
                        return if span <= 0.0 {
                            b.1
                        } else {
                            a.1 + (b.1 - a.1) * (t_s - a.0) / span
                        };
                    }
                }
                points.last().map_or(25.0, |p| p.1)
            }
        }
    }
}

/// Oscillator parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOscillator {
    /// Frequency offset at the reference temperature, ppm.
    pub offset_ppm: f64,
    /// Random-walk wander: σ of the per-second fractional frequency change.
    pub wander_sigma: f64,
    /// ppm per °C.
    pub tempco_ppm_per_c: f64,
    pub reference_c: f64,
    pub temperature: TemperatureProfile,
    /// Linear frequency drift (crystal aging), ppm per day.
    pub aging_ppm_per_day: f64,
    /// Cubic part of the crystal curve, ppm/°C³ around `reference_c`.
    pub tempco_cubic_ppm_per_c3: f64,
    /// First-order lag of the crystal behind the sensor temperature, s.
    pub crystal_lag_s: f64,
    /// Resolution of frequency corrections (the kernel's 2^-16 ppm), ppm; 0: exact.
    pub frequency_resolution_ppm: f64,
}

impl Default for SimOscillator {
    fn default() -> Self {
        Self {
            offset_ppm: 20.0,
            wander_sigma: 1e-9,
            tempco_ppm_per_c: 0.0,
            reference_c: 25.0,
            temperature: TemperatureProfile::default(),
            aging_ppm_per_day: 0.0,
            tempco_cubic_ppm_per_c3: 0.0,
            crystal_lag_s: 0.0,
            frequency_resolution_ppm: 0.0,
        }
    }
}

#[derive(Debug)]
struct SimState {
    osc: SimOscillator,
    rng: ChaCha8Rng,
    start_true_ns: i64,
    true_ns: i64,
    /// local − true, ns.
    offset_ns: f64,
    /// Accumulated random-walk part of the fractional frequency.
    walk: f64,
    /// Fractional frequency of the free-running oscillator for the current second.
    y_osc: f64,
    corr_ppm: f64,
    slew_left_ns: f64,
    leap: LeapFlag,
    tai: i32,
    maxerror_ns: u64,
    esterror_ns: u64,
    unsync: bool,
    /// Leap seconds the kernel logic executed (+1 inserted, −1 deleted).
    leaps_done: i32,
    /// The crystal's own temperature (lags the sensor's).
    crystal_c: f64,
}

impl SimState {
    fn temp_at(&self, true_ns: i64) -> f64 {
        self.osc
            .temperature
            .at((true_ns - self.start_true_ns) as f64 / NS_PER_SEC as f64)
    }
    fn refresh_y(&mut self) {
        let sensor = self.temp_at(self.true_ns);
        // Once a second: the crystal relaxes towards the sensor's temperature.
        self.crystal_c = if self.osc.crystal_lag_s > 0.0 {
            self.crystal_c
                + (sensor - self.crystal_c) * (1.0 - (-1.0 / self.osc.crystal_lag_s).exp())
        } else {
            sensor
        };
        let dt = self.crystal_c - self.osc.reference_c;
        let days = (self.true_ns - self.start_true_ns) as f64 / DAY_NS as f64;
        self.y_osc = self.osc.offset_ppm * 1e-6
            + self.osc.aging_ppm_per_day * 1e-6 * days
            + self.walk
            + self.osc.tempco_ppm_per_c * 1e-6 * dt
            + self.osc.tempco_cubic_ppm_per_c3 * 1e-6 * dt * dt * dt;
    }
    fn local(&self) -> i64 {
        self.true_ns + self.offset_ns.round() as i64
    }
    /// Integrate over `dt` true ns with the current frequency and slew.
    fn integrate(&mut self, dt: i64) {
        if dt <= 0 {
            return;
        }
        let before = self.local();
        let dtf = dt as f64;
        self.offset_ns += dtf * (self.y_osc + self.corr_ppm * 1e-6);
        if self.slew_left_ns != 0.0 {
            let s = self.slew_left_ns.signum() * self.slew_left_ns.abs().min(dtf * SLEW_RATE);
            self.offset_ns += s;
            self.slew_left_ns -= s;
        }
        self.true_ns += dt;
        self.kernel_leap(before);
    }
    /// The kernel inserts a second by repeating 23:59:59 when the clock
    /// reaches midnight, and deletes one by jumping from 23:59:59 to 00:00:00.
    fn kernel_leap(&mut self, local_before: i64) {
        let after = self.local();
        match self.leap {
            LeapFlag::Insert if local_before.div_euclid(DAY_NS) < after.div_euclid(DAY_NS) => {
                self.offset_ns -= NS_PER_SEC as f64;
                self.leap = LeapFlag::None;
                self.tai += 1;
                self.leaps_done += 1;
            }
            LeapFlag::Delete
                if (local_before + NS_PER_SEC).div_euclid(DAY_NS)
                    < (after + NS_PER_SEC).div_euclid(DAY_NS) =>
            {
                self.offset_ns += NS_PER_SEC as f64;
                self.leap = LeapFlag::None;
                self.tai -= 1;
                self.leaps_done -= 1;
            }
            _ => {}
        }
    }
}

/// The simulated clock. Interior mutability so it can be shared like the real ones.
#[derive(Debug)]
pub struct SimClock {
    st: Mutex<SimState>,
}

impl SimClock {
    /// Start at true time `start_true_ns` with local clock = true + `initial_offset_ns`.
    pub fn new(osc: SimOscillator, seed: u64, start_true_ns: i64, initial_offset_ns: i64) -> Self {
        let mut st = SimState {
            osc,
            rng: ChaCha8Rng::seed_from_u64(seed),
            start_true_ns,
            true_ns: start_true_ns,
            offset_ns: initial_offset_ns as f64,
            walk: 0.0,
            y_osc: 0.0,
            corr_ppm: 0.0,
            slew_left_ns: 0.0,
            leap: LeapFlag::None,
            tai: 37,
            maxerror_ns: 0,
            esterror_ns: 0,
            unsync: true,
            leaps_done: 0,
            crystal_c: 0.0,
        };
        st.crystal_c = st.temp_at(start_true_ns);
        st.refresh_y();
        Self { st: Mutex::new(st) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SimState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Advance true time to `true_ns` (never backwards). Wander and temperature
    /// change the frequency at each whole true second since the start.
    pub fn advance_to(&self, true_ns: i64) {
        let mut st = self.lock();
        while st.true_ns < true_ns {
            let since = st.true_ns - st.start_true_ns;
            let next_sec = st.start_true_ns + (since.div_euclid(NS_PER_SEC) + 1) * NS_PER_SEC;
            let until = next_sec.min(true_ns);
            let dt = until - st.true_ns;
            st.integrate(dt);
            if st.true_ns == next_sec {
                let n: f64 = StandardNormal.sample(&mut st.rng);
                st.walk += n * st.osc.wander_sigma;
                st.refresh_y();
            }
        }
    }

    pub fn true_ns(&self) -> i64 {
        self.lock().true_ns
    }
    /// Local clock reading at the current true time.
    pub fn local_ns(&self) -> i64 {
        self.lock().local()
    }
    /// local − true, ns (the time error of the clock), unrounded.
    pub fn time_error_ns(&self) -> f64 {
        self.lock().offset_ns
    }
    /// Fractional frequency of the free-running oscillator (no correction).
    pub fn oscillator_frequency(&self) -> f64 {
        self.lock().y_osc
    }
    /// Current correction, ppm.
    pub fn correction_ppm(&self) -> f64 {
        self.lock().corr_ppm
    }
    /// Oscillator temperature at the current true time.
    pub fn temperature_c(&self) -> f64 {
        let st = self.lock();
        st.temp_at(st.true_ns)
    }
    /// The oscillator's frequency jumps by `ppm` from now on.
    pub fn step_frequency(&self, ppm: f64) {
        let mut st = self.lock();
        st.osc.offset_ppm += ppm;
        st.refresh_y();
    }
    /// Net leap seconds executed by the kernel logic so far.
    pub fn leaps_done(&self) -> i32 {
        self.lock().leaps_done
    }
}

impl TimeSource for SimClock {
    /// The simulator's "system time" is true time.
    fn from_system_ns(&self, system_ns: UnixNanos) -> UnixNanos {
        let st = self.lock();
        system_ns + st.offset_ns.round() as i64
    }
    fn now_ns(&self) -> UnixNanos {
        self.lock().local()
    }
}

impl Clock for SimClock {
    fn apply(&self, cmd: &ClockCommand) -> Result<(), ClockError> {
        let mut st = self.lock();
        match *cmd {
            ClockCommand::SetFrequency { ppm } => {
                if !ppm.is_finite() {
                    return Err(ClockError::Range("frequency not finite"));
                }
                let q = st.osc.frequency_resolution_ppm;
                let p = ppm.clamp(-MAX_FREQ_PPM, MAX_FREQ_PPM);
                st.corr_ppm = if q > 0.0 { (p / q).round() * q } else { p };
            }
            ClockCommand::Slew { offset_ns } => {
                if offset_ns.abs() >= NS_PER_SEC / 2 {
                    return Err(ClockError::Range("slew larger than 0.5 s"));
                }
                st.slew_left_ns = offset_ns as f64;
            }
            ClockCommand::Step { delta_ns } => st.offset_ns += delta_ns as f64,
            ClockCommand::SetLeap { flag } => st.leap = flag,
            ClockCommand::SetTaiOffset { seconds } => st.tai = seconds,
            ClockCommand::SetErrors {
                maxerror_ns,
                esterror_ns,
            } => {
                st.maxerror_ns = maxerror_ns;
                st.esterror_ns = esterror_ns;
            }
            ClockCommand::SetSync { synchronized } => st.unsync = !synchronized,
            // The simulated kernel has no PLL.
            ClockCommand::ReleasePll => {}
        }
        Ok(())
    }

    fn state(&self) -> Result<ClockState, ClockError> {
        let st = self.lock();
        Ok(ClockState {
            frequency_ppm: st.corr_ppm,
            leap: st.leap,
            tai_offset_s: st.tai,
            maxerror_ns: st.maxerror_ns,
            esterror_ns: st.esterror_ns,
            unsync: st.unsync,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet(offset_ppm: f64) -> SimOscillator {
        SimOscillator {
            offset_ppm,
            wander_sigma: 0.0,
            ..SimOscillator::default()
        }
    }

    /// Aging of 1 ppm/day: after a day the free-running phase is ½·a·T²,
    /// 43.2 ms (per-second frequency steps make it 0.5 µs less).
    #[test]
    fn aging_ramps_the_frequency() {
        let osc = SimOscillator {
            aging_ppm_per_day: 1.0,
            ..quiet(0.0)
        };
        let c = SimClock::new(osc, 1, 0, 0);
        c.advance_to(DAY_NS);
        assert!((c.oscillator_frequency() - 1e-6).abs() < 1e-12);
        let expect = 1e-6 * 86_400.0 * 86_399.0 / 2.0 / 86_400.0 * 1e9;
        assert!(
            (c.time_error_ns() - expect).abs() < 1.0,
            "{}",
            c.time_error_ns()
        );
    }

    #[test]
    fn frequency_offset_and_correction_integrate() {
        let c = SimClock::new(quiet(20.0), 1, 0, 0);
        c.advance_to(10 * NS_PER_SEC);
        assert_eq!(c.local_ns() - c.true_ns(), 200_000);
        c.set_frequency_ppm(-20.0).unwrap();
        c.advance_to(20 * NS_PER_SEC);
        assert_eq!(c.local_ns() - c.true_ns(), 200_000);
        c.step_ns(-200_000).unwrap();
        assert_eq!(c.local_ns(), 20 * NS_PER_SEC);
        c.slew_ns(1_000).unwrap();
        c.advance_to(21 * NS_PER_SEC);
        assert_eq!(c.local_ns() - c.true_ns(), 1_000);
    }

    #[test]
    fn wander_is_seeded_and_random_walk() {
        let osc = SimOscillator {
            offset_ppm: 0.0,
            wander_sigma: 1e-9,
            ..SimOscillator::default()
        };
        let a = SimClock::new(osc.clone(), 7, 0, 0);
        let b = SimClock::new(osc.clone(), 7, 0, 0);
        let c = SimClock::new(osc, 8, 0, 0);
        a.advance_to(3600 * NS_PER_SEC);
        b.advance_to(3600 * NS_PER_SEC);
        c.advance_to(3600 * NS_PER_SEC);
        assert_eq!(a.time_error_ns(), b.time_error_ns());
        assert_ne!(a.time_error_ns(), c.time_error_ns());
        // After 3600 steps the walk has σ = 60e-9; it is almost surely non-zero
        // and within 6σ.
        let y = a.oscillator_frequency();
        assert!(y != 0.0 && y.abs() < 6.0 * 60e-9, "y = {y}");
    }

    #[test]
    fn temperature_coefficient_follows_profile() {
        let osc = SimOscillator {
            offset_ppm: 1.0,
            wander_sigma: 0.0,
            tempco_ppm_per_c: 0.2,
            reference_c: 25.0,
            temperature: TemperatureProfile::Sinusoid {
                mean_c: 25.0,
                amplitude_c: 5.0,
                period_s: 400.0,
            },
            aging_ppm_per_day: 0.0,
            ..SimOscillator::default()
        };
        let c = SimClock::new(osc, 1, 0, 0);
        c.advance_to(100 * NS_PER_SEC); // quarter period: +5 °C
        assert!((c.temperature_c() - 30.0).abs() < 1e-9);
        assert!((c.oscillator_frequency() - 2.0e-6).abs() < 1e-12);
        let table = TemperatureProfile::Table {
            points: vec![(0.0, 20.0), (10.0, 30.0)],
        };
        assert_eq!(table.at(5.0), 25.0);
        assert_eq!(table.at(99.0), 30.0);
        assert_eq!(table.at(-1.0), 20.0);
    }

    #[test]
    fn kernel_leap_insert_repeats_last_second() {
        // Start 3 s before midnight 2016-12-31/2017-01-01.
        let midnight = crate::time::utc_from_fields(2017, 1, 1, 0, 0, 0, 0).unwrap();
        let c = SimClock::new(quiet(0.0), 1, midnight - 3 * NS_PER_SEC, 0);
        c.set_leap(LeapFlag::Insert).unwrap();
        let mut secs = Vec::new();
        for k in 0..6 {
            c.advance_to(midnight - 3 * NS_PER_SEC + k * NS_PER_SEC + NS_PER_SEC / 2);
            secs.push(c.local_ns().div_euclid(NS_PER_SEC).rem_euclid(60));
        }
        assert_eq!(secs, vec![57, 58, 59, 59, 0, 1]);
        assert_eq!(c.leaps_done(), 1);
        assert_eq!(c.state().unwrap().tai_offset_s, 38);
        assert_eq!(c.state().unwrap().leap, LeapFlag::None);
    }

    #[test]
    fn kernel_leap_delete_skips_last_second() {
        let midnight = crate::time::utc_from_fields(2017, 1, 1, 0, 0, 0, 0).unwrap();
        let c = SimClock::new(quiet(0.0), 1, midnight - 3 * NS_PER_SEC, 0);
        c.set_leap(LeapFlag::Delete).unwrap();
        let mut secs = Vec::new();
        for k in 0..4 {
            c.advance_to(midnight - 3 * NS_PER_SEC + k * NS_PER_SEC + NS_PER_SEC / 2);
            secs.push(c.local_ns().div_euclid(NS_PER_SEC).rem_euclid(60));
        }
        assert_eq!(secs, vec![57, 58, 0, 1]);
        assert_eq!(c.leaps_done(), -1);
    }
}
