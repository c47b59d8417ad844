//! The AgentX subagent session, sans-IO (RFC 2741 §7): bytes and the time in,
//! bytes to write and typed events out. It opens the session, registers the
//! subtrees, answers Get/GetNext/GetBulk from a [`MibTable`], refuses sets,
//! sends Notify and Ping, and times out requests the master never answers.
//! Any malformed or unexpected PDU is a [`SessionError`]: the shell logs it,
//! closes the connection and starts a fresh session.

use super::codec::{self, close, errors, DecodeError, Header, Packet, Pdu, VarBind};
use super::oid::Oid;
use super::table::MibTable;

#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Identifies the subagent in Open (its enterprise OID).
    pub id: Oid,
    pub descr: String,
    /// Seconds the master waits for our answers (0: the master's default).
    pub timeout_s: u8,
    pub priority: u8,
    pub subtrees: Vec<Oid>,
    /// How long we wait for the master's answer to Open, Register, Notify, Ping.
    pub response_timeout_ns: i64,
    /// Ping the master this often to notice a dead one.
    pub ping_interval_ns: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    Opened {
        session_id: u32,
    },
    Registered(Oid),
    /// The master refused a registration (another agent owns the subtree).
    RegistrationRefused {
        subtree: Oid,
        error: u16,
    },
    NotifyAccepted,
    NotifyRefused {
        error: u16,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("bad PDU from the master: {0}")]
    Decode(#[from] DecodeError),
    #[error("the master refused Open (error {0})")]
    OpenRefused(u16),
    #[error("the master closed the session (reason {0})")]
    ClosedByMaster(u8),
    #[error("no answer to {0} from the master")]
    Timeout(&'static str),
    #[error("unexpected {0} PDU from the master")]
    Unexpected(&'static str),
}

impl SessionError {
    /// The Close reason we send before dropping the connection.
    pub fn close_reason(&self) -> u8 {
        match self {
            SessionError::Decode(_) => close::PARSE_ERROR,
            SessionError::Timeout(_) => close::TIMEOUTS,
            SessionError::Unexpected(_) => close::PROTOCOL_ERROR,
            _ => close::OTHER,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Opening,
    Open { session_id: u32 },
}

#[derive(Debug, Clone)]
enum Waiting {
    Open,
    Register(Oid),
    Notify,
    Ping,
}

impl Waiting {
    fn name(&self) -> &'static str {
        match self {
            Waiting::Open => "Open",
            Waiting::Register(_) => "Register",
            Waiting::Notify => "Notify",
            Waiting::Ping => "Ping",
        }
    }
}

/// Most requests we keep waiting for an answer (notifications queue here
/// when the master is slow; beyond this they are dropped and counted).
const MAX_WAITING: usize = 64;

pub struct Session {
    cfg: SessionConfig,
    state: State,
    start_ns: i64,
    next_packet_id: u32,
    rx: Vec<u8>,
    out: Vec<u8>,
    waiting: Vec<(u32, Waiting, i64)>,
    next_ping_ns: i64,
    events: Vec<SessionEvent>,
    /// Notifications not sent: session not open or too many waiting.
    pub notifications_dropped: u64,
    /// Requests answered (Get, GetNext, GetBulk, sets).
    pub requests_answered: u64,
}

impl Session {
    /// A new session; the Open PDU is queued at once.
    pub fn new(cfg: SessionConfig, now_ns: i64) -> Self {
        let mut s = Session {
            state: State::Opening,
            start_ns: now_ns,
            next_packet_id: 1,
            rx: Vec::new(),
            out: Vec::new(),
            waiting: Vec::new(),
            next_ping_ns: now_ns.saturating_add(cfg.ping_interval_ns),
            events: Vec::new(),
            notifications_dropped: 0,
            requests_answered: 0,
            cfg,
        };
        let pdu = Pdu::Open {
            timeout: s.cfg.timeout_s,
            id: s.cfg.id.clone(),
            descr: s.cfg.descr.as_bytes().to_vec(),
        };
        s.request(pdu, Waiting::Open, now_ns);
        s
    }

    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open { .. })
    }

    /// Open and every registration answered: queued notifications may go
    /// (a manager that gets a trap can then also query what it is about).
    pub fn is_ready(&self) -> bool {
        self.is_open()
            && !self
                .waiting
                .iter()
                .any(|w| matches!(w.1, Waiting::Register(_)))
    }

    pub fn session_id(&self) -> Option<u32> {
        match self.state {
            State::Open { session_id } => Some(session_id),
            State::Opening => None,
        }
    }

    /// Bytes to write to the master (empties the buffer).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    pub fn drain_events(&mut self) -> Vec<SessionEvent> {
        std::mem::take(&mut self.events)
    }

    fn uptime_ticks(&self, now_ns: i64) -> u32 {
        (now_ns.saturating_sub(self.start_ns).max(0) / 10_000_000) as u32
    }

    fn header(&mut self, transaction_id: u32) -> Header {
        let packet_id = self.next_packet_id;
        self.next_packet_id = self.next_packet_id.wrapping_add(1).max(1);
        Header {
            session_id: self.session_id().unwrap_or(0),
            transaction_id,
            packet_id,
            ..Header::default()
        }
    }

    fn request(&mut self, pdu: Pdu, what: Waiting, now_ns: i64) {
        let h = self.header(0);
        self.out.extend_from_slice(&codec::encode(&h, &pdu));
        let deadline = now_ns.saturating_add(self.cfg.response_timeout_ns);
        self.waiting.push((h.packet_id, what, deadline));
    }

    /// Queue a Notify; false (and counted) when the session is not open or
    /// too many requests wait for the master.
    pub fn notify(&mut self, varbinds: Vec<VarBind>, now_ns: i64) -> bool {
        if !self.is_open() || self.waiting.len() >= MAX_WAITING {
            self.notifications_dropped += 1;
            return false;
        }
        self.request(
            Pdu::Notify {
                context: None,
                varbinds,
            },
            Waiting::Notify,
            now_ns,
        );
        true
    }

    /// The Close PDU to send before dropping the connection.
    pub fn close_bytes(&mut self, reason: u8) -> Vec<u8> {
        let h = self.header(0);
        codec::encode(&h, &Pdu::Close { reason })
    }

    /// Time passes: pings and request timeouts.
    pub fn on_tick(&mut self, now_ns: i64) -> Result<(), SessionError> {
        if let Some((_, what, _)) = self.waiting.iter().find(|w| now_ns >= w.2) {
            return Err(SessionError::Timeout(what.name()));
        }
        if self.is_open() && now_ns >= self.next_ping_ns {
            self.next_ping_ns = now_ns.saturating_add(self.cfg.ping_interval_ns);
            self.request(Pdu::Ping { context: None }, Waiting::Ping, now_ns);
        }
        Ok(())
    }

    /// Bytes from the master; answers go to the output buffer.
    pub fn on_bytes(
        &mut self,
        bytes: &[u8],
        now_ns: i64,
        mib: &MibTable,
    ) -> Result<(), SessionError> {
        self.rx.extend_from_slice(bytes);
        let mut used = 0;
        let result = loop {
            match codec::decode(&self.rx[used..]) {
                Ok(Some((packet, n))) => {
                    used += n;
                    if let Err(e) = self.on_packet(packet, now_ns, mib) {
                        break Err(e);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(SessionError::Decode(e)),
            }
        };
        self.rx.drain(..used);
        result
    }

    fn respond(
        &mut self,
        req: &Header,
        now_ns: i64,
        error: u16,
        index: u16,
        varbinds: Vec<VarBind>,
    ) {
        let h = Header {
            session_id: req.session_id,
            transaction_id: req.transaction_id,
            packet_id: req.packet_id,
            ..Header::default()
        };
        let pdu = Pdu::Response {
            sys_uptime: self.uptime_ticks(now_ns),
            error,
            index,
            varbinds,
        };
        self.out.extend_from_slice(&codec::encode(&h, &pdu));
        self.requests_answered += 1;
    }

    fn on_packet(&mut self, p: Packet, now_ns: i64, mib: &MibTable) -> Result<(), SessionError> {
        let h = p.header;
        if let Pdu::Response { error, .. } = p.pdu {
            return self.on_response(&h, error, now_ns);
        }
        if let Pdu::Close { reason } = p.pdu {
            return Err(SessionError::ClosedByMaster(reason));
        }
        if !self.is_open() {
            return Err(SessionError::Unexpected("request before Open completed"));
        }
        match p.pdu {
            Pdu::Get {
                context: None,
                ranges,
            } => {
                let vbs = ranges.iter().map(|r| mib.get(&r.start)).collect();
                self.respond(&h, now_ns, errors::NO_ERROR, 0, vbs);
            }
            Pdu::GetNext {
                context: None,
                ranges,
            } => {
                let vbs = ranges.iter().map(|r| mib.next(r)).collect();
                self.respond(&h, now_ns, errors::NO_ERROR, 0, vbs);
            }
            Pdu::GetBulk {
                context: None,
                non_repeaters,
                max_repetitions,
                ranges,
            } => {
                let vbs = mib.bulk(non_repeaters, max_repetitions, &ranges);
                self.respond(&h, now_ns, errors::NO_ERROR, 0, vbs);
            }
            Pdu::Get { .. } | Pdu::GetNext { .. } | Pdu::GetBulk { .. } => {
                // We register in the default context only.
                const UNSUPPORTED_CONTEXT: u16 = 262;
                self.respond(&h, now_ns, UNSUPPORTED_CONTEXT, 0, Vec::new());
            }
            // Everything we serve is read-only: the set fails at its test phase.
            Pdu::TestSet { .. } => self.respond(&h, now_ns, errors::NOT_WRITABLE, 1, Vec::new()),
            Pdu::CommitSet | Pdu::UndoSet => {
                self.respond(&h, now_ns, errors::NO_ERROR, 0, Vec::new())
            }
            // §7.2.4.4: CleanupSet has no response.
            Pdu::CleanupSet => {}
            Pdu::Ping { .. } => self.respond(&h, now_ns, errors::NO_ERROR, 0, Vec::new()),
            Pdu::Open { .. } => return Err(SessionError::Unexpected("Open")),
            Pdu::Register { .. } | Pdu::Unregister { .. } => {
                return Err(SessionError::Unexpected("Register"))
            }
            Pdu::Notify { .. } => return Err(SessionError::Unexpected("Notify")),
            Pdu::Other { pdu_type, .. } => {
                tracing::debug!(pdu_type, "agentx: refusing a PDU a master does not send");
                self.respond(&h, now_ns, errors::PROCESSING_ERROR, 0, Vec::new());
            }
            Pdu::Response { .. } | Pdu::Close { .. } => {}
        }
        Ok(())
    }

    fn on_response(&mut self, h: &Header, error: u16, now_ns: i64) -> Result<(), SessionError> {
        let Some(i) = self.waiting.iter().position(|w| w.0 == h.packet_id) else {
            // A late answer to something that already timed out: harmless.
            return Ok(());
        };
        let (_, what, _) = self.waiting.remove(i);
        match what {
            Waiting::Open => {
                if error != errors::NO_ERROR {
                    return Err(SessionError::OpenRefused(error));
                }
                self.state = State::Open {
                    session_id: h.session_id,
                };
                self.events.push(SessionEvent::Opened {
                    session_id: h.session_id,
                });
                for subtree in self.cfg.subtrees.clone() {
                    let pdu = Pdu::Register {
                        context: None,
                        timeout: 0,
                        priority: self.cfg.priority,
                        subtree: subtree.clone(),
                        range: None,
                    };
                    self.request(pdu, Waiting::Register(subtree), now_ns);
                }
            }
            Waiting::Register(subtree) => self.events.push(if error == errors::NO_ERROR {
                SessionEvent::Registered(subtree)
            } else {
                SessionEvent::RegistrationRefused { subtree, error }
            }),
            Waiting::Notify => self.events.push(if error == errors::NO_ERROR {
                SessionEvent::NotifyAccepted
            } else {
                SessionEvent::NotifyRefused { error }
            }),
            Waiting::Ping => {}
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
