//! The small, lock-free copy of the server fields that the NTP hot path reads.

use arc_swap::ArcSwap;
use serde::Serialize;
use std::sync::Arc;

/// NTP leap indicator (RFC 5905 LI field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LeapIndicator {
    NoWarning = 0,
    InsertSecond = 1,
    DeleteSecond = 2,
    /// Clock unsynchronized.
    #[default]
    Unsynchronized = 3,
}

/// What an NTP reply advertises about this server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerFields {
    pub leap: LeapIndicator,
    /// 1 when synchronized to GNSS, 16 when unsynchronized.
    pub stratum: u8,
    /// Reference ID, e.g. `*b"GPS\0"`.
    pub refid: [u8; 4],
    /// log2 seconds of the clock-read resolution.
    pub precision: i8,
    pub root_delay_ns: u64,
    /// The current time-error bound; grows during holdover.
    pub root_dispersion_ns: u64,
    /// Last servo update (UTC ns); 0 when never.
    pub reference_time_ns: i64,
    /// When these fields were computed (served clock, ns): the dispersion
    /// holds then and is aged from here at reply time; fields not refreshed
    /// for `[ntp] stale-after-s` are served as unsynchronized. 0: never.
    pub as_of_ns: i64,
}

impl Default for ServerFields {
    fn default() -> Self {
        Self {
            leap: LeapIndicator::Unsynchronized,
            stratum: 16,
            refid: *b"GPS\0",
            precision: -20,
            root_delay_ns: 0,
            root_dispersion_ns: 0,
            reference_time_ns: 0,
            as_of_ns: 0,
        }
    }
}

/// Clock wander allowed per second of age, ppm (NTP's PHI, RFC 5905: 15e-6 s/s).
pub const PHI_PPM: u64 = 15;

impl ServerFields {
    pub fn synchronized(&self) -> bool {
        self.leap != LeapIndicator::Unsynchronized && self.stratum < 16
    }

    /// How old these fields are at `now_ns` (served clock); 0 if in the future.
    #[inline]
    pub fn age_ns(&self, now_ns: i64) -> i64 {
        now_ns.saturating_sub(self.as_of_ns).max(0)
    }

    /// Whether a reply at `now_ns` may claim synchronization: synchronized
    /// and refreshed within `stale_after_ns` (0: never stale). The NTP
    /// handler and the status both decide with this.
    #[inline]
    pub fn serving_at(&self, now_ns: i64, stale_after_ns: i64) -> bool {
        self.synchronized() && (stale_after_ns == 0 || self.age_ns(now_ns) <= stale_after_ns)
    }

    /// Root dispersion at `now_ns`: the bound holds at `as_of_ns` (it
    /// already includes holdover growth up to then, so aging from the
    /// reference time would count that twice) and grows by PHI after it.
    #[inline]
    pub fn dispersion_at(&self, now_ns: i64) -> u64 {
        let age = u64::try_from(self.age_ns(now_ns)).unwrap_or(0);
        self.root_dispersion_ns
            .saturating_add(age.saturating_mul(PHI_PPM) / 1_000_000)
    }

    /// The reference ID as text (`GPS`, `GNSS`, `PPS`), zero padding dropped.
    pub fn refid_text(&self) -> String {
        String::from_utf8_lossy(&self.refid)
            .trim_end_matches('\0')
            .to_string()
    }
}

/// Shared, lock-free cell: the discipline loop stores, NTP workers load.
#[derive(Debug, Clone)]
pub struct ServerFieldsCell(Arc<ArcSwap<ServerFields>>);

impl Default for ServerFieldsCell {
    fn default() -> Self {
        Self::new(ServerFields::default())
    }
}

impl ServerFieldsCell {
    pub fn new(f: ServerFields) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(f)))
    }
    pub fn load(&self) -> Arc<ServerFields> {
        self.0.load_full()
    }
    pub fn store(&self, f: ServerFields) {
        self.0.store(Arc::new(f));
    }
}
