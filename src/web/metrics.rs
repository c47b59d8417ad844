//! Prometheus text exposition of the snapshot (sans-IO: snapshot JSON in,
//! text out). Names are snake_case with unit suffixes; where a value means
//! what node_exporter's timex collector or chrony_exporter export, the name
//! ends the same way (`…_offset_seconds`, `…_frequency_adjustment_ratio`,
//! `…_root_dispersion_seconds`, `…_stratum`, `…_sync_status`).
//!
//! The snapshot is read as JSON on purpose: parts of it are still growing,
//! and a value that is unknown (`null` or absent) is left out, never sent as 0.

use serde_json::Value;
use std::fmt::Write;

#[path = "metrics_watch.rs"]
mod watch;

const P: &str = "gnss_timeserver";

/// Lock states and antenna states, exported as one series per state with
/// value 1 for the current one (the Prometheus "enum" idiom).
const LOCK_STATES: &[&str] = &["acquiring", "locked", "holdover", "unsynchronized"];
const ANTENNA_STATES: &[&str] = &["ok", "short", "open", "unknown"];
const ANTENNA_POWER: &[&str] = &["on", "off", "unknown"];
const JAMMING_STATES: &[&str] = &["unknown", "ok", "warning", "critical"];
const SPOOFING_STATES: &[&str] = &["unknown", "none", "indicated", "multiple"];
const PART_STATES: &[&str] = &["running", "restarting", "failed", "stalled", "stopped"];

/// One metric family: HELP and TYPE once, then its samples.
struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let _ = write!(self.out, "{P}_{name}");
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", fmt_value(value));
    }
}

struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) -> Family<'_> {
        let _ = writeln!(self.out, "# HELP {P}_{name} {help}");
        let _ = writeln!(self.out, "# TYPE {P}_{name} {kind}");
        Family { out: &mut self.out }
    }

    /// A single unlabelled sample, skipped when the value is unknown.
    fn single(&mut self, name: &str, kind: &str, help: &str, value: Option<f64>) {
        if let Some(v) = value {
            self.family(name, kind, help).sample(name, &[], v);
        }
    }

    fn one_of(&mut self, name: &str, label: &str, help: &str, states: &[&str], current: &str) {
        let mut f = self.family(name, "gauge", help);
        for s in states {
            f.sample(name, &[(label, s)], if *s == current { 1.0 } else { 0.0 });
        }
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:e}")
    }
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(v, |v, p| v.get(p))
        .filter(|v| !v.is_null())
}
fn num(v: &Value, path: &str) -> Option<f64> {
    at(v, path)?.as_f64()
}
fn text<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    at(v, path)?.as_str()
}
fn ns_to_s(ns: Option<f64>) -> Option<f64> {
    ns.map(|n| n / 1e9)
}

/// Render the exposition for one snapshot (its JSON form).
pub fn render(s: &Value) -> String {
    let mut e = Exposition {
        out: String::with_capacity(8192),
    };
    let version = text(s, "version").unwrap_or("unknown");
    let model = text(s, "receiver.identity.model").unwrap_or("unknown");
    let firmware = text(s, "receiver.identity.fw_version")
        .or_else(|| text(s, "receiver.identity.sw_version"))
        .unwrap_or("unknown");
    e.family(
        "info",
        "gauge",
        "Identity of this appliance (value is always 1).",
    )
    .sample(
        "info",
        &[
            ("version", version),
            ("receiver_model", model),
            ("receiver_firmware", firmware),
        ],
        1.0,
    );
    e.single(
        "uptime_seconds",
        "gauge",
        "Seconds since the daemon started.",
        num(s, "uptime_s"),
    );

    // Discipline: lock state, error bound, offset, frequency.
    let lock = text(s, "discipline.state").unwrap_or("");
    e.one_of(
        "lock_state",
        "state",
        "Lock state of the disciplined clock (1 for the current state).",
        LOCK_STATES,
        lock,
    );
    e.single(
        "time_error_bound_seconds",
        "gauge",
        "Honest bound on the served time's error (what NTP advertises as root dispersion).",
        ns_to_s(num(s, "discipline.time_error_bound_ns")),
    );
    e.single(
        "offset_seconds",
        "gauge",
        "Estimated offset of the disciplined clock from UTC (local minus UTC).",
        ns_to_s(num(s, "discipline.offset_ns")),
    );
    e.single(
        "pps_offset_seconds",
        "gauge",
        "Offset of the last PPS edge from UTC as measured (local minus UTC).",
        ns_to_s(num(s, "pps.offset_ns").or_else(|| num(s, "discipline.offset_ns"))),
    );
    e.single(
        "pps_jitter_seconds",
        "gauge",
        "RMS of the PPS interval error over the recent window.",
        ns_to_s(num(s, "pps.interval_jitter_ns")),
    );
    e.single(
        "pps_pulses_total",
        "counter",
        "On-time PPS edges seen.",
        num(s, "pps.pulses"),
    );
    e.single(
        "pps_missing_total",
        "counter",
        "PPS pulses missing from the train.",
        num(s, "pps.missing"),
    );
    e.single(
        "frequency_adjustment_ratio",
        "gauge",
        "Frequency correction applied to the clock (1e-6 = 1 ppm).",
        num(s, "discipline.correction_ppm").map(|p| p * 1e-6),
    );
    e.single(
        "oscillator_frequency_offset_ratio",
        "gauge",
        "Estimated free-running frequency offset of the oscillator (1e-6 = 1 ppm).",
        num(s, "discipline.frequency_ppm").map(|p| p * 1e-6),
    );
    e.single(
        "temperature_celsius",
        "gauge",
        "Board temperature used by the oscillator model.",
        num(s, "discipline.temperature_c"),
    );
    let holdover = (lock == "holdover")
        .then(|| Some((num(s, "generated_at_ns")? - num(s, "discipline.since_ns")?) / 1e9))
        .flatten()
        .map(|d| d.max(0.0))
        .or(if lock.is_empty() { None } else { Some(0.0) });
    e.single(
        "holdover_duration_seconds",
        "gauge",
        "Seconds in holdover so far (0 when not in holdover).",
        holdover,
    );
    e.single(
        "clock_steps_total",
        "counter",
        "Clock steps taken.",
        num(s, "discipline.steps"),
    );
    // Leap: +1 insert, -1 delete, 0 none scheduled.
    let leap = match at(s, "discipline.leap.pending") {
        Some(p) => Some(if p.get("insert").and_then(Value::as_bool) == Some(false) {
            -1.0
        } else {
            1.0
        }),
        None => at(s, "discipline.leap").map(|_| 0.0),
    };
    e.single(
        "leap_pending",
        "gauge",
        "Scheduled leap second: 1 insert, -1 delete, 0 none.",
        leap,
    );

    // What NTP serves.
    e.single(
        "served_stratum",
        "gauge",
        "Stratum NTP replies carry now.",
        num(s, "served.stratum"),
    );
    e.single(
        "served_leap_indicator",
        "gauge",
        "Leap indicator NTP replies carry now (3 = unsynchronized).",
        num(s, "served.leap_indicator"),
    );
    e.single(
        "served_root_dispersion_seconds",
        "gauge",
        "Root dispersion NTP replies carry now.",
        ns_to_s(num(s, "served.root_dispersion_ns")),
    );
    e.single(
        "served_root_delay_seconds",
        "gauge",
        "Root delay NTP replies carry now.",
        ns_to_s(num(s, "served.root_delay_ns")),
    );
    e.single(
        "sync_status",
        "gauge",
        "1 when NTP serves synchronized time, 0 otherwise.",
        at(s, "served.synchronized")
            .and_then(Value::as_bool)
            .or_else(|| (!lock.is_empty()).then_some(lock == "locked" || lock == "holdover"))
            .map(|b| f64::from(u8::from(b))),
    );

    render_receiver(&mut e, s);
    render_ntp(&mut e, s);
    render_parts(&mut e, s);
    e.single(
        "events_dropped_total",
        "counter",
        "Events lost before reaching the store.",
        num(s, "store.dropped_events"),
    );
    e.out
}

fn render_receiver(e: &mut Exposition, s: &Value) {
    if let Some(st) = text(s, "receiver.antenna.status") {
        e.one_of(
            "antenna_status",
            "status",
            "Antenna supervisor state (1 for the current one).",
            ANTENNA_STATES,
            st,
        );
    }
    if let Some(p) = text(s, "receiver.antenna.power") {
        e.one_of(
            "antenna_power",
            "power",
            "Antenna power state (1 for the current one).",
            ANTENNA_POWER,
            p,
        );
    }
    e.single(
        "jamming_indicator",
        "gauge",
        "Receiver's continuous-wave jamming indicator, 0 (none) to 255 (strong).",
        num(s, "receiver.antenna.jamming"),
    );
    e.single(
        "antenna_noise_level",
        "gauge",
        "Receiver noise level as the receiver reports it (noise per ms).",
        num(s, "receiver.antenna.noise_per_ms"),
    );
    e.single(
        "antenna_agc_ratio",
        "gauge",
        "Receiver AGC monitor as a fraction of its range (raw 0 to 8191).",
        num(s, "receiver.antenna.agc_count").map(|a| a / 8191.0),
    );
    if let Some(j) = text(s, "receiver.security.jamming") {
        e.one_of(
            "jamming_state",
            "state",
            "Jamming state reported by the receiver (1 for the current one).",
            JAMMING_STATES,
            j,
        );
    }
    if let Some(sp) = text(s, "receiver.security.spoofing") {
        e.one_of(
            "spoofing_state",
            "state",
            "Spoofing detection state (1 for the current one).",
            SPOOFING_STATES,
            sp,
        );
    }

    // Satellites per constellation: the receiver's own summary, else counted
    // from the sky list.
    let mut per: Vec<(String, f64, f64)> = Vec::new();
    if let Some(Value::Array(cs)) = at(s, "receiver.constellations") {
        for c in cs {
            if let Some(g) = c.get("gnss").and_then(Value::as_str) {
                let visible = c.get("visible").and_then(Value::as_f64).unwrap_or(0.0);
                let used = c.get("used").and_then(Value::as_f64).unwrap_or(0.0);
                per.push((g.to_string(), visible, used));
            }
        }
    } else if let Some(Value::Array(sky)) = at(s, "receiver.sky") {
        for sat in sky {
            let Some(g) = sat.get("gnss").and_then(Value::as_str) else {
                continue;
            };
            let used = sat.get("used").and_then(Value::as_bool) == Some(true);
            match per.iter_mut().find(|(n, _, _)| n == g) {
                Some(entry) => {
                    entry.1 += 1.0;
                    entry.2 += f64::from(u8::from(used));
                }
                None => per.push((g.to_string(), 1.0, f64::from(u8::from(used)))),
            }
        }
    }
    if !per.is_empty() {
        let mut f = e.family(
            "satellites_visible",
            "gauge",
            "Satellites in view per constellation.",
        );
        for (g, v, _) in &per {
            f.sample("satellites_visible", &[("gnss", g)], *v);
        }
        let mut f = e.family(
            "satellites_used",
            "gauge",
            "Satellites used in the solution per constellation.",
        );
        for (g, _, u) in &per {
            f.sample("satellites_used", &[("gnss", g)], *u);
        }
    }
    if let Some(Value::Array(sky)) = at(s, "receiver.sky") {
        let mut f = e.family(
            "satellite_cn0_dbhz",
            "gauge",
            "Carrier-to-noise density of each tracked satellite (best signal).",
        );
        for sat in sky {
            let (Some(g), Some(svid), Some(cn0)) = (
                sat.get("gnss").and_then(Value::as_str),
                sat.get("svid").and_then(Value::as_u64),
                sat.get("cn0_dbhz").and_then(Value::as_f64),
            ) else {
                continue;
            };
            f.sample(
                "satellite_cn0_dbhz",
                &[("gnss", g), ("svid", &svid.to_string())],
                cn0,
            );
        }
    }
    e.single(
        "serial_outages_total",
        "counter",
        "Receiver serial link outages.",
        num(s, "serial.outages"),
    );
}

fn render_ntp(e: &mut Exposition, s: &Value) {
    let Some(c) = at(s, "ntp.counters") else {
        return;
    };
    let get = |k: &str| c.get(k).and_then(Value::as_f64);
    e.single(
        "ntp_requests_total",
        "counter",
        "NTP requests received.",
        get("requests"),
    );
    e.single(
        "ntp_responses_total",
        "counter",
        "NTP responses sent.",
        get("responses"),
    );
    let mut f = e.family(
        "ntp_kod_total",
        "counter",
        "Kiss-o'-Death replies sent, by code.",
    );
    for (code, key) in [
        ("rate", "kod_rate"),
        ("deny", "kod_deny"),
        ("crypto_nak", "crypto_nak"),
    ] {
        if let Some(v) = get(key) {
            f.sample("ntp_kod_total", &[("code", code)], v);
        }
    }
    let mut f = e.family(
        "ntp_packets_dropped_total",
        "counter",
        "NTP packets dropped without an answer, by reason.",
    );
    if let Value::Object(m) = c {
        for (k, v) in m {
            if let (Some(reason), Some(v)) = (k.strip_prefix("drop_"), v.as_f64()) {
                f.sample("ntp_packets_dropped_total", &[("reason", reason)], v);
            }
        }
    }
    e.single(
        "ntp_clients_tracked",
        "gauge",
        "Clients in the NTP client table.",
        num(s, "ntp.clients_tracked"),
    );
    watch::render(e, s);
}

fn render_parts(e: &mut Exposition, s: &Value) {
    let Some(Value::Array(parts)) = at(s, "parts") else {
        return;
    };
    let named: Vec<(&str, &Value)> = parts
        .iter()
        .filter_map(|p| Some((p.get("name")?.as_str()?, p)))
        .collect();
    let mut f = e.family(
        "part_state",
        "gauge",
        "State of each supervised part (1 for the current one).",
    );
    for (name, p) in &named {
        let cur = p.get("state").and_then(Value::as_str).unwrap_or("");
        for st in PART_STATES {
            f.sample(
                "part_state",
                &[("part", name), ("state", st)],
                if *st == cur { 1.0 } else { 0.0 },
            );
        }
    }
    let mut f = e.family(
        "part_restarts_total",
        "counter",
        "Restarts of each supervised part.",
    );
    for (name, p) in &named {
        if let Some(r) = p.get("restarts").and_then(Value::as_f64) {
            f.sample("part_restarts_total", &[("part", name)], r);
        }
    }
    let mut f = e.family(
        "part_last_heartbeat_timestamp_seconds",
        "gauge",
        "When each part last reported it is alive (Unix seconds).",
    );
    for (name, p) in &named {
        if let Some(h) = p.get("last_heartbeat_ns").and_then(Value::as_f64) {
            f.sample(
                "part_last_heartbeat_timestamp_seconds",
                &[("part", name)],
                h / 1e9,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_values_are_left_out_not_zero() {
        let out = render(&json!({"version": "1.0", "discipline": {"state": "acquiring"}}));
        assert!(
            out.contains("gnss_timeserver_info{version=\"1.0\""),
            "{out}"
        );
        assert!(out.contains("gnss_timeserver_lock_state{state=\"acquiring\"} 1"));
        assert!(out.contains("gnss_timeserver_lock_state{state=\"locked\"} 0"));
        assert!(!out.contains("temperature_celsius"), "{out}");
        assert!(!out.contains("time_error_bound_seconds"), "{out}");
    }

    #[test]
    fn sky_and_parts() {
        let out = render(&json!({
            "generated_at_ns": 10_000_000_000i64,
            "discipline": {"state": "holdover", "since_ns": 4_000_000_000i64, "time_error_bound_ns": 1500.0},
            "receiver": {"sky": [
                {"gnss": "GPS", "svid": 5, "cn0_dbhz": 41.0, "used": true},
                {"gnss": "GPS", "svid": 7, "cn0_dbhz": 30.5, "used": false},
                {"gnss": "Galileo", "svid": 11, "cn0_dbhz": null, "used": false}
            ], "antenna": {"status": "short", "power": "off", "jamming": 12}},
            "parts": [{"name": "serial", "state": "running", "restarts": 2, "last_heartbeat_ns": 9_000_000_000i64}],
            "ntp": {"counters": {"requests": 10, "responses": 9, "kod_rate": 1, "drop_mode": 1}}
        }));
        assert!(
            out.contains("gnss_timeserver_holdover_duration_seconds 6\n"),
            "{out}"
        );
        assert!(
            out.contains("gnss_timeserver_time_error_bound_seconds 1.5e-6"),
            "{out}"
        );
        assert!(out.contains("gnss_timeserver_satellites_visible{gnss=\"GPS\"} 2"));
        assert!(out.contains("gnss_timeserver_satellites_used{gnss=\"GPS\"} 1"));
        assert!(out.contains("gnss_timeserver_satellite_cn0_dbhz{gnss=\"GPS\",svid=\"7\"} 3.05e1"));
        assert!(!out.contains("svid=\"11\""), "unknown C/N0 left out");
        assert!(out.contains("gnss_timeserver_antenna_status{status=\"short\"} 1"));
        assert!(out.contains("gnss_timeserver_part_restarts_total{part=\"serial\"} 2"));
        assert!(out.contains("gnss_timeserver_part_state{part=\"serial\",state=\"running\"} 1"));
        assert!(out.contains("gnss_timeserver_ntp_packets_dropped_total{reason=\"mode\"} 1"));
        assert!(out.contains("gnss_timeserver_ntp_kod_total{code=\"rate\"} 1"));
    }

    #[test]
    fn label_values_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(fmt_value(f64::NAN), "NaN");
        assert_eq!(fmt_value(3.0), "3");
    }
}
