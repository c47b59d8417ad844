//! History on disk: four redb tables written in the same transaction as
//! the events batch, with retention applied in that transaction, and the
//! queries the web panel and SNMP call. Rows are compact little-endian
//! records (layout below) so a minute costs about 200 bytes on the card.

use super::db::{Store, StoreError};
use super::history::{
    gnss_index, gnss_name, Agg, History, MinuteRow, SatSample, SecondsRow, Series, SkyCells,
    CELLS_AZ, CELL_AZ_DEG, CELL_EL_DEG, MINUTES_KEPT, NS_PER_MIN, NS_PER_S, N_SERIES,
    SECONDS_MINUTES, SKY_SLOTS_KEPT, SKY_SLOT_NS, TRACK_MINUTES_KEPT,
};
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};
use serde::Serialize;
use std::collections::BTreeMap;

/// minute → N_SERIES × 60 f32 (1 s values, NaN = unknown).
const SECONDS: TableDefinition<i64, &[u8]> = TableDefinition::new("history_1s");
/// minute → N_SERIES × (min f32, mean f32, max f32, n u8).
const MINUTES: TableDefinition<i64, &[u8]> = TableDefinition::new("history_1m");
/// 10-minute slot → cells × (cell u16, C/N0 sum f32, samples u32).
const SKY: TableDefinition<i64, &[u8]> = TableDefinition::new("sky_cells");
/// minute → satellites × (gnss u8, svid u16, az 0.1° u16, el 0.1° i16, C/N0 u8 or 255).
const TRACKS: TableDefinition<i64, &[u8]> = TableDefinition::new("sky_tracks");

/// Most points one `history` query returns; a finer step is coarsened.
pub const MAX_POINTS: i64 = 10_000;

/// Rows per table, for the status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RowCounts {
    pub seconds: u64,
    pub minutes: u64,
    pub sky_slots: u64,
    pub track_minutes: u64,
}

/// History part of the store status.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HistoryStatus {
    pub rows: RowCounts,
    /// Samples recorded since start.
    pub recorded: u64,
    /// Samples refused (time went back).
    pub rejected: u64,
    /// Minutes not yet on disk.
    pub pending_minutes: u64,
    /// Minutes lost because the disk failed for longer than a day.
    pub dropped_minutes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Start of the bucket, UTC ns.
    pub time_ns: i64,
    pub min: Option<f64>,
    pub mean: Option<f64>,
    pub max: Option<f64>,
    /// Seconds with a value in the bucket.
    pub samples: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkyCell {
    /// Lower edges of the cell (10° × 5°).
    pub az_deg: f64,
    pub el_deg: f64,
    pub cn0_mean_dbhz: f64,
    pub samples: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackPoint {
    pub time_ns: i64,
    pub az_deg: f64,
    pub el_deg: f64,
    pub cn0_dbhz: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SatTrack {
    pub gnss: String,
    pub svid: u16,
    pub points: Vec<TrackPoint>,
}

// redb's own error; boxed into `StoreError` by the caller.
#[allow(clippy::result_large_err)]
pub(super) fn create_tables(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(SECONDS)?;
    txn.open_table(MINUTES)?;
    txn.open_table(SKY)?;
    txn.open_table(TRACKS)?;
    Ok(())
}

// --- row codecs (never panic on bad bytes: short rows decode as unknown) ---

fn f32_at(b: &[u8], o: usize) -> f32 {
    b.get(o..o + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(f32::NAN, f32::from_le_bytes)
}

fn encode_seconds(row: &SecondsRow) -> Vec<u8> {
    row.iter().flatten().flat_map(|v| v.to_le_bytes()).collect()
}

fn decode_seconds(b: &[u8]) -> Box<SecondsRow> {
    let mut row = Box::new([[f32::NAN; 60]; N_SERIES]);
    for (i, s) in row.iter_mut().enumerate() {
        for (j, v) in s.iter_mut().enumerate() {
            *v = f32_at(b, (i * 60 + j) * 4);
        }
    }
    row
}

fn encode_minute(row: &MinuteRow) -> Vec<u8> {
    let mut out = Vec::with_capacity(N_SERIES * 13);
    for a in row {
        for v in [a.min, a.mean, a.max] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.push(a.n);
    }
    out
}

fn decode_minute(b: &[u8]) -> MinuteRow {
    let mut row = [Agg::EMPTY; N_SERIES];
    for (i, a) in row.iter_mut().enumerate() {
        let o = i * 13;
        let Some(&n) = b.get(o + 12) else { break };
        *a = Agg {
            min: f32_at(b, o),
            mean: f32_at(b, o + 4),
            max: f32_at(b, o + 8),
            n,
        };
    }
    row
}

fn encode_sky(cells: &SkyCells) -> Vec<u8> {
    let mut out = Vec::with_capacity(cells.len() * 10);
    for (cell, (sum, n)) in cells {
        out.extend_from_slice(&cell.to_le_bytes());
        out.extend_from_slice(&(*sum as f32).to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
    }
    out
}

fn decode_sky(b: &[u8], into: &mut SkyCells) {
    for c in b.chunks_exact(10) {
        let cell = u16::from_le_bytes([c[0], c[1]]);
        let sum = f64::from(f32_at(c, 2));
        let n = u32::from_le_bytes([c[6], c[7], c[8], c[9]]);
        if sum.is_finite() {
            let e = into.entry(cell).or_insert((0.0, 0));
            e.0 += sum;
            e.1 = e.1.saturating_add(n);
        }
    }
}

fn encode_tracks(sats: &[SatSample]) -> Vec<u8> {
    let mut out = Vec::with_capacity(sats.len() * 8);
    for s in sats {
        out.push(gnss_index(&s.gnss));
        out.extend_from_slice(&s.svid.to_le_bytes());
        let az = (s.az_deg.rem_euclid(360.0) * 10.0).round() as u16;
        let el = (s.el_deg.clamp(-90.0, 90.0) * 10.0).round() as i16;
        out.extend_from_slice(&az.to_le_bytes());
        out.extend_from_slice(&el.to_le_bytes());
        out.push(
            s.cn0_dbhz
                .map_or(u8::MAX, |c| c.clamp(0.0, 254.0).round() as u8),
        );
    }
    out
}

fn decode_tracks(minute: i64, b: &[u8], into: &mut BTreeMap<(u8, u16), Vec<TrackPoint>>) {
    for c in b.chunks_exact(8) {
        let point = TrackPoint {
            time_ns: minute * NS_PER_MIN,
            az_deg: f64::from(u16::from_le_bytes([c[3], c[4]])) / 10.0,
            el_deg: f64::from(i16::from_le_bytes([c[5], c[6]])) / 10.0,
            cn0_dbhz: (c[7] != u8::MAX).then_some(f64::from(c[7])),
        };
        into.entry((c[0], u16::from_le_bytes([c[1], c[2]])))
            .or_default()
            .push(point);
    }
}

/// Delete keys below `cutoff` (the oldest first).
// redb's own error; boxed into `StoreError` by the caller.
#[allow(clippy::result_large_err)]
fn trim(t: &mut redb::Table<i64, &[u8]>, cutoff: i64) -> Result<(), redb::Error> {
    loop {
        let first = t.first()?.map(|(k, _)| k.value());
        match first {
            Some(k) if k < cutoff => {
                t.remove(k)?;
            }
            _ => return Ok(()),
        }
    }
}

/// Write what the aggregator has pending, apply retention, count rows.
// redb's own error; boxed into `StoreError` by the caller.
#[allow(clippy::result_large_err)]
pub(super) fn write_batch(txn: &WriteTransaction, h: &History) -> Result<RowCounts, redb::Error> {
    let now_min = h.current_minute.unwrap_or(0);
    let mut s = txn.open_table(SECONDS)?;
    for m in &h.dirty_seconds {
        if let Some(row) = h.seconds.get(m) {
            s.insert(*m, encode_seconds(row).as_slice())?;
        }
    }
    trim(&mut s, now_min - SECONDS_MINUTES)?;
    let mut mt = txn.open_table(MINUTES)?;
    for (m, row) in &h.minutes_pending {
        mt.insert(*m, encode_minute(row).as_slice())?;
    }
    trim(&mut mt, now_min - MINUTES_KEPT)?;
    let mut sky = txn.open_table(SKY)?;
    for (slot, cells) in &h.sky_pending {
        // Merge with what an earlier batch wrote for the same slot.
        let mut merged = cells.clone();
        if let Some(old) = sky.get(*slot)? {
            decode_sky(old.value(), &mut merged);
        }
        sky.insert(*slot, encode_sky(&merged).as_slice())?;
    }
    trim(
        &mut sky,
        now_min * NS_PER_MIN / SKY_SLOT_NS - SKY_SLOTS_KEPT,
    )?;
    let mut tr = txn.open_table(TRACKS)?;
    for (m, sats) in &h.tracks_pending {
        tr.insert(*m, encode_tracks(sats).as_slice())?;
    }
    trim(&mut tr, now_min - TRACK_MINUTES_KEPT)?;
    Ok(RowCounts {
        seconds: s.len()?,
        minutes: mt.len()?,
        sky_slots: sky.len()?,
        track_minutes: tr.len()?,
    })
}

/// Bucket accumulator.
#[derive(Clone, Copy)]
struct Acc {
    min: f64,
    max: f64,
    sum: f64,
    n: u32,
}

impl Acc {
    const ZERO: Acc = Acc {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        sum: 0.0,
        n: 0,
    };
    fn add(&mut self, a: &Agg) {
        if a.n == 0 || a.mean.is_nan() {
            return;
        }
        self.min = self.min.min(f64::from(a.min));
        self.max = self.max.max(f64::from(a.max));
        self.sum += f64::from(a.mean) * f64::from(a.n);
        self.n += u32::from(a.n);
    }
    fn point(&self, time_ns: i64) -> HistoryPoint {
        let some = self.n > 0;
        HistoryPoint {
            time_ns,
            min: some.then_some(self.min),
            mean: some.then(|| self.sum / f64::from(self.n)),
            max: some.then_some(self.max),
            samples: self.n,
        }
    }
}

impl Store {
    pub(super) fn load_history(&mut self) -> Result<RowCounts, StoreError> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(|e| self.db_err(e))?;
        let s = txn.open_table(SECONDS).map_err(|e| self.db_err(e))?;
        let mut rows = Vec::new();
        for r in s.iter().map_err(|e| self.db_err(e))? {
            let (k, v) = r.map_err(|e| self.db_err(e))?;
            rows.push((k.value(), decode_seconds(v.value())));
        }
        let count = |t: &dyn ReadableTableMetadata| t.len().unwrap_or(0);
        let counts = RowCounts {
            seconds: rows.len() as u64,
            minutes: count(&txn.open_table(MINUTES).map_err(|e| self.db_err(e))?),
            sky_slots: count(&txn.open_table(SKY).map_err(|e| self.db_err(e))?),
            track_minutes: count(&txn.open_table(TRACKS).map_err(|e| self.db_err(e))?),
        };
        for (m, row) in rows {
            self.history.restore_seconds(m, row);
        }
        Ok(counts)
    }

    pub(super) fn history_status(&self) -> HistoryStatus {
        HistoryStatus {
            rows: self.history_rows,
            recorded: self.history.recorded,
            rejected: self.history.rejected,
            pending_minutes: self.history.minutes_pending.len() as u64,
            dropped_minutes: self.history.dropped_minutes,
        }
    }

    /// Feed one sample to the aggregator (written with the next commit).
    pub fn record_history(&mut self, s: &super::history::HistorySample) {
        self.history.record(s);
    }

    /// `series` from `from_ns` to `to_ns` in buckets of `step_ns`: from the
    /// 1 s values when the step is under a minute and the range lies in the
    /// last hour, else from the minute aggregates.
    pub fn history(
        &self,
        series: Series,
        from_ns: i64,
        to_ns: i64,
        step_ns: i64,
    ) -> Result<Vec<HistoryPoint>, StoreError> {
        if to_ns <= from_ns {
            return Ok(Vec::new());
        }
        let span = to_ns.saturating_sub(from_ns);
        let mut step = step_ns.max(NS_PER_S).max(span / MAX_POINTS + 1);
        let oldest_second = self.history.seconds.keys().next().map(|m| m * NS_PER_MIN);
        let fine = step < NS_PER_MIN && oldest_second.is_some_and(|o| from_ns >= o);
        if !fine {
            step = step.div_euclid(NS_PER_MIN).max(1) * NS_PER_MIN;
        }
        let buckets = usize::try_from((span + step - 1) / step).unwrap_or(0);
        let mut acc = vec![Acc::ZERO; buckets];
        let mut put = |t: i64, a: &Agg| {
            if t >= from_ns && t < to_ns {
                if let Some(b) =
                    acc.get_mut(usize::try_from((t - from_ns) / step).unwrap_or(usize::MAX))
                {
                    b.add(a);
                }
            }
        };
        let i = series.index();
        if fine {
            for (m, row) in self.history.seconds.range(from_ns.div_euclid(NS_PER_MIN)..) {
                for (sec, v) in row[i].iter().enumerate() {
                    if !v.is_nan() {
                        let a = Agg {
                            min: *v,
                            mean: *v,
                            max: *v,
                            n: 1,
                        };
                        put(m * NS_PER_MIN + sec as i64 * NS_PER_S, &a);
                    }
                }
            }
        } else {
            let (from_m, to_m) = (
                from_ns.div_euclid(NS_PER_MIN),
                to_ns.div_euclid(NS_PER_MIN) + 1,
            );
            let mut seen = std::collections::BTreeSet::new();
            for (m, row) in self.history.minutes_pending.range(from_m..to_m) {
                seen.insert(*m);
                put(m * NS_PER_MIN, &row[i]);
            }
            if let Some((m, row)) = self.history.current_aggregate() {
                if m >= from_m && m < to_m && seen.insert(m) {
                    put(m * NS_PER_MIN, &row[i]);
                }
            }
            if let Some(db) = &self.db {
                super::open::guarded(&self.path, || {
                    let txn = db.begin_read().map_err(|e| self.db_err(e))?;
                    let t = txn.open_table(MINUTES).map_err(|e| self.db_err(e))?;
                    for r in t.range(from_m..to_m).map_err(|e| self.db_err(e))? {
                        let (k, v) = r.map_err(|e| self.db_err(e))?;
                        if !seen.contains(&k.value()) {
                            put(k.value() * NS_PER_MIN, &decode_minute(v.value())[i]);
                        }
                    }
                    Ok(())
                })?;
            }
        }
        Ok(acc
            .iter()
            .enumerate()
            .map(|(b, a)| a.point(from_ns + b as i64 * step))
            .collect())
    }

    /// Mean C/N0 per sky cell over `[from_ns, to_ns)` (10-minute resolution).
    pub fn sky_cells(&self, from_ns: i64, to_ns: i64) -> Result<Vec<SkyCell>, StoreError> {
        let (from_s, to_s) = (
            from_ns.div_euclid(SKY_SLOT_NS),
            to_ns.div_euclid(SKY_SLOT_NS) + 1,
        );
        let mut cells = SkyCells::new();
        for (_, c) in self.history.sky_pending.range(from_s..to_s) {
            for (cell, (sum, n)) in c {
                let e = cells.entry(*cell).or_insert((0.0, 0));
                e.0 += sum;
                e.1 += n;
            }
        }
        if let Some(db) = &self.db {
            super::open::guarded(&self.path, || {
                let txn = db.begin_read().map_err(|e| self.db_err(e))?;
                let t = txn.open_table(SKY).map_err(|e| self.db_err(e))?;
                for r in t.range(from_s..to_s).map_err(|e| self.db_err(e))? {
                    let (_, v) = r.map_err(|e| self.db_err(e))?;
                    decode_sky(v.value(), &mut cells);
                }
                Ok(())
            })?;
        }
        Ok(cells
            .into_iter()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(cell, (sum, n))| SkyCell {
                az_deg: f64::from(cell % CELLS_AZ) * CELL_AZ_DEG,
                el_deg: f64::from(cell / CELLS_AZ) * CELL_EL_DEG,
                cn0_mean_dbhz: sum / f64::from(n),
                samples: n,
            })
            .collect())
    }

    /// Per satellite, its positions (one a minute) over `[from_ns, to_ns)`.
    pub fn sky_tracks(&self, from_ns: i64, to_ns: i64) -> Result<Vec<SatTrack>, StoreError> {
        let (from_m, to_m) = (
            from_ns.div_euclid(NS_PER_MIN),
            to_ns.div_euclid(NS_PER_MIN) + 1,
        );
        let mut by_sat = BTreeMap::new();
        let mut seen = std::collections::BTreeSet::new();
        if let Some(db) = &self.db {
            super::open::guarded(&self.path, || {
                let txn = db.begin_read().map_err(|e| self.db_err(e))?;
                let t = txn.open_table(TRACKS).map_err(|e| self.db_err(e))?;
                for r in t.range(from_m..to_m).map_err(|e| self.db_err(e))? {
                    let (k, v) = r.map_err(|e| self.db_err(e))?;
                    seen.insert(k.value());
                    decode_tracks(k.value(), v.value(), &mut by_sat);
                }
                Ok(())
            })?;
        }
        for (m, sats) in self.history.tracks_pending.range(from_m..to_m) {
            if !seen.contains(m) {
                decode_tracks(*m, &encode_tracks(sats), &mut by_sat);
            }
        }
        Ok(by_sat
            .into_iter()
            .map(|((g, svid), mut points)| {
                points.sort_by_key(|p| p.time_ns);
                SatTrack {
                    gnss: gnss_name(g).to_string(),
                    svid,
                    points,
                }
            })
            .filter(|t| {
                t.points
                    .iter()
                    .any(|p| p.time_ns >= from_ns && p.time_ns < to_ns)
            })
            .collect())
    }
}
