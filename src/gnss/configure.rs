//! Receiver configuration (sans-IO): identify the receiver with a MON-VER poll,
//! then enable what the receiver model needs — CFG-PRT/CFG-MSG/CFG-TP5
//! (+ CFG-TMODE3) on M8-class receivers, CFG-VALSET on F9-class ones — checking
//! ACK/NAK for each command with a timeout and a few retries.
//!
//! Inputs: decoded UBX frames (`class`, `id`, payload) and the time as a value.
//! Outputs: bytes to write to the receiver, events, and a survey-in result for
//! the caller to persist through a [`SurveyStore`]. A receiver that never
//! answers UBX (NMEA-only) ends in [`ConfigState::NmeaOnly`]: reading goes on.

use crate::store::{Event, Severity};
use crate::time::NS_PER_SEC;
use serde::Serialize;
use std::collections::VecDeque;

/// u-blox configuration keys (F9-class configuration interface) used here.
pub mod keys {
    pub const UART1OUTPROT_UBX: u32 = 0x1074_0001;
    pub const UART1OUTPROT_NMEA: u32 = 0x1074_0002;

    pub const TP_PULSE_DEF: u32 = 0x2005_0023;
    pub const TP_PULSE_LENGTH_DEF: u32 = 0x2005_0030;
    pub const TP_PERIOD_TP1: u32 = 0x4005_0002;
    pub const TP_PERIOD_LOCK_TP1: u32 = 0x4005_0003;
    pub const TP_LEN_TP1: u32 = 0x4005_0004;
    pub const TP_LEN_LOCK_TP1: u32 = 0x4005_0005;
    pub const TP_TP1_ENA: u32 = 0x1005_0007;
    pub const TP_SYNC_GNSS_TP1: u32 = 0x1005_0008;
    pub const TP_USE_LOCKED_TP1: u32 = 0x1005_0009;
    pub const TP_ALIGN_TO_TOW_TP1: u32 = 0x1005_000a;
    pub const TP_POL_TP1: u32 = 0x1005_000b;
    pub const TP_TIMEGRID_TP1: u32 = 0x2005_000c;

    pub const TMODE_MODE: u32 = 0x2003_0001;
    pub const TMODE_POS_TYPE: u32 = 0x2003_0002;
    pub const TMODE_ECEF_X: u32 = 0x4003_0003;
    pub const TMODE_ECEF_Y: u32 = 0x4003_0004;
    pub const TMODE_ECEF_Z: u32 = 0x4003_0005;
    pub const TMODE_FIXED_POS_ACC: u32 = 0x4003_000f;
    pub const TMODE_SVIN_MIN_DUR: u32 = 0x4003_0010;
    pub const TMODE_SVIN_ACC_LIMIT: u32 = 0x4003_0011;

    /// CFG-MSGOUT-UBX_*_UART1 keys and the (class, id) they enable.
    pub const MSGOUT_UART1: [(u32, (u8, u8)); 12] = [
        (0x2091_0007, (0x01, 0x07)), // NAV-PVT
        (0x2091_0016, (0x01, 0x35)), // NAV-SAT
        (0x2091_005c, (0x01, 0x21)), // NAV-TIMEUTC
        (0x2091_0061, (0x01, 0x26)), // NAV-TIMELS
        (0x2091_0066, (0x01, 0x22)), // NAV-CLOCK
        (0x2091_001b, (0x01, 0x03)), // NAV-STATUS
        (0x2091_017e, (0x0D, 0x01)), // TIM-TP
        (0x2091_0098, (0x0D, 0x04)), // TIM-SVIN
        (0x2091_035a, (0x0A, 0x38)), // MON-RF
        (0x2091_0635, (0x27, 0x09)), // SEC-SIG
        (0x2091_01b5, (0x0A, 0x09)), // MON-HW
        (0x2091_0160, (0x01, 0x61)), // NAV-EOE
    ];

    const OTHER_KNOWN: [u32; 22] = [
        UART1OUTPROT_UBX,
        UART1OUTPROT_NMEA,
        TP_PULSE_DEF,
        TP_PULSE_LENGTH_DEF,
        TP_PERIOD_TP1,
        TP_PERIOD_LOCK_TP1,
        TP_LEN_TP1,
        TP_LEN_LOCK_TP1,
        TP_TP1_ENA,
        TP_SYNC_GNSS_TP1,
        TP_USE_LOCKED_TP1,
        TP_ALIGN_TO_TOW_TP1,
        TP_POL_TP1,
        TP_TIMEGRID_TP1,
        TMODE_MODE,
        TMODE_POS_TYPE,
        TMODE_ECEF_X,
        TMODE_ECEF_Y,
        TMODE_ECEF_Z,
        TMODE_FIXED_POS_ACC,
        TMODE_SVIN_MIN_DUR,
        TMODE_SVIN_ACC_LIMIT,
    ];

    /// Value size in bytes, from the key's size field (bits 28..30).
    pub fn value_size(key: u32) -> Option<usize> {
        match (key >> 28) & 0x7 {
            1 | 2 => Some(1),
            3 => Some(2),
            4 => Some(4),
            5 => Some(8),
            _ => None,
        }
    }

    pub fn msgout_message(key: u32) -> Option<(u8, u8)> {
        MSGOUT_UART1
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, id)| *id)
    }

    pub fn msgout_key(id: (u8, u8)) -> Option<u32> {
        MSGOUT_UART1.iter().find(|(_, m)| *m == id).map(|(k, _)| *k)
    }

    pub fn is_known(key: u32) -> bool {
        msgout_message(key).is_some() || OTHER_KNOWN.contains(&key)
    }
}

/// Which configuration interface the receiver speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverClass {
    /// Protocol < 24 (M8 and older): CFG-MSG, CFG-PRT, CFG-TP5, CFG-TMODE3.
    M8,
    /// Protocol ≥ 27 (F9, M9, X20): CFG-VALSET keys.
    F9,
}

/// What MON-VER said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    pub software: String,
    pub hardware: String,
    pub extensions: Vec<String>,
    /// e.g. (22, 0) for "PROTVER=22.00".
    pub protocol: Option<(u16, u16)>,
    /// e.g. "NEO-M8T-0", "ZED-F9T".
    pub module: Option<String>,
    pub class: ReceiverClass,
}

fn field(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim().to_string()
}

/// Parse a MON-VER payload (30-byte software, 10-byte hardware, 30-byte extensions).
pub fn parse_mon_ver(p: &[u8]) -> Option<Identity> {
    let software = field(p.get(..30)?);
    let hardware = field(p.get(30..40)?);
    let extensions: Vec<String> = p
        .get(40..)
        .unwrap_or(&[])
        .chunks(30)
        .map(field)
        .filter(|s| !s.is_empty())
        .collect();
    let value = |name: &str| {
        extensions.iter().find_map(|e| {
            let rest = e.strip_prefix(name)?;
            Some(rest.trim_start_matches(['=', ' ']).trim().to_string())
        })
    };
    let protocol = value("PROTVER").and_then(|v| {
        let (a, b) = v.split_once('.').unwrap_or((v.as_str(), "0"));
        Some((a.trim().parse().ok()?, b.trim().parse().unwrap_or(0)))
    });
    let module = value("MOD");
    let class = match protocol {
        Some((major, _)) if major >= 24 => ReceiverClass::F9,
        Some(_) => ReceiverClass::M8,
        // No PROTVER (old firmware): hardware generation 0019/0020+ is F9-class.
        None => match hardware
            .get(..4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
        {
            Some(gen) if gen >= 0x19 => ReceiverClass::F9,
            _ => ReceiverClass::M8,
        },
    };
    Some(Identity {
        software,
        hardware,
        extensions,
        protocol,
        module,
        class,
    })
}

/// Antenna reference point position, ECEF, as the receiver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SurveyPosition {
    pub ecef_x_cm: i32,
    pub ecef_y_cm: i32,
    pub ecef_z_cm: i32,
    /// 3D accuracy of the position, mm.
    pub accuracy_mm: u32,
}

/// Where the surveyed position lives between restarts (the store on the
/// appliance; memory in tests).
pub trait SurveyStore: Send {
    fn load(&self) -> Option<SurveyPosition>;
    fn save(&mut self, pos: &SurveyPosition) -> Result<(), String>;
}

/// In-memory [`SurveyStore`] (tests, `demo` without a database).
#[derive(Debug, Default, Clone)]
pub struct MemorySurveyStore {
    pub position: Option<SurveyPosition>,
}

impl SurveyStore for MemorySurveyStore {
    fn load(&self) -> Option<SurveyPosition> {
        self.position
    }
    fn save(&mut self, pos: &SurveyPosition) -> Result<(), String> {
        self.position = Some(*pos);
        Ok(())
    }
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
            ack_timeout_ns: NS_PER_SEC,
            retries: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SurveyState {
    #[default]
    Off,
    InProgress,
    /// Fixed position from a completed survey (this run or a stored one).
    Fixed,
}

/// Outcome of the configuration, for the status snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigureReport {
    pub state: ConfigState,
    pub identity: Option<Identity>,
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
    events: Vec<Event>,
    survey_result: Option<SurveyPosition>,
}

const MON_VER: (u8, u8) = (0x0A, 0x04);

fn msg_name(id: (u8, u8)) -> &'static str {
    match id {
        (0x01, 0x07) => "NAV-PVT",
        (0x01, 0x35) => "NAV-SAT",
        (0x01, 0x21) => "NAV-TIMEUTC",
        (0x01, 0x26) => "NAV-TIMELS",
        (0x01, 0x22) => "NAV-CLOCK",
        (0x01, 0x03) => "NAV-STATUS",
        (0x0D, 0x01) => "TIM-TP",
        (0x0D, 0x04) => "TIM-SVIN",
        (0x0A, 0x09) => "MON-HW",
        (0x0A, 0x38) => "MON-RF",
        (0x27, 0x09) => "SEC-SIG",
        (0x01, 0x61) => "NAV-EOE",
        _ => "?",
    }
}

/// A UBX frame (the host side's encoder for commands).
pub fn ubx_frame(class: u8, id: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len().min(usize::from(u16::MAX));
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(&[0xB5, 0x62, class, id, len as u8, (len >> 8) as u8]);
    out.extend_from_slice(&payload[..len]);
    let (a, b) = out[2..].iter().fold((0u8, 0u8), |(a, b), &x| {
        let a = a.wrapping_add(x);
        (a, b.wrapping_add(a))
    });
    out.extend_from_slice(&[a, b]);
    out
}

impl Configurator {
    /// `stored`: the position from a previous survey, if any (from a [`SurveyStore`]).
    pub fn new(params: ConfigureParams, stored: Option<SurveyPosition>) -> Self {
        Self {
            params,
            stored,
            queue: VecDeque::new(),
            pending: None,
            report: ConfigureReport::default(),
            events: Vec::new(),
            survey_result: None,
        }
    }

    pub fn report(&self) -> &ConfigureReport {
        &self.report
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
        let bytes = ubx_frame(step.class, step.id, &step.payload);
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
                }
                Vec::new()
            }
        }
    }

    fn finish(&mut self, now_ns: i64) {
        self.report.state = ConfigState::Done;
        let who = self
            .report
            .identity
            .as_ref()
            .and_then(|i| i.module.clone())
            .unwrap_or_else(|| "receiver".into());
        if self.report.failed.is_empty() {
            self.events.push(Event::new(
                now_ns,
                "gnss.configured",
                Severity::Info,
                format!("{who}: {} commands acknowledged", self.report.acked.len()),
            ));
        } else {
            self.events.push(Event::new(
                now_ns,
                "gnss.configure_failed",
                Severity::Warning,
                format!("{who}: failed: {}", self.report.failed.join("; ")),
            ));
        }
    }

    /// Feed one decoded UBX frame from the receiver.
    pub fn on_ubx(&mut self, class: u8, id: u8, payload: &[u8], now_ns: i64) -> Vec<u8> {
        match (class, id) {
            (0x0A, 0x04) => self.on_mon_ver(payload, now_ns),
            (0x05, ack @ (0x00 | 0x01)) => {
                let Some(pending) = &self.pending else {
                    return Vec::new();
                };
                if payload.get(..2) != Some(&[pending.step.class, pending.step.id][..])
                    || self.report.state != ConfigState::Configuring
                {
                    return Vec::new();
                }
                let name = pending.step.name.clone();
                if ack == 0x01 {
                    self.report.acked.push(name);
                } else {
                    self.report.failed.push(format!("{name}: NAK"));
                }
                self.next(now_ns)
            }
            (0x0D, 0x04) => {
                self.on_tim_svin(payload, now_ns);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_mon_ver(&mut self, payload: &[u8], now_ns: i64) -> Vec<u8> {
        if self.report.state != ConfigState::Identifying {
            return Vec::new();
        }
        let Some(identity) = parse_mon_ver(payload) else {
            return Vec::new();
        };
        self.events.push(Event::new(
            now_ns,
            "gnss.identified",
            Severity::Info,
            format!(
                "{} ({:?}-class), {}, {}",
                identity.module.as_deref().unwrap_or("unknown module"),
                identity.class,
                identity.software,
                identity.extensions.join(", ")
            ),
        ));
        self.queue = self.plan(identity.class).into();
        self.report.identity = Some(identity);
        self.report.state = ConfigState::Configuring;
        self.next(now_ns)
    }

    fn on_tim_svin(&mut self, p: &[u8], now_ns: i64) {
        if self.report.survey != SurveyState::InProgress || p.len() < 28 {
            return;
        }
        let i4 = |o: usize| i32::from_le_bytes([p[o], p[o + 1], p[o + 2], p[o + 3]]);
        let mean_v = u32::from_le_bytes([p[16], p[17], p[18], p[19]]);
        let (valid, active) = (p[24], p[25]);
        if valid == 1 && active == 0 {
            let pos = SurveyPosition {
                ecef_x_cm: i4(4),
                ecef_y_cm: i4(8),
                ecef_z_cm: i4(12),
                accuracy_mm: f64::from(mean_v).sqrt().round() as u32,
            };
            self.report.survey = SurveyState::Fixed;
            self.survey_result = Some(pos);
            self.stored = Some(pos);
            self.events.push(
                Event::new(
                    now_ns,
                    "gnss.survey_complete",
                    Severity::Notice,
                    format!(
                        "ECEF ({}, {}, {}) cm, accuracy {} mm",
                        pos.ecef_x_cm, pos.ecef_y_cm, pos.ecef_z_cm, pos.accuracy_mm
                    ),
                )
                .durable(),
            );
        }
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
                "gnss.configure_failed",
                Severity::Warning,
                format!("no reply to MON-VER after {attempts} attempts: NMEA only, not configured"),
            ));
            return Vec::new();
        }
        self.report
            .failed
            .push(format!("{}: no ACK after {attempts} attempts", step.name));
        self.next(now_ns)
    }

    fn wanted_messages(&self, class: ReceiverClass) -> Vec<(u8, u8)> {
        let mut v = vec![
            (0x01, 0x07),
            (0x01, 0x35),
            (0x01, 0x21),
            (0x01, 0x26),
            (0x01, 0x22),
            (0x01, 0x03),
            (0x0D, 0x01),
        ];
        match class {
            ReceiverClass::M8 => v.push((0x0A, 0x09)),
            ReceiverClass::F9 => v.extend([(0x0A, 0x38), (0x27, 0x09)]),
        }
        if self.params.timing != TimingMode::Off {
            v.push((0x0D, 0x04));
        }
        // End-of-epoch marker: the epoch closes as soon as its last message
        // arrives instead of when the next second's first one does.
        v.push((0x01, 0x61));
        v
    }

    fn plan(&mut self, class: ReceiverClass) -> Vec<Step> {
        let survey = self.survey_plan();
        match class {
            ReceiverClass::M8 => self.plan_m8(survey),
            ReceiverClass::F9 => self.plan_f9(survey),
        }
    }

    /// `Some((mode, position))`: 1 = survey-in, 2 = fixed at `position`.
    fn survey_plan(&mut self) -> Option<(u8, Option<SurveyPosition>)> {
        match self.params.timing {
            TimingMode::Off => None,
            TimingMode::SurveyIn { .. } => match self.stored {
                Some(pos) => {
                    self.report.survey = SurveyState::Fixed;
                    Some((2, Some(pos)))
                }
                None => {
                    self.report.survey = SurveyState::InProgress;
                    Some((1, None))
                }
            },
        }
    }

    fn plan_m8(&self, survey: Option<(u8, Option<SurveyPosition>)>) -> Vec<Step> {
        let mut steps = Vec::new();
        // CFG-PRT UART1: 8N1 at our baud, UBX+NMEA in and out.
        let mut prt = vec![1u8, 0, 0, 0];
        prt.extend_from_slice(&0x0000_08D0u32.to_le_bytes());
        prt.extend_from_slice(&self.params.baud.to_le_bytes());
        prt.extend_from_slice(&0x0003u16.to_le_bytes());
        prt.extend_from_slice(&0x0003u16.to_le_bytes());
        prt.extend_from_slice(&[0, 0, 0, 0]);
        steps.push(Step {
            name: "CFG-PRT UART1".into(),
            class: 0x06,
            id: 0x00,
            payload: prt,
        });
        for id in self.wanted_messages(ReceiverClass::M8) {
            steps.push(Step {
                name: format!("CFG-MSG {}", msg_name(id)),
                class: 0x06,
                id: 0x01,
                // Three-byte form: rate 1 on the port we are talking on.
                payload: vec![id.0, id.1, 1],
            });
        }
        // CFG-TP5 v1: 1 Hz, 100 ms pulse when locked, none before; aligned to
        // the top of the UTC second, rising edge.
        let mut tp5 = vec![0u8, 1, 0, 0];
        tp5.extend_from_slice(&0i16.to_le_bytes()); // antCableDelay ns
        tp5.extend_from_slice(&0i16.to_le_bytes()); // rfGroupDelay
        tp5.extend_from_slice(&1_000_000u32.to_le_bytes()); // period us
        tp5.extend_from_slice(&1_000_000u32.to_le_bytes()); // period locked
        tp5.extend_from_slice(&0u32.to_le_bytes()); // length us
        tp5.extend_from_slice(&100_000u32.to_le_bytes()); // length locked
        tp5.extend_from_slice(&0i32.to_le_bytes()); // user delay
                                                    // active | lockGnssFreq | lockedOtherSet | isLength | alignToTow | polarity; grid UTC.
        tp5.extend_from_slice(&0x0000_0077u32.to_le_bytes());
        steps.push(Step {
            name: "CFG-TP5 1Hz UTC".into(),
            class: 0x06,
            id: 0x31,
            payload: tp5,
        });
        if let Some((mode, pos)) = survey {
            let (min_dur, acc_limit) = self.survey_limits();
            let mut t = vec![0u8, 0];
            t.extend_from_slice(&u16::from(mode).to_le_bytes()); // flags: mode, ECEF
            let p = pos.unwrap_or(SurveyPosition {
                ecef_x_cm: 0,
                ecef_y_cm: 0,
                ecef_z_cm: 0,
                accuracy_mm: 0,
            });
            t.extend_from_slice(&p.ecef_x_cm.to_le_bytes());
            t.extend_from_slice(&p.ecef_y_cm.to_le_bytes());
            t.extend_from_slice(&p.ecef_z_cm.to_le_bytes());
            t.extend_from_slice(&[0, 0, 0, 0]); // HP parts, reserved
            t.extend_from_slice(&(p.accuracy_mm.saturating_mul(10)).to_le_bytes());
            t.extend_from_slice(&min_dur.to_le_bytes());
            t.extend_from_slice(&(acc_limit.saturating_mul(10)).to_le_bytes());
            t.extend_from_slice(&[0; 8]);
            steps.push(Step {
                name: format!(
                    "CFG-TMODE3 {}",
                    if mode == 1 { "survey-in" } else { "fixed" }
                ),
                class: 0x06,
                id: 0x71,
                payload: t,
            });
        }
        steps
    }

    fn survey_limits(&self) -> (u32, u32) {
        match self.params.timing {
            TimingMode::SurveyIn {
                min_duration_s,
                accuracy_limit_mm,
            } => (min_duration_s, accuracy_limit_mm),
            TimingMode::Off => (0, 0),
        }
    }

    fn plan_f9(&self, survey: Option<(u8, Option<SurveyPosition>)>) -> Vec<Step> {
        let valset = |name: &str, kv: &[(u32, u64)]| {
            // version 0, layer RAM: re-applied on every connect, no flash wear.
            let mut p = vec![0u8, 0x01, 0, 0];
            for &(k, v) in kv {
                p.extend_from_slice(&k.to_le_bytes());
                let n = keys::value_size(k).unwrap_or(1);
                p.extend_from_slice(&v.to_le_bytes()[..n]);
            }
            Step {
                name: name.to_string(),
                class: 0x06,
                id: 0x8A,
                payload: p,
            }
        };
        let mut out_kv = vec![(keys::UART1OUTPROT_UBX, 1), (keys::UART1OUTPROT_NMEA, 1)];
        out_kv.extend(
            self.wanted_messages(ReceiverClass::F9)
                .into_iter()
                .filter_map(keys::msgout_key)
                .map(|k| (k, 1)),
        );
        let tp_kv = [
            (keys::TP_PULSE_DEF, 0),
            (keys::TP_PULSE_LENGTH_DEF, 1),
            (keys::TP_PERIOD_TP1, 1_000_000),
            (keys::TP_PERIOD_LOCK_TP1, 1_000_000),
            (keys::TP_LEN_TP1, 0),
            (keys::TP_LEN_LOCK_TP1, 100_000),
            (keys::TP_TP1_ENA, 1),
            (keys::TP_SYNC_GNSS_TP1, 1),
            (keys::TP_USE_LOCKED_TP1, 1),
            (keys::TP_ALIGN_TO_TOW_TP1, 1),
            (keys::TP_POL_TP1, 1),
            (keys::TP_TIMEGRID_TP1, 0),
        ];
        let mut steps = vec![
            valset("CFG-VALSET messages", &out_kv),
            valset("CFG-VALSET time pulse", &tp_kv),
        ];
        if let Some((mode, pos)) = survey {
            let (min_dur, acc_limit) = self.survey_limits();
            let kv: Vec<(u32, u64)> = match pos {
                Some(p) => vec![
                    (keys::TMODE_MODE, 2),
                    (keys::TMODE_POS_TYPE, 0),
                    (keys::TMODE_ECEF_X, u64::from(p.ecef_x_cm as u32)),
                    (keys::TMODE_ECEF_Y, u64::from(p.ecef_y_cm as u32)),
                    (keys::TMODE_ECEF_Z, u64::from(p.ecef_z_cm as u32)),
                    (
                        keys::TMODE_FIXED_POS_ACC,
                        u64::from(p.accuracy_mm.saturating_mul(10)),
                    ),
                ],
                None => vec![
                    (keys::TMODE_MODE, u64::from(mode)),
                    (keys::TMODE_SVIN_MIN_DUR, u64::from(min_dur)),
                    (
                        keys::TMODE_SVIN_ACC_LIMIT,
                        u64::from(acc_limit.saturating_mul(10)),
                    ),
                ],
            };
            let name = if pos.is_some() {
                "CFG-VALSET fixed position"
            } else {
                "CFG-VALSET survey-in"
            };
            steps.push(valset(name, &kv));
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::framer::{Frame, Framer};
    use crate::sim::receiver::{Model, ReceiverCore, StartupOutput};
    use crate::sim::scenario::Scenario;

    const T0: i64 = 1_763_700_000 * NS_PER_SEC;

    /// Run the configurator against the fake receiver's core, sans-IO: bytes
    /// go back and forth through the real framer, time advances 1 s per epoch.
    fn converse(
        c: &mut Configurator,
        rx: &mut ReceiverCore,
        seconds: i64,
        answer: bool,
    ) -> Vec<(u8, u8)> {
        let mut framer = Framer::new();
        let mut seen = Vec::new();
        let mut to_rx = c.start(T0);
        for step in 0..seconds * 10 {
            let now = T0 + step * NS_PER_SEC / 10;
            let mut from_rx = if answer {
                rx.input(&to_rx, now)
            } else {
                Vec::new()
            };
            if step % 10 == 0 {
                from_rx.extend(rx.epoch(now));
            }
            to_rx = Vec::new();
            framer.push(&from_rx);
            while let Some(f) = framer.next_frame() {
                if let Frame::Ubx(u) = f {
                    seen.push((u.class, u.id));
                    to_rx.extend(c.on_ubx(u.class, u.id, u.payload, now));
                }
            }
            to_rx.extend(c.on_tick(now));
        }
        seen
    }

    #[test]
    fn m8t_is_identified_and_configured_with_cfg_msg() {
        let mut rx = ReceiverCore::new(
            Model::M8T,
            Scenario::Healthy,
            StartupOutput::FactoryDefaults,
            T0,
        );
        let mut c = Configurator::new(ConfigureParams::default(), None);
        let seen = converse(&mut c, &mut rx, 3, true);
        let r = c.report();
        assert_eq!(r.state, ConfigState::Done, "{r:?}");
        let id = r.identity.as_ref().unwrap();
        assert_eq!(id.class, ReceiverClass::M8);
        assert_eq!(id.protocol, Some((22, 0)));
        assert_eq!(id.module.as_deref(), Some("NEO-M8T-0"));
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        assert!(r.acked.iter().any(|a| a == "CFG-MSG TIM-TP"));
        assert!(r.acked.iter().any(|a| a == "CFG-TP5 1Hz UTC"));
        // Factory defaults had no UBX output: now the timing set flows.
        for id in ReceiverCore::timing_set(Model::M8T) {
            assert!(rx.enabled().contains(&id), "{id:?} not enabled");
            assert!(seen.contains(&id), "{id:?} never received");
        }
        let log = rx.command_log();
        assert!(log.iter().all(|l| l.acked != Some(false)), "{log:?}");
        assert!(!log.iter().any(|l| l.id == 0x8A), "VALSET sent to an M8");
        let evs = c.take_events();
        assert!(evs.iter().any(|e| e.kind == "gnss.configured"));
    }

    #[test]
    fn f9t_is_configured_with_valset() {
        let mut rx = ReceiverCore::new(
            Model::F9T,
            Scenario::Healthy,
            StartupOutput::FactoryDefaults,
            T0,
        );
        let mut c = Configurator::new(ConfigureParams::default(), None);
        converse(&mut c, &mut rx, 3, true);
        let r = c.report();
        assert_eq!(r.state, ConfigState::Done);
        assert_eq!(r.identity.as_ref().unwrap().class, ReceiverClass::F9);
        assert_eq!(
            r.acked,
            vec!["CFG-VALSET messages", "CFG-VALSET time pulse"]
        );
        for id in ReceiverCore::timing_set(Model::F9T) {
            assert!(rx.enabled().contains(&id), "{id:?} not enabled");
        }
        assert!(rx
            .command_log()
            .iter()
            .all(|l| l.class != 0x06 || l.id == 0x8A));
    }

    #[test]
    fn survey_in_completes_and_the_stored_position_is_used_next_time() {
        let params = ConfigureParams {
            timing: TimingMode::SurveyIn {
                min_duration_s: 3,
                accuracy_limit_mm: 2000,
            },
            ..ConfigureParams::default()
        };
        for model in [Model::M8T, Model::F9T] {
            let mut rx =
                ReceiverCore::new(model, Scenario::Healthy, StartupOutput::FactoryDefaults, T0);
            let mut c = Configurator::new(params.clone(), None);
            converse(&mut c, &mut rx, 8, true);
            assert_eq!(c.report().survey, SurveyState::Fixed, "{model:?}");
            let pos = c.take_survey_result().expect("survey result");
            // The fake's antenna is near Prague: |ECEF| ≈ Earth radius.
            let r = ((pos.ecef_x_cm as f64).powi(2)
                + (pos.ecef_y_cm as f64).powi(2)
                + (pos.ecef_z_cm as f64).powi(2))
            .sqrt()
                / 100.0;
            assert!((6_360_000.0..6_370_000.0).contains(&r), "{r}");
            let mut store = MemorySurveyStore::default();
            store.save(&pos).unwrap();

            // Restart: fixed position straight away, no new survey.
            let mut rx2 =
                ReceiverCore::new(model, Scenario::Healthy, StartupOutput::FactoryDefaults, T0);
            let mut c2 = Configurator::new(params.clone(), store.load());
            converse(&mut c2, &mut rx2, 2, true);
            assert_eq!(c2.report().survey, SurveyState::Fixed);
            assert!(
                c2.report().acked.iter().any(|a| a.contains("fixed")),
                "{:?}",
                c2.report()
            );
            assert!(c2.take_survey_result().is_none());
        }
    }

    #[test]
    fn silent_receiver_ends_nmea_only_after_retries() {
        let mut rx = ReceiverCore::new(
            Model::M8T,
            Scenario::Healthy,
            StartupOutput::FactoryDefaults,
            T0,
        );
        let params = ConfigureParams::default();
        let mut c = Configurator::new(params.clone(), None);
        converse(&mut c, &mut rx, 5, false);
        assert_eq!(c.report().state, ConfigState::NmeaOnly);
        let evs = c.take_events();
        assert_eq!(evs.len(), 1);
        assert!(evs[0]
            .details
            .contains(&format!("{} attempts", params.retries + 1)));
    }

    #[test]
    fn nak_and_missing_ack_are_reported_per_command() {
        // Pretend the F9 is an M8-class receiver by feeding MON-VER of an M8,
        // then answer one command with NAK and let another time out.
        let mut c = Configurator::new(ConfigureParams::default(), None);
        c.start(T0);
        let ver = crate::sim::receiver::messages::mon_ver(Model::M8T);
        let first = c.on_ubx(0x0A, 0x04, &ver, T0);
        assert_eq!(&first[2..4], &[0x06, 0x00], "CFG-PRT first");
        let second = c.on_ubx(0x05, 0x00, &[0x06, 0x00], T0);
        assert_eq!(&second[2..4], &[0x06, 0x01]);
        // An ACK for a different message is ignored.
        assert!(c.on_ubx(0x05, 0x01, &[0x06, 0x31], T0).is_empty());
        // No answer: retried twice (same bytes), then given up.
        let t1 = T0 + NS_PER_SEC;
        assert_eq!(c.on_tick(t1), second);
        assert_eq!(c.on_tick(t1 + NS_PER_SEC), second);
        let third = c.on_tick(t1 + 2 * NS_PER_SEC);
        assert_ne!(third, second);
        let r = c.report();
        assert_eq!(r.failed.len(), 2, "{:?}", r.failed);
        assert!(r.failed[0].contains("CFG-PRT") && r.failed[0].contains("NAK"));
        assert!(r.failed[1].contains("NAV-PVT") && r.failed[1].contains("no ACK"));
    }

    #[test]
    fn mon_ver_parsing_handles_short_and_odd_payloads() {
        assert!(parse_mon_ver(&[0u8; 39]).is_none());
        let id = parse_mon_ver(&crate::sim::receiver::messages::mon_ver(Model::F9T)).unwrap();
        assert_eq!(id.protocol, Some((29, 20)));
        assert_eq!(id.class, ReceiverClass::F9);
        // Old firmware without PROTVER: hardware generation decides.
        let mut p = vec![0u8; 40];
        p[30..38].copy_from_slice(b"00190000");
        assert_eq!(parse_mon_ver(&p).unwrap().class, ReceiverClass::F9);
        p[30..38].copy_from_slice(b"00070000");
        assert_eq!(parse_mon_ver(&p).unwrap().class, ReceiverClass::M8);
    }

    proptest::proptest! {
        /// Hostile replies never panic the state machine and it always ends
        /// (Done or NmeaOnly) once time runs past every timeout.
        #[test]
        fn arbitrary_replies_never_panic_and_always_terminate(
            frames in proptest::collection::vec(
                (
                    proptest::sample::select(vec![0x05u8, 0x0A, 0x0D, 0x06, 0x01]),
                    proptest::sample::select(vec![0x00u8, 0x01, 0x04, 0x31]),
                    proptest::collection::vec(proptest::num::u8::ANY, 0..120),
                ),
                0..40,
            ),
            survey in proptest::bool::ANY,
        ) {
            let params = ConfigureParams {
                timing: if survey {
                    TimingMode::SurveyIn { min_duration_s: 1, accuracy_limit_mm: 1 }
                } else {
                    TimingMode::Off
                },
                ..ConfigureParams::default()
            };
            let mut c = Configurator::new(params, None);
            c.start(T0);
            for (i, (class, id, payload)) in frames.iter().enumerate() {
                let _ = c.on_ubx(*class, *id, payload, T0 + i as i64);
                let _ = c.on_tick(T0 + i as i64);
            }
            for k in 1..200 {
                let _ = c.on_tick(T0 + k * NS_PER_SEC);
            }
            proptest::prop_assert!(matches!(
                c.report().state,
                ConfigState::Done | ConfigState::NmeaOnly
            ));
        }
    }
}
