//! What the receiver model shows in the status snapshot.

use serde::Serialize;

use crate::gnss::message::TimSvin;
use crate::gnss::*;

pub use crate::gnss::identity::ReceiverIdentity;

/// Epochs without a sky message after which the last sky is dropped.
pub const SKY_STALE_EPOCHS: u32 = 5;

/// Receiver view in the status snapshot: counters and the latest state.
/// Unknown is `null`: nothing is shown as current that the latest epoch
/// did not say (the sky may lag by at most `SKY_STALE_EPOCHS`, with its age).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceiverStatus {
    pub identity: Option<ReceiverIdentity>,
    pub counters: ReceiverCounters,
    /// UTC of the last epoch, ns since the Unix epoch.
    pub last_epoch_utc_ns: Option<i64>,
    pub fix: Fix,
    /// Satellites in the latest epoch's sky; `null` when that epoch had none
    /// (0 means the receiver said "none in view").
    pub sats_visible: Option<u32>,
    /// Satellites used: the latest sky's count, else the fix's; `null` when
    /// neither was reported.
    pub sats_used: Option<u32>,
    /// Per satellite, per signal (see [`SatInfo`]).
    pub sky: Vec<SatInfo>,
    /// Epochs since `sky` was reported (0: by the latest epoch); `null` with no sky.
    pub sky_age_epochs: Option<u32>,
    pub constellations: Vec<ConstellationCount>,
    /// Time of the latest epoch: tAcc (`tacc_ns`) and the validity flags.
    pub time: Option<EpochTime>,
    /// NAV-CLOCK of the latest epoch: receiver clock bias and drift.
    pub clock: Option<ReceiverClock>,
    /// Latest values seen (they persist across epochs that do not carry them).
    pub antenna: Option<AntennaInfo>,
    pub security: Option<Security>,
    pub leap: Option<LeapInfo>,
    pub time_pulse: Option<TimePulse>,
    pub survey: SurveyView,
    /// Last ACK-NAK (class, id).
    pub last_nak: Option<[u8; 2]>,
    /// Last TXT sentence (truncated).
    pub last_text: Option<String>,
}

/// Survey-in and the fixed antenna position.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SurveyView {
    /// What the configuration set up (`null` when it does not configure).
    pub state: Option<SurveyState>,
    /// Latest TIM-SVIN progress.
    pub progress: Option<SurveyIn>,
    /// Position the receiver holds fixed (this run's survey or the stored one).
    pub fixed_position: Option<SurveyPosition>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReceiverCounters {
    pub messages: u64,
    pub epochs: u64,
    pub decode_errors: u64,
    pub unknown_ubx: u64,
    pub rtcm3_frames: u64,
    pub acks: u64,
    pub naks: u64,
    /// GSV groups that closed with parts missing.
    pub gsv_incomplete: u64,
}

/// TIM-SVIN progress.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SurveyIn {
    pub duration_s: u32,
    pub observations: u32,
    /// Mean position ECEF, cm.
    pub mean_ecef_cm: [i32; 3],
    /// 3D variance, mm².
    pub variance_mm2: u32,
    pub valid: bool,
    pub active: bool,
}

impl From<&TimSvin> for SurveyIn {
    fn from(s: &TimSvin) -> Self {
        Self {
            duration_s: s.dur_s,
            observations: s.obs,
            mean_ecef_cm: [s.mean_x_cm, s.mean_y_cm, s.mean_z_cm],
            variance_mm2: s.mean_v_mm2,
            valid: s.valid,
            active: s.active,
        }
    }
}

impl ReceiverStatus {
    pub(crate) fn record_epoch(&mut self, e: &GnssEpoch) {
        self.counters.epochs += 1;
        self.last_epoch_utc_ns = e.time.map(|t| t.utc_ns).or(self.last_epoch_utc_ns);
        self.fix = e.fix.clone();
        self.time = e.time;
        self.clock = e.clock;
        if e.sky_reported {
            self.sky = e.satellites.clone();
            self.sky_age_epochs = Some(0);
        } else if let Some(age) = self.sky_age_epochs {
            if age + 1 > SKY_STALE_EPOCHS {
                self.sky.clear();
                self.sky_age_epochs = None;
            } else {
                self.sky_age_epochs = Some(age + 1);
            }
        }
        self.constellations = constellation_counts(&self.sky);
        let fresh = self.sky_age_epochs == Some(0);
        self.sats_visible = fresh.then_some(self.sky.len() as u32);
        self.sats_used = if fresh {
            Some(self.sky.iter().filter(|s| s.used).count() as u32)
        } else {
            e.fix.sats_used
        };
        if e.antenna.is_some() {
            self.antenna = e.antenna;
        }
        if e.security.is_some() {
            self.security = e.security;
        }
        if e.leap.is_some() {
            self.leap = e.leap;
        }
        if e.time_pulse.is_some() {
            self.time_pulse = e.time_pulse;
        }
    }
}

/// Visible and used satellites per constellation, in constellation order.
pub fn constellation_counts(sky: &[SatInfo]) -> Vec<ConstellationCount> {
    let mut out: Vec<ConstellationCount> = Vec::new();
    let mut gnss: Vec<Constellation> = sky.iter().map(|s| s.gnss).collect();
    gnss.sort();
    gnss.dedup();
    for g in gnss {
        let of = || sky.iter().filter(move |s| s.gnss == g);
        out.push(ConstellationCount {
            gnss: g,
            visible: of().count() as u32,
            used: of().filter(|s| s.used).count() as u32,
        });
    }
    out
}
