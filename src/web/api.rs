//! REST API v1, read side. Every value comes from the snapshot (or the
//! store for events); nothing here computes its own version of the state.

use super::auth::{reader, Authed};
use super::error::ApiError;
use super::state::WebState;
use crate::store::Severity;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use warp::{Filter, Rejection, Reply};

/// Most events one page returns.
pub const MAX_PAGE: usize = 1000;

/// Query parameters into `T`; unknown or malformed ones are a 400 that says which.
pub fn query<T: DeserializeOwned + Send + 'static>(
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .and_then(|q: String| async move {
            serde_urlencoded::from_str::<T>(&q)
                .map_err(|e| ApiError::bad_request(format!("bad query: {e}")).reject())
        })
}

/// The shared web state, for every route module's filters.
pub(super) fn with_state(
    state: &Arc<WebState>,
) -> impl Filter<Extract = (Arc<WebState>,), Error = std::convert::Infallible> + Clone {
    let state = state.clone();
    warp::any().map(move || state.clone())
}

/// A JSON reply that no cache keeps (every reply is live status).
pub(super) fn json_reply(v: &Value) -> warp::reply::Response {
    warp::reply::with_header(warp::reply::json(v), "cache-control", "no-store").into_response()
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .try_fold(v, |v, p| v.get(p))
        .unwrap_or(&Value::Null)
}

/// Columns of `/api/v1/ntp/clients.csv`: the `ntp.watch` row keys.
const WATCH_CSV_COLUMNS: &[&str] = &[
    "name",
    "address",
    "rule",
    "expected",
    "state",
    "reasons",
    "since_ns",
    "last_seen_ns",
    "requests",
    "mode",
    "version",
    "interval_s",
    "expected_interval_s",
    "tolerance_ns",
    "offset_ns",
    "offset_uncertainty_ns",
    "offset_method",
];

/// The head-end watch rows as CSV (RFC 4180; reasons joined with `;`,
/// unknown values empty; a text cell starting with `=`, `+`, `-` or `@` gets
/// a leading `'` so a spreadsheet never runs it as a formula).
fn watch_csv(rows: &Value) -> String {
    let mut out = WATCH_CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for r in rows.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let cells: Vec<String> = WATCH_CSV_COLUMNS
            .iter()
            .map(|k| match r.get(*k) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(t)) => csv_text(t),
                Some(Value::Array(a)) => csv_text(
                    &a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(";"),
                ),
                Some(v) => v.to_string(),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_text(t: &str) -> String {
    let t = if t.starts_with(['=', '+', '-', '@']) {
        format!("'{t}")
    } else {
        t.to_string()
    };
    if t.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", t.replace('"', "\"\""))
    } else {
        t
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SatQuery {
    gnss: Option<String>,
}

const CONSTELLATIONS: &[&str] = &[
    "GPS", "SBAS", "Galileo", "BeiDou", "IMES", "QZSS", "GLONASS", "NavIC",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Page size (default 100, at most 1000).
    pub limit: Option<usize>,
    pub kind: Option<String>,
    /// Minimum severity.
    pub severity: Option<Severity>,
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
    /// Only events older than this id (the next page).
    pub before_id: Option<u64>,
}

pub fn routes(state: &Arc<WebState>) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let get = || warp::get().and(reader(state)).and(with_state(state));
    let status = warp::path!("api" / "v1" / "status")
        .and(get())
        .map(|_: Option<Authed>, st: Arc<WebState>| json_reply(&st.snapshot_json()));
    let satellites = warp::path!("api" / "v1" / "satellites")
        .and(get())
        .and(query::<SatQuery>())
        .and_then(
            |_: Option<Authed>, st: Arc<WebState>, q: SatQuery| async move {
                satellites(&st.snapshot_json(), q.gnss.as_deref()).map(|v| json_reply(&v))
            },
        );
    let antenna = warp::path!("api" / "v1" / "antenna").and(get()).and_then(
        |_: Option<Authed>, st: Arc<WebState>| async move {
            let mut v = antenna(&st.snapshot_json());
            v["longest_without_fix"] = longest_without_fix(&st).await?;
            Ok::<_, Rejection>(json_reply(&v))
        },
    );
    let events = warp::path!("api" / "v1" / "events")
        .and(get())
        .and(query::<EventsQuery>())
        .and_then(|_: Option<Authed>, st: Arc<WebState>, q: EventsQuery| events(st, q));
    let clients = warp::path!("api" / "v1" / "ntp" / "clients")
        .and(get())
        .map(|_: Option<Authed>, st: Arc<WebState>| {
            let s = st.snapshot_json();
            json_reply(&json!({
                "clients": at(&s, "ntp.top_clients"),
                "tracked": at(&s, "ntp.clients_tracked"),
                "capacity": at(&s, "ntp.client_table_capacity"),
                "watch": at(&s, "ntp.watch"),
                "watch_summary": at(&s, "ntp.watch_summary"),
            }))
        });
    let clients_csv = warp::path!("api" / "v1" / "ntp" / "clients.csv")
        .and(get())
        .map(|_: Option<Authed>, st: Arc<WebState>| {
            let body = watch_csv(at(&st.snapshot_json(), "ntp.watch"));
            let r = warp::reply::with_header(body, "content-type", "text/csv; charset=utf-8");
            let r = warp::reply::with_header(r, "cache-control", "no-store");
            warp::reply::with_header(
                r,
                "content-disposition",
                "attachment; filename=\"ntp-clients.csv\"",
            )
            .into_response()
        });
    let config = warp::path!("api" / "v1" / "config").and(get()).map(
        |_: Option<Authed>, st: Arc<WebState>| {
            json_reply(&serde_json::to_value(st.config()).unwrap_or(Value::Null))
        },
    );
    let site = warp::path!("api" / "v1" / "site")
        .and(warp::get())
        .and(with_state(state))
        .map(|st: Arc<WebState>| {
            let c = st.config();
            json_reply(&json!({
                "version": env!("CARGO_PKG_VERSION"),
                "time_zone": c.http.time_zone,
                "public_read": c.http.public_read,
            }))
        });
    let openapi = warp::path!("api" / "v1" / "openapi.json")
        .and(warp::get())
        .map(|| {
            warp::reply::with_header(super::openapi::DOCUMENT, "content-type", "application/json")
                .into_response()
        });
    status
        .or(satellites)
        .unify()
        .or(antenna)
        .unify()
        .or(events)
        .unify()
        .or(clients_csv)
        .unify()
        .or(clients)
        .unify()
        .or(config)
        .unify()
        .or(site)
        .unify()
        .or(openapi)
        .unify()
        .boxed()
}

/// The sky as the contract names it (`receiver.sky`), filtered by constellation.
pub fn satellites(s: &Value, gnss: Option<&str>) -> Result<Value, Rejection> {
    if let Some(g) = gnss {
        if !CONSTELLATIONS.contains(&g) {
            return Err(ApiError::bad_request(format!(
                "unknown gnss `{}`; one of {}",
                g.chars().take(32).collect::<String>(),
                CONSTELLATIONS.join(", ")
            ))
            .reject());
        }
    }
    let keep =
        |sat: &&Value| gnss.is_none_or(|g| sat.get("gnss").and_then(Value::as_str) == Some(g));
    let sky: Vec<Value> = match at(s, "receiver.sky") {
        Value::Array(a) => a.iter().filter(keep).cloned().collect(),
        _ => Vec::new(),
    };
    let constellations: Vec<Value> = match at(s, "receiver.constellations") {
        Value::Array(a) => a.iter().filter(keep).cloned().collect(),
        _ => Vec::new(),
    };
    Ok(json!({
        "satellites": sky,
        "constellations": constellations,
        "sats_visible": at(s, "receiver.sats_visible"),
        "sats_used": at(s, "receiver.sats_used"),
    }))
}

pub fn antenna(s: &Value) -> Value {
    json!({
        "antenna": at(s, "receiver.antenna"),
        "security": at(s, "receiver.security"),
        "survey": at(s, "receiver.survey"),
        "fix": at(s, "receiver.fix"),
        "sats_visible": at(s, "receiver.sats_visible"),
        "sats_used": at(s, "receiver.sats_used"),
        "serial_connected": at(s, "serial.connected"),
    })
}

/// Window of the antenna page's "longest period without a fix".
pub const NO_FIX_WINDOW_NS: i64 = 24 * 3600 * 1_000_000_000;

/// `{window_from_ns, period}` from the `fix.state` events of the last 24 h.
async fn longest_without_fix(st: &WebState) -> Result<Value, Rejection> {
    let now = crate::time::system_realtime_ns();
    let from = now - NO_FIX_WINDOW_NS;
    let page = st
        .ctx
        .store
        .query_events(crate::store::EventQuery {
            from_ns: Some(from),
            kinds: vec!["fix.state".into()],
            limit: crate::store::MAX_PAGE,
            ..Default::default()
        })
        .await
        .map_err(|e| ApiError::unavailable(format!("store: {e}")).reject())?;
    let mut changes: Vec<(i64, bool)> = page
        .events
        .iter()
        .filter_map(|e| match &e.event.kind {
            crate::events::EventKind::FixState { fix, .. } => {
                Some((e.event.time_ns, !super::fix_gaps::is_no_fix(fix)))
            }
            _ => None,
        })
        .collect();
    changes.sort_by_key(|c| c.0);
    Ok(json!({
        "window_from_ns": from,
        // More changes than one page: the oldest are left out, say so.
        "complete": page.next_before_id.is_none(),
        "period": super::fix_gaps::longest_without_fix(&changes, now),
    }))
}

/// Paged and filtered in the store (`Store::query_events`).
async fn events(st: Arc<WebState>, q: EventsQuery) -> Result<warp::reply::Response, Rejection> {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request(format!("limit must be 1..={MAX_PAGE}")).reject());
    }
    if let Some(k) = &q.kind {
        if k.len() > 64
            || !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
        {
            return Err(ApiError::bad_request("kind looks like `antenna.state`").reject());
        }
    }
    let page = st
        .ctx
        .store
        .query_events(crate::store::EventQuery {
            from_ns: q.from_ns,
            to_ns: q.to_ns,
            kinds: q.kind.into_iter().collect(),
            min_severity: q.severity,
            limit,
            before_id: q.before_id,
        })
        .await
        .map_err(|e| ApiError::unavailable(format!("store: {e}")).reject())?;
    Ok(json_reply(&json!({
        "events": page.events,
        "next_before_id": page.next_before_id,
    })))
}

#[cfg(test)]
mod watch_csv_tests {
    use super::*;

    #[test]
    fn csv_has_every_contract_column_and_quotes_text() {
        let rows = json!([
            {"name": "sgo, main", "address": "10.0.0.5", "rule": "10.0.0.5", "expected": true,
             "state": "WARN", "reasons": ["offset_beyond_tolerance", "irregular_polling"],
             "since_ns": 5, "last_seen_ns": null, "requests": 3, "mode": 3, "version": 3,
             "interval_s": 64.0, "expected_interval_s": 64.0, "tolerance_ns": 100000000,
             "offset_ns": -2000000000i64, "offset_uncertainty_ns": 100000000,
             "offset_method": "one_way"},
            {"name": "=cmd()", "address": "10.0.0.6"}
        ]);
        let csv = watch_csv(&rows);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0].split(',').count(), 17, "{csv}");
        assert!(lines[0].starts_with("name,address,rule,expected,state,reasons"));
        assert_eq!(
            lines[1],
            "\"sgo, main\",10.0.0.5,10.0.0.5,true,WARN,offset_beyond_tolerance;irregular_polling,5,,3,3,3,64.0,64.0,100000000,-2000000000,100000000,one_way"
        );
        assert!(lines[2].starts_with("'=cmd(),10.0.0.6,"), "{csv}");
        assert_eq!(watch_csv(&Value::Null).matches("\r\n").count(), 1);
    }
}
