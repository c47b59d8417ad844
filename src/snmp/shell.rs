//! The subagent's I/O shell: connects to snmpd's AgentX master, drives the
//! sans-IO [`Session`], rebuilds the OID table when the snapshot changes and
//! sends the notifications the [`Notifier`] finds in snapshots and in the
//! live event feed, and the test notification on an operator's request. When snmpd goes away
//! (restart, crash, bad PDU) it reconnects with exponential backoff. It runs
//! as one supervised task and never holds anything another part waits for.
//!
//! Notifications raised while no session is ready (snmpd not up yet at
//! boot, restarting) wait in [`Pending`] and go, in order, once the next
//! session has its registrations answered.

use super::mib::{self, MibContext};
use super::notify::Notifier;
use super::pending::Pending;
use super::session::{Session, SessionConfig, SessionEvent};
use super::table::MibTable;
use super::{codec, AgentxAddr};
use crate::backoff::Backoff;
use crate::events::Event;
use crate::status::control::SnmpRequest;
use crate::status::snmp_counters::{NotificationCounts, SnmpCounters};
use crate::status::{ServerFields, ServerFieldsCell, Snapshot, SnapshotRx};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};

const RECONNECT: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A master that does not take our bytes within this is treated as dead.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct SubagentParams {
    pub addr: AgentxAddr,
    pub heartbeat_interval_s: u32,
}

/// What the subagent reads besides its parameters.
pub struct SubagentInputs {
    pub snapshot: SnapshotRx,
    pub served: ServerFieldsCell,
    /// The live event feed (`Services::events_live`).
    pub events: broadcast::Receiver<Event>,
    /// Operator requests; shared so a restarted task takes them over.
    pub requests: Arc<tokio::sync::Mutex<Option<mpsc::Receiver<SnmpRequest>>>>,
    /// Where the status composer reads the notification counters.
    pub counters: SnmpCounters,
}

/// The next event, or never once the feed is gone.
async fn next_event(rx: &mut Option<broadcast::Receiver<Event>>) -> Result<Event, RecvError> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// The next operator request, or never when there is no channel.
async fn next_request(rx: &mut Option<mpsc::Receiver<SnmpRequest>>) -> Option<SnmpRequest> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

async fn connect(addr: &AgentxAddr) -> std::io::Result<Box<dyn Conn>> {
    let fut = async {
        Ok::<Box<dyn Conn>, std::io::Error>(match addr {
            AgentxAddr::Unix(p) => Box::new(tokio::net::UnixStream::connect(p).await?),
            AgentxAddr::Tcp(hp) => {
                let s = tokio::net::TcpStream::connect(hp.as_str()).await?;
                s.set_nodelay(true)?;
                Box::new(s)
            }
        })
    };
    tokio::time::timeout(CONNECT_TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// The snapshot as the MIB mapping reads it. `served` comes from the
/// snapshot when it has it, else from the server fields NTP answers with.
pub fn snapshot_json(snap: &Snapshot, fields: &ServerFields) -> Json {
    let mut j = serde_json::to_value(snap).unwrap_or(Json::Null);
    if let Some(obj) = j.as_object_mut() {
        if !obj.contains_key("served") {
            let synced = fields.synchronized();
            let refid = String::from_utf8_lossy(&fields.refid)
                .trim_end_matches('\0')
                .to_string();
            obj.insert(
                "served".into(),
                json!({
                    "stratum": if synced { fields.stratum.clamp(1, 15) } else { 16 },
                    "leap_indicator": if synced { fields.leap as u8 } else { 3 },
                    "refid": refid,
                    "root_delay_ns": fields.root_delay_ns,
                    "root_dispersion_ns": fields.root_dispersion_ns,
                    "reference_time_ns": fields.reference_time_ns,
                    "synchronized": synced,
                }),
            );
        }
    }
    j
}

struct View {
    json: Json,
    table: MibTable,
}

struct Subagent {
    params: SubagentParams,
    snapshot: SnapshotRx,
    served: ServerFieldsCell,
    start: Instant,
    notifier: Notifier,
    notifications_sent: u64,
    /// Raised while no session was ready; survives reconnects.
    pending: Pending,
    /// Lost at a live session (too many unanswered).
    dropped_live: u64,
    counters: SnmpCounters,
    started_sent: bool,
    /// The current connection got as far as an open session.
    opened: bool,
    view: View,
    events: Option<broadcast::Receiver<Event>>,
}

impl Subagent {
    fn now_ns(&self) -> i64 {
        self.start.elapsed().as_nanos() as i64
    }

    fn rebuild(&mut self) {
        let snap = self.snapshot.borrow_and_update().clone();
        let json = snapshot_json(&snap, &self.served.load());
        let ctx = MibContext {
            uptime_ticks: (self.start.elapsed().as_millis() / 10) as u32,
            notifications_sent: self.notifications_sent,
            heartbeat_interval_s: self.params.heartbeat_interval_s,
        };
        let table = mib::build(&json, &ctx);
        self.view = View { json, table };
    }

    fn session_config(&self) -> SessionConfig {
        SessionConfig {
            id: mib::gnss_root(),
            descr: format!("gnss-timeserver {}", env!("CARGO_PKG_VERSION")),
            timeout_s: 0,
            priority: 127,
            subtrees: vec![mib::ntp_root(), mib::gnss_root()],
            response_timeout_ns: 10_000_000_000,
            ping_interval_ns: 15_000_000_000,
        }
    }

    /// One connection: until it fails (Err) or shutdown (Ok).
    async fn serve(
        &mut self,
        conn: Box<dyn Conn>,
        requests: &mut Option<mpsc::Receiver<SnmpRequest>>,
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let (mut rd, mut wr) = tokio::io::split(conn);
        let mut session = Session::new(self.session_config(), self.now_ns());
        write(&mut wr, &session.take_output()).await?;
        let mut buf = vec![0u8; 16 * 1024];
        let mut tick = tokio::time::interval(TICK);
        loop {
            let step: Result<(), super::session::SessionError> = tokio::select! {
                n = rd.read(&mut buf) => {
                    let n = n?;
                    if n == 0 {
                        anyhow::bail!("the master closed the connection");
                    }
                    // Answers come from the table of the latest snapshot.
                    if self.snapshot.has_changed().unwrap_or(false) {
                        self.refresh(Some(&mut session));
                    }
                    let now = self.now_ns();
                    session.on_bytes(&buf[..n], now, &self.view.table)
                }
                _ = tick.tick() => session.on_tick(self.now_ns()),
                r = self.snapshot.changed() => {
                    if r.is_err() {
                        return Ok(());
                    }
                    self.refresh(Some(&mut session));
                    Ok(())
                }
                ev = next_event(&mut self.events) => {
                    self.on_event(Some(&mut session), ev);
                    Ok(())
                }
                req = next_request(requests) => {
                    match req {
                        Some(SnmpRequest::TestNotification(reply)) => {
                            // Never queued: the operator asks about the path now.
                            let n = self.notifier.test(&self.view.table);
                            let sent = session.is_open() && session.notify(n, self.now_ns());
                            if sent {
                                self.notifications_sent += 1;
                            }
                            let _ = reply.send(if sent {
                                Ok(())
                            } else {
                                Err("no AgentX session with snmpd is open".into())
                            });
                        }
                        None => *requests = None,
                    }
                    Ok(())
                }
                _ = stopped(shutdown) => {
                    let bye = session.close_bytes(codec::close::SHUTDOWN);
                    let _ = write(&mut wr, &bye).await;
                    return Ok(());
                }
            };
            if let Err(e) = step {
                // Tell the master why, then start over with a fresh session.
                let bye = session.close_bytes(e.close_reason());
                let _ = write(&mut wr, &bye).await;
                return Err(e.into());
            }
            for ev in session.drain_events() {
                match ev {
                    SessionEvent::Opened { session_id } => {
                        self.opened = true;
                        tracing::info!(addr = %self.params.addr, session_id, "agentx: session open");
                        if !self.started_sent {
                            // First: the start came before anything queued.
                            self.started_sent = true;
                            let n = self.notifier.daemon_started(&self.view.table);
                            if session.notify(n, self.now_ns()) {
                                self.notifications_sent += 1;
                            }
                        }
                    }
                    SessionEvent::Registered(oid) => tracing::info!(%oid, "agentx: registered"),
                    SessionEvent::RegistrationRefused { subtree, error } => {
                        tracing::warn!(%subtree, error, "agentx: registration refused")
                    }
                    SessionEvent::NotifyRefused { error } => {
                        tracing::warn!(error, "agentx: notification refused")
                    }
                    SessionEvent::NotifyAccepted => {}
                }
            }
            self.flush(&mut session);
            self.publish_counts();
            write(&mut wr, &session.take_output()).await?;
        }
    }

    /// A new snapshot: rebuild the table and send (or queue) what changed.
    fn refresh(&mut self, mut session: Option<&mut Session>) {
        self.rebuild();
        let now = self.now_ns();
        for n in self
            .notifier
            .observe(&self.view.json, &self.view.table, now)
        {
            self.send_notification(session.as_deref_mut(), n);
        }
    }

    /// An event from the live feed: the notification it calls for, if any.
    fn on_event(&mut self, session: Option<&mut Session>, ev: Result<Event, RecvError>) {
        match ev {
            Ok(ev) => {
                let data = ev.data();
                if let Some(n) = self.notifier.on_event(ev.name(), &data, &self.view.table) {
                    self.send_notification(session, n);
                }
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "agentx: event feed overrun; notifications missed"
                )
            }
            Err(RecvError::Closed) => self.events = None,
        }
    }

    /// Hand a notification to a ready session, else queue it (also behind
    /// others still queued, so the order is kept).
    fn send_notification(&mut self, session: Option<&mut Session>, varbinds: Vec<codec::VarBind>) {
        let now = self.now_ns();
        match session {
            Some(s) if s.is_ready() && self.pending.is_empty() => {
                if s.notify(varbinds, now) {
                    self.notifications_sent += 1;
                } else {
                    self.dropped_live += 1;
                    tracing::warn!("agentx: notification dropped (too many unanswered)");
                }
            }
            _ => {
                let lost = self.pending.notifications_dropped;
                self.pending.push(varbinds, now);
                if self.pending.notifications_dropped > lost {
                    tracing::warn!(
                        lost = self.pending.notifications_dropped,
                        "agentx: no session; oldest queued notification dropped"
                    );
                }
            }
        }
    }

    fn publish_counts(&self) {
        self.counters.set(NotificationCounts {
            notifications_sent: self.notifications_sent,
            notifications_dropped: self.pending.notifications_dropped + self.dropped_live,
            notifications_queued: self.pending.notifications_queued,
        });
    }

    /// A ready session: deliver what waited for it, in order.
    fn flush(&mut self, session: &mut Session) {
        if self.pending.is_empty() || !session.is_ready() {
            return;
        }
        let now = self.now_ns();
        let expired = self.pending.notifications_dropped;
        let due = self.pending.take(now);
        let mut refused = 0;
        for q in &due {
            if session.notify(q.varbinds.clone(), now) {
                self.notifications_sent += 1;
            } else {
                refused += 1;
            }
        }
        self.pending.lost(refused);
        tracing::info!(
            delivered = due.len() as u64 - refused,
            expired = self.pending.notifications_dropped - expired - refused,
            refused,
            oldest_age_s = due.first().map(|q| (now - q.raised_ns) / 1_000_000_000),
            "agentx: queued notifications sent"
        );
    }
}

/// Resolves once the shutdown flag is true (or its sender is gone).
async fn stopped(rx: &mut tokio::sync::watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn write<W: AsyncWrite + Unpin>(wr: &mut W, bytes: &[u8]) -> anyhow::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(bytes))
        .await
        .map_err(|_| anyhow::anyhow!("the master does not read"))??;
    Ok(())
}

/// Run the subagent until `shutdown` turns true; connection failures are
/// retried here (1 log line per state change), so the supervisor only sees
/// an error when something is really broken.
pub async fn run_subagent(
    params: SubagentParams,
    inputs: SubagentInputs,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut requests = inputs.requests.lock().await;
    let mut a = Subagent {
        notifier: Notifier::new(params.heartbeat_interval_s),
        params,
        snapshot: inputs.snapshot,
        served: inputs.served,
        events: Some(inputs.events),
        start: Instant::now(),
        notifications_sent: 0,
        pending: Pending::new(),
        dropped_live: 0,
        counters: inputs.counters,
        started_sent: false,
        opened: false,
        view: View {
            json: Json::Null,
            table: MibTable::default(),
        },
    };
    a.rebuild();
    let mut delays = RECONNECT.delays();
    let mut last_error = String::new();
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        a.opened = false;
        let error = match connect(&a.params.addr).await {
            Ok(conn) => match a.serve(conn, &mut requests, &mut shutdown).await {
                Ok(()) => return Ok(()),
                Err(e) => format!("session ended: {e:#}"),
            },
            Err(e) => format!("cannot connect: {e}"),
        };
        // A master that accepted a session is alive: come back quickly. One
        // that refuses connections (snmpd down) is retried ever more slowly.
        if a.opened {
            delays.reset();
        }
        let backoff = delays.next_delay();
        if error != last_error {
            tracing::warn!(addr = %a.params.addr, retry_in_ms = backoff.as_millis() as u64, "agentx: {error}");
            last_error = error;
        }
        // Until the next attempt: refuse test requests; queue what events
        // and snapshot changes call for (the next session delivers them).
        let retry = tokio::time::sleep(backoff);
        tokio::pin!(retry);
        loop {
            tokio::select! {
                _ = &mut retry => break,
                req = next_request(&mut requests) => match req {
                    Some(SnmpRequest::TestNotification(reply)) => {
                        let why = format!("no AgentX session with snmpd: {last_error}");
                        let _ = reply.send(Err(why));
                    }
                    None => *requests = None,
                },
                ev = next_event(&mut a.events) => {
                    a.on_event(None, ev);
                    a.publish_counts();
                }
                r = a.snapshot.changed() => {
                    if r.is_err() {
                        return Ok(());
                    }
                    a.refresh(None);
                    a.publish_counts();
                },
                _ = stopped(&mut shutdown) => return Ok(()),
            }
        }
    }
}
