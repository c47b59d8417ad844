//! The web part of the daemon: binds the panel/API listener and runs its
//! tasks under the supervisor.

use super::services::Services;
use crate::web::{WebContext, WebParams, WebPart};

/// Bind, then run the server, its redirect and the feed as supervised tasks
/// (`http`, `http-redirect`, `web-feed`).
/// `survey_restart`: the receiver part's hook (`GnssPart::survey_hook`);
/// `ntp`: the NTP part, for the clients page's per-client history.
pub fn start_web(
    svc: &mut Services,
    params: WebParams,
    survey_restart: Option<crate::web::SurveyHook>,
    ntp: Option<std::sync::Arc<crate::ntp::NtpServerHandle>>,
) -> anyhow::Result<WebPart> {
    let watch_history = ntp.map(|h| -> crate::web::WatchHistoryHook {
        std::sync::Arc::new(move |a| h.watch_history(a))
    });
    let ctx = WebContext {
        snapshot: svc.snapshot_rx(),
        store: svc.store.clone(),
        events: svc.events.clone(),
        events_live: svc.events_live.clone(),
        timing: Some(svc.timing_tx.clone()),
        survey_restart,
        sheds: svc.sheds.clone(),
        watch_history,
    };
    let dir = crate::web::web_dir(&params.data_dir);
    crate::web::auth::users::create_private_dir(&dir)?;
    let tls = crate::web::tls::acceptor(&params.tls)?;
    let state = crate::web::WebState::new(
        ctx,
        params.config.clone(),
        params.config_path.clone(),
        dir.clone(),
        tls.is_some(),
    );
    crate::web::auth::prepare_setup(&state, &dir)?;
    let listener = crate::web::server::bind(params.listen)?;
    let local_addr = listener.local_addr()?;
    let routes = crate::web::routes(&state);

    let mut first = Some(listener);
    let addr = params.listen;
    let sheds = svc.sheds.clone();
    svc.supervisor.spawn("http", move |shutdown| {
        // Bound once up front; rebound only if serving failed.
        let listener = first
            .take()
            .map(Ok)
            .unwrap_or_else(|| crate::web::server::bind(addr));
        let (tls, routes, sheds) = (tls.clone(), routes.clone(), sheds.clone());
        async move { crate::web::server::serve(listener?, tls, routes, sheds, shutdown).await }
    });
    if let Some(from) = params.redirect_from {
        let redirect = crate::web::redirect_routes(local_addr.port());
        let mut first = Some(crate::web::server::bind(from)?);
        let sheds = svc.sheds.clone();
        svc.supervisor.spawn("http-redirect", move |shutdown| {
            let listener = first
                .take()
                .map(Ok)
                .unwrap_or_else(|| crate::web::server::bind(from));
            let (routes, sheds) = (redirect.clone(), sheds.clone());
            async move { crate::web::server::serve(listener?, None, routes, sheds, shutdown).await }
        });
    }
    let st = state.clone();
    svc.supervisor.spawn("web-feed", move |shutdown| {
        crate::web::feed::run(st.clone(), shutdown)
    });
    Ok(WebPart { local_addr, state })
}
