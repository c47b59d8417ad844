//! History, sans-IO: samples come in with their time as a value, the
//! aggregator keeps the last hour of 1 s values in memory, folds each
//! finished minute into a min/mean/max aggregate, decimates satellite
//! positions to one track point per minute and accumulates C/N0 per sky
//! cell. What is not yet on disk waits as a batch; the store writes it in
//! one transaction per commit (`history_db.rs`) and calls `batch_written`.
//!
//! Unknown values are NaN inside (f32, 4 bytes a value on disk) and `null`
//! outside.

mod series;

pub use series::{gnss_index, gnss_name, Series, GNSS_NAMES, N_SERIES};

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const NS_PER_S: i64 = 1_000_000_000;
pub const NS_PER_MIN: i64 = 60 * NS_PER_S;
/// 1 s values kept: one hour (plus the minute being filled).
pub const SECONDS_MINUTES: i64 = 60;
/// Minute aggregates kept: 30 days.
pub const MINUTES_KEPT: i64 = 30 * 24 * 60;
/// Sky cells accumulate per 10-minute slot; 24 h of slots kept.
pub const SKY_SLOT_NS: i64 = 10 * NS_PER_MIN;
pub const SKY_SLOTS_KEPT: i64 = 24 * 6;
/// Track points: one per satellite per minute, 24 h kept.
pub const TRACK_MINUTES_KEPT: i64 = 24 * 60;
/// Sky cell size.
pub const CELL_AZ_DEG: f64 = 10.0;
pub const CELL_EL_DEG: f64 = 5.0;
pub const CELLS_AZ: u16 = 36;
pub const CELLS_EL: u16 = 18;
/// History is written at most every this many minutes (of sample time),
/// or with a durable event, or at shutdown: each write copies a few B-tree
/// pages per table, so a 1-minute cadence would cost the card ~4 MiB/h
/// (measured, `benches/store_wear.rs`). A kill -9 loses at most this much.
pub const FLUSH_MINUTES: i64 = 5;
/// Unwritten minutes kept while the disk fails (a day), then the oldest go.
const MAX_PENDING_MINUTES: usize = 24 * 60;

/// 60 values per series, one minute.
pub type SecondsRow = [[f32; 60]; N_SERIES];

/// One satellite as seen in a sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SatSample {
    pub gnss: String,
    pub svid: u16,
    pub az_deg: f64,
    pub el_deg: f64,
    pub cn0_dbhz: Option<f64>,
}

/// One second of everything the history keeps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistorySample {
    pub time_ns: i64,
    pub values: [Option<f64>; N_SERIES],
    pub sats: Vec<SatSample>,
}

impl HistorySample {
    pub fn set(&mut self, s: Series, v: Option<f64>) {
        self.values[s.index()] = v.filter(|x| x.is_finite());
    }
}

/// min/mean/max of one series over one minute; `n` = seconds with a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agg {
    pub min: f32,
    pub mean: f32,
    pub max: f32,
    pub n: u8,
}

impl Agg {
    pub const EMPTY: Agg = Agg {
        min: f32::NAN,
        mean: f32::NAN,
        max: f32::NAN,
        n: 0,
    };

    fn of(values: &[f32]) -> Agg {
        let (mut min, mut max, mut sum, mut n) = (f32::INFINITY, f32::NEG_INFINITY, 0f64, 0u8);
        for v in values.iter().filter(|v| !v.is_nan()) {
            min = min.min(*v);
            max = max.max(*v);
            sum += f64::from(*v);
            n += 1;
        }
        if n == 0 {
            return Agg::EMPTY;
        }
        Agg {
            min,
            mean: (sum / f64::from(n)) as f32,
            max,
            n,
        }
    }
}

pub type MinuteRow = [Agg; N_SERIES];

/// (sum of C/N0, samples) per sky cell.
pub type SkyCells = BTreeMap<u16, (f64, u32)>;

/// Sky cell of a position; `None` below the horizon or out of range.
pub fn sky_cell(az_deg: f64, el_deg: f64) -> Option<u16> {
    if !(0.0..=90.0).contains(&el_deg) || !az_deg.is_finite() {
        return None;
    }
    let az = az_deg.rem_euclid(360.0);
    let a = ((az / CELL_AZ_DEG) as u16).min(CELLS_AZ - 1);
    let e = ((el_deg / CELL_EL_DEG) as u16).min(CELLS_EL - 1);
    Some(e * CELLS_AZ + a)
}

#[derive(Debug, Default)]
pub struct History {
    /// Minute → its 1 s values (last hour and the current minute).
    pub(crate) seconds: BTreeMap<i64, Box<SecondsRow>>,
    pub(crate) current_minute: Option<i64>,
    /// Minutes of `seconds` changed since the last write.
    pub(crate) dirty_seconds: BTreeSet<i64>,
    pub(crate) minutes_pending: BTreeMap<i64, MinuteRow>,
    pub(crate) tracks_pending: BTreeMap<i64, Vec<SatSample>>,
    pub(crate) sky_pending: BTreeMap<i64, SkyCells>,
    last_track_minute: Option<i64>,
    last_flush_minute: Option<i64>,
    /// Samples older than the minute being filled (clock stepped back).
    pub rejected: u64,
    pub recorded: u64,
    /// Pending minutes dropped because the disk failed for a day.
    pub dropped_minutes: u64,
}

fn blank_row() -> Box<SecondsRow> {
    Box::new([[f32::NAN; 60]; N_SERIES])
}

impl History {
    /// Feed one sample (about one a second).
    pub fn record(&mut self, s: &HistorySample) {
        let minute = s.time_ns.div_euclid(NS_PER_MIN);
        let sec = (s.time_ns.div_euclid(NS_PER_S)).rem_euclid(60) as usize;
        match self.current_minute {
            Some(cur) if minute < cur => {
                self.rejected += 1;
                return;
            }
            Some(cur) if minute > cur => self.finish_minute(cur, minute),
            None => self.current_minute = Some(minute),
            _ => {}
        }
        self.current_minute = Some(minute);
        self.recorded += 1;
        let row = self.seconds.entry(minute).or_insert_with(blank_row);
        for (i, v) in s.values.iter().enumerate() {
            row[i][sec] = v.map_or(f32::NAN, |x| x as f32);
        }
        self.dirty_seconds.insert(minute);
        if self.last_track_minute != Some(minute) && !s.sats.is_empty() {
            self.last_track_minute = Some(minute);
            self.tracks_pending.insert(minute, s.sats.clone());
        }
        let slot = s.time_ns.div_euclid(SKY_SLOT_NS);
        for sat in &s.sats {
            let (Some(cn0), Some(cell)) = (sat.cn0_dbhz, sky_cell(sat.az_deg, sat.el_deg)) else {
                continue;
            };
            let c = self
                .sky_pending
                .entry(slot)
                .or_default()
                .entry(cell)
                .or_insert((0.0, 0));
            c.0 += cn0;
            c.1 += 1;
        }
    }

    /// Fold a finished minute into its aggregate; forget 1 s values older
    /// than an hour.
    fn finish_minute(&mut self, done: i64, next: i64) {
        if let Some(row) = self.seconds.get(&done) {
            let mut agg = [Agg::EMPTY; N_SERIES];
            for (i, a) in agg.iter_mut().enumerate() {
                *a = Agg::of(&row[i]);
            }
            self.minutes_pending.insert(done, agg);
            while self.minutes_pending.len() > MAX_PENDING_MINUTES {
                self.minutes_pending.pop_first();
                self.dropped_minutes += 1;
            }
        }
        let keep_from = next - SECONDS_MINUTES;
        self.seconds.retain(|m, _| *m >= keep_from);
        self.dirty_seconds.retain(|m| *m >= keep_from);
        let track_from = next - TRACK_MINUTES_KEPT;
        self.tracks_pending.retain(|m, _| *m >= track_from);
        let sky_from = next * NS_PER_MIN / SKY_SLOT_NS - SKY_SLOTS_KEPT;
        self.sky_pending.retain(|s, _| *s >= sky_from);
    }

    pub fn has_batch(&self) -> bool {
        !self.dirty_seconds.is_empty()
            || !self.minutes_pending.is_empty()
            || !self.tracks_pending.is_empty()
            || !self.sky_pending.is_empty()
    }

    /// Time to write: `FLUSH_MINUTES` of samples since the last write.
    pub fn batch_due(&self) -> bool {
        self.has_batch()
            && match (self.current_minute, self.last_flush_minute) {
                (Some(now), Some(last)) => now - last >= FLUSH_MINUTES,
                _ => true,
            }
    }

    /// The store wrote everything pending.
    pub fn batch_written(&mut self) {
        self.last_flush_minute = self.current_minute;
        self.dirty_seconds.clear();
        self.minutes_pending.clear();
        self.tracks_pending.clear();
        self.sky_pending.clear();
    }

    /// The minute being filled, aggregated so far (for queries).
    pub fn current_aggregate(&self) -> Option<(i64, MinuteRow)> {
        let m = self.current_minute?;
        let row = self.seconds.get(&m)?;
        let mut agg = [Agg::EMPTY; N_SERIES];
        for (i, a) in agg.iter_mut().enumerate() {
            *a = Agg::of(&row[i]);
        }
        Some((m, agg))
    }

    /// Restore the last hour of 1 s values after a restart.
    pub fn restore_seconds(&mut self, minute: i64, row: Box<SecondsRow>) {
        self.seconds.insert(minute, row);
        if self.current_minute.is_none_or(|c| minute > c) {
            self.current_minute = Some(minute);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cover_the_sky_and_reject_below_horizon() {
        assert_eq!(sky_cell(0.0, 0.0), Some(0));
        assert_eq!(sky_cell(359.9, 90.0), Some(17 * 36 + 35));
        assert_eq!(sky_cell(-5.0, 10.0), Some(2 * 36 + 35));
        assert_eq!(sky_cell(10.0, -1.0), None);
        assert_eq!(sky_cell(f64::NAN, 10.0), None);
    }

    #[test]
    fn a_minute_folds_into_min_mean_max_and_unknown_stays_unknown() {
        let mut h = History::default();
        for s in 0..61 {
            let mut x = HistorySample {
                time_ns: s * NS_PER_S,
                ..Default::default()
            };
            x.set(Series::SatsUsed, Some(s as f64));
            h.record(&x);
        }
        let agg = h.minutes_pending[&0];
        let u = agg[Series::SatsUsed.index()];
        assert_eq!((u.min, u.mean, u.max, u.n), (0.0, 29.5, 59.0, 60));
        assert_eq!(agg[Series::TeBoundNs.index()].n, 0);
        assert!(agg[Series::TeBoundNs.index()].mean.is_nan());
        // A sample from the past is refused, not folded into the wrong minute.
        h.record(&HistorySample::default());
        assert_eq!(h.rejected, 1);
    }
}
