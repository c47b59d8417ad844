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
pub const NAV_SIG: MsgId = (0x01, 0x43);
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
    /// Port rate change commanded by the host (applied by the shell after
    /// the reply has gone out at the old rate).
    baud_change: Option<u32>,
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
            baud_change: None,
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
            Model::F9T => v.extend([NAV_SIG, MON_RF, SEC_SIG]),
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
    /// A rate change the host asked for, once.
    pub fn take_baud_change(&mut self) -> Option<u32> {
        self.baud_change.take()
    }

    /// NMEA output enabled on the port (CFG-PRT / CFG-VALSET may turn it off).
    pub fn nmea_output(&self) -> bool {
        self.nmea_out
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
        if on(NAV_SIG) && self.model == Model::F9T {
            out.extend(ep.nav_sig());
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
        self.baud_change = Some(u32::from_le_bytes([p[8], p[9], p[10], p[11]]));
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
            } else if k == keys::UART1_BAUDRATE || k == keys::UART2_BAUDRATE {
                self.baud_change = u32::try_from(v).ok();
            } else if k == keys::TMODE_SVIN_MIN_DUR {
                min_dur = v as u32;
            } else if [
                keys::UART1OUTPROT_NMEA,
                keys::UART2OUTPROT_NMEA,
                keys::USBOUTPROT_NMEA,
            ]
            .contains(&k)
            {
                // The fake has one port: whichever the host names is it.
                self.nmea_out = v != 0;
            } else if [
                keys::UART1OUTPROT_UBX,
                keys::UART2OUTPROT_UBX,
                keys::USBOUTPROT_UBX,
            ]
            .contains(&k)
            {
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
