//! One line of prose per event, for the journal, `status` and the panel's
//! event list. Machines read `data`; people read this.

use super::EventKind as K;

fn ms(v: i64) -> String {
    format!("{}.{:03} s", v / 1000, (v % 1000).abs())
}

fn leap(direction: i8) -> &'static str {
    if direction < 0 {
        "negative"
    } else {
        "positive"
    }
}

impl K {
    pub fn message(&self) -> String {
        match self {
            K::DaemonStart {
                mode,
                version,
                scenario,
            } => match scenario {
                Some(s) => format!("{mode} started, version {version}, scenario {s}"),
                None => format!("{mode} started, version {version}"),
            },
            K::DaemonStop { reason } => format!("stopped ({reason})"),
            K::DaemonUncleanShutdown { last_seen_ns } => match last_seen_ns {
                Some(t) => format!(
                    "the previous run ended without stopping cleanly (last seen {})",
                    crate::time::format_rfc3339(*t)
                ),
                None => "the previous run ended without stopping cleanly".into(),
            },
            K::NtpBindFailed { error } => format!("NTP cannot serve: {error}"),
            K::LockTransition { from, to, reason } => format!("{from} → {to} ({reason})"),
            K::ClockStep { delta_ns, reason } => {
                format!("clock stepped by {delta_ns} ns ({reason})")
            }
            K::ClockCorrection {
                offset_ns,
                frequency_ppm,
                reason,
            } => format!(
                "clock corrected: offset {offset_ns:?} ns, frequency {frequency_ppm:?} ppm ({reason})"
            ),
            K::ServoRestart { reason } => format!("servo restarted: {reason}"),
            K::LeapAnnounced {
                at_utc_ns,
                direction,
                source,
            } => format!(
                "{} leap second before {} ({source})",
                leap(*direction),
                crate::time::format_rfc3339(*at_utc_ns)
            ),
            K::LeapApplied {
                at_utc_ns,
                direction,
            } => format!(
                "{} leap second applied at {}",
                leap(*direction),
                crate::time::format_rfc3339(*at_utc_ns)
            ),
            K::LeapReceiverAnnounced {
                at_utc_ns,
                direction,
            } => format!(
                "receiver announces a {} leap second before {}",
                leap(*direction),
                crate::time::format_rfc3339(*at_utc_ns)
            ),
            K::LeapReceiverRejected { reason } => {
                format!("receiver leap announcement rejected: {reason}")
            }
            K::LeapAgreement { agreement } => format!("leap sources: {agreement}"),
            K::LeapDisagreement { reason } => format!("leap sources disagree: {reason}"),
            K::LeapFileExpiry { state } => format!("leap-seconds file: {state}"),
            K::LeapFileError { path, error } => format!("leap-seconds file {path}: {error}"),
            K::AntennaState { status, power } => {
                format!("antenna {status}, power {power}")
            }
            K::JammingState { state, indicator } => match indicator {
                Some(i) => format!("jamming {state} (indicator {i})"),
                None => format!("jamming {state}"),
            },
            K::SpoofingState { state } => format!("spoofing {state}"),
            K::FixState { fix, sats_used } => match sats_used {
                Some(n) => format!("fix {fix}, {n} satellites used"),
                None => format!("fix {fix}"),
            },
            K::SurveyState { state, accuracy_mm } => match accuracy_mm {
                Some(a) => format!("survey-in {state}, accuracy {a} mm"),
                None => format!("survey-in {state}"),
            },
            K::GnssSurveyRestarted { by } => match by {
                Some(u) => format!("survey-in restarted by {u}"),
                None => "survey-in restarted".to_string(),
            },
            K::GnssSurveyComplete {
                ecef_x_cm,
                ecef_y_cm,
                ecef_z_cm,
                accuracy_mm,
            } => format!(
                "ECEF ({ecef_x_cm}, {ecef_y_cm}, {ecef_z_cm}) cm, accuracy {accuracy_mm} mm"
            ),
            K::GnssSurveyStoreFailed { error } => {
                format!("surveyed position not saved: {error}")
            }
            K::GnssIdentified {
                module,
                class,
                software,
                extensions,
            } => format!(
                "{} ({class}-class), {software}, {}",
                module.as_deref().unwrap_or("unknown module"),
                extensions.join(", ")
            ),
            K::GnssConfigured { module, acked } => {
                format!("{module}: {acked} commands acknowledged")
            }
            K::GnssConfigureFailed { module, failures } => format!(
                "{}: failed: {}",
                module.as_deref().unwrap_or("receiver"),
                failures.join("; ")
            ),
            K::GnssReconfigure { reason } => format!("configuring again: {reason}"),
            K::GnssBaudSwitch { from, to } => {
                format!("moving the receiver from {from} to {to} baud")
            }
            K::GnssBaudSwitchFailed { tried, staying_at } => {
                format!("receiver did not move to {tried} baud; staying at {staying_at}")
            }
            K::SerialOutage { device, reason } => format!("{device}: {reason}"),
            K::SerialRestored { device, outage_ms } => {
                format!("{device} open again after {}", ms(*outage_ms))
            }
            K::SerialSilent { device, silent_ms } => {
                format!("{device}: open but no data for {silent_ms} ms")
            }
            K::SerialDataResumed { device, silent_ms } => {
                format!("{device}: data again after {silent_ms} ms of silence")
            }
            K::SerialBaudDetected {
                device,
                baud,
                configured,
            } => format!("{device}: receiver talks at {baud} baud, not the configured {configured}"),
            K::PpsState { state, reason } => match reason {
                Some(r) => format!("PPS {state}: {r}"),
                None => format!("PPS {state}"),
            },
            K::PpsUnavailable { device, error } => format!("{device}: {error}"),
            K::PartRestart {
                part,
                error,
                restarts,
                delay_ms,
            } => format!("`{part}` failed ({error}); restart {restarts} in {delay_ms} ms"),
            K::PartState { part, state, error } => match error {
                Some(e) => format!("`{part}` {state}: {e}"),
                None => format!("`{part}` {state}"),
            },
            K::StoreCorrupt {
                path,
                moved_to,
                error,
            } => match moved_to {
                Some(to) => format!(
                    "{path} was damaged ({error}); moved to {to} and started a new database"
                ),
                None => format!("{path} is damaged ({error})"),
            },
            K::StoreDegraded { path, error } => {
                format!("{path}: writes failing ({error}); retrying")
            }
            K::StoreRestored { path, degraded_ms } => {
                format!("{path}: writes work again after {}", ms(*degraded_ms))
            }
            K::NtpClientOffset {
                client,
                offset_ns,
                bound_ns,
            } => match bound_ns {
                Some(b) => format!("client {client} is off by {offset_ns} ns (±{b} ns)"),
                None => format!("client {client} is off by {offset_ns} ns"),
            },
            K::NtpClientOffsetCleared { client, offset_ns } => {
                format!("client {client} back within bounds ({offset_ns} ns)")
            }
            K::NtpWatchState {
                name,
                address,
                from,
                to,
                reasons,
                ..
            } => {
                let who = match name {
                    Some(n) => format!("{n} ({address})"),
                    None => address.clone(),
                };
                if reasons.is_empty() {
                    format!("head-end client {who}: {from} -> {to}")
                } else {
                    format!("head-end client {who}: {from} -> {to} ({})", reasons.join(", "))
                }
            }
            K::ConfigChanged { keys, by } => match by {
                Some(b) => format!("configuration changed by {b}: {}", keys.join(", ")),
                None => format!("configuration changed: {}", keys.join(", ")),
            },
            K::AuthLogin { user, remote } => format!("{user} logged in from {remote}"),
            K::AuthLoginFailed {
                user,
                remote,
                reason,
            } => format!("login as {user} from {remote} failed: {reason}"),
            K::Untyped { details, .. } => details.clone(),
        }
    }
}
