//! The NTP server shell: worker threads on SO_REUSEPORT sockets around the
//! sans-IO [`Handler`]. Each worker: recvmmsg a batch → map kernel receive
//! timestamps onto the served clock (one call per batch) → prepare replies →
//! read the clock once per batch, right before sending → sendmmsg → record
//! TX times (daemon reading, then the kernel TX timestamp from the error
//! queue, for interleaved mode).

use super::access::{AccessList, Cidr};
use super::auth::KeyStore;
use super::batch::Batch;
use super::clients::{AlarmChange, ClientTable, RateLimit};
use super::counters::{Counters, NtpCounters};
use super::handler::{AuthFailureAction, DenyAction, Handler, HandlerConfig, Outcome, Reply};
use super::mode6::{self, ControlService, ControlView, ControlViewCell};
use super::socket::{drain_tx_timestamps, ErrQueue, NtpSocket, RxTimestamping};
use super::timestamp::NtpTimestamp;
use super::NtpStatus;
use crate::clock::TimeSource;
use crate::events::{Event, EventKind, EventSink};
use crate::server_fields::ServerFieldsCell;
use serde::{Deserialize, Serialize};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// `[ntp]` configuration (kebab-case keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default, deny_unknown_fields)]
pub struct NtpServerConfig {
    /// Addresses to serve on (port 123 on the appliance, a high port in demo).
    pub bind: Vec<SocketAddr>,
    /// Worker threads per bind address; 0 = one per CPU core.
    pub workers: usize,
    /// Limits of the poll value echoed to clients (log2 s).
    pub min_poll: i8,
    pub max_poll: i8,
    /// Only these prefixes are served (empty = everyone not denied).
    pub allow: Vec<Cidr>,
    pub deny: Vec<Cidr>,
    pub deny_action: DenyAction,
    /// Per-client average request interval in ms; 0 disables rate limiting.
    pub rate_limit_interval_ms: u64,
    /// Requests a client may send in a burst before the limit applies.
    pub rate_limit_burst: u32,
    /// ntpd/chrony-style keys file (`ID TYPE KEY` lines).
    pub keys_file: Option<PathBuf>,
    pub require_auth: bool,
    pub auth_failure: AuthFailureAction,
    /// Kernel receive timestamps (SO_TIMESTAMPING / SO_TIMESTAMPNS).
    pub kernel_rx_timestamps: bool,
    /// Kernel transmit timestamps (error queue) for interleaved mode.
    pub kernel_tx_timestamps: bool,
    /// Interleaved replies for clients that ask (with kernel TX timestamps
    /// when available, else the daemon's reading just after sending).
    pub interleaved: bool,
    /// Size of the per-client table (rate limit, interleave, monitor).
    pub client_table_size: usize,
    /// Raise an event when a client's clock is off by more than this (ms);
    /// 0 disables.
    pub client_offset_alarm_ms: u64,
    /// Datagrams per recvmmsg/sendmmsg.
    pub batch_size: usize,
    /// Kernel receive buffer per socket (SO_RCVBUF), bytes; 0 = the kernel's
    /// default. Capped by net.core.rmem_max unless the daemon has
    /// CAP_NET_ADMIN.
    pub receive_buffer_bytes: usize,
    /// Clients listed in the status snapshot.
    pub top_clients: usize,
    /// Sources whose control queries (mode 6, read-only) are answered.
    pub control_allow: Vec<Cidr>,
    /// Served fields older than this: answer LI=3 / stratum 16; 0 never.
    pub stale_after_ms: u64,
    /// Head-end watch rules (from `[[ntp.watch]]` through the plan).
    #[serde(skip)]
    pub watch: Vec<super::watch::WatchRule>,
    /// Learned clients the watch keeps; with no rules either, 0 turns the
    /// watch off.
    pub watch_learned: usize,
}

impl Default for NtpServerConfig {
    fn default() -> Self {
        NtpServerConfig {
            bind: vec![
                SocketAddr::from(([0, 0, 0, 0], 123)),
                SocketAddr::from(([0u16; 8], 123)),
            ],
            workers: 0,
            min_poll: 4,
            max_poll: 10,
            allow: vec![],
            deny: vec![],
            deny_action: DenyAction::Kod,
            rate_limit_interval_ms: 1000,
            rate_limit_burst: 16,
            keys_file: None,
            require_auth: false,
            auth_failure: AuthFailureAction::Drop,
            kernel_rx_timestamps: true,
            kernel_tx_timestamps: true,
            interleaved: true,
            client_table_size: 16_384,
            client_offset_alarm_ms: 1000,
            batch_size: 32,
            receive_buffer_bytes: 1 << 20,
            top_clients: 20,
            control_allow: vec![
                Cidr::new([127, 0, 0, 0].into(), 8).expect("valid prefix"),
                Cidr::new(std::net::Ipv6Addr::LOCALHOST.into(), 128).expect("valid prefix"),
            ],
            stale_after_ms: 5_000,
            watch: Vec::new(),
            watch_learned: 64,
        }
    }
}

/// log2 seconds of the clock-read resolution: the smallest non-zero step
/// between consecutive readings, rounded up.
pub fn measure_precision(time: &dyn TimeSource) -> i8 {
    let mut min = i64::MAX;
    let mut prev = time.now_ns();
    for _ in 0..2000 {
        let now = time.now_ns();
        let d = now - prev;
        if d > 0 && d < min {
            min = d;
        }
        prev = now;
    }
    if min == i64::MAX {
        return -10;
    }
    ((min as f64) * 1e-9).log2().ceil().clamp(-30.0, 0.0) as i8
}

/// A bind error that says what to do about it.
fn explain_bind_error(addr: SocketAddr, e: io::Error) -> io::Error {
    let hint = match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) if addr.port() < 1024 => {
            "ports below 1024 need CAP_NET_BIND_SERVICE: run as root, give the service \
             AmbientCapabilities=CAP_NET_BIND_SERVICE (board/gnss-timeserver.service does), \
             or listen on a port of 1024 or above (`[ntp] listen`, `demo --ntp`)"
                .to_string()
        }
        Some(libc::EADDRINUSE) => {
            "another program (chronyd, ntpd, systemd-timesyncd?) serves this address; \
             stop it or listen elsewhere"
                .to_string()
        }
        Some(libc::EADDRNOTAVAIL) => "no interface of this host has that address".to_string(),
        _ => return io::Error::new(e.kind(), format!("binding NTP address {addr}: {e}")),
    };
    io::Error::new(e.kind(), format!("binding NTP address {addr}: {e}; {hint}"))
}

/// log2 seconds of the rate-limit interval, rounded up, within 4..=17.
fn kod_rate_poll(interval_ms: u64) -> i8 {
    let secs = (interval_ms.max(1) as f64) / 1000.0;
    secs.log2().ceil().clamp(4.0, 17.0) as i8
}

/// Runs the workers; dropping it shuts them down.
pub struct NtpServerHandle {
    stop: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    counters: Vec<Arc<Counters>>,
    clients: Arc<ClientTable>,
    local: Vec<SocketAddr>,
    rx_timestamping: RxTimestamping,
    tx_timestamping: bool,
    precision: i8,
    workers: usize,
    top: usize,
    receive_buffer: Option<usize>,
    control: Arc<ControlService>,
    control_view: ControlViewCell,
    watch: Option<Mutex<WatchPart>>,
}

/// The watch core and the inbox it drains (held by the handle, ticked by
/// the daemon's once-a-second status task, never by a worker).
struct WatchPart {
    core: super::watch::Watch,
    inbox: super::watch::feed::WatchInbox,
}

impl std::fmt::Debug for NtpServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtpServerHandle")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl NtpServerHandle {
    /// The bound addresses (useful with port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local
    }

    pub fn counters(&self) -> NtpCounters {
        let mut total = NtpCounters::default();
        for c in &self.counters {
            total.add(c);
        }
        total
    }

    /// Where the daemon stores what control replies show (once a second).
    pub fn control_view(&self) -> ControlViewCell {
        self.control_view.clone()
    }

    pub fn control_counters(&self) -> mode6::ControlCounters {
        self.control.counters()
    }

    /// Drain the workers' observations into the watch and judge every
    /// client at `now_ns`; the state changes of expected clients.
    pub fn watch_tick(&self, now_ns: i64) -> Vec<super::watch::StateChange> {
        let Some(w) = &self.watch else {
            return Vec::new();
        };
        let mut g = w.lock().unwrap_or_else(|p| p.into_inner());
        let WatchPart { core, inbox } = &mut *g;
        inbox.drain(|o| core.observe(o));
        core.tick(now_ns)
    }

    /// Offset and poll-interval history of one client (the panel's chart).
    pub fn watch_history(&self, addr: std::net::IpAddr) -> Option<Vec<super::watch::HistoryPoint>> {
        let w = self.watch.as_ref()?;
        let g = w.lock().unwrap_or_else(|p| p.into_inner());
        g.core.history(addr)
    }

    pub fn status(&self) -> NtpStatus {
        let (watch, watch_summary, watch_dropped) = match &self.watch {
            Some(w) => {
                let g = w.lock().unwrap_or_else(|p| p.into_inner());
                (g.core.rows(), g.core.summary(), g.inbox.dropped())
            }
            None => Default::default(),
        };
        NtpStatus {
            watch,
            watch_summary,
            watch_dropped,
            running: !self.stop.load(Ordering::Relaxed),
            bind: self.local.iter().map(|a| a.to_string()).collect(),
            workers: self.workers,
            rx_timestamping: Some(self.rx_timestamping),
            tx_timestamping: self.tx_timestamping,
            precision: self.precision,
            counters: self.counters(),
            clients_tracked: self.clients.len(),
            client_table_capacity: self.clients.capacity(),
            client_evictions: self.clients.evictions(),
            top_clients: self.clients.top(self.top),
            receive_buffer_bytes: self.receive_buffer,
        }
    }

    /// Stop the workers and wait for them (they notice within ~100 ms).
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for NtpServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Start the NTP server workers.
pub fn spawn(
    cfg: NtpServerConfig,
    time: Arc<dyn TimeSource>,
    fields: ServerFieldsCell,
    events: EventSink,
    parts: &crate::liveness::Parts,
) -> io::Result<NtpServerHandle> {
    if cfg.bind.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "ntp: no bind address",
        ));
    }
    let keys = match &cfg.keys_file {
        Some(p) => KeyStore::load(p).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
        None => KeyStore::default(),
    };
    let precision = measure_precision(&*time);
    let handler_cfg = Arc::new(HandlerConfig {
        stale_after_ns: i64::try_from(cfg.stale_after_ms.saturating_mul(1_000_000))
            .unwrap_or(i64::MAX),
        precision,
        min_poll: cfg.min_poll,
        max_poll: cfg.max_poll.max(cfg.min_poll),
        access: AccessList {
            allow: cfg.allow.clone(),
            deny: cfg.deny.clone(),
        },
        deny_action: cfg.deny_action,
        require_auth: cfg.require_auth,
        auth_failure: cfg.auth_failure,
        interleaved: cfg.interleaved,
        kod_rate_poll: kod_rate_poll(cfg.rate_limit_interval_ms),
    });
    let rate = (cfg.rate_limit_interval_ms > 0).then(|| RateLimit {
        interval_ns: i64::try_from(cfg.rate_limit_interval_ms)
            .unwrap_or(i64::MAX / 1_000_000)
            .saturating_mul(1_000_000),
        burst: cfg.rate_limit_burst.max(1),
    });
    let alarm = (cfg.client_offset_alarm_ms > 0).then(|| {
        i64::try_from(cfg.client_offset_alarm_ms)
            .unwrap_or(i64::MAX / 1_000_000)
            .saturating_mul(1_000_000)
    });
    let clients = Arc::new(ClientTable::new(cfg.client_table_size, rate, alarm));
    let (watch_feed, watch_core) = if cfg.watch.is_empty() && cfg.watch_learned == 0 {
        (None, None)
    } else {
        let (feed, inbox) =
            super::watch::feed::channel(cfg.watch.iter().map(|r| r.target).collect());
        let core = super::watch::Watch::new(
            super::watch::WatchParams {
                rules: cfg.watch.clone(),
                learned_max: cfg.watch_learned,
                learned_tolerance_ns: alarm.unwrap_or(super::watch::DEFAULT_TOLERANCE_NS),
            },
            time.now_ns(),
        );
        (Some(feed), Some((core, inbox)))
    };
    let control = Arc::new(ControlService::new(cfg.control_allow.clone(), precision));
    let control_view: ControlViewCell = Arc::new(arc_swap::ArcSwap::from_pointee(ControlView {
        version: format!("gnss-timeserver {}", env!("CARGO_PKG_VERSION")),
        ..ControlView::default()
    }));
    let keys = Arc::new(keys);
    let workers = if cfg.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        cfg.workers
    };

    // Bind everything first so a bind error fails spawn cleanly.
    let mut sockets = Vec::new();
    let mut local = Vec::new();
    let want_tx = cfg.kernel_tx_timestamps && cfg.interleaved;
    let rcvbuf = cfg.receive_buffer_bytes;
    for addr in &cfg.bind {
        let first = NtpSocket::bind(*addr, cfg.kernel_rx_timestamps, want_tx, 100, rcvbuf)
            .map_err(|e| explain_bind_error(*addr, e))?;
        let actual = first.local;
        local.push(actual);
        sockets.push(first);
        for _ in 1..workers {
            sockets.push(
                NtpSocket::bind(actual, cfg.kernel_rx_timestamps, want_tx, 100, rcvbuf)
                    .map_err(|e| explain_bind_error(actual, e))?,
            );
        }
    }
    let receive_buffer = sockets.iter().map(|s| s.receive_buffer).min();
    let rx_timestamping = sockets
        .iter()
        .map(|s| s.rx_ts)
        .min_by_key(|t| match t {
            RxTimestamping::Daemon => 0,
            RxTimestamping::TimestampNs => 1,
            RxTimestamping::Timestamping => 2,
        })
        .unwrap_or(RxTimestamping::Daemon);
    let tx_timestamping = sockets.iter().all(|s| s.tx_ts);

    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let mut counters = Vec::new();
    for (i, sock) in sockets.into_iter().enumerate() {
        let c = Arc::new(Counters::default());
        counters.push(c.clone());
        let handler = Handler::new(handler_cfg.clone(), keys.clone(), clients.clone(), c);
        let worker = Worker {
            sock,
            handler,
            time: time.clone(),
            fields: fields.clone(),
            events: events.clone(),
            stop: stop.clone(),
            heartbeat: parts.register(&format!("ntp-worker-{i}"), Some(WORKER_BEAT_PERIOD)),
            batch: Batch::new(cfg.batch_size.clamp(1, 1024)),
            pending: Vec::with_capacity(cfg.batch_size.clamp(1, 1024)),
            rx_ns: vec![0; cfg.batch_size.clamp(1, 1024)],
            tx_records: Vec::with_capacity(cfg.batch_size.clamp(1, 1024)),
            wire: Vec::with_capacity(cfg.batch_size.clamp(1, 1024)),
            tx_ring: vec![None; TX_RING],
            next_tx_id: 0,
            errq: ErrQueue::default(),
            tx_outstanding: 0,
            control: control.clone(),
            control_view: control_view.clone(),
            control_buf: vec![0u8; mode6::MAX_REPLY].into_boxed_slice(),
            watch: watch_feed.clone(),
        };
        let t = std::thread::Builder::new()
            .name(format!("ntp-worker-{i}"))
            .spawn(move || worker.run());
        match t {
            Ok(t) => threads.push(t),
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                for t in threads {
                    let _ = t.join();
                }
                return Err(e);
            }
        }
    }
    tracing::info!(
        bind = ?local,
        workers,
        ?rx_timestamping,
        tx_timestamping,
        precision,
        "NTP server started"
    );
    Ok(NtpServerHandle {
        stop,
        threads: Mutex::new(threads),
        counters,
        clients,
        local,
        rx_timestamping,
        tx_timestamping,
        precision,
        workers,
        top: cfg.top_clients,
        receive_buffer,
        control,
        control_view,
        watch: watch_core.map(|(core, inbox)| Mutex::new(WatchPart { core, inbox })),
    })
}

/// A worker wakes from recvmmsg at least every ~100 ms (socket timeout).
const WORKER_BEAT_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// Replies awaiting their kernel TX timestamp, indexed by OPT_ID.
const TX_RING: usize = 4096;
/// Largest plausible gap between our TX clock reading and the kernel's.
const MAX_TX_TIMESTAMP_GAP_NS: i64 = 5_000_000;

struct Worker {
    sock: NtpSocket,
    handler: Handler,
    time: Arc<dyn TimeSource>,
    fields: ServerFieldsCell,
    events: EventSink,
    stop: Arc<AtomicBool>,
    /// Beaten once per receive loop (one relaxed add, no clock read).
    heartbeat: crate::liveness::Heartbeat,
    batch: Batch,
    /// Replies of the batch in send-slot order.
    pending: Vec<Reply>,
    /// Receive time of each datagram of the batch on the served clock.
    rx_ns: Vec<i64>,
    /// TX times of the batch just sent, recorded in one call.
    tx_records: Vec<super::clients::TxRecord>,
    /// Daemon TX reading and the transmit timestamp each queued reply carries.
    wire: Vec<(i64, NtpTimestamp)>,
    /// (kernel OPT_ID, reply, daemon TX reading) awaiting the kernel TX time.
    tx_ring: Vec<Option<(u32, Reply, i64)>>,
    next_tx_id: u32,
    errq: ErrQueue,
    /// TX timestamps asked for and not read yet: the error queue is read
    /// only while this is non-zero.
    tx_outstanding: usize,
    control: Arc<ControlService>,
    control_view: ControlViewCell,
    control_buf: Box<[u8]>,
    watch: Option<super::watch::feed::WatchFeed>,
}

impl Worker {
    fn run(mut self) {
        while !self.stop.load(Ordering::Relaxed) {
            self.heartbeat.beat();
            match self.batch.recv(&self.sock) {
                Ok(0) => {}
                Ok(n) => self.serve(n),
                Err(e) => {
                    Counters::inc(&self.handler.counters().rx_errors);
                    tracing::debug!(error = %e, "ntp recv");
                }
            }
            if self.tx_outstanding > 0 {
                self.drain_tx();
            }
        }
    }

    fn serve(&mut self, n: usize) {
        let fields = self.fields.load();
        let counters = self.handler.counters().clone();
        let n = n.min(self.rx_ns.len()).min(self.batch.received.len());
        // Receive times of the whole batch on the system clock: the kernel's
        // per datagram, else one daemon reading for the batch taken right
        // after recvmmsg returned (no later than a per-datagram reading
        // would be). Then mapped onto the served clock in one call.
        let mut daemon_sys = None;
        let mut dropped = None;
        for (t, r) in self.rx_ns.iter_mut().zip(&self.batch.received[..n]) {
            *t = match r.kernel_rx_ns {
                Some(k) => k,
                None => *daemon_sys.get_or_insert_with(crate::time::system_realtime_ns),
            };
            dropped = r.dropped.or(dropped);
        }
        if let Some(d) = dropped {
            // The socket's running total (u32 in the kernel): keep the latest.
            counters
                .kernel_rx_drops
                .store(u64::from(d), Ordering::Relaxed);
        }
        self.time.from_system_ns_slice(&mut self.rx_ns[..n]);
        self.pending.clear();
        for i in 0..n {
            let (from, truncated, kernel) = {
                let r = &self.batch.received[i];
                (r.from, r.truncated, r.kernel_rx_ns.is_some())
            };
            let Some(from) = from else { continue };
            if truncated {
                Counters::inc(&counters.drop_malformed);
                continue;
            }
            Counters::inc(if kernel {
                &counters.rx_kernel_timestamps
            } else {
                &counters.rx_daemon_timestamps
            });
            let rx_ns = self.rx_ns[i];
            let Some((req, out)) = self.batch.request_and_reply_buf(i) else {
                continue;
            };
            // Control queries (mode 6, rare) are answered on their own,
            // outside the batch: their replies do not fit its buffers.
            if let Some(&b0) = req.first().filter(|b| *b & 7 == mode6::MODE_CONTROL) {
                // Counted as requests of their mode and version like any
                // other; one the control service drops counts as drop_mode.
                Counters::inc(&counters.requests);
                if let Some(m) = counters.by_mode.get(usize::from(mode6::MODE_CONTROL)) {
                    Counters::inc(m);
                }
                if let Some(v) = counters.by_version.get(usize::from((b0 >> 3) & 7)) {
                    Counters::inc(v);
                }
                let view = self.control_view.load();
                let buf = &mut self.control_buf[..];
                match self
                    .control
                    .answer(req, from.ip(), rx_ns, &fields, &view, buf)
                {
                    mode6::Outcome::Reply(n) => {
                        if self.sock.send_to(&buf[..n], from).is_err() {
                            Counters::inc(&counters.tx_errors);
                        }
                    }
                    mode6::Outcome::Drop => Counters::inc(&counters.drop_mode),
                }
                continue;
            }
            match self.handler.prepare(req, from.ip(), rx_ns, &fields, out) {
                Outcome::Reply(reply) => {
                    if let Some(feed) = &self.watch {
                        feed.push(super::watch::WatchObservation {
                            port: from.port(),
                            ..reply.watch
                        });
                    }
                    let stamp = self.sock.tx_ts && reply.kernel_tx;
                    // Slots are handed out in order, one per queued reply:
                    // `pending[slot]` is the reply in send slot `slot`.
                    if self.batch.queue_reply(i, reply.len, stamp).is_some() {
                        self.pending.push(reply);
                    }
                }
                Outcome::Drop(_) => {}
            }
        }
        let queued = self.batch.queued();
        if queued == 0 {
            return;
        }
        // Transmit timestamp: one clock reading for the batch, after every
        // reply is prepared and right before sendmmsg. What is left between
        // it and the wire is writing 8 bytes per reply and the kernel's
        // sequential send of the earlier datagrams of the batch; a reading
        // per reply would only move past the former (tens of ns), not the
        // latter (the bulk). Signed replies are the exception: a MAC costs
        // a fraction of a µs, so each reads the clock again just before it
        // is signed. Interleaved clients get the kernel's TX timestamp of
        // each datagram in their next reply regardless.
        let batch_tx = self.time.now_ns();
        self.wire.clear();
        for (slot, reply) in self.pending.iter().enumerate() {
            let tx = if reply.signed() {
                self.time.now_ns()
            } else {
                batch_tx
            };
            let w = match self.batch.reply_buf(slot) {
                Some(out) => self.handler.finish(out, reply, tx),
                None => NtpTimestamp::ZERO,
            };
            self.wire.push((tx, w));
        }
        let failed = self.batch.send(&self.sock);
        if failed > 0 {
            Counters::add(&counters.tx_errors, failed as u64);
        }
        // After a failed send the kernel's OPT_ID numbering may have moved
        // without us: collect what is queued, restart the numbering, and do
        // not wait for kernel timestamps of this batch.
        let resync = failed > 0 && self.sock.tx_ts;
        if resync {
            self.drain_tx();
            self.tx_ring.iter_mut().for_each(|e| *e = None);
            self.next_tx_id = 0;
            self.tx_outstanding = 0;
            if let Err(e) = self.sock.reset_tx_ids() {
                tracing::warn!(error = %e, "ntp: cannot restart TX timestamp ids");
            }
        }
        self.tx_records.clear();
        for (slot, reply) in self.pending.iter().enumerate() {
            if self.batch.was_sent(slot) {
                if let Some(&(tx, w)) = self.wire.get(slot) {
                    // The daemon's reading is the fallback TX time; the kernel's
                    // replaces it when it arrives (always later: the error
                    // queue is read after this batch is recorded below).
                    let fixed = reply.kind == super::handler::ReplyKind::Interleaved;
                    if let Some(r) = self.handler.tx_record(reply, tx, (!fixed).then_some(w)) {
                        self.tx_records.push(r);
                    }
                    if self.batch.asked_tx_timestamp(slot) && !resync {
                        self.tx_outstanding += 1;
                        let id = self.next_tx_id;
                        self.next_tx_id = self.next_tx_id.wrapping_add(1);
                        if let Some(e) = self.tx_ring.get_mut(id as usize % TX_RING) {
                            *e = Some((id, *reply, tx));
                        }
                    }
                }
            }
            if let Some(a) = reply.alarm {
                self.emit_alarm(reply, a);
            }
        }
        self.handler.record_tx_batch(&self.tx_records);
    }

    fn drain_tx(&mut self) {
        let ring = &mut self.tx_ring;
        let handler = &self.handler;
        let time = &self.time;
        let mut rejected = 0u64;
        let n = drain_tx_timestamps(&self.sock, &mut self.errq, |id, ns| {
            if let Some(slot) = ring.get_mut(id as usize % TX_RING) {
                if let Some((sid, reply, daemon_tx)) = slot.take() {
                    let kernel_tx = time.from_system_ns(ns);
                    // A kernel TX time far from our own reading can only be a
                    // mismatched identifier: keep the daemon's reading then.
                    if sid == id && (kernel_tx - daemon_tx).abs() <= MAX_TX_TIMESTAMP_GAP_NS {
                        handler.record_tx(&reply, kernel_tx, None);
                    } else {
                        rejected += 1;
                    }
                }
            }
        });
        // A timestamp that never came (dropped) must not keep us reading an
        // empty queue forever; a late one is still matched by its id.
        self.tx_outstanding = if n == 0 {
            0
        } else {
            self.tx_outstanding.saturating_sub(n)
        };
        let c = self.handler.counters();
        if n > 0 {
            Counters::add(&c.tx_timestamps, n as u64);
        }
        if rejected > 0 {
            Counters::add(&c.tx_timestamps_rejected, rejected);
        }
    }

    fn emit_alarm(&self, reply: &Reply, a: AlarmChange) {
        let now = self.time.now_ns();
        let ev = match a {
            AlarmChange::Raised {
                offset_ns,
                bound_ns,
            } => Event::new(
                now,
                EventKind::NtpClientOffset {
                    client: reply.addr.to_string(),
                    offset_ns,
                    bound_ns,
                },
            ),
            AlarmChange::Cleared { offset_ns } => Event::new(
                now,
                EventKind::NtpClientOffsetCleared {
                    client: reply.addr.to_string(),
                    offset_ns,
                },
            ),
        };
        self.events.emit(ev);
    }
}
