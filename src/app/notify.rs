//! systemd service notification (`Type=notify`, `WatchdogSec=`): READY=1 once
//! the daemon serves, WATCHDOG=1 while it is alive, STOPPING=1 on the way
//! out. The datagram protocol (sd_notify(3)) is a few lines, so no crate.
//!
//! "Alive" is the daemon's own liveness, not a timer: the `publish` task
//! refreshes the status snapshot every second on the tokio runtime, so a
//! stalled runtime or a publish task stuck in restarts stops the pings and
//! systemd kills and restarts the daemon.

use super::Services;
use crate::status::SnapshotRx;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

/// Where `NOTIFY_SOCKET` points: a path or a Linux abstract name (`@name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyAddr {
    Path(PathBuf),
    Abstract(Vec<u8>),
}

impl NotifyAddr {
    /// Parse a `NOTIFY_SOCKET` value; `None` for an empty or unusable one.
    pub fn parse(value: &str) -> Option<Self> {
        if let Some(name) = value.strip_prefix('@') {
            return Some(Self::Abstract(name.as_bytes().to_vec()));
        }
        value
            .starts_with('/')
            .then(|| Self::Path(PathBuf::from(value)))
    }

    /// Send one notification datagram (e.g. `READY=1`).
    pub fn send(&self, message: &str) -> std::io::Result<()> {
        let sock = UnixDatagram::unbound()?;
        match self {
            Self::Path(p) => sock.send_to(message.as_bytes(), p)?,
            Self::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                sock.send_to_addr(message.as_bytes(), &addr)?
            }
        };
        Ok(())
    }
}

/// The watchdog period systemd asks for (`WATCHDOG_USEC`), if it is meant for
/// this process (`WATCHDOG_PID` absent or ours).
pub fn watchdog_period(usec: Option<&str>, pid: Option<&str>, our_pid: u32) -> Option<Duration> {
    if let Some(p) = pid {
        if p.trim().parse::<u32>().ok() != Some(our_pid) {
            return None;
        }
    }
    let us: u64 = usec?.trim().parse().ok()?;
    (us > 0).then(|| Duration::from_micros(us))
}

/// Sans-IO liveness rule: ping only while the snapshot's generation stamp
/// keeps changing. Instants are monotonic ns passed in by the caller.
#[derive(Debug, Clone)]
pub struct Liveness {
    stale_after_ns: i64,
    last_stamp: Option<i64>,
    last_change_ns: i64,
}

impl Liveness {
    /// `period` is systemd's watchdog period; the snapshot counts as stale
    /// after half of it, so a stall is reported before systemd's deadline.
    pub fn new(period: Duration, now_ns: i64) -> Self {
        Self {
            stale_after_ns: i64::try_from(period.as_nanos() / 2).unwrap_or(i64::MAX),
            last_stamp: None,
            last_change_ns: now_ns,
        }
    }

    /// Feed the snapshot's `generated_at_ns` as seen at `now_ns`.
    pub fn observe(&mut self, now_ns: i64, generated_at_ns: i64) {
        if self.last_stamp != Some(generated_at_ns) {
            self.last_stamp = Some(generated_at_ns);
            self.last_change_ns = now_ns;
        }
    }

    /// Whether WATCHDOG=1 may be sent at `now_ns`.
    pub fn alive(&self, now_ns: i64) -> bool {
        now_ns.saturating_sub(self.last_change_ns) <= self.stale_after_ns
    }
}

/// Handle kept by `run` for the last message.
pub struct Notifier {
    addr: Option<NotifyAddr>,
}

impl Notifier {
    /// Tell systemd the daemon is shutting down (no-op outside systemd).
    pub fn stopping(&self) {
        if let Some(a) = &self.addr {
            let _ = a.send("STOPPING=1");
        }
    }
}

/// Send READY=1 and, when systemd asked for a watchdog, start the `watchdog`
/// part. Outside systemd (no `NOTIFY_SOCKET`) nothing happens.
pub fn start(svc: &mut Services) -> Notifier {
    let addr = std::env::var("NOTIFY_SOCKET")
        .ok()
        .and_then(|v| NotifyAddr::parse(&v));
    let Some(a) = addr.clone() else {
        return Notifier { addr };
    };
    if let Err(e) = a.send("READY=1") {
        tracing::warn!(error = %e, "sd_notify READY=1 failed");
    }
    let period = watchdog_period(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    );
    if let Some(period) = period {
        let rx = svc.snapshot_rx();
        svc.supervisor.spawn("watchdog", move |shutdown| {
            watchdog_loop(a.clone(), period, rx.clone(), shutdown)
        });
    }
    Notifier { addr }
}

async fn watchdog_loop(
    addr: NotifyAddr,
    period: Duration,
    rx: SnapshotRx,
    mut shutdown: super::Shutdown,
) -> anyhow::Result<()> {
    let origin = tokio::time::Instant::now();
    let mono_ns = || i64::try_from(origin.elapsed().as_nanos()).unwrap_or(i64::MAX);
    let mut live = Liveness::new(period, mono_ns());
    // Four chances per period: one late tick never costs a restart.
    let mut tick = tokio::time::interval(period / 4);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = super::supervisor::wait_true(&mut shutdown) => return Ok(()),
        }
        let now = mono_ns();
        live.observe(now, rx.borrow().generated_at_ns.unwrap_or(i64::MIN));
        if live.alive(now) {
            if let Err(e) = addr.send("WATCHDOG=1") {
                tracing::warn!(error = %e, "sd_notify WATCHDOG=1 failed");
            }
        } else {
            tracing::warn!("status snapshot stalled: withholding the systemd watchdog ping");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_notify_socket_values() {
        assert_eq!(
            NotifyAddr::parse("/run/systemd/notify"),
            Some(NotifyAddr::Path("/run/systemd/notify".into()))
        );
        assert_eq!(
            NotifyAddr::parse("@/org/systemd/x"),
            Some(NotifyAddr::Abstract(b"/org/systemd/x".to_vec()))
        );
        assert_eq!(NotifyAddr::parse(""), None);
        assert_eq!(NotifyAddr::parse("relative"), None);
    }

    #[test]
    fn watchdog_period_only_for_this_process() {
        let p = Some(Duration::from_secs(30));
        assert_eq!(watchdog_period(Some("30000000"), None, 7), p);
        assert_eq!(watchdog_period(Some("30000000"), Some("7"), 7), p);
        assert_eq!(watchdog_period(Some("30000000"), Some("8"), 7), None);
        assert_eq!(watchdog_period(Some("0"), None, 7), None);
        assert_eq!(watchdog_period(Some("x"), None, 7), None);
        assert_eq!(watchdog_period(None, None, 7), None);
    }

    #[test]
    fn liveness_follows_the_snapshot_stamp() {
        const S: i64 = 1_000_000_000;
        let mut l = Liveness::new(Duration::from_secs(30), 0);
        l.observe(0, 100);
        assert!(l.alive(15 * S), "within half the period");
        assert!(!l.alive(15 * S + 1), "stale after half the period");
        l.observe(16 * S, 101);
        assert!(l.alive(16 * S), "a new stamp revives it");
        l.observe(20 * S, 101);
        assert!(l.alive(31 * S));
        assert!(!l.alive(32 * S), "the same stamp again is no progress");
    }

    #[test]
    fn datagrams_reach_a_path_and_an_abstract_socket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify");
        let server = UnixDatagram::bind(&path).expect("bind");
        NotifyAddr::Path(path).send("READY=1").expect("send");
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"READY=1");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("gnss-timeserver-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .expect("abstract name");
        let server = UnixDatagram::bind_addr(&addr).expect("bind abstract");
        NotifyAddr::parse(&format!("@{name}"))
            .expect("parse")
            .send("WATCHDOG=1")
            .expect("send");
        let n = server.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"WATCHDOG=1");
    }
}
