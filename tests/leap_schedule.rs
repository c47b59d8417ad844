//! Leap scheduling: served second sequences per mode, leap indicator timing,
//! smear, source trust and agreement.

use gnss_timeserver::discipline::leap::file::{self, NTP_UNIX_OFFSET_S};
use gnss_timeserver::discipline::leap::{
    served_at, smear_offset_ns, Agreement, KernelLeapFlag, LeapConfig, LeapMode, LeapSchedule,
    LeapSecondsList, PendingLeap,
};
use gnss_timeserver::gnss::{LeapInfo, TimeOrigin};
use gnss_timeserver::status::LeapIndicator;
use gnss_timeserver::time::utc_from_fields;

const S: i64 = 1_000_000_000;
const DAY: i64 = 86_400 * S;
const HALF: i64 = 12 * 3600 * S;

/// 2026-07-01T00:00:00Z: a leap at the end of June 2026.
fn t_leap() -> i64 {
    utc_from_fields(2026, 7, 1, 0, 0, 0, 0).unwrap()
}

fn seconds(mode: LeapMode, insert: bool, from: i64, to: i64) -> Vec<u32> {
    let leap = PendingLeap {
        at_utc_ns: t_leap(),
        insert,
    };
    (from..=to)
        .map(|k| {
            served_at(t_leap() + k * S + S / 2, Some(leap), mode, HALF)
                .label
                .second
        })
        .collect()
}

#[test]
fn kernel_positive_leap_shows_second_60() {
    assert_eq!(
        seconds(LeapMode::Kernel, true, -3, 1),
        vec![57, 58, 59, 60, 0]
    );
    // The label of the leap second is 2026-06-30 23:59:60.
    let l = served_at(
        t_leap() + S / 4,
        Some(PendingLeap {
            at_utc_ns: t_leap(),
            insert: true,
        }),
        LeapMode::Kernel,
        HALF,
    )
    .label;
    assert_eq!(
        (l.year, l.month, l.day, l.hour, l.minute, l.second),
        (2026, 6, 30, 23, 59, 60)
    );
    assert_eq!(l.nanos, 250_000_000);
}

#[test]
fn kernel_negative_leap_skips_second_59() {
    assert_eq!(
        seconds(LeapMode::Kernel, false, -3, 1),
        vec![57, 58, 0, 1, 2]
    );
}

#[test]
fn step_mode_repeats_59_then_catches_up() {
    assert_eq!(
        seconds(LeapMode::Step, true, -3, 1),
        vec![57, 58, 59, 59, 0]
    );
    assert_eq!(seconds(LeapMode::Step, false, -3, 1), vec![57, 58, 0, 1, 2]);
}

#[test]
fn leap_indicator_only_during_the_last_day() {
    for (insert, li) in [
        (true, LeapIndicator::InsertSecond),
        (false, LeapIndicator::DeleteSecond),
    ] {
        let leap = Some(PendingLeap {
            at_utc_ns: t_leap(),
            insert,
        });
        let at = |k: i64| served_at(t_leap() + k, leap, LeapMode::Kernel, HALF).leap_indicator;
        assert_eq!(
            at(-DAY - 1),
            LeapIndicator::NoWarning,
            "before the last day"
        );
        assert_eq!(at(-DAY), li, "from 00:00:00 of the last day");
        assert_eq!(at(-2 * S), li);
        if insert {
            assert_eq!(at(S / 2), li, "during 23:59:60");
            assert_eq!(at(S), LeapIndicator::NoWarning, "cleared after");
        } else {
            assert_eq!(at(-S), LeapIndicator::NoWarning, "cleared at the deletion");
        }
        // Smear never advertises.
        let smear = |k: i64| served_at(t_leap() + k, leap, LeapMode::Smear, HALF).leap_indicator;
        assert_eq!(smear(-S), LeapIndicator::NoWarning);
        assert_eq!(smear(-HALF), LeapIndicator::NoWarning);
    }
}

#[test]
fn smear_is_monotonic_exactly_one_second_and_never_60() {
    for insert in [true, false] {
        let leap = Some(PendingLeap {
            at_utc_ns: t_leap(),
            insert,
        });
        let sign = if insert { 1 } else { -1 };
        let served = |t: i64| served_at(t, leap, LeapMode::Smear, HALF);
        // Untouched before the window, exactly one second moved after it.
        let before = t_leap() - HALF - 10 * S;
        assert_eq!(served(before).posix_ns, before);
        let after = t_leap() + HALF + 10 * S;
        assert_eq!(served(after).posix_ns, after - sign * S);
        assert_eq!(
            (served(t_leap() + HALF).posix_ns - served(t_leap() - HALF).posix_ns),
            2 * HALF - sign * S,
            "total smear exactly 1 s"
        );
        // Every 250 ms through the window: strictly increasing, rate within
        // 1 ± 1/86400, no 60, and the served second never goes back.
        let step = S / 4;
        let mut prev = served(t_leap() - HALF - S);
        let mut t = t_leap() - HALF - S + step;
        while t <= t_leap() + HALF + S {
            let cur = served(t);
            let d = cur.posix_ns - prev.posix_ns;
            assert!(d > 0, "monotonic at {t}");
            // Inside the window the rate is 1 ∓ 1/86400; steps that straddle
            // a window edge lie between that and 1.
            let smeared = step - sign * step / 86_400;
            let (lo, hi) = (smeared.min(step) - 2, smeared.max(step) + 2);
            assert!(
                (lo..=hi).contains(&d),
                "rate at {t}: {d} not in {lo}..={hi}"
            );
            if t > t_leap() - HALF + step && t < t_leap() + HALF {
                assert!((d - smeared).abs() <= 2, "rate inside at {t}: {d}");
            }
            assert!(cur.label.second < 60);
            assert!(cur.label >= prev.label, "label went back at {t}");
            prev = cur;
            t += step;
        }
        // Halfway, half a second absorbed.
        assert_eq!(served(t_leap()).posix_ns, t_leap() - sign * S / 2);
    }
}

#[test]
fn smear_offset_from_a_kernel_clock_matches_served_time() {
    for insert in [true, false] {
        let leap = PendingLeap {
            at_utc_ns: t_leap(),
            insert,
        };
        let k = |t: i64| served_at(t, Some(leap), LeapMode::Kernel, HALF);
        let sm = |t: i64| served_at(t, Some(leap), LeapMode::Smear, HALF);
        for off in [
            -HALF - S,
            -3600 * S,
            -S - 1,
            -S / 2,
            0,
            S / 2,
            S + 1,
            3600 * S,
            HALF + S,
        ] {
            let t = t_leap() + off;
            let kernel = k(t);
            // Skip instants a deleted second removed from the kernel clock.
            let inside = insert && (0..S).contains(&off);
            let offset = smear_offset_ns(leap, kernel.posix_ns, inside, HALF);
            assert_eq!(
                kernel.posix_ns + offset,
                sm(t).posix_ns,
                "insert={insert} off={off}"
            );
        }
    }
}

fn leap_info(change: i8, ttc: Option<i64>, valid: bool, origin: TimeOrigin) -> LeapInfo {
    LeapInfo {
        current: 18,
        change,
        time_to_change_s: ttc,
        valid,
        origin,
    }
}

/// A hash-verified list with the real table up to 2017 plus `extra`.
fn list(extra: &[(i64, i32)], expires_utc_ns: i64) -> LeapSecondsList {
    let to_ntp = |t: i64| t / S + NTP_UNIX_OFFSET_S;
    let mut body = format!(
        "#$\t{}\n#@\t{}\n",
        to_ntp(utc_from_fields(2024, 7, 1, 0, 0, 0, 0).unwrap()),
        to_ntp(expires_utc_ns)
    );
    for (t, o) in [(3644697600i64, 36), (3692217600, 37)] {
        body.push_str(&format!("{t}\t{o}\n"));
    }
    for (t, o) in extra {
        body.push_str(&format!("{}\t{o}\n", to_ntp(*t)));
    }
    let hash = file::data_hash(&body);
    file::parse(&format!("{body}{}\n", file::hash_line(&hash))).expect("test list")
}

#[test]
fn firmware_default_and_invalid_receiver_values_are_never_used() {
    let now = t_leap() - 2 * 3600 * S;
    let ttc = Some((t_leap() - now) / S);
    let mut s = LeapSchedule::new(LeapConfig::default());
    s.on_receiver(&leap_info(1, ttc, true, TimeOrigin::FirmwareDefault), now);
    s.on_receiver(&leap_info(1, ttc, false, TimeOrigin::Satellites), now);
    s.on_receiver(&leap_info(1, ttc, true, TimeOrigin::Unknown), now);
    let st = s.state(now);
    assert_eq!(st.sources.receiver, None);
    assert_eq!(st.sources.receiver_ignored, 3);
    assert_eq!(st.tai_utc, None, "no TAI-UTC from a firmware default");
    assert_eq!(st.pending, None);
    assert_eq!(st.leap_indicator, LeapIndicator::NoWarning);
    assert_eq!(st.agreement, Agreement::NoSources);
}

#[test]
fn receiver_announcement_schedules_kernel_flag_and_indicator() {
    let mut s = LeapSchedule::new(LeapConfig::default());
    let t = t_leap();
    let obs = t - 3 * DAY;
    s.on_receiver(
        &leap_info(1, Some((t - obs) / S), true, TimeOrigin::Satellites),
        obs,
    );
    // The observation is refreshed as time goes on (max age 1 h).
    let at = |s: &mut LeapSchedule, now: i64| {
        s.on_receiver(
            &leap_info(1, Some((t - now) / S), true, TimeOrigin::Satellites),
            now,
        );
        s.state(now)
    };
    let early = at(&mut s, t - 2 * DAY);
    assert_eq!(
        early.pending,
        Some(PendingLeap {
            at_utc_ns: t,
            insert: true
        })
    );
    assert_eq!(early.tai_utc, Some(37));
    assert_eq!(
        early.kernel_flag,
        KernelLeapFlag::None,
        "not yet the last day"
    );
    assert_eq!(early.leap_indicator, LeapIndicator::NoWarning);
    let last_day = at(&mut s, t - DAY + S);
    assert_eq!(last_day.kernel_flag, KernelLeapFlag::Insert);
    assert_eq!(last_day.leap_indicator, LeapIndicator::InsertSecond);
    assert_eq!(last_day.agreement, Agreement::Agreed);
    // After the leap the receiver reports the new count and no change.
    let mut after_info = leap_info(0, Some(-10), true, TimeOrigin::Satellites);
    after_info.current = 19;
    s.on_receiver(&after_info, t + 10 * S);
    let after = s.state(t + 10 * S);
    assert_eq!(after.kernel_flag, KernelLeapFlag::None, "cleared after");
    assert_eq!(after.leap_indicator, LeapIndicator::NoWarning);
    assert_eq!(after.tai_utc, Some(38));
}

#[test]
fn announcement_not_at_a_month_end_is_rejected() {
    let mut s = LeapSchedule::new(LeapConfig::default());
    let mid_month = utc_from_fields(2026, 6, 15, 0, 0, 0, 0).unwrap();
    let now = mid_month - 2 * DAY;
    s.on_receiver(
        &leap_info(1, Some((mid_month - now) / S), true, TimeOrigin::Satellites),
        now,
    );
    let st = s.evaluate(now);
    assert_eq!(st.sources.receiver_rejected, 1);
    assert_eq!(st.pending, None);
    assert_eq!(st.candidate, None);
    let ev = s.drain_events();
    assert!(
        ev.iter().any(|e| e.kind == "leap.receiver_rejected"),
        "{ev:?}"
    );
    // One second off a month end is still accepted (time-to-event convention).
    let mut s2 = LeapSchedule::new(LeapConfig::default());
    let now2 = t_leap() - 5 * DAY;
    s2.on_receiver(
        &leap_info(
            -1,
            Some((t_leap() - now2) / S - 1),
            true,
            TimeOrigin::Satellites,
        ),
        now2,
    );
    assert_eq!(
        s2.state(now2).pending,
        Some(PendingLeap {
            at_utc_ns: t_leap(),
            insert: false
        })
    );
}

#[test]
fn disagreement_blocks_scheduling() {
    let t = t_leap();
    let now = t - DAY + 60 * S;
    let announce = |s: &mut LeapSchedule| {
        s.on_receiver(
            &leap_info(1, Some((t - now) / S), true, TimeOrigin::Satellites),
            now,
        )
    };
    // File valid past the leap but without it: contradiction.
    let mut s = LeapSchedule::new(LeapConfig::default());
    s.set_file(list(&[], t + 150 * DAY));
    announce(&mut s);
    let st = s.evaluate(now);
    assert!(
        matches!(st.agreement, Agreement::Disagreement(_)),
        "{:?}",
        st.agreement
    );
    assert_eq!(st.pending, None);
    assert_eq!(st.kernel_flag, KernelLeapFlag::None);
    assert_eq!(st.leap_indicator, LeapIndicator::NoWarning);
    assert!(s
        .drain_events()
        .iter()
        .any(|e| e.kind == "leap.disagreement"));

    // File listing the same leap: agreed.
    let mut s = LeapSchedule::new(LeapConfig::default());
    s.set_file(list(&[(t, 38)], t + 150 * DAY));
    announce(&mut s);
    let st = s.state(now);
    assert_eq!(st.agreement, Agreement::Agreed);
    assert_eq!(
        st.pending,
        Some(PendingLeap {
            at_utc_ns: t,
            insert: true
        })
    );

    // File lists it but the receiver, fresh, announces nothing on the last day.
    let mut s = LeapSchedule::new(LeapConfig::default());
    s.set_file(list(&[(t, 38)], t + 150 * DAY));
    s.on_receiver(&leap_info(0, None, true, TimeOrigin::Satellites), now);
    assert!(matches!(s.state(now).agreement, Agreement::Disagreement(_)));
    assert_eq!(s.state(now).pending, None);

    // An expired file does not contradict (it no longer speaks for July).
    let mut s = LeapSchedule::new(LeapConfig::default());
    s.set_file(list(&[], t - 10 * DAY));
    announce(&mut s);
    assert_eq!(s.state(now).agreement, Agreement::Agreed);

    // Operator TAI−UTC that differs from the file: disagreement.
    let mut s = LeapSchedule::new(LeapConfig {
        tai_utc_override: Some(36),
        ..LeapConfig::default()
    });
    s.set_file(list(&[(t, 38)], t + 150 * DAY));
    announce(&mut s);
    assert!(matches!(s.state(now).agreement, Agreement::Disagreement(_)));
}

#[test]
fn step_mode_asks_for_one_step_after_the_leap() {
    let t = t_leap();
    let mut s = LeapSchedule::new(LeapConfig {
        mode: LeapMode::Step,
        ..LeapConfig::default()
    });
    s.set_file(list(&[(t, 38)], t + 150 * DAY));
    let before = s.state(t - S);
    assert_eq!(before.step_due_ns, None);
    assert_eq!(
        before.kernel_flag,
        KernelLeapFlag::None,
        "no kernel flag in step mode"
    );
    assert_eq!(before.leap_indicator, LeapIndicator::InsertSecond);
    let due = s.state(t);
    assert_eq!(due.step_due_ns, Some(-S));
    let leap = due.pending.expect("pending");
    s.acknowledge_step(leap);
    assert_eq!(s.state(t + 1).step_due_ns, None);
}

#[test]
fn smear_mode_state_gives_offset_and_no_indicator() {
    let t = t_leap();
    let mut s = LeapSchedule::new(LeapConfig {
        mode: LeapMode::Smear,
        ..LeapConfig::default()
    });
    s.set_file(list(&[(t, 38)], t + 150 * DAY));
    let st = s.state(t - S);
    assert_eq!(st.leap_indicator, LeapIndicator::NoWarning);
    assert_eq!(
        st.kernel_flag,
        KernelLeapFlag::Insert,
        "system clock stays true UTC"
    );
    // Nearly half a second absorbed one second before the leap.
    let expect = -(S / 2 - S / (2 * 43_200));
    assert!(
        (st.smear_offset_ns - expect).abs() <= 1,
        "{}",
        st.smear_offset_ns
    );
    assert_eq!(s.state(t - HALF - S).smear_offset_ns, 0);
    // After the kernel leap, still in the window: served = clock + offset keeps going.
    assert!(s.state(t + S).smear_offset_ns > 0);
    assert_eq!(s.state(t + HALF + S).smear_offset_ns, 0);
}

#[test]
fn config_override_end_of_month_helper() {
    assert_eq!(
        PendingLeap::end_of_month(2026, 6, true),
        Some(PendingLeap {
            at_utc_ns: t_leap(),
            insert: true
        })
    );
    assert_eq!(
        PendingLeap::end_of_month(2026, 12, false).map(|l| l.at_utc_ns),
        utc_from_fields(2027, 1, 1, 0, 0, 0, 0)
    );
    assert_eq!(PendingLeap::end_of_month(2026, 13, true), None);
    // A config-only schedule is a lone trusted source: scheduled.
    let s = LeapSchedule::new(LeapConfig {
        scheduled_override: PendingLeap::end_of_month(2026, 6, true),
        tai_utc_override: Some(37),
        ..LeapConfig::default()
    });
    let st = s.state(t_leap() - 3600 * S);
    assert_eq!(st.agreement, Agreement::Agreed);
    assert_eq!(st.kernel_flag, KernelLeapFlag::Insert);
    assert_eq!(st.tai_utc, Some(37));
}

#[test]
fn implausible_receiver_time_to_change_is_rejected() {
    let mut s = LeapSchedule::new(LeapConfig::default());
    let now = t_leap() - DAY;
    s.on_receiver(
        &leap_info(1, Some(i32::MAX as i64), true, TimeOrigin::Satellites),
        now,
    );
    let st = s.state(now);
    assert_eq!(st.sources.receiver_rejected, 1);
    assert_eq!(st.pending, None);
}

#[test]
fn receiver_mid_update_after_the_leap_does_not_block_the_step() {
    // Step mode, file and receiver agree. Just after the leap the receiver
    // still flags the change (time since event negative) with the old count.
    let t = t_leap();
    let mut s = LeapSchedule::new(LeapConfig {
        mode: LeapMode::Step,
        ..LeapConfig::default()
    });
    s.set_file(list(&[(t, 38)], t + 150 * DAY));
    let before = t - 30 * S;
    s.on_receiver(
        &leap_info(1, Some((t - before) / S), true, TimeOrigin::Satellites),
        before,
    );
    assert_eq!(s.state(before).agreement, Agreement::Agreed);
    let after = t + 2 * S;
    s.on_receiver(&leap_info(1, Some(-2), true, TimeOrigin::Satellites), after);
    let st = s.state(after);
    assert_eq!(st.agreement, Agreement::Agreed, "{:?}", st.agreement);
    assert_eq!(st.step_due_ns, Some(-S));
    assert_eq!(st.tai_utc, Some(38));
    // Once updated (count 19, no change), still agreed and TAI−UTC 38.
    let mut upd = leap_info(0, None, true, TimeOrigin::Satellites);
    upd.current = 19;
    s.on_receiver(&upd, after + S);
    let st = s.state(after + S);
    assert_eq!(st.agreement, Agreement::Agreed);
    assert_eq!(st.sources.receiver.and_then(|r| r.tai_utc), Some(38));
}

#[test]
fn hostile_receiver_values_do_not_panic() {
    let mut s = LeapSchedule::new(LeapConfig::default());
    for (change, ttc, epoch) in [
        (i8::MIN, Some(10), t_leap()),
        (i8::MAX, Some(i64::MAX), t_leap()),
        (1, Some(i64::MIN), t_leap()),
        (1, Some(1), i64::MAX),
        (-1, Some(86_400), i64::MIN),
        (1, None, 0),
    ] {
        s.on_receiver(&leap_info(change, ttc, true, TimeOrigin::Satellites), epoch);
        let _ = s.evaluate(epoch);
    }
    assert!(s.state(t_leap()).sources.receiver_rejected >= 4);
}
