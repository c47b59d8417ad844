//! What to send once the receiver is identified: CFG-PRT/CFG-MSG/CFG-TP5/
//! CFG-TMODE3 on M8-class receivers, CFG-VALSET key groups on F9-class ones.

use super::{keys, Configurator, ReceiverClass, Step, SurveyPosition, SurveyState, TimingMode};

fn msg_name(id: (u8, u8)) -> &'static str {
    match id {
        (0x01, 0x07) => "NAV-PVT",
        (0x01, 0x35) => "NAV-SAT",
        (0x01, 0x43) => "NAV-SIG",
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

impl Configurator {
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
            // NAV-SIG: per-signal C/N0 and use for the sky view (protocol 27+).
            ReceiverClass::F9 => v.extend([(0x01, 0x43), (0x0A, 0x38), (0x27, 0x09)]),
        }
        if self.params.timing != TimingMode::Off {
            v.push((0x0D, 0x04));
        }
        // End-of-epoch marker: the epoch closes as soon as its last message
        // arrives instead of when the next second's first one does.
        v.push((0x01, 0x61));
        v
    }

    /// A timing epoch is ~0.5 kB of UBX plus ~0.7 kB of NMEA: below 38400
    /// baud (≈3.8 kB/s) NMEA is switched off so the UBX epoch fits in its second.
    fn nmea_fits(&self) -> bool {
        self.params.baud >= 38_400
    }

    /// After a completed configuration at a rate other than the target: tell
    /// the receiver to move (no ACK is waited for: it may arrive at either
    /// rate) and ask the shell to follow. UART ports only.
    pub(super) fn baud_switch(&mut self, now_ns: i64) -> Vec<u8> {
        let Some(target) = self.params.target_baud else {
            return Vec::new();
        };
        let port = self.params.port.unwrap_or_default();
        let Some(class) = self.report.class else {
            return Vec::new();
        };
        if target == self.params.baud || port == keys::Port::Usb {
            return Vec::new();
        }
        let bytes = match class {
            ReceiverClass::M8 => {
                let step = self.cfg_prt(target);
                crate::gnss::ubx::frame(step.class, step.id, &step.payload)
            }
            ReceiverClass::F9 => {
                let key = if port == keys::Port::Uart2 {
                    keys::UART2_BAUDRATE
                } else {
                    keys::UART1_BAUDRATE
                };
                let mut p = vec![0u8, 0x01, 0, 0];
                p.extend_from_slice(&key.to_le_bytes());
                p.extend_from_slice(&target.to_le_bytes());
                crate::gnss::ubx::frame(0x06, 0x8A, &p)
            }
        };
        self.baud_request = Some(target);
        self.baud_switch_tried = Some(target);
        self.events.push(crate::events::Event::new(
            now_ns,
            crate::events::EventKind::GnssBaudSwitch {
                from: self.params.baud,
                to: target,
            },
        ));
        bytes
    }

    /// CFG-PRT for UART1 at `baud`: 8N1, UBX+NMEA in; out UBX (+ NMEA when
    /// the line is fast enough).
    fn cfg_prt(&self, baud: u32) -> Step {
        let out_proto: u16 = if baud >= 38_400 { 0x0003 } else { 0x0001 };
        let mut prt = vec![1u8, 0, 0, 0];
        prt.extend_from_slice(&0x0000_08D0u32.to_le_bytes());
        prt.extend_from_slice(&baud.to_le_bytes());
        prt.extend_from_slice(&0x0003u16.to_le_bytes());
        prt.extend_from_slice(&out_proto.to_le_bytes());
        prt.extend_from_slice(&[0, 0, 0, 0]);
        Step {
            name: "CFG-PRT UART1".into(),
            class: 0x06,
            id: 0x00,
            payload: prt,
        }
    }

    pub(super) fn plan(&mut self, class: ReceiverClass) -> Vec<Step> {
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
        let mut steps = vec![self.cfg_prt(self.params.baud)];
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
            steps.push(self.tmode3_step(mode, pos));
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
        let port = self.params.port.unwrap_or_default();
        let (ubx_out, nmea_out) = port.outprot_keys();
        let mut out_kv = vec![(ubx_out, 1), (nmea_out, u64::from(self.nmea_fits()))];
        out_kv.extend(
            self.wanted_messages(ReceiverClass::F9)
                .into_iter()
                .filter_map(|id| keys::msgout_key(id, port))
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
            valset_step("CFG-VALSET messages", &out_kv),
            valset_step("CFG-VALSET time pulse", &tp_kv),
        ];
        if let Some((mode, pos)) = survey {
            steps.push(self.tmode_valset(mode, pos));
        }
        steps
    }

    /// CFG-TMODE3 (M8): mode 0 = disabled, 1 = survey-in, 2 = fixed at `pos`.
    fn tmode3_step(&self, mode: u8, pos: Option<SurveyPosition>) -> Step {
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
        Step {
            name: format!(
                "CFG-TMODE3 {}",
                match mode {
                    0 => "disabled",
                    1 => "survey-in",
                    _ => "fixed",
                }
            ),
            class: 0x06,
            id: 0x71,
            payload: t,
        }
    }

    /// CFG-VALSET timing-mode keys (F9): survey-in, or fixed at `pos`.
    fn tmode_valset(&self, mode: u8, pos: Option<SurveyPosition>) -> Step {
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
        valset_step(name, &kv)
    }

    /// The steps that restart a survey-in on a configured receiver: timing
    /// mode off, then survey-in again (u-blox starts a new survey only on a
    /// change of mode).
    pub(super) fn survey_restart_steps(&self, class: ReceiverClass) -> Vec<Step> {
        match class {
            ReceiverClass::M8 => vec![self.tmode3_step(0, None), self.tmode3_step(1, None)],
            ReceiverClass::F9 => vec![
                valset_step("CFG-VALSET timing mode off", &[(keys::TMODE_MODE, 0)]),
                self.tmode_valset(1, None),
            ],
        }
    }
}

/// One CFG-VALSET, version 0, layer RAM: re-applied on every connect, no flash wear.
fn valset_step(name: &str, kv: &[(u32, u64)]) -> Step {
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
}
