//! The web part: panel, REST API v1, live stream (SSE) and Prometheus
//! `/metrics`, served by warp over our own accept loop (TLS, limits).
//!
//! Layout: `server` (listening, TLS handshake), `tls` (certificates),
//! `headers` (security headers), `limit` (request and login throttles),
//! `auth` (users, sessions, CSRF), `api` (reads), `history_api` (history
//! and sky over time from the store), `watch_history` (per-client history
//! of the NTP head-end watch), `admin` (writes),
//! `config_edit` (per-field config validation), `sse` + `feed` (live
//! stream), `metrics` (Prometheus text), `assets` (embedded `web-ui/`),
//! `openapi` (the API document), `error` (JSON refusals).

mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod config_edit;
mod error;
pub mod feed;
pub mod fix_gaps;
pub mod headers;
pub mod history_api;
pub mod limit;
pub mod metrics;
pub mod openapi;
pub mod server;
mod sse;
pub mod state;
pub mod tls;
mod watch_history;

pub use state::{SurveyHook, WebContext, WebState};
pub use tls::TlsSource;
pub use watch_history::WatchHistoryHook;

use error::ApiError;
use server::Peer;
use state::lock;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use warp::{Filter, Reply};

/// Where the web part keeps its files: users, setup code, certificate.
pub fn web_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("web")
}

/// How `run` or `demo` wants the web part.
#[derive(Debug, Clone)]
pub struct WebParams {
    pub listen: SocketAddr,
    pub tls: TlsSource,
    /// Plain-HTTP address that redirects to the HTTPS panel.
    pub redirect_from: Option<SocketAddr>,
    pub data_dir: PathBuf,
    /// The configuration the daemon runs with (shown, and edited by admins).
    pub config: crate::config::Config,
    /// Where admin changes are written.
    pub config_path: PathBuf,
}

/// The running web part.
pub struct WebPart {
    pub local_addr: SocketAddr,
    pub state: Arc<WebState>,
}

/// Every route, behind the rate limit, with JSON errors and security headers.
pub fn routes(state: &Arc<WebState>) -> server::Routes {
    let st = state.clone();
    let limited = warp::ext::optional::<Peer>()
        .and_then(move |p: Option<Peer>| {
            let st = st.clone();
            async move {
                let ip = p.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| p.0.ip());
                let now = st.now_ns();
                if lock(&st.limiter).allow(ip, now) {
                    Ok(())
                } else {
                    st.ctx.sheds.hit(crate::sheds::Shed::HttpRateLimited);
                    Err(ApiError::too_many(1).reject())
                }
            }
        })
        .untuple_one();
    let st = state.clone();
    let metrics = warp::path("metrics")
        .and(warp::path::end())
        .and(warp::get())
        .and(auth::reader(state))
        .map(move |_| {
            warp::reply::with_header(
                metrics::render(&st.snapshot_json()),
                "content-type",
                "text/plain; version=0.0.4; charset=utf-8",
            )
            .into_response()
        });
    let all = api::routes(state)
        .or(watch_history::route(state))
        .unify()
        .or(history_api::routes(state))
        .unify()
        .or(sse::route(state))
        .unify()
        .or(auth::routes(state))
        .unify()
        .or(admin::routes(state))
        .unify()
        .or(metrics)
        .unify()
        .or(assets::routes())
        .unify();
    let security = headers::security_headers(state.tls);
    limited
        .and(all)
        .recover(error::recover)
        .unify()
        .map(move |mut r: warp::reply::Response| {
            // Errors too: a refusal page must not be framable either.
            r.headers_mut().extend(security.clone());
            r
        })
        .boxed()
}

/// Plain HTTP that only sends browsers to the HTTPS panel.
pub fn redirect_routes(https_port: u16) -> server::Routes {
    let query = warp::query::raw()
        .map(|q: String| format!("?{q}"))
        .or(warp::any().map(String::new))
        .unify();
    warp::header::optional::<String>("host")
        .and(warp::path::full())
        .and(query)
        .map(
            move |host: Option<String>, path: warp::path::FullPath, query: String| {
                let host = host.unwrap_or_else(|| "localhost".into());
                // Drop any port the client used for the plain listener.
                let name = match host.rsplit_once(':') {
                    Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
                    _ => host.as_str(),
                };
                let target = if https_port == 443 {
                    format!("https://{name}{}{query}", path.as_str())
                } else {
                    format!("https://{name}:{https_port}{}{query}", path.as_str())
                };
                let mut r = warp::reply::Response::new(Default::default());
                *r.status_mut() = warp::http::StatusCode::PERMANENT_REDIRECT;
                if let Ok(v) = warp::http::HeaderValue::from_str(&target) {
                    r.headers_mut().insert("location", v);
                }
                r
            },
        )
        .boxed()
}
