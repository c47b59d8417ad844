//! Runs named tasks and restarts a failing one with exponential backoff, so
//! one failing part never takes down the others. Shutdown is a `watch<bool>`
//! every task receives; a task returning `Ok(())` is finished for good.

use crate::backoff::{Backoff, Delays};
use crate::events::{Event, EventKind, EventSink};
use crate::liveness::{Heartbeat, PartState, Parts};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// When a failed task starts again: after the next of `backoff`'s delays,
/// which start over after a run that lasted `reset_after` (the failure was
/// not a tight loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    pub backoff: Backoff,
    pub reset_after: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
            reset_after: Duration::from_secs(60),
        }
    }
}

impl RestartPolicy {
    /// The delay before the next start, given how long the failed run lasted.
    pub fn next_delay(&self, delays: &mut Delays, ran_for: Duration) -> Duration {
        if ran_for >= self.reset_after {
            delays.reset();
        }
        delays.next_delay()
    }
}

pub use crate::shutdown::{wait_true, Shutdown};

pub struct Supervisor {
    shutdown_tx: watch::Sender<bool>,
    tasks: JoinSet<()>,
    events: EventSink,
    restart: RestartPolicy,
    parts: Parts,
}

impl Supervisor {
    pub fn new(events: EventSink) -> Self {
        Self::with_restart(events, RestartPolicy::default())
    }

    pub fn with_restart(events: EventSink, restart: RestartPolicy) -> Self {
        let (shutdown_tx, _) = watch::channel(false);
        Self {
            shutdown_tx,
            tasks: JoinSet::new(),
            events,
            restart,
            parts: Parts::default(),
        }
    }

    /// The liveness registry: supervised tasks are in it, and threads
    /// started beside them register there too.
    pub fn parts(&self) -> Parts {
        self.parts.clone()
    }

    /// A receiver that turns true when shutdown begins.
    pub fn shutdown_signal(&self) -> Shutdown {
        self.shutdown_tx.subscribe()
    }

    /// Run `make(shutdown)` as task `name`; when it fails (error or panic),
    /// log an event and start it again after the backoff delay.
    /// The task is event-driven: never shown as stalled.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, make: F)
    where
        F: FnMut(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.spawn_with_period(name, None, make);
    }

    /// `spawn` for a task that wakes at least every `period` when healthy
    /// (a timer in its loop): shown as stalled after a few silent periods.
    /// Every poll of the task is a heartbeat.
    pub fn spawn_with_period<F, Fut>(
        &mut self,
        name: &'static str,
        period: Option<Duration>,
        mut make: F,
    ) where
        F: FnMut(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let hb = self.parts.register(name, period);
        let mut shutdown = self.shutdown_tx.subscribe();
        let events = self.events.clone();
        let restart = self.restart;
        self.tasks.spawn(async move {
            let mut delays = restart.backoff.delays();
            let mut restarts: u64 = 0;
            loop {
                let started = tokio::time::Instant::now();
                // A separate tokio task, so a panic is caught as a JoinError.
                let result = tokio::spawn(Beating {
                    inner: Box::pin(make(shutdown.clone())),
                    hb: hb.clone(),
                })
                .await;
                let failure = match result {
                    Ok(Ok(())) => {
                        tracing::debug!(task = name, "task finished");
                        hb.set_state(PartState::Stopped);
                        return;
                    }
                    Ok(Err(e)) => format!("{e:#}"),
                    Err(e) if e.is_panic() => "panicked".to_string(),
                    Err(e) => e.to_string(),
                };
                if *shutdown.borrow() {
                    hb.set_state(PartState::Stopped);
                    return;
                }
                let d = restart.next_delay(&mut delays, started.elapsed());
                restarts += 1;
                hb.restarting(failure.clone());
                events.emit(Event::now(EventKind::PartRestart {
                    part: name.to_string(),
                    error: failure.to_string(),
                    restarts,
                    delay_ms: u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
                }));
                tokio::select! {
                    _ = tokio::time::sleep(d) => hb.restarted(),
                    _ = wait_true(&mut shutdown) => {
                        hb.set_state(PartState::Stopped);
                        return;
                    }
                }
            }
        });
    }

    /// Signal shutdown and wait up to `grace` for every task to end; tasks
    /// still running then are aborted.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.shutdown_tx.send(true);
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("tasks still running after {grace:?}; aborting them");
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

/// A task's future that beats its heartbeat on every poll.
struct Beating<Fut> {
    inner: Pin<Box<Fut>>,
    hb: Heartbeat,
}

impl<Fut: Future> Future for Beating<Fut> {
    type Output = Fut::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.hb.beat();
        self.inner.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[test]
    fn restart_delays_start_over_after_a_long_run() {
        let p = RestartPolicy {
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(8)),
            reset_after: Duration::from_secs(60),
        };
        let mut d = p.backoff.delays();
        let short = Duration::from_secs(1);
        let seen: Vec<u64> = (0..6)
            .map(|_| p.next_delay(&mut d, short).as_secs())
            .collect();
        assert_eq!(seen, vec![1, 2, 4, 8, 8, 8]);
        assert_eq!(p.next_delay(&mut d, Duration::from_secs(120)).as_secs(), 1);
        assert_eq!(p.next_delay(&mut d, short).as_secs(), 2);
    }

    #[tokio::test]
    async fn failing_task_is_restarted_others_keep_running() {
        let (sink, mut rx) = EventSink::channel(64);
        let restart = RestartPolicy {
            backoff: Backoff::new(Duration::from_millis(1), Duration::from_millis(4)),
            reset_after: Duration::from_secs(60),
        };
        let mut sup = Supervisor::with_restart(sink, restart);
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        sup.spawn("flaky", move |_| {
            let n = r.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 => anyhow::bail!("first failure"),
                    1 => panic!("second failure"),
                    _ => Ok(()),
                }
            }
        });
        let steady_stopped = Arc::new(AtomicU32::new(0));
        let s = steady_stopped.clone();
        sup.spawn("steady", move |mut shutdown| {
            let s = s.clone();
            async move {
                wait_true(&mut shutdown).await;
                s.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
        let mut restarts = Vec::new();
        for _ in 0..2 {
            let ev = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .unwrap()
                .unwrap();
            restarts.push(ev);
        }
        assert!(restarts.iter().all(|e| e.kind == "part.restart"));
        assert!(restarts[0].message().contains("first failure"));
        assert!(restarts[1].message().contains("panicked"));
        // The third run succeeds right after the second backoff.
        for _ in 0..1000 {
            if runs.load(Ordering::SeqCst) == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sup.shutdown(Duration::from_secs(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(steady_stopped.load(Ordering::SeqCst), 1);
    }
}
