//! The engine's use of the leap schedule (owned by `leap`): feeds it receiver
//! information, turns its verdict into clock commands (kernel flag, TAI
//! offset, step-mode step) and keeps the servo away from the leap second.

use super::leap::{KernelLeapFlag, LeapConfig, LeapMode, LeapSchedule, LeapState};
use crate::clock::{ClockCommand, LeapFlag};
use crate::gnss::LeapInfo;
use crate::server_fields::LeapIndicator;
use crate::time::NS_PER_SEC;

#[derive(Debug, Clone)]
pub struct LeapView {
    schedule: LeapSchedule,
    flag: LeapFlag,
    tai: Option<i32>,
}

impl Default for LeapView {
    fn default() -> Self {
        Self::new(LeapMode::Kernel, None)
    }
}

impl LeapView {
    /// `tai_utc_override`: the operator's TAI − UTC (config `[leap] override`).
    pub fn new(mode: LeapMode, tai_utc_override: Option<i32>) -> Self {
        Self {
            schedule: LeapSchedule::new(LeapConfig {
                mode,
                tai_utc_override,
                ..LeapConfig::default()
            }),
            flag: LeapFlag::None,
            tai: None,
        }
    }

    pub fn schedule_mut(&mut self) -> &mut LeapSchedule {
        &mut self.schedule
    }

    pub fn on_receiver(&mut self, info: &LeapInfo, epoch_utc_ns: Option<i64>) {
        if let Some(t) = epoch_utc_ns {
            self.schedule.on_receiver(info, t);
        }
    }

    /// Samples within 2 s of a scheduled leap are not used: receivers and
    /// kernels disagree on how to label that second.
    pub fn near_leap(&self, utc_ns: i64) -> bool {
        self.schedule
            .state(utc_ns)
            .pending
            .is_some_and(|l| (utc_ns - l.at_utc_ns).abs() <= 2 * NS_PER_SEC)
    }

    /// Commands to carry out the schedule at `utc_ns`. Only while the clock is
    /// serving time (locked or holdover): an unsynchronized clock's idea of
    /// midnight is not good enough to arm a leap.
    pub fn commands(&mut self, utc_ns: i64, serving: bool) -> Vec<ClockCommand> {
        let mut out = Vec::new();
        if !serving {
            return out;
        }
        let st = self.schedule.evaluate(utc_ns);
        let flag = match st.kernel_flag {
            KernelLeapFlag::None => LeapFlag::None,
            KernelLeapFlag::Insert => LeapFlag::Insert,
            KernelLeapFlag::Delete => LeapFlag::Delete,
        };
        if flag != self.flag {
            self.flag = flag;
            out.push(ClockCommand::SetLeap { flag });
        }
        if let Some(t) = st.tai_utc {
            if self.tai != Some(t) {
                self.tai = Some(t);
                out.push(ClockCommand::SetTaiOffset { seconds: t });
            }
        }
        if let (Some(d), Some(l)) = (st.step_due_ns, st.pending.or(st.candidate)) {
            out.push(ClockCommand::Step { delta_ns: d });
            self.schedule.acknowledge_step(l);
        }
        out
    }

    /// The kernel executed the armed leap (the flag cleared itself).
    pub fn kernel_flag_cleared(&mut self) {
        self.flag = LeapFlag::None;
    }

    pub fn indicator(&self, utc_ns: i64) -> LeapIndicator {
        self.schedule.state(utc_ns).leap_indicator
    }

    pub fn status(&self, utc_ns: i64) -> LeapState {
        self.schedule.state(utc_ns)
    }

    pub fn drain_events(&mut self) -> Vec<crate::store::Event> {
        self.schedule.drain_events()
    }
}
