//! Events the engine emits (lock transitions; steps are in `steering`).

use super::Engine;
use crate::discipline::lock::{LockState, Transition};
use crate::store::{Event, Severity};

impl Engine {
    pub(super) fn record_transition(&mut self, t: Transition) {
        let sev = match t.to {
            LockState::Locked => Severity::Notice,
            LockState::Holdover => Severity::Warning,
            LockState::Unsynchronized => Severity::Error,
            LockState::Acquiring => Severity::Info,
        };
        self.events.push(
            Event::new(
                self.utc_of(t.at_ns),
                "lock.transition",
                sev,
                format!(
                    "{{\"from\":\"{}\",\"to\":\"{}\",\"reason\":\"{}\"}}",
                    t.from.as_str(),
                    t.to.as_str(),
                    t.reason.as_str()
                ),
            )
            .durable(),
        );
        self.transitions.push(t);
    }
}
