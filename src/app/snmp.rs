//! The SNMP part: the AgentX subagent as one supervised task.

use super::services::Services;
use crate::snmp::{run_subagent, AgentxAddr, SubagentParams};

/// Start the subagent when an AgentX address is configured.
pub fn start_snmp(svc: &mut Services, addr: AgentxAddr, heartbeat_interval_s: u32) {
    let params = SubagentParams {
        addr,
        heartbeat_interval_s,
    };
    let snapshot = svc.snapshot_rx();
    let served = svc.server_fields.clone();
    svc.supervisor.spawn("snmp", move |shutdown| {
        run_subagent(params.clone(), snapshot.clone(), served.clone(), shutdown)
    });
}
