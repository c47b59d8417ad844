//! Every kind of event, with its typed payload. The kind names are a
//! contract (the store, the control socket, the panel's event list and SNMP
//! traps all use them); severity and durability are decided here and only
//! here.
//!
//! State payloads use the snapshot's own spellings as strings (`"ok"`,
//! `"holdover"`, ...) so this module imports no core and no shell.

use super::Severity;
use serde::{Deserialize, Serialize};

/// Serialized as `"kind": "<name>", "data": {payload}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data")]
pub enum EventKind {
    // --- daemon ---
    #[serde(rename = "daemon.start")]
    DaemonStart {
        /// `run` or `demo`.
        mode: String,
        version: String,
        /// Fake receiver scenario (demo only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scenario: Option<String>,
    },
    #[serde(rename = "daemon.stop")]
    DaemonStop { reason: String },
    /// The previous run ended without a `daemon.stop` (crash, kill -9, power).
    #[serde(rename = "daemon.unclean_shutdown")]
    DaemonUncleanShutdown {
        /// Last sign of life of the previous run, when known.
        last_seen_ns: Option<i64>,
    },
    /// Something the daemon needs could not start (e.g. the NTP port).
    #[serde(rename = "ntp.bind_failed")]
    NtpBindFailed { error: String },

    // --- discipline ---
    #[serde(rename = "lock.transition")]
    LockTransition {
        from: String,
        to: String,
        /// The most specific cause (`antenna_open` rather than `too_few_satellites`).
        reason: String,
    },
    #[serde(rename = "clock.step")]
    ClockStep { delta_ns: i64, reason: String },
    /// A correction that is not a step (operator slew, frequency reset).
    #[serde(rename = "clock.correction")]
    ClockCorrection {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset_ns: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frequency_ppm: Option<f64>,
        reason: String,
    },
    #[serde(rename = "servo.restart")]
    ServoRestart { reason: String },

    // --- leap seconds ---
    #[serde(rename = "leap.announced")]
    LeapAnnounced {
        /// UTC ns of the instant after the leap second.
        at_utc_ns: i64,
        /// +1 inserted, -1 deleted.
        direction: i8,
        /// `receiver`, `file`, ...
        source: String,
    },
    #[serde(rename = "leap.applied")]
    LeapApplied { at_utc_ns: i64, direction: i8 },
    /// The receiver announces a leap (what it says, before agreement).
    #[serde(rename = "leap.receiver_announced")]
    LeapReceiverAnnounced { at_utc_ns: i64, direction: i8 },
    #[serde(rename = "leap.receiver_rejected")]
    LeapReceiverRejected { reason: String },
    /// Sources agree again (`no_sources`, `no_leap`, `agreed`).
    #[serde(rename = "leap.agreement")]
    LeapAgreement { agreement: String },
    #[serde(rename = "leap.disagreement")]
    LeapDisagreement { reason: String },
    #[serde(rename = "leap.file_expiry")]
    LeapFileExpiry {
        /// `no_file`, `valid`, `expires_soon`, `expired`.
        state: String,
    },
    #[serde(rename = "leap.file_error")]
    LeapFileError { path: String, error: String },

    // --- receiver ---
    #[serde(rename = "antenna.state")]
    AntennaState {
        /// `ok`, `short`, `open`, `unknown`.
        status: String,
        /// `on`, `off`, `unknown`.
        power: String,
    },
    #[serde(rename = "jamming.state")]
    JammingState {
        /// `unknown`, `ok`, `warning`, `critical`.
        state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        indicator: Option<u32>,
    },
    #[serde(rename = "spoofing.state")]
    SpoofingState {
        /// `unknown`, `none`, `indicated`, `multiple`.
        state: String,
    },
    #[serde(rename = "fix.state")]
    FixState {
        /// The snapshot's fix type spelling (`none`, `2d`, `3d`, `time`, ...).
        fix: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sats_used: Option<u32>,
    },
    #[serde(rename = "survey.state")]
    SurveyState {
        /// `in_progress`, `fixed`, `disabled`, ...
        state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        accuracy_mm: Option<u32>,
    },
    #[serde(rename = "gnss.survey_complete")]
    GnssSurveyComplete {
        ecef_x_cm: i32,
        ecef_y_cm: i32,
        ecef_z_cm: i32,
        accuracy_mm: u32,
    },
    /// An operator asked for a new survey-in (the stored position is
    /// dropped when the new one completes).
    #[serde(rename = "gnss.survey_restarted")]
    GnssSurveyRestarted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    #[serde(rename = "gnss.survey_store_failed")]
    GnssSurveyStoreFailed { error: String },
    #[serde(rename = "gnss.identified")]
    GnssIdentified {
        module: Option<String>,
        class: String,
        software: String,
        extensions: Vec<String>,
    },
    #[serde(rename = "gnss.configured")]
    GnssConfigured { module: String, acked: u32 },
    #[serde(rename = "gnss.configure_failed")]
    GnssConfigureFailed {
        module: Option<String>,
        failures: Vec<String>,
    },
    #[serde(rename = "gnss.reconfigure")]
    GnssReconfigure { reason: String },
    #[serde(rename = "gnss.baud_switch")]
    GnssBaudSwitch { from: u32, to: u32 },
    #[serde(rename = "gnss.baud_switch_failed")]
    GnssBaudSwitchFailed { tried: u32, staying_at: u32 },

    // --- serial line ---
    #[serde(rename = "serial.outage")]
    SerialOutage { device: String, reason: String },
    #[serde(rename = "serial.restored")]
    SerialRestored { device: String, outage_ms: i64 },
    #[serde(rename = "serial.silent")]
    SerialSilent { device: String, silent_ms: i64 },
    #[serde(rename = "serial.data_resumed")]
    SerialDataResumed { device: String, silent_ms: i64 },
    #[serde(rename = "serial.baud_detected")]
    SerialBaudDetected {
        device: String,
        baud: u32,
        configured: u32,
    },

    // --- PPS ---
    #[serde(rename = "pps.state")]
    PpsState {
        /// `waiting`, `ok`, `no_pulses`, `wrong_rate`, ...
        state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    #[serde(rename = "pps.unavailable")]
    PpsUnavailable { device: String, error: String },

    // --- parts (threads, tasks) ---
    #[serde(rename = "part.restart")]
    PartRestart {
        part: String,
        error: String,
        restarts: u64,
        delay_ms: u64,
    },
    #[serde(rename = "part.state")]
    PartState {
        part: String,
        /// `running`, `restarting`, `failed`, `stalled`, `stopped`.
        state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },

    // --- store ---
    #[serde(rename = "store.corrupt")]
    StoreCorrupt {
        path: String,
        /// Where the damaged file was moved.
        moved_to: Option<String>,
        error: String,
    },
    #[serde(rename = "store.degraded")]
    StoreDegraded { path: String, error: String },
    #[serde(rename = "store.restored")]
    StoreRestored { path: String, degraded_ms: i64 },

    // --- NTP ---
    #[serde(rename = "ntp.client_offset")]
    NtpClientOffset {
        client: String,
        offset_ns: i64,
        bound_ns: Option<i64>,
    },
    #[serde(rename = "ntp.client_offset_cleared")]
    NtpClientOffsetCleared { client: String, offset_ns: i64 },
    /// A watched (expected) client changed EXE / WARN / FAIL, with the
    /// evidence. States, reasons and method use the snapshot's spellings.
    #[serde(rename = "ntp.watch_state")]
    NtpWatchState {
        name: Option<String>,
        address: String,
        from: String,
        to: String,
        reasons: Vec<String>,
        last_seen_ns: Option<i64>,
        interval_s: Option<f64>,
        offset_ns: Option<i64>,
        offset_uncertainty_ns: Option<i64>,
        offset_method: String,
    },

    // --- operator ---
    #[serde(rename = "config.changed")]
    ConfigChanged {
        keys: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    #[serde(rename = "auth.login")]
    AuthLogin { user: String, remote: String },
    #[serde(rename = "auth.login_failed")]
    AuthLoginFailed {
        user: String,
        remote: String,
        reason: String,
    },

    /// A stored row written before kinds were typed (or by a newer version
    /// with a kind this one does not know): shown as it was stored.
    #[serde(skip)]
    Untyped { kind: String, details: String },
}

use EventKind as K;

impl EventKind {
    /// The contract name, e.g. `antenna.state`.
    pub fn name(&self) -> &str {
        match self {
            K::DaemonStart { .. } => "daemon.start",
            K::DaemonStop { .. } => "daemon.stop",
            K::DaemonUncleanShutdown { .. } => "daemon.unclean_shutdown",
            K::NtpBindFailed { .. } => "ntp.bind_failed",
            K::LockTransition { .. } => "lock.transition",
            K::ClockStep { .. } => "clock.step",
            K::ClockCorrection { .. } => "clock.correction",
            K::ServoRestart { .. } => "servo.restart",
            K::LeapAnnounced { .. } => "leap.announced",
            K::LeapApplied { .. } => "leap.applied",
            K::LeapReceiverAnnounced { .. } => "leap.receiver_announced",
            K::LeapReceiverRejected { .. } => "leap.receiver_rejected",
            K::LeapAgreement { .. } => "leap.agreement",
            K::LeapDisagreement { .. } => "leap.disagreement",
            K::LeapFileExpiry { .. } => "leap.file_expiry",
            K::LeapFileError { .. } => "leap.file_error",
            K::AntennaState { .. } => "antenna.state",
            K::JammingState { .. } => "jamming.state",
            K::SpoofingState { .. } => "spoofing.state",
            K::FixState { .. } => "fix.state",
            K::SurveyState { .. } => "survey.state",
            K::GnssSurveyComplete { .. } => "gnss.survey_complete",
            K::GnssSurveyRestarted { .. } => "gnss.survey_restarted",
            K::GnssSurveyStoreFailed { .. } => "gnss.survey_store_failed",
            K::GnssIdentified { .. } => "gnss.identified",
            K::GnssConfigured { .. } => "gnss.configured",
            K::GnssConfigureFailed { .. } => "gnss.configure_failed",
            K::GnssReconfigure { .. } => "gnss.reconfigure",
            K::GnssBaudSwitch { .. } => "gnss.baud_switch",
            K::GnssBaudSwitchFailed { .. } => "gnss.baud_switch_failed",
            K::SerialOutage { .. } => "serial.outage",
            K::SerialRestored { .. } => "serial.restored",
            K::SerialSilent { .. } => "serial.silent",
            K::SerialDataResumed { .. } => "serial.data_resumed",
            K::SerialBaudDetected { .. } => "serial.baud_detected",
            K::PpsState { .. } => "pps.state",
            K::PpsUnavailable { .. } => "pps.unavailable",
            K::PartRestart { .. } => "part.restart",
            K::PartState { .. } => "part.state",
            K::StoreCorrupt { .. } => "store.corrupt",
            K::StoreDegraded { .. } => "store.degraded",
            K::StoreRestored { .. } => "store.restored",
            K::NtpClientOffset { .. } => "ntp.client_offset",
            K::NtpClientOffsetCleared { .. } => "ntp.client_offset_cleared",
            K::NtpWatchState { .. } => "ntp.watch_state",
            K::ConfigChanged { .. } => "config.changed",
            K::AuthLogin { .. } => "auth.login",
            K::AuthLoginFailed { .. } => "auth.login_failed",
            K::Untyped { kind, .. } => kind,
        }
    }

    /// How bad it is. The one place severity is decided.
    pub fn severity(&self) -> Severity {
        use Severity::*;
        match self {
            K::DaemonStart { .. } | K::DaemonStop { .. } => Notice,
            K::DaemonUncleanShutdown { .. } => Warning,
            K::NtpBindFailed { .. } => Critical,
            K::LockTransition { to, .. } => match to.as_str() {
                "locked" => Notice,
                "holdover" => Warning,
                "unsynchronized" => Error,
                _ => Info,
            },
            K::ClockStep { .. } => Notice,
            K::ClockCorrection { .. } | K::ServoRestart { .. } => Info,
            K::LeapAnnounced { .. } | K::LeapApplied { .. } => Notice,
            K::LeapReceiverAnnounced { .. } => Notice,
            K::LeapReceiverRejected { .. } | K::LeapDisagreement { .. } => Warning,
            K::LeapAgreement { .. } => Info,
            K::LeapFileExpiry { state } => match state.as_str() {
                "expired" => Error,
                "expires_soon" => Warning,
                _ => Info,
            },
            K::LeapFileError { .. } => Warning,
            K::AntennaState { status, .. } => match status.as_str() {
                "ok" => Notice,
                "unknown" => Info,
                _ => Error,
            },
            K::JammingState { state, .. } | K::SpoofingState { state } => match state.as_str() {
                "warning" | "indicated" => Warning,
                "critical" | "multiple" => Critical,
                "ok" | "none" => Notice,
                _ => Info,
            },
            K::FixState { fix, .. } => match fix.as_str() {
                "none" | "no_fix" => Warning,
                _ => Info,
            },
            K::SurveyState { .. }
            | K::GnssSurveyComplete { .. }
            | K::GnssSurveyRestarted { .. } => Notice,
            K::GnssSurveyStoreFailed { .. } => Error,
            K::GnssIdentified { .. } | K::GnssConfigured { .. } => Info,
            K::GnssConfigureFailed { .. } | K::GnssBaudSwitchFailed { .. } => Warning,
            K::GnssReconfigure { .. } | K::GnssBaudSwitch { .. } => Notice,
            K::SerialOutage { .. } | K::SerialSilent { .. } | K::SerialBaudDetected { .. } => {
                Warning
            }
            K::SerialRestored { .. } | K::SerialDataResumed { .. } => Notice,
            K::PpsState { state, .. } => match state.as_str() {
                "ok" => Notice,
                "waiting" => Info,
                _ => Warning,
            },
            K::PpsUnavailable { .. } => Error,
            K::PartRestart { .. } => Warning,
            K::PartState { state, .. } => match state.as_str() {
                "running" | "stopped" => Info,
                "failed" => Error,
                _ => Warning,
            },
            K::StoreCorrupt { .. } => Critical,
            K::StoreDegraded { .. } => Error,
            K::StoreRestored { .. } => Notice,
            K::NtpClientOffset { .. } => Warning,
            K::NtpClientOffsetCleared { .. } => Info,
            K::NtpWatchState { to, .. } => match to.as_str() {
                "FAIL" => Error,
                "WARN" => Warning,
                _ => Info,
            },
            K::ConfigChanged { .. } | K::AuthLogin { .. } => Notice,
            K::AuthLoginFailed { .. } => Warning,
            K::Untyped { .. } => Info,
        }
    }

    /// Committed to disk at once rather than in the next batch: what an
    /// operator must find after a power cut (lifecycle, lock, steps, leap,
    /// hardware faults, damage, operator actions). The one place this is decided.
    pub fn durable(&self) -> bool {
        match self {
            K::DaemonStart { .. }
            | K::DaemonStop { .. }
            | K::DaemonUncleanShutdown { .. }
            | K::NtpBindFailed { .. }
            | K::LockTransition { .. }
            | K::ClockStep { .. }
            | K::LeapAnnounced { .. }
            | K::LeapApplied { .. }
            | K::AntennaState { .. }
            | K::SpoofingState { .. }
            | K::GnssSurveyComplete { .. }
            | K::GnssSurveyRestarted { .. }
            | K::PpsUnavailable { .. }
            | K::StoreCorrupt { .. }
            | K::StoreDegraded { .. }
            | K::ConfigChanged { .. }
            | K::AuthLogin { .. }
            | K::AuthLoginFailed { .. }
            | K::NtpWatchState { .. } => true,
            K::JammingState { state, .. } => state == "critical",
            K::PartState { state, .. } => state == "failed",
            _ => false,
        }
    }
}

/// `event.kind == "serial.outage"` reads naturally in tests and filters.
impl PartialEq<str> for EventKind {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

impl PartialEq<&str> for EventKind {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
