//! Events the engine emits (lock transitions; steps are in `steering`).

use super::Engine;
use crate::discipline::lock::Transition;
use crate::events::{Event, EventKind};

impl Engine {
    pub(super) fn record_transition(&mut self, t: Transition) {
        self.events.push(Event::new(
            self.utc_of(t.at_ns),
            EventKind::LockTransition {
                from: t.from.as_str().into(),
                to: t.to.as_str().into(),
                reason: t.reason.as_str().into(),
            },
        ));
        self.transitions.push(t);
    }
}
