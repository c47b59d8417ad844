//! `GET /api/v1/stream`: Server-Sent Events. `snapshot` once a second (the
//! same JSON as `/api/v1/status`, serialized once for every client by the
//! feed task) and `event` for each event as it is emitted
//! (`Services::events_live`).

use super::auth::{reader, Authed};
use super::state::WebState;
use futures_util::StreamExt;
use std::convert::Infallible;
use std::sync::Arc;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use warp::sse::Event;
use warp::{Filter, Reply};

pub fn route(state: &Arc<WebState>) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let st = state.clone();
    warp::path!("api" / "v1" / "stream")
        .and(warp::get())
        .and(reader(state))
        .map(move |_: Option<Authed>| {
            let snaps = WatchStream::new(st.snapshot_text.subscribe())
                .filter(|t| std::future::ready(!t.is_empty()))
                .map(|t| Ok::<_, Infallible>(Event::default().event("snapshot").data(&*t)));
            // A client too slow for the event rate skips what it missed
            // (Lagged) rather than holding memory.
            let events = BroadcastStream::new(st.ctx.events_live.subscribe()).filter_map(|r| {
                std::future::ready(r.ok().map(|ev| {
                    let mut sse = Event::default().event("event");
                    if let Some(id) = ev.id {
                        sse = sse.id(id.to_string());
                    }
                    Ok::<_, Infallible>(sse.data(serde_json::to_string(&ev).unwrap_or_default()))
                }))
            });
            let merged = futures_util::stream::select(snaps, events);
            let mut r = warp::sse::reply(warp::sse::keep_alive().stream(merged)).into_response();
            r.headers_mut().insert(
                "cache-control",
                warp::http::HeaderValue::from_static("no-store"),
            );
            r
        })
        .boxed()
}
