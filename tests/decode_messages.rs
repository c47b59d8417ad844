//! UBX and NMEA decoders on hand-built frames (built with our own encoders;
//! no fixture bytes are copied into the repository).

use gnss_timeserver::gnss::dispatch::decode_frame;
use gnss_timeserver::gnss::framer::Framer;
use gnss_timeserver::gnss::message::*;
use gnss_timeserver::gnss::nmea::{self, sentence, NmeaPath};
use gnss_timeserver::gnss::ubx::{self, frame, PayloadWriter};
use gnss_timeserver::gnss::{Constellation, DecodeError};

/// Frame with our encoder, take it back out with the framer, then decode: the
/// same path the daemon uses.
fn roundtrip_ubx(class: u8, id: u8, payload: &[u8]) -> Result<Message, DecodeError> {
    let bytes = frame(class, id, payload);
    let mut f = Framer::new();
    f.push(&bytes);
    let fr = f.next_frame().expect("framer returns the frame");
    decode_frame(&fr).expect("UBX frames decode")
}

fn nav_pvt_payload(len: usize) -> Vec<u8> {
    let mut p = PayloadWriter::new()
        .u32(345_600_000) // iTOW
        .u16(2024)
        .u8(6)
        .u8(30)
        .u8(23)
        .u8(59)
        .u8(58)
        .u8(0x07) // validDate | validTime | fullyResolved
        .u32(25) // tAcc
        .i32(-1_500) // nano
        .u8(3) // fixType
        .u8(0x01) // gnssFixOK
        .u8(0xE0) // flags2
        .u8(14) // numSV
        .i32(1_131_000_000) // lon 113.1
        .i32(-480_000_000) // lat -48.0
        .i32(100_000)
        .i32(55_500) // hMSL mm
        .zeros(76 - 40)
        .u16(123) // pDOP
        .finish();
    p.resize(len, 0);
    p
}

#[test]
fn nav_pvt_both_layouts_and_short() {
    for len in [92, 84] {
        let Ok(Message::NavPvt(p)) = roundtrip_ubx(0x01, 0x07, &nav_pvt_payload(len)) else {
            panic!("NAV-PVT {len} bytes did not decode");
        };
        assert_eq!(p.itow_ms, 345_600_000);
        assert_eq!(
            (p.year, p.month, p.day, p.hour, p.min, p.sec),
            (2024, 6, 30, 23, 59, 58)
        );
        assert_eq!(p.nano, -1_500);
        assert_eq!(p.fix_type, 3);
        assert_eq!(p.num_sv, 14);
        assert!((p.lon_deg - 113.1).abs() < 1e-9);
        assert!((p.lat_deg + 48.0).abs() < 1e-9);
        assert!((p.height_msl_m - 55.5).abs() < 1e-9);
        assert!((p.pdop - 1.23).abs() < 1e-9);
    }
    assert!(matches!(
        roundtrip_ubx(0x01, 0x07, &[0; 50]),
        Err(DecodeError::TooShort {
            need: 84,
            len: 50,
            ..
        })
    ));
}

#[test]
fn nav_sat_flags_and_unknown_elevation() {
    let p = PayloadWriter::new()
        .u32(1000)
        .u8(1) // version
        .u8(3) // numSvs
        .zeros(2)
        // GPS 7: used (bit 3), healthy (health=1 in bits 4-5), quality 7
        .u8(0)
        .u8(7)
        .u8(44)
        .i8(45)
        .i16(270)
        .i16(0)
        .u32(0x08 | 0x10 | 0x07)
        // GLONASS 3: elevation unknown (-91), unhealthy
        .u8(6)
        .u8(3)
        .u8(0)
        .i8(-91)
        .i16(0)
        .i16(0)
        .u32(0x20)
        // unknown gnssId 9: skipped
        .u8(9)
        .u8(1)
        .u8(30)
        .i8(10)
        .i16(10)
        .i16(0)
        .u32(0)
        .finish();
    let Ok(Message::NavSat(s)) = roundtrip_ubx(0x01, 0x35, &p) else {
        panic!("NAV-SAT");
    };
    assert_eq!(s.itow_ms, 1000);
    assert_eq!(s.sats.len(), 2);
    let g = &s.sats[0];
    assert_eq!((g.gnss, g.svid), (Constellation::Gps, 7));
    assert_eq!(
        (g.el_deg, g.az_deg, g.cn0_dbhz),
        (Some(45), Some(270), Some(44))
    );
    assert!(g.used);
    assert_eq!(g.healthy, Some(true));
    let r = &s.sats[1];
    assert_eq!((r.gnss, r.svid), (Constellation::Glonass, 3));
    assert_eq!((r.el_deg, r.az_deg), (None, None));
    assert!(!r.used);
    assert_eq!(r.healthy, Some(false));
    // Declared count larger than the payload: an error, not a panic.
    let mut short = p.clone();
    short.truncate(20);
    assert!(matches!(
        roundtrip_ubx(0x01, 0x35, &short),
        Err(DecodeError::TooShort { .. })
    ));
}

fn nav_sig_block(
    w: PayloadWriter,
    gnss: u8,
    sv: u8,
    sig: u8,
    cno: u8,
    flags: u16,
) -> PayloadWriter {
    w.u8(gnss)
        .u8(sv)
        .u8(sig)
        .u8(if gnss == 6 { 9 } else { 0 }) // freqId
        .i16(-12) // prRes
        .u8(cno)
        .u8(7) // qualityInd
        .u8(0)
        .u8(0)
        .u16(flags)
        .zeros(4)
}

fn nav_sig_payload(blocks: u8) -> PayloadWriter {
    PayloadWriter::new()
        .u32(86_400_000)
        .u8(0)
        .u8(blocks)
        .zeros(2)
}

#[test]
fn nav_sig_signals_flags_and_truncation() {
    let mut w = nav_sig_payload(4);
    w = nav_sig_block(w, 0, 7, 0, 44, 0x01 | 0x08); // GPS L1C/A, healthy, prUsed
    w = nav_sig_block(w, 0, 7, 3, 39, 0x01); // GPS L2CL, not used
    w = nav_sig_block(w, 9, 1, 0, 30, 0x08); // unknown gnssId: skipped
    w = nav_sig_block(w, 6, 2, 2, 35, 0x02); // GLONASS L2OF, unhealthy
    let payload = w.finish();
    let Ok(Message::NavSig(s)) = roundtrip_ubx(0x01, 0x43, &payload) else {
        panic!("NAV-SIG did not decode");
    };
    assert_eq!(s.itow_ms, 86_400_000);
    assert_eq!(s.sigs.len(), 3);
    let a = &s.sigs[0];
    assert_eq!(
        (
            a.gnss,
            a.svid,
            a.sig_id,
            a.cn0_dbhz,
            a.quality_ind,
            a.used,
            a.healthy
        ),
        (Constellation::Gps, 7, 0, 44, 7, true, Some(true))
    );
    assert_eq!((s.sigs[1].sig_id, s.sigs[1].used), (3, false));
    let g = &s.sigs[2];
    assert_eq!(
        (g.gnss, g.sig_id, g.freq_id, g.healthy),
        (Constellation::Glonass, 2, 9, Some(false))
    );
    // Truncated: the count promises more blocks than the payload holds.
    for cut in [payload.len() - 1, 8 + 16 * 3 + 5, 7, 0] {
        assert!(
            matches!(
                ubx::decode(0x01, 0x43, &payload[..cut]),
                Err(DecodeError::TooShort { msg: "NAV-SIG", .. })
            ),
            "cut at {cut}"
        );
    }
    // An unknown version is refused, not guessed.
    let mut v1 = payload.clone();
    v1[4] = 1;
    assert_eq!(
        ubx::decode(0x01, 0x43, &v1),
        Err(DecodeError::Version {
            msg: "NAV-SIG",
            version: 1
        })
    );
    // No signals is a valid, empty list.
    let Ok(Message::NavSig(empty)) = ubx::decode(0x01, 0x43, &nav_sig_payload(0).finish()) else {
        panic!("empty NAV-SIG");
    };
    assert!(empty.sigs.is_empty());
}

#[test]
fn nav_svinfo_maps_ublox_svids() {
    let mut w = PayloadWriter::new().u32(5000).u8(5).u8(0).zeros(2);
    for (chn, sv, flags) in [
        (0u8, 5u8, 0x01u8),
        (1, 66, 0),
        (2, 120, 0x10),
        (3, 193, 0),
        (4, 212, 0),
    ] {
        w = w
            .u8(chn)
            .u8(sv)
            .u8(flags)
            .u8(4)
            .u8(35)
            .i8(20)
            .i16(100)
            .i32(0);
    }
    let Ok(Message::NavSvInfo(s)) = roundtrip_ubx(0x01, 0x30, &w.finish()) else {
        panic!("NAV-SVINFO");
    };
    let ids: Vec<_> = s.sats.iter().map(|v| (v.gnss, v.svid, v.used)).collect();
    assert_eq!(
        ids,
        vec![
            (Constellation::Gps, 5, true),
            (Constellation::Glonass, 2, false),
            (Constellation::Sbas, 120, false),
            (Constellation::Qzss, 1, false),
            (Constellation::Galileo, 2, false),
        ]
    );
    assert_eq!(s.sats[2].healthy, Some(false));
}

#[test]
fn time_messages() {
    let utc = PayloadWriter::new()
        .u32(2000)
        .u32(30)
        .i32(-20)
        .u16(2016)
        .u8(12)
        .u8(31)
        .u8(23)
        .u8(59)
        .u8(60)
        .u8(0x07)
        .finish();
    let Ok(Message::NavTimeUtc(t)) = roundtrip_ubx(0x01, 0x21, &utc) else {
        panic!("NAV-TIMEUTC");
    };
    assert_eq!(
        (t.year, t.month, t.day, t.sec, t.valid, t.nano),
        (2016, 12, 31, 60, 7, -20)
    );

    let ls = PayloadWriter::new()
        .u32(3000)
        .u8(0)
        .zeros(3)
        .u8(2) // srcOfCurrLs GPS
        .i8(18)
        .u8(2)
        .i8(1)
        .i32(86_400)
        .u16(2400)
        .u16(3)
        .zeros(3)
        .u8(0x03)
        .finish();
    let Ok(Message::NavTimeLs(l)) = roundtrip_ubx(0x01, 0x26, &ls) else {
        panic!("NAV-TIMELS");
    };
    assert_eq!((l.src_of_curr_ls, l.curr_ls, l.ls_change), (2, 18, 1));
    assert_eq!(
        (l.time_to_ls_event_s, l.date_of_ls_gps_wn, l.valid),
        (86_400, 2400, 3)
    );

    // NAV-TIMEGPS and NAV-CLOCK go through the ublox crate.
    let gps = PayloadWriter::new()
        .u32(4000)
        .i32(-7)
        .i16(2345)
        .i8(18)
        .u8(0x07)
        .u32(12)
        .finish();
    assert_eq!(
        roundtrip_ubx(0x01, 0x20, &gps),
        Ok(Message::NavTimeGps(NavTimeGps {
            itow_ms: 4000,
            ftow_ns: -7,
            week: 2345,
            leap_s: 18,
            valid: 7,
            t_acc_ns: 12
        }))
    );
    let clk = PayloadWriter::new()
        .u32(5000)
        .i32(-42)
        .i32(7)
        .u32(9)
        .u32(300)
        .finish();
    assert_eq!(
        roundtrip_ubx(0x01, 0x22, &clk),
        Ok(Message::NavClock(NavClock {
            itow_ms: 5000,
            bias_ns: -42,
            drift_ns_per_s: 7,
            t_acc_ns: 9,
            f_acc_ps_per_s: 300
        }))
    );
    // Wrong length for the crate: a typed error, no panic.
    assert!(matches!(
        roundtrip_ubx(0x01, 0x22, &[0; 7]),
        Err(DecodeError::Crate {
            class: 1,
            id: 0x22,
            ..
        })
    ));
}

#[test]
fn tim_tp_and_tim_svin() {
    let tp = PayloadWriter::new()
        .u32(518_400_000)
        .u32(1 << 31) // half a ms
        .i32(-2500)
        .u16(2100)
        .u8(0x03)
        .u8(0)
        .finish();
    let Ok(Message::TimTp(t)) = roundtrip_ubx(0x0D, 0x01, &tp) else {
        panic!("TIM-TP");
    };
    assert_eq!(
        (t.tow_ms, t.tow_sub_ms, t.q_err_ps, t.week, t.flags),
        (518_400_000, 1 << 31, -2500, 2100, 3)
    );
    let svin = PayloadWriter::new()
        .u32(600)
        .i32(1)
        .i32(-2)
        .i32(3)
        .u32(400)
        .u32(600)
        .u8(1)
        .u8(0)
        .zeros(2)
        .finish();
    let Ok(Message::TimSvin(s)) = roundtrip_ubx(0x0D, 0x04, &svin) else {
        panic!("TIM-SVIN");
    };
    assert_eq!(
        (s.dur_s, s.mean_y_cm, s.obs, s.valid, s.active),
        (600, -2, 600, true, false)
    );
}

#[test]
fn monitor_and_security() {
    // MON-HW, u-blox 7/8 layout (60 bytes): short antenna, power on, jamming warning.
    let hw = PayloadWriter::new()
        .zeros(16)
        .u16(88)
        .u16(1234)
        .u8(3)
        .u8(1)
        .u8(2 << 2)
        .u8(0)
        .zeros(4 + 17)
        .u8(77) // jamInd @45
        .zeros(14)
        .finish();
    assert_eq!(hw.len(), 60);
    assert_eq!(
        roundtrip_ubx(0x0A, 0x09, &hw),
        Ok(Message::MonHw(MonHw {
            noise_per_ms: 88,
            agc_cnt: 1234,
            a_status: 3,
            a_power: 1,
            jamming_state: 2,
            jam_ind: 77
        }))
    );
    // u-blox 6 layout (68 bytes): jamInd moves to 53.
    let mut hw6 = hw.clone();
    hw6.resize(68, 0);
    hw6[45] = 0;
    hw6[53] = 66;
    let Ok(Message::MonHw(h6)) = roundtrip_ubx(0x0A, 0x09, &hw6) else {
        panic!("MON-HW 68");
    };
    assert_eq!(h6.jam_ind, 66);

    let rf = PayloadWriter::new()
        .u8(0)
        .u8(1)
        .zeros(2)
        .u8(0)
        .u8(0x03) // jamming critical
        .u8(4) // open
        .u8(0) // off
        .u32(0)
        .zeros(4)
        .u16(99)
        .u16(4000)
        .u8(200)
        .zeros(7)
        .finish();
    let Ok(Message::MonRf(r)) = roundtrip_ubx(0x0A, 0x38, &rf) else {
        panic!("MON-RF");
    };
    assert_eq!(
        r.blocks,
        vec![MonRfBlock {
            block_id: 0,
            jamming_state: 3,
            ant_status: 4,
            ant_power: 0,
            noise_per_ms: 99,
            agc_cnt: 4000,
            jam_ind: 200
        }]
    );

    let ver = PayloadWriter::new()
        .str_field("EXT CORE 1.00 (61b2dd)", 30)
        .str_field("00190000", 10)
        .str_field("FWVER=TIM 2.20", 30)
        .str_field("PROTVER=29.20", 30)
        .str_field("MOD=ZED-F9T", 30)
        .finish();
    let Ok(Message::MonVer(v)) = roundtrip_ubx(0x0A, 0x04, &ver) else {
        panic!("MON-VER");
    };
    assert_eq!(v.sw_version, "EXT CORE 1.00 (61b2dd)");
    assert_eq!(v.hw_version, "00190000");
    assert_eq!(
        v.extensions,
        vec!["FWVER=TIM 2.20", "PROTVER=29.20", "MOD=ZED-F9T"]
    );

    let sig1 = PayloadWriter::new()
        .u8(1)
        .zeros(3)
        .u8(0x01 | (2 << 1))
        .zeros(3)
        .u8(0x01 | (3 << 1))
        .zeros(3)
        .finish();
    assert_eq!(
        roundtrip_ubx(0x27, 0x09, &sig1),
        Ok(Message::SecSig(SecSig {
            jamming_state: 2,
            spoofing_state: 3
        }))
    );
    let sig2 = PayloadWriter::new()
        .u8(2)
        .u8((1 << 1) | (2 << 4))
        .zeros(2)
        .finish();
    assert_eq!(
        roundtrip_ubx(0x27, 0x09, &sig2),
        Ok(Message::SecSig(SecSig {
            jamming_state: 1,
            spoofing_state: 2
        }))
    );
    assert!(matches!(
        roundtrip_ubx(0x27, 0x09, &[9, 0, 0, 0]),
        Err(DecodeError::Version { version: 9, .. })
    ));
}

#[test]
fn ack_cfg_and_unknown() {
    assert_eq!(
        roundtrip_ubx(0x05, 0x01, &[0x06, 0x8A]),
        Ok(Message::AckAck { class: 6, id: 0x8A })
    );
    assert_eq!(
        roundtrip_ubx(0x05, 0x00, &[0x06, 0x01]),
        Ok(Message::AckNak { class: 6, id: 1 })
    );
    // A CFG-PRT reply for the USB port (port id 3): kept as Other, never
    // handed to the crate accessors that panic on it.
    let mut prt = vec![0u8; 20];
    prt[0] = 3;
    assert_eq!(
        roundtrip_ubx(0x06, 0x00, &prt),
        Ok(Message::Other { class: 6, id: 0 })
    );
    assert_eq!(
        roundtrip_ubx(0x01, 0x12, &[0; 36]),
        Ok(Message::Other { class: 1, id: 0x12 })
    );
    assert_eq!(
        roundtrip_ubx(0x77, 0x01, &[]),
        Ok(Message::UbxUnknown { class: 0x77, id: 1 })
    );
}

#[test]
fn ubx_decoder_survives_every_length() {
    // Every required message with every payload length 0..=120: no panic.
    let ids = [
        (1, 7),
        (1, 6),
        (1, 0x35),
        (1, 0x43),
        (1, 0x30),
        (1, 3),
        (1, 4),
        (1, 0x21),
        (1, 0x26),
        (1, 0x20),
        (1, 0x22),
        (1, 0x61),
        (0x0D, 1),
        (0x0D, 4),
        (0x0A, 9),
        (0x0A, 0x38),
        (0x0A, 4),
        (0x27, 9),
        (5, 0),
        (5, 1),
        (6, 0),
    ];
    let mut ok = 0;
    for (c, i) in ids {
        for len in 0..=120usize {
            let p: Vec<u8> = (0..len).map(|k| (k * 37 + 11) as u8).collect();
            if ubx::decode(c, i, &p).is_ok() {
                ok += 1;
            }
        }
    }
    assert!(ok > 0);
}

fn nmea_msg(body: &str) -> Message {
    let s = sentence(body);
    nmea::decode(s.trim_end()).unwrap_or_else(|e| panic!("{body}: {e}"))
}

#[test]
fn rmc_gga_zda_via_crate_with_fallback() {
    let s = sentence("GNRMC,223745.50,A,3806.62964,N,12237.61382,W,0.040,,110720,,,D,V");
    let (m, path) = nmea::decode_with_path(s.trim_end()).expect("RMC");
    assert_eq!(path, NmeaPath::Crate);
    let Message::Rmc(r) = m else { panic!("RMC") };
    assert_eq!(r.talker, "GN");
    let t = r.time.expect("time");
    assert_eq!((t.hour, t.min, t.sec, t.nanos), (22, 37, 45, 500_000_000));
    assert_eq!(
        r.date,
        Some(NmeaDate {
            year: 2020,
            month: 7,
            day: 11
        })
    );
    assert!(r.valid);
    assert!((r.lat_deg.expect("lat") - 38.110_494).abs() < 1e-6);
    assert!((r.lon_deg.expect("lon") + 122.626_897).abs() < 1e-6);

    let Message::Gga(g) =
        nmea_msg("GPGGA,203540.00,5333.7953760,N,11326.3726912,W,1,08,1.2,654.41,M,-18.954,M,,")
    else {
        panic!("GGA")
    };
    assert_eq!((g.quality, g.num_sats), (1, Some(8)));
    assert_eq!(g.alt_msl_m.map(|a| (a * 100.0).round()), Some(65441.0));

    let Message::Zda(z) = nmea_msg("GNZDA,223745.00,11,07,2020,00,00") else {
        panic!("ZDA")
    };
    assert_eq!(
        z.date,
        Some(NmeaDate {
            year: 2020,
            month: 7,
            day: 11
        })
    );

    // An RMC the crate rejects (unknown status letter) still decodes through our code.
    let odd = sentence("GPRMC,120000.00,X,,,,,,,230394,,,N");
    let (m, path) = nmea::decode_with_path(odd.trim_end()).expect("fallback");
    assert_eq!(path, NmeaPath::Own);
    let Message::Rmc(r) = m else {
        panic!("RMC fallback")
    };
    assert!(!r.valid);
    assert_eq!(
        r.date,
        Some(NmeaDate {
            year: 1994,
            month: 3,
            day: 23
        })
    );
}

#[test]
fn gsv_multi_gnss_and_signal_id() {
    let Message::Gsv(g) = nmea_msg("GAGSV,3,1,10,03,44,149,40,05,42,071,,08,,190,,09,06,034,,7")
    else {
        panic!("GSV")
    };
    assert_eq!(
        (g.num_msgs, g.msg_num, g.sats_in_view, g.signal_id),
        (3, 1, 10, Some(7))
    );
    assert_eq!(g.sats.len(), 4);
    assert_eq!(
        (g.sats[0].gnss, g.sats[0].svid, g.sats[0].cn0_dbhz),
        (Constellation::Galileo, 3, Some(40))
    );
    assert_eq!(g.sats[1].cn0_dbhz, None);
    assert_eq!((g.sats[2].el_deg, g.sats[2].az_deg), (None, Some(190)));
    // Old-style GN talker with u-blox extended numbers, no signal id.
    let Message::Gsv(g) = nmea_msg("GNGSV,1,1,03,46,45,191,43,70,10,318,13,313,11,292,") else {
        panic!("GNGSV")
    };
    let ids: Vec<_> = g.sats.iter().map(|s| (s.gnss, s.svid)).collect();
    assert_eq!(
        ids,
        vec![
            (Constellation::Sbas, 133),
            (Constellation::Glonass, 6),
            (Constellation::Galileo, 13)
        ]
    );
    assert_eq!(g.signal_id, None);
}

#[test]
fn gsa_gns_txt_gbs_pubx() {
    let Message::Gsa(g) = nmea_msg("GNGSA,A,3,82,73,74,,,,,,,,,,0.99,0.54,0.83,2") else {
        panic!("GSA")
    };
    assert_eq!(g.system_id, Some(2));
    assert_eq!(
        g.used,
        vec![
            (Constellation::Glonass, 18),
            (Constellation::Glonass, 9),
            (Constellation::Glonass, 10)
        ]
    );
    assert_eq!((g.nav_mode, g.pdop, g.vdop), (3, Some(0.99), Some(0.83)));

    let Message::Gns(n) =
        nmea_msg("GNGNS,014035.00,4332.69262,S,17235.48549,E,RRAN,13,0.9,25.63,11.24,,")
    else {
        panic!("GNS")
    };
    assert_eq!(n.modes, "RRAN");
    assert_eq!(n.num_sats, Some(13));
    assert!(n.lat_deg.expect("lat") < 0.0);

    let Message::Txt(t) = nmea_msg("GNTXT,01,01,02,ANTSTATUS=OK") else {
        panic!("TXT")
    };
    assert_eq!((t.msg_type, t.text.as_str()), (2, "ANTSTATUS=OK"));

    let Message::Gbs(b) = nmea_msg("GNGBS,223745.00,1.0,1.5,3.1,,,,,,") else {
        panic!("GBS")
    };
    assert_eq!(
        (b.err_lat_m, b.err_lon_m, b.err_alt_m),
        (Some(1.0), Some(1.5), Some(3.1))
    );

    let Message::Pubx(Pubx::Time {
        week,
        leap_s,
        leap_is_default,
        date,
        ..
    }) = nmea_msg("PUBX,04,073731.00,091202,113851.00,1196,15D,1930035,-2660.664,43,")
    else {
        panic!("PUBX,04")
    };
    assert_eq!(
        (week, leap_s, leap_is_default),
        (Some(1196), Some(15), true)
    );
    assert_eq!(
        date,
        Some(NmeaDate {
            year: 2002,
            month: 12,
            day: 9
        })
    );

    let Message::Pubx(Pubx::Satellites { sats }) =
        nmea_msg("PUBX,03,02,23,U,094,24,41,064,66,-,223,38,30,000")
    else {
        panic!("PUBX,03")
    };
    assert_eq!(sats.len(), 2);
    assert!(sats[0].used && !sats[1].used);
    assert_eq!((sats[1].gnss, sats[1].svid), (Constellation::Glonass, 2));

    let Message::Pubx(Pubx::Position { nav_stat, num_sats, .. }) = nmea_msg(
        "PUBX,00,081350.00,4717.113210,N,00833.915187,E,546.589,G3,2.1,2.0,0.007,77.52,0.007,,0.92,1.19,0.77,9,0,0",
    ) else {
        panic!("PUBX,00")
    };
    assert_eq!((nav_stat.as_str(), num_sats), ("G3", Some(9)));

    assert_eq!(
        nmea_msg("GNVTG,,T,,M,0.040,N,0.075,K,D"),
        Message::NmeaOther {
            talker: "GN".into(),
            kind: "VTG".into()
        }
    );
}

#[test]
fn nmea_decoder_survives_mangled_fields() {
    for body in [
        "GPGSV,x,y,z",
        "GPGSV,1,1,99,999,999,999,999",
        "GPRMC,99,A,,,,,,,,",
        "GPGGA,,,,,,,,,,,,,,",
        "PUBX,03,1000",
        "PUBX,zz",
        "GPZDA,120000,40,13,99999,,",
        "GPGSA,A,9,,,,,,,,,,,,,x,y,z,250",
        "GN",
    ] {
        let s = sentence(body);
        let _ = nmea::decode(s.trim_end());
    }
    assert_eq!(nmea::decode("GPRMC"), Err(DecodeError::NmeaSyntax));
}
