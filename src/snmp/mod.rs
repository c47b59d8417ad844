//! SNMP through net-snmp: the daemon is an AgentX subagent (RFC 2741) of
//! Debian's `snmpd`, which owns SNMPv1/v2c/v3 security; we never parse SNMP
//! messages ourselves.
//!
//! - [`oid`]: object identifiers.
//! - [`pdu`]: AgentX PDU types.
//! - [`codec`]: AgentX PDUs ⇄ bytes (sans-IO, hostile-input safe).
//! - [`table`]: the sorted OID table a session answers from.
//! - [`session`]: the subagent session state machine (sans-IO).
//! - [`mib`]: snapshot → NTPv4-MIB and GNSS-TIMESERVER-MIB objects.
//! - [`notify`]: snapshot transitions → notifications.
//! - [`pending`]: notifications waiting for a session (bounded, aged).
//! - [`shell`]: the connection task: connect, reconnect with backoff.

pub mod codec;
pub mod mib;
pub mod notify;
pub mod oid;
pub mod pdu;
pub mod pending;
pub mod session;
pub mod shell;
pub mod table;

pub use oid::Oid;
pub use shell::{run_subagent, SubagentInputs, SubagentParams};

use std::path::PathBuf;

/// Where snmpd's AgentX master listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentxAddr {
    Unix(PathBuf),
    /// `host:port`
    Tcp(String),
}

impl AgentxAddr {
    /// A path (`/var/agentx/master`, `unix:PATH`) or `tcp:HOST:PORT`, as
    /// snmpd's `agentXSocket` spells them.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(hp) = s.strip_prefix("tcp:") {
            let ok = hp
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return Err(format!("`{s}`: expected tcp:HOST:PORT"));
            }
            return Ok(AgentxAddr::Tcp(hp.to_string()));
        }
        let path = s.strip_prefix("unix:").unwrap_or(s);
        if path.is_empty() {
            return Err("empty socket path".into());
        }
        Ok(AgentxAddr::Unix(PathBuf::from(path)))
    }
}

impl std::fmt::Display for AgentxAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentxAddr::Unix(p) => write!(f, "{}", p.display()),
            AgentxAddr::Tcp(hp) => write!(f, "tcp:{hp}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agentx_addresses_parse_as_snmpd_spells_them() {
        assert_eq!(
            AgentxAddr::parse("/var/agentx/master"),
            Ok(AgentxAddr::Unix("/var/agentx/master".into()))
        );
        assert_eq!(
            AgentxAddr::parse("unix:/tmp/x"),
            Ok(AgentxAddr::Unix("/tmp/x".into()))
        );
        assert_eq!(
            AgentxAddr::parse("tcp:localhost:705"),
            Ok(AgentxAddr::Tcp("localhost:705".into()))
        );
        assert!(AgentxAddr::parse("tcp:localhost").is_err());
        assert!(AgentxAddr::parse("tcp::705").is_err());
        assert!(AgentxAddr::parse("").is_err());
    }
}
