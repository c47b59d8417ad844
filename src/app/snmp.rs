//! The SNMP part: the AgentX subagent as one supervised task.

use super::services::Services;
use crate::snmp::{run_subagent, AgentxAddr, SubagentInputs, SubagentParams};
use std::sync::Arc;

/// Start the subagent when an AgentX address is configured.
pub fn start_snmp(svc: &mut Services, addr: AgentxAddr, heartbeat_interval_s: u32) {
    let params = SubagentParams {
        addr,
        heartbeat_interval_s,
    };
    let snapshot = svc.snapshot_rx();
    let served = svc.server_fields.clone();
    let live = svc.events_live.clone();
    // Kept across restarts of the task: requests queue here meanwhile.
    let requests = Arc::new(tokio::sync::Mutex::new(svc.snmp_rx.take()));
    let counters = svc.snmp_counters.clone();
    counters.enable();
    svc.supervisor.spawn("snmp", move |shutdown| {
        let inputs = SubagentInputs {
            snapshot: snapshot.clone(),
            served: served.clone(),
            events: live.subscribe(),
            requests: requests.clone(),
            counters: counters.clone(),
        };
        run_subagent(params.clone(), inputs, shutdown)
    });
}
