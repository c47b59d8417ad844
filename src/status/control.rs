//! The control socket: a Unix stream socket in the data directory. One
//! request per line, one JSON line back:
//!
//! - `status` → the snapshot
//! - `events N [KIND]` → `{"events": [...]}` (last N, oldest first)
//! - `events-page [limit=N] [kind=K1,K2] [severity=S] [since=NS] [until=NS]
//!   [before=ID]` → `{"events": [...], "next_before_id": ID|null}` (newest
//!   first; pass `before=` the returned id for the next page)
//! - `scenario NAME` → switches the fake receiver's scenario (demo only)
//! - `accept-time-jump` → steps the clock onto a pending receiver time jump
//!   (`{"ok": true, "step_ns": N}`), refused with the reason when there is
//!   none or the receiver's samples do not agree on it
//! - `snmp-test-trap` → sends the SNMP test notification (gtsTestNotification)
//!   through snmpd (`{"ok": true}`), refused when no AgentX session is open
//!
//! Errors come back as `{"error": "..."}`; the connection stays usable.

use super::control_slots::{Slot, Slots};
use super::SnapshotRx;
use crate::store::StoreHandle;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// Switches the fake receiver's scenario: `Ok(message)` or `Err(reason)`.
pub type ScenarioHook = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

/// Operator requests for the discipline task.
#[derive(Debug)]
pub enum TimingRequest {
    /// Accept the pending time jump: the step taken (ns) or why not.
    AcceptTimeJump(tokio::sync::oneshot::Sender<Result<i64, String>>),
}

/// Operator requests for the SNMP subagent.
#[derive(Debug)]
pub enum SnmpRequest {
    /// Send the test notification: `Ok` once handed to snmpd, or why not.
    TestNotification(tokio::sync::oneshot::Sender<Result<(), String>>),
}

/// How long an operator request waits for the discipline task.
const TIMING_REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest request line accepted.
const MAX_LINE: usize = 1024;
/// Most events one `events N` request returns.
pub const MAX_EVENTS: usize = 10_000;
/// Concurrent control connections; a new one beyond this takes the slot of
/// the longest-idle one (see [`super::control_slots`]).
const MAX_CONNECTIONS: usize = 16;
/// A client that sends nothing for this long is disconnected.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for a reply to drain to a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the control socket can reach.
#[derive(Clone)]
pub struct ControlContext {
    pub snapshot: SnapshotRx,
    pub store: Option<StoreHandle>,
    pub scenario: Option<ScenarioHook>,
    pub timing: Option<tokio::sync::mpsc::Sender<TimingRequest>>,
    /// The SNMP subagent, when `[snmp] agentx` is set.
    pub snmp: Option<tokio::sync::mpsc::Sender<SnmpRequest>>,
}

/// Bind the socket, replacing a stale file left by a crashed daemon but
/// refusing to steal the socket of a live one.
pub fn bind_control_socket(path: &Path) -> anyhow::Result<UnixListener> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            anyhow::bail!("another daemon is already listening on {}", path.display());
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    // Owner and group (operators in the daemon's group) may ask; others not.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Accept connections until `shutdown` turns true; removes the socket file then.
/// Sheds and refusals at the slot table are counted into `sheds`.
pub async fn serve_control(
    listener: UnixListener,
    ctx: ControlContext,
    sheds: crate::sheds::Sheds,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let slots = Slots::new(MAX_CONNECTIONS, sheds);
    let path = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Path::to_path_buf));
    loop {
        tokio::select! {
            res = listener.accept() => {
                // The accept loop never waits on a client: admission is a
                // table lookup, the connection runs in its own task.
                let (stream, _) = res?;
                let Some(slot) = slots.admit() else {
                    // Every slot is answering a request: close this one.
                    drop(stream);
                    continue;
                };
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let shed = slot.shed.clone();
                    tokio::select! {
                        res = handle_connection(stream, &ctx, &slot) => {
                            if let Err(e) = res {
                                tracing::debug!(error = %e, "control connection ended");
                            }
                        }
                        _ = shed.notified() => {
                            tracing::debug!("idle control connection shed for a newer one");
                        }
                    }
                });
            }
            res = shutdown.changed() => {
                if res.is_err() || *shutdown.borrow() { break; }
            }
        }
    }
    if let Some(p) = path {
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}

async fn handle_connection(
    stream: UnixStream,
    ctx: &ControlContext,
    slot: &Slot,
) -> anyhow::Result<()> {
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let mut line = Vec::new();
    loop {
        line.clear();
        slot.set_idle(true);
        let n = tokio::time::timeout(
            IDLE_TIMEOUT,
            (&mut rd)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line),
        )
        .await??;
        if n == 0 {
            return Ok(());
        }
        slot.set_idle(false);
        let reply = if line.len() > MAX_LINE {
            json!({ "error": "request line too long" }).to_string()
        } else {
            handle_request(&String::from_utf8_lossy(&line), ctx).await
        };
        let send = async {
            wr.write_all(reply.as_bytes()).await?;
            wr.write_all(b"\n").await
        };
        tokio::time::timeout(WRITE_TIMEOUT, send).await??;
        if line.len() > MAX_LINE {
            return Ok(());
        }
    }
}

async fn accept_time_jump(ctx: &ControlContext) -> serde_json::Value {
    let Some(tx) = &ctx.timing else {
        return json!({ "error": "no discipline task runs in this process" });
    };
    let (reply_tx, reply_rx) = tokio::sync::oneshot::channel();
    if tx
        .send_timeout(
            TimingRequest::AcceptTimeJump(reply_tx),
            TIMING_REPLY_TIMEOUT,
        )
        .await
        .is_err()
    {
        return json!({ "error": "the discipline task is not answering" });
    }
    match tokio::time::timeout(TIMING_REPLY_TIMEOUT, reply_rx).await {
        Ok(Ok(Ok(step_ns))) => json!({ "ok": true, "step_ns": step_ns }),
        Ok(Ok(Err(reason))) => json!({ "error": reason }),
        _ => json!({ "error": "the discipline task did not answer" }),
    }
}

async fn snmp_test_trap(ctx: &ControlContext) -> serde_json::Value {
    let Some(tx) = ctx.snmp.as_ref().filter(|t| !t.is_closed()) else {
        return json!({ "error": "SNMP is not enabled (set [snmp] agentx, or demo --agentx)" });
    };
    let (reply_tx, reply_rx) = tokio::sync::oneshot::channel();
    let asked = tx
        .send_timeout(
            SnmpRequest::TestNotification(reply_tx),
            TIMING_REPLY_TIMEOUT,
        )
        .await;
    if asked.is_err() {
        return json!({ "error": "the SNMP subagent is not answering" });
    }
    match tokio::time::timeout(TIMING_REPLY_TIMEOUT, reply_rx).await {
        Ok(Ok(Ok(()))) => json!({ "ok": true }),
        Ok(Ok(Err(reason))) => json!({ "error": reason }),
        _ => json!({ "error": "the SNMP subagent did not answer" }),
    }
}

/// Answer one request line with one JSON document (no trailing newline).
pub async fn handle_request(line: &str, ctx: &ControlContext) -> String {
    let mut words = line.split_whitespace();
    let reply = match (words.next(), words.next(), words.next()) {
        (Some("status"), None, None) => {
            let snap = ctx.snapshot.borrow().clone();
            serde_json::to_value(&snap).unwrap_or_else(|e| json!({ "error": e.to_string() }))
        }
        (Some("events"), n, kind) => events(ctx, n, kind).await,
        (Some("events-page"), _, _) => events_page(ctx, line).await,
        (Some("scenario"), Some(name), None) => match &ctx.scenario {
            None => json!({ "error": "scenario switching is only available in demo" }),
            Some(hook) => match hook(name) {
                Ok(message) => json!({ "ok": true, "scenario": name, "message": message }),
                Err(reason) => json!({ "error": reason }),
            },
        },
        (Some("accept-time-jump"), None, None) => accept_time_jump(ctx).await,
        (Some("snmp-test-trap"), None, None) => snmp_test_trap(ctx).await,
        _ => json!({
            "error": format!(
                "unknown request `{}`; try `status`, `events N [KIND]`, `events-page [key=value ...]`, `scenario NAME`, `accept-time-jump` or `snmp-test-trap`",
                line.trim().chars().take(64).collect::<String>()
            )
        }),
    };
    reply.to_string()
}

async fn events(ctx: &ControlContext, n: Option<&str>, kind: Option<&str>) -> serde_json::Value {
    let n = match n.map(str::parse::<usize>) {
        None => 20,
        Some(Ok(n)) => n.min(MAX_EVENTS),
        Some(Err(_)) => return json!({ "error": "usage: events N [KIND]" }),
    };
    let Some(store) = &ctx.store else {
        return json!({ "error": "no store" });
    };
    match store.recent_events(n, kind.map(str::to_string)).await {
        Ok(evs) => json!({ "events": evs }),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

/// `events-page key=value ...`: a page of events, newest first.
async fn events_page(ctx: &ControlContext, line: &str) -> serde_json::Value {
    let mut q = crate::store::EventQuery {
        limit: 20,
        ..Default::default()
    };
    for word in line.split_whitespace().skip(1) {
        let Some((k, v)) = word.split_once('=') else {
            return json!({ "error": format!("`{word}`: expected key=value") });
        };
        let bad = |what: &str| json!({ "error": format!("`{k}`: {what}") });
        match k {
            "limit" => match v.parse::<usize>() {
                Ok(n) => q.limit = n.min(crate::store::MAX_PAGE),
                Err(_) => return bad("expected a count"),
            },
            "kind" => q.kinds = v.split(',').map(str::to_string).collect(),
            "severity" => match v.parse() {
                Ok(s) => q.min_severity = Some(s),
                Err(e) => return bad(&e),
            },
            "since" | "until" | "before" => match v.parse::<i64>() {
                Ok(n) if k == "since" => q.from_ns = Some(n),
                Ok(n) if k == "until" => q.to_ns = Some(n),
                Ok(n) => q.before_id = u64::try_from(n).ok(),
                Err(_) => return bad("expected an integer"),
            },
            _ => return bad("unknown key (limit, kind, severity, since, until, before)"),
        }
    }
    let Some(store) = &ctx.store else {
        return json!({ "error": "no store" });
    };
    match store.query_events(q).await {
        Ok(page) => {
            serde_json::to_value(&page).unwrap_or_else(|e| json!({ "error": e.to_string() }))
        }
        Err(e) => json!({ "error": e.to_string() }),
    }
}
