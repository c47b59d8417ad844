//! Hand-over from the NTP workers to the watch: two bounded channels, a
//! `try_send` per request (never blocks; a full channel counts a drop). The
//! watched prefixes get their own channel, so a flood of strangers filling
//! the general one cannot hide a watched client's requests.

use super::WatchObservation;
use crate::cidr::Cidr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// Observations buffered between two drains (once a second).
const WATCHED_CAPACITY: usize = 4096;
const GENERAL_CAPACITY: usize = 8192;

#[derive(Debug, Clone)]
pub struct WatchFeed {
    watched: SyncSender<WatchObservation>,
    general: SyncSender<WatchObservation>,
    prefixes: Arc<[Cidr]>,
    dropped: Arc<AtomicU64>,
}

#[derive(Debug)]
pub struct WatchInbox {
    watched: Receiver<WatchObservation>,
    general: Receiver<WatchObservation>,
    dropped: Arc<AtomicU64>,
}

/// A feed for the workers and the inbox the watch drains.
pub fn channel(prefixes: Vec<Cidr>) -> (WatchFeed, WatchInbox) {
    let (wt, wr) = sync_channel(WATCHED_CAPACITY);
    let (gt, gr) = sync_channel(GENERAL_CAPACITY);
    let dropped = Arc::new(AtomicU64::new(0));
    (
        WatchFeed {
            watched: wt,
            general: gt,
            prefixes: prefixes.into(),
            dropped: dropped.clone(),
        },
        WatchInbox {
            watched: wr,
            general: gr,
            dropped,
        },
    )
}

impl WatchFeed {
    #[inline]
    pub fn push(&self, o: WatchObservation) {
        let tx = if self.prefixes.iter().any(|p| p.contains(o.addr)) {
            &self.watched
        } else {
            &self.general
        };
        if tx.try_send(o).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl WatchInbox {
    /// Everything waiting, watched clients first.
    pub fn drain(&self, mut f: impl FnMut(&WatchObservation)) {
        for o in self.watched.try_iter() {
            f(&o);
        }
        for o in self.general.try_iter() {
            f(&o);
        }
    }

    /// Observations lost to a full channel.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
