//! PPS sources: `/dev/ppsN` (RFC 2783, [`kpps`]), a GPIO line through
//! gpio-cdev ([`gpio`]), or the simulator ([`sim`]). All yield the same
//! `PpsEdge`; [`monitor`] judges the pulse train and fills [`PpsStatus`].
//!
//! The hardware readers run a blocking thread each and send [`PpsEvent`]s on a
//! tokio channel; their timestamps are on the system CLOCK_REALTIME scale (the
//! shell maps them onto the disciplined clock's scale when that differs).

#[allow(unsafe_code)] // borrowing the line fd for poll
pub mod gpio;
#[allow(unsafe_code)] // RFC 2783 ioctls
pub mod kpps;
pub mod monitor;
pub mod reopen;
pub mod sim;

pub use reopen::{spawn_reopening, ReopeningReader, REOPEN_BACKOFF};

use serde::Serialize;

/// How TIM-TP qErr relates the real pulse to the ideal one.
///
/// u-blox documents qErr only as "quantization error of time pulse", without a
/// sign convention. Two independent time-lab measurements of F9T pulses
/// against a reference with a time-interval counter (start = reference, stop =
/// receiver pulse) found the sawtooth disappears when qErr is *added* to the
/// measured interval: the pulse came out at `ideal − qErr`. That is the
/// default. The other convention stays available in the configuration so a
/// site with a counter can check it without a rebuild; `tests/pairing_corrections.rs`
/// shows the right sign removes a simulated sawtooth and the wrong one doubles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum QErrConvention {
    /// The pulse occurs at `ideal − qErr`: correct by adding qErr.
    #[default]
    PulseAtIdealMinusQErr,
    /// The pulse occurs at `ideal + qErr`: correct by subtracting qErr.
    PulseAtIdealPlusQErr,
}

impl QErrConvention {
    /// Where the pulse really is relative to the ideal instant, in ps.
    pub fn pulse_error_ps(self, qerr_ps: i64) -> i64 {
        match self {
            Self::PulseAtIdealMinusQErr => -qerr_ps,
            Self::PulseAtIdealPlusQErr => qerr_ps,
        }
    }
}

/// One captured pulse edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PpsEdge {
    /// Local (system realtime, or simulated clock) timestamp of the edge, ns.
    pub local_ns: i64,
    /// Kernel or source sequence number.
    pub sequence: u64,
}

/// What a reader thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PpsEvent {
    /// The on-time edge (the one that marks the second).
    Assert(PpsEdge),
    /// The other edge, when the source captures both.
    Clear(PpsEdge),
    /// The reader hit an error; it keeps trying unless the error is fatal.
    Error { message: String, fatal: bool },
}

/// Which kind of source feeds the pulses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PpsSourceKind {
    #[default]
    None,
    /// `/dev/ppsN` through the RFC 2783 ioctls.
    Kernel,
    /// A GPIO line through the gpio-cdev character device.
    Gpio,
    Simulated,
}

/// Health of the pulse train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PulseState {
    /// No pulse seen yet.
    #[default]
    Waiting,
    Ok,
    /// No pulse within the timeout.
    NoPulses,
    /// Recent intervals are not one second.
    WrongRate,
}

/// PPS view in the status snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PpsStatus {
    pub source: PpsSourceKind,
    /// Device path or line, e.g. `/dev/pps0` or `/dev/gpiochip0:18`.
    pub device: String,
    pub state: PulseState,
    /// On-time edges seen.
    pub pulses: u64,
    /// Local timestamp of the last on-time edge, ns.
    pub last_edge_ns: Option<i64>,
    pub last_interval_ns: Option<i64>,
    /// RMS of (interval − 1 s) over the recent window, ns.
    pub interval_jitter_ns: Option<f64>,
    /// Pulses missing from the train (gaps of whole seconds, and timeouts).
    pub missing: u64,
    /// Edges closer than the double-edge limit to the previous one.
    pub double_edges: u64,
    /// Intervals neither ~1 s nor a whole number of seconds.
    pub wrong_rate: u64,
    /// Times the pulse train stopped for longer than the timeout.
    pub timeouts: u64,
    /// The captured edge is probably the wrong one (see `pps::monitor`).
    pub polarity_suspect: bool,
    /// Median assert→clear width, when both edges are captured, ns.
    pub pulse_width_ns: Option<i64>,
    pub last_error: Option<String>,
}

/// A hardware PPS source as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PpsSourceSpec {
    /// `/dev/ppsN`; `capture_clear` also captures the trailing edge (for the
    /// pulse-width polarity check; needs `capture_clear` in the overlay).
    Kernel {
        path: std::path::PathBuf,
        capture_clear: bool,
    },
    /// A GPIO line of a gpiochip.
    Gpio {
        chip: std::path::PathBuf,
        line: u32,
        polarity: gpio::Polarity,
    },
}

impl PpsSourceSpec {
    pub fn kind(&self) -> PpsSourceKind {
        match self {
            Self::Kernel { .. } => PpsSourceKind::Kernel,
            Self::Gpio { .. } => PpsSourceKind::Gpio,
        }
    }

    /// For `PpsStatus.device`.
    pub fn device(&self) -> String {
        match self {
            Self::Kernel { path, .. } => path.display().to_string(),
            Self::Gpio { chip, line, .. } => format!("{}:{line}", chip.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PpsStartError {
    #[error(transparent)]
    Kernel(#[from] kpps::KppsError),
    #[error(transparent)]
    Gpio(#[from] gpio::GpioPpsError),
}

/// A running hardware reader; stops when dropped.
pub enum PpsReader {
    Kernel(kpps::KppsReader),
    Gpio(gpio::GpioReader),
}

impl PpsReader {
    pub fn stop(self) {
        match self {
            Self::Kernel(r) => r.stop(),
            Self::Gpio(r) => r.stop(),
        }
    }
}

/// Open the configured source now (clear error when it is missing) and read
/// it on its own thread, sending events on `tx`.
pub fn start(
    spec: &PpsSourceSpec,
    tx: tokio::sync::mpsc::Sender<PpsEvent>,
    hb: crate::liveness::Heartbeat,
) -> Result<PpsReader, PpsStartError> {
    Ok(match spec {
        PpsSourceSpec::Kernel {
            path,
            capture_clear,
        } => {
            let capture = if *capture_clear {
                kpps::Capture::Both
            } else {
                kpps::Capture::Assert
            };
            PpsReader::Kernel(kpps::spawn(path, capture, tx, hb)?)
        }
        PpsSourceSpec::Gpio {
            chip,
            line,
            polarity,
        } => PpsReader::Gpio(gpio::spawn(chip, *line, *polarity, tx, hb)?),
    })
}
