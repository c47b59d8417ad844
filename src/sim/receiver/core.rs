//! Sans-IO core of the fake receiver: given the true time it produces the
//! bytes of each epoch, and given host bytes it produces the replies
//! (ACK/NAK, polls, MON-VER). The pty shell around it only moves bytes.

use super::messages::{self, llh_to_ecef, Epoch};
use super::wire::{nmea, ubx, Command, CommandScanner, Le};
use super::Model;
use crate::gnss::configure::keys;
use crate::sim::scenario::{self, Conditions, Scenario, GEOID_SEP_M};
use crate::time::NS_PER_SEC;
use std::collections::BTreeSet;

pub type MsgId = (u8, u8);

pub const NAV_PVT: MsgId = (0x01, 0x07);
pub const NAV_STATUS: MsgId = (0x01, 0x03);
pub const NAV_TIMEUTC: MsgId = (0x01, 0x21);
pub const NAV_TIMELS: MsgId = (0x01, 0x26);
pub const NAV_CLOCK: MsgId = (0x01, 0x22);
pub const NAV_SAT: MsgId = (0x01, 0x35);
pub const TIM_TP: MsgId = (0x0D, 0x01);
pub const TIM_SVIN: MsgId = (0x0D, 0x04);
pub const MON_HW: MsgId = (0x0A, 0x09);
pub const MON_RF: MsgId = (0x0A, 0x38);
pub const SEC_SIG: MsgId = (0x27, 0x09);
pub const NAV_EOE: MsgId = (0x01, 0x61);

/// What the receiver outputs before anyone configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartupOutput {
    /// All the UBX messages a timing setup needs are already enabled (as if
    /// saved to flash): `demo` works even without the configuration step.
    #[default]
    Preconfigured,
    /// Factory defaults: NMEA only; UBX output appears once configured.
    FactoryDefaults,
}

/// One configuration command the fake received, and how it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    pub class: u8,
    pub id: u8,
    /// `Some(true)` ACK, `Some(false)` NAK, `None` for polls answered without ACK.
    pub acked: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TimingMode {
    Disabled,
    SurveyIn {
        started_s: i64,
        min_dur_s: u32,
    },
    /// Fixed position (ECEF cm).
    Fixed,
}

#[derive(Debug)]
pub struct ReceiverCore {
    model: Model,
    scenario: Scenario,
    scenario_since_ns: i64,
    boot_ns: i64,
    startup: StartupOutput,
    enabled: BTreeSet<MsgId>,
    nmea_out: bool,
    ubx_out: bool,
    timing: TimingMode,
    scanner: CommandScanner,
    log: Vec<CommandRecord>,
    /// After a reset: silent until this instant, then the boot banner.
    booting_until_ns: Option<i64>,
}

impl ReceiverCore {
    pub fn new(model: Model, scenario: Scenario, startup: StartupOutput, now_ns: i64) -> Self {
        let mut core = Self {
            model,
            scenario,
            scenario_since_ns: now_ns,
            boot_ns: now_ns,
            startup,
            enabled: BTreeSet::new(),
            nmea_out: true,
            ubx_out: true,
            timing: TimingMode::Disabled,
            scanner: CommandScanner::default(),
            log: Vec::new(),
            booting_until_ns: None,
        };
        core.load_startup_config();
        core
    }

    fn load_startup_config(&mut self) {
        self.enabled.clear();
        self.nmea_out = true;
        self.ubx_out = true;
        self.timing = TimingMode::Disabled;
        if self.startup == StartupOutput::Preconfigured {
            self.enabled.extend(Self::timing_set(self.model));
        }
    }

    /// The UBX messages a timing setup enables on this model.
    pub fn timing_set(model: Model) -> Vec<MsgId> {
        let mut v = vec![
            NAV_PVT,
            NAV_STATUS,
            NAV_TIMEUTC,
            NAV_TIMELS,
            NAV_CLOCK,
            NAV_SAT,
            TIM_TP,
            NAV_EOE,
        ];
        match model {
            Model::M8T => v.push(MON_HW),
            Model::F9T => v.extend([MON_RF, SEC_SIG]),
        }
        v
    }

    pub fn model(&self) -> Model {
        self.model
    }
    pub fn scenario(&self) -> Scenario {
        self.scenario
    }
    pub fn set_scenario(&mut self, scenario: Scenario, now_ns: i64) {
        if scenario != self.scenario {
            self.scenario = scenario;
            self.scenario_since_ns = now_ns;
        }
    }
    pub fn enabled(&self) -> &BTreeSet<MsgId> {
        &self.enabled
    }
    pub fn command_log(&self) -> &[CommandRecord] {
        &self.log
    }

    /// The world at true UTC `t_ns` under the current scenario.
    pub fn conditions(&self, t_ns: i64) -> Conditions {
        let since_s = (t_ns - self.scenario_since_ns).div_euclid(NS_PER_SEC);
        scenario::conditions(self.scenario, since_s, t_ns)
    }

    /// Simulate a receiver reset (CFG-RST or power glitch): a torn frame now,
    /// ~1 s of silence, then a boot banner and the startup configuration.
    pub fn reset(&mut self, now_ns: i64) -> Vec<u8> {
        self.booting_until_ns = Some(now_ns + NS_PER_SEC);
        self.load_startup_config();
        // A reset cuts the UART mid-frame.
        let torn = ubx(0x01, 0x07, &[0u8; 92]);
        torn[..40].to_vec()
    }

    /// Lose the configuration without a reset banner (e.g. a brown-out with
    /// TXT output disabled): back to the startup output.
    pub fn forget_configuration(&mut self) {
        self.load_startup_config();
    }

    /// All bytes of the epoch at true UTC second `t_ns`.
    pub fn epoch(&mut self, t_ns: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(3000);
        if let Some(until) = self.booting_until_ns {
            if t_ns < until {
                return out;
            }
            self.booting_until_ns = None;
            for line in [
                "GNTXT,01,01,02,u-blox AG - www.u-blox.com",
                match self.model {
                    Model::M8T => "GNTXT,01,01,02,HW UBX-M8030 00080000",
                    Model::F9T => "GNTXT,01,01,02,HW UBX 9 00190000",
                },
                "GNTXT,01,01,02,ANTSTATUS=OK",
            ] {
                out.extend(nmea(line));
            }
        }
        let cond = self.conditions(t_ns);
        let reported = t_ns.div_euclid(NS_PER_SEC) * NS_PER_SEC + cond.time_offset_ns;
        let fix_type = if self.timing == TimingMode::Fixed {
            5
        } else {
            3
        };
        let ep = Epoch {
            model: self.model,
            utc_ns: reported,
            cond: &cond,
            msss: ((t_ns - self.boot_ns).max(0) / 1_000_000) as u32,
            fix_type,
        };
        // Order: time pulse and monitor messages, NMEA, then the navigation
        // messages closed by NAV-EOE, so one second's bytes form one epoch.
        let on = |id: MsgId| self.ubx_out && self.enabled.contains(&id);
        if on(TIM_TP) {
            out.extend(ep.tim_tp());
        }
        if on(MON_HW) && self.model == Model::M8T {
            out.extend(ep.mon_hw());
        }
        if on(MON_RF) && self.model == Model::F9T {
            out.extend(ep.mon_rf());
        }
        if on(SEC_SIG) && self.model == Model::F9T {
            out.extend(ep.sec_sig());
        }
        if on(TIM_SVIN) {
            out.extend(self.tim_svin(t_ns, &cond));
        }
        if self.nmea_out {
            out.extend(ep.nmea());
        }
        if on(NAV_PVT) {
            out.extend(ep.nav_pvt());
        }
        if on(NAV_STATUS) {
            out.extend(ep.nav_status());
        }
        if on(NAV_TIMEUTC) {
            out.extend(ep.nav_timeutc());
        }
        if on(NAV_TIMELS) {
            out.extend(ep.nav_timels());
        }
        if on(NAV_CLOCK) {
            out.extend(ep.nav_clock());
        }
        if on(NAV_SAT) {
            out.extend(ep.nav_sat());
        }
        if on(NAV_EOE) {
            out.extend(ep.nav_eoe());
        }
        self.advance_survey(t_ns);
        out
    }

    fn tim_svin(&self, t_ns: i64, cond: &Conditions) -> Vec<u8> {
        let now_s = t_ns.div_euclid(NS_PER_SEC);
        let (dur, active, valid) = match self.timing {
            TimingMode::SurveyIn { started_s, .. } => ((now_s - started_s).max(0) as u32, 1, 0),
            TimingMode::Fixed => (0, 0, 1),
            TimingMode::Disabled => (0, 0, 0),
        };
        let (x, y, z) = llh_to_ecef(cond.lat_deg, cond.lon_deg, cond.alt_msl_m + GEOID_SEP_M);
        // Variance of the mean shrinks with the number of observations.
        let mean_v_mm2 = 4_000_000 / (dur.max(1));
        let mut p = Le::with_capacity(28);
        p.u4(dur)
            .i4((x * 100.0).round() as i32)
            .i4((y * 100.0).round() as i32)
            .i4((z * 100.0).round() as i32)
            .u4(mean_v_mm2)
            .u4(dur)
            .u1(valid)
            .u1(active)
            .zeros(2);
        ubx(0x0D, 0x04, &p.finish())
    }

    fn advance_survey(&mut self, t_ns: i64) {
        if let TimingMode::SurveyIn {
            started_s,
            min_dur_s,
        } = self.timing
        {
            if t_ns.div_euclid(NS_PER_SEC) - started_s >= i64::from(min_dur_s) {
                self.timing = TimingMode::Fixed;
            }
        }
    }

    /// Host → receiver bytes; returns the receiver's replies.
    pub fn input(&mut self, bytes: &[u8], now_ns: i64) -> Vec<u8> {
        let mut out = Vec::new();
        for cmd in self.scanner.push(bytes) {
            out.extend(self.command(&cmd, now_ns));
        }
        out
    }

    fn command(&mut self, cmd: &Command, now_ns: i64) -> Vec<u8> {
        let key = (cmd.class, cmd.id);
        let p = &cmd.payload[..];
        let mut reply = Vec::new();
        let acked: Option<bool> = match key {
            (0x0A, 0x04) if p.is_empty() => {
                reply.extend(ubx(0x0A, 0x04, &messages::mon_ver(self.model)));
                None
            }
            (0x06, 0x04) => {
                // CFG-RST: no ACK, the receiver just restarts.
                self.log.push(CommandRecord {
                    class: cmd.class,
                    id: cmd.id,
                    acked: None,
                });
                return self.reset(now_ns);
            }
            (0x06, 0x01) => Some(self.cfg_msg(p, &mut reply)),
            (0x06, 0x00) => Some(self.cfg_prt(p, &mut reply)),
            (0x06, 0x31) => Some(p.len() == 32 || p.len() <= 1),
            (0x06, 0x71) => Some(self.cfg_tmode3(p, now_ns)),
            (0x06, 0x8A) => Some(self.model == Model::F9T && self.valset(p, now_ns)),
            (0x06, 0x8B) => Some(self.model == Model::F9T && self.valget(p, &mut reply)),
            (0x06, _) => Some(false),
            _ => return reply,
        };
        if let Some(ok) = acked {
            let ack_id = if ok { 0x01 } else { 0x00 };
            reply.extend(ubx(0x05, ack_id, &[cmd.class, cmd.id]));
        }
        self.log.push(CommandRecord {
            class: cmd.class,
            id: cmd.id,
            acked,
        });
        reply
    }

    fn cfg_msg(&mut self, p: &[u8], reply: &mut Vec<u8>) -> bool {
        match p {
            [class, id] => {
                let rate = u8::from(self.enabled.contains(&(*class, *id)));
                reply.extend(ubx(0x06, 0x01, &[*class, *id, 0, rate, 0, 0, 0, 0]));
                true
            }
            // Current port (3 bytes) or all six ports (UART1 is index 1).
            [class, id, rate] | [class, id, _, rate, _, _, _, _] => {
                if *rate > 0 {
                    self.enabled.insert((*class, *id));
                } else {
                    self.enabled.remove(&(*class, *id));
                }
                true
            }
            _ => false,
        }
    }

    fn cfg_prt(&mut self, p: &[u8], reply: &mut Vec<u8>) -> bool {
        if p.len() <= 1 {
            let mut r = Le::with_capacity(20);
            r.u1(1)
                .u1(0)
                .u2(0)
                .u4(0x0000_08D0)
                .u4(115_200)
                .u2(0x07)
                .u2(u16::from(self.ubx_out) | (u16::from(self.nmea_out) << 1))
                .u2(0)
                .u2(0);
            reply.extend(ubx(0x06, 0x00, &r.finish()));
            return true;
        }
        if p.len() != 20 {
            return false;
        }
        let out_mask = u16::from_le_bytes([p[14], p[15]]);
        self.ubx_out = out_mask & 0x01 != 0;
        self.nmea_out = out_mask & 0x02 != 0;
        true
    }

    fn cfg_tmode3(&mut self, p: &[u8], now_ns: i64) -> bool {
        if p.len() != 40 {
            return false;
        }
        let mode = p[2];
        let min_dur_s = u32::from_le_bytes([p[24], p[25], p[26], p[27]]);
        self.set_timing(mode, min_dur_s, now_ns)
    }

    fn set_timing(&mut self, mode: u8, min_dur_s: u32, now_ns: i64) -> bool {
        self.timing = match mode {
            0 => TimingMode::Disabled,
            1 => TimingMode::SurveyIn {
                started_s: now_ns.div_euclid(NS_PER_SEC),
                min_dur_s,
            },
            2 => TimingMode::Fixed,
            _ => return false,
        };
        true
    }

    /// CFG-VALSET: the whole message is rejected when any key is unknown, like
    /// the real firmware does.
    fn valset(&mut self, p: &[u8], now_ns: i64) -> bool {
        let Some(items) = p.get(4..).and_then(parse_key_values) else {
            return false;
        };
        if !items.iter().all(|(k, _)| keys::is_known(*k)) {
            return false;
        }
        let mut mode = None;
        let mut min_dur = 0;
        for (k, v) in items {
            if let Some(id) = keys::msgout_message(k) {
                if v > 0 {
                    self.enabled.insert(id);
                } else {
                    self.enabled.remove(&id);
                }
            } else if k == keys::TMODE_MODE {
                mode = Some(v as u8);
            } else if k == keys::TMODE_SVIN_MIN_DUR {
                min_dur = v as u32;
            } else if k == keys::UART1OUTPROT_NMEA {
                self.nmea_out = v != 0;
            } else if k == keys::UART1OUTPROT_UBX {
                self.ubx_out = v != 0;
            }
        }
        match mode {
            Some(m) => self.set_timing(m, min_dur, now_ns),
            None => true,
        }
    }

    fn valget(&self, p: &[u8], reply: &mut Vec<u8>) -> bool {
        let Some(rest) = p.get(4..) else {
            return false;
        };
        let mut r = Le::default();
        r.u1(1).u1(0).u2(0);
        for k in rest.chunks_exact(4) {
            let key = u32::from_le_bytes([k[0], k[1], k[2], k[3]]);
            if !keys::is_known(key) {
                return false;
            }
            let v = keys::msgout_message(key)
                .map(|id| u64::from(self.enabled.contains(&id)))
                .unwrap_or(0);
            r.u4(key);
            let size = keys::value_size(key).unwrap_or(1);
            r.0.extend_from_slice(&v.to_le_bytes()[..size]);
        }
        reply.extend(ubx(0x06, 0x8B, &r.finish()));
        true
    }
}

/// Key/value pairs of a CFG-VALSET body; `None` when truncated or malformed.
pub fn parse_key_values(mut b: &[u8]) -> Option<Vec<(u32, u64)>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let key = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
        let size = keys::value_size(key)?;
        let val = b.get(4..4 + size)?;
        let mut buf = [0u8; 8];
        buf[..size].copy_from_slice(val);
        out.push((key, u64::from_le_bytes(buf)));
        b = &b[4 + size..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::framer::Framer;
    use crate::gnss::message::{decode_frame, Message};

    const T0: i64 = 1_763_700_000 * NS_PER_SEC;

    fn decode_all(bytes: &[u8]) -> Vec<Message> {
        let mut framer = Framer::new();
        let mut out = Vec::new();
        framer.feed(bytes, |f| match decode_frame(&f) {
            Some(Ok(m)) => out.push(m),
            Some(Err(e)) => panic!("decoder rejected fake output: {e}"),
            None => {}
        });
        assert_eq!(framer.stats().garbage_bytes, 0);
        out
    }

    #[test]
    fn every_scenario_and_model_decodes_cleanly() {
        for model in [Model::M8T, Model::F9T] {
            for sc in Scenario::ALL {
                let mut rx = ReceiverCore::new(model, sc, StartupOutput::Preconfigured, T0);
                let msgs = decode_all(&rx.epoch(T0 + 20 * NS_PER_SEC));
                let names: Vec<&str> = msgs.iter().map(|m| m.name()).collect();
                assert!(
                    msgs.iter().any(|m| matches!(m, Message::NavPvt(_))),
                    "{names:?}"
                );
                assert!(msgs.iter().any(|m| matches!(m, Message::TimTp(_))));
                assert!(msgs.iter().any(|m| matches!(m, Message::Zda(_))));
                assert!(msgs.iter().any(|m| matches!(m, Message::Gns(_))));
                let has_hw = msgs.iter().any(|m| matches!(m, Message::MonHw(_)));
                let has_rf = msgs.iter().any(|m| matches!(m, Message::MonRf(_)));
                let has_sig = msgs.iter().any(|m| matches!(m, Message::SecSig(_)));
                assert_eq!(
                    (has_hw, has_rf, has_sig),
                    (
                        model == Model::M8T,
                        model == Model::F9T,
                        model == Model::F9T
                    ),
                    "{model:?} {sc}"
                );
            }
        }
    }

    #[test]
    fn decoded_values_match_the_scenario() {
        let t = T0 + 5 * NS_PER_SEC;
        let mut rx = ReceiverCore::new(
            Model::M8T,
            Scenario::Healthy,
            StartupOutput::Preconfigured,
            T0,
        );
        let cond = rx.conditions(t);
        let msgs = decode_all(&rx.epoch(t));
        let sat = msgs
            .iter()
            .find_map(|m| match m {
                Message::NavSat(s) => Some(s),
                _ => None,
            })
            .unwrap();
        let got: Vec<_> = sat.sats.iter().map(|s| (s.gnss, s.svid, s.used)).collect();
        let want: Vec<_> = cond
            .sky
            .iter()
            .map(|s| (s.gnss, u16::from(s.svid), s.used))
            .collect();
        assert_eq!(got, want);
        let pvt = msgs
            .iter()
            .find_map(|m| match m {
                Message::NavPvt(p) => Some(p),
                _ => None,
            })
            .unwrap();
        assert_eq!(pvt.fix_type, 3);
        assert!((pvt.lat_deg - cond.lat_deg).abs() < 1e-6);
        assert_eq!(pvt.num_sv as usize, cond.used_count());
        let tp = msgs
            .iter()
            .find_map(|m| match m {
                Message::TimTp(p) => Some(p),
                _ => None,
            })
            .unwrap();
        assert_eq!(tp.q_err_ps, messages::qerr_ps(t / NS_PER_SEC + 1));

        let mut short = ReceiverCore::new(
            Model::M8T,
            Scenario::AntennaShort,
            StartupOutput::Preconfigured,
            T0,
        );
        let hw = decode_all(&short.epoch(t))
            .into_iter()
            .find_map(|m| match m {
                Message::MonHw(h) => Some(h),
                _ => None,
            })
            .unwrap();
        assert_eq!((hw.a_status, hw.a_power), (3, 0));
    }

    #[test]
    fn factory_defaults_are_nmea_only_and_reset_restores_startup() {
        let mut rx = ReceiverCore::new(
            Model::F9T,
            Scenario::Healthy,
            StartupOutput::FactoryDefaults,
            T0,
        );
        let msgs = decode_all(&rx.epoch(T0));
        assert!(!msgs.is_empty());
        assert!(msgs.iter().all(|m| !matches!(m, Message::NavPvt(_))));
        // Enable NAV-PVT via CFG-MSG, then reset: back to NMEA only after a silent second.
        let reply = rx.input(&ubx(0x06, 0x01, &[0x01, 0x07, 1]), T0);
        assert_eq!(reply, ubx(0x05, 0x01, &[0x06, 0x01]));
        assert!(decode_all(&rx.epoch(T0 + NS_PER_SEC))
            .iter()
            .any(|m| matches!(m, Message::NavPvt(_))));
        let torn = rx.reset(T0 + 2 * NS_PER_SEC);
        assert!(!torn.is_empty());
        assert!(rx.epoch(T0 + 2 * NS_PER_SEC).is_empty());
        let after = decode_all(&rx.epoch(T0 + 3 * NS_PER_SEC));
        assert!(matches!(&after[0], Message::Txt(_)));
        assert!(after.iter().all(|m| !matches!(m, Message::NavPvt(_))));
    }

    #[test]
    fn unsupported_commands_get_nak() {
        let mut m8 = ReceiverCore::new(
            Model::M8T,
            Scenario::Healthy,
            StartupOutput::Preconfigured,
            T0,
        );
        let valset = ubx(0x06, 0x8A, &[0, 1, 0, 0, 0x07, 0x00, 0x91, 0x20, 1]);
        assert_eq!(m8.input(&valset, T0), ubx(0x05, 0x00, &[0x06, 0x8A]));
        let mut f9 = ReceiverCore::new(
            Model::F9T,
            Scenario::Healthy,
            StartupOutput::FactoryDefaults,
            T0,
        );
        assert_eq!(f9.input(&valset, T0), ubx(0x05, 0x01, &[0x06, 0x8A]));
        assert!(f9.enabled().contains(&NAV_PVT));
        // Unknown key: whole VALSET refused.
        let bad = ubx(0x06, 0x8A, &[0, 1, 0, 0, 0x99, 0x99, 0x99, 0x20, 1]);
        assert_eq!(f9.input(&bad, T0), ubx(0x05, 0x00, &[0x06, 0x8A]));
        // Unknown CFG message: NAK.
        assert_eq!(
            f9.input(&ubx(0x06, 0x7F, &[]), T0),
            ubx(0x05, 0x00, &[0x06, 0x7F])
        );
    }

    /// Run `seconds` epochs of `sc` through the real framer and receiver
    /// model; returns every assembled epoch.
    fn model_epochs(model: Model, sc: Scenario, seconds: i64) -> Vec<crate::gnss::GnssEpoch> {
        let mut rx = ReceiverCore::new(model, sc, StartupOutput::Preconfigured, T0);
        let mut framer = Framer::new();
        let mut receiver = crate::gnss::Receiver::new();
        let mut out = Vec::new();
        for i in 0..seconds {
            framer.push(&rx.epoch(T0 + i * NS_PER_SEC));
            while let Some(f) = framer.next_frame() {
                out.extend(receiver.handle_frame(&f));
            }
        }
        out
    }

    #[test]
    fn receiver_model_sees_each_scenario_as_intended() {
        use crate::gnss::{AntennaStatus, FixMode, JammingState};
        use crate::sim::scenario::{end_of_month_ns, JUMP_AFTER_S, TIME_JUMP_S};
        for model in [Model::M8T, Model::F9T] {
            // NAV-EOE closes each second's epoch: one epoch per second once
            // UBX drives the boundaries (the very first second may split in
            // two while NMEA still drives them).
            let healthy = model_epochs(model, Scenario::Healthy, 4);
            assert!(healthy.len() == 4 || healthy.len() == 5, "{model:?}");
            for (i, e) in healthy[healthy.len() - 3..].iter().enumerate() {
                let i = i + 1;
                assert_eq!(e.fix.mode, FixMode::ThreeD);
                let t = e.time.expect("time");
                assert!(t.is_valid());
                assert_eq!(t.utc_ns, T0 + i as i64 * NS_PER_SEC);
                let tp = e.time_pulse.expect("TIM-TP");
                assert_eq!(tp.utc_ns, T0 + (i as i64 + 1) * NS_PER_SEC, "next pulse");
                assert_eq!(e.satellites.len(), 12);
                assert_eq!(e.leap.map(|l| l.current), Some(18));
            }

            let loss = model_epochs(model, Scenario::SignalLoss, 2);
            let last = loss.last().expect("epoch");
            assert_eq!(last.fix.mode, FixMode::None);
            assert!(last.time.is_none_or(|t| !t.is_valid()), "{:?}", last.time);
            assert!(last.satellites.is_empty());
            assert_eq!(
                last.time_pulse.and_then(|p| p.qerr_ps),
                None,
                "qErr invalid without signal"
            );

            let last = |sc| model_epochs(model, sc, 2).pop().expect("epoch");
            let open = last(Scenario::AntennaOpen);
            assert_eq!(open.antenna.map(|a| a.status), Some(AntennaStatus::Open));

            let l = last(Scenario::LeapAnnounced).leap.expect("leap");
            assert_eq!(l.change, 1);
            let t1 = T0 + NS_PER_SEC;
            let to_event = (end_of_month_ns(t1) - t1) / NS_PER_SEC;
            assert_eq!(l.time_to_change_s, Some(to_event));
            assert_eq!(
                last(Scenario::LeapNegative).leap.map(|l| l.change),
                Some(-1)
            );

            let jump = model_epochs(model, Scenario::TimeJump, JUMP_AFTER_S + 2);
            let times: Vec<i64> = jump.iter().filter_map(|e| Some(e.time?.utc_ns)).collect();
            let steps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
            assert!(
                steps.contains(&((TIME_JUMP_S + 1) * NS_PER_SEC)),
                "{steps:?}"
            );
        }
        let jam = model_epochs(Model::F9T, Scenario::Jamming, 2);
        assert!(matches!(
            jam.last().and_then(|e| e.security).map(|s| s.jamming),
            Some(JammingState::Warning | JammingState::Critical)
        ));
    }

    proptest::proptest! {
        /// Whatever a host sends, the fake answers without panicking and
        /// keeps producing decodable epochs.
        #[test]
        fn arbitrary_host_bytes_never_panic(
            cmds in proptest::collection::vec(
                (
                    proptest::sample::select(vec![0x06u8, 0x0A, 0x01]),
                    proptest::sample::select(vec![0x00u8, 0x01, 0x04, 0x31, 0x71, 0x8A, 0x8B]),
                    proptest::collection::vec(proptest::num::u8::ANY, 0..60),
                ),
                0..30,
            ),
            noise in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            for model in [Model::M8T, Model::F9T] {
                let mut rx = ReceiverCore::new(model, Scenario::Healthy, StartupOutput::Preconfigured, T0);
                let _ = rx.input(&noise, T0);
                for (class, id, p) in &cmds {
                    let _ = rx.input(&ubx(*class, *id, p), T0);
                }
                let mut framer = Framer::new();
                framer.push(&rx.epoch(T0 + 3 * NS_PER_SEC));
                while let Some(f) = framer.next_frame() {
                    proptest::prop_assert!(!matches!(decode_frame(&f), Some(Err(_))));
                }
            }
        }
    }
}
