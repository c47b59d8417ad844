//! Security headers on every response, errors included.

use warp::http::header::{HeaderMap, HeaderName, HeaderValue};

/// No inline script or style anywhere in the panel, so the policy can say
/// `'self'` only; `frame-ancestors 'none'` stops click-jacking.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn security_headers(tls: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |k: &'static str, v: &'static str| {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    };
    put("content-security-policy", CSP);
    put("x-content-type-options", "nosniff");
    put("referrer-policy", "no-referrer");
    put("x-frame-options", "DENY");
    put("cross-origin-opener-policy", "same-origin");
    put("cross-origin-resource-policy", "same-origin");
    put(
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if tls {
        put("strict-transport-security", "max-age=31536000");
    }
    h
}
