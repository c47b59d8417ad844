//! NMEA sentence → [`Message`].
//!
//! Which path each sentence takes:
//! - `nmea` crate (0.8): RMC, GGA, ZDA. When the crate rejects a sentence
//!   (it is strict about some optional fields) our own field code is used.
//! - Own code: GSV (multi-GNSS talkers and the NMEA 4.10 signal id), GSA
//!   (4.10 system id), GNS (one mode character per constellation), TXT, GBS,
//!   PUBX. The crate either lacks them or drops the multi-GNSS fields.
//!
//! Satellite numbers are mapped to u-blox gnssId/svid as the u-blox protocol
//! specification's satellite numbering table does (see [`nmea_svid`]).

use chrono::{Datelike, Timelike};

use crate::gnss::error::DecodeError;
use crate::gnss::message::*;
use crate::gnss::Constellation;

/// Counts which path decoded a sentence (the crate or our fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NmeaPath {
    Crate,
    Own,
}

/// Decode one validated sentence (`$...*hh`, no line ending).
pub fn decode(sentence: &str) -> Result<Message, DecodeError> {
    decode_with_path(sentence).map(|(m, _)| m)
}

/// Like [`decode`], also saying which path was used.
pub fn decode_with_path(sentence: &str) -> Result<(Message, NmeaPath), DecodeError> {
    let body = sentence
        .strip_prefix('$')
        .or_else(|| sentence.strip_prefix('!'))
        .ok_or(DecodeError::NmeaSyntax)?;
    let body = body.rsplit_once('*').map(|(b, _)| b).unwrap_or(body);
    let fields: Vec<&str> = body.split(',').collect();
    let addr = fields.first().copied().unwrap_or("");
    if !addr.is_ascii() || addr.len() < 3 {
        return Err(DecodeError::NmeaSyntax);
    }
    if addr == "PUBX" {
        return pubx(&fields).map(|m| (m, NmeaPath::Own));
    }
    let (talker, kind) = addr.split_at(2);
    let f = Fields {
        f: fields.get(1..).unwrap_or(&[]),
    };
    let own = |m: Result<Message, DecodeError>| m.map(|m| (m, NmeaPath::Own));
    match kind {
        "RMC" | "GGA" | "ZDA" => match via_crate(sentence, talker) {
            Some(m) => Ok((m, NmeaPath::Crate)),
            None => own(match kind {
                "RMC" => rmc(talker, &f),
                "GGA" => gga(talker, &f),
                _ => zda(talker, &f),
            }),
        },
        "GSV" => own(gsv(talker, &f)),
        "GSA" => own(gsa(talker, &f)),
        "GNS" => own(gns(talker, &f)),
        "TXT" => own(txt(talker, &f)),
        "GBS" => own(gbs(talker, &f)),
        _ => Ok((
            Message::NmeaOther {
                talker: talker.to_string(),
                kind: kind.to_string(),
            },
            NmeaPath::Own,
        )),
    }
}

fn via_crate(sentence: &str, talker: &str) -> Option<Message> {
    let talker = talker.to_string();
    let parsed = std::panic::catch_unwind(|| nmea::parse_str(sentence).ok()).ok()??;
    Some(match parsed {
        nmea::ParseResult::RMC(r) => Message::Rmc(Rmc {
            talker,
            time: r.fix_time.map(time_from_chrono),
            date: r.fix_date.map(|d| NmeaDate {
                year: d.year().clamp(0, u16::MAX as i32) as u16,
                month: d.month() as u8,
                day: d.day() as u8,
            }),
            valid: !matches!(
                r.status_of_fix,
                nmea::sentences::rmc::RmcStatusOfFix::Invalid
            ),
            lat_deg: r.lat,
            lon_deg: r.lon,
            mode: r.faa_mode.map(faa_char),
        }),
        nmea::ParseResult::GGA(g) => Message::Gga(Gga {
            talker,
            time: g.fix_time.map(time_from_chrono),
            lat_deg: g.latitude,
            lon_deg: g.longitude,
            quality: g.fix_type.map(fix_type_code).unwrap_or(0),
            num_sats: g.fix_satellites,
            hdop: g.hdop.map(f32_decimal),
            alt_msl_m: g.altitude.map(f32_decimal),
        }),
        nmea::ParseResult::ZDA(z) => Message::Zda(Zda {
            talker,
            time: z.utc_time.map(time_from_chrono),
            date: match (z.year, z.month, z.day) {
                (Some(year), Some(month), Some(day)) => Some(NmeaDate { year, month, day }),
                _ => None,
            },
        }),
        _ => return None,
    })
}

/// The crate parses into f32; going through its shortest decimal form keeps
/// "0.9" as 0.9 instead of 0.899999976.
fn f32_decimal(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(x as f64)
}

fn time_from_chrono(t: chrono::NaiveTime) -> NmeaTime {
    NmeaTime {
        hour: t.hour() as u8,
        min: t.minute() as u8,
        // chrono folds a leap second into nanosecond >= 1e9.
        sec: (t.second() + t.nanosecond() / 1_000_000_000) as u8,
        nanos: t.nanosecond() % 1_000_000_000,
    }
}

fn faa_char(m: nmea::sentences::FaaMode) -> char {
    use nmea::sentences::FaaMode::*;
    match m {
        Autonomous => 'A',
        Caution => 'C',
        Differential => 'D',
        Estimated => 'E',
        FloatRtk => 'F',
        Manual => 'M',
        DataNotValid => 'N',
        Precise => 'P',
        FixedRtk => 'R',
        Simulator => 'S',
        _ => 'U',
    }
}

fn fix_type_code(t: nmea::sentences::FixType) -> u8 {
    use nmea::sentences::FixType::*;
    match t {
        Invalid => 0,
        Gps => 1,
        DGps => 2,
        Pps => 3,
        Rtk => 4,
        FloatRtk => 5,
        Estimated => 6,
        Manual => 7,
        Simulation => 8,
    }
}

/// Positional fields after the address.
struct Fields<'a, 'b> {
    f: &'b [&'a str],
}

impl<'a> Fields<'a, '_> {
    fn get(&self, i: usize) -> &'a str {
        self.f.get(i).copied().unwrap_or("")
    }
    fn len(&self) -> usize {
        self.f.len()
    }
    fn num<T: std::str::FromStr>(&self, i: usize) -> Option<T> {
        let s = self.get(i).trim();
        if s.is_empty() {
            None
        } else {
            s.parse().ok()
        }
    }
    fn time(&self, i: usize) -> Option<NmeaTime> {
        parse_time(self.get(i))
    }
    /// ddmm.mmmm + hemisphere at i, i+1.
    fn lat_lon(&self, i: usize, deg_digits: usize) -> Option<f64> {
        let s = self.get(i);
        let d: f64 = s.get(..deg_digits)?.parse().ok()?;
        let m: f64 = s.get(deg_digits..)?.parse().ok()?;
        let v = d + m / 60.0;
        match self.get(i + 1) {
            "N" | "E" => Some(v),
            "S" | "W" => Some(-v),
            _ => None,
        }
    }
}

/// `hhmmss[.sss]`
pub fn parse_time(s: &str) -> Option<NmeaTime> {
    let hour: u8 = s.get(0..2)?.parse().ok()?;
    let min: u8 = s.get(2..4)?.parse().ok()?;
    let sec: u8 = s.get(4..6)?.parse().ok()?;
    let frac = s.get(6..).unwrap_or("");
    let nanos = match frac.strip_prefix('.') {
        Some(d) if !d.is_empty() && d.len() <= 9 && d.bytes().all(|b| b.is_ascii_digit()) => {
            let v: u32 = d.parse().ok()?;
            v * 10u32.pow(9 - d.len() as u32)
        }
        Some(_) => return None,
        None if frac.is_empty() => 0,
        None => return None,
    };
    if hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(NmeaTime {
        hour,
        min,
        sec,
        nanos,
    })
}

/// `ddmmyy` (RMC) with a 1980..2079 window.
fn parse_ddmmyy(s: &str) -> Option<NmeaDate> {
    if s.len() != 6 {
        return None;
    }
    let day: u8 = s.get(0..2)?.parse().ok()?;
    let month: u8 = s.get(2..4)?.parse().ok()?;
    let yy: u16 = s.get(4..6)?.parse().ok()?;
    let year = if yy >= 80 { 1900 + yy } else { 2000 + yy };
    Some(NmeaDate { year, month, day })
}

fn rmc(talker: &str, f: &Fields) -> Result<Message, DecodeError> {
    Ok(Message::Rmc(Rmc {
        talker: talker.to_string(),
        time: f.time(0),
        date: parse_ddmmyy(f.get(8)),
        valid: f.get(1) == "A",
        lat_deg: f.lat_lon(2, 2),
        lon_deg: f.lat_lon(4, 3),
        mode: f.get(11).chars().next(),
    }))
}

fn gga(talker: &str, f: &Fields) -> Result<Message, DecodeError> {
    Ok(Message::Gga(Gga {
        talker: talker.to_string(),
        time: f.time(0),
        lat_deg: f.lat_lon(1, 2),
        lon_deg: f.lat_lon(3, 3),
        quality: f.num(5).unwrap_or(0),
        num_sats: f.num(6),
        hdop: f.num(7),
        alt_msl_m: f.num(8),
    }))
}

fn zda(talker: &str, f: &Fields) -> Result<Message, DecodeError> {
    let date = match (f.num(3), f.num(2), f.num(1)) {
        (Some(year), Some(month), Some(day)) => Some(NmeaDate { year, month, day }),
        _ => None,
    };
    Ok(Message::Zda(Zda {
        talker: talker.to_string(),
        time: f.time(0),
        date,
    }))
}

fn gns(talker: &str, f: &Fields) -> Result<Message, DecodeError> {
    Ok(Message::Gns(Gns {
        talker: talker.to_string(),
        time: f.time(0),
        lat_deg: f.lat_lon(1, 2),
        lon_deg: f.lat_lon(3, 3),
        modes: f.get(5).to_string(),
        num_sats: f.num(6),
        hdop: f.num(7),
        alt_msl_m: f.num(8),
    }))
}

fn gbs(talker: &str, f: &Fields) -> Result<Message, DecodeError> {
    Ok(Message::Gbs(Gbs {
        talker: talker.to_string(),
        time: f.time(0),
        err_lat_m: f.num(1),
        err_lon_m: f.num(2),
        err_alt_m: f.num(3),
    }))
}

fn txt(talker: &str, f: &Fields) -> Result<Message, DecodeError> {
    Ok(Message::Txt(Txt {
        talker: talker.to_string(),
        msg_type: f.num(2).unwrap_or(0),
        text: f.f.get(3..).map(|t| t.join(",")).unwrap_or_default(),
    }))
}

/// NMEA 4.10 system id → constellation.
fn system_from_id(id: u8) -> Option<Constellation> {
    Some(match id {
        1 => Constellation::Gps,
        2 => Constellation::Glonass,
        3 => Constellation::Galileo,
        4 => Constellation::BeiDou,
        5 => Constellation::Qzss,
        6 => Constellation::NavIc,
        _ => return None,
    })
}

fn system_from_talker(talker: &str) -> Option<Constellation> {
    Some(match talker {
        "GP" => Constellation::Gps,
        "GL" => Constellation::Glonass,
        "GA" => Constellation::Galileo,
        "GB" | "BD" => Constellation::BeiDou,
        "GQ" | "QZ" => Constellation::Qzss,
        "GI" => Constellation::NavIc,
        _ => return None,
    })
}

/// NMEA satellite number → u-blox (gnssId, svid).
///
/// `system` is what the talker (or the 4.10 system id) says; `None` for `GN`
/// without a system id, where the number alone decides. u-blox numbering:
/// GPS 1-32, SBAS 33-64 (= PRN 120-151) and 152-158, GLONASS 65-96,
/// IMES 173-182, QZSS 193-202, Galileo 301-336 (or 1-36 under GA),
/// BeiDou 401-463 (or 1-63 under GB).
pub fn nmea_svid(system: Option<Constellation>, n: u16) -> Option<(Constellation, u16)> {
    use Constellation::*;
    let by_number = |n: u16| -> Option<(Constellation, u16)> {
        Some(match n {
            1..=32 => (Gps, n),
            33..=64 => (Sbas, n + 87),
            65..=96 => (Glonass, n - 64),
            152..=158 => (Sbas, n),
            173..=182 => (Imes, n - 172),
            193..=202 => (Qzss, n - 192),
            301..=336 => (Galileo, n - 300),
            401..=463 => (BeiDou, n - 400),
            _ => return None,
        })
    };
    match system {
        None | Some(Gps) | Some(Sbas) | Some(Imes) => by_number(n),
        Some(Glonass) => match n {
            1..=32 => Some((Glonass, n)),
            65..=96 => Some((Glonass, n - 64)),
            _ => None,
        },
        Some(Galileo) => match n {
            1..=36 => Some((Galileo, n)),
            301..=336 => Some((Galileo, n - 300)),
            _ => None,
        },
        Some(BeiDou) => match n {
            1..=63 => Some((BeiDou, n)),
            401..=463 => Some((BeiDou, n - 400)),
            _ => None,
        },
        Some(Qzss) => match n {
            1..=10 => Some((Qzss, n)),
            193..=202 => Some((Qzss, n - 192)),
            _ => None,
        },
        Some(NavIc) => (1..=14).contains(&n).then_some((NavIc, n)),
    }
}

fn gsv(talker: &str, f: &Fields) -> Result<Message, DecodeError> {
    let bad = |field| DecodeError::NmeaField { kind: "GSV", field };
    let num_msgs: u8 = f.num(0).ok_or(bad("number of messages"))?;
    let msg_num: u8 = f.num(1).ok_or(bad("message number"))?;
    let sats_in_view: u16 = f.num(2).unwrap_or(0);
    // 4.10 appends a signal id after the groups of four.
    let rest = f.len().saturating_sub(3);
    // The signal id is one hex digit (BeiDou B2I is "B").
    let signal_id = (rest % 4 == 1)
        .then(|| u8::from_str_radix(f.get(f.len() - 1).trim(), 16).ok())
        .flatten();
    let system = system_from_talker(talker);
    let mut sats = Vec::new();
    for g in 0..rest / 4 {
        let o = 3 + 4 * g;
        let Some(n) = f.num::<u16>(o) else { continue };
        let Some((gnss, svid)) = nmea_svid(system, n) else {
            continue;
        };
        sats.push(SatView {
            gnss,
            svid,
            el_deg: f.num::<i16>(o + 1).filter(|e| (-90..=90).contains(e)),
            az_deg: f.num::<i16>(o + 2).filter(|a| (0..=360).contains(a)),
            cn0_dbhz: f.num(o + 3),
            used: false,
            healthy: None,
        });
    }
    Ok(Message::Gsv(Gsv {
        talker: talker.to_string(),
        num_msgs,
        msg_num,
        sats_in_view,
        sats,
        signal_id,
    }))
}

fn gsa(talker: &str, f: &Fields) -> Result<Message, DecodeError> {
    let system_id: Option<u8> = f.num(17);
    let system = system_id
        .and_then(system_from_id)
        .or_else(|| system_from_talker(talker));
    let used = (2..14)
        .filter_map(|i| f.num::<u16>(i))
        .filter_map(|n| nmea_svid(system, n))
        .collect();
    Ok(Message::Gsa(Gsa {
        talker: talker.to_string(),
        nav_mode: f.num(1).unwrap_or(1),
        used,
        pdop: f.num(14),
        hdop: f.num(15),
        vdop: f.num(16),
        system_id,
    }))
}

fn pubx(fields: &[&str]) -> Result<Message, DecodeError> {
    let f = Fields {
        f: fields.get(2..).unwrap_or(&[]),
    };
    let msg_id: u8 = fields
        .get(1)
        .and_then(|s| s.parse().ok())
        .ok_or(DecodeError::NmeaField {
            kind: "PUBX",
            field: "msgId",
        })?;
    Ok(Message::Pubx(match msg_id {
        0 => Pubx::Position {
            time: f.time(0),
            lat_deg: f.lat_lon(1, 2),
            lon_deg: f.lat_lon(3, 3),
            alt_m: f.num(5),
            nav_stat: f.get(6).to_string(),
            hdop: f.num(13),
            vdop: f.num(14),
            num_sats: f.num(16),
        },
        3 => {
            // n, then groups of six: sv, status (U used / e ephemeris / -), az, el, cno, lck.
            let n: usize = f.num(0).unwrap_or(0);
            let mut sats = Vec::new();
            for g in 0..n.min(f.len().saturating_sub(1) / 6) {
                let o = 1 + 6 * g;
                let Some((gnss, svid)) = f.num::<u16>(o).and_then(|n| nmea_svid(None, n)) else {
                    continue;
                };
                sats.push(SatView {
                    gnss,
                    svid,
                    az_deg: f.num(o + 2),
                    el_deg: f.num(o + 3),
                    cn0_dbhz: f.num(o + 4),
                    used: f.get(o + 1) == "U",
                    healthy: None,
                });
            }
            Pubx::Satellites { sats }
        }
        4 => {
            let leap = f.get(4);
            let leap_is_default = leap.ends_with('D');
            Pubx::Time {
                time: f.time(0),
                date: parse_ddmmyy(f.get(1)),
                week: f.num(3),
                leap_s: leap.trim_end_matches('D').parse().ok(),
                leap_is_default,
            }
        }
        _ => Pubx::Other { msg_id },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_field_parsing() {
        let t = parse_time("223745.50").unwrap();
        assert_eq!((t.hour, t.min, t.sec, t.nanos), (22, 37, 45, 500_000_000));
        assert_eq!(t.ms_of_day(), (22 * 3600 + 37 * 60 + 45) * 1000 + 500);
        assert!(parse_time("2237").is_none());
        assert!(parse_time("246000").is_none());
        assert!(parse_time("223745.x").is_none());
    }

    #[test]
    fn svid_mapping_follows_ublox_table() {
        use Constellation::*;
        assert_eq!(nmea_svid(None, 5), Some((Gps, 5)));
        assert_eq!(nmea_svid(Some(Gps), 46), Some((Sbas, 133)));
        assert_eq!(nmea_svid(None, 70), Some((Glonass, 6)));
        assert_eq!(nmea_svid(Some(Glonass), 70), Some((Glonass, 6)));
        assert_eq!(nmea_svid(Some(Galileo), 13), Some((Galileo, 13)));
        assert_eq!(nmea_svid(None, 313), Some((Galileo, 13)));
        assert_eq!(nmea_svid(Some(BeiDou), 27), Some((BeiDou, 27)));
        assert_eq!(nmea_svid(None, 427), Some((BeiDou, 27)));
        assert_eq!(nmea_svid(Some(Gps), 194), Some((Qzss, 2)));
        assert_eq!(nmea_svid(Some(Qzss), 2), Some((Qzss, 2)));
        assert_eq!(nmea_svid(None, 0), None);
    }
}
