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

fn with_state(
    state: &Arc<WebState>,
) -> impl Filter<Extract = (Arc<WebState>,), Error = std::convert::Infallible> + Clone {
    let state = state.clone();
    warp::any().map(move || state.clone())
}

fn json_reply(v: &Value) -> warp::reply::Response {
    warp::reply::with_header(warp::reply::json(v), "cache-control", "no-store").into_response()
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .try_fold(v, |v, p| v.get(p))
        .unwrap_or(&Value::Null)
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
    let antenna = warp::path!("api" / "v1" / "antenna")
        .and(get())
        .and_then(|_: Option<Authed>, st: Arc<WebState>| async move {
            let mut v = antenna(&st.snapshot_json());
            v["longest_without_fix"] = longest_without_fix(&st).await?;
            Ok::<_, Rejection>(json_reply(&v))
        });
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
            }))
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
