//! Sans-IO request handling: request bytes + source address + receive time +
//! server fields in, response bytes out. No clock, socket or file is touched.
//!
//! Two steps so the transmit timestamp is taken as late as possible:
//! [`Handler::prepare`] decides and writes everything except the transmit
//! timestamp and MAC; the shell then reads the clock and calls
//! [`Handler::finish`], which writes the transmit timestamp and signs.
//!
//! Policy:
//! - versions 1–4 answered, version echoed; mode 3 → mode 4, mode 1 → mode 2
//!   (no association kept); NTPv1 mode 0 → mode 4 (NTPv1 had no mode field;
//!   chrony answers these too, and a mode 4 reply can never start a loop);
//!   everything else, truncated or malformed packets (bad extension fields,
//!   odd trailers, crypto-NAK in a request): no reply.
//! - the reply is never longer than the request (no amplification).
//! - poll echoes the client's, clamped to `[min_poll, max_poll]` (default
//!   4..10: 16 s .. 1024 s, the default poll range of chrony and ntpd clients).
//! - unsynchronized replies (stratum 16, LI 3) carry a kiss code as refid, as
//!   ntpd does: `INIT` until the first synchronization, `STEP` once it was
//!   lost (the next lock may step the time), never the source's name.
//! - authentication: a valid MAC is answered with a MAC by the same key; a
//!   MAC with a key id we do not have gets a crypto-NAK (RFC 5905: a 4-byte
//!   zero MAC, telling the client its key is unknown here); a bad MAC with a
//!   known key gets no reply by default (chrony's behaviour; a crypto-NAK is
//!   configurable), so a forger learns nothing about the key. A 16-byte all-zero
//!   digest with an unknown key id is an MS-SNTP request from a Windows domain
//!   member: it is answered unsigned, as chrony does without ntp_signd.
//!   Unauthenticated requests are served unless `require_auth`.
//! - access: deny wins; denied clients get KoD `DENY` or nothing (config).
//! - rate limit: per client (bounded table); the first request over the limit
//!   gets KoD `RATE`, the following ones are dropped until it slows down.

use super::access::{Access, AccessList};
use super::auth::KeyStore;
use super::clients::{AlarmChange, ClientKey, ClientTable, RateVerdict, RequestFacts, TxRecord};
use super::counters::Counters;
use super::packet::{self, Header, Trailer, HEADER_LEN, MODE_CLIENT, MODE_SYMMETRIC_ACTIVE};
use super::timestamp::{short_from_nanos_ceil, short_to_nanos, NtpTimestamp};
use super::watch::WatchObservation;
use crate::server_fields::ServerFields;
use crate::time::UnixNanos;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;

/// Output buffers must hold at least this many bytes.
pub const MIN_OUT_LEN: usize = HEADER_LEN + 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenyAction {
    /// Answer with a KoD `DENY`.
    #[default]
    Kod,
    Drop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthFailureAction {
    #[default]
    Drop,
    CryptoNak,
}

/// Everything the handler needs besides the per-request inputs.
#[derive(Debug, Clone)]
pub struct HandlerConfig {
    /// Server fields not refreshed for this long (ns after their `as_of_ns`)
    /// are stale: answer LI=3 / stratum 16. 0: never stale.
    pub stale_after_ns: i64,
    /// log2 seconds of the clock-read resolution (measured at start-up).
    pub precision: i8,
    pub min_poll: i8,
    pub max_poll: i8,
    pub access: AccessList,
    pub deny_action: DenyAction,
    pub require_auth: bool,
    pub auth_failure: AuthFailureAction,
    /// Answer in interleaved mode when a client asks for it (chrony `xleave`).
    pub interleaved: bool,
    /// Poll advertised in KoD `RATE` replies at least (log2 s of the rate
    /// limit interval), telling the client how far to back off.
    pub kod_rate_poll: i8,
}

impl Default for HandlerConfig {
    fn default() -> Self {
        HandlerConfig {
            stale_after_ns: 5_000_000_000,
            precision: -20,
            min_poll: 4,
            max_poll: 10,
            access: AccessList::default(),
            deny_action: DenyAction::Kod,
            require_auth: false,
            auth_failure: AuthFailureAction::Drop,
            interleaved: true,
            kod_rate_poll: 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    Truncated,
    Version,
    Mode,
    Malformed,
    Denied,
    RateLimited,
    Auth,
    BufferTooSmall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Basic,
    Interleaved,
    KodRate,
    KodDeny,
    CryptoNak,
}

/// A reply written by `prepare`, waiting for its transmit timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub len: usize,
    pub kind: ReplyKind,
    pub addr: IpAddr,
    client: ClientKey,
    /// Receive timestamp in the reply (key for recording its TX time).
    pub receive: NtpTimestamp,
    /// Transmit timestamp already fixed (interleaved); else written by `finish`.
    fixed_transmit: bool,
    mac_key: Option<u32>,
    /// Whether this reply's TX time should be recorded for the client.
    pub track_tx: bool,
    /// Whether to ask the kernel for this reply's transmit timestamp: only
    /// for clients using interleaved mode, the only users of it (every
    /// timestamp costs an error-queue message).
    pub kernel_tx: bool,
    pub alarm: Option<AlarmChange>,
    /// What the head-end watch learns from this request (the worker adds
    /// the source port and hands it over).
    pub watch: WatchObservation,
}

impl Reply {
    /// Whether `finish` signs the reply (a MAC costs far more than the rest
    /// of `finish`).
    pub fn signed(&self) -> bool {
        self.mac_key.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Reply(Reply),
    Drop(DropReason),
}

/// Request handler; one per worker, sharing config, keys and client table.
#[derive(Debug, Clone)]
pub struct Handler {
    cfg: Arc<HandlerConfig>,
    keys: Arc<KeyStore>,
    clients: Arc<ClientTable>,
    counters: Arc<Counters>,
}

fn ts_at(buf: &[u8], at: usize) -> NtpTimestamp {
    let mut a = [0u8; 8];
    if let Some(s) = buf.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    NtpTimestamp::from_be_bytes(a)
}

fn put_ts(buf: &mut [u8], at: usize, ts: NtpTimestamp) {
    if let Some(s) = buf.get_mut(at..at + 8) {
        s.copy_from_slice(&ts.to_be_bytes());
    }
}

impl Handler {
    pub fn new(
        cfg: Arc<HandlerConfig>,
        keys: Arc<KeyStore>,
        clients: Arc<ClientTable>,
        counters: Arc<Counters>,
    ) -> Self {
        Handler {
            cfg,
            keys,
            clients,
            counters,
        }
    }

    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    pub fn clients(&self) -> &Arc<ClientTable> {
        &self.clients
    }

    fn drop(&self, r: DropReason) -> Outcome {
        let c = &self.counters;
        Counters::inc(match r {
            DropReason::Truncated => &c.drop_truncated,
            DropReason::Version => &c.drop_version,
            DropReason::Mode => &c.drop_mode,
            DropReason::Malformed | DropReason::BufferTooSmall => &c.drop_malformed,
            DropReason::Denied => &c.drop_denied,
            DropReason::RateLimited => &c.drop_rate,
            DropReason::Auth => &c.drop_auth,
        });
        Outcome::Drop(r)
    }

    /// Decide on a request and write the reply (all but transmit timestamp
    /// and MAC) into `out`.
    pub fn prepare(
        &self,
        req: &[u8],
        src: IpAddr,
        rx_ns: UnixNanos,
        fields: &ServerFields,
        out: &mut [u8],
    ) -> Outcome {
        let c = &*self.counters;
        Counters::inc(&c.requests);
        let Ok(req_header) = Header::parse(req) else {
            return self.drop(DropReason::Truncated);
        };
        if let Some(m) = c.by_mode.get(usize::from(req_header.mode)) {
            Counters::inc(m);
        }
        if let Some(v) = c.by_version.get(usize::from(req_header.version)) {
            Counters::inc(v);
        }
        if !(1..=4).contains(&req_header.version) {
            return self.drop(DropReason::Version);
        }
        let reply_mode = match (req_header.mode, req_header.version) {
            (MODE_CLIENT, _) | (0, 1) => packet::MODE_SERVER,
            (MODE_SYMMETRIC_ACTIVE, _) => packet::MODE_SYMMETRIC_PASSIVE,
            _ => return self.drop(DropReason::Mode),
        };
        let Ok(layout) = packet::layout(req, req_header.version) else {
            return self.drop(DropReason::Malformed);
        };
        if layout.ext_count > 0 {
            // Unknown extension fields are ignored (NTS will consume its own here).
            Counters::add(&c.extension_fields, layout.ext_count as u64);
        }
        if out.len() < MIN_OUT_LEN {
            return self.drop(DropReason::BufferTooSmall);
        }

        let denied = self.cfg.access.check(src) == Access::Denied;
        if denied && self.cfg.deny_action == DenyAction::Drop {
            return self.drop(DropReason::Denied);
        }

        // Authentication.
        let mut mac_key = None;
        let mut auth_failed = false;
        let mut unknown_key = false;
        match layout.trailer {
            Trailer::None => {}
            Trailer::CryptoNak => return self.drop(DropReason::Malformed),
            Trailer::Mac {
                key_id,
                offset,
                digest_len,
            } => {
                let digest = req.get(offset + 4..).unwrap_or(&[]);
                let signed = req.get(..offset).unwrap_or(&[]);
                match self.keys.get(key_id) {
                    Some(k) if k.kind.digest_len() == digest_len && k.verify(signed, digest) => {
                        Counters::inc(&c.auth_ok);
                        mac_key = Some(key_id);
                    }
                    None if digest_len == 16 && digest.iter().all(|&b| b == 0) => {
                        Counters::inc(&c.auth_mssntp_unsigned);
                    }
                    None => {
                        Counters::inc(&c.auth_fail);
                        auth_failed = true;
                        unknown_key = true;
                    }
                    _ => {
                        Counters::inc(&c.auth_fail);
                        auth_failed = true;
                    }
                }
            }
        }
        if auth_failed && !unknown_key && self.cfg.auth_failure == AuthFailureAction::Drop {
            return self.drop(DropReason::Auth);
        }
        if self.cfg.require_auth && mac_key.is_none() && !auth_failed {
            return self.drop(DropReason::Auth);
        }

        let reply_receive = {
            let r = NtpTimestamp::from_unix_nanos(rx_ns);
            // Never equal to the origin: clients use that to spot interleaving.
            if r == req_header.transmit || r == req_header.receive {
                NtpTimestamp(r.0.wrapping_add(1))
            } else {
                r
            }
        };

        let mut kind = if denied {
            ReplyKind::KodDeny
        } else if auth_failed {
            ReplyKind::CryptoNak
        } else {
            ReplyKind::Basic
        };
        // Every reply counts against the client's rate, KoD and crypto-NAK
        // included, so no kind of reply can be drawn at line rate.
        let mut interleaved_tx = None;
        let asks_interleaved;
        let alarm;
        let client;
        let four;
        {
            let obs = self.clients.observe(&RequestFacts {
                addr: src,
                rx_ns,
                mode: req_header.mode,
                version: req_header.version,
                origin: req_header.origin,
                receive: req_header.receive,
                transmit: req_header.transmit,
                reply_receive,
                rate_limited: true,
            });
            alarm = obs.alarm;
            four = obs.four;
            client = obs.key;
            asks_interleaved = obs.asks_interleaved && self.cfg.interleaved;
            match obs.rate {
                RateVerdict::Serve => {}
                RateVerdict::Kod if kind == ReplyKind::Basic => kind = ReplyKind::KodRate,
                RateVerdict::Kod => {}
                RateVerdict::Drop => return self.drop(DropReason::RateLimited),
            }
            if let Some(tx) = obs.interleaved_tx_ns {
                if kind == ReplyKind::Basic && self.cfg.interleaved {
                    kind = ReplyKind::Interleaved;
                    interleaved_tx = Some(NtpTimestamp::from_unix_nanos(tx));
                }
            }
        }

        // The discipline loop refreshes the fields every second; fields it
        // stopped refreshing are stale, and a stale server says so. The
        // dispersion is aged to the receive time.
        let synced = fields.serving_at(rx_ns, self.cfg.stale_after_ns);
        let kod = matches!(kind, ReplyKind::KodRate | ReplyKind::KodDeny);
        let mut h = Header {
            leap: if synced && !kod { fields.leap as u8 } else { 3 },
            version: req_header.version,
            mode: reply_mode,
            stratum: if kod {
                0
            } else if synced {
                fields.stratum.clamp(1, 15)
            } else {
                16
            },
            poll: req_header.poll.clamp(self.cfg.min_poll, self.cfg.max_poll),
            precision: self.cfg.precision,
            root_delay: short_from_nanos_ceil(fields.root_delay_ns),
            root_dispersion: short_from_nanos_ceil(fields.dispersion_at(rx_ns)),
            refid: match kind {
                ReplyKind::KodRate => *b"RATE",
                ReplyKind::KodDeny => *b"DENY",
                _ if !synced && fields.reference_time_ns == 0 => *b"INIT",
                _ if !synced => *b"STEP",
                _ => fields.refid,
            },
            reference: if fields.reference_time_ns == 0 {
                NtpTimestamp::ZERO
            } else {
                NtpTimestamp::from_unix_nanos(fields.reference_time_ns)
            },
            origin: req_header.transmit,
            receive: reply_receive,
            transmit: NtpTimestamp::ZERO,
        };
        if kind == ReplyKind::KodRate {
            h.poll = h.poll.max(self.cfg.kod_rate_poll);
        }
        if let Some(tx) = interleaved_tx {
            // Interleaved reply: origin = the client's receive timestamp of our
            // previous reply, transmit = that reply's (kernel) TX time.
            h.origin = req_header.receive;
            h.transmit = tx;
        }
        let mut head = [0u8; HEADER_LEN];
        h.write(&mut head);
        out[..HEADER_LEN].copy_from_slice(&head);
        let mut len = HEADER_LEN;
        match kind {
            ReplyKind::CryptoNak => {
                out[HEADER_LEN..HEADER_LEN + 4].fill(0);
                len += 4;
            }
            _ => {
                if let Some(id) = mac_key {
                    out[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&id.to_be_bytes());
                    len += 4 + self.keys.get(id).map(|k| k.kind.digest_len()).unwrap_or(0);
                }
            }
        }
        if len > req.len() {
            // Cannot happen with the rules above; never amplify regardless.
            return self.drop(DropReason::Malformed);
        }
        Outcome::Reply(Reply {
            len,
            kind,
            addr: src,
            client,
            receive: reply_receive,
            fixed_transmit: interleaved_tx.is_some(),
            mac_key: if kind == ReplyKind::CryptoNak {
                None
            } else {
                mac_key
            },
            track_tx: matches!(kind, ReplyKind::Basic | ReplyKind::Interleaved),
            kernel_tx: asks_interleaved
                && matches!(kind, ReplyKind::Basic | ReplyKind::Interleaved),
            alarm,
            watch: WatchObservation {
                addr: src,
                port: 0,
                rx_ns,
                mode: req_header.mode,
                version: req_header.version,
                client_tx_ns: (!req_header.transmit.is_zero())
                    .then(|| req_header.transmit.to_unix_nanos(rx_ns)),
                root_dispersion_ns: i64::try_from(short_to_nanos(req_header.root_dispersion))
                    .unwrap_or(i64::MAX),
                four,
                kod: kind == ReplyKind::KodRate,
            },
        })
    }

    /// Write the transmit timestamp (read by the shell just now) and the MAC.
    /// Returns the transmit timestamp the reply carries.
    pub fn finish(&self, out: &mut [u8], reply: &Reply, tx_ns: UnixNanos) -> NtpTimestamp {
        let c = &*self.counters;
        let transmit = if reply.fixed_transmit {
            ts_at(out, 40)
        } else {
            let origin = ts_at(out, 24);
            let mut t = NtpTimestamp::from_unix_nanos(tx_ns);
            // Distinct from receive and origin so clients can tell the modes apart.
            while t == reply.receive || t == origin {
                t = NtpTimestamp(t.0.wrapping_add(1));
            }
            put_ts(out, 40, t);
            t
        };
        if let Some(k) = reply.mac_key.and_then(|id| self.keys.get(id)) {
            let mut mac = [0u8; 20];
            let n = k.compute(out.get(..HEADER_LEN).unwrap_or(&[]), &mut mac);
            if let Some(dst) = out.get_mut(HEADER_LEN + 4..HEADER_LEN + 4 + n) {
                dst.copy_from_slice(&mac[..n]);
            }
        }
        Counters::inc(&c.responses);
        match reply.kind {
            ReplyKind::Interleaved => Counters::inc(&c.interleaved),
            ReplyKind::KodRate => Counters::inc(&c.kod_rate),
            ReplyKind::KodDeny => Counters::inc(&c.kod_deny),
            ReplyKind::CryptoNak => Counters::inc(&c.crypto_nak),
            ReplyKind::Basic => {}
        }
        transmit
    }

    /// Remember when a reply left (daemon reading right after sending, or the
    /// kernel TX timestamp), for interleaved replies and the client monitor.
    pub fn record_tx(&self, reply: &Reply, tx_ns: UnixNanos, wire_transmit: Option<NtpTimestamp>) {
        if reply.track_tx {
            self.clients
                .record_tx(reply.client, reply.receive, tx_ns, wire_transmit);
        }
    }

    /// What `record_tx` would record, for [`Handler::record_tx_batch`]
    /// (`None` when the reply's TX time is not tracked).
    pub fn tx_record(
        &self,
        reply: &Reply,
        tx_ns: UnixNanos,
        wire_transmit: Option<NtpTimestamp>,
    ) -> Option<TxRecord> {
        reply.track_tx.then_some(TxRecord {
            key: reply.client,
            reply_receive: reply.receive,
            tx_ns,
            wire_transmit,
        })
    }

    /// `record_tx` for a whole sent batch (fewer client-table locks).
    pub fn record_tx_batch(&self, records: &[TxRecord]) {
        self.clients.record_tx_batch(records);
    }

    /// Both steps at once (tests, fuzzing, benches): `Some(len)` when answered.
    pub fn respond(
        &self,
        req: &[u8],
        src: IpAddr,
        rx_ns: UnixNanos,
        tx_ns: UnixNanos,
        fields: &ServerFields,
        out: &mut [u8],
    ) -> Option<usize> {
        match self.prepare(req, src, rx_ns, fields, out) {
            Outcome::Reply(r) => {
                let wire = self.finish(out, &r, tx_ns);
                self.record_tx(&r, tx_ns, (!r.fixed_transmit).then_some(wire));
                Some(r.len)
            }
            Outcome::Drop(_) => None,
        }
    }
}
