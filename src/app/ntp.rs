//! The NTP part of the daemon: maps `[ntp]` onto the server's parameters,
//! starts the socket workers and publishes their counters in the snapshot.

use super::services::Services;
use super::supervisor::wait_true;
use crate::clock::TimeSource;
use crate::config::{DenyAction, NtpConfig};
use crate::ntp::{self, NtpServerConfig, NtpServerHandle};
use std::sync::Arc;
use std::time::Duration;

/// How often `snapshot.ntp` is refreshed.
const PUBLISH_INTERVAL: Duration = Duration::from_secs(1);

/// Map the `[ntp]` config section onto the server's own parameters.
pub fn server_config(n: &NtpConfig) -> NtpServerConfig {
    let refid = String::from_utf8_lossy(&n.refid.bytes())
        .trim_end_matches('\0')
        .to_string();
    NtpServerConfig {
        bind: n.listen.clone(),
        workers: n.workers as usize,
        refid: Some(refid),
        allow: n.allow.clone(),
        deny: n.deny.clone(),
        deny_action: match n.deny_action {
            DenyAction::Kod => ntp::handler::DenyAction::Kod,
            DenyAction::Drop => ntp::handler::DenyAction::Drop,
        },
        rate_limit_interval_ms: (n.rate_limit.interval_s * 1000.0).round() as u64,
        rate_limit_burst: n.rate_limit.burst,
        keys_file: n.keys_file.clone(),
        require_auth: n.require_auth,
        kernel_rx_timestamps: n.kernel_timestamps,
        kernel_tx_timestamps: n.kernel_timestamps,
        interleaved: n.interleaved,
        client_table_size: n.monitor_size as usize,
        client_offset_alarm_ms: n.client_offset_alarm_ms.round() as u64,
        control_allow: n.control_allow.clone(),
        ..NtpServerConfig::default()
    }
}

/// Start the workers (they run on their own threads, outside tokio: the hot
/// path never waits for the runtime) and a supervised task that copies their
/// status into the snapshot.
pub fn start_ntp(
    svc: &mut Services,
    cfg: NtpServerConfig,
    time: Arc<dyn TimeSource>,
) -> anyhow::Result<Arc<NtpServerHandle>> {
    let handle = Arc::new(ntp::spawn(
        cfg,
        time,
        svc.server_fields.clone(),
        svc.events.clone(),
    )?);
    let h = handle.clone();
    let tx = svc.snapshot.clone();
    svc.supervisor.spawn("ntp-status", move |mut shutdown| {
        let h = h.clone();
        let tx = tx.clone();
        async move {
            let mut tick = tokio::time::interval(PUBLISH_INTERVAL);
            let view = h.control_view();
            let mut reach = ReachRegister::default();
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = wait_true(&mut shutdown) => return Ok(()),
                }
                let st = h.status();
                tx.send_modify(|s| s.ntp = st);
                view.store(Arc::new(control_view(&tx.borrow(), &mut reach)));
            }
        }
    });
    Ok(handle)
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
