//! Leap seconds: which leap is coming, whether the sources agree on it, and
//! what to do about it in each mode. Sans-IO: times come in as values.
//!
//! # Sources
//!
//! * **Receiver** (`GnssEpoch.leap`): used only when the receiver marks it
//!   valid *and* it was decoded from the satellites. A firmware-default leap
//!   count is never used, for anything. Stale after `receiver_max_age_ns`.
//! * **File** (`leap-seconds.list`): only a hash-verified file is accepted. It
//!   speaks for instants up to its expiry; it is flagged `expires_soon` within
//!   `expiry_warning_ns` of that and `expired` after.
//! * **Config**: an operator's TAI−UTC and/or a scheduled leap.
//!
//! # Agreement rule
//!
//! The candidate is the earliest leap any trusted source announces whose
//! instant is after `now − grace` (grace = the smear half window in smear mode,
//! one hour otherwise, so a just-passed leap stays visible). It is *scheduled*
//! only when no trusted source contradicts it. A source contradicts when:
//!
//! * it announces a different leap (other instant or direction) at or before
//!   the candidate's instant;
//! * the file is unexpired at the candidate's instant and does not list it;
//! * the receiver, fresh and valid, announces nothing while the candidate is
//!   less than `receiver_silence_horizon_ns` away (receivers broadcast
//!   announcements months ahead, so silence close to the event is a "no");
//! * after the instant (within grace), a source's TAI−UTC is not the post-leap
//!   value.
//!
//! A lone source may schedule a leap (e.g. receiver only, no file) — silence of
//! an absent source is not a contradiction. Disagreement is reported in
//! [`LeapState::agreement`] and as an event, and nothing is scheduled.
//!
//! Receiver announcements must land on the end of a UTC month (within
//! `month_end_tolerance_ns`, which absorbs the ±1 s ambiguity of "time to the
//! event"); others are rejected and reported.
//!
//! # Modes
//!
//! * `kernel`: arm STA_INS/STA_DEL during the last UTC day, clear it after;
//!   keep the kernel's TAI offset set. The kernel does the leap.
//! * `step`: no kernel flag; once the leap instant passes, the clock is to be
//!   stepped by ∓1 s (`step_due_ns`) until [`LeapSchedule::acknowledge_step`].
//! * `smear`: the system clock still follows UTC with the kernel flag (the
//!   appliance's own clock stays true UTC); NTP clients are served clock +
//!   `smear_offset_ns`, linear over 24 h centred on the leap; the advertised
//!   leap indicator stays 0.

pub mod file;
pub mod served;

pub use file::{LeapEntry, LeapFileError, LeapFileLoadError, LeapSecondsList};
pub use served::{leap_indicator_at, served_at, smear_offset_ns, ServedTime, UtcLabel};

use serde::Serialize;

use crate::events::{Event, EventKind};
use crate::gnss::{LeapInfo, TimeOrigin};
use crate::status::LeapIndicator;
use crate::time::{format_rfc3339, NS_PER_SEC, SECS_PER_DAY};

/// GPS − UTC + 19 = TAI − UTC.
pub const TAI_MINUS_GPS_S: i32 = 19;
const DAY_NS: i64 = SECS_PER_DAY * NS_PER_SEC;
const HOUR_NS: i64 = 3600 * NS_PER_SEC;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeapMode {
    #[default]
    Kernel,
    Step,
    Smear,
}

/// A leap second at the end of a UTC month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PendingLeap {
    /// POSIX UTC ns of 00:00:00 of the first day after the leap (the first
    /// instant with the new TAI−UTC). An inserted 23:59:60 is the second
    /// before it; a deleted 23:59:59 is `[at − 1 s, at)`.
    pub at_utc_ns: i64,
    /// true: insert 23:59:60 (TAI−UTC +1); false: delete 23:59:59.
    pub insert: bool,
}

impl PendingLeap {
    /// A leap at the end of `year`-`month` (e.g. 2026, 6 for 2026-06-30
    /// 23:59:60); for config overrides. None for an invalid month.
    pub fn end_of_month(year: i64, month: u32, insert: bool) -> Option<Self> {
        if !(1..=12).contains(&month) {
            return None;
        }
        let (y, m) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let at_utc_ns = crate::time::utc_from_fields(y, m, 1, 0, 0, 0, 0)?;
        Some(Self { at_utc_ns, insert })
    }
}

/// Which kernel status flag the clock should carry now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KernelLeapFlag {
    #[default]
    None,
    /// STA_INS.
    Insert,
    /// STA_DEL.
    Delete,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeapConfig {
    pub mode: LeapMode,
    /// Operator's TAI − UTC, seconds.
    pub tai_utc_override: Option<i32>,
    /// Operator's scheduled leap.
    pub scheduled_override: Option<PendingLeap>,
    /// Warn this long before the file expires.
    pub expiry_warning_ns: i64,
    /// Receiver information older than this is not used.
    pub receiver_max_age_ns: i64,
    /// Within this time before a leap, a receiver announcing nothing contradicts it.
    pub receiver_silence_horizon_ns: i64,
    /// Half width of the smear window (12 h: 24 h centred on the leap).
    pub smear_half_window_ns: i64,
    /// Receiver "time to change" must land this close to a month end.
    pub month_end_tolerance_ns: i64,
}

impl Default for LeapConfig {
    fn default() -> Self {
        Self {
            mode: LeapMode::Kernel,
            tai_utc_override: None,
            scheduled_override: None,
            expiry_warning_ns: 30 * DAY_NS,
            receiver_max_age_ns: HOUR_NS,
            receiver_silence_horizon_ns: 7 * DAY_NS,
            smear_half_window_ns: 12 * HOUR_NS,
            month_end_tolerance_ns: 2 * NS_PER_SEC,
        }
    }
}

/// Whether the sources agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum Agreement {
    /// No trusted source at all.
    #[default]
    NoSources,
    /// Sources agree no leap is coming.
    NoLeap,
    /// Sources agree on the pending leap.
    Agreed,
    /// A source contradicts the candidate (or TAI−UTC differs); nothing scheduled.
    Disagreement(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FileExpiry {
    #[default]
    NoFile,
    Valid,
    ExpiresSoon,
    Expired,
}

/// What one source says, for the status page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceView {
    pub tai_utc: Option<i32>,
    pub announces: Option<PendingLeap>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct LeapSources {
    pub receiver: Option<SourceView>,
    pub file: Option<SourceView>,
    pub config: Option<SourceView>,
    /// Receiver leap reports ignored (invalid or firmware default).
    pub receiver_ignored: u64,
    /// Receiver announcements rejected (not at a month end, bad change).
    pub receiver_rejected: u64,
}

/// The leap picture at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeapState {
    pub mode: LeapMode,
    /// TAI − UTC now (config, else file, else receiver).
    pub tai_utc: Option<i32>,
    /// The scheduled (agreed) leap, if any.
    pub pending: Option<PendingLeap>,
    /// The earliest announced leap, agreed or not.
    pub candidate: Option<PendingLeap>,
    /// To advertise now (NoWarning outside the last day and in smear mode;
    /// the lock state decides Unsynchronized, not this).
    pub leap_indicator: LeapIndicator,
    /// Add to the clock's POSIX reading to get served time (smear mode).
    pub smear_offset_ns: i64,
    /// Kernel flag to carry now (kernel and smear modes).
    pub kernel_flag: KernelLeapFlag,
    /// Step the clock by this much now (step mode, after the leap, until acknowledged).
    pub step_due_ns: Option<i64>,
    pub sources: LeapSources,
    pub agreement: Agreement,
    pub file_expiry_warning: FileExpiry,
    pub file_expires_utc_ns: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct ReceiverObs {
    at_epoch_ns: i64,
    /// None while the receiver's count is ambiguous (just after a leap).
    tai_utc: Option<i32>,
    announces: Option<PendingLeap>,
}

/// Leap-second scheduling from receiver, file and config. See module docs.
#[derive(Debug, Clone)]
pub struct LeapSchedule {
    cfg: LeapConfig,
    receiver: Option<ReceiverObs>,
    file: Option<LeapSecondsList>,
    receiver_ignored: u64,
    receiver_rejected: u64,
    steps_done: Vec<PendingLeap>,
    events: Vec<Event>,
    last_agreement: Option<Agreement>,
    last_expiry: FileExpiry,
}

impl LeapSchedule {
    pub fn new(cfg: LeapConfig) -> Self {
        Self {
            cfg,
            receiver: None,
            file: None,
            receiver_ignored: 0,
            receiver_rejected: 0,
            steps_done: Vec::new(),
            events: Vec::new(),
            last_agreement: None,
            last_expiry: FileExpiry::NoFile,
        }
    }

    pub fn config(&self) -> &LeapConfig {
        &self.cfg
    }

    /// Leap information from the receiver at epoch `epoch_utc_ns`.
    /// Invalid and firmware-default values are ignored (counted).
    pub fn on_receiver(&mut self, info: &LeapInfo, epoch_utc_ns: i64) {
        if !info.valid || info.origin != TimeOrigin::Satellites {
            self.receiver_ignored += 1;
            return;
        }
        let mut tai_utc = Some(info.current as i32 + TAI_MINUS_GPS_S);
        let mut announces = None;
        if info.change != 0 {
            match self.month_end_leap(info, epoch_utc_ns) {
                Ok(Some(l)) => {
                    // A change still flagged after its instant: the receiver is
                    // mid-update and its current count may be either value.
                    if l.at_utc_ns <= epoch_utc_ns {
                        tai_utc = None;
                    }
                    announces = Some(l)
                }
                Ok(None) => {}
                Err(why) => {
                    self.receiver_rejected += 1;
                    self.events.push(Event::new(
                        epoch_utc_ns,
                        EventKind::LeapReceiverRejected { reason: why },
                    ));
                }
            }
        }
        let prev = self.receiver.map(|r| r.announces);
        if announces.is_some() && prev != Some(announces) {
            if let Some(l) = announces {
                self.events.push(Event::new(
                    epoch_utc_ns,
                    EventKind::LeapReceiverAnnounced {
                        at_utc_ns: l.at_utc_ns,
                        direction: if l.insert { 1 } else { -1 },
                    },
                ));
            }
        }
        self.receiver = Some(ReceiverObs {
            at_epoch_ns: epoch_utc_ns,
            tai_utc,
            announces,
        });
    }

    /// `Ok(None)`: the announced event is long past (nothing pending).
    fn month_end_leap(
        &self,
        info: &LeapInfo,
        epoch_ns: i64,
    ) -> Result<Option<PendingLeap>, String> {
        if !matches!(info.change, 1 | -1) {
            return Err(format!("announced change {} is not +-1", info.change));
        }
        let Some(ttc) = info.time_to_change_s else {
            return Err("leap change announced without time to change".into());
        };
        // Negative: time since the event. Just after a leap some receivers
        // still flag the change; keep it for an hour, older is history.
        if ttc < -3600 {
            return Ok(None);
        }
        // Leaps are announced months ahead, never years.
        if ttc > 400 * SECS_PER_DAY {
            return Err(format!("time to change {ttc} s is implausibly far"));
        }
        let candidate = ttc
            .checked_mul(NS_PER_SEC)
            .and_then(|d| epoch_ns.checked_add(d))
            .ok_or_else(|| format!("time to change {ttc} s out of range"))?;
        let midnight = candidate
            .saturating_add(DAY_NS / 2)
            .div_euclid(DAY_NS)
            .saturating_mul(DAY_NS);
        let near = (candidate - midnight).abs() <= self.cfg.month_end_tolerance_ns;
        if near && file::is_month_start(midnight) {
            Ok(Some(PendingLeap {
                at_utc_ns: midnight,
                insert: info.change > 0,
            }))
        } else {
            Err(format!(
                "announced leap at {} is not at the end of a UTC month",
                format_rfc3339(candidate)
            ))
        }
    }

    /// Install a parsed (hash-verified) leap-seconds list.
    pub fn set_file(&mut self, list: LeapSecondsList) {
        self.file = Some(list);
    }

    pub fn clear_file(&mut self) {
        self.file = None;
    }

    /// Step mode: the clock was stepped for this leap.
    pub fn acknowledge_step(&mut self, leap: PendingLeap) {
        if !self.steps_done.contains(&leap) {
            self.steps_done.push(leap);
        }
        // Only recent ones matter.
        if self.steps_done.len() > 8 {
            self.steps_done.remove(0);
        }
    }

    /// Events since the last call (rejections, announcements, agreement and
    /// file-expiry changes seen by [`LeapSchedule::evaluate`]).
    pub fn drain_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// [`LeapSchedule::state`], recording changes of agreement and file expiry as events.
    pub fn evaluate(&mut self, now_utc_ns: i64) -> LeapState {
        let st = self.state(now_utc_ns);
        if self.last_agreement.as_ref() != Some(&st.agreement) {
            let kind = match &st.agreement {
                Agreement::Disagreement(why) => EventKind::LeapDisagreement {
                    reason: why.clone(),
                },
                Agreement::NoSources => EventKind::LeapAgreement {
                    agreement: "no_sources".into(),
                },
                Agreement::NoLeap => EventKind::LeapAgreement {
                    agreement: "no_leap".into(),
                },
                Agreement::Agreed => EventKind::LeapAgreement {
                    agreement: "agreed".into(),
                },
            };
            self.events.push(Event::new(now_utc_ns, kind));
            self.last_agreement = Some(st.agreement.clone());
        }
        if st.file_expiry_warning != self.last_expiry {
            let state = match st.file_expiry_warning {
                FileExpiry::NoFile => "no_file",
                FileExpiry::Valid => "valid",
                FileExpiry::ExpiresSoon => "expires_soon",
                FileExpiry::Expired => "expired",
            };
            self.events.push(Event::new(
                now_utc_ns,
                EventKind::LeapFileExpiry {
                    state: state.into(),
                },
            ));
            self.last_expiry = st.file_expiry_warning;
        }
        st
    }

    fn grace_ns(&self) -> i64 {
        match self.cfg.mode {
            LeapMode::Smear => self.cfg.smear_half_window_ns.max(HOUR_NS),
            _ => HOUR_NS,
        }
    }

    fn fresh_receiver(&self, now: i64) -> Option<ReceiverObs> {
        self.receiver
            .filter(|r| now.saturating_sub(r.at_epoch_ns) <= self.cfg.receiver_max_age_ns)
    }

    /// The leap picture at `now_utc_ns` (the clock's POSIX UTC reading).
    pub fn state(&self, now: i64) -> LeapState {
        let grace = self.grace_ns();
        let horizon = now.saturating_sub(grace);
        let rx = self.fresh_receiver(now);
        let file = self.file.as_ref();

        let rx_view = rx.map(|r| SourceView {
            tai_utc: r.tai_utc.map(|t| match r.announces {
                // Observed before the announced instant, now after it: the
                // offset has changed since.
                Some(l) if r.at_epoch_ns < l.at_utc_ns && l.at_utc_ns <= now => {
                    t + if l.insert { 1 } else { -1 }
                }
                _ => t,
            }),
            announces: r.announces.filter(|l| l.at_utc_ns > horizon),
        });
        let file_view = file.map(|f| SourceView {
            tai_utc: f.tai_utc_at(now),
            announces: f.next_leap_after(horizon),
        });
        let cfg_view = (self.cfg.tai_utc_override.is_some()
            || self.cfg.scheduled_override.is_some())
        .then(|| SourceView {
            tai_utc: self.cfg.tai_utc_override,
            announces: self
                .cfg
                .scheduled_override
                .filter(|l| l.at_utc_ns > horizon),
        });

        let announced = [&rx_view, &file_view, &cfg_view]
            .into_iter()
            .flatten()
            .filter_map(|v| v.announces);
        let candidate = announced.min_by_key(|l| l.at_utc_ns);

        let mut problems: Vec<String> = Vec::new();
        if let Some(c) = candidate {
            let check_announce =
                |name: &str, v: &Option<SourceView>, problems: &mut Vec<String>| {
                    if let Some(SourceView {
                        announces: Some(a), ..
                    }) = v
                    {
                        if *a != c && a.at_utc_ns <= c.at_utc_ns {
                            problems.push(format!("{name} announces {} instead", describe(a)));
                        }
                    }
                };
            check_announce("receiver", &rx_view, &mut problems);
            check_announce("file", &file_view, &mut problems);
            check_announce("config", &cfg_view, &mut problems);
            if let Some(f) = file {
                if c.at_utc_ns <= f.expires_utc_ns && f.leap_at(c.at_utc_ns) != Some(c) {
                    problems.push(format!(
                        "file (valid until then) does not list {}",
                        describe(&c)
                    ));
                }
            }
            if let Some(r) = rx {
                if r.announces.is_none()
                    && c.at_utc_ns > now
                    && c.at_utc_ns - now <= self.cfg.receiver_silence_horizon_ns
                {
                    problems.push(format!("receiver does not announce {}", describe(&c)));
                }
            }
            if c.at_utc_ns <= now {
                // Past the instant: every TAI−UTC must show the change.
                let after: Vec<(&str, i32)> = [("receiver", &rx_view), ("file", &file_view)]
                    .into_iter()
                    .filter_map(|(n, v)| v.as_ref().and_then(|v| v.tai_utc).map(|t| (n, t)))
                    .collect();
                if let Some((_, first)) = after.first() {
                    if after.iter().any(|(_, t)| t != first) {
                        problems.push(format!("TAI-UTC after the leap differs: {after:?}"));
                    }
                }
            }
        }
        // TAI−UTC consistency now.
        let tais: Vec<(&str, i32)> = [
            ("receiver", &rx_view),
            ("file", &file_view),
            ("config", &cfg_view),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.as_ref().and_then(|v| v.tai_utc).map(|t| (n, t)))
        .collect();
        if let Some((_, first)) = tais.first() {
            if tais.iter().any(|(_, t)| t != first) {
                problems.push(format!("TAI-UTC differs between sources: {tais:?}"));
            }
        }
        let any_source = rx_view.is_some() || file_view.is_some() || cfg_view.is_some();
        let agreement = if !problems.is_empty() {
            Agreement::Disagreement(problems.join("; "))
        } else if candidate.is_some() {
            Agreement::Agreed
        } else if any_source {
            Agreement::NoLeap
        } else {
            Agreement::NoSources
        };
        // A TAI−UTC disagreement blocks scheduling too: a source wrong about the
        // offset now is not trusted about the next change either.
        let pending = match agreement {
            Agreement::Agreed => candidate,
            _ => None,
        };
        let tai_utc = self
            .cfg
            .tai_utc_override
            .or_else(|| file_view.as_ref().and_then(|v| v.tai_utc))
            .or_else(|| rx_view.as_ref().and_then(|v| v.tai_utc));

        let mode = self.cfg.mode;
        let leap_indicator = leap_indicator_at(pending, mode, now, false);
        let kernel_flag = match (mode, pending) {
            (LeapMode::Kernel | LeapMode::Smear, Some(l))
                if now >= l.at_utc_ns.saturating_sub(DAY_NS) && now < l.at_utc_ns =>
            {
                if l.insert {
                    KernelLeapFlag::Insert
                } else {
                    KernelLeapFlag::Delete
                }
            }
            _ => KernelLeapFlag::None,
        };
        // Step mode: the clock still reads the pre-leap scale; it reaches the
        // leap at `at` (insert) or at `at − 1 s` (delete: 23:59:59 must not be shown).
        let step_due_ns = match (mode, pending) {
            (LeapMode::Step, Some(l)) if !self.steps_done.contains(&l) => {
                let due_at = if l.insert {
                    l.at_utc_ns
                } else {
                    l.at_utc_ns - NS_PER_SEC
                };
                (now >= due_at).then_some(if l.insert { -NS_PER_SEC } else { NS_PER_SEC })
            }
            _ => None,
        };
        let smear_offset_ns = match (mode, pending) {
            (LeapMode::Smear, Some(l)) => {
                smear_offset_ns(l, now, false, self.cfg.smear_half_window_ns)
            }
            _ => 0,
        };
        let file_expiry_warning = match file {
            None => FileExpiry::NoFile,
            Some(f) if f.is_expired(now) => FileExpiry::Expired,
            Some(f) if f.expires_utc_ns.saturating_sub(now) <= self.cfg.expiry_warning_ns => {
                FileExpiry::ExpiresSoon
            }
            Some(_) => FileExpiry::Valid,
        };
        LeapState {
            mode,
            tai_utc,
            pending,
            candidate,
            leap_indicator,
            smear_offset_ns,
            kernel_flag,
            step_due_ns,
            sources: LeapSources {
                receiver: rx_view,
                file: file_view,
                config: cfg_view,
                receiver_ignored: self.receiver_ignored,
                receiver_rejected: self.receiver_rejected,
            },
            agreement,
            file_expiry_warning,
            file_expires_utc_ns: file.map(|f| f.expires_utc_ns),
        }
    }
}

fn describe(l: &PendingLeap) -> String {
    format!(
        "{} leap second before {}",
        if l.insert { "positive" } else { "negative" },
        format_rfc3339(l.at_utc_ns)
    )
}
