//! The request generator: N connected UDP sockets (N source ports) per
//! thread, driven either closed-loop (W requests outstanding per socket) or
//! at a fixed rate. Every reply is matched to its request by the origin
//! timestamp, which echoes a per-request random cookie.

use crate::histogram::Histogram;
use crate::packet::{check_reply, origin_of, write_request, Expect, Invalid, NTP_LEN};
use crate::udp::{self, RecvBuf, MAX_BATCH, RECV_LEN};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Outstanding requests per socket in closed-loop mode.
    pub window: usize,
    /// Total requests per second over all threads; `None` = closed loop.
    pub rate: Option<f64>,
    pub threads: usize,
    pub cpus: Vec<usize>,
    pub duration: Duration,
    pub max_requests: Option<u64>,
    pub timeout: Duration,
    pub expect: Expect,
    pub batch: usize,
    pub seed: u64,
}

/// What one generator thread saw; merged over threads for the report.
#[derive(Clone, Default)]
pub struct GenResult {
    pub sent: u64,
    pub answered: u64,
    pub lost: u64,
    pub late: u64,
    pub invalid: [u64; Invalid::ALL.len()],
    /// Send/receive errors by errno (EAGAIN on send is not an error: the
    /// request is simply sent later).
    pub errors: BTreeMap<i32, u64>,
    /// Times the ring of outstanding requests was full and a send waited.
    pub ring_full: u64,
    pub latency_ns: Histogram,
    /// From the common start until the last send or reply.
    pub active_ns: u64,
}

impl GenResult {
    pub fn merge(&mut self, o: &GenResult) {
        self.sent += o.sent;
        self.answered += o.answered;
        self.lost += o.lost;
        self.late += o.late;
        for (a, b) in self.invalid.iter_mut().zip(o.invalid) {
            *a += b;
        }
        for (k, v) in &o.errors {
            *self.errors.entry(*k).or_default() += v;
        }
        self.ring_full += o.ring_full;
        self.latency_ns.merge(&o.latency_ns);
        self.active_ns = self.active_ns.max(o.active_ns);
    }

    pub fn invalid_total(&self) -> u64 {
        self.invalid.iter().sum()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Free,
    Outstanding,
    Answered,
    Lost,
}

#[derive(Clone, Copy)]
struct Slot {
    cookie: u64,
    sent_ns: u64,
    socket: u32,
    state: SlotState,
}

/// Outstanding requests in send order. The low 32 bits of a cookie are the
/// sequence number, which gives the slot; the random high bits make the
/// cookie unguessable and let a stale or forged origin be told apart.
struct Ring {
    slots: Vec<Slot>,
    mask: u64,
    head: u64,
    tail: u64,
}

impl Ring {
    fn new(capacity: usize) -> Self {
        let cap = capacity.next_power_of_two().clamp(1 << 10, 1 << 21);
        Self {
            slots: vec![
                Slot {
                    cookie: 0,
                    sent_ns: 0,
                    socket: 0,
                    state: SlotState::Free,
                };
                cap
            ],
            mask: cap as u64 - 1,
            head: 0,
            tail: 0,
        }
    }

    fn space(&self) -> u64 {
        (self.mask + 1) - (self.head - self.tail)
    }

    fn cookie_for(&self, offset: u64, rng: &mut ChaCha8Rng) -> u64 {
        let seq = (self.head + offset) & 0xffff_ffff;
        (u64::from(rng.next_u32() | 1) << 32) | seq
    }

    fn commit(&mut self, cookie: u64, sent_ns: u64, socket: u32) {
        let i = (self.head & self.mask) as usize;
        if let Some(s) = self.slots.get_mut(i) {
            *s = Slot {
                cookie,
                sent_ns,
                socket,
                state: SlotState::Outstanding,
            };
        }
        self.head += 1;
    }

    fn lookup(&mut self, origin: u64) -> Option<&mut Slot> {
        let i = ((origin & 0xffff_ffff) & self.mask) as usize;
        self.slots
            .get_mut(i)
            .filter(|s| s.state != SlotState::Free && s.cookie == origin)
    }
}

struct Worker {
    opts: GenOptions,
    socks: Vec<UdpSocket>,
    fds: Vec<RawFd>,
    outstanding: Vec<usize>,
    ring: Ring,
    rng: ChaCha8Rng,
    res: GenResult,
    start: Instant,
    timeout_ns: u64,
    send_bufs: Vec<[u8; NTP_LEN]>,
    cookies: Vec<u64>,
    recv_bufs: Vec<RecvBuf>,
    recv_lens: Vec<usize>,
}

/// Opens `n` sockets, each on its own ephemeral source port, connected to
/// the target so the kernel drops datagrams from anyone else. With
/// `first_source`, socket k binds to IPv4 address `first_source + k` (all of
/// 127.0.0.0/8 is local on Linux), so the server sees `n` clients.
pub fn open_sockets(
    target: SocketAddr,
    n: usize,
    first_source: Option<u32>,
) -> io::Result<Vec<UdpSocket>> {
    if let Some(first) = first_source {
        return (0..n)
            .map(|k| {
                let ip = std::net::Ipv4Addr::from(first.wrapping_add(k as u32));
                let s = UdpSocket::bind(SocketAddr::from((ip, 0)))?;
                s.connect(target)?;
                s.set_nonblocking(true)?;
                Ok(s)
            })
            .collect();
    }
    // Loopback targets get loopback sources; others the wildcard.
    let local = match (target.is_ipv4(), target.ip().is_loopback()) {
        (true, true) => "127.0.0.1:0",
        (true, false) => "0.0.0.0:0",
        (false, true) => "[::1]:0",
        (false, false) => "[::]:0",
    };
    let local: SocketAddr = local.parse().map_err(io::Error::other)?;
    (0..n)
        .map(|_| {
            let s = UdpSocket::bind(local)?;
            s.connect(target)?;
            s.set_nonblocking(true)?;
            Ok(s)
        })
        .collect()
}

/// Runs one generator thread to completion.
pub fn run_thread(
    opts: GenOptions,
    socks: Vec<UdpSocket>,
    index: usize,
    start: Instant,
) -> io::Result<GenResult> {
    if let Some(&cpu) = opts.cpus.get(index % opts.cpus.len().max(1)) {
        udp::pin_current_thread(cpu)?;
    }
    let threads = opts.threads.max(1) as f64;
    let per_thread_rate = opts.rate.map(|r| r / threads);
    // The ring must hold everything sent during one timeout: a single lost
    // request pins the tail until it expires, and sending stops when the
    // ring is full. The closed loop's rate is unknown, so assume up to
    // ~1M requests/s.
    let backlog = match per_thread_rate {
        Some(r) => (r * opts.timeout.as_secs_f64() * 2.0) as usize,
        None => (1_000_000.0 * opts.timeout.as_secs_f64()) as usize,
    };
    let batch = opts.batch.clamp(1, MAX_BATCH);
    let fds = socks.iter().map(|s| s.as_raw_fd()).collect();
    let mut w = Worker {
        outstanding: vec![0; socks.len()],
        ring: Ring::new(backlog.max(opts.window * socks.len() * 4)),
        rng: ChaCha8Rng::seed_from_u64(opts.seed ^ (index as u64).wrapping_mul(0x9e37_79b9)),
        res: GenResult::default(),
        start,
        timeout_ns: opts.timeout.as_nanos() as u64,
        send_bufs: vec![[0; NTP_LEN]; batch],
        cookies: vec![0; batch],
        recv_bufs: vec![[0; RECV_LEN]; batch],
        recv_lens: vec![0; batch],
        socks,
        fds,
        opts,
    };
    let max = w.opts.max_requests.map(|m| {
        // Split the budget so the threads together send exactly `m`.
        let t = w.opts.threads.max(1) as u64;
        m / t + u64::from((index as u64) < m % t)
    });
    w.run(per_thread_rate, max);
    Ok(w.res)
}

impl Worker {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn count_error(&mut self, e: &io::Error) {
        *self
            .res
            .errors
            .entry(e.raw_os_error().unwrap_or(-1))
            .or_default() += 1;
    }

    /// Sends up to `n` requests on socket `s`; returns how many went out.
    fn send(&mut self, s: usize, n: usize) -> usize {
        let n = n.min(self.send_bufs.len());
        let space = usize::try_from(self.ring.space()).unwrap_or(usize::MAX);
        if space < n {
            self.res.ring_full += 1;
        }
        let n = n.min(space);
        if n == 0 {
            return 0;
        }
        for i in 0..n {
            let c = self.ring.cookie_for(i as u64, &mut self.rng);
            self.cookies[i] = c;
            write_request(&mut self.send_bufs[i], c);
        }
        let now = self.now_ns();
        let fd = self.fds[s];
        match udp::send_connected(fd, &mut self.send_bufs[..n]) {
            Ok(k) => {
                for i in 0..k {
                    self.ring.commit(self.cookies[i], now, s as u32);
                }
                self.outstanding[s] += k;
                self.res.sent += k as u64;
                self.res.active_ns = self.res.active_ns.max(now);
                k
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => {
                self.count_error(&e);
                0
            }
        }
    }

    /// Drains socket `s`; returns how many datagrams arrived.
    fn receive(&mut self, s: usize) -> usize {
        let mut total = 0;
        loop {
            let fd = self.fds[s];
            let n = match udp::recv_connected(fd, &mut self.recv_bufs, &mut self.recv_lens) {
                Ok(n) => n,
                Err(e) => {
                    // ECONNREFUSED: an ICMP port-unreachable came back.
                    self.count_error(&e);
                    return total;
                }
            };
            if n == 0 {
                return total;
            }
            let now = self.now_ns();
            self.res.active_ns = self.res.active_ns.max(now);
            for i in 0..n {
                self.on_reply(s, i, now);
            }
            total += n;
            if n < self.recv_bufs.len() {
                return total;
            }
        }
    }

    fn on_reply(&mut self, s: usize, i: usize, now: u64) {
        let len = self.recv_lens[i].min(RECV_LEN);
        let buf = &self.recv_bufs[i][..len];
        let verdict = check_reply(buf, &self.opts.expect);
        let Some(origin) = origin_of(buf) else {
            self.res.invalid[Invalid::Short.index()] += 1;
            return;
        };
        let Some(slot) = self.ring.lookup(origin) else {
            self.res.invalid[Invalid::UnknownOrigin.index()] += 1;
            return;
        };
        match slot.state {
            SlotState::Answered => {
                self.res.invalid[Invalid::Duplicate.index()] += 1;
                return;
            }
            SlotState::Lost => {
                self.res.late += 1;
                slot.state = SlotState::Answered;
                return;
            }
            SlotState::Free | SlotState::Outstanding => {}
        }
        if slot.socket as usize != s {
            self.res.invalid[Invalid::WrongSocket.index()] += 1;
            return;
        }
        // The request is resolved either way: a wrong reply still frees its
        // place in the window.
        slot.state = SlotState::Answered;
        let sent_ns = slot.sent_ns;
        if let Some(o) = self.outstanding.get_mut(s) {
            *o = o.saturating_sub(1);
        }
        match verdict {
            Ok(_) => {
                self.res.answered += 1;
                self.res.latency_ns.record(now.saturating_sub(sent_ns));
            }
            Err(reason) => self.res.invalid[reason.index()] += 1,
        }
    }

    /// Retires the oldest requests: answered ones silently, ones older than
    /// the timeout as lost.
    fn expire(&mut self, now: u64) {
        while self.ring.tail < self.ring.head {
            let i = (self.ring.tail & self.ring.mask) as usize;
            let Some(slot) = self.ring.slots.get_mut(i) else {
                break;
            };
            if slot.state == SlotState::Outstanding {
                if now.saturating_sub(slot.sent_ns) < self.timeout_ns {
                    break;
                }
                slot.state = SlotState::Lost;
                let s = slot.socket as usize;
                self.res.lost += 1;
                if let Some(o) = self.outstanding.get_mut(s) {
                    *o = o.saturating_sub(1);
                }
            }
            self.ring.tail += 1;
        }
    }

    fn run(&mut self, rate: Option<f64>, max: Option<u64>) {
        let duration_ns = self.opts.duration.as_nanos() as u64;
        let n = self.socks.len();
        let mut rr = 0usize;
        loop {
            let now = self.now_ns();
            let budget = max.map_or(u64::MAX, |m| m.saturating_sub(self.res.sent));
            let sending = now < duration_ns && budget > 0;
            let pending = self.ring.head - self.ring.tail;
            if !sending && pending == 0 {
                break;
            }
            let mut progress = 0;
            for s in 0..n {
                progress += self.receive(s);
            }
            let mut next_due_ns = None;
            if sending {
                match rate {
                    None => {
                        for s in 0..n {
                            let budget = max.map_or(u64::MAX, |m| m.saturating_sub(self.res.sent));
                            let want = self.opts.window.saturating_sub(self.outstanding[s]);
                            let want = want.min(usize::try_from(budget).unwrap_or(usize::MAX));
                            if want > 0 {
                                progress += self.send(s, want);
                            }
                        }
                    }
                    Some(r) => {
                        let due_total = (now as f64 * r / 1e9) as u64 + 1;
                        let mut due = due_total.saturating_sub(self.res.sent).min(budget);
                        // At most one batch per socket per pass, so replies
                        // keep being read while catching up.
                        for _ in 0..n {
                            if due == 0 {
                                break;
                            }
                            let k = self.send(rr, usize::try_from(due).unwrap_or(usize::MAX));
                            rr = (rr + 1) % n;
                            if k == 0 {
                                break;
                            }
                            progress += k;
                            due -= k as u64;
                        }
                        let next = ((self.res.sent + 1) as f64 * 1e9 / r) as u64;
                        next_due_ns = Some(next.saturating_sub(self.now_ns()));
                    }
                }
            }
            self.expire(self.now_ns());
            if progress == 0 {
                // Nothing moved: sleep until a reply, the next send slot or
                // the next timeout check, whichever comes first.
                let wait = next_due_ns.unwrap_or(1_000_000).min(1_000_000);
                if wait > 20_000 {
                    if let Err(e) = udp::wait_readable(&self.fds, wait) {
                        self.count_error(&e);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_matches_only_exact_cookies() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut ring = Ring::new(8);
        let c = ring.cookie_for(0, &mut rng);
        ring.commit(c, 5, 0);
        assert!(ring.lookup(c).is_some());
        assert!(ring.lookup(c ^ (1 << 40)).is_none(), "forged high bits");
        assert!(ring.lookup(c + 1).is_none(), "unsent sequence");
        assert_eq!(ring.space(), (ring.mask + 1) - 1);
    }
}
