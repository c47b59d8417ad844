//! REST API v1, write side: configuration and operator actions. Every
//! route here needs an admin session and its CSRF token.

use super::api::with_state;
use super::auth::{admin, Authed};
use super::config_edit;
use super::error::ApiError;
use super::state::WebState;
use crate::events::{Event, EventKind};
use crate::status::control::{self, ControlContext};
use serde_json::{json, Value};
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

pub fn routes(state: &Arc<WebState>) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let config = warp::path!("api" / "v1" / "config")
        .and(warp::put())
        .and(admin(state))
        .and(with_state(state))
        .and(warp::body::content_length_limit(state.max_body))
        .and(warp::body::json())
        .and_then(put_config);
    let jump = warp::path!("api" / "v1" / "actions" / "accept-time-jump")
        .and(warp::post())
        .and(admin(state))
        .and(with_state(state))
        .and_then(accept_time_jump);
    let survey = warp::path!("api" / "v1" / "actions" / "restart-survey")
        .and(warp::post())
        .and(admin(state))
        .and(with_state(state))
        .and_then(restart_survey);
    config.or(jump).unify().or(survey).unify().boxed()
}

async fn put_config(
    a: Authed,
    st: Arc<WebState>,
    patch: Value,
) -> Result<warp::reply::Response, Rejection> {
    let current = st.config();
    let edit = match config_edit::apply(&current, &patch) {
        Ok(e) => e,
        Err(fields) => {
            return Err(ApiError {
                fields: Some(fields),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "some values were refused; nothing was saved",
                )
            }
            .reject())
        }
    };
    if !edit.changed.is_empty() {
        let path = st.config_path.clone();
        let text = edit.toml.clone();
        tokio::task::spawn_blocking(move || save(&path, &text))
            .await
            .map_err(|e| ApiError::unavailable(e.to_string()).reject())?
            .map_err(|e| {
                ApiError::unavailable(format!("could not write {}: {e}", st.config_path.display()))
                    .reject()
            })?;
        if let Ok(mut c) = st.config.write() {
            *c = edit.config.clone();
        }
        st.ctx.events.emit(Event::now(EventKind::ConfigChanged {
            keys: edit.changed.clone(),
            by: Some(a.session.user.clone()),
        }));
    }
    Ok(warp::reply::json(&json!({
        "ok": true,
        "changed": edit.changed,
        "restart_required": edit.restart_required,
        "config": edit.config,
    }))
    .into_response())
}

/// Keep the previous file as `.bak`, then replace it in one rename.
fn save(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        std::fs::copy(path, path.with_extension("toml.bak"))?;
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}

async fn accept_time_jump(
    a: Authed,
    st: Arc<WebState>,
) -> Result<warp::reply::Response, Rejection> {
    // The control socket's own request path: one implementation for both.
    let ctx = ControlContext {
        snapshot: st.ctx.snapshot.clone(),
        store: None,
        scenario: None,
        timing: st.ctx.timing.clone(),
        snmp: None,
    };
    let reply = control::handle_request("accept-time-jump", &ctx).await;
    let v: Value = serde_json::from_str(&reply).unwrap_or(Value::Null);
    if let Some(err) = v.get("error").and_then(Value::as_str) {
        return Err(ApiError::new(StatusCode::CONFLICT, err).reject());
    }
    tracing::info!(user = %a.session.user, "accept-time-jump from the web panel");
    Ok(warp::reply::json(&v).into_response())
}

async fn restart_survey(a: Authed, st: Arc<WebState>) -> Result<warp::reply::Response, Rejection> {
    let Some(hook) = st.ctx.survey_restart.clone() else {
        return Err(
            ApiError::unavailable("this receiver part cannot restart a survey-in yet").reject(),
        );
    };
    // The serial thread answers within a tick (50 ms); a stuck one is a 503.
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        hook(Some(a.session.user.clone())),
    )
    .await;
    let Ok(Ok(answer)) = answer else {
        return Err(ApiError::unavailable("the receiver part did not answer").reject());
    };
    match answer {
        Ok(message) => {
            tracing::info!(user = %a.session.user, "survey-in restarted from the web panel");
            Ok(warp::reply::json(&json!({"ok": true, "message": message})).into_response())
        }
        Err(reason) => Err(ApiError::new(StatusCode::CONFLICT, reason).reject()),
    }
}
