//! Receiver configuration (sans-IO): identify the receiver with a MON-VER poll,
//! then enable what the receiver model needs — CFG-PRT/CFG-MSG/CFG-TP5
//! (+ CFG-TMODE3) on M8-class receivers, CFG-VALSET on F9-class ones — checking
//! ACK/NAK for each command with a timeout and a few retries.
//!
//! Inputs: the decoded messages (the same values the receiver model gets:
//! the stream is decoded once) and the time as a value.
//! Outputs: bytes to write to the receiver, events, and a survey-in result for
//! the caller to persist through a [`SurveyStore`]. A receiver that never
//! answers UBX (NMEA-only) ends in [`ConfigState::NmeaOnly`]: reading goes on.

use crate::events::{Event, EventKind};
use crate::time::NS_PER_SEC;
use serde::Serialize;
use std::collections::VecDeque;

pub mod keys;
mod plan;
mod survey;

pub use crate::gnss::identity::{ReceiverClass, ReceiverIdentity};
use crate::gnss::message::{Message, TimSvin};
pub use crate::gnss::SurveyState;
pub use survey::{MemorySurveyStore, SurveyPosition, SurveyStore};

/// Why a survey-in restart was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SurveyRestartRefused {
    #[error("the receiver's timing mode is off: there is no survey-in to restart")]
    TimingOff,
    #[error("the receiver is not configured (not identified yet, or NMEA only)")]
    NotConfigured,
    #[error("the receiver is being configured; try again in a few seconds")]
    Busy,
}

/// Optional timing mode of the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimingMode {
    /// Leave the receiver navigating (default).
    #[default]
    Off,
    /// Survey in (unless a stored position exists), then hold the position fixed.
    SurveyIn {
        min_duration_s: u32,
        accuracy_limit_mm: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigureParams {
    /// Baud rate written back in CFG-PRT (M8): MUST be the rate we are
    /// talking at (`spawn_gnss_input` sets it from the serial parameters).
    pub baud: u32,
    pub timing: TimingMode,
    /// Receiver port we are connected to (F9 message-output keys are per
    /// port). `None`: guessed from the device path by `spawn_gnss_input`
    /// (`keys::Port::guess`), UART1 when used directly.
    pub port: Option<keys::Port>,
    /// Rate to move a receiver found at another one to (after autobaud), so
    /// a factory-default 9600-baud receiver ends up at the configured rate.
    /// `None`: stay at whatever rate the receiver talks.
    pub target_baud: Option<u32>,
    /// How long to wait for ACK/NAK (and for the MON-VER reply).
    pub ack_timeout_ns: i64,
    /// Extra attempts after the first one.
    pub retries: u32,
}

impl Default for ConfigureParams {
    fn default() -> Self {
        Self {
            baud: 115_200,
            timing: TimingMode::Off,
            port: None,
            target_baud: None,
            ack_timeout_ns: NS_PER_SEC,
            retries: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConfigState {
    #[default]
    Idle,
    Identifying,
    Configuring,
    /// Every command sent; see `failed` for the ones that were refused or unanswered.
    Done,
    /// No UBX reply to MON-VER: reading NMEA only.
    NmeaOnly,
}

/// Outcome of the configuration, for the status snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigureReport {
    pub state: ConfigState,
    /// Which interface the plan used (the identity itself is shown once,
    /// in the receiver view).
    pub class: Option<ReceiverClass>,
    /// Commands the receiver acknowledged (e.g. "CFG-MSG NAV-PVT").
    pub acked: Vec<String>,
    /// Commands refused (NAK) or unanswered, with the reason.
    pub failed: Vec<String>,
    pub survey: SurveyState,
}

#[derive(Debug, Clone)]
struct Step {
    name: String,
    class: u8,
    id: u8,
    payload: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Pending {
    step: Step,
    sent_at_ns: i64,
    attempts: u32,
}

/// The configuration state machine. Call [`Configurator::start`] on every
/// (re)connect, feed it every decoded UBX frame and tick it regularly.
#[derive(Debug)]
pub struct Configurator {
    params: ConfigureParams,
    stored: Option<SurveyPosition>,
    queue: VecDeque<Step>,
    pending: Option<Pending>,
    report: ConfigureReport,
    identity: Option<ReceiverIdentity>,
    events: Vec<Event>,
    survey_result: Option<SurveyPosition>,
    /// Rate the receiver was just told to switch to: the shell follows.
    baud_request: Option<u32>,
    /// Last switch we asked for (to notice one that did not happen).
    baud_switch_tried: Option<u32>,
    /// After an operator restart, TIM-SVIN counts only once the receiver
    /// reports a survey active: replies already in flight still describe
    /// the old, finished one.
    await_active_survey: bool,
}

const MON_VER: (u8, u8) = crate::gnss::ubx::id::MON_VER;

impl Configurator {
    /// `stored`: the position from a previous survey, if any (from a [`SurveyStore`]).
    pub fn new(params: ConfigureParams, stored: Option<SurveyPosition>) -> Self {
        Self {
            params,
            stored,
            queue: VecDeque::new(),
            pending: None,
            report: ConfigureReport::default(),
            identity: None,
            events: Vec::new(),
            survey_result: None,
            baud_request: None,
            baud_switch_tried: None,
            await_active_survey: false,
        }
    }

    /// The line rate changed (autobaud): CFG-PRT must restate the new one.
    pub fn set_baud(&mut self, baud: u32, now_ns: i64) {
        self.params.baud = baud;
        if let Some(tried) = self.baud_switch_tried {
            if baud != tried {
                // We told it to move and it is still (or back) elsewhere: stop
                // asking, or every autobaud round would repeat the switch.
                self.params.target_baud = None;
                self.baud_switch_tried = None;
                self.events.push(Event::new(
                    now_ns,
                    EventKind::GnssBaudSwitchFailed {
                        tried,
                        staying_at: baud,
                    },
                ));
            }
        }
    }

    /// A rate change the receiver was just told to make; the serial shell
    /// must follow with the same rate.
    pub fn take_baud_request(&mut self) -> Option<u32> {
        self.baud_request.take()
    }

    pub fn report(&self) -> &ConfigureReport {
        &self.report
    }

    /// The receiver as identified by the last MON-VER reply.
    pub fn identity(&self) -> Option<&ReceiverIdentity> {
        self.identity.as_ref()
    }

    /// Events produced since the last call (the shell hands them to an `EventSink`).
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// A freshly completed survey-in position, once: the shell saves it.
    pub fn take_survey_result(&mut self) -> Option<SurveyPosition> {
        self.survey_result.take()
    }

    /// Begin (again) after a connect or a receiver reset: poll MON-VER.
    pub fn start(&mut self, now_ns: i64) -> Vec<u8> {
        self.queue.clear();
        self.await_active_survey = false;
        self.report = ConfigureReport {
            state: ConfigState::Identifying,
            ..ConfigureReport::default()
        };
        let step = Step {
            name: "MON-VER poll".into(),
            class: MON_VER.0,
            id: MON_VER.1,
            payload: Vec::new(),
        };
        self.send(step, now_ns, 1)
    }

    fn send(&mut self, step: Step, now_ns: i64, attempts: u32) -> Vec<u8> {
        let bytes = crate::gnss::ubx::frame(step.class, step.id, &step.payload);
        self.pending = Some(Pending {
            step,
            sent_at_ns: now_ns,
            attempts,
        });
        bytes
    }

    fn next(&mut self, now_ns: i64) -> Vec<u8> {
        match self.queue.pop_front() {
            Some(step) => self.send(step, now_ns, 1),
            None => {
                self.pending = None;
                if self.report.state == ConfigState::Configuring {
                    self.finish(now_ns);
                    return self.baud_switch(now_ns);
                }
                Vec::new()
            }
        }
    }

    fn finish(&mut self, now_ns: i64) {
        self.report.state = ConfigState::Done;
        let who = self
            .identity
            .as_ref()
            .and_then(|i| i.model.clone())
            .unwrap_or_else(|| "receiver".into());
        if self.report.failed.is_empty() {
            self.events.push(Event::new(
                now_ns,
                EventKind::GnssConfigured {
                    module: who,
                    acked: u32::try_from(self.report.acked.len()).unwrap_or(u32::MAX),
                },
            ));
        } else {
            self.events.push(Event::new(
                now_ns,
                EventKind::GnssConfigureFailed {
                    module: Some(who),
                    failures: self.report.failed.clone(),
                },
            ));
        }
    }

    /// Feed one decoded message from the receiver (others than MON-VER,
    /// ACK/NAK and TIM-SVIN are ignored).
    pub fn on_message(&mut self, msg: &Message, now_ns: i64) -> Vec<u8> {
        match msg {
            Message::MonVer(v) => self.on_mon_ver(ReceiverIdentity::from_mon_ver(v), now_ns),
            Message::AckAck { class, id } => self.on_ack(*class, *id, true, now_ns),
            Message::AckNak { class, id } => self.on_ack(*class, *id, false, now_ns),
            Message::TimSvin(s) => {
                self.on_tim_svin(s, now_ns);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_ack(&mut self, class: u8, id: u8, ack: bool, now_ns: i64) -> Vec<u8> {
        let Some(pending) = &self.pending else {
            return Vec::new();
        };
        if (pending.step.class, pending.step.id) != (class, id)
            || self.report.state != ConfigState::Configuring
        {
            return Vec::new();
        }
        let name = pending.step.name.clone();
        if ack {
            self.report.acked.push(name);
        } else {
            self.report.failed.push(format!("{name}: NAK"));
        }
        self.next(now_ns)
    }

    fn on_mon_ver(&mut self, identity: ReceiverIdentity, now_ns: i64) -> Vec<u8> {
        if self.report.state != ConfigState::Identifying {
            return Vec::new();
        }
        self.events.push(Event::new(
            now_ns,
            EventKind::GnssIdentified {
                module: identity.model.clone(),
                class: format!("{:?}", identity.class),
                software: identity.software.clone(),
                extensions: identity.extensions.clone(),
            },
        ));
        self.queue = self.plan(identity.class).into();
        self.report.class = Some(identity.class);
        self.identity = Some(identity);
        self.report.state = ConfigState::Configuring;
        self.next(now_ns)
    }

    fn on_tim_svin(&mut self, s: &TimSvin, now_ns: i64) {
        if self.report.survey != SurveyState::InProgress {
            return;
        }
        if self.await_active_survey {
            if !s.active {
                return;
            }
            self.await_active_survey = false;
        }
        if s.valid && !s.active {
            let pos = SurveyPosition {
                ecef_x_cm: s.mean_x_cm,
                ecef_y_cm: s.mean_y_cm,
                ecef_z_cm: s.mean_z_cm,
                accuracy_mm: f64::from(s.mean_v_mm2).sqrt().round() as u32,
            };
            self.report.survey = SurveyState::Fixed;
            self.survey_result = Some(pos);
            self.stored = Some(pos);
            self.events.push(Event::new(
                now_ns,
                EventKind::GnssSurveyComplete {
                    ecef_x_cm: pos.ecef_x_cm,
                    ecef_y_cm: pos.ecef_y_cm,
                    ecef_z_cm: pos.ecef_z_cm,
                    accuracy_mm: pos.accuracy_mm,
                },
            ));
        }
    }

    /// The fixed antenna position in use: this run's survey or the stored one.
    pub fn fixed_position(&self) -> Option<SurveyPosition> {
        (self.report.survey == SurveyState::Fixed)
            .then_some(self.stored)
            .flatten()
    }

    /// Operator action: survey the antenna position again. Queues the
    /// timing-mode commands (ACK-checked like the others) and reports the
    /// survey in progress; the stored position stays on disk until the new
    /// survey replaces it, but is no longer held fixed.
    pub fn restart_survey(
        &mut self,
        by: Option<String>,
        now_ns: i64,
    ) -> Result<Vec<u8>, SurveyRestartRefused> {
        if self.params.timing == TimingMode::Off {
            return Err(SurveyRestartRefused::TimingOff);
        }
        let Some(class) = self.report.class else {
            return Err(SurveyRestartRefused::NotConfigured);
        };
        if self.report.state != ConfigState::Done || self.pending.is_some() {
            return Err(SurveyRestartRefused::Busy);
        }
        self.stored = None;
        self.survey_result = None;
        self.report.survey = SurveyState::InProgress;
        self.report.state = ConfigState::Configuring;
        self.await_active_survey = true;
        self.queue = self.survey_restart_steps(class).into();
        self.events
            .push(Event::new(now_ns, EventKind::GnssSurveyRestarted { by }));
        Ok(self.next(now_ns))
    }

    /// Handle timeouts: retry, or give up on the command.
    pub fn on_tick(&mut self, now_ns: i64) -> Vec<u8> {
        let Some(p) = &self.pending else {
            return Vec::new();
        };
        if now_ns - p.sent_at_ns < self.params.ack_timeout_ns {
            return Vec::new();
        }
        let (step, attempts) = (p.step.clone(), p.attempts);
        if attempts <= self.params.retries {
            return self.send(step, now_ns, attempts + 1);
        }
        if self.report.state == ConfigState::Identifying {
            self.pending = None;
            self.report.state = ConfigState::NmeaOnly;
            self.events.push(Event::new(
                now_ns,
                EventKind::GnssConfigureFailed {
                    module: None,
                    failures: vec![format!(
                        "no reply to MON-VER after {attempts} attempts: NMEA only, not configured"
                    )],
                },
            ));
            return Vec::new();
        }
        self.report
            .failed
            .push(format!("{}: no ACK after {attempts} attempts", step.name));
        self.next(now_ns)
    }
}

#[cfg(test)]
mod tests;
