//! The simulation loop: a true-time timeline of PPS edges, receiver epochs and
//! engine ticks, fed to the real `discipline::Engine`, whose commands steer a
//! `SimClock`. Time error = disciplined clock − true UTC, once per true second.

use super::scenario::{parse_date, EventSpec, Scenario};
use crate::clock::{Clock, SimClock};
use crate::discipline::holdover::HoldoverModel;
use crate::discipline::{Engine, EngineConfig, LockState};
use crate::gnss::{
    AntennaInfo, AntennaStatus, EpochTime, Fix, FixMode, GnssEpoch, JammingState, LeapInfo,
    Security, SpoofingState, TimeOrigin, TimePulse,
};
use crate::pps::PpsEdge;
use crate::time::NS_PER_SEC;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// One line of `te.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TeRow {
    pub t_s: u64,
    pub te_ns: f64,
    pub state: LockState,
    pub bound_ns: f64,
    /// Leap indicator the NTP server would advertise (not in the CSV).
    pub leap: crate::server_fields::LeapIndicator,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimTransition {
    pub t_s: f64,
    pub from: LockState,
    pub to: LockState,
    pub reason: crate::discipline::Reason,
}

/// Raw results of one run; `summary` turns them into numbers.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub rows: Vec<TeRow>,
    pub transitions: Vec<SimTransition>,
    /// Frequency-only shadow predictor's TE per second of the first holdover
    /// (index = seconds since the impairment started).
    pub freq_only_te: Vec<(u64, f64)>,
    pub outliers: u64,
    pub steps: u64,
    pub leaps_done: i32,
    pub final_model: HoldoverModel,
    pub final_wander_sigma: f64,
    pub final_noise_ns: f64,
    pub leap_commands: Vec<(u64, crate::clock::ClockCommand)>,
    /// Every event the engine emitted: (second, kind).
    pub events: Vec<(u64, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Input {
    Edge,
    /// Epoch for pulse k: (with time, with time pulse).
    Epoch(bool, bool),
    Tick,
}

struct Leaps {
    /// (POSIX ns of the midnight, insert)
    list: Vec<(i64, bool)>,
}

impl Leaps {
    /// The leap events of a scenario.
    fn of(sc: &Scenario) -> Self {
        Leaps {
            list: sc
                .events
                .iter()
                .filter_map(|e| match e {
                    EventSpec::Leap { date, insert } => parse_date(date).map(|t| (t, *insert)),
                    _ => None,
                })
                .collect(),
        }
    }

    /// (true elapsed − POSIX) at elapsed `t`, ns: +1 s per inserted leap passed.
    fn posix(&self, t: i64) -> i64 {
        let mut p = t;
        for &(l, ins) in &self.list {
            if ins && t >= l {
                p -= NS_PER_SEC;
            } else if !ins && t >= l - NS_PER_SEC {
                p += NS_PER_SEC;
            }
        }
        p
    }
    /// What a receiver labels the pulse at elapsed `t` (23:59:60 folds onto
    /// the next second, as `utc_from_fields` does).
    fn label(&self, t: i64) -> i64 {
        for &(l, ins) in &self.list {
            if ins && t == l {
                return l;
            }
        }
        self.posix(t)
    }
    fn near(&self, t: i64) -> bool {
        self.list
            .iter()
            .any(|&(l, _)| (t - l).abs() <= 3 * NS_PER_SEC)
    }
    fn info(&self, posix_now: i64) -> LeapInfo {
        let past = self
            .list
            .iter()
            .filter(|(l, _)| *l <= posix_now)
            .map(|(_, i)| if *i { 1i16 } else { -1 })
            .sum::<i16>();
        let next = self.list.iter().find(|(l, _)| *l > posix_now);
        LeapInfo {
            current: 18 + past,
            change: next.map_or(0, |(_, i)| if *i { 1 } else { -1 }),
            time_to_change_s: next.map(|(l, _)| (l - posix_now) / NS_PER_SEC),
            valid: true,
            origin: TimeOrigin::Satellites,
        }
    }
}

/// Sawtooth-like qErr of pulse `k`, ps.
fn qerr_ps(k: i64, amplitude_ns: f64) -> i64 {
    let phase = (k as f64 * 0.618_033_988_749_894_8 + 0.1).fract();
    ((2.0 * phase - 1.0) * amplitude_ns * 1000.0).round() as i64
}

/// Value of a (seconds, value) step schedule at `t` (0 before the first point).
fn load_at(points: &[(f64, f64)], t: f64) -> f64 {
    points
        .iter()
        .take_while(|p| p.0 <= t)
        .last()
        .map_or(0.0, |p| p.1)
}

fn active(span: (u64, u64), k: u64) -> bool {
    k >= span.0 && k < span.1
}

/// Run a scenario with a seed. Deterministic.
pub fn run(sc: &Scenario, seed: u64) -> RunOutput {
    let start = sc.start_unix_s * NS_PER_SEC;
    let clock = SimClock::new(sc.oscillator.to_sim(), seed, start, sc.initial_offset_ns);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5DEE_CE66_D1CE_4E5D);
    let leaps = Leaps::of(sc);
    // The daemon's default configuration, mapped exactly as `run` maps it;
    // only the calibration of the capture latency comes from the scenario,
    // as it would from the config file.
    let cfg = EngineConfig {
        capture_latency_ns: sc.pps.latency_ns,
        ..crate::plan::engine_config(&crate::config::Config::default())
    };
    let warm = sc.warm_start.as_ref().map(|w| HoldoverModel {
        frequency_ppm: clock.oscillator_frequency() * 1e6 + w.frequency_error_ppm,
        frequency_sigma_ppm: w.frequency_sigma_ppm,
        reference_temp_c: Some(clock.temperature_c()),
        learned_at_ns: clock.local_ns(),
        ..HoldoverModel::default()
    });
    let mut engine = Engine::new(
        cfg,
        clock.local_ns(),
        0.0,
        warm.as_ref(),
        Some(clock.temperature_c()),
    );

    let dur = sc.duration_s;
    // The leap indicator costs a schedule evaluation: only where it matters.
    let has_leap = !leaps.list.is_empty();
    let mut rows = Vec::with_capacity(dur as usize);
    let mut transitions = Vec::new();
    let mut leap_commands = Vec::new();
    let mut events = Vec::new();
    let first_holdover_event = sc
        .events
        .iter()
        .filter_map(|e| e.impaired_span(dur))
        .min_by_key(|s| s.0);
    let mut shadow: Option<(f64, f64)> = None; // (te, y_entry ppm)
    let mut freq_only_te = Vec::new();

    let mut inputs: Vec<(i64, Input)> = Vec::with_capacity(4);
    let mut missed_left = 0u32;
    for k in 0..dur {
        let ki = k as i64;
        let t_k = start + ki * NS_PER_SEC;
        clock.advance_to(t_k);
        let te = clock.time_error_ns() + (t_k - leaps.posix(t_k)) as f64;
        let bound = engine.bound_ns();
        rows.push(TeRow {
            t_s: k,
            te_ns: te,
            state: engine.lock_state(),
            bound_ns: bound,
            leap: if has_leap {
                engine.server_fields(-20).leap
            } else {
                crate::server_fields::LeapIndicator::NoWarning
            },
        });

        // Frequency-only shadow during the first impairment.
        if let Some(span) = first_holdover_event {
            if k >= span.0 && k <= span.1 {
                if let Some((ref mut ste, y_entry)) = shadow {
                    freq_only_te.push((k - span.0, *ste));
                    *ste += clock.oscillator_frequency() * 1e9 - y_entry * 1e3;
                }
            }
        }

        // What happens in this second.
        let mut outage = false;
        let mut antenna = AntennaStatus::Ok;
        let mut spoofing = SpoofingState::None;
        let mut jamming = JammingState::Ok;
        let mut sats = sc.receiver.satellites;
        let mut time_valid = true;
        let mut jump = 0i64;
        for e in &sc.events {
            let span = e.impaired_span(dur);
            let on = span.is_some_and(|s| active(s, k));
            match e {
                EventSpec::Outage { .. } if on => outage = true,
                EventSpec::AntennaShort { .. } if on => antenna = AntennaStatus::Short,
                EventSpec::AntennaOpen { .. } if on => antenna = AntennaStatus::Open,
                EventSpec::Spoofing { .. } if on => spoofing = SpoofingState::Indicated,
                EventSpec::Jamming { .. } if on => jamming = JammingState::Critical,
                EventSpec::FewSatellites { satellites, .. } if on => sats = *satellites,
                EventSpec::InvalidTime { .. } if on => time_valid = false,
                EventSpec::TimeJump { jump_ns, .. } if on => jump += jump_ns,
                EventSpec::FrequencyStep { at_s, ppm } if *at_s == k => clock.step_frequency(*ppm),
                _ => {}
            }
        }
        // Missed pulses: scheduled dropouts and random bursts.
        let mut pps_lost = sc.events.iter().any(
            |e| matches!(e, EventSpec::PpsDropout { from_s, to_s } if k >= *from_s && k < *to_s),
        );
        if missed_left > 0 {
            missed_left -= 1;
            pps_lost = true;
        } else if sc.pps.missed_rate > 0.0 && rng.gen_bool(sc.pps.missed_rate) {
            missed_left = rng.gen_range(1..=sc.pps.missed_burst_max) - 1;
            pps_lost = true;
        }
        let loaded = load_at(&sc.oscillator.load, k as f64) > 0.5;
        let jump_whole = jump.div_euclid(NS_PER_SEC) * NS_PER_SEC;
        let jump_frac = jump - jump_whole;

        inputs.clear();
        let lat = |rng: &mut ChaCha8Rng| -> i64 {
            let (a, b) = (sc.receiver.latency_min_ms, sc.receiver.latency_max_ms);
            let ms = if b > a { rng.gen_range(a..=b) } else { a };
            (ms * 1e6) as i64
        };
        if !outage {
            if !pps_lost {
                inputs.push((t_k, Input::Edge));
            }
            if sc.receiver.reorder {
                let l1 = lat(&mut rng);
                let l2 = lat(&mut rng);
                inputs.push((t_k + l1, Input::Epoch(true, false)));
                inputs.push((t_k + l2, Input::Epoch(false, true)));
            } else {
                let l = lat(&mut rng);
                inputs.push((t_k + l, Input::Epoch(true, true)));
            }
        }
        inputs.push((t_k + NS_PER_SEC / 2, Input::Tick));
        inputs.sort_by_key(|i| i.0);

        for &(t, inp) in &inputs {
            clock.advance_to(t);
            let local = clock.local_ns();
            match inp {
                Input::Edge => {
                    let noise: f64 = StandardNormal.sample(&mut rng);
                    let mut d = noise * sc.pps.white_rms_ns;
                    if sc.pps.outlier_rate > 0.0 && rng.gen_bool(sc.pps.outlier_rate) {
                        d += sc.pps.outlier_ns;
                    }
                    // GPIO interrupt latency: one-sided, heavy-tailed (Pareto),
                    // larger under CPU load.
                    let scale = if loaded {
                        sc.pps.irq_latency_load_ns
                    } else {
                        sc.pps.irq_latency_idle_ns
                    };
                    if scale > 0.0 {
                        let u: f64 = rng.gen_range(f64::EPSILON..1.0);
                        d += scale * (u.powf(-1.0 / sc.pps.irq_tail_shape) - 1.0);
                    }
                    let q = qerr_ps(ki, sc.receiver.qerr_amplitude_ns);
                    // The pulse comes at ideal − qErr; capture adds latency and noise.
                    let mut edge_local =
                        local - q / 1000 + sc.pps.latency_ns + d.round() as i64 - jump_frac;
                    let hz = i128::from(sc.pps.timer_hz);
                    if hz > 0 {
                        // The timestamp is a whole count of timer ticks.
                        let ns = i128::from(NS_PER_SEC);
                        let ticks = (i128::from(edge_local) * hz).div_euclid(ns);
                        edge_local = i64::try_from(ticks * ns / hz).unwrap_or(edge_local);
                    }
                    engine.on_edge(PpsEdge {
                        local_ns: edge_local,
                        sequence: k,
                    });
                }
                Input::Epoch(with_time, with_tp) => {
                    let posix_now = leaps.posix(t_k);
                    let ep = GnssEpoch {
                        time: with_time.then(|| EpochTime {
                            utc_ns: leaps.label(t_k) + jump_whole,
                            valid_date: time_valid,
                            valid_time: time_valid,
                            fully_resolved: time_valid,
                            tacc_ns: Some(20),
                            source: "NAV-TIMEUTC",
                        }),
                        time_pulse: with_tp.then(|| TimePulse {
                            utc_ns: leaps.label(t_k + NS_PER_SEC) + jump_whole,
                            qerr_ps: Some(qerr_ps(ki + 1, sc.receiver.qerr_amplitude_ns)),
                            utc_based: true,
                            utc_valid: time_valid,
                        }),
                        fix: Fix {
                            mode: FixMode::Time,
                            sats_used: Some(sats),
                            ..Fix::default()
                        },
                        leap: with_time.then(|| leaps.info(posix_now)),
                        antenna: Some(AntennaInfo {
                            status: antenna,
                            ..AntennaInfo::default()
                        }),
                        security: Some(Security { jamming, spoofing }),
                        ..GnssEpoch::default()
                    };
                    engine.on_epoch(&ep, local);
                }
                Input::Tick => engine.on_tick(local, Some(clock.temperature_c())),
            }
            for c in engine.drain_commands() {
                if matches!(
                    c,
                    crate::clock::ClockCommand::SetLeap { .. }
                        | crate::clock::ClockCommand::SetTaiOffset { .. }
                ) {
                    leap_commands.push((k, c));
                }
                // The simulated clock accepts every well-formed command.
                let _ = clock.apply(&c);
            }
            for tr in engine.drain_transitions() {
                let t_s = (t - start) as f64 / NS_PER_SEC as f64;
                if tr.to == LockState::Holdover && shadow.is_none() {
                    if let Some(span) = first_holdover_event {
                        if active(span, k) {
                            let te_now = clock.time_error_ns() + (t - leaps.posix(t)) as f64;
                            shadow = Some((te_now, engine.servo().frequency_ppm()));
                        }
                    }
                }
                transitions.push(SimTransition {
                    t_s,
                    from: tr.from,
                    to: tr.to,
                    reason: tr.reason,
                });
            }
            for ev in engine.drain_events() {
                events.push((k, ev.kind.name().to_string()));
            }
            let _ = engine.take_model();
        }
    }
    let st = engine.status();
    RunOutput {
        rows,
        transitions,
        freq_only_te,
        outliers: st.outliers,
        steps: st.steps,
        leaps_done: clock.leaps_done(),
        final_model: st.model,
        final_wander_sigma: st.wander_sigma,
        final_noise_ns: st.noise_ns,
        leap_commands,
        events,
    }
}

/// Seconds excluded from locked-mode statistics: impairments plus a settling
/// time after each, and the seconds around a leap.
pub fn excluded(sc: &Scenario, k: u64) -> bool {
    let settle = sc.settle_s;
    if k < settle {
        return true;
    }
    let start = sc.start_unix_s * NS_PER_SEC;
    let t = start + k as i64 * NS_PER_SEC;
    sc.events.iter().any(|e| match e {
        EventSpec::Leap { date, .. } => {
            parse_date(date).is_some_and(|l| (t - l).abs() <= 3 * NS_PER_SEC)
        }
        _ => e
            .impaired_span(sc.duration_s)
            .is_some_and(|(a, b)| k >= a && k < b.saturating_add(settle)),
    })
}

/// Seconds since start at which leaps happen (for callers' convenience).
pub fn near_leap(sc: &Scenario, k: u64) -> bool {
    Leaps::of(sc).near(sc.start_unix_s * NS_PER_SEC + k as i64 * NS_PER_SEC)
}
