//! Steering: the start-up step, steps that move every local-time mark, the
//! frequency command, and the kernel's synchronized flag.

use super::Engine;
use crate::clock::ClockCommand;
use crate::discipline::lock::LockState;
use crate::events::{Event, EventKind};
use crate::time::NS_PER_SEC;

impl Engine {
    /// A step is allowed once, at start-up, before the first lock.
    pub(super) fn maybe_startup_step(&mut self) {
        if self.stepped || self.lock.ever_locked() || self.servo.accepted() < 3 {
            return;
        }
        let Some(st) = self.servo_time else { return };
        // The offset now, not at the sample: corrections keep running meanwhile.
        let x = self.offset_now_ns();
        if x.abs() <= self.cfg.step_threshold_ns as f64 {
            // Small enough to slew: start-up no longer steps.
            if self.servo.accepted() >= 8 {
                self.stepped = true;
            }
            return;
        }
        let delta = -(x.round() as i64);
        self.servo.shift_phase(delta as f64);
        self.step_clock(st, delta, "startup");
    }

    /// Step the clock by `delta` and move every local-time mark with it.
    pub(super) fn step_clock(&mut self, servo_time: i64, delta: i64, reason: &str) {
        self.commands.push(ClockCommand::Step { delta_ns: delta });
        self.servo_time = Some(servo_time.saturating_add(delta));
        self.log.shift(delta);
        self.pairing.reset();
        let h = &mut self.health;
        for t in [
            &mut h.last_edge_local,
            &mut h.last_valid_time_local,
            &mut h.last_epoch_local,
        ] {
            if let Some(v) = t.as_mut() {
                *v = v.saturating_add(delta);
            }
        }
        for t in [
            &mut self.last_update_local,
            &mut self.last_distrust_local,
            &mut self.jump_since_local,
            &mut self.last_model_local,
        ] {
            if let Some(v) = t.as_mut() {
                *v = v.saturating_add(delta);
            }
        }
        for (t, _) in self.jump_innovations.iter_mut() {
            *t = t.saturating_add(delta);
        }
        self.lock.shift(delta);
        self.now_local = self.now_local.saturating_add(delta);
        self.stepped = true;
        self.steps += 1;
        let utc = self.now_local;
        self.events.push(Event::new(
            utc,
            EventKind::ClockStep {
                delta_ns: delta,
                reason: reason.to_string(),
            },
        ));
    }

    pub(super) fn steer(&mut self, now: i64) {
        let Some(st) = self.servo_time else {
            return;
        };
        let dt = (now.saturating_sub(st)) as f64 / NS_PER_SEC as f64;
        let u = self.log.integral(st, now);
        let dtemp = self.dtemp();
        let mut x = self.servo.extrapolate_offset_ns(dt, u, dtemp);
        let y = self.servo.extrapolate_frequency(dt, dtemp);
        if !self.stepped && !self.lock.ever_locked() {
            // Until the start-up step decision: hold frequency, leave phase.
            x = 0.0;
        }
        let ppm = self.servo.steer_for(x, y);
        self.note_correction(x, ppm, now);
        if !self.took_over {
            self.took_over = true;
            self.commands.push(ClockCommand::ReleasePll);
        }
        self.log.set(now, ppm);
        self.commands.push(ClockCommand::SetFrequency { ppm });
    }

    /// Other programs see the clock as synchronized exactly when NTP serves
    /// it at stratum 1 (locked or holdover within the bound).
    pub(super) fn sync_command(&mut self) {
        let synchronized = matches!(self.lock.state(), LockState::Locked | LockState::Holdover);
        if self.sync_told != Some(synchronized) {
            self.sync_told = Some(synchronized);
            self.commands.push(ClockCommand::SetSync { synchronized });
        }
    }
}
