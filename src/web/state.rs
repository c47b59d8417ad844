//! What every route handler reaches: the daemon's shared parts plus the web
//! part's own small state (sessions, throttles, the editable config).

use super::auth::session::Sessions;
use super::auth::users::UserFile;
use super::limit::{LoginThrottle, RateLimiter};
use crate::config::Config;
use crate::events::{EventSink, LiveEvents};
use crate::status::control::TimingRequest;
use crate::status::SnapshotRx;
use crate::store::StoreHandle;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// Asks the receiver part to restart its survey-in (argument: who asked);
/// the answer, `Ok(message)` or `Err(reason)`, comes on the returned channel.
pub type SurveyHook = Arc<
    dyn Fn(Option<String>) -> tokio::sync::oneshot::Receiver<Result<String, String>> + Send + Sync,
>;

/// The daemon's parts the web part is wired to.
#[derive(Clone)]
pub struct WebContext {
    pub snapshot: SnapshotRx,
    pub store: StoreHandle,
    pub events: EventSink,
    /// Each event as it is emitted (`Services::events_live`).
    pub events_live: LiveEvents,
    pub timing: Option<tokio::sync::mpsc::Sender<TimingRequest>>,
    /// None until the receiver part offers a survey restart.
    pub survey_restart: Option<SurveyHook>,
    /// Refused connections and rate-limited requests are counted here.
    pub sheds: crate::sheds::Sheds,
    /// The NTP part's per-client watch history (None: NTP is not running).
    pub watch_history: Option<super::WatchHistoryHook>,
}

pub struct WebState {
    pub ctx: WebContext,
    pub sessions: Mutex<Sessions>,
    pub users: UserFile,
    pub logins: Mutex<LoginThrottle>,
    pub limiter: Mutex<RateLimiter>,
    /// The configuration as last saved (what `GET /config` shows).
    pub config: RwLock<Config>,
    /// Where admin changes are written.
    pub config_path: PathBuf,
    /// The one-time setup code and its file, while no admin exists.
    pub setup: Mutex<Option<(String, PathBuf)>>,
    /// The snapshot as JSON text, refreshed once a second by the feed task.
    pub snapshot_text: tokio::sync::watch::Sender<Arc<str>>,
    /// Cookies get `Secure` (HTTPS).
    pub tls: bool,
    pub max_body: u64,
    started: Instant,
}

impl WebState {
    pub fn new(
        ctx: WebContext,
        config: Config,
        config_path: PathBuf,
        web_dir: PathBuf,
        tls: bool,
    ) -> Arc<Self> {
        Arc::new(Self {
            ctx,
            sessions: Mutex::new(Sessions::default()),
            users: UserFile::in_dir(&web_dir),
            logins: Mutex::new(LoginThrottle::default()),
            limiter: Mutex::new(RateLimiter::new(config.http.rate_limit_per_s)),
            max_body: u64::from(config.http.max_body_bytes),
            config: RwLock::new(config),
            config_path,
            setup: Mutex::new(None),
            snapshot_text: tokio::sync::watch::channel(Arc::from("")).0,
            tls,
            started: Instant::now(),
        })
    }

    /// Monotonic ns for the sans-IO throttles and sessions.
    pub fn now_ns(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_nanos()).unwrap_or(i64::MAX)
    }

    pub fn config(&self) -> Config {
        self.config.read().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn public_read(&self) -> bool {
        self.config
            .read()
            .map(|c| c.http.public_read)
            .unwrap_or(false)
    }

    /// The current snapshot as JSON (what every read route starts from).
    pub fn snapshot_json(&self) -> serde_json::Value {
        serde_json::to_value(&*self.ctx.snapshot.borrow()).unwrap_or(serde_json::Value::Null)
    }
}

/// Lock a mutex even if a panicking holder poisoned it: the data are plain
/// tables that stay consistent between calls.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
