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
        time,
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
    svc.supervisor
        .spawn_with_period("ntp-status", Some(PUBLISH_INTERVAL), move |mut shutdown| {
            let h = h.clone();
            let tx = tx.clone();
            async move {
                let mut tick = tokio::time::interval(PUBLISH_INTERVAL);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = wait_true(&mut shutdown) => return Ok(()),
                    }
                    let st = h.status();
                    tx.send_modify(|s| s.ntp = st);
                }
            }
        });
    Ok(handle)
}
