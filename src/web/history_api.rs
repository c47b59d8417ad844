//! REST API v1 over the stored history: `/history` (series in buckets),
//! `/sky/obstruction` (24 h C/N0 per az/el cell) and `/sky/tracks`. The
//! query parsing is pure (times in, ranges or per-field errors out); the
//! routes read the store off the async threads (`StoreHandle` runs redb on
//! the blocking pool).

use super::api::{json_reply, query, with_state};
use super::auth::{reader, Authed};
use super::error::ApiError;
use super::state::WebState;
use crate::store::history::{Series, CELL_AZ_DEG, CELL_EL_DEG, MINUTES_KEPT, NS_PER_MIN};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use warp::{Filter, Rejection};

const NS_PER_S: i64 = 1_000_000_000;
/// The history keeps minute aggregates this long.
pub const HISTORY_SPAN_NS: i64 = MINUTES_KEPT * NS_PER_MIN;
/// The sky tables keep 24 h.
pub const SKY_SPAN_NS: i64 = 24 * 3600 * NS_PER_S;
/// Points per series when no step is asked for.
pub const DEFAULT_POINTS: i64 = 360;

/// Per-field refusals, as `ApiError.fields`.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Comma-separated series names; all when absent.
    pub series: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub step: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkyQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Tracks only: one point per this span (default 1 min).
    pub step: Option<String>,
}

/// `90`, `90s`, `5m`, `1h`, `2d` → ns (a bare number is seconds).
pub fn parse_duration_ns(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let mult = match unit {
        's' => NS_PER_S,
        'm' => 60 * NS_PER_S,
        'h' => 3600 * NS_PER_S,
        'd' => 86_400 * NS_PER_S,
        _ => return Err(format!("unit `{unit}`; use s, m, h or d")),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| "a duration like 30s, 5m, 1h or 2d".to_string())?;
    n.checked_mul(mult)
        .filter(|v| *v >= 0)
        .ok_or_else(|| "duration out of range".to_string())
}

/// `now`, `-1h` (before now) or UTC ns since the epoch.
pub fn parse_instant_ns(s: &str, now_ns: i64) -> Result<i64, String> {
    let s = s.trim();
    if s == "now" {
        return Ok(now_ns);
    }
    if let Some(rel) = s
        .strip_prefix('-')
        .filter(|r| r.chars().last().is_some_and(|c| c.is_ascii_alphabetic()))
    {
        return parse_duration_ns(rel).map(|d| now_ns.saturating_sub(d));
    }
    s.parse::<i64>()
        .map_err(|_| "`now`, a time before now like `-24h`, or UTC ns since 1970".to_string())
}

/// A validated time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from_ns: i64,
    pub to_ns: i64,
}

/// `from`/`to` with defaults (the last `default_span_ns`), at most `max_span_ns` long.
pub fn parse_range(
    from: Option<&str>,
    to: Option<&str>,
    now_ns: i64,
    default_span_ns: i64,
    max_span_ns: i64,
    errors: &mut FieldErrors,
) -> Option<Range> {
    let to_ns = match to.map(|t| parse_instant_ns(t, now_ns)) {
        None => Some(now_ns),
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            errors.insert("to".into(), e);
            None
        }
    };
    let from_ns = match from.map(|f| parse_instant_ns(f, now_ns)) {
        None => to_ns.map(|t| t.saturating_sub(default_span_ns)),
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => {
            errors.insert("from".into(), e);
            None
        }
    };
    let (from_ns, to_ns) = (from_ns?, to_ns?);
    if from_ns >= to_ns {
        errors.insert("from".into(), "must be before `to`".into());
        return None;
    }
    if to_ns.saturating_sub(from_ns) > max_span_ns {
        errors.insert(
            "from".into(),
            format!(
                "range longer than the {} h kept",
                max_span_ns / 3600 / NS_PER_S
            ),
        );
        return None;
    }
    Some(Range { from_ns, to_ns })
}

/// The series asked for (all when none).
pub fn parse_series(s: Option<&str>, errors: &mut FieldErrors) -> Vec<Series> {
    let Some(s) = s else {
        return Series::ALL.to_vec();
    };
    let mut out = Vec::new();
    for name in s.split(',').filter(|n| !n.is_empty()) {
        match name.parse::<Series>() {
            Ok(x) if !out.contains(&x) => out.push(x),
            Ok(_) => {}
            Err(e) => {
                errors.insert("series".into(), e.chars().take(400).collect());
                return Vec::new();
            }
        }
    }
    if out.is_empty() {
        errors.insert("series".into(), "at least one series name".into());
    }
    out
}

/// `step` or, by default, the range in `DEFAULT_POINTS` buckets (at least `min_ns`).
fn parse_step(step: Option<&str>, r: Option<Range>, min_ns: i64, errors: &mut FieldErrors) -> i64 {
    match step.map(parse_duration_ns) {
        Some(Ok(s)) if s >= min_ns => s,
        Some(Ok(_)) => {
            errors.insert("step".into(), format!("at least {} s", min_ns / NS_PER_S));
            min_ns
        }
        Some(Err(e)) => {
            errors.insert("step".into(), e);
            min_ns
        }
        None => r.map_or(min_ns, |r| {
            ((r.to_ns - r.from_ns) / DEFAULT_POINTS).max(min_ns)
        }),
    }
}

fn refuse(errors: FieldErrors) -> Rejection {
    ApiError {
        fields: Some(errors),
        ..ApiError::bad_request("some query values were refused")
    }
    .reject()
}

/// One point per `step_ns` bucket of each track (the first in the bucket).
pub fn thin_tracks(tracks: &mut [crate::store::SatTrack], step_ns: i64) {
    let step = step_ns.max(1);
    for t in tracks {
        let mut last = None;
        t.points.retain(|p| {
            let b = p.time_ns.div_euclid(step);
            let keep = last != Some(b);
            last = Some(b);
            keep
        });
    }
}

fn store_err(e: anyhow::Error) -> Rejection {
    ApiError::unavailable(format!("store: {e}")).reject()
}

pub fn routes(state: &Arc<WebState>) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let get = || warp::get().and(reader(state)).and(with_state(state));
    let history = warp::path!("api" / "v1" / "history")
        .and(get())
        .and(query::<HistoryQuery>())
        .and_then(|_: Option<Authed>, st: Arc<WebState>, q: HistoryQuery| history(st, q));
    let obstruction = warp::path!("api" / "v1" / "sky" / "obstruction")
        .and(get())
        .and(query::<SkyQuery>())
        .and_then(|_: Option<Authed>, st: Arc<WebState>, q: SkyQuery| obstruction(st, q));
    let tracks = warp::path!("api" / "v1" / "sky" / "tracks")
        .and(get())
        .and(query::<SkyQuery>())
        .and_then(|_: Option<Authed>, st: Arc<WebState>, q: SkyQuery| tracks(st, q));
    history.or(obstruction).unify().or(tracks).unify().boxed()
}

async fn history(st: Arc<WebState>, q: HistoryQuery) -> Result<warp::reply::Response, Rejection> {
    let now = crate::time::system_realtime_ns();
    let mut errors = FieldErrors::new();
    let series = parse_series(q.series.as_deref(), &mut errors);
    let range = parse_range(
        q.from.as_deref(),
        q.to.as_deref(),
        now,
        3600 * NS_PER_S,
        HISTORY_SPAN_NS,
        &mut errors,
    );
    let step = parse_step(q.step.as_deref(), range, NS_PER_S, &mut errors);
    let Some(r) = range.filter(|_| errors.is_empty()) else {
        return Err(refuse(errors));
    };
    let mut out = serde_json::Map::new();
    let mut step_used = step;
    for s in series {
        let points = st
            .ctx
            .store
            .history(s, r.from_ns, r.to_ns, step)
            .await
            .map_err(store_err)?;
        // The store coarsens a step finer than it keeps; say what it used.
        if let [a, b, ..] = points.as_slice() {
            step_used = b.time_ns - a.time_ns;
        }
        out.insert(s.name().into(), json!(points));
    }
    Ok(json_reply(&json!({
        "from_ns": r.from_ns,
        "to_ns": r.to_ns,
        "step_ns": step_used,
        "series": out,
    })))
}

async fn obstruction(st: Arc<WebState>, q: SkyQuery) -> Result<warp::reply::Response, Rejection> {
    let now = crate::time::system_realtime_ns();
    let mut errors = FieldErrors::new();
    if q.step.is_some() {
        errors.insert("step".into(), "only /sky/tracks takes a step".into());
    }
    let range = parse_range(
        q.from.as_deref(),
        q.to.as_deref(),
        now,
        SKY_SPAN_NS,
        SKY_SPAN_NS,
        &mut errors,
    );
    let Some(r) = range.filter(|_| errors.is_empty()) else {
        return Err(refuse(errors));
    };
    let cells = st
        .ctx
        .store
        .sky_cells(r.from_ns, r.to_ns)
        .await
        .map_err(store_err)?;
    Ok(json_reply(&json!({
        "from_ns": r.from_ns,
        "to_ns": r.to_ns,
        "cell_az_deg": CELL_AZ_DEG,
        "cell_el_deg": CELL_EL_DEG,
        "cells": cells,
    })))
}

async fn tracks(st: Arc<WebState>, q: SkyQuery) -> Result<warp::reply::Response, Rejection> {
    let now = crate::time::system_realtime_ns();
    let mut errors = FieldErrors::new();
    let range = parse_range(
        q.from.as_deref(),
        q.to.as_deref(),
        now,
        3600 * NS_PER_S,
        SKY_SPAN_NS,
        &mut errors,
    );
    let step = parse_step(q.step.as_deref(), None, NS_PER_MIN, &mut errors);
    let Some(r) = range.filter(|_| errors.is_empty()) else {
        return Err(refuse(errors));
    };
    let mut tracks = st
        .ctx
        .store
        .sky_tracks(r.from_ns, r.to_ns)
        .await
        .map_err(store_err)?;
    thin_tracks(&mut tracks, step);
    Ok(json_reply(&json!({
        "from_ns": r.from_ns,
        "to_ns": r.to_ns,
        "step_ns": step,
        "tracks": tracks,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000 * NS_PER_S;

    #[test]
    fn durations_and_instants() {
        assert_eq!(parse_duration_ns("90"), Ok(90 * NS_PER_S));
        assert_eq!(parse_duration_ns("5m"), Ok(300 * NS_PER_S));
        assert_eq!(parse_duration_ns("2d"), Ok(172_800 * NS_PER_S));
        assert!(parse_duration_ns("5x").is_err());
        assert!(parse_duration_ns("-5m").is_err());
        assert!(parse_duration_ns("99999999999999d").is_err());
        assert!(parse_duration_ns("").is_err());
        assert_eq!(parse_instant_ns("now", NOW), Ok(NOW));
        assert_eq!(parse_instant_ns("-1h", NOW), Ok(NOW - 3600 * NS_PER_S));
        assert_eq!(parse_instant_ns("123", NOW), Ok(123));
        assert_eq!(parse_instant_ns("-123", NOW), Ok(-123));
        assert!(parse_instant_ns("yesterday", NOW).is_err());
    }

    #[test]
    fn ranges_name_the_refused_field() {
        let mut e = FieldErrors::new();
        let r = parse_range(None, None, NOW, 10, 100, &mut e);
        assert_eq!(
            r,
            Some(Range {
                from_ns: NOW - 10,
                to_ns: NOW
            })
        );
        let r = parse_range(Some("now"), Some("-1h"), NOW, 10, i64::MAX, &mut e);
        assert_eq!(r, None);
        assert!(e["from"].contains("before"));
        let mut e = FieldErrors::new();
        assert_eq!(
            parse_range(Some("-2d"), None, NOW, 10, SKY_SPAN_NS, &mut e),
            None
        );
        assert!(e["from"].contains("24 h"), "{e:?}");
        let mut e = FieldErrors::new();
        assert_eq!(parse_range(None, Some("soon"), NOW, 10, 100, &mut e), None);
        assert!(e.contains_key("to") && !e.contains_key("from"));
    }

    #[test]
    fn series_and_steps() {
        let mut e = FieldErrors::new();
        assert_eq!(parse_series(None, &mut e).len(), Series::ALL.len());
        assert_eq!(
            parse_series(Some("te_bound_ns,agc,agc"), &mut e),
            vec![Series::TeBoundNs, Series::Agc]
        );
        assert!(e.is_empty());
        assert!(parse_series(Some("mars"), &mut e).is_empty());
        assert!(e["series"].contains("te_bound_ns"), "lists the names");
        let mut e = FieldErrors::new();
        let r = Range {
            from_ns: 0,
            to_ns: 3600 * NS_PER_S,
        };
        assert_eq!(parse_step(None, Some(r), NS_PER_S, &mut e), 10 * NS_PER_S);
        assert_eq!(
            parse_step(Some("1m"), Some(r), NS_PER_S, &mut e),
            NS_PER_MIN
        );
        assert!(e.is_empty());
        parse_step(Some("1s"), None, NS_PER_MIN, &mut e);
        assert!(e["step"].contains("60 s"));
    }

    #[test]
    fn tracks_thin_to_one_point_per_step() {
        use crate::store::{SatTrack, TrackPoint};
        let p = |m: i64| TrackPoint {
            time_ns: m * NS_PER_MIN,
            az_deg: 0.0,
            el_deg: 0.0,
            cn0_dbhz: None,
        };
        let mut t = vec![SatTrack {
            gnss: "GPS".into(),
            svid: 1,
            points: (0..10).map(p).collect(),
        }];
        thin_tracks(&mut t, 5 * NS_PER_MIN);
        let times: Vec<i64> = t[0].points.iter().map(|p| p.time_ns / NS_PER_MIN).collect();
        assert_eq!(times, vec![0, 5]);
    }
}
