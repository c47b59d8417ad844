//! Health and distrust rules: when GNSS time may steer the clock, and the
//! most specific reason when it may not.

use super::Engine;
use crate::discipline::lock::Reason;
use crate::gnss::{AntennaStatus, GnssEpoch, JammingState, SpoofingState};

/// Latest receiver health, as far as trust in GNSS time goes.
#[derive(Debug, Clone, Default)]
pub(super) struct GnssHealth {
    pub(super) last_edge_local: Option<i64>,
    /// Any receiver epoch, valid or not: the receiver is there and talking.
    pub(super) last_epoch_local: Option<i64>,
    pub(super) last_valid_time_local: Option<i64>,
    pub(super) last_time_invalid: bool,
    pub(super) sats_used: Option<u32>,
    pub(super) antenna: AntennaStatus,
    pub(super) spoofing: SpoofingState,
    pub(super) jamming: JammingState,
}

impl GnssHealth {
    /// What a receiver epoch says about trust in its time.
    pub(super) fn on_epoch(&mut self, epoch: &GnssEpoch, arrival_local_ns: i64) {
        self.last_epoch_local = Some(arrival_local_ns);
        if let Some(t) = epoch.time {
            if t.is_valid() {
                self.last_valid_time_local = Some(arrival_local_ns);
                self.last_time_invalid = false;
            } else {
                self.last_time_invalid = true;
            }
        }
        if let Some(n) = epoch.fix.sats_used {
            self.sats_used = Some(n);
        }
        if let Some(a) = epoch.antenna {
            self.antenna = a.status;
        }
        if let Some(s) = epoch.security {
            self.spoofing = s.spoofing;
            self.jamming = s.jamming;
        }
    }
}

impl Engine {
    /// No receiver epoch within the time timeout (or ever): the serial
    /// device is absent or silent, whatever the PPS line does.
    pub(super) fn receiver_silent(&self, now: i64) -> bool {
        let limit = self.cfg.time_timeout_ms.saturating_mul(1_000_000);
        self.health
            .last_epoch_local
            .is_none_or(|t| now.saturating_sub(t) > limit)
    }

    /// Why GNSS cannot be trusted right now, if it cannot: the most
    /// specific cause first. An antenna fault, spoofing or jamming loses
    /// the satellites, the time and at last the pulse; the user must see
    /// the cause, not its consequence (`too_few_satellites`).
    pub(super) fn distrust(&self, now: i64) -> Option<Reason> {
        let h = &self.health;
        match h.antenna {
            AntennaStatus::Short => return Some(Reason::AntennaShort),
            AntennaStatus::Open => return Some(Reason::AntennaOpen),
            _ => {}
        }
        if matches!(
            h.spoofing,
            SpoofingState::Indicated | SpoofingState::Multiple
        ) {
            return Some(Reason::Spoofing);
        }
        if h.jamming == JammingState::Critical {
            return Some(Reason::Jamming);
        }
        let ms = 1_000_000;
        if h.last_edge_local
            .is_none_or(|t| now.saturating_sub(t) > self.cfg.pps_timeout_ms.saturating_mul(ms))
        {
            return Some(Reason::PpsMissing);
        }
        if h.last_time_invalid
            || h.last_valid_time_local
                .is_none_or(|t| now.saturating_sub(t) > self.cfg.time_timeout_ms.saturating_mul(ms))
        {
            return Some(Reason::NoValidTime);
        }
        if h.sats_used.is_some_and(|n| n < self.cfg.min_satellites) {
            return Some(Reason::TooFewSatellites);
        }
        None
    }
}
