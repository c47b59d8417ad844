//! UBX payload → [`Message`].
//!
//! Which path each message takes:
//! - `ublox` crate (0.10, protocol 23 tables), one validated frame per call,
//!   isolated with `catch_unwind`: ACK-ACK, ACK-NAK, NAV-CLOCK, NAV-TIMEGPS,
//!   NAV-DOP, TIM-SVIN. These are fixed-length records where the crate's
//!   accessors are plain field reads.
//! - Own byte-offset code from the u-blox protocol specification: NAV-PVT
//!   (the crate pins one protocol's 92-byte layout; protocol 14 sends 84),
//!   NAV-SOL, NAV-SAT, NAV-STATUS, NAV-TIMEUTC, NAV-TIMELS, NAV-EOE, TIM-TP, MON-HW
//!   (two layouts: 60 and 68 bytes), MON-VER, and the ones the crate's
//!   protocol-23 table lacks: NAV-SVINFO, NAV-SIG, MON-RF, SEC-SIG.
//! - CFG replies (whose crate accessors can panic, e.g. CFG-PRT for USB)
//!   and other known classes become `Message::Other` without being parsed.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ublox::proto23::{PacketRef, Proto23};
use ublox::UbxProtocol;

use super::{class, id};
use crate::gnss::error::DecodeError;
use crate::gnss::message::*;
use crate::gnss::Constellation;

/// Decode one validated UBX frame.
pub fn decode(class: u8, id: u8, payload: &[u8]) -> Result<Message, DecodeError> {
    let key = (class, id);
    match key {
        id::ACK_ACK
        | id::ACK_NAK
        | id::NAV_CLOCK
        | id::NAV_TIMEGPS
        | id::NAV_DOP
        | id::TIM_SVIN => via_crate(class, id, payload),
        id::NAV_PVT => nav_pvt(payload),
        id::NAV_SOL => nav_sol(payload),
        id::NAV_SAT => nav_sat(payload),
        id::NAV_SVINFO => nav_svinfo(payload),
        id::NAV_SIG => nav_sig(payload),
        id::NAV_STATUS => nav_status(payload),
        id::NAV_TIMEUTC => nav_timeutc(payload),
        id::NAV_TIMELS => nav_timels(payload),
        id::NAV_EOE => Ok(Message::NavEoe {
            itow_ms: Reader::new("NAV-EOE", payload, 4)?.u32(0),
        }),
        id::TIM_TP => tim_tp(payload),
        id::MON_HW => mon_hw(payload),
        id::MON_RF => mon_rf(payload),
        id::MON_VER => mon_ver(payload),
        id::SEC_SIG => sec_sig(payload),
        _ if is_known_class(class) => Ok(Message::Other { class, id }),
        _ => Ok(Message::UbxUnknown { class, id }),
    }
}

fn is_known_class(c: u8) -> bool {
    matches!(
        c,
        class::NAV
            | class::RXM
            | class::INF
            | class::ACK
            | class::CFG
            | class::UPD
            | class::MON
            | class::AID
            | class::TIM
            | class::ESF
            | class::MGA
            | class::LOG
            | class::SEC
            | class::HNR
            | class::NAV2
    )
}

/// Little-endian reads at fixed offsets, after one up-front length check.
struct Reader<'a> {
    p: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(msg: &'static str, p: &'a [u8], need: usize) -> Result<Self, DecodeError> {
        if p.len() < need {
            return Err(DecodeError::TooShort {
                msg,
                len: p.len(),
                need,
            });
        }
        Ok(Self { p })
    }
    fn bytes<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(s) = self.p.get(off..off + N) {
            out.copy_from_slice(s);
        }
        out
    }
    fn u8(&self, off: usize) -> u8 {
        self.p.get(off).copied().unwrap_or(0)
    }
    fn i8(&self, off: usize) -> i8 {
        self.u8(off) as i8
    }
    fn u16(&self, off: usize) -> u16 {
        u16::from_le_bytes(self.bytes(off))
    }
    fn i16(&self, off: usize) -> i16 {
        i16::from_le_bytes(self.bytes(off))
    }
    fn u32(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.bytes(off))
    }
    fn i32(&self, off: usize) -> i32 {
        i32::from_le_bytes(self.bytes(off))
    }
    /// NUL-terminated/padded ASCII field.
    fn str(&self, off: usize, width: usize) -> String {
        let s = self.p.get(off..off + width).unwrap_or(&[]);
        let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
        String::from_utf8_lossy(s.get(..end).unwrap_or(&[]))
            .trim()
            .to_string()
    }
}

fn via_crate(class: u8, id: u8, payload: &[u8]) -> Result<Message, DecodeError> {
    let out = catch_unwind(AssertUnwindSafe(|| {
        let pkt = Proto23::match_packet(class, id, payload).map_err(|e| DecodeError::Crate {
            class,
            id,
            reason: e.to_string(),
        })?;
        Ok(match pkt {
            PacketRef::AckAck(a) => Message::AckAck {
                class: a.class(),
                id: a.msg_id(),
            },
            PacketRef::AckNak(a) => Message::AckNak {
                class: a.class(),
                id: a.msg_id(),
            },
            PacketRef::NavClock(c) => Message::NavClock(NavClock {
                itow_ms: c.itow_raw(),
                bias_ns: c.clk_bias_raw(),
                drift_ns_per_s: c.clk_drift_raw(),
                t_acc_ns: c.time_acc_raw(),
                f_acc_ps_per_s: c.freq_acc_raw(),
            }),
            PacketRef::NavTimeGps(t) => Message::NavTimeGps(NavTimeGps {
                itow_ms: t.itow(),
                ftow_ns: t.ftow(),
                week: t.week(),
                leap_s: t.leap_s(),
                valid: t.valid_raw(),
                t_acc_ns: t.t_acc(),
            }),
            PacketRef::NavDop(d) => Message::NavDop(NavDop {
                itow_ms: d.itow(),
                pdop: d.position_dop_raw() as f64 * 0.01,
                tdop: d.time_dop_raw() as f64 * 0.01,
                vdop: d.vertical_dop_raw() as f64 * 0.01,
                hdop: d.horizontal_dop_raw() as f64 * 0.01,
            }),
            PacketRef::TimSvin(s) => Message::TimSvin(TimSvin {
                dur_s: s.dur(),
                mean_x_cm: s.mean_x(),
                mean_y_cm: s.mean_y(),
                mean_z_cm: s.mean_z(),
                mean_v_mm2: s.mean_v() as u32,
                obs: s.obs(),
                valid: s.valid() == 1,
                active: s.active() == 1,
            }),
            // The crate's validation (length, fields) failed: it falls back
            // to "unknown" instead of an error.
            PacketRef::Unknown(_) => {
                return Err(DecodeError::Crate {
                    class,
                    id,
                    reason: format!("payload of {} bytes failed validation", payload.len()),
                })
            }
            _ => Message::Other { class, id },
        })
    }));
    out.unwrap_or(Err(DecodeError::CratePanicked { class, id }))
}

fn nav_pvt(p: &[u8]) -> Result<Message, DecodeError> {
    // Protocol 14 ends after pDOP + reserved (84 bytes); later versions add fields.
    let r = Reader::new("NAV-PVT", p, 84)?;
    Ok(Message::NavPvt(NavPvt {
        itow_ms: r.u32(0),
        year: r.u16(4),
        month: r.u8(6),
        day: r.u8(7),
        hour: r.u8(8),
        min: r.u8(9),
        sec: r.u8(10),
        valid: r.u8(11),
        t_acc_ns: r.u32(12),
        nano: r.i32(16),
        fix_type: r.u8(20),
        flags: r.u8(21),
        flags2: r.u8(22),
        num_sv: r.u8(23),
        lon_deg: r.i32(24) as f64 * 1e-7,
        lat_deg: r.i32(28) as f64 * 1e-7,
        height_msl_m: r.i32(36) as f64 * 1e-3,
        pdop: r.u16(76) as f64 * 0.01,
    }))
}

fn nav_sol(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("NAV-SOL", p, 52)?;
    Ok(Message::NavSol(NavSol {
        itow_ms: r.u32(0),
        ftow_ns: r.i32(4),
        week: r.i16(8),
        gps_fix: r.u8(10),
        flags: r.u8(11),
        pdop: r.u16(44) as f64 * 0.01,
        num_sv: r.u8(47),
    }))
}

fn nav_sat(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("NAV-SAT", p, 8)?;
    let num = r.u8(5) as usize;
    Reader::new("NAV-SAT", p, 8 + 12 * num)?;
    let mut sats = Vec::with_capacity(num);
    for i in 0..num {
        let o = 8 + 12 * i;
        let Some(gnss) = Constellation::from_gnss_id(r.u8(o)) else {
            continue;
        };
        let flags = r.u32(o + 8);
        let (el, az) = (r.i8(o + 3), r.i16(o + 4));
        // The spec: elevation out of +/-90 is unknown, and then so is the
        // azimuth (the receiver sends a 0 placeholder).
        let el_known = (-90..=90).contains(&el);
        sats.push(SatView {
            gnss,
            svid: r.u8(o + 1) as u16,
            el_deg: el_known.then_some(el as i16),
            az_deg: (el_known && (0..=360).contains(&az)).then_some(az),
            cn0_dbhz: Some(r.u8(o + 2)),
            used: flags & 0x08 != 0,
            healthy: match (flags >> 4) & 0x3 {
                1 => Some(true),
                2 => Some(false),
                _ => None,
            },
        });
    }
    Ok(Message::NavSat(NavSat {
        itow_ms: r.u32(0),
        sats,
    }))
}

/// NAV-SVINFO svid (u-blox "extended" numbering) → (gnssId, svid).
pub fn svinfo_svid(sv: u8) -> Option<(Constellation, u16)> {
    let sv16 = sv as u16;
    Some(match sv {
        1..=32 => (Constellation::Gps, sv16),
        33..=64 => (Constellation::BeiDou, sv16 - 32),
        65..=96 => (Constellation::Glonass, sv16 - 64),
        120..=158 => (Constellation::Sbas, sv16),
        159..=163 => (Constellation::BeiDou, sv16 - 158 + 32),
        173..=182 => (Constellation::Imes, sv16 - 172),
        193..=202 => (Constellation::Qzss, sv16 - 192),
        211..=246 => (Constellation::Galileo, sv16 - 210),
        255 => (Constellation::Glonass, 255),
        _ => return None,
    })
}

fn nav_svinfo(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("NAV-SVINFO", p, 8)?;
    let num = r.u8(4) as usize;
    Reader::new("NAV-SVINFO", p, 8 + 12 * num)?;
    let mut sats = Vec::with_capacity(num);
    for i in 0..num {
        let o = 8 + 12 * i;
        let Some((gnss, svid)) = svinfo_svid(r.u8(o + 1)) else {
            continue;
        };
        let flags = r.u8(o + 2);
        let (el, az) = (r.i8(o + 5), r.i16(o + 6));
        sats.push(SatView {
            gnss,
            svid,
            el_deg: (-90..=90).contains(&el).then_some(el as i16),
            az_deg: (0..=360).contains(&az).then_some(az),
            cn0_dbhz: Some(r.u8(o + 4)),
            used: flags & 0x01 != 0,
            healthy: Some(flags & 0x10 == 0),
        });
    }
    Ok(Message::NavSvInfo(NavSat {
        itow_ms: r.u32(0),
        sats,
    }))
}

fn nav_sig(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("NAV-SIG", p, 8)?;
    if r.u8(4) != 0 {
        return Err(DecodeError::Version {
            msg: "NAV-SIG",
            version: r.u8(4),
        });
    }
    let num = r.u8(5) as usize;
    Reader::new("NAV-SIG", p, 8 + 16 * num)?;
    let mut sigs = Vec::with_capacity(num);
    for i in 0..num {
        let o = 8 + 16 * i;
        let Some(gnss) = Constellation::from_gnss_id(r.u8(o)) else {
            continue;
        };
        let flags = r.u16(o + 10);
        sigs.push(SigView {
            gnss,
            svid: r.u8(o + 1) as u16,
            sig_id: r.u8(o + 2),
            freq_id: r.u8(o + 3),
            cn0_dbhz: r.u8(o + 6),
            quality_ind: r.u8(o + 7),
            used: flags & 0x08 != 0,
            healthy: match flags & 0x3 {
                1 => Some(true),
                2 => Some(false),
                _ => None,
            },
        });
    }
    Ok(Message::NavSig(NavSig {
        itow_ms: r.u32(0),
        sigs,
    }))
}

fn nav_status(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("NAV-STATUS", p, 16)?;
    Ok(Message::NavStatus(NavStatus {
        itow_ms: r.u32(0),
        gps_fix: r.u8(4),
        flags: r.u8(5),
        spoof_det_state: (r.u8(7) >> 3) & 0x3,
    }))
}

fn nav_timeutc(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("NAV-TIMEUTC", p, 20)?;
    Ok(Message::NavTimeUtc(NavTimeUtc {
        itow_ms: r.u32(0),
        t_acc_ns: r.u32(4),
        nano: r.i32(8),
        year: r.u16(12),
        month: r.u8(14),
        day: r.u8(15),
        hour: r.u8(16),
        min: r.u8(17),
        sec: r.u8(18),
        valid: r.u8(19),
    }))
}

fn nav_timels(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("NAV-TIMELS", p, 24)?;
    Ok(Message::NavTimeLs(NavTimeLs {
        itow_ms: r.u32(0),
        src_of_curr_ls: r.u8(8),
        curr_ls: r.i8(9),
        src_of_ls_change: r.u8(10),
        ls_change: r.i8(11),
        time_to_ls_event_s: r.i32(12),
        date_of_ls_gps_wn: r.u16(16),
        date_of_ls_gps_dn: r.u16(18),
        valid: r.u8(23),
    }))
}

fn tim_tp(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("TIM-TP", p, 16)?;
    Ok(Message::TimTp(TimTp {
        tow_ms: r.u32(0),
        tow_sub_ms: r.u32(4),
        q_err_ps: r.i32(8),
        week: r.u16(12),
        flags: r.u8(14),
        ref_info: r.u8(15),
    }))
}

fn mon_hw(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("MON-HW", p, 60)?;
    // u-blox 6 has a 25-byte VP array (68 bytes total); u-blox 7/8 17 bytes (60).
    let jam_off = if p.len() >= 68 { 53 } else { 45 };
    Ok(Message::MonHw(MonHw {
        noise_per_ms: r.u16(16),
        agc_cnt: r.u16(18),
        a_status: r.u8(20),
        a_power: r.u8(21),
        jamming_state: (r.u8(22) >> 2) & 0x3,
        jam_ind: r.u8(jam_off),
    }))
}

fn mon_rf(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("MON-RF", p, 4)?;
    let n = r.u8(1) as usize;
    Reader::new("MON-RF", p, 4 + 24 * n)?;
    let blocks = (0..n)
        .map(|i| {
            let o = 4 + 24 * i;
            MonRfBlock {
                block_id: r.u8(o),
                jamming_state: r.u8(o + 1) & 0x3,
                ant_status: r.u8(o + 2),
                ant_power: r.u8(o + 3),
                noise_per_ms: r.u16(o + 12),
                agc_cnt: r.u16(o + 14),
                jam_ind: r.u8(o + 16),
            }
        })
        .collect();
    Ok(Message::MonRf(MonRf { blocks }))
}

fn mon_ver(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("MON-VER", p, 40)?;
    let extensions = (0..(p.len() - 40) / 30)
        .map(|i| r.str(40 + 30 * i, 30))
        .filter(|s| !s.is_empty())
        .collect();
    Ok(Message::MonVer(MonVer {
        sw_version: r.str(0, 30),
        hw_version: r.str(30, 10),
        extensions,
    }))
}

fn sec_sig(p: &[u8]) -> Result<Message, DecodeError> {
    let r = Reader::new("SEC-SIG", p, 4)?;
    match r.u8(0) {
        1 => {
            let r = Reader::new("SEC-SIG", p, 12)?;
            Ok(Message::SecSig(SecSig {
                jamming_state: (r.u8(4) >> 1) & 0x3,
                spoofing_state: (r.u8(8) >> 1) & 0x7,
            }))
        }
        // Version 2 packs both states into sigSecFlags.
        2 => Ok(Message::SecSig(SecSig {
            jamming_state: (r.u8(1) >> 1) & 0x3,
            spoofing_state: (r.u8(1) >> 4) & 0x7,
        })),
        version => Err(DecodeError::Version {
            msg: "SEC-SIG",
            version,
        }),
    }
}
