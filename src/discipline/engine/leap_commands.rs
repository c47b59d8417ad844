//! Leap commands: what the leap view asks of the clock each tick.

use super::Engine;
use crate::discipline::lock::LockState;

impl Engine {
    pub(super) fn leap_commands(&mut self, now: i64) {
        let utc = self.utc_of(now);
        let serving = matches!(self.lock.state(), LockState::Locked | LockState::Holdover);
        for c in self.leap.commands(utc, serving) {
            self.commands.push(c);
        }
        self.events.extend(self.leap.drain_events());
    }
}
