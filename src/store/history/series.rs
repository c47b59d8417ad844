//! The history series (names are a contract: the web panel and SNMP ask for
//! them by name).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Series {
    TeEstimateNs,
    TeBoundNs,
    FrequencyPpb,
    TemperatureC,
    SatsVisible,
    SatsUsed,
    Cn0MeanDbhz,
    Cn0MaxDbhz,
    Agc,
    Noise,
    Jamming,
    NtpRequestsPerS,
}

/// Number of series; the on-disk row layout follows `Series::ALL`'s order,
/// so new series are only ever appended.
pub const N_SERIES: usize = 12;

impl Series {
    pub const ALL: [Series; N_SERIES] = [
        Series::TeEstimateNs,
        Series::TeBoundNs,
        Series::FrequencyPpb,
        Series::TemperatureC,
        Series::SatsVisible,
        Series::SatsUsed,
        Series::Cn0MeanDbhz,
        Series::Cn0MaxDbhz,
        Series::Agc,
        Series::Noise,
        Series::Jamming,
        Series::NtpRequestsPerS,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Series::TeEstimateNs => "te_estimate_ns",
            Series::TeBoundNs => "te_bound_ns",
            Series::FrequencyPpb => "frequency_ppb",
            Series::TemperatureC => "temperature_c",
            Series::SatsVisible => "sats_visible",
            Series::SatsUsed => "sats_used",
            Series::Cn0MeanDbhz => "cn0_mean_dbhz",
            Series::Cn0MaxDbhz => "cn0_max_dbhz",
            Series::Agc => "agc",
            Series::Noise => "noise",
            Series::Jamming => "jamming",
            Series::NtpRequestsPerS => "ntp_requests_per_s",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::str::FromStr for Series {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Series::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Series::ALL.iter().map(|x| x.name()).collect();
                format!("unknown series `{s}` ({})", names.join(", "))
            })
    }
}

/// Constellation names as the snapshot spells them; stored as their index.
pub const GNSS_NAMES: [&str; 8] = [
    "GPS", "SBAS", "Galileo", "BeiDou", "IMES", "QZSS", "GLONASS", "NavIC",
];

pub fn gnss_index(name: &str) -> u8 {
    GNSS_NAMES
        .iter()
        .position(|n| *n == name)
        .map_or(u8::MAX, |i| i as u8)
}

pub fn gnss_name(i: u8) -> &'static str {
    GNSS_NAMES.get(usize::from(i)).copied().unwrap_or("unknown")
}
