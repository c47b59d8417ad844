//! `GET /api/v1/ntp/clients/history`: the offset and poll-gap history the
//! head-end watch keeps per client (`NtpServerHandle::watch_history`), for
//! the clients page's chart. Which clients exist comes from the snapshot's
//! `ntp.watch` rows, so a name resolves to the addresses the table shows.

use super::api::query;
use super::auth::{reader, Authed};
use super::error::ApiError;
use super::state::WebState;
use crate::ntp::watch::HistoryPoint;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// One client's stored points, by address (None: no NTP part, or unknown).
pub type WatchHistoryHook = Arc<dyn Fn(IpAddr) -> Option<Vec<HistoryPoint>> + Send + Sync>;

/// Longest name accepted (names come from config; longer is a typo or abuse).
const MAX_NAME: usize = 128;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    pub address: Option<String>,
    pub name: Option<String>,
}

fn field_error(field: &str, msg: &str) -> ApiError {
    let mut e = ApiError::bad_request(format!("{field}: {msg}"));
    e.fields = Some(BTreeMap::from([(field.to_string(), msg.to_string())]));
    e
}

/// The reply body: `{clients: [{name, address, state, points: [...]}]}`, one
/// entry per `ntp.watch` row selected by `address` or `name` (neither: every
/// expected row). Sans-IO: `lookup` is the watch core's history.
pub fn history_body(
    snapshot: &Value,
    q: &HistoryQuery,
    lookup: &dyn Fn(IpAddr) -> Option<Vec<HistoryPoint>>,
) -> Result<Value, ApiError> {
    if q.address.is_some() && q.name.is_some() {
        return Err(field_error("name", "give address or name, not both"));
    }
    let want_addr = match q.address.as_deref() {
        None => None,
        Some(a) => Some(
            a.trim()
                .parse::<IpAddr>()
                .map_err(|_| field_error("address", "not an IP address"))?,
        ),
    };
    if let Some(n) = &q.name {
        if n.is_empty() || n.len() > MAX_NAME {
            return Err(field_error("name", "must be 1..=128 characters"));
        }
    }
    let rows = snapshot
        .get("ntp")
        .and_then(|n| n.get("watch"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let selected = rows.iter().filter(|r| {
        let addr = r
            .get("address")
            .and_then(Value::as_str)
            .and_then(|a| a.parse::<IpAddr>().ok());
        match (&want_addr, &q.name) {
            (Some(w), _) => addr.map(canonical) == Some(canonical(*w)),
            (None, Some(n)) => r.get("name").and_then(Value::as_str) == Some(n.as_str()),
            (None, None) => r.get("expected").and_then(Value::as_bool) == Some(true),
        }
    });
    let clients: Vec<Value> = selected
        .map(|r| {
            let points = r
                .get("address")
                .and_then(Value::as_str)
                .and_then(|a| a.parse::<IpAddr>().ok())
                .and_then(lookup)
                .unwrap_or_default();
            json!({
                "name": r.get("name").cloned().unwrap_or(Value::Null),
                "address": r.get("address").cloned().unwrap_or(Value::Null),
                "state": r.get("state").cloned().unwrap_or(Value::Null),
                "points": points.iter().map(point_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    if clients.is_empty() && (want_addr.is_some() || q.name.is_some()) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no such client in the watch table",
        ));
    }
    Ok(json!({ "clients": clients }))
}

fn canonical(a: IpAddr) -> IpAddr {
    crate::ntp::access::canonical(a)
}

fn point_json(p: &HistoryPoint) -> Value {
    json!({
        "time_ns": p.t_ns,
        "offset_ns": p.offset_ns,
        "offset_uncertainty_ns": p.offset_uncertainty_ns,
        "poll_gap_s": p.interval_s,
    })
}

pub fn route(state: &Arc<WebState>) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let st = state.clone();
    warp::path!("api" / "v1" / "ntp" / "clients" / "history")
        .and(warp::get())
        .and(reader(state))
        .and(query::<HistoryQuery>())
        .and_then(move |_: Option<Authed>, q: HistoryQuery| {
            let st = st.clone();
            async move {
                let none = |_| None;
                let lookup: &dyn Fn(IpAddr) -> Option<Vec<HistoryPoint>> =
                    match &st.ctx.watch_history {
                        Some(h) => h.as_ref(),
                        None => &none,
                    };
                history_body(&st.snapshot_json(), &q, lookup)
                    .map(|v| {
                        warp::reply::with_header(warp::reply::json(&v), "cache-control", "no-store")
                            .into_response()
                    })
                    .map_err(ApiError::reject)
            }
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> Value {
        json!({"ntp": {"watch": [
            {"name": "headend", "address": "10.0.0.5", "expected": true, "state": "EXE"},
            {"name": null, "address": "10.0.0.9", "expected": false, "state": "EXE"},
            {"name": "absent", "address": "10.0.0.7", "expected": true, "state": "FAIL"}
        ]}})
    }

    fn lookup(a: IpAddr) -> Option<Vec<HistoryPoint>> {
        (a == "10.0.0.5".parse::<IpAddr>().ok()?).then(|| {
            vec![HistoryPoint {
                t_ns: 7,
                offset_ns: Some(-3),
                offset_uncertainty_ns: Some(2),
                interval_s: Some(16.0),
            }]
        })
    }

    fn q(address: Option<&str>, name: Option<&str>) -> HistoryQuery {
        HistoryQuery {
            address: address.map(Into::into),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn address_selects_one_client_with_its_points() {
        let v = history_body(&snap(), &q(Some("10.0.0.5"), None), &lookup).unwrap();
        assert_eq!(v["clients"].as_array().unwrap().len(), 1);
        assert_eq!(
            v["clients"][0]["points"][0],
            json!({"time_ns": 7, "offset_ns": -3, "offset_uncertainty_ns": 2, "poll_gap_s": 16.0})
        );
        // IPv4-mapped IPv6 is the same client.
        let v = history_body(&snap(), &q(Some("::ffff:10.0.0.5"), None), &lookup).unwrap();
        assert_eq!(v["clients"][0]["name"], "headend");
    }

    #[test]
    fn name_and_default_selection() {
        let v = history_body(&snap(), &q(None, Some("absent")), &lookup).unwrap();
        assert_eq!(v["clients"][0]["address"], "10.0.0.7");
        assert_eq!(v["clients"][0]["points"], json!([]));
        let all = history_body(&snap(), &q(None, None), &lookup).unwrap();
        let addrs: Vec<&str> = all["clients"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["address"].as_str())
            .collect();
        assert_eq!(addrs, ["10.0.0.5", "10.0.0.7"], "expected rows only");
        assert_eq!(
            history_body(&Value::Null, &q(None, None), &lookup).unwrap(),
            json!({"clients": []})
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let e = history_body(&snap(), &q(Some("10.0.0.300"), None), &lookup).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.fields.unwrap().contains_key("address"));
        let e = history_body(&snap(), &q(Some("10.0.0.5"), Some("x")), &lookup).unwrap_err();
        assert!(e.fields.unwrap().contains_key("name"));
        let long = "n".repeat(200);
        let e = history_body(&snap(), &q(None, Some(&long)), &lookup).unwrap_err();
        assert!(e.fields.unwrap().contains_key("name"));
        let e = history_body(&snap(), &q(Some("10.1.1.1"), None), &lookup).unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
    }
}
