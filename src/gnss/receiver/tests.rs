use super::*;
use crate::gnss::nmea::{decode as nmea_decode, sentence};
use crate::gnss::*;
use crate::time::utc_from_fields;

fn pvt(itow_ms: u32, sec: u8) -> Message {
    Message::NavPvt(NavPvt {
        itow_ms,
        year: 2024,
        month: 3,
        day: 1,
        hour: 12,
        min: 0,
        sec,
        valid: 0x07,
        t_acc_ns: 20,
        nano: 0,
        fix_type: 3,
        flags: 0x01,
        flags2: 0,
        num_sv: 9,
        lon_deg: 10.0,
        lat_deg: 50.0,
        height_msl_m: 100.0,
        pdop: 1.5,
    })
}

fn sat(gnss: Constellation, svid: u16, used: bool) -> SatView {
    SatView {
        gnss,
        svid,
        el_deg: Some(30),
        az_deg: Some(120),
        cn0_dbhz: Some(40),
        used,
        healthy: Some(true),
    }
}

fn nmea(body: &str) -> Message {
    let s = sentence(body);
    nmea_decode(s.trim_end()).expect("valid sentence")
}

#[test]
fn ubx_epoch_closes_when_itow_changes() {
    let mut rx = Receiver::new();
    assert_eq!(rx.handle(&pvt(1000, 0)), None);
    let sky = Message::NavSat(NavSat {
        itow_ms: 1000,
        sats: vec![
            sat(Constellation::Gps, 3, true),
            sat(Constellation::Galileo, 11, false),
        ],
    });
    assert_eq!(rx.handle(&sky), None);
    // Messages without iTOW join the epoch in progress.
    let hw = Message::MonHw(MonHw {
        noise_per_ms: 80,
        agc_cnt: 3000,
        a_status: 3,
        a_power: 1,
        jamming_state: 1,
        jam_ind: 9,
    });
    assert_eq!(rx.handle(&hw), None);
    let e = rx.handle(&pvt(2000, 1)).expect("new iTOW closes the epoch");
    let t = e.time.expect("time");
    assert_eq!(t.utc_ns, utc_from_fields(2024, 3, 1, 12, 0, 0, 0).unwrap());
    assert!(t.is_valid() && t.fully_resolved);
    assert_eq!(e.fix.mode, FixMode::ThreeD);
    assert_eq!(e.fix.sats_used, Some(9));
    assert_eq!(e.satellites.len(), 2);
    assert_eq!(e.satellites[1].gnss, Constellation::Galileo);
    let a = e.antenna.expect("antenna");
    assert_eq!(
        (a.status, a.power, a.jamming),
        (AntennaStatus::Short, AntennaPower::On, Some(9))
    );
    assert_eq!(e.security.map(|s| s.jamming), Some(JammingState::Ok));
    // The next epoch has only what it carried.
    let e2 = rx.flush().expect("flush emits the open epoch");
    assert!(e2.satellites.is_empty() && e2.antenna.is_none());
    assert_eq!(rx.status().counters.epochs, 2);
    assert_eq!(
        rx.status().antenna.map(|a| a.status),
        Some(AntennaStatus::Short)
    );
}

#[test]
fn nav_eoe_closes_at_once() {
    let mut rx = Receiver::new();
    assert_eq!(rx.handle(&pvt(5000, 4)), None);
    let e = rx.handle(&Message::NavEoe { itow_ms: 5000 });
    assert!(e.is_some(), "EOE emits the epoch");
    assert_eq!(rx.flush(), None, "nothing left after EOE");
}

#[test]
fn nmea_epoch_assembles_multi_part_multi_talker_sky() {
    let mut rx = Receiver::new();
    let cycle = |t: &str| {
        vec![
            format!("GNRMC,{t},A,4807.038,N,01131.000,E,0.0,0.0,110720,,,A,V"),
            format!("GNGGA,{t},4807.038,N,01131.000,E,1,05,0.9,545.4,M,46.9,M,,"),
            "GNGSA,A,3,05,13,,,,,,,,,,,1.2,0.9,0.8,1".to_string(),
            "GNGSA,A,3,67,,,,,,,,,,,,1.2,0.9,0.8,2".to_string(),
            "GNGSA,A,3,03,,,,,,,,,,,,1.2,0.9,0.8,3".to_string(),
            "GPGSV,2,1,05,05,40,083,46,13,70,285,40,20,05,100,,44,30,171,45,1".to_string(),
            "GPGSV,2,2,05,29,10,200,21,1".to_string(),
            "GLGSV,1,1,01,67,56,054,40,1".to_string(),
            "GAGSV,1,1,01,03,44,149,40,7".to_string(),
        ]
    };
    let mut out = Vec::new();
    for body in cycle("120000.00").into_iter().chain(cycle("120001.00")) {
        if let Some(e) = rx.handle(&nmea(&body)) {
            out.push(e);
        }
    }
    out.extend(rx.flush());
    assert_eq!(out.len(), 2);
    let e = &out[0];
    let t = e.time.expect("time");
    assert_eq!(t.utc_ns, utc_from_fields(2020, 7, 11, 12, 0, 0, 0).unwrap());
    assert_eq!(t.source, "RMC");
    assert_eq!(e.fix.mode, FixMode::ThreeD);
    assert_eq!(e.fix.hdop, Some(0.9));
    let sky: Vec<_> = e
        .satellites
        .iter()
        .map(|s| (s.gnss, s.svid, s.used))
        .collect();
    assert_eq!(
        sky,
        vec![
            (Constellation::Galileo, 3, true),
            (Constellation::Glonass, 3, true),
            (Constellation::Gps, 5, true),
            (Constellation::Gps, 13, true),
            (Constellation::Gps, 20, false),
            (Constellation::Sbas, 131, false),
            (Constellation::Gps, 29, false),
        ]
    );
    assert_eq!(e.satellites[4].cn0_dbhz, None);
    assert_eq!(out[1].satellites.len(), 7);
    assert_eq!(rx.status().counters.gsv_incomplete, 0);
}

#[test]
fn gga_only_epoch_uses_last_date_and_rolls_at_midnight() {
    let mut rx = Receiver::new();
    let mut out = Vec::new();
    for body in [
        "GPRMC,235959.00,A,4807.038,N,01131.000,E,0.0,0.0,311224,,,A",
        "GPGGA,000000.00,4807.038,N,01131.000,E,1,05,0.9,545.4,M,46.9,M,,",
        "GPGGA,000001.00,4807.038,N,01131.000,E,1,05,0.9,545.4,M,46.9,M,,",
    ] {
        out.extend(rx.handle(&nmea(body)));
    }
    out.extend(rx.flush());
    let times: Vec<_> = out
        .iter()
        .map(|e| e.time.map(|t| (t.utc_ns, t.valid_date)))
        .collect();
    assert_eq!(
        times,
        vec![
            Some((utc_from_fields(2024, 12, 31, 23, 59, 59, 0).unwrap(), true)),
            Some((utc_from_fields(2025, 1, 1, 0, 0, 0, 0).unwrap(), false)),
            Some((utc_from_fields(2025, 1, 1, 0, 0, 1, 0).unwrap(), false)),
        ]
    );
}

#[test]
fn week_rollover_is_resolved_with_the_pivot() {
    assert_eq!(resolve_week(2347 % 1024, 2347), 2347);
    assert_eq!(resolve_week(2346 % 1024, 2347), 2346 + 1024);
    assert_eq!(resolve_week(2400 % 1024, 2347), 2400);
    assert_eq!(resolve_week(1500, 2347), 1500, "full weeks are kept");
    assert_eq!(resolve_week(5, 0), 5);

    // An old receiver reporting week 2100 modulo 1024 in TIM-TP.
    let mut rx = Receiver::with_pivot_week(2048);
    rx.handle(&Message::NavTimeGps(NavTimeGps {
        itow_ms: 1000,
        ftow_ns: 0,
        week: 2100,
        leap_s: 18,
        valid: 0x07,
        t_acc_ns: 10,
    }));
    rx.handle(&Message::TimTp(TimTp {
        tow_ms: 2000,
        tow_sub_ms: 0,
        q_err_ps: -1234,
        week: 2100 % 1024,
        flags: 0x02, // GNSS time base, UTC available
        ref_info: 0,
    }));
    let e = rx.flush().expect("epoch");
    assert_eq!(
        e.gps_time,
        Some(GpsTime {
            week: 2100,
            tow_ms: 1000
        })
    );
    let tp = e.time_pulse.expect("time pulse");
    assert_eq!(tp.utc_ns, gps_to_unix_ns(2100, 2000, 0, 18));
    assert_eq!(tp.qerr_ps, Some(-1234));
    assert!(!tp.utc_based && tp.utc_valid);
    // GPS 2100/1.000 s − 18 s.
    let t = e.time.expect("time from GPS week/TOW and leap");
    assert_eq!(t.utc_ns, gps_to_unix_ns(2100, 1000, 0, 18));
    assert_eq!(t.source, "NAV-TIMEGPS");
}

#[test]
fn tim_tp_utc_time_base_and_invalid_qerr() {
    let mut rx = Receiver::new();
    rx.handle(&pvt(1000, 0));
    rx.handle(&Message::TimTp(TimTp {
        tow_ms: 518_401_000,
        tow_sub_ms: 1 << 31,
        q_err_ps: 77,
        week: 2400,
        flags: 0x01 | 0x02 | 0x10,
        ref_info: 0,
    }));
    let tp = rx.flush().and_then(|e| e.time_pulse).expect("time pulse");
    assert_eq!(tp.utc_ns, gps_to_unix_ns(2400, 518_401_000, 500_000, 0));
    assert!(tp.utc_based);
    assert_eq!(tp.qerr_ps, None, "qErrInvalid set");
}

fn timels(src: u8, valid: u8, change: i8, to_event: i32) -> Message {
    Message::NavTimeLs(NavTimeLs {
        itow_ms: 1000,
        src_of_curr_ls: src,
        curr_ls: 18,
        src_of_ls_change: 2,
        ls_change: change,
        time_to_ls_event_s: to_event,
        date_of_ls_gps_wn: 0,
        date_of_ls_gps_dn: 0,
        valid,
    })
}

#[test]
fn leap_origin_and_announced_change() {
    // srcOfCurrLs = 0: the firmware default.
    let mut rx = Receiver::new();
    rx.handle(&pvt(1000, 0));
    rx.handle(&timels(0, 0x01, 0, 0));
    let l = rx.flush().and_then(|e| e.leap).expect("leap");
    assert_eq!(l.origin, TimeOrigin::FirmwareDefault);

    // From GPS, with a leap second announced in one day.
    let mut rx = Receiver::new();
    rx.handle(&pvt(1000, 0));
    rx.handle(&timels(2, 0x03, 1, 86_400));
    let l = rx.flush().and_then(|e| e.leap).expect("leap");
    assert_eq!(
        (l.current, l.change, l.time_to_change_s, l.valid, l.origin),
        (18, 1, Some(86_400), true, TimeOrigin::Satellites)
    );

    // NAV-TIMEUTC says UTC is not known yet: whatever leap count is in use
    // is the firmware's default.
    let mut rx = Receiver::new();
    rx.handle(&Message::NavTimeUtc(NavTimeUtc {
        itow_ms: 1000,
        t_acc_ns: 1000,
        nano: 0,
        year: 2024,
        month: 1,
        day: 1,
        hour: 0,
        min: 0,
        sec: 0,
        valid: 0x03,
    }));
    rx.handle(&timels(2, 0x01, 0, 0));
    let e = rx.flush().expect("epoch");
    let l = e.leap.expect("leap");
    assert_eq!((l.valid, l.origin), (false, TimeOrigin::FirmwareDefault));
    assert!(!e.time.expect("time").is_valid());
}

#[test]
fn leap_countdown_carries_to_later_epochs() {
    let mut rx = Receiver::new();
    let gps = |itow_ms| {
        Message::NavTimeGps(NavTimeGps {
            itow_ms,
            ftow_ns: 0,
            week: 2400,
            leap_s: 18,
            valid: 0x07,
            t_acc_ns: 5,
        })
    };
    rx.handle(&gps(10_000));
    rx.handle(&Message::NavTimeLs(NavTimeLs {
        itow_ms: 10_000,
        ..match timels(2, 0x03, 1, 100) {
            Message::NavTimeLs(l) => l,
            _ => unreachable!(),
        }
    }));
    let first = rx.handle(&gps(40_000)).and_then(|e| e.leap).expect("leap");
    assert_eq!(first.time_to_change_s, Some(100));
    // 30 s later, NAV-TIMEGPS alone: the countdown continues.
    let later = rx.flush().and_then(|e| e.leap).expect("leap");
    assert_eq!((later.current, later.time_to_change_s), (18, Some(70)));
}

#[test]
fn security_from_sec_sig_and_nav_status() {
    let mut rx = Receiver::new();
    rx.handle(&Message::NavStatus(NavStatus {
        itow_ms: 1000,
        gps_fix: 5,
        flags: 0x0D,
        spoof_det_state: 3,
    }));
    rx.handle(&Message::SecSig(SecSig {
        jamming_state: 3,
        spoofing_state: 0,
    }));
    let e = rx.flush().expect("epoch");
    assert_eq!(e.fix.mode, FixMode::Time);
    let s = e.security.expect("security");
    assert_eq!(
        (s.jamming, s.spoofing),
        (JammingState::Critical, SpoofingState::Multiple)
    );
}

#[test]
fn status_counts_and_identity() {
    let mut rx = Receiver::new();
    rx.handle(&Message::MonVer(MonVer {
        sw_version: "EXT CORE 1.00".into(),
        hw_version: "00190000".into(),
        extensions: vec!["PROTVER=29.20".into(), "MOD=ZED-F9T".into()],
    }));
    rx.handle(&Message::AckAck { class: 6, id: 0x8A });
    rx.handle(&Message::AckNak { class: 6, id: 1 });
    rx.note_decode_error(&DecodeError::NmeaSyntax);
    let st = rx.status();
    let id = st.identity.expect("identity");
    assert_eq!(id.model.as_deref(), Some("ZED-F9T"));
    assert_eq!(id.protocol.as_deref(), Some("29.20"));
    assert_eq!((st.counters.acks, st.counters.naks), (1, 1));
    assert_eq!(st.last_nak, Some([6, 1]));
    assert_eq!(st.counters.decode_errors, 1);
    assert!(serde_json::to_string(&rx.status()).is_ok());
}

#[test]
fn mixed_stream_lets_ubx_drive_epochs() {
    let mut rx = Receiver::new();
    let mut n = 0;
    for sec in 0..3u8 {
        let itow = 1000 * (sec as u32 + 1);
        n += rx.handle(&pvt(itow, sec)).is_some() as u32;
        let t = format!("1200{sec:02}.00");
        for body in [
            format!("GNRMC,{t},A,4807.038,N,01131.000,E,0.0,0.0,010324,,,A,V"),
            format!("GNGGA,{t},4807.038,N,01131.000,E,1,05,0.9,545.4,M,46.9,M,,"),
        ] {
            n += rx.handle(&nmea(&body)).is_some() as u32;
        }
    }
    n += rx.flush().is_some() as u32;
    assert_eq!(n, 3, "one epoch per second, not one per protocol");
}

#[test]
fn eoe_for_another_itow_closes_the_open_epoch() {
    let mut rx = Receiver::new();
    rx.handle(&pvt(1000, 0));
    let e = rx
        .handle(&Message::NavEoe { itow_ms: 2000 })
        .expect("epoch");
    assert_eq!(e.fix.mode, FixMode::ThreeD);
    assert_eq!(rx.flush(), None);
    assert_eq!(rx.status().counters.epochs, 1);
}

#[test]
fn tim_tp_before_navigation_belongs_to_that_epoch() {
    // LEA-4T / M8T order: TIM-TP, then the epoch's NAV messages.
    let tp = |tow_ms| {
        Message::TimTp(TimTp {
            tow_ms,
            tow_sub_ms: 0,
            q_err_ps: 5,
            week: 2400,
            flags: 0x03,
            ref_info: 0,
        })
    };
    let mut rx = Receiver::new();
    let mut out = Vec::new();
    for m in [tp(11_000), pvt(10_018, 0), tp(12_000), pvt(11_018, 1)] {
        out.extend(rx.handle(&m));
    }
    out.extend(rx.flush());
    let pulses: Vec<_> = out.iter().map(|e| e.time_pulse.map(|p| p.utc_ns)).collect();
    assert_eq!(
        pulses,
        vec![
            Some(gps_to_unix_ns(2400, 11_000, 0, 0)),
            Some(gps_to_unix_ns(2400, 12_000, 0, 0)),
        ]
    );
}

/// F9P-style NMEA 4.11: a satellite listed for L1 with a C/N0 and again for
/// L2 without one keeps its L1 C/N0 (the empty entry must not erase it),
/// and both signals are listed with their band.
#[test]
fn gsv_merge_keeps_the_best_signal_cn0() {
    let mut rx = Receiver::new();
    for body in [
        "GNRMC,120000.00,A,4807.038,N,01131.000,E,0.0,0.0,010324,,,A,V",
        "GNGSA,A,3,05,13,,,,,,,,,,,1.2,0.9,0.8,1",
        // L1C/A (1): both with C/N0. L2CL (6): 05 not tracked, 13 at 44.
        "GPGSV,1,1,02,05,40,083,46,13,70,285,40,1",
        "GPGSV,1,1,02,05,40,083,,13,70,285,44,6",
        // Galileo E5b (2) sorts before E1 (7): the E1 value must still win.
        "GAGSV,1,1,01,03,44,149,,2",
        "GAGSV,1,1,01,03,44,149,38,7",
        // BeiDou B2I is signal id "B" (hex).
        "GBGSV,1,1,01,19,60,110,41,1",
        "GBGSV,1,1,01,19,60,110,37,B",
    ] {
        assert_eq!(rx.handle(&nmea(body)), None);
    }
    let e = rx.flush().expect("epoch");
    assert!(e.sky_reported);
    let sat = |g, n| {
        e.satellites
            .iter()
            .find(|s| s.gnss == g && s.svid == n)
            .unwrap_or_else(|| panic!("{g:?} {n} missing"))
    };
    let g5 = sat(Constellation::Gps, 5);
    assert_eq!(g5.cn0_dbhz, Some(46.0), "primary C/N0 kept");
    assert_eq!(
        (g5.az_deg, g5.el_deg, g5.used),
        (Some(83.0), Some(40.0), true)
    );
    let bands: Vec<_> = g5.signals.iter().map(|s| (s.band, s.cn0_dbhz)).collect();
    assert_eq!(bands, vec![(Some("L1"), Some(46.0)), (Some("L2"), None)]);
    assert_eq!(
        sat(Constellation::Gps, 13).cn0_dbhz,
        Some(44.0),
        "best signal"
    );
    let e3 = sat(Constellation::Galileo, 3);
    assert_eq!(e3.cn0_dbhz, Some(38.0));
    assert_eq!(e3.signals.len(), 2);
    let b19 = sat(Constellation::BeiDou, 19);
    assert_eq!(b19.cn0_dbhz, Some(41.0));
    assert_eq!(b19.signals[1].band, Some("B2I"));
    assert_eq!(e.satellites.len(), 4, "one entry per satellite");
}

fn sig(gnss: Constellation, svid: u16, sig_id: u8, cn0: u8, used: bool) -> SigView {
    SigView {
        gnss,
        svid,
        sig_id,
        freq_id: 0,
        cn0_dbhz: cn0,
        quality_ind: 7,
        used,
        healthy: Some(true),
    }
}

#[test]
fn nav_sig_signals_join_nav_sat_satellites() {
    let mut rx = Receiver::new();
    rx.handle(&pvt(1000, 0));
    rx.handle(&Message::NavSat(NavSat {
        itow_ms: 1000,
        sats: vec![
            sat(Constellation::Gps, 3, true),
            sat(Constellation::Galileo, 11, false),
        ],
    }));
    rx.handle(&Message::NavSig(NavSig {
        itow_ms: 1000,
        sigs: vec![
            sig(Constellation::Gps, 3, 0, 40, true),
            sig(Constellation::Gps, 3, 3, 43, false),
            sig(Constellation::Galileo, 11, 5, 30, false),
            // A signal of a satellite NAV-SAT does not list is not invented.
            sig(Constellation::BeiDou, 7, 0, 30, true),
        ],
    }));
    let e = rx
        .handle(&Message::NavEoe { itow_ms: 1000 })
        .expect("epoch");
    assert_eq!(e.satellites.len(), 2);
    let g3 = &e.satellites[0];
    assert_eq!(g3.cn0_dbhz, Some(43.0), "best signal's C/N0");
    let names: Vec<_> = g3
        .signals
        .iter()
        .map(|s| (s.band, s.signal, s.used))
        .collect();
    assert_eq!(
        names,
        vec![
            (Some("L1"), Some("L1C/A"), Some(true)),
            (Some("L2"), Some("L2CL"), Some(false))
        ]
    );
    assert_eq!(g3.signals[0].quality, Some(SignalQuality::CarrierLocked));
    assert_eq!(e.satellites[1].signals[0].band, Some("E5b"));
    let st = rx.status();
    assert_eq!((st.sats_visible, st.sats_used), (Some(2), Some(1)));
    assert_eq!(st.constellations.len(), 2);
    assert_eq!(
        (
            st.constellations[0].gnss,
            st.constellations[0].visible,
            st.constellations[0].used
        ),
        (Constellation::Gps, 1, 1)
    );
}

/// The top-level counts follow the latest epoch: an empty sky is 0, a sky
/// not reported for `SKY_STALE_EPOCHS` epochs is dropped (null), never a
/// stale number shown as current.
#[test]
fn satellite_counts_are_never_stale() {
    let mut rx = Receiver::new();
    let sky = |itow, sats| {
        Message::NavSat(NavSat {
            itow_ms: itow,
            sats,
        })
    };
    rx.handle(&pvt(1000, 0));
    rx.handle(&sky(1000, vec![sat(Constellation::Gps, 3, true)]));
    rx.handle(&Message::NavEoe { itow_ms: 1000 });
    assert_eq!(rx.status().sats_used, Some(1));
    // Signal lost: the receiver still sends NAV-SAT, with no satellite.
    let mut lost = pvt(2000, 1);
    if let Message::NavPvt(p) = &mut lost {
        p.num_sv = 0;
        p.flags = 0;
        p.fix_type = 0;
    }
    rx.handle(&lost);
    rx.handle(&sky(2000, vec![]));
    rx.handle(&Message::NavEoe { itow_ms: 2000 });
    let st = rx.status();
    assert_eq!((st.sats_visible, st.sats_used), (Some(0), Some(0)));
    assert_eq!(st.fix.sats_used, Some(0));
    assert!(st.sky.is_empty() && st.constellations.is_empty());
    // Sky again, then epochs without any sky message.
    rx.handle(&pvt(3000, 2));
    rx.handle(&sky(3000, vec![sat(Constellation::Gps, 3, true)]));
    rx.handle(&Message::NavEoe { itow_ms: 3000 });
    for k in 0..SKY_STALE_EPOCHS {
        let itow = 4000 + 1000 * k;
        rx.handle(&pvt(itow, 3));
        rx.handle(&Message::NavEoe { itow_ms: itow });
        let st = rx.status();
        assert_eq!(st.sky_age_epochs, Some(k + 1));
        assert_eq!(st.sats_visible, None, "not this epoch's");
        assert_eq!(st.sats_used, Some(9), "the fix's count");
    }
    rx.handle(&pvt(99_000, 9));
    rx.handle(&Message::NavEoe { itow_ms: 99_000 });
    let st = rx.status();
    assert!(st.sky.is_empty() && st.sky_age_epochs.is_none());
}

#[test]
fn changes_are_reported_once_per_transition() {
    let hw = |a_status, jamming_state| {
        Message::MonHw(MonHw {
            noise_per_ms: 80,
            agc_cnt: 3000,
            a_status,
            a_power: 1,
            jamming_state,
            jam_ind: 9,
        })
    };
    let mut rx = Receiver::new();
    let mut all = Vec::new();
    for (k, (ant, jam)) in [(2, 1), (2, 1), (4, 1), (4, 2), (4, 2), (2, 1)]
        .into_iter()
        .enumerate()
    {
        let itow = 1000 * (k as u32 + 1);
        rx.handle(&pvt(itow, k as u8));
        rx.handle(&hw(ant, jam));
        rx.handle(&Message::NavEoe { itow_ms: itow });
        all.extend(rx.drain_changes());
    }
    let kinds: Vec<_> = all.iter().map(|c| c.kind()).collect();
    assert_eq!(
        kinds,
        vec![
            "antenna.state",
            "jamming.state",
            "fix.state",
            "antenna.state",
            "jamming.state",
            "antenna.state",
            "jamming.state"
        ]
    );
    assert_eq!(
        all[3],
        ReceiverChange::Antenna {
            from: Some(AntennaStatus::Ok),
            to: AntennaStatus::Open,
            power: AntennaPower::On
        }
    );
    assert!(all[3].is_fault() && !all[5].is_fault());
    let svin = |active, valid| {
        Message::TimSvin(TimSvin {
            dur_s: 5,
            mean_x_cm: 1,
            mean_y_cm: 2,
            mean_z_cm: 3,
            mean_v_mm2: 100,
            obs: 5,
            valid,
            active,
        })
    };
    rx.handle(&svin(true, false));
    rx.handle(&svin(true, false));
    rx.handle(&svin(false, true));
    let survey: Vec<_> = rx.drain_changes().iter().map(|c| c.kind()).collect();
    assert_eq!(survey, vec!["survey.state", "survey.state"]);
    assert!(rx.status().survey.progress.is_some_and(|p| p.valid));
}
