//! NMEA 4.11 sentences of one fake-receiver epoch: RMC, GGA, GSA and GSV
//! per system (GSV per signal), ZDA, GNS.

use super::messages::{civil, Epoch};
use super::wire::{nmea, nmea_lat, nmea_lon};
use crate::gnss::Constellation;
use crate::sim::scenario::{SimSat, GEOID_SEP_M};

impl Epoch<'_> {
    /// NMEA 4.10 sentences of the epoch: RMC, GGA, GSA (per system), GSV (per
    /// system), ZDA, GNS.
    pub fn nmea(&self) -> Vec<u8> {
        let cond = self.cond;
        let c = civil(self.utc_s());
        let valid = cond.time_valid;
        let hms = if valid {
            format!("{:02}{:02}{:02}.00", c.hour, c.min, c.sec)
        } else {
            String::new()
        };
        let dmy = if valid {
            format!("{:02}{:02}{:02}", c.day, c.month, c.year % 100)
        } else {
            String::new()
        };
        let fix = self.fixed();
        let (lat, lon) = if fix {
            (nmea_lat(cond.lat_deg), nmea_lon(cond.lon_deg))
        } else {
            (",".to_string(), ",".to_string())
        };
        let used = cond.used_count();
        let mut out = Vec::with_capacity(1200);
        let (status, mode) = if fix { ('A', 'A') } else { ('V', 'N') };
        out.extend(nmea(&format!(
            "GNRMC,{hms},{status},{lat},{lon},0.008,,{dmy},,,{mode},V"
        )));
        let (q, alt) = if fix {
            (1, format!("{:.1},M,{:.1},M", cond.alt_msl_m, GEOID_SEP_M))
        } else {
            (0, ",M,,M".to_string())
        };
        out.extend(nmea(&format!(
            "GNGGA,{hms},{lat},{lon},{q},{used:02},{},{alt},,",
            if fix { "0.71" } else { "99.99" }
        )));
        let dops = if fix {
            "1.28,0.71,1.07"
        } else {
            "99.99,99.99,99.99"
        };
        for (g, sys_id) in [
            (Constellation::Gps, 1),
            (Constellation::Glonass, 2),
            (Constellation::Galileo, 3),
            (Constellation::BeiDou, 4),
        ] {
            let mut ids: Vec<String> = cond
                .sky
                .iter()
                .filter(|s| s.gnss == g && s.used)
                .map(|s| nmea_svid(s.gnss, s.svid).to_string())
                .take(12)
                .collect();
            ids.resize(12, String::new());
            let mode = if fix { 3 } else { 1 };
            out.extend(nmea(&format!(
                "GNGSA,A,{mode},{},{dops},{sys_id}",
                ids.join(",")
            )));
        }
        // One GSV group per talker and signal (NMEA 4.11): an F9T lists a
        // satellite again for its second signal, with an empty C/N0 when
        // that signal is not tracked.
        for (g, talker) in [
            (Constellation::Gps, "GP"),
            (Constellation::Glonass, "GL"),
            (Constellation::Galileo, "GA"),
            (Constellation::BeiDou, "GB"),
        ] {
            let sats: Vec<_> = cond.sky.iter().filter(|s| s.gnss == g).collect();
            let probe = SimSat {
                gnss: g,
                svid: 1,
                az_deg: 0.0,
                el_deg: 90.0,
                cn0_dbhz: 45.0,
                used: false,
            };
            let signal_ids: Vec<u8> = self.signals(&probe).iter().map(|x| x.1).collect();
            for (k, signal) in signal_ids.iter().enumerate() {
                if sats.is_empty() {
                    out.extend(nmea(&format!("{talker}GSV,1,1,00,{signal:X}")));
                    continue;
                }
                let pages = sats.len().div_ceil(4);
                for (i, chunk) in sats.chunks(4).enumerate() {
                    let mut body = format!("{talker}GSV,{pages},{},{:02}", i + 1, sats.len());
                    for s in chunk {
                        let cn0 = self.signals(s).get(k).and_then(|x| x.2);
                        body.push_str(&format!(
                            ",{:02},{:02},{:03},{}",
                            nmea_svid(s.gnss, s.svid),
                            s.el_deg as i32,
                            s.az_deg as i32,
                            cn0.map(|c| format!("{c:02}")).unwrap_or_default()
                        ));
                    }
                    body.push_str(&format!(",{signal:X}"));
                    out.extend(nmea(&body));
                }
            }
        }
        if valid {
            out.extend(nmea(&format!(
                "GNZDA,{hms},{:02},{:02},{:04},00,00",
                c.day, c.month, c.year
            )));
        } else {
            out.extend(nmea("GNZDA,,,,,00,00"));
        }
        let modes = if fix { "AAAA" } else { "NNNN" };
        let gns_alt = if fix {
            format!("{:.1},{:.1}", cond.alt_msl_m, GEOID_SEP_M)
        } else {
            ",".to_string()
        };
        out.extend(nmea(&format!(
            "GNGNS,{hms},{lat},{lon},{modes},{used:02},{},{gns_alt},,,{}",
            if fix { "0.71" } else { "99.99" },
            if fix { 'S' } else { 'V' }
        )));
        out
    }
}

/// Satellite number as u-blox prints it in NMEA 4.10 (GLONASS 65..96, others as is).
fn nmea_svid(g: Constellation, svid: u8) -> u16 {
    match g {
        Constellation::Glonass => 64 + u16::from(svid),
        _ => u16::from(svid),
    }
}
