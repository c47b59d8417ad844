//! Engine tests fed by hand, second by second.

use super::correction_log::CorrectionLog;
use super::*;
use crate::clock::ClockCommand;
use crate::discipline::lock::{LockState, Reason};
use crate::gnss::{EpochTime, Fix, FixMode, TimePulse};
use crate::pps::PpsEdge;
use crate::server_fields::LeapIndicator;
use crate::time::NS_PER_SEC;

/// A perfect receiver and PPS on a clock that is exactly right, fed by hand.
fn second(e: &mut Engine, k: i64, pps: bool) -> Vec<ClockCommand> {
    second_shifted(e, k, pps, 0, 0)
}

/// One second at true time t0 + k s, with the local clock `local_shift`
/// ahead of true time and the receiver's UTC `utc_shift` ahead of it.
fn second_shifted(
    e: &mut Engine,
    k: i64,
    pps: bool,
    local_shift: i64,
    utc_shift: i64,
) -> Vec<ClockCommand> {
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let true_t = t0 + k * NS_PER_SEC;
    let t = true_t + local_shift;
    let utc = true_t + utc_shift;
    if pps {
        e.on_edge(PpsEdge {
            local_ns: t,
            sequence: k as u64,
        });
        let ep = GnssEpoch {
            time: Some(EpochTime {
                utc_ns: utc,
                valid_date: true,
                valid_time: true,
                fully_resolved: true,
                tacc_ns: Some(20),
                source: "NAV-TIMEUTC",
            }),
            time_pulse: Some(TimePulse {
                utc_ns: utc + NS_PER_SEC,
                qerr_ps: Some(0),
                utc_based: true,
                utc_valid: true,
            }),
            fix: Fix {
                mode: FixMode::Time,
                sats_used: Some(10),
                ..Fix::default()
            },
            ..GnssEpoch::default()
        };
        e.on_epoch(&ep, t + 100_000_000);
    }
    e.on_tick(t + 500_000_000, Some(25.0));
    // The clock is perfect: corrections must stay tiny.
    let cmds = e.drain_commands();
    for c in &cmds {
        if let ClockCommand::SetFrequency { ppm } = c {
            assert!(ppm.abs() < 1.0, "k {k}: {ppm}");
        }
    }
    cmds
}

/// Locked on a perfect clock for 60 s, then the receiver's UTC jumps 1 s
/// ahead and stays there. Runs `secs` seconds, applying every Step the
/// engine commands to the local clock, and calls `act` each second.
fn jump_run(e: &mut Engine, secs: i64, mut act: impl FnMut(&mut Engine, i64)) -> (Vec<i64>, i64) {
    const JUMP: i64 = NS_PER_SEC;
    let (mut local_shift, mut steps) = (0, Vec::new());
    for k in 0..secs {
        let utc_shift = if k >= 60 { JUMP } else { 0 };
        for c in second_shifted(e, k, true, local_shift, utc_shift) {
            if let ClockCommand::Step { delta_ns } = c {
                local_shift += delta_ns;
                steps.push(delta_ns);
            }
        }
        act(e, k);
    }
    (steps, local_shift)
}

#[test]
fn time_jump_is_held_until_an_operator_accepts_it() {
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let mut e = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
    assert_eq!(
        e.accept_time_jump(JumpAcceptance::Operator),
        Err(JumpRefusal::NotPending)
    );
    let mut accepted = None;
    let (steps, shift) = jump_run(&mut e, 400, |e, k| {
        if k == 60 + 30 {
            assert_eq!(e.lock_state(), LockState::Holdover);
            assert_eq!(e.status().reason, Reason::TimeJump);
            let j = e.pending_jump_ns().expect("a consistent jump");
            assert!((j + 1e9).abs() < 2_000.0, "{j}");
            accepted = Some(e.accept_time_jump(JumpAcceptance::Operator));
        }
    });
    let delta = accepted.expect("reached").expect("accepted");
    assert!((delta - NS_PER_SEC).abs() < 2_000, "{delta}");
    // Exactly one step after the start-up decision: the accepted jump.
    assert_eq!(steps, vec![delta]);
    assert_eq!(shift, delta);
    assert_eq!(e.lock_state(), LockState::Locked);
    assert_eq!(e.status().reason, Reason::ConsistentSamples);
    assert!(e.status().offset_ns.abs() < 2_000.0);
    let ev = e.drain_events();
    assert!(ev
        .iter()
        .any(|ev| ev.kind == "clock.step" && ev.kind.message().contains("time_jump_operator")));
}

#[test]
fn time_jump_is_never_followed_by_itself_unless_configured() {
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let mut never = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
    let (steps, _) = jump_run(&mut never, 900, |_, _| {});
    assert!(steps.is_empty(), "{steps:?}");
    assert_ne!(never.lock_state(), LockState::Locked);
    assert!(never.pending_jump_ns().is_ok());

    let cfg = EngineConfig {
        jump_accept_after_s: Some(120),
        ..EngineConfig::default()
    };
    let mut auto = Engine::new(cfg, t0, 0.0, None, Some(25.0));
    let mut first_step_at = None;
    let (steps, _) = jump_run(&mut auto, 600, |e, k| {
        if first_step_at.is_none() && e.pending_jump_ns().is_err() && k > 70 {
            first_step_at = Some(k);
        }
    });
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert!((steps[0] - NS_PER_SEC).abs() < 2_000, "{steps:?}");
    // Pending from ~65 s; accepted 120 s later, not before.
    let at = first_step_at.expect("accepted");
    assert!((185..=200).contains(&at), "accepted at {at}");
    assert_eq!(auto.lock_state(), LockState::Locked);
}

/// The kernel's STA_UNSYNC follows what NTP serves: unsynchronized until
/// the first lock, synchronized while locked or in holdover, and
/// unsynchronized again once the holdover bound is passed.
#[test]
fn sync_flag_follows_lock_state() {
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let cfg = EngineConfig {
        lock: crate::discipline::lock::LockConfig {
            bound_limit_ns: 20_000.0,
            ..Default::default()
        },
        ..EngineConfig::default()
    };
    let mut e = Engine::new(cfg, t0, 0.0, None, Some(25.0));
    let mut told = Vec::new();
    for k in 0..3_000 {
        let pps = k < 60;
        for c in second(&mut e, k, pps) {
            if let ClockCommand::SetSync { synchronized } = c {
                told.push((synchronized, e.lock_state()));
            }
        }
    }
    assert_eq!(e.lock_state(), LockState::Unsynchronized);
    assert_eq!(
        told,
        vec![
            (false, LockState::Acquiring),
            (true, LockState::Locked),
            (false, LockState::Unsynchronized)
        ]
    );
}

#[test]
fn configured_tai_utc_is_a_leap_source() {
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let cfg = EngineConfig {
        leap_tai_utc_override: Some(37),
        ..EngineConfig::default()
    };
    let mut e = Engine::new(cfg, t0, 0.0, None, None);
    e.on_tick(t0, None);
    let leap = e.status().leap.expect("leap state");
    assert!(leap.sources.config.is_some(), "{leap:?}");
    assert_eq!(leap.tai_utc, Some(37));
    let plain = Engine::new(EngineConfig::default(), t0, 0.0, None, None);
    let none = plain.status().leap.map(|l| l.sources.config.is_some());
    assert_ne!(none, Some(true));
}

#[test]
fn server_fields_follow_lock_state() {
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let mut e = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
    let f = e.server_fields(-20);
    assert_eq!((f.stratum, f.leap), (16, LeapIndicator::Unsynchronized));
    assert_eq!(&f.refid, b"GPS\0");
    for k in 0..60 {
        second(&mut e, k, true);
    }
    assert_eq!(e.lock_state(), LockState::Locked);
    let f = e.server_fields(-20);
    assert_eq!((f.stratum, f.leap), (1, LeapIndicator::NoWarning));
    assert!(f.reference_time_ns > t0 + 55 * NS_PER_SEC);
    let locked_disp = f.root_dispersion_ns;
    assert!(locked_disp < 5_000, "{locked_disp}");
    let ev = e.drain_events();
    assert!(ev
        .iter()
        .any(|ev| ev.kind == "lock.transition" && ev.kind.message().contains("locked")));
    assert!(e.take_model().is_some(), "model handed out when locked");
    // PPS gone: holdover, still stratum 1, dispersion grows.
    for k in 60..200 {
        second(&mut e, k, false);
    }
    assert_eq!(e.lock_state(), LockState::Holdover);
    assert_eq!(e.status().reason, Reason::PpsMissing);
    let f = e.server_fields(-20);
    assert_eq!(f.stratum, 1);
    assert!(f.root_dispersion_ns > locked_disp);
    let st = e.status();
    assert!(st.time_error_bound_ns.is_some_and(f64::is_finite));
    assert!(st.accepted >= 50);
}

#[test]
fn correction_log_integrates_piecewise() {
    let mut l = CorrectionLog::new(1.0);
    l.set(1_000_000_000, -2.0);
    // 1 ppm for 0.5 s, then −2 ppm for 1 s.
    let u = l.integral(500_000_000, 2_000_000_000);
    assert!((u - (500.0 - 2000.0)).abs() < 1e-9, "{u}");
    l.prune(1_500_000_000);
    assert!((l.integral(1_500_000_000, 2_000_000_000) + 1000.0).abs() < 1e-9);
    l.shift(-1_000_000_000);
    assert!((l.integral(0, 1_000_000_000) + 2000.0).abs() < 1e-9);
}

/// D6: a step moves every local-time mark the engine keeps, so none of them
/// lies a step away from the clock afterwards.
#[test]
fn step_moves_every_local_time_mark() {
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let mut e = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
    for k in 0..40 {
        second(&mut e, k, true);
    }
    let mark = t0 + 39 * NS_PER_SEC;
    e.last_distrust_local = Some(mark);
    e.jump_since_local = Some(mark);
    e.last_model_local = Some(mark);
    let since = e.lock.since_ns();
    let delta = 1_000_000_000;
    let st = e.servo_time.expect("servo running");
    e.step_clock(st, delta, "test");
    assert_eq!(e.last_distrust_local, Some(mark + delta));
    assert_eq!(e.jump_since_local, Some(mark + delta));
    assert_eq!(e.last_model_local, Some(mark + delta));
    assert_eq!(e.lock.since_ns(), since + delta);
}

/// Issue 8: an open antenna that also loses the satellites and the pulse is
/// reported as `antenna_open`, not as its consequences.
#[test]
fn antenna_fault_is_the_reason_not_its_consequence() {
    use crate::gnss::{AntennaInfo, AntennaStatus};
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let mut e = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
    for k in 0..60 {
        second(&mut e, k, true);
    }
    assert_eq!(e.lock_state(), LockState::Locked);
    let t = t0 + 60 * NS_PER_SEC;
    let ep = GnssEpoch {
        fix: Fix {
            mode: FixMode::None,
            sats_used: Some(0),
            ..Fix::default()
        },
        antenna: Some(AntennaInfo {
            status: AntennaStatus::Open,
            ..AntennaInfo::default()
        }),
        ..GnssEpoch::default()
    };
    e.on_epoch(&ep, t);
    for k in 0..10 {
        e.on_tick(t + k * NS_PER_SEC, Some(25.0));
    }
    assert_eq!(e.lock_state(), LockState::Holdover);
    assert_eq!(e.status().reason, Reason::AntennaOpen);
}

/// Someone sets the local clock 2 s ahead while locked: the engine steps it
/// straight back (no operator, unlike a receiver jump) and stays locked.
#[test]
fn local_clock_jump_is_stepped_back_at_once() {
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let mut e = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
    for k in 0..60 {
        second(&mut e, k, true);
    }
    e.on_local_clock_jump(2 * NS_PER_SEC);
    let cmds = e.drain_commands();
    assert!(cmds.contains(&ClockCommand::Step {
        delta_ns: -2 * NS_PER_SEC
    }));
    for k in 60..80 {
        second(&mut e, k, true);
    }
    assert_eq!(e.lock_state(), LockState::Locked);
    assert!(e.pending_jump_ns().is_err());
    assert_eq!(e.status().local_clock_jumps, 1);
    assert_eq!(e.status().last_local_clock_jump_ns, Some(2 * NS_PER_SEC));
    assert!(e
        .drain_events()
        .iter()
        .any(|ev| ev.kind == "clock.step" && ev.kind.message().contains("local_clock_set")));
}

#[test]
fn silent_receiver_shows_no_receiver_until_it_talks() {
    let t0 = 1_780_272_000 * NS_PER_SEC;
    let mut e = Engine::new(EngineConfig::default(), t0, 0.0, None, Some(25.0));
    // No device (or a silent one): ticks only, for a minute.
    for k in 0..60 {
        e.on_tick(t0 + k * NS_PER_SEC, Some(25.0));
    }
    assert_eq!(e.lock_state(), LockState::Acquiring);
    assert_eq!(e.status().reason, Reason::NoReceiver);
    assert_eq!(e.server_fields(-20).stratum, 16);
    // PPS edges alone do not make a receiver.
    for k in 60..70 {
        e.on_edge(PpsEdge {
            local_ns: t0 + k * NS_PER_SEC,
            sequence: k as u64,
        });
        e.on_tick(t0 + k * NS_PER_SEC + 500_000_000, Some(25.0));
    }
    assert_eq!(e.status().reason, Reason::NoReceiver);
    // It talks: the reason is the lock machine's again, then it locks.
    second(&mut e, 70, true);
    assert_ne!(e.status().reason, Reason::NoReceiver);
    for k in 71..200 {
        second(&mut e, k, true);
    }
    assert_eq!(e.lock_state(), LockState::Locked);
    // Silent again: holdover keeps the transition's reason.
    for k in 200..230 {
        second(&mut e, k, false);
    }
    assert_eq!(e.lock_state(), LockState::Holdover);
    assert_eq!(e.status().reason, Reason::PpsMissing);
}
