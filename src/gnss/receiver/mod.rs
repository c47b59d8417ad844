//! Receiver model (sans-IO): messages in, assembled epochs out.
//!
//! Epoch boundaries:
//! - UBX: by iTOW. A NAV message with a new iTOW closes the epoch in progress;
//!   NAV-EOE closes it at once. Messages without iTOW (TIM-TP, MON-HW, ...)
//!   join the epoch in progress.
//! - NMEA: by the time field (RMC, GGA, GNS, ZDA, GBS, PUBX). GSV/GSA join the
//!   epoch in progress; GSV groups of every talker/signal are merged into one
//!   sky when the epoch closes.
//! - Mixed streams: while UBX navigation messages keep coming, they drive the
//!   boundaries and NMEA only fills what UBX did not say. When UBX stops for a
//!   few NMEA seconds, NMEA drives the boundaries again.

mod assemble;
mod change;
mod status;

use crate::gnss::dispatch::decode_frame;
use crate::gnss::error::DecodeError;
use crate::gnss::framer::Frame;
use crate::gnss::message::*;
use crate::gnss::GnssEpoch;

pub use assemble::{gps_to_unix_ns, resolve_week, GPS_EPOCH_UNIX_S};
pub use change::{survey_state, ReceiverChange};
pub use status::{
    constellation_counts, ReceiverCounters, ReceiverIdentity, ReceiverStatus, SurveyIn, SurveyView,
    SKY_STALE_EPOCHS,
};

use assemble::Pending;

/// Default pivot for the 1024-week rollover: GPS week 2347 (2024-12-29).
/// A week number below 1024 maps to the first week at or after the pivot
/// with the same value modulo 1024, i.e. into 2024-12-29 .. 2044-08-13.
pub const DEFAULT_PIVOT_WEEK: u32 = 2347;

/// NMEA seconds without UBX navigation before NMEA drives epochs again.
const UBX_QUIET_NMEA_TICKS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Ubx(u32),
    Nmea(u32),
}

/// Knowledge that outlives one epoch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Memory {
    pub pivot_week: u32,
    /// Last GPS−UTC seen from the satellites or receiver (s).
    pub leap_s: Option<i16>,
    /// GPS time (s since GPS epoch) of an announced leap event.
    pub leap_event_gps_s: Option<i64>,
    /// Last NMEA date and the ms-of-day it belongs to (for GGA-only epochs).
    pub nmea_date: Option<(NmeaDate, u32)>,
}

#[derive(Debug)]
pub struct Receiver {
    pending: Pending,
    key: Option<Key>,
    mem: Memory,
    /// UBX navigation is driving epochs.
    ubx_active: bool,
    nmea_ticks_since_ubx: u32,
    last_nmea_ms: Option<u32>,
    status: ReceiverStatus,
    tracker: change::Tracker,
    changes: Vec<ReceiverChange>,
}

impl Default for Receiver {
    fn default() -> Self {
        Self::new()
    }
}

impl Receiver {
    pub fn new() -> Self {
        Self::with_pivot_week(DEFAULT_PIVOT_WEEK)
    }

    /// `pivot_week`: full GPS week from which 10-bit week numbers are resolved.
    pub fn with_pivot_week(pivot_week: u32) -> Self {
        Self {
            pending: Pending::default(),
            key: None,
            mem: Memory {
                pivot_week,
                ..Memory::default()
            },
            ubx_active: false,
            nmea_ticks_since_ubx: 0,
            last_nmea_ms: None,
            status: ReceiverStatus::default(),
            tracker: change::Tracker::default(),
            changes: Vec::new(),
        }
    }

    pub fn status(&self) -> ReceiverStatus {
        self.status.clone()
    }

    /// Receiver changes observed since the last call (antenna, jamming,
    /// spoofing, fix, survey-in), oldest first.
    pub fn drain_changes(&mut self) -> Vec<ReceiverChange> {
        std::mem::take(&mut self.changes)
    }

    /// Count a frame that failed to decode (the caller decoded it).
    pub fn note_decode_error(&mut self, _e: &DecodeError) {
        self.status.counters.decode_errors += 1;
    }

    /// Decode a framed message and feed it; RTCM3 frames are only counted.
    pub fn handle_frame(&mut self, frame: &Frame<'_>) -> Option<GnssEpoch> {
        match decode_frame(frame) {
            None => {
                self.status.counters.rtcm3_frames += 1;
                None
            }
            Some(Ok(msg)) => self.handle(&msg),
            Some(Err(e)) => {
                self.note_decode_error(&e);
                None
            }
        }
    }

    /// Feed one message; returns an epoch when this message completed one.
    pub fn handle(&mut self, msg: &Message) -> Option<GnssEpoch> {
        self.status.counters.messages += 1;
        self.note_side_effects(msg);
        if let Message::NavEoe { itow_ms } = msg {
            // End of epoch: close the epoch of this iTOW. An EOE for another
            // iTOW (its epoch's messages were lost) closes whatever is open.
            self.ubx_active = true;
            self.nmea_ticks_since_ubx = 0;
            if self.key == Some(Key::Ubx(*itow_ms)) {
                self.pending.add(msg);
            }
            // Late messages with this iTOW start a fresh epoch, not a merge.
            return self.flush();
        }
        let mut out = None;
        if matches!(msg, Message::TimTp(_)) && self.pending.has_time_pulse() {
            // One TIM-TP per epoch: receivers send it before the navigation
            // messages of the epoch it belongs to (LEA-4T, M8T), so a second
            // one means the open epoch is complete.
            out = self.close();
            self.key = None;
        }
        if let Some(itow) = epoch_itow(msg) {
            self.ubx_active = true;
            self.nmea_ticks_since_ubx = 0;
            out = self.cut_if_new(Key::Ubx(itow));
        } else if let Some(ms) = nmea_time_key(msg) {
            if self.last_nmea_ms != Some(ms) {
                self.last_nmea_ms = Some(ms);
                self.nmea_ticks_since_ubx = self.nmea_ticks_since_ubx.saturating_add(1);
                if self.nmea_ticks_since_ubx > UBX_QUIET_NMEA_TICKS {
                    self.ubx_active = false;
                }
            }
            if !self.ubx_active {
                out = self.cut_if_new(Key::Nmea(ms));
            }
        }
        self.pending.add(msg);
        out
    }

    /// End of stream: emit the epoch in progress, if any.
    pub fn flush(&mut self) -> Option<GnssEpoch> {
        let e = self.close();
        self.key = None;
        e
    }

    fn cut_if_new(&mut self, key: Key) -> Option<GnssEpoch> {
        match self.key {
            Some(k) if k == key => None,
            Some(_) => {
                let e = self.close();
                self.key = Some(key);
                e
            }
            None => {
                self.key = Some(key);
                None
            }
        }
    }

    fn close(&mut self) -> Option<GnssEpoch> {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return None;
        }
        let fix_reported = pending.has_fix_source();
        let epoch = pending.assemble(&mut self.mem, &mut self.status.counters);
        self.status.record_epoch(&epoch);
        self.tracker.epoch(&epoch, fix_reported, &mut self.changes);
        Some(epoch)
    }

    /// Status-only information: identity, ACK/NAK.
    fn note_side_effects(&mut self, msg: &Message) {
        let c = &mut self.status.counters;
        match msg {
            Message::MonVer(v) => self.status.identity = Some(ReceiverIdentity::from_mon_ver(v)),
            Message::AckAck { .. } => c.acks += 1,
            Message::AckNak { class, id } => {
                c.naks += 1;
                self.status.last_nak = Some([*class, *id]);
            }
            Message::TimSvin(s) => {
                let progress = SurveyIn::from(s);
                self.tracker.survey(&progress, &mut self.changes);
                self.status.survey.progress = Some(progress);
            }
            Message::Txt(t) => {
                let mut text = t.text.clone();
                text.truncate(120);
                self.status.last_text = Some(text);
            }
            Message::UbxUnknown { .. } => c.unknown_ubx += 1,
            _ => {}
        }
    }
}

/// iTOW of UBX navigation messages that define an epoch. NAV-TIMELS is left
/// out: receivers often send it on poll, not every epoch.
fn epoch_itow(msg: &Message) -> Option<u32> {
    Some(match msg {
        Message::NavPvt(m) => m.itow_ms,
        Message::NavSol(m) => m.itow_ms,
        Message::NavSat(m) | Message::NavSvInfo(m) => m.itow_ms,
        Message::NavSig(m) => m.itow_ms,
        Message::NavStatus(m) => m.itow_ms,
        Message::NavDop(m) => m.itow_ms,
        Message::NavTimeUtc(m) => m.itow_ms,
        Message::NavTimeGps(m) => m.itow_ms,
        Message::NavClock(m) => m.itow_ms,
        _ => return None,
    })
}

fn nmea_time_key(msg: &Message) -> Option<u32> {
    let t = match msg {
        Message::Rmc(m) => m.time,
        Message::Gga(m) => m.time,
        Message::Gns(m) => m.time,
        Message::Zda(m) => m.time,
        Message::Gbs(m) => m.time,
        Message::Pubx(Pubx::Position { time, .. }) | Message::Pubx(Pubx::Time { time, .. }) => {
            *time
        }
        _ => None,
    };
    t.map(|t| t.ms_of_day())
}

#[cfg(test)]
mod tests;
