//! The NTP part of the daemon: starts the socket workers and publishes their counters in the snapshot.

use super::services::Services;
use super::supervisor::wait_true;
use crate::clock::TimeSource;
use crate::ntp::{self, NtpServerConfig, NtpServerHandle};
use std::sync::Arc;
use std::time::Duration;

/// How often `snapshot.ntp` is refreshed.
const PUBLISH_INTERVAL: Duration = Duration::from_secs(1);

/// Start the workers (they run on their own threads, outside tokio: the hot
/// path never waits for the runtime) and a supervised task that copies their
/// status into the snapshot.
pub fn start_ntp(
    svc: &mut Services,
    cfg: NtpServerConfig,
    time: Arc<dyn TimeSource>,
) -> anyhow::Result<Arc<NtpServerHandle>> {
    let cfg_stale_after_ms = cfg.stale_after_ms;
    let handle = Arc::new(ntp::spawn(
        cfg,
        time.clone(),
        svc.server_fields.clone(),
        svc.events.clone(),
        &svc.supervisor.parts(),
    )?);
    let stale_after_ns =
        i64::try_from(cfg_stale_after_ms.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
    svc.snapshot
        .set_context(|c| c.stale_after_ns = stale_after_ns);
    let h = handle.clone();
    let tx = svc.snapshot.clone();
    let events = svc.events.clone();
    let clock = time.clone();
    svc.supervisor
        .spawn_with_period("ntp-status", Some(PUBLISH_INTERVAL), move |mut shutdown| {
            let h = h.clone();
            let tx = tx.clone();
            let events = events.clone();
            let clock = clock.clone();
            async move {
                let mut tick = tokio::time::interval(PUBLISH_INTERVAL);
                let view = h.control_view();
                let mut reach = ReachRegister::default();
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = wait_true(&mut shutdown) => return Ok(()),
                    }
                    let now = clock.now_ns();
                    for c in h.watch_tick(now) {
                        events.emit(watch_event(c));
                    }
                    let st = h.status();
                    tx.send_modify(|s| s.ntp = st);
                    view.store(Arc::new(control_view(&tx.borrow(), &mut reach)));
                }
            }
        });
    Ok(handle)
}

/// The durable event of one watched client's state change.
fn watch_event(c: ntp::watch::StateChange) -> crate::events::Event {
    crate::events::Event::new(
        c.at_ns,
        crate::events::EventKind::NtpWatchState {
            name: c.name,
            address: c.address,
            from: c.from.as_str().into(),
            to: c.to.as_str().into(),
            reasons: c.reasons.iter().map(|r| r.as_str().into()).collect(),
            last_seen_ns: c.last_seen_ns,
            interval_s: c.interval_s,
            offset_ns: c.offset.offset_ns,
            offset_uncertainty_ns: c.offset.uncertainty_ns,
            offset_method: c.offset.method.as_str().into(),
        },
    )
}

/// ntpd's reach register for the reference: one bit per publication
/// (once a second), set when a new servo update arrived since the last.
#[derive(Debug, Default)]
struct ReachRegister {
    bits: u8,
    last_update_ns: Option<i64>,
}

/// What NTP control replies (mode 6) show, from the snapshot.
fn control_view(s: &crate::status::Snapshot, reach: &mut ReachRegister) -> ntp::mode6::ControlView {
    let d = &s.discipline;
    let fresh = d.last_update_ns.is_some() && d.last_update_ns != reach.last_update_ns;
    reach.bits = reach.bits << 1 | u8::from(fresh);
    reach.last_update_ns = d.last_update_ns;
    let sampled = d.samples > 0;
    ntp::mode6::ControlView {
        version: format!("gnss-timeserver {}", s.version),
        offset_ns: sampled.then_some(d.offset_ns),
        jitter_ns: sampled.then_some(d.noise_ns),
        frequency_ppm: sampled.then_some(d.frequency_ppm),
        tai_utc: d.leap.as_ref().and_then(|l| l.tai_utc),
        leap_at_ns: d.leap.as_ref().and_then(|l| l.pending.map(|p| p.at_utc_ns)),
        last_sample_ns: d.last_update_ns,
        reach: reach.bits,
        state: d.state.as_str().to_string(),
    }
}
