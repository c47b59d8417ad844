//! Numbers from a run: TE statistics, MTIE/TDEV with the G.8272 masks,
//! holdover TE, bound coverage, transitions.

use super::run::{excluded, RunOutput};
use super::scenario::Scenario;
use crate::discipline::stability::{meets_mask, mtie, tdev, worst_tdev_ratio, PrtcClass};
use crate::discipline::LockState;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct TransitionOut {
    pub t: f64,
    pub from: &'static str,
    pub to: &'static str,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub duration_s: u64,
    pub time_to_lock_s: Option<f64>,
    /// Over seconds from `settle-s`, outside impairments (+ settle after them).
    pub te_rms_ns: Option<f64>,
    pub te_max_ns: Option<f64>,
    pub te_seconds: usize,
    /// Over the longest contiguous stretch of those seconds.
    pub mtie_ns: BTreeMap<String, Option<f64>>,
    pub tdev_ns: BTreeMap<String, Option<f64>>,
    pub prtc_a_pass: bool,
    pub prtc_b_pass: bool,
    /// Worst TDEV / PRTC-A mask over the mask's intervals.
    pub tdev_prtc_a_worst_ratio: Option<f64>,
    /// TE at these seconds into the first impairment.
    pub holdover_te_ns: BTreeMap<String, f64>,
    /// What a frequency-only hold (no drift, no temperature) gives there.
    pub holdover_freq_only_te_ns: BTreeMap<String, f64>,
    pub holdover_bound_ns: BTreeMap<String, f64>,
    /// Fraction of seconds (from `settle-s`, Locked or Holdover) with |TE| ≤ bound.
    pub bound_coverage: Option<f64>,
    pub bound_seconds: usize,
    pub transitions: Vec<TransitionOut>,
    pub outliers: u64,
    pub steps: u64,
    pub leaps_done: i32,
    pub final_frequency_ppm: f64,
    pub final_tempco_ppm_per_c: f64,
    /// Wander σ the servo ended up assuming (estimated online).
    pub final_wander_sigma: f64,
    pub final_noise_ns: f64,
}

const KEYS: [u64; 4] = [1, 10, 100, 1000];
const HOLD_KEYS: [u64; 4] = [600, 3600, 14_400, 86_400];

pub fn summarize(sc: &Scenario, seed: u64, out: &RunOutput) -> Summary {
    let time_to_lock_s = out
        .transitions
        .iter()
        .find(|t| t.to == LockState::Locked)
        .map(|t| t.t_s);

    let mut sq = 0.0;
    let mut max = 0.0f64;
    let mut n = 0usize;
    let mut best: (usize, usize) = (0, 0);
    let mut run_start: Option<usize> = None;
    for (i, r) in out.rows.iter().enumerate() {
        let inc = !excluded(sc, r.t_s);
        if inc {
            sq += r.te_ns * r.te_ns;
            max = max.max(r.te_ns.abs());
            n += 1;
            let s = *run_start.get_or_insert(i);
            if i + 1 - s > best.1 - best.0 {
                best = (s, i + 1);
            }
        } else {
            run_start = None;
        }
    }
    let series: Vec<f64> = out.rows[best.0..best.1].iter().map(|r| r.te_ns).collect();
    let mut mtie_ns = BTreeMap::new();
    let mut tdev_ns = BTreeMap::new();
    for k in KEYS {
        mtie_ns.insert(k.to_string(), mtie(&series, k as usize));
        tdev_ns.insert(k.to_string(), tdev(&series, k as usize));
    }
    let nonempty = series.len() > 1;

    let mut holdover_te_ns = BTreeMap::new();
    let mut holdover_bound_ns = BTreeMap::new();
    let mut holdover_freq_only_te_ns = BTreeMap::new();
    if let Some((a, b)) = sc
        .events
        .iter()
        .filter_map(|e| e.impaired_span(sc.duration_s))
        .min_by_key(|s| s.0)
    {
        for key in HOLD_KEYS {
            let k = a + key;
            if k <= b {
                if let Some(r) = out.rows.get(k as usize) {
                    holdover_te_ns.insert(key.to_string(), r.te_ns);
                    holdover_bound_ns.insert(key.to_string(), r.bound_ns);
                }
                if let Some(&(_, te)) = out.freq_only_te.iter().find(|(s, _)| *s == key) {
                    holdover_freq_only_te_ns.insert(key.to_string(), te);
                }
            }
        }
    }

    let mut covered = 0usize;
    let mut claimed = 0usize;
    for r in &out.rows {
        if r.t_s < sc.settle_s || super::run::near_leap(sc, r.t_s) {
            continue;
        }
        if matches!(r.state, LockState::Locked | LockState::Holdover) && r.bound_ns.is_finite() {
            claimed += 1;
            if r.te_ns.abs() <= r.bound_ns {
                covered += 1;
            }
        }
    }

    Summary {
        scenario: sc.name.clone(),
        seed,
        duration_s: sc.duration_s,
        time_to_lock_s,
        te_rms_ns: (n > 0).then(|| (sq / n as f64).sqrt()),
        te_max_ns: (n > 0).then_some(max),
        te_seconds: n,
        mtie_ns,
        tdev_ns,
        prtc_a_pass: nonempty && meets_mask(&series, PrtcClass::A),
        prtc_b_pass: nonempty && meets_mask(&series, PrtcClass::B),
        tdev_prtc_a_worst_ratio: worst_tdev_ratio(&series, PrtcClass::A),
        holdover_te_ns,
        holdover_freq_only_te_ns,
        holdover_bound_ns,
        bound_coverage: (claimed > 0).then(|| covered as f64 / claimed as f64),
        bound_seconds: claimed,
        transitions: out
            .transitions
            .iter()
            .map(|t| TransitionOut {
                t: t.t_s,
                from: t.from.as_str(),
                to: t.to.as_str(),
                reason: t.reason.as_str(),
            })
            .collect(),
        outliers: out.outliers,
        steps: out.steps,
        leaps_done: out.leaps_done,
        final_frequency_ppm: out.final_model.frequency_ppm,
        final_tempco_ppm_per_c: out.final_model.tempco_ppm_per_c,
        final_wander_sigma: out.final_wander_sigma,
        final_noise_ns: out.final_noise_ns,
    }
}
