//! AgentX PDU types (RFC 2741 §5, §6): what the codec decodes into and
//! encodes from.

use super::oid::Oid;

/// Header flag bits (§6.1).
pub mod flags {
    pub const INSTANCE_REGISTRATION: u8 = 0x01;
    pub const NEW_INDEX: u8 = 0x02;
    pub const ANY_INDEX: u8 = 0x04;
    pub const NON_DEFAULT_CONTEXT: u8 = 0x08;
    pub const NETWORK_BYTE_ORDER: u8 = 0x10;
}

/// PDU type numbers (§6.1).
pub mod types {
    pub const OPEN: u8 = 1;
    pub const CLOSE: u8 = 2;
    pub const REGISTER: u8 = 3;
    pub const UNREGISTER: u8 = 4;
    pub const GET: u8 = 5;
    pub const GET_NEXT: u8 = 6;
    pub const GET_BULK: u8 = 7;
    pub const TEST_SET: u8 = 8;
    pub const COMMIT_SET: u8 = 9;
    pub const UNDO_SET: u8 = 10;
    pub const CLEANUP_SET: u8 = 11;
    pub const NOTIFY: u8 = 12;
    pub const PING: u8 = 13;
    pub const INDEX_ALLOCATE: u8 = 14;
    pub const INDEX_DEALLOCATE: u8 = 15;
    pub const ADD_AGENT_CAPS: u8 = 16;
    pub const REMOVE_AGENT_CAPS: u8 = 17;
    pub const RESPONSE: u8 = 18;
}

/// `res.error` values (§6.2.16) and the SNMP errors a subagent returns.
pub mod errors {
    pub const NO_ERROR: u16 = 0;
    pub const GEN_ERR: u16 = 5;
    pub const NOT_WRITABLE: u16 = 17;
    pub const OPEN_FAILED: u16 = 256;
    pub const NOT_OPEN: u16 = 257;
    pub const DUPLICATE_REGISTRATION: u16 = 263;
    pub const PARSE_ERROR: u16 = 266;
    pub const REQUEST_DENIED: u16 = 267;
    pub const PROCESSING_ERROR: u16 = 268;
}

/// Close reasons (§6.2.2).
pub mod close {
    pub const OTHER: u8 = 1;
    pub const PARSE_ERROR: u8 = 2;
    pub const PROTOCOL_ERROR: u8 = 3;
    pub const TIMEOUTS: u8 = 4;
    pub const SHUTDOWN: u8 = 5;
    pub const BY_MANAGER: u8 = 6;
}

/// A variable's value (§5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Integer(i32),
    OctetString(Vec<u8>),
    Null,
    ObjectId(Oid),
    IpAddress([u8; 4]),
    Counter32(u32),
    Gauge32(u32),
    TimeTicks(u32),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
}

impl Value {
    pub(super) fn type_code(&self) -> u16 {
        match self {
            Value::Integer(_) => 2,
            Value::OctetString(_) => 4,
            Value::Null => 5,
            Value::ObjectId(_) => 6,
            Value::IpAddress(_) => 64,
            Value::Counter32(_) => 65,
            Value::Gauge32(_) => 66,
            Value::TimeTicks(_) => 67,
            Value::Opaque(_) => 68,
            Value::Counter64(_) => 70,
            Value::NoSuchObject => 128,
            Value::NoSuchInstance => 129,
            Value::EndOfMibView => 130,
        }
    }

    pub fn text(s: &str) -> Value {
        Value::OctetString(s.as_bytes().to_vec())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarBind {
    pub name: Oid,
    pub value: Value,
}

/// A search range (§5.2): from `start` (inclusive when `include`) up to,
/// not including, `end` (empty: no bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRange {
    pub start: Oid,
    pub include: bool,
    pub end: Oid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    Open {
        timeout: u8,
        id: Oid,
        descr: Vec<u8>,
    },
    Close {
        reason: u8,
    },
    Register {
        context: Option<Vec<u8>>,
        timeout: u8,
        priority: u8,
        subtree: Oid,
        /// `range_subid` and `upper_bound` (§6.2.3), when a range is registered.
        range: Option<(u8, u32)>,
    },
    Unregister {
        context: Option<Vec<u8>>,
        priority: u8,
        subtree: Oid,
        range: Option<(u8, u32)>,
    },
    Get {
        context: Option<Vec<u8>>,
        ranges: Vec<SearchRange>,
    },
    GetNext {
        context: Option<Vec<u8>>,
        ranges: Vec<SearchRange>,
    },
    GetBulk {
        context: Option<Vec<u8>>,
        non_repeaters: u16,
        max_repetitions: u16,
        ranges: Vec<SearchRange>,
    },
    TestSet {
        context: Option<Vec<u8>>,
        varbinds: Vec<VarBind>,
    },
    CommitSet,
    UndoSet,
    CleanupSet,
    Notify {
        context: Option<Vec<u8>>,
        varbinds: Vec<VarBind>,
    },
    Ping {
        context: Option<Vec<u8>>,
    },
    Response {
        sys_uptime: u32,
        error: u16,
        index: u16,
        varbinds: Vec<VarBind>,
    },
    /// Index allocation and agent capabilities: never sent to a subagent by
    /// a master; kept as raw payload so the session can refuse them.
    Other {
        pdu_type: u8,
        payload: Vec<u8>,
    },
}

impl Pdu {
    pub fn type_code(&self) -> u8 {
        use types::*;
        match self {
            Pdu::Open { .. } => OPEN,
            Pdu::Close { .. } => CLOSE,
            Pdu::Register { .. } => REGISTER,
            Pdu::Unregister { .. } => UNREGISTER,
            Pdu::Get { .. } => GET,
            Pdu::GetNext { .. } => GET_NEXT,
            Pdu::GetBulk { .. } => GET_BULK,
            Pdu::TestSet { .. } => TEST_SET,
            Pdu::CommitSet => COMMIT_SET,
            Pdu::UndoSet => UNDO_SET,
            Pdu::CleanupSet => CLEANUP_SET,
            Pdu::Notify { .. } => NOTIFY,
            Pdu::Ping { .. } => PING,
            Pdu::Response { .. } => RESPONSE,
            Pdu::Other { pdu_type, .. } => *pdu_type,
        }
    }

    pub(super) fn context(&self) -> Option<&Vec<u8>> {
        match self {
            Pdu::Register { context, .. }
            | Pdu::Unregister { context, .. }
            | Pdu::Get { context, .. }
            | Pdu::GetNext { context, .. }
            | Pdu::GetBulk { context, .. }
            | Pdu::TestSet { context, .. }
            | Pdu::Notify { context, .. }
            | Pdu::Ping { context } => context.as_ref(),
            _ => None,
        }
    }
}
