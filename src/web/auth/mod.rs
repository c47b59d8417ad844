//! Users and sessions: login, logout, first-visit setup, and the filters
//! that guard reads (public or login-only, as configured) and changes
//! (admin role and CSRF token on every one).
//!
//! CSRF: the session cookie is `SameSite=Strict`, every change must carry
//! the session's token in `X-CSRF-Token`, and bodies must be JSON (a
//! cross-site form cannot send that without a CORS preflight we never
//! grant). Login and setup have no session yet: the JSON rule covers them.

pub mod session;
pub mod users;

use super::error::ApiError;
use super::limit::client_key;
use super::server::Peer;
use super::state::{lock, WebState};
use crate::events::{Event, EventKind};
use serde::Deserialize;
use serde_json::json;
use session::{constant_time_eq, Role, Session};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

pub const COOKIE: &str = "gts_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Cookie lifetime; the server also ends idle sessions earlier.
const COOKIE_MAX_AGE_S: u32 = 12 * 3600;

#[derive(Debug, Clone)]
pub struct Authed {
    pub token: String,
    pub session: Session,
}

fn with_state(
    state: &Arc<WebState>,
) -> impl Filter<Extract = (Arc<WebState>,), Error = std::convert::Infallible> + Clone {
    let state = state.clone();
    warp::any().map(move || state.clone())
}

/// The peer's address (0.0.0.0 when unknown).
pub fn peer_ip() -> impl Filter<Extract = (IpAddr,), Error = std::convert::Infallible> + Clone {
    warp::ext::optional::<Peer>()
        .map(|p: Option<Peer>| p.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.0.ip()))
}

/// The caller's session, if the cookie names a live one.
pub fn current(
    state: &Arc<WebState>,
) -> impl Filter<Extract = (Option<Authed>,), Error = std::convert::Infallible> + Clone {
    with_state(state)
        .and(warp::cookie::optional::<String>(COOKIE))
        .map(|st: Arc<WebState>, token: Option<String>| {
            let token = token?;
            let now = st.now_ns();
            let session = lock(&st.sessions).get(&token, now)?;
            Some(Authed { token, session })
        })
}

/// Reads: anyone when `http.public-read`, else a logged-in user.
pub fn reader(
    state: &Arc<WebState>,
) -> impl Filter<Extract = (Option<Authed>,), Error = Rejection> + Clone {
    with_state(state).and(current(state)).and_then(
        |st: Arc<WebState>, a: Option<Authed>| async move {
            if a.is_some() || st.public_read() {
                Ok(a)
            } else {
                Err(ApiError::unauthorized().reject())
            }
        },
    )
}

/// Any logged-in user, with the CSRF token (logout).
pub fn member(
    state: &Arc<WebState>,
) -> impl Filter<Extract = (Authed,), Error = Rejection> + Clone {
    current(state)
        .and(warp::header::optional::<String>(CSRF_HEADER))
        .and_then(|a: Option<Authed>, csrf: Option<String>| async move { check(a, csrf, None) })
}

/// Changes: an admin session and its CSRF token.
pub fn admin(state: &Arc<WebState>) -> impl Filter<Extract = (Authed,), Error = Rejection> + Clone {
    current(state)
        .and(warp::header::optional::<String>(CSRF_HEADER))
        .and_then(|a: Option<Authed>, csrf: Option<String>| async move {
            check(a, csrf, Some(Role::Admin))
        })
}

fn check(a: Option<Authed>, csrf: Option<String>, role: Option<Role>) -> Result<Authed, Rejection> {
    let Some(a) = a else {
        return Err(ApiError::unauthorized().reject());
    };
    let ok = csrf.is_some_and(|c| constant_time_eq(c.as_bytes(), a.session.csrf.as_bytes()));
    if !ok {
        return Err(ApiError::forbidden("missing or wrong CSRF token (X-CSRF-Token)").reject());
    }
    if role.is_some_and(|r| r != a.session.role) {
        return Err(ApiError::forbidden("this needs an admin").reject());
    }
    Ok(a)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    user: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupBody {
    code: String,
    #[serde(default = "default_admin")]
    user: String,
    password: String,
}

fn default_admin() -> String {
    "admin".into()
}

pub fn routes(state: &Arc<WebState>) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let max = state.max_body;
    let session = warp::path!("api" / "v1" / "session")
        .and(warp::get())
        .and(with_state(state))
        .and(current(state))
        .map(|st: Arc<WebState>, a: Option<Authed>| session_reply(&st, a.as_ref()));
    let login = warp::path!("api" / "v1" / "login")
        .and(warp::post())
        .and(with_state(state))
        .and(peer_ip())
        .and(warp::body::content_length_limit(max))
        .and(warp::body::json())
        .and_then(login);
    let logout = warp::path!("api" / "v1" / "logout")
        .and(warp::post())
        .and(with_state(state))
        .and(member(state))
        .map(|st: Arc<WebState>, a: Authed| {
            lock(&st.sessions).remove(&a.token);
            let mut r = warp::reply::json(&json!({"ok": true})).into_response();
            set_cookie(
                &mut r,
                &format!(
                    "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
                    secure(&st)
                ),
            );
            r
        });
    let setup = warp::path!("api" / "v1" / "setup")
        .and(warp::post())
        .and(with_state(state))
        .and(peer_ip())
        .and(warp::body::content_length_limit(max))
        .and(warp::body::json())
        .and_then(setup);
    session
        .or(login)
        .unify()
        .or(logout)
        .unify()
        .or(setup)
        .unify()
        .boxed()
}

fn secure(st: &WebState) -> &'static str {
    if st.tls {
        "; Secure"
    } else {
        ""
    }
}

fn set_cookie(r: &mut warp::reply::Response, v: &str) {
    if let Ok(v) = warp::http::HeaderValue::from_str(v) {
        r.headers_mut().append("set-cookie", v);
    }
}

fn session_reply(st: &WebState, a: Option<&Authed>) -> warp::reply::Response {
    let setup_required = lock(&st.setup).is_some();
    warp::reply::json(&json!({
        "authenticated": a.is_some(),
        "user": a.map(|a| a.session.user.clone()),
        "role": a.map(|a| a.session.role),
        "csrf_token": a.map(|a| a.session.csrf.clone()),
        "setup_required": setup_required,
        "public_read": st.public_read(),
    }))
    .into_response()
}

fn event(st: &WebState, kind: EventKind) {
    st.ctx.events.emit(Event::now(kind));
}

/// A user name as given, cut short for the log.
fn shown(user: &str) -> String {
    user.chars().take(64).collect()
}

/// Refuse when either the address or the name is being throttled.
fn throttled(st: &WebState, keys: &[String]) -> Result<(), Rejection> {
    let now = st.now_ns();
    let t = lock(&st.logins);
    for k in keys {
        if let Err(wait) = t.check(k, now) {
            return Err(ApiError::too_many(wait).reject());
        }
    }
    Ok(())
}

fn start_session(st: &WebState, user: &str, role: Role) -> warp::reply::Response {
    let token = users::random_hex(32);
    let csrf = users::random_hex(32);
    let now = st.now_ns();
    lock(&st.sessions).create(token.clone(), csrf, user, role, now);
    let a = lock(&st.sessions).get(&token, now).map(|session| Authed {
        token: token.clone(),
        session,
    });
    let mut r = session_reply(st, a.as_ref());
    set_cookie(
        &mut r,
        &format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE_S}{}",
            secure(st)
        ),
    );
    r
}

async fn login(
    st: Arc<WebState>,
    ip: IpAddr,
    body: LoginBody,
) -> Result<warp::reply::Response, Rejection> {
    let keys = [
        format!("ip:{}", client_key(ip)),
        format!("user:{}", body.user.chars().take(64).collect::<String>()),
    ];
    throttled(&st, &keys)?;
    let file = st.users.clone();
    let (user, password) = (body.user.clone(), body.password);
    // argon2 takes tens of ms: off the async workers.
    let found = tokio::task::spawn_blocking(move || {
        let rec = file.find(&user).ok().flatten();
        // Unknown users cost a verification too (no timing oracle on names).
        let hash = rec
            .as_ref()
            .map_or(users::dummy_hash(), |r| r.hash.as_str());
        let ok = users::verify_password(hash, &password);
        rec.filter(|_| ok)
    })
    .await
    .ok()
    .flatten();
    let now = st.now_ns();
    match found {
        Some(rec) => {
            let mut t = lock(&st.logins);
            keys.iter().for_each(|k| t.success(k));
            drop(t);
            event(
                &st,
                EventKind::AuthLogin {
                    user: rec.name.clone(),
                    remote: ip.to_string(),
                },
            );
            Ok(start_session(&st, &rec.name, rec.role))
        }
        None => {
            let mut t = lock(&st.logins);
            keys.iter().for_each(|k| t.failure(k, now));
            drop(t);
            event(
                &st,
                EventKind::AuthLoginFailed {
                    user: shown(&body.user),
                    remote: ip.to_string(),
                    reason: "wrong user name or password".into(),
                },
            );
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong user name or password").reject())
        }
    }
}

async fn setup(
    st: Arc<WebState>,
    ip: IpAddr,
    body: SetupBody,
) -> Result<warp::reply::Response, Rejection> {
    let keys = [format!("ip:{}", client_key(ip)), "setup".to_string()];
    throttled(&st, &keys)?;
    // An admin made meanwhile with `set-password` closes the setup too.
    if st.users.has_admin().unwrap_or(false) {
        if let Some((_, path)) = lock(&st.setup).take() {
            let _ = std::fs::remove_file(path);
        }
    }
    let Some((code, path)) = lock(&st.setup).clone() else {
        return Err(
            ApiError::new(StatusCode::CONFLICT, "an admin already exists; log in").reject(),
        );
    };
    if !constant_time_eq(body.code.trim().as_bytes(), code.as_bytes()) {
        let now = st.now_ns();
        let mut t = lock(&st.logins);
        keys.iter().for_each(|k| t.failure(k, now));
        drop(t);
        event(
            &st,
            EventKind::AuthLoginFailed {
                user: shown(&body.user),
                remote: ip.to_string(),
                reason: "wrong setup code".into(),
            },
        );
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong setup code").reject());
    }
    let file = st.users.clone();
    let (user, password) = (body.user.clone(), body.password);
    let saved = tokio::task::spawn_blocking(move || file.set(&user, Role::Admin, &password))
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()).reject())?;
    if let Err(e) = saved {
        let status = match e {
            users::UserError::BadName | users::UserError::BadPassword => StatusCode::BAD_REQUEST,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        return Err(ApiError::new(status, e.to_string()).reject());
    }
    *lock(&st.setup) = None;
    let _ = std::fs::remove_file(&path);
    event(
        &st,
        EventKind::AuthLogin {
            user: body.user.clone(),
            remote: ip.to_string(),
        },
    );
    Ok(start_session(&st, &body.user, Role::Admin))
}

/// Make the one-time setup code when no admin exists: written to the log
/// and to `<web dir>/setup-code` (0600), so only someone with console or
/// file access can claim the appliance.
pub fn prepare_setup(st: &WebState, web_dir: &std::path::Path) -> anyhow::Result<()> {
    if st.users.has_admin()? {
        return Ok(());
    }
    let path = web_dir.join("setup-code");
    // Keep the code across restarts until it is used.
    let code = match std::fs::read_to_string(&path) {
        Ok(c) if c.trim().len() >= 16 => c.trim().to_string(),
        _ => {
            let c = users::random_hex(10);
            users::create_private_dir(web_dir)?;
            users::write_private(&path, format!("{c}\n").as_bytes())?;
            c
        }
    };
    tracing::warn!(
        code = %code,
        file = %path.display(),
        "no admin user yet: open the web panel and enter this one-time setup code, or run `gnss-timeserver set-password`"
    );
    *lock(&st.setup) = Some((code, path));
    Ok(())
}
