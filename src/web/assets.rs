//! The panel's files, compiled into the binary (`web-ui/`): the appliance
//! works offline, and the files served are the files tested.

use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use warp::{Filter, Reply};

macro_rules! assets {
    ($($name:literal => $mime:literal),* $(,)?) => {
        /// (name under `/assets/`, content type, bytes)
        pub const ASSETS: &[(&str, &str, &[u8])] = &[
            $(($name, $mime, include_bytes!(concat!("../../web-ui/", $name))),)*
        ];
    };
}

assets! {
    "index.html" => "text/html; charset=utf-8",
    "style.css" => "text/css; charset=utf-8",
    "app.js" => "text/javascript; charset=utf-8",
    "api.js" => "text/javascript; charset=utf-8",
    "i18n.js" => "text/javascript; charset=utf-8",
    "charts.js" => "text/javascript; charset=utf-8",
    "history.js" => "text/javascript; charset=utf-8",
    "dashboard.js" => "text/javascript; charset=utf-8",
    "sky.js" => "text/javascript; charset=utf-8",
    "antenna.js" => "text/javascript; charset=utf-8",
    "events.js" => "text/javascript; charset=utf-8",
    "clients.js" => "text/javascript; charset=utf-8",
    "settings.js" => "text/javascript; charset=utf-8",
    "icon.svg" => "image/svg+xml",
}

pub fn find(name: &str) -> Option<(&'static str, &'static [u8])> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, m, b)| (*m, *b))
}

fn serve(name: &str) -> Option<warp::reply::Response> {
    let (mime, body) = find(name)?;
    let mut r = warp::reply::Response::new(body.into());
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, warp::http::HeaderValue::from_static(mime));
    // Small files that change with the binary: revalidate, never stale.
    h.insert(
        CACHE_CONTROL,
        warp::http::HeaderValue::from_static("no-cache"),
    );
    Some(r)
}

pub fn routes() -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let index = warp::path::end()
        .and(warp::get())
        .and_then(|| async { serve("index.html").ok_or_else(warp::reject::not_found) });
    // Only names in the table: `..`, `%2e%2e` and the like match nothing.
    let files = warp::path("assets")
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(warp::get())
        .and_then(|name: String| async move { serve(&name).ok_or_else(warp::reject::not_found) });
    index
        .or(files)
        .unify()
        .map(|r: warp::reply::Response| r.into_response())
        .boxed()
}

/// Bytes of the embedded panel (for the report's page weight).
pub fn total_bytes() -> usize {
    ASSETS.iter().map(|(_, _, b)| b.len()).sum()
}
