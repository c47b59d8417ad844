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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn samples_read_the_contract_fields_and_keep_unknown_unknown() {
        let snap = |requests: u64| {
            json!({
                "discipline": {"state": "locked", "offset_ns": 12.5,
                               "time_error_bound_ns": 150.0, "frequency_ppm": -1.5,
                               "temperature_c": null},
                "receiver": {"sats_visible": 9, "sats_used": 7,
                             "antenna": {"agc_count": 4000, "noise_per_ms": 80, "jamming": null},
                             "sky": [
                                 {"gnss": "GPS", "svid": 3, "az_deg": 10.0, "el_deg": 40.0, "cn0_dbhz": 40.0},
                                 {"gnss": "Galileo", "svid": 5, "az_deg": 200.0, "el_deg": 20.0, "cn0_dbhz": 30.0},
                                 {"gnss": "GPS", "svid": 9, "az_deg": 90.0, "el_deg": 5.0, "cn0_dbhz": null}
                             ]},
                "ntp": {"counters": {"requests": requests}}
            })
        };
        let mut s = Sampler::default();
        let a = s.sample(&snap(100), 1_000_000_000);
        let v = |x: &HistorySample, k: Series| x.values[k.index()];
        assert_eq!(v(&a, Series::TeEstimateNs), Some(12.5));
        assert_eq!(v(&a, Series::FrequencyPpb), Some(-1500.0));
        assert_eq!(v(&a, Series::TemperatureC), None);
        assert_eq!(v(&a, Series::Jamming), None);
        assert_eq!(v(&a, Series::Agc), Some(4000.0));
        assert_eq!(v(&a, Series::Cn0MeanDbhz), Some(35.0));
        assert_eq!(v(&a, Series::Cn0MaxDbhz), Some(40.0));
        assert_eq!(a.sats.len(), 3);
        // A rate needs two readings.
        assert_eq!(v(&a, Series::NtpRequestsPerS), None);
        let b = s.sample(&snap(300), 3_000_000_000);
        assert_eq!(v(&b, Series::NtpRequestsPerS), Some(100.0));
        // Before a lock the estimate is not shown.
        let mut cold = snap(300);
        cold["discipline"]["state"] = json!("acquiring");
        assert_eq!(
            v(&s.sample(&cold, 4_000_000_000), Series::TeEstimateNs),
            None
        );
    }
}
