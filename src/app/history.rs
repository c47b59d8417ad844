//! The `history` task: once a second, one history sample from the
//! snapshot into the store's aggregator (in memory; written with the
//! store's next commit).
//!
//! The sample is read from the snapshot's JSON by the contract's field
//! names (`receiver.sky`, `discipline.time_error_bound_ns`, ...) so that the
//! history does not depend on how each part builds its own sub-struct.

use super::supervisor::{wait_true, Shutdown};
use crate::status::SnapshotRx;
use crate::store::history::{HistorySample, SatSample, Series};
use crate::store::StoreHandle;
use serde_json::Value;
use std::time::Duration;

/// First number found at one of these JSON pointers.
fn num(v: &Value, pointers: &[&str]) -> Option<f64> {
    pointers
        .iter()
        .find_map(|p| v.pointer(p).and_then(Value::as_f64))
}

/// Turns snapshots into samples; keeps the NTP request counter between calls.
#[derive(Debug, Default)]
pub struct Sampler {
    last_requests: Option<(i64, f64)>,
}

impl Sampler {
    pub fn sample(&mut self, snap: &Value, now_ns: i64) -> HistorySample {
        let mut s = HistorySample {
            time_ns: now_ns,
            ..Default::default()
        };
        let locked_any = snap
            .pointer("/discipline/state")
            .and_then(Value::as_str)
            .is_some_and(|st| st != "acquiring" && st != "unsynchronized");
        // Before the servo knows anything its estimate is not a measurement.
        if locked_any {
            s.set(
                Series::TeEstimateNs,
                num(
                    snap,
                    &["/discipline/te_estimate_ns", "/discipline/offset_ns"],
                ),
            );
        }
        s.set(
            Series::TeBoundNs,
            num(snap, &["/discipline/time_error_bound_ns"]).filter(|b| *b > 0.0),
        );
        s.set(
            Series::FrequencyPpb,
            num(snap, &["/discipline/frequency_ppm"]).map(|p| p * 1000.0),
        );
        s.set(
            Series::TemperatureC,
            num(snap, &["/discipline/temperature_c"]),
        );
        s.set(Series::SatsVisible, num(snap, &["/receiver/sats_visible"]));
        s.set(Series::SatsUsed, num(snap, &["/receiver/sats_used"]));
        s.set(Series::Agc, num(snap, &["/receiver/antenna/agc_count"]));
        s.set(
            Series::Noise,
            num(snap, &["/receiver/antenna/noise_per_ms"]),
        );
        s.set(Series::Jamming, num(snap, &["/receiver/antenna/jamming"]));
        if let Some(req) = num(snap, &["/ntp/counters/requests"]) {
            if let Some((t0, r0)) = self.last_requests {
                let dt = (now_ns - t0) as f64 / 1e9;
                if dt > 0.0 && req >= r0 {
                    s.set(Series::NtpRequestsPerS, Some((req - r0) / dt));
                }
            }
            self.last_requests = Some((now_ns, req));
        }
        let sky = snap.pointer("/receiver/sky").and_then(Value::as_array);
        for sat in sky.into_iter().flatten() {
            let (Some(gnss), Some(svid), Some(az), Some(el)) = (
                sat.get("gnss").and_then(Value::as_str),
                sat.get("svid").and_then(Value::as_u64),
                sat.get("az_deg").and_then(Value::as_f64),
                sat.get("el_deg").and_then(Value::as_f64),
            ) else {
                continue;
            };
            s.sats.push(SatSample {
                gnss: gnss.to_string(),
                svid: u16::try_from(svid).unwrap_or(u16::MAX),
                az_deg: az,
                el_deg: el,
                cn0_dbhz: sat.get("cn0_dbhz").and_then(Value::as_f64),
            });
        }
        let cn0: Vec<f64> = s.sats.iter().filter_map(|x| x.cn0_dbhz).collect();
        if !cn0.is_empty() {
            s.set(
                Series::Cn0MeanDbhz,
                Some(cn0.iter().sum::<f64>() / cn0.len() as f64),
            );
            s.set(Series::Cn0MaxDbhz, cn0.iter().copied().reduce(f64::max));
        }
        s
    }
}

pub async fn history_loop(
    store: StoreHandle,
    snapshot: SnapshotRx,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sampler = Sampler::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = wait_true(&mut shutdown) => return Ok(()),
        }
        let snap = serde_json::to_value(&*snapshot.borrow())?;
        let sample = sampler.sample(&snap, crate::time::system_realtime_ns());
        store.record_history(sample).await?;
    }
}
