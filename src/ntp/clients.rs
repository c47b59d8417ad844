//! Per-client state in one bounded table: rate limiting, interleaved-mode
//! timestamps and the client monitor. Fixed size whatever the number of
//! clients: a set-associative array (8 ways per set) split into mutex-guarded
//! shards; a new client evicts the least recently seen entry of its set. The
//! index is a keyed hash (random key per process) so senders cannot aim at one
//! set. Workers share one table because a client's packets may reach any
//! worker (chrony opens a new source port per request).
//!
//! Client clock estimate (monitor). The server sees only the request leg:
//! `one_way = client_tx - server_rx = offset - forward_delay`, so a one-way
//! estimate under-states a client that is ahead by the (unknown, >= 0) forward
//! delay. When the client echoes our previous transmit timestamp as its origin
//! (Windows Time in symmetric mode, ntpd) we have all four timestamps of the
//! previous exchange and compute the usual offset with a bound of ± half the
//! round-trip delay; that delay is then reused to centre later one-way
//! estimates (offset = one_way + delay/2 ± delay/2). Clients that randomize the
//! transmit timestamp (chrony) are detected: their one-way values jump by more
//! than clock drift allows, so no estimate is published for them.

use super::access::canonical;
use super::timestamp::NtpTimestamp;
use crate::time::{UnixNanos, NS_PER_SEC};
use serde::Serialize;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;

/// Cheap keyed hash of a client address (two multiply-xorshift rounds over
/// the address words, keyed with random per-process values so senders cannot
/// aim at one set). SipHash cost more than the rest of the table lookup.
#[derive(Debug, Clone, Copy)]
struct AddrHasher {
    k0: u64,
    k1: u64,
}

impl AddrHasher {
    fn random() -> Self {
        let s = RandomState::new();
        AddrHasher {
            k0: s.hash_one(0x5eed_u64) | 1,
            k1: s.hash_one(0xfeed_u64),
        }
    }

    fn hash(&self, addr: IpAddr) -> u64 {
        let (a, b) = match addr {
            IpAddr::V4(v4) => (u64::from(u32::from(v4)), 4),
            IpAddr::V6(v6) => {
                let x = u128::from(v6);
                ((x >> 64) as u64, x as u64)
            }
        };
        let mut h = (a ^ self.k0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^= h >> 32;
        h = (h ^ b ^ self.k1).wrapping_mul(0xd6e8_feb8_6659_fd93);
        h ^ (h >> 29)
    }
}
use std::sync::Mutex;

const WAYS: usize = 8;
const MAX_SHARDS: usize = 64;

/// Token-bucket style limit (GCRA): on average one request per `interval_ns`,
/// with bursts of up to `burst` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub interval_ns: i64,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    Serve,
    /// First request over the limit in this episode: answer with KoD RATE.
    Kod,
    Drop,
}

/// A change in a client's offset alarm (one per excursion, not per packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmChange {
    Raised {
        offset_ns: i64,
        bound_ns: Option<i64>,
    },
    Cleared {
        offset_ns: i64,
    },
}

/// A client address with its table hash (computed once per request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientKey {
    addr: IpAddr,
    hash: u64,
    /// Way of the set where `observe` found or put the client: `record_tx`
    /// looks there first (a hint; the entry may have been evicted since).
    way: u8,
}

impl ClientKey {
    pub fn addr(&self) -> IpAddr {
        self.addr
    }
}

/// What the table decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Key for later `record_tx` calls about this client.
    pub key: ClientKey,
    pub rate: RateVerdict,
    /// Previous response's transmit time when the reply can be interleaved.
    pub interleaved_tx_ns: Option<UnixNanos>,
    /// The client asked for an interleaved reply (its next request will too):
    /// worth a kernel transmit timestamp for this reply.
    pub asks_interleaved: bool,
    pub alarm: Option<AlarmChange>,
    /// The previous exchange measured with all four timestamps (the client
    /// echoed our transmit time), for the head-end watch.
    pub four: Option<super::watch::FourTimestamp>,
}

/// Request facts the table needs.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts {
    pub addr: IpAddr,
    pub rx_ns: UnixNanos,
    pub mode: u8,
    pub version: u8,
    pub origin: NtpTimestamp,
    pub receive: NtpTimestamp,
    pub transmit: NtpTimestamp,
    /// Receive timestamp that the reply will carry.
    pub reply_receive: NtpTimestamp,
    /// Whether to apply the rate limit (false for KoD-free paths).
    pub rate_limited: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    addr: Option<IpAddr>,
    first_seen_ns: i64,
    last_seen_ns: i64,
    requests: u64,
    mode: u8,
    version: u8,
    interval_ewma_ns: i64,
    // Rate limit: theoretical arrival time (GCRA) and KoD state.
    tat_ns: i64,
    kod_sent: bool,
    limited: u64,
    // Interleaved mode: receive timestamp sent in the last reply and the best
    // known transmit time of that reply (0 until recorded).
    xleave_rx: NtpTimestamp,
    xleave_tx_ns: i64,
    // Previous exchange, for four-timestamp offset measurement.
    prev_client_tx: NtpTimestamp,
    prev_rx_ns: i64,
    prev_reply_tx: NtpTimestamp,
    prev_reply_tx_ns: i64,
    // Monitor.
    prev_one_way_ns: Option<i64>,
    consistent: u8,
    delay_ns: Option<i64>,
    offset_ns: Option<i64>,
    offset_bound_ns: Option<i64>,
    alarmed: bool,
}

impl Entry {
    fn record_tx(
        &mut self,
        reply_receive: NtpTimestamp,
        tx_ns: UnixNanos,
        wire_transmit: Option<NtpTimestamp>,
    ) {
        // Only the latest reply to the client counts (an older one's TX
        // time arriving late must not overwrite it).
        if self.xleave_rx == reply_receive {
            self.xleave_tx_ns = tx_ns;
            if let Some(w) = wire_transmit {
                self.prev_reply_tx = w;
                self.prev_reply_tx_ns = w.to_unix_nanos(tx_ns);
            }
        }
    }
}

/// The way of `key`'s client in its set: the remembered way first, then a
/// scan.
#[inline]
fn find_way(set: &[Entry], key: &ClientKey) -> Option<usize> {
    let addr = Some(key.addr);
    let hint = usize::from(key.way) % WAYS;
    if set.get(hint).is_some_and(|e| e.addr == addr) {
        Some(hint)
    } else {
        set.iter().position(|e| e.addr == addr)
    }
}

/// When one reply left, for [`ClientTable::record_tx_batch`].
#[derive(Debug, Clone, Copy)]
pub struct TxRecord {
    pub key: ClientKey,
    pub reply_receive: NtpTimestamp,
    pub tx_ns: UnixNanos,
    pub wire_transmit: Option<NtpTimestamp>,
}

/// One client as shown in the status snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientInfo {
    pub addr: String,
    pub first_seen_ns: i64,
    pub last_seen_ns: i64,
    pub requests: u64,
    pub rate_limited: u64,
    pub mode: u8,
    pub version: u8,
    /// Smoothed interval between requests (ns); 0 until two requests seen.
    pub interval_ns: i64,
    /// log2 seconds of `interval_ns` (the observed poll), when known.
    pub observed_poll: Option<i8>,
    /// Client clock minus server clock, when the client sends its real clock.
    pub offset_ns: Option<i64>,
    /// Half the path delay when known; `None` for a one-way estimate whose
    /// true value is larger by the unknown forward delay.
    pub offset_bound_ns: Option<i64>,
    pub offset_alarm: bool,
}

struct Shard {
    entries: Box<[Entry]>,
    /// Indices of the entries that hold a client, in the order they were
    /// first filled. An entry never empties again (a new client replaces
    /// the evicted one in place), so this only grows, to at most the shard's
    /// size; it lets the status walk the clients instead of every slot.
    occupied: Vec<u32>,
}

pub struct ClientTable {
    shards: Box<[Mutex<Shard>]>,
    sets_per_shard: usize,
    hasher: AddrHasher,
    rate: Option<RateLimit>,
    alarm_threshold_ns: Option<i64>,
    evictions: std::sync::atomic::AtomicU64,
    /// Shard locks that were held by another worker when asked for.
    contended: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for ClientTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTable")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

/// Two requests closer than this say nothing about the client's clock: the
/// 100 ms allowance below would pass a clock that stands still or a random
/// cookie that happens to land near the last one, which a flooder sending
/// thousands of requests a second eventually produces (an offset of 9 years
/// was once raised as an alarm that way). Such pairs never build trust; an
/// implausible pair still resets it.
const MIN_CONSISTENT_SPACING_NS: i64 = NS_PER_SEC / 2;

/// Drift allowance when judging whether a client's transmit timestamps are a
/// real clock: 100 ms plus 500 ppm of the time between requests.
fn plausible_step(prev: i64, now: i64, elapsed_ns: i64) -> bool {
    let allowance = 100_000_000 + elapsed_ns.max(0) / 2_000;
    (now - prev).abs() <= allowance
}

impl ClientTable {
    /// `capacity` is rounded up to a power of two (at least 64 entries).
    pub fn new(capacity: usize, rate: Option<RateLimit>, alarm_threshold_ns: Option<i64>) -> Self {
        let cap = capacity.clamp(64, 1 << 24).next_power_of_two();
        let sets = cap / WAYS;
        let shards = sets.min(MAX_SHARDS);
        let sets_per_shard = sets / shards;
        let shards = (0..shards)
            .map(|_| {
                Mutex::new(Shard {
                    entries: vec![Entry::default(); sets_per_shard * WAYS].into_boxed_slice(),
                    occupied: Vec::new(),
                })
            })
            .collect();
        ClientTable {
            shards,
            sets_per_shard,
            hasher: AddrHasher::random(),
            rate,
            alarm_threshold_ns,
            evictions: Default::default(),
            contended: Default::default(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.shards.len() * self.sets_per_shard * WAYS
    }

    pub fn evictions(&self) -> u64 {
        self.evictions.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Times a worker found a shard locked by another (lock contention).
    pub fn contended(&self) -> u64 {
        self.contended.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Lock a shard, counting the times another worker held it.
    fn lock_shard<'a>(&self, shard: &'a Mutex<Shard>) -> std::sync::MutexGuard<'a, Shard> {
        match shard.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                self.contended
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                shard.lock().unwrap_or_else(|p| p.into_inner())
            }
        }
    }

    /// The key of `addr` (IPv4-mapped IPv6 folded to IPv4).
    pub fn key(&self, addr: IpAddr) -> ClientKey {
        let addr = canonical(addr);
        ClientKey {
            addr,
            hash: self.hasher.hash(addr),
            way: 0,
        }
    }

    fn locate(&self, key: &ClientKey) -> (usize, usize) {
        // Shard and set counts are powers of two (see `new`).
        let h = key.hash as usize;
        let shard = h & (self.shards.len() - 1);
        let set = (h >> self.shards.len().trailing_zeros()) & (self.sets_per_shard - 1);
        (shard, set * WAYS)
    }

    /// Run `f` on the entry of `addr` (with its way in the set); `create`
    /// decides whether a missing entry is made (evicting the least recently
    /// seen of its set).
    fn with_entry<R>(
        &self,
        key: ClientKey,
        create: bool,
        f: impl FnOnce(&mut Entry, bool, u8) -> R,
    ) -> Option<R> {
        let addr = Some(key.addr);
        let (s, base) = self.locate(&key);
        let shard = self.shards.get(s)?;
        let mut guard = self.lock_shard(shard);
        let Shard { entries, occupied } = &mut *guard;
        let set = entries.get_mut(base..base + WAYS)?;
        if let Some(w) = find_way(set, &key) {
            return set.get_mut(w).map(|e| f(e, false, w as u8));
        }
        if !create {
            return None;
        }
        let (w, victim) = set.iter_mut().enumerate().min_by_key(|(_, e)| {
            if e.addr.is_none() {
                i64::MIN
            } else {
                e.last_seen_ns
            }
        })?;
        if victim.addr.is_some() {
            self.evictions
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else {
            occupied.push((base + w) as u32);
        }
        *victim = Entry {
            addr,
            ..Entry::default()
        };
        Some(f(victim, true, w as u8))
    }

    /// Account one request and decide rate limiting, interleaving and alarms.
    pub fn observe(&self, r: &RequestFacts) -> Observation {
        let rate = self.rate;
        let threshold = self.alarm_threshold_ns;
        let mut key = self.key(r.addr);
        self.with_entry(key, true, |e, fresh, way| {
            key.way = way;
            let now = r.rx_ns;
            if fresh {
                e.first_seen_ns = now;
            } else {
                let gap = now.saturating_sub(e.last_seen_ns);
                if gap > 0 {
                    e.interval_ewma_ns = if e.interval_ewma_ns == 0 {
                        gap
                    } else {
                        e.interval_ewma_ns + (gap - e.interval_ewma_ns) / 4
                    };
                }
            }
            let elapsed = now.saturating_sub(e.last_seen_ns);
            e.last_seen_ns = now;
            e.requests += 1;
            e.mode = r.mode;
            e.version = r.version;

            let verdict = match (rate, r.rate_limited) {
                (Some(rl), true) => {
                    let t = rl.interval_ns.max(1);
                    let tau = t.saturating_mul(i64::from(rl.burst.max(1)) - 1);
                    if e.tat_ns < now {
                        e.tat_ns = now;
                    }
                    if e.tat_ns - now > tau {
                        e.limited += 1;
                        if e.kod_sent {
                            RateVerdict::Drop
                        } else {
                            e.kod_sent = true;
                            RateVerdict::Kod
                        }
                    } else {
                        e.tat_ns = e.tat_ns.saturating_add(t);
                        e.kod_sent = false;
                        RateVerdict::Serve
                    }
                }
                _ => RateVerdict::Serve,
            };

            // Interleaved mode (as chrony serves it): the client's origin equals
            // the receive timestamp of our previous reply and its receive and
            // transmit timestamps differ.
            let mut interleaved_tx_ns = None;
            let mut asks_interleaved = false;
            if verdict == RateVerdict::Serve {
                let asks =
                    !e.xleave_rx.is_zero() && r.origin == e.xleave_rx && r.receive != r.transmit;
                asks_interleaved = asks;
                if asks && e.xleave_tx_ns != 0 {
                    interleaved_tx_ns = Some(e.xleave_tx_ns);
                }
                e.xleave_rx = r.reply_receive;
                e.xleave_tx_ns = 0;
            }

            // Monitor: four-timestamp measurement of the previous exchange
            // when the client echoes our transmit timestamp.
            let mut four = None;
            if !e.prev_reply_tx.is_zero() && r.origin == e.prev_reply_tx && !r.receive.is_zero() {
                let t1 = e.prev_client_tx.to_unix_nanos(e.prev_rx_ns);
                let t2 = e.prev_rx_ns;
                let t3 = e.prev_reply_tx_ns;
                let t4 = r.receive.to_unix_nanos(t3);
                four = super::watch::FourTimestamp::from_times(t1, t2, t3, t4);
                if let Some(f) = four {
                    e.delay_ns = Some(f.delay_ns);
                }
            }
            let one_way = if r.transmit.is_zero() {
                None
            } else {
                Some(r.transmit.to_unix_nanos(now) - now)
            };
            match (e.prev_one_way_ns, one_way) {
                (Some(p), Some(o)) if plausible_step(p, o, elapsed) => {
                    if elapsed >= MIN_CONSISTENT_SPACING_NS {
                        e.consistent = e.consistent.saturating_add(1)
                    }
                }
                _ => e.consistent = 0,
            }
            e.prev_one_way_ns = one_way;
            e.prev_client_tx = r.transmit;
            e.prev_rx_ns = now;
            let mut alarm = None;
            if let (Some(o), true) = (one_way, e.consistent >= 1) {
                let (offset, bound) = match e.delay_ns {
                    Some(d) => (o + d / 2, Some(d / 2)),
                    None => (o, None),
                };
                e.offset_ns = Some(offset);
                e.offset_bound_ns = bound;
                if let Some(th) = threshold {
                    if !e.alarmed && offset.abs() > th {
                        e.alarmed = true;
                        alarm = Some(AlarmChange::Raised {
                            offset_ns: offset,
                            bound_ns: bound,
                        });
                    } else if e.alarmed && offset.abs() < th / 2 {
                        e.alarmed = false;
                        alarm = Some(AlarmChange::Cleared { offset_ns: offset });
                    }
                }
            } else if e.consistent == 0 {
                e.offset_ns = None;
                e.offset_bound_ns = None;
            }
            Observation {
                key,
                rate: verdict,
                interleaved_tx_ns,
                asks_interleaved,
                alarm,
                four,
            }
        })
        .unwrap_or(Observation {
            key,
            rate: RateVerdict::Serve,
            interleaved_tx_ns: None,
            asks_interleaved: false,
            alarm: None,
            four: None,
        })
    }

    /// Record when the reply carrying receive timestamp `reply_receive` left:
    /// the daemon's own reading right after sending, then (better) the
    /// kernel's transmit timestamp. `wire_transmit` is the transmit timestamp
    /// the reply carried, for the four-timestamp monitor measurement.
    pub fn record_tx(
        &self,
        key: ClientKey,
        reply_receive: NtpTimestamp,
        tx_ns: UnixNanos,
        wire_transmit: Option<NtpTimestamp>,
    ) {
        self.with_entry(key, false, |e, _, _| {
            e.record_tx(reply_receive, tx_ns, wire_transmit)
        });
    }

    /// `record_tx` for the replies of one sent batch, in order. Consecutive
    /// replies to clients in the same shard share one lock: a burst from one
    /// source (a NAT gateway, a load generator) costs one lock per batch,
    /// distinct clients one per reply as with `record_tx`.
    pub fn record_tx_batch(&self, records: &[TxRecord]) {
        let mut held: Option<(usize, std::sync::MutexGuard<'_, Shard>)> = None;
        for r in records {
            let (s, base) = self.locate(&r.key);
            if held.as_ref().map(|h| h.0) != Some(s) {
                held = None; // one shard lock at a time
                let Some(shard) = self.shards.get(s) else {
                    continue;
                };
                held = Some((s, self.lock_shard(shard)));
            }
            let Some((_, guard)) = held.as_mut() else {
                continue;
            };
            let Some(set) = guard.entries.get_mut(base..base + WAYS) else {
                continue;
            };
            if let Some(e) = find_way(set, &r.key).and_then(|w| set.get_mut(w)) {
                e.record_tx(r.reply_receive, r.tx_ns, r.wire_transmit);
            }
        }
    }

    /// Number of clients currently in the table.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).occupied.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `n` clients with the most requests (ties: lower address first).
    /// Walks the clients present, not the table's slots, and formats only
    /// the `n` it returns: the once-a-second status costs what the clients
    /// cost, not what the capacity does.
    pub fn top(&self, n: usize) -> Vec<ClientInfo> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        if n == 0 {
            return Vec::new();
        }
        // Min-heap of the best n so far: (requests, Reverse(addr), shard, index).
        type Rank = (u64, Reverse<IpAddr>, usize, u32);
        let n = n.min(self.capacity());
        let mut best: BinaryHeap<Reverse<Rank>> = BinaryHeap::with_capacity(n + 1);
        for (si, s) in self.shards.iter().enumerate() {
            let g = s.lock().unwrap_or_else(|p| p.into_inner());
            for &i in &g.occupied {
                let Some(e) = g.entries.get(i as usize) else {
                    continue;
                };
                let Some(addr) = e.addr else { continue };
                let rank = (e.requests, Reverse(addr), si, i);
                if best.len() == n {
                    match best.peek() {
                        Some(Reverse(worst)) if (worst.0, worst.1) < (rank.0, rank.1) => {
                            best.pop();
                        }
                        _ => continue,
                    }
                }
                best.push(Reverse(rank));
            }
        }
        let mut winners: Vec<Rank> = best.into_iter().map(|Reverse(r)| r).collect();
        winners.sort_by_key(|r| Reverse((r.0, r.1)));
        winners
            .into_iter()
            .filter_map(|(_, Reverse(addr), si, i)| {
                let g = self
                    .shards
                    .get(si)?
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let e = g.entries.get(i as usize).filter(|e| e.addr == Some(addr))?;
                Some(client_info(addr, e))
            })
            .collect()
    }
}

fn client_info(addr: IpAddr, e: &Entry) -> ClientInfo {
    let observed_poll = (e.interval_ewma_ns > 0).then(|| {
        (e.interval_ewma_ns as f64 / NS_PER_SEC as f64)
            .log2()
            .round() as i8
    });
    ClientInfo {
        addr: addr.to_string(),
        first_seen_ns: e.first_seen_ns,
        last_seen_ns: e.last_seen_ns,
        requests: e.requests,
        rate_limited: e.limited,
        mode: e.mode,
        version: e.version,
        interval_ns: e.interval_ewma_ns,
        observed_poll,
        offset_ns: e.offset_ns,
        offset_bound_ns: e.offset_bound_ns,
        offset_alarm: e.alarmed,
    }
}

#[cfg(test)]
#[path = "clients_tests.rs"]
mod tests;
