//! The timing part of the daemon: PPS source → pulse monitor, GNSS epochs →
//! `discipline::Engine` → clock commands; publishes `snapshot.discipline`,
//! `snapshot.pps` and the NTP server fields, and persists the holdover model.
//!
//! Time scales: kernel PPS and serial arrival timestamps are CLOCK_REALTIME;
//! the engine works on the steered clock's scale, so every timestamp is
//! mapped through `clock.from_system_ns` first (identity for `Linux`).

use super::gnss::{GnssPart, TimedEpoch};
use super::services::Services;
use super::supervisor::wait_true;
use crate::clock::{Clock, ClockCommand, TimeSource};
use crate::discipline::engine::{Engine, JumpAcceptance};
use crate::discipline::holdover::{read_thermal_zone, HoldoverModel};
use crate::discipline::leap::{self, LeapMode, PendingLeap};
use crate::discipline::local_jump::LocalJumpDetector;
use crate::events::{Event, EventKind};
use crate::pps::monitor::{EdgeVerdict, MonitorConfig, PulseMonitor};
use crate::pps::sim::SimPpsHandle;
use crate::pps::{PpsEvent, PpsSourceKind, ReopeningReader};
use crate::status::control::TimingRequest;
use crate::store::keys;
use arc_swap::ArcSwapOption;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

const PPS_QUEUE: usize = 64;

pub use crate::plan::{PpsInput, TimingParams};

/// Handle of the running timing part.
pub struct TimingPart {
    /// What NTP serves: the steered clock (plus leap smear when configured).
    pub served: Arc<ServedClock>,
    pps: PpsHandle,
}

enum PpsHandle {
    Device(ReopeningReader),
    Simulated(SimPpsHandle),
    None,
}

impl TimingPart {
    pub fn stop(self) {
        self.stop_pps_source();
    }

    /// Stop the PPS source only: its channel closes and the discipline loop
    /// carries on without pulses (holdover, then unsynchronized). What a
    /// dead PPS line looks like; the tests use it.
    pub fn stop_pps_source(self) -> Self {
        match self.pps {
            PpsHandle::Device(r) => r.stop(),
            PpsHandle::Simulated(h) => h.stop(),
            PpsHandle::None => {}
        }
        Self {
            served: self.served,
            pps: PpsHandle::None,
        }
    }
}

/// The time NTP serves: the steered clock plus, in `smear` mode, the leap
/// smear computed per reading (so served time stays monotonic within the
/// 24 h window instead of moving in per-tick jumps).
pub struct ServedClock {
    clock: Arc<dyn Clock>,
    smear: Option<i64>,
    pending: ArcSwapOption<PendingLeap>,
}

impl ServedClock {
    pub fn new(clock: Arc<dyn Clock>, mode: LeapMode) -> Self {
        let smear =
            (mode == LeapMode::Smear).then(|| leap::LeapConfig::default().smear_half_window_ns);
        Self {
            clock,
            smear,
            pending: ArcSwapOption::empty(),
        }
    }
    fn set_pending(&self, p: Option<PendingLeap>) {
        if self.pending.load().as_deref() != p.as_ref() {
            self.pending.store(p.map(Arc::new));
        }
    }
}

impl TimeSource for ServedClock {
    fn from_system_ns(&self, system_ns: i64) -> i64 {
        let t = self.clock.from_system_ns(system_ns);
        // Hot path (every NTP request): no atomic load unless smearing.
        let Some(half) = self.smear else { return t };
        match self.pending.load().as_deref() {
            Some(p) => t + leap::served::smear_offset_ns(*p, t, false, half),
            None => t,
        }
    }

    /// A whole NTP receive batch: the clock's own batch mapping, and the
    /// smear (still computed per reading) only while one is pending.
    fn from_system_ns_slice(&self, system_ns: &mut [i64]) {
        self.clock.from_system_ns_slice(system_ns);
        let Some(half) = self.smear else { return };
        if let Some(p) = self.pending.load().as_deref() {
            for t in system_ns {
                *t += leap::served::smear_offset_ns(*p, *t, false, half);
            }
        }
    }
}

/// Start the PPS source and the supervised discipline task.
pub fn start_timing(
    svc: &mut Services,
    gnss: &GnssPart,
    clock: Arc<dyn Clock>,
    params: TimingParams,
) -> anyhow::Result<TimingPart> {
    let served = Arc::new(ServedClock::new(clock.clone(), params.engine.leap_mode));
    // The snapshot is stamped with the served clock from now on.
    let stamp: Arc<dyn TimeSource> = served.clone();
    svc.snapshot.set_context(|c| c.time = Some(stamp));
    let (tx, rx) = mpsc::channel(PPS_QUEUE);
    // The PPS thread beats at least every kernel fetch timeout (1.5 s).
    let pps_hb = svc
        .supervisor
        .parts()
        .register("pps", Some(Duration::from_secs(2)));
    let (kind, device, handle) = match &params.pps {
        PpsInput::Device(spec) => {
            // A missing or failing device is not fatal: the reader reopens
            // with backoff and reports each failure (status `pps.last_error`,
            // `parts`), the engine keeps ticking without pulses and NTP
            // serves stratum 16 until they come.
            let r =
                crate::pps::spawn_reopening(spec.clone(), tx, pps_hb, crate::pps::REOPEN_BACKOFF)?;
            (spec.kind(), spec.device(), PpsHandle::Device(r))
        }
        PpsInput::Simulated { noise, seed } => {
            // True time is the system clock; the reader thread timestamps on
            // CLOCK_REALTIME like the kernel would.
            let h =
                crate::pps::sim::spawn_realtime_with(|t: i64| t, noise.clone(), *seed, tx, pps_hb)?;
            (
                PpsSourceKind::Simulated,
                "simulated".to_string(),
                PpsHandle::Simulated(h),
            )
        }
    };

    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let epochs = gnss.epochs.clone();
    let store = svc.store.clone();
    let snapshot = svc.snapshot.clone();
    let fields = svc.server_fields.clone();
    let sink = svc.events.clone();
    let cfg = params.engine.clone();
    let served_task = served.clone();
    let thermal = params.thermal_zone.clone();
    let leap_file = params.leap_seconds_file.clone();
    let requests = svc.timing_rx.clone();
    svc.supervisor.spawn_with_period(
        "discipline",
        Some(Duration::from_secs(1)),
        move |mut shutdown| {
            let requests = requests.clone();
            let mut epochs = epochs.subscribe();
            let rx = rx.clone();
            let clock = clock.clone();
            let served = served_task.clone();
            let store = store.clone();
            let snapshot = snapshot.clone();
            let fields = fields.clone();
            let sink = sink.clone();
            let cfg = cfg.clone();
            let thermal = thermal.clone();
            let leap_file = leap_file.clone();
            let device = device.clone();
            async move {
                let temp = || thermal.as_deref().and_then(read_thermal_zone);
                let warm: Option<HoldoverModel> = match store.lock().load_state(keys::DRIFT_MODEL) {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(error = %e, "stored holdover model unreadable; cold start");
                        None
                    }
                };
                let initial_ppm = clock.state().map(|s| s.frequency_ppm).unwrap_or(0.0);
                let mut engine =
                    Engine::new(cfg, clock.now_ns(), initial_ppm, warm.as_ref(), temp());
                if let Some(path) = &leap_file {
                    match leap::file::load(path) {
                        Ok(list) => engine.leap_schedule_mut().set_file(list),
                        Err(e) => sink.emit(Event::new(
                            clock.now_ns(),
                            EventKind::LeapFileError {
                                path: path.display().to_string(),
                                error: e.to_string(),
                            },
                        )),
                    }
                }
                let precision = crate::ntp::server::measure_precision(clock.as_ref());
                let pps_device = device.clone();
                let mut monitor = PulseMonitor::new(MonitorConfig::default(), kind, device);
                // One `pps.unavailable` event per outage of the source, however
                // many reopen attempts it takes (the status shows each).
                let mut pps_unavailable = false;
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                let mut rx = rx.lock().await;
                let mut requests = requests.lock().await;
                // False once the PPS channel closed: the loop goes on without it.
                let mut pps_open = true;
                // The pulse state last reported, for one `pps.state` event per change.
                let mut pps_state = crate::pps::PulseState::Waiting;
                let mut local_jumps = LocalJumpDetector::new();
                local_jumps.on_reading(clock.now_ns(), crate::time::monotonic_ns());
                loop {
                    tokio::select! {
                        Some(req) = requests.recv() => match req {
                            TimingRequest::AcceptTimeJump(reply) => {
                                let r = engine
                                    .accept_time_jump(JumpAcceptance::Operator)
                                    .map_err(|e| e.to_string());
                                let _ = reply.send(r);
                            }
                        },
                        ep = epochs.recv() => match ep {
                            Ok(TimedEpoch { arrival_ns, epoch }) => {
                                if local_clock_set(&mut local_jumps, clock.as_ref(), &mut engine).is_none() {
                                    engine.on_epoch(&epoch, clock.from_system_ns(arrival_ns));
                                }
                            }
                            Err(broadcast::error::RecvError::Lagged(n)) => {
                                tracing::warn!(skipped = n, "discipline lagged behind GNSS epochs");
                                snapshot.send_modify(|s| s.drops.gnss_epochs += n);
                            }
                            Err(broadcast::error::RecvError::Closed) => {
                                anyhow::bail!("GNSS epoch channel closed");
                            }
                        },
                        ev = rx.recv(), if pps_open => match ev {
                            Some(PpsEvent::Assert(mut edge)) => {
                                edge.local_ns = clock.from_system_ns(edge.local_ns);
                                pps_unavailable = false;
                                // An edge around someone's step may be on either scale: drop it.
                                let set = local_clock_set(&mut local_jumps, clock.as_ref(), &mut engine);
                                match monitor.on_assert(edge) {
                                    EdgeVerdict::Double => {}
                                    _ if set.is_some() => {}
                                    _ => engine.on_edge(edge),
                                }
                            }
                            Some(other) => {
                                if let PpsEvent::Error { message, .. } = &other {
                                    if !pps_unavailable {
                                        pps_unavailable = true;
                                        sink.emit(Event::new(
                                            clock.now_ns(),
                                            EventKind::PpsUnavailable {
                                                device: pps_device.clone(),
                                                error: message.clone(),
                                            },
                                        ));
                                    }
                                }
                                monitor.on_event(&other)
                            }
                            // The source is gone for good. Never stop here: the
                            // engine sees no pulses on its ticks (holdover, then
                            // unsynchronized once the bound passes its limit)
                            // and the server fields keep being refreshed.
                            None => {
                                monitor.on_error("PPS source closed");
                                pps_open = false;
                            }
                        },
                        _ = tick.tick() => {
                            let set = local_clock_set(&mut local_jumps, clock.as_ref(), &mut engine);
                            // The engine ticks on the scale the step back restores.
                            let now = clock.now_ns().saturating_sub(set.unwrap_or(0));
                            engine.on_tick(now, temp());
                            monitor.on_tick(now);
                        }
                        _ = wait_true(&mut shutdown) => return Ok(()),
                    }
                    for cmd in engine.drain_commands() {
                        match clock.apply(&cmd) {
                            Ok(()) => {
                                if let ClockCommand::Step { delta_ns } = cmd {
                                    local_jumps.note_step(delta_ns);
                                }
                            }
                            Err(e) => tracing::warn!(?cmd, error = %e, "clock command failed"),
                        }
                    }
                    for ev in engine.drain_events() {
                        sink.emit(ev);
                    }
                    if let Some(model) = engine.take_model() {
                        if let Err(e) = store.lock().save_state(keys::DRIFT_MODEL, &model) {
                            tracing::warn!(error = %e, "saving the holdover model failed");
                        }
                    }
                    let status = engine.status();
                    served.set_pending(status.leap.as_ref().and_then(|l| l.pending));
                    fields.store(engine.server_fields(precision));
                    let pps = monitor.status();
                    if pps.state != pps_state {
                        pps_state = pps.state;
                        let state = serde_json::to_value(pps_state)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default();
                        sink.emit(Event::new(
                            clock.now_ns(),
                            EventKind::PpsState {
                                state,
                                reason: pps.last_error.clone(),
                            },
                        ));
                    }
                    snapshot.send_modify(|s| {
                        s.discipline = status;
                        s.pps = pps;
                    });
                }
            }
        },
    );
    Ok(TimingPart {
        served,
        pps: handle,
    })
}

/// Was the clock set behind our back since the last reading (CLOCK_MONOTONIC
/// says so, not the receiver)? The engine is told (it steps back, with a
/// `clock.step` event and the status's `local_clock_jumps`); the jump, ns.
fn local_clock_set(
    detector: &mut LocalJumpDetector,
    clock: &dyn Clock,
    engine: &mut Engine,
) -> Option<i64> {
    let jump = detector.on_reading(clock.now_ns(), crate::time::monotonic_ns())?;
    tracing::warn!(
        jump_ns = jump,
        "the clock was set behind our back; stepping it back"
    );
    engine.on_local_clock_jump(jump);
    Some(jump)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::VirtualClock;

    #[test]
    fn served_clock_slice_equals_single_reads_while_smearing() {
        let at = 1_798_761_600_000_000_000i64; // 2027-01-01T00:00:00Z
        let served = ServedClock::new(Arc::new(VirtualClock::new()), LeapMode::Smear);
        let times: Vec<i64> = [-13, -6, -1, 0, 1, 6, 13]
            .iter()
            .map(|h: &i64| at + h * 3_600_000_000_000 + 123_456_789)
            .collect();
        for pending in [
            None,
            Some(PendingLeap {
                at_utc_ns: at,
                insert: true,
            }),
        ] {
            served.set_pending(pending);
            let single: Vec<i64> = times.iter().map(|&t| served.from_system_ns(t)).collect();
            let mut batch = times.clone();
            served.from_system_ns_slice(&mut batch);
            assert_eq!(batch, single, "pending {pending:?}");
        }
        // The smear did apply inside the window (so the comparison above
        // covered the smearing path).
        let mid = at + 123_456_789;
        served.set_pending(None);
        let plain = served.from_system_ns(mid);
        served.set_pending(Some(PendingLeap {
            at_utc_ns: at,
            insert: true,
        }));
        assert_ne!(served.from_system_ns(mid), plain);
    }
}
