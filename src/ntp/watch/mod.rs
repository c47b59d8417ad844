//! Head-end watch: per-client EXE / WARN / FAIL for the clients that matter
//! (configured `[[ntp.watch]]` rules) and for every other client seen
//! (learned, bounded). A sans-IO core: [`Watch::observe`] takes one request's
//! facts, [`Watch::tick`] takes the time and returns the state changes;
//! nothing here reads a clock or a socket. The NTP workers hand observations
//! over through [`feed`] (bounded channels, never blocking the hot path); the
//! daemon drains them and ticks once a second.
//!
//! - [`offset`]: four-timestamp / one-way / unknown offset estimates.
//! - [`interval`]: poll-interval learning and the irregular-polling rule.
//! - [`health`]: the EXE / WARN / FAIL rules.
//! - [`feed`]: the workers' side of the hand-over.

pub mod feed;
pub mod health;
pub mod interval;
pub mod offset;

#[cfg(test)]
mod tests;

use crate::cidr::Cidr;
use crate::time::NS_PER_SEC;
pub use health::{WatchReason, WatchState};
use interval::PollLearner;
use offset::OffsetTracker;
pub use offset::{Estimate, FourTimestamp, OffsetMethod};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Addresses one CIDR rule tracks at most (beyond: learned like others), so
/// a flood of sources inside a watched prefix cannot grow the table.
pub const MAX_PER_RULE: usize = 64;
/// Offset tolerance of learned clients when no client offset alarm is set.
pub const DEFAULT_TOLERANCE_NS: i64 = 100_000_000;
/// Points of offset / poll-interval history kept per client (for the panel).
pub const HISTORY_POINTS: usize = 128;

/// One `[[ntp.watch]]` rule as the core takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchRule {
    pub name: String,
    pub target: Cidr,
    /// `None`: learn it.
    pub interval_ns: Option<i64>,
    pub tolerance_ns: i64,
}

impl WatchRule {
    fn is_host(&self) -> bool {
        let full = if self.target.addr().is_ipv4() {
            32
        } else {
            128
        };
        self.target.prefix() == full
    }

    /// The rule as configured (`10.0.0.5` or `10.0.0.0/24`).
    fn text(&self) -> String {
        if self.is_host() {
            self.target.addr().to_string()
        } else {
            self.target.to_string()
        }
    }
}

/// The core's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchParams {
    pub rules: Vec<WatchRule>,
    /// Learned (not configured) clients kept at most.
    pub learned_max: usize,
    /// Offset tolerance for learned clients.
    pub learned_tolerance_ns: i64,
}

/// One request as the watch sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchObservation {
    pub addr: IpAddr,
    pub port: u16,
    pub rx_ns: i64,
    pub mode: u8,
    pub version: u8,
    /// The client's transmit timestamp resolved to ns (`None` when zero).
    pub client_tx_ns: Option<i64>,
    /// Root dispersion the client claims, ns.
    pub root_dispersion_ns: i64,
    pub four: Option<FourTimestamp>,
    /// Answered with KoD RATE.
    pub kod: bool,
}

/// One row of `ntp.watch` (a contract: the snmp and web helpers render it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchRow {
    pub name: Option<String>,
    pub address: String,
    pub rule: Option<String>,
    pub expected: bool,
    pub state: WatchState,
    pub reasons: Vec<WatchReason>,
    pub since_ns: i64,
    pub last_seen_ns: Option<i64>,
    pub requests: u64,
    pub mode: Option<u8>,
    pub version: Option<u8>,
    /// Observed poll interval (learned median of recent gaps), seconds.
    pub interval_s: Option<f64>,
    /// Configured interval, or the learned one for `interval_s = "learn"`.
    pub expected_interval_s: Option<f64>,
    pub tolerance_ns: i64,
    /// Client clock minus ours (positive: the client is ahead).
    pub offset_ns: Option<i64>,
    pub offset_uncertainty_ns: Option<i64>,
    pub offset_method: OffsetMethod,
}

/// `ntp.watch_summary`: counts over expected clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchSummary {
    pub exe: u32,
    pub warn: u32,
    pub fail: u32,
}

/// A state change of an expected client, with the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub at_ns: i64,
    pub name: Option<String>,
    pub address: String,
    pub from: WatchState,
    pub to: WatchState,
    pub reasons: Vec<WatchReason>,
    pub last_seen_ns: Option<i64>,
    pub interval_s: Option<f64>,
    pub offset: Estimate,
}

/// One point of a client's history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    pub t_ns: i64,
    pub offset_ns: Option<i64>,
    pub offset_uncertainty_ns: Option<i64>,
    /// Gap since the previous request, seconds.
    pub interval_s: Option<f64>,
}

#[derive(Debug, Clone, Default)]
struct Client {
    addr: Option<IpAddr>,
    rule: Option<usize>,
    last_seen_ns: Option<i64>,
    requests: u64,
    mode: Option<u8>,
    version: Option<u8>,
    poll: PollLearner,
    offset: OffsetTracker,
    last_kod_ns: Option<i64>,
    state: WatchState,
    reasons: Vec<WatchReason>,
    since_ns: i64,
    history: VecDeque<HistoryPoint>,
}

impl Client {
    fn observe(&mut self, o: &WatchObservation) {
        let gap = self.poll.on_request(o.rx_ns);
        self.last_seen_ns = Some(self.last_seen_ns.map_or(o.rx_ns, |l| l.max(o.rx_ns)));
        self.requests = self.requests.saturating_add(1);
        self.mode = Some(o.mode);
        self.version = Some(o.version);
        if o.kod {
            self.last_kod_ns = Some(o.rx_ns);
        }
        let e = self
            .offset
            .on_request(o.rx_ns, o.client_tx_ns, o.four, o.root_dispersion_ns);
        if self.history.len() >= HISTORY_POINTS {
            self.history.pop_front();
        }
        self.history.push_back(HistoryPoint {
            t_ns: o.rx_ns,
            offset_ns: e.offset_ns,
            offset_uncertainty_ns: e.uncertainty_ns,
            interval_s: gap.map(secs),
        });
    }
}

fn secs(ns: i64) -> f64 {
    ns as f64 / NS_PER_SEC as f64
}

/// The watch table: expected clients (never evicted) and learned ones
/// (bounded, least recently seen evicted).
#[derive(Debug)]
pub struct Watch {
    params: WatchParams,
    start_ns: i64,
    /// Expected clients in rule order; a CIDR rule's first entry has no
    /// address until a client inside it is seen.
    watched: Vec<Client>,
    learned: HashMap<IpAddr, Client>,
    evicted: u64,
}

impl Watch {
    pub fn new(params: WatchParams, start_ns: i64) -> Self {
        let watched = params
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| Client {
                addr: r.is_host().then(|| r.target.addr()),
                rule: Some(i),
                since_ns: start_ns,
                ..Client::default()
            })
            .collect();
        Watch {
            params,
            start_ns,
            watched,
            learned: HashMap::new(),
            evicted: 0,
        }
    }

    /// The rule index covering `addr`, if any (first match wins).
    pub fn rule_of(&self, addr: IpAddr) -> Option<usize> {
        self.params
            .rules
            .iter()
            .position(|r| r.target.contains(addr))
    }

    /// Learned clients evicted to make room so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Account one request.
    pub fn observe(&mut self, o: &WatchObservation) {
        let addr = crate::ntp::access::canonical(o.addr);
        if let Some(c) = self.watched.iter_mut().find(|c| c.addr == Some(addr)) {
            return c.observe(o);
        }
        if let Some(ri) = self.rule_of(addr) {
            if let Some(c) = self
                .watched
                .iter_mut()
                .find(|c| c.rule == Some(ri) && c.addr.is_none())
            {
                c.addr = Some(addr);
                return c.observe(o);
            }
            let n = self.watched.iter().filter(|c| c.rule == Some(ri)).count();
            if n < MAX_PER_RULE {
                let mut c = Client {
                    addr: Some(addr),
                    rule: Some(ri),
                    since_ns: o.rx_ns,
                    ..Client::default()
                };
                c.observe(o);
                // Keep a rule's clients together, in rule order.
                let at = self
                    .watched
                    .iter()
                    .rposition(|c| c.rule == Some(ri))
                    .map_or(self.watched.len(), |p| p + 1);
                self.watched.insert(at, c);
                return;
            }
        }
        if self.params.learned_max == 0 {
            return;
        }
        if !self.learned.contains_key(&addr) && self.learned.len() >= self.params.learned_max {
            let victim = self
                .learned
                .iter()
                .min_by_key(|(a, c)| (c.last_seen_ns, **a))
                .map(|(a, _)| *a);
            if let Some(v) = victim {
                self.learned.remove(&v);
                self.evicted += 1;
            }
        }
        self.learned
            .entry(addr)
            .or_insert_with(|| Client {
                addr: Some(addr),
                since_ns: o.rx_ns,
                ..Client::default()
            })
            .observe(o);
    }

    fn facts(&self, c: &Client, now_ns: i64) -> health::Facts {
        let rule = c.rule.and_then(|i| self.params.rules.get(i));
        let configured = rule.and_then(|r| r.interval_ns);
        let deadline = configured.unwrap_or_else(|| {
            // Learned: the longer of the learned median and the longest
            // recent gap, so a client that moved to a longer poll is late
            // only by its own new standard.
            match (c.poll.learned_ns(), c.poll.longest_ns()) {
                (Some(m), Some(l)) => m.max(l),
                _ => health::UNLEARNED_INTERVAL_NS,
            }
        });
        health::Facts {
            expected: rule.is_some(),
            now_ns,
            start_ns: self.start_ns,
            last_seen_ns: c.last_seen_ns,
            deadline_interval_ns: deadline.max(1),
            irregular: c.poll.irregular(configured),
            mode: c.mode,
            version: c.version,
            last_kod_ns: c.last_kod_ns,
            offset_ns: c.offset.estimate().offset_ns,
            tolerance_ns: rule.map_or(self.params.learned_tolerance_ns, |r| r.tolerance_ns),
        }
    }

    /// Re-judge every client at `now_ns`; the state changes of expected
    /// clients (learned ones change silently: a flood of strangers must
    /// not flood the event log).
    pub fn tick(&mut self, now_ns: i64) -> Vec<StateChange> {
        let mut changes = Vec::new();
        let judged: Vec<_> = self
            .watched
            .iter()
            .map(|c| health::judge(&self.facts(c, now_ns)))
            .collect();
        for (i, (state, reasons)) in judged.into_iter().enumerate() {
            let Some(c) = self.watched.get_mut(i) else {
                continue;
            };
            if state != c.state {
                let name = c
                    .rule
                    .and_then(|r| self.params.rules.get(r))
                    .map(|r| r.name.clone());
                let address = match c.addr {
                    Some(a) => a.to_string(),
                    None => c
                        .rule
                        .and_then(|r| self.params.rules.get(r))
                        .map(WatchRule::text)
                        .unwrap_or_default(),
                };
                changes.push(StateChange {
                    at_ns: now_ns,
                    name,
                    address,
                    from: c.state,
                    to: state,
                    reasons: reasons.clone(),
                    last_seen_ns: c.last_seen_ns,
                    interval_s: c.poll.learned_ns().map(secs),
                    offset: c.offset.estimate(),
                });
                c.state = state;
                c.since_ns = now_ns;
            }
            c.reasons = reasons;
        }
        let learned: Vec<_> = self
            .learned
            .iter()
            .map(|(a, c)| (*a, health::judge(&self.facts(c, now_ns))))
            .collect();
        for (a, (state, reasons)) in learned {
            if let Some(c) = self.learned.get_mut(&a) {
                if state != c.state {
                    c.state = state;
                    c.since_ns = now_ns;
                }
                c.reasons = reasons;
            }
        }
        changes
    }

    fn row(&self, c: &Client) -> WatchRow {
        let rule = c.rule.and_then(|i| self.params.rules.get(i));
        let e = c.offset.estimate();
        let learned = c.poll.learned_ns();
        WatchRow {
            name: rule.map(|r| r.name.clone()),
            address: match (c.addr, rule) {
                (Some(a), _) => a.to_string(),
                (None, Some(r)) => r.text(),
                (None, None) => String::new(),
            },
            rule: rule.map(WatchRule::text),
            expected: rule.is_some(),
            state: c.state,
            reasons: c.reasons.clone(),
            since_ns: c.since_ns,
            last_seen_ns: c.last_seen_ns,
            requests: c.requests,
            mode: c.mode,
            version: c.version,
            interval_s: learned.map(secs),
            expected_interval_s: rule
                .and_then(|r| r.interval_ns)
                .or(if rule.is_some() { learned } else { None })
                .map(secs),
            tolerance_ns: rule.map_or(self.params.learned_tolerance_ns, |r| r.tolerance_ns),
            offset_ns: e.offset_ns,
            offset_uncertainty_ns: e.uncertainty_ns,
            offset_method: e.method,
        }
    }

    /// `ntp.watch`: expected clients in rule order, then learned ones most
    /// recently seen first, at most `learned_max` of them.
    pub fn rows(&self) -> Vec<WatchRow> {
        let mut rows: Vec<WatchRow> = self.watched.iter().map(|c| self.row(c)).collect();
        let mut learned: Vec<&Client> = self.learned.values().collect();
        learned.sort_by_key(|c| (std::cmp::Reverse(c.last_seen_ns), c.addr));
        rows.extend(
            learned
                .into_iter()
                .take(self.params.learned_max)
                .map(|c| self.row(c)),
        );
        rows
    }

    pub fn summary(&self) -> WatchSummary {
        let mut s = WatchSummary::default();
        for c in &self.watched {
            match c.state {
                WatchState::Exe => s.exe += 1,
                WatchState::Warn => s.warn += 1,
                WatchState::Fail => s.fail += 1,
            }
        }
        s
    }

    /// Offset and poll-interval history of one client (for the panel chart).
    pub fn history(&self, addr: IpAddr) -> Option<Vec<HistoryPoint>> {
        let addr = crate::ntp::access::canonical(addr);
        self.watched
            .iter()
            .find(|c| c.addr == Some(addr))
            .or_else(|| self.learned.get(&addr))
            .map(|c| c.history.iter().copied().collect())
    }
}
