//! Typed receiver changes: what the receiver model observed to change
//! between epochs, returned as values (the shell turns them into events).

use serde::Serialize;

use super::status::SurveyIn;
use crate::gnss::*;

/// Survey-in state as TIM-SVIN reports it.
pub fn survey_state(s: &SurveyIn) -> SurveyState {
    if s.active {
        SurveyState::InProgress
    } else if s.valid {
        SurveyState::Fixed
    } else {
        SurveyState::Off
    }
}

/// One change of a receiver-side state. `from` is `None` for the first
/// value seen after start (or after the link came back).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ReceiverChange {
    Antenna {
        from: Option<AntennaStatus>,
        to: AntennaStatus,
        power: AntennaPower,
    },
    Jamming {
        from: Option<JammingState>,
        to: JammingState,
        /// CW jamming indicator 0..255 when reported.
        indicator: Option<u8>,
    },
    Spoofing {
        from: Option<SpoofingState>,
        to: SpoofingState,
    },
    Fix {
        from: Option<FixMode>,
        to: FixMode,
        sats_used: Option<u32>,
    },
    Survey {
        from: Option<SurveyState>,
        to: SurveyState,
        /// √(3D variance of the mean position), when the receiver gave one.
        accuracy_mm: Option<u32>,
    },
}

impl ReceiverChange {
    /// The event kind the shell emits this change as (a contract name).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Antenna { .. } => "antenna.state",
            Self::Jamming { .. } => "jamming.state",
            Self::Spoofing { .. } => "spoofing.state",
            Self::Fix { .. } => "fix.state",
            Self::Survey { .. } => "survey.state",
        }
    }

    /// The new state is a fault a user must see (the event's severity is
    /// the events module's; this is for the model's own users and tests).
    pub fn is_fault(&self) -> bool {
        match self {
            Self::Antenna { to, .. } => matches!(to, AntennaStatus::Open | AntennaStatus::Short),
            Self::Jamming { to, .. } => {
                matches!(to, JammingState::Warning | JammingState::Critical)
            }
            Self::Spoofing { to, .. } => {
                matches!(to, SpoofingState::Indicated | SpoofingState::Multiple)
            }
            Self::Fix { from, to, .. } => *to == FixMode::None && from.is_some(),
            Self::Survey { .. } => false,
        }
    }
}

/// The last value seen of each tracked state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tracker {
    antenna: Option<AntennaStatus>,
    jamming: Option<JammingState>,
    spoofing: Option<SpoofingState>,
    fix: Option<FixMode>,
    survey: Option<SurveyState>,
}

impl Tracker {
    /// Compare a closed epoch with what was seen before. `fix_reported`:
    /// the epoch carried a fix message (an epoch without one says nothing
    /// about the fix).
    pub fn epoch(&mut self, e: &GnssEpoch, fix_reported: bool, out: &mut Vec<ReceiverChange>) {
        if let Some(a) = e.antenna.filter(|a| a.status != AntennaStatus::Unknown) {
            if let Some(from) = changed(&mut self.antenna, a.status) {
                out.push(ReceiverChange::Antenna {
                    from,
                    to: a.status,
                    power: a.power,
                });
            }
        }
        if let Some(sec) = e.security {
            if sec.jamming != JammingState::Unknown {
                if let Some(from) = changed(&mut self.jamming, sec.jamming) {
                    out.push(ReceiverChange::Jamming {
                        from,
                        to: sec.jamming,
                        indicator: e.antenna.and_then(|a| a.jamming),
                    });
                }
            }
            if sec.spoofing != SpoofingState::Unknown {
                if let Some(from) = changed(&mut self.spoofing, sec.spoofing) {
                    out.push(ReceiverChange::Spoofing {
                        from,
                        to: sec.spoofing,
                    });
                }
            }
        }
        if fix_reported {
            if let Some(from) = changed(&mut self.fix, e.fix.mode) {
                out.push(ReceiverChange::Fix {
                    from,
                    to: e.fix.mode,
                    sats_used: e.fix.sats_used,
                });
            }
        }
    }

    pub fn survey(&mut self, s: &SurveyIn, out: &mut Vec<ReceiverChange>) {
        let phase = survey_state(s);
        if let Some(from) = changed(&mut self.survey, phase) {
            out.push(ReceiverChange::Survey {
                from,
                to: phase,
                accuracy_mm: (s.variance_mm2 > 0)
                    .then(|| f64::from(s.variance_mm2).sqrt().round() as u32),
            });
        }
    }
}

/// `Some(previous)` when `new` differs from what `last` held; updates it.
fn changed<T: Copy + PartialEq>(last: &mut Option<T>, new: T) -> Option<Option<T>> {
    let prev = *last;
    (prev != Some(new)).then(|| {
        *last = Some(new);
        prev
    })
}
