//! Client clock offset estimates (client clock minus ours, the sign the
//! client monitor uses: positive = the client is ahead).
//!
//! - **four_timestamp**: the client's origin echoes the transmit timestamp
//!   of our previous reply (Windows Time in symmetric mode, ntpd), so the
//!   previous exchange has all four timestamps: offset =
//!   ((T1 - T2) + (T4 - T3)) / 2, uncertainty = delay / 2 (the path
//!   asymmetry can be anything between all-forward and all-return).
//! - **one_way**: only the client's transmit time T1 and our receive time
//!   T2: T1 - T2 = offset - forward delay. With a round-trip delay `d` known
//!   from an earlier four-timestamp exchange the estimate is centred
//!   (offset = T1 - T2 + d/2 ± d/2); otherwise offset = T1 - T2 with an
//!   uncertainty of [`PATH_DELAY_BOUND_NS`] (we cannot know the forward
//!   delay; 100 ms covers a utility WAN, a LAN is far below) plus the root
//!   dispersion the client itself claims.
//! - **unknown**: clients that put a random number in the transmit field
//!   (chrony, ntpd's data minimisation) show consecutive one-way values
//!   jumping by more than any clock drifts; they get no number at all,
//!   never a wrong one.

use crate::time::NS_PER_SEC;
use serde::{Deserialize, Serialize};

/// Assumed bound on the forward path delay of a one-way estimate.
pub const PATH_DELAY_BOUND_NS: i64 = 100_000_000;

/// Two requests closer than this prove nothing about the transmit field
/// being a clock (a random cookie may land near the last one by chance when
/// a flooder sends thousands).
const MIN_SPACING_NS: i64 = NS_PER_SEC / 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OffsetMethod {
    FourTimestamp,
    OneWay,
    #[default]
    Unknown,
}

impl OffsetMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            OffsetMethod::FourTimestamp => "four_timestamp",
            OffsetMethod::OneWay => "one_way",
            OffsetMethod::Unknown => "unknown",
        }
    }
}

/// A four-timestamp measurement of the previous exchange (from the client
/// table, which keeps our replies' transmit times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FourTimestamp {
    pub offset_ns: i64,
    pub delay_ns: i64,
}

impl FourTimestamp {
    /// From T1 (client transmit), T2 (our receive), T3 (our transmit), T4
    /// (client receive), all in ns; `None` for an impossible delay.
    pub fn from_times(t1: i64, t2: i64, t3: i64, t4: i64) -> Option<Self> {
        let delay = (t4 - t1) - (t3 - t2);
        (0..10 * NS_PER_SEC)
            .contains(&delay)
            .then_some(FourTimestamp {
                offset_ns: ((t1 - t2) + (t4 - t3)) / 2,
                delay_ns: delay,
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Estimate {
    pub offset_ns: Option<i64>,
    pub uncertainty_ns: Option<i64>,
    pub method: OffsetMethod,
}

#[derive(Debug, Clone, Default)]
pub struct OffsetTracker {
    prev: Option<(i64, i64)>,
    consistent: bool,
    delay_ns: Option<i64>,
    estimate: Estimate,
}

/// 100 ms plus 500 ppm of the elapsed time: more than any working clock
/// moves between two requests, far less than a random transmit field.
fn plausible(prev: i64, now: i64, elapsed_ns: i64) -> bool {
    (now - prev).abs() <= 100_000_000 + elapsed_ns.max(0) / 2_000
}

impl OffsetTracker {
    pub fn estimate(&self) -> Estimate {
        self.estimate
    }

    /// One request: our receive time, the client's transmit time (resolved
    /// to ns; `None` when zero), a four-timestamp measurement when the
    /// request completed one, and the client's claimed root dispersion.
    pub fn on_request(
        &mut self,
        rx_ns: i64,
        client_tx_ns: Option<i64>,
        four: Option<FourTimestamp>,
        root_dispersion_ns: i64,
    ) -> Estimate {
        let one_way = client_tx_ns.map(|t| t.saturating_sub(rx_ns));
        match (self.prev, one_way) {
            (Some((prx, pow)), Some(ow)) => {
                let elapsed = rx_ns.saturating_sub(prx);
                if !plausible(pow, ow, elapsed) {
                    self.consistent = false;
                } else if elapsed >= MIN_SPACING_NS {
                    self.consistent = true;
                }
            }
            _ => self.consistent = false,
        }
        self.prev = one_way.map(|ow| (rx_ns, ow));
        self.estimate = if let Some(f) = four {
            self.delay_ns = Some(f.delay_ns);
            Estimate {
                offset_ns: Some(f.offset_ns),
                uncertainty_ns: Some(f.delay_ns / 2),
                method: OffsetMethod::FourTimestamp,
            }
        } else if let (true, Some(ow)) = (self.consistent, one_way) {
            let disp = root_dispersion_ns.max(0);
            let (offset, unc) = match self.delay_ns {
                Some(d) => (ow + d / 2, d / 2),
                None => (ow, PATH_DELAY_BOUND_NS),
            };
            Estimate {
                offset_ns: Some(offset),
                uncertainty_ns: Some(unc.saturating_add(disp)),
                method: OffsetMethod::OneWay,
            }
        } else {
            // Random transmit fields, or only one request so far: no number.
            Estimate::default()
        };
        self.estimate
    }
}
