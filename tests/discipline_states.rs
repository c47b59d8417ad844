//! Lock state machine through the whole engine (simulated): every holdover
//! cause enters Holdover with its reason, a time jump is not followed, re-lock
//! needs a run of consistent samples, Unsynchronized when the bound passes the
//! limit, leap seconds in kernel mode, cold vs warm start.

use gnss_timeserver::sim::timing::{simulate, RunOutput, Scenario, Summary};

fn scenario(wander: f64, duration: u64, extra: &str) -> Scenario {
    let text = format!(
        r#"
duration-s = {duration}
initial-offset-ns = 50000000
[oscillator]
offset-ppm = 20.0
wander-sigma = {wander:e}
[pps]
white-rms-ns = 20.0
{extra}
"#
    );
    Scenario::from_toml(&text, "inline").expect("valid scenario")
}

fn scenario_pps(wander: f64, duration: u64, pps: &str, extra: &str) -> Scenario {
    let text = format!(
        "duration-s = {duration}\ninitial-offset-ns = 50000000\n[oscillator]\noffset-ppm = 20.0\nwander-sigma = {wander:e}\n{pps}{extra}"
    );
    Scenario::from_toml(&text, "inline").expect("valid scenario")
}

fn event(kind: &str, from: u64, to: u64, more: &str) -> String {
    format!("[[events]]\nkind = \"{kind}\"\nfrom-s = {from}\nto-s = {to}\n{more}\n")
}

fn run(sc: &Scenario) -> (Summary, RunOutput) {
    simulate(sc, 11)
}

fn assert_holdover_cause(kind: &str, more: &str, reason: &str) {
    let sc = scenario(1e-9, 1500, &event(kind, 600, 900, more));
    let (s, out) = run(&sc);
    let hold = s
        .transitions
        .iter()
        .find(|t| t.to == "holdover")
        .unwrap_or_else(|| panic!("{kind}: no holdover in {:?}", s.transitions));
    assert_eq!(hold.from, "locked", "{kind}");
    assert_eq!(hold.reason, reason, "{kind}");
    assert!(
        hold.t >= 600.0 && hold.t < 605.0,
        "{kind}: entered at {}",
        hold.t
    );
    // Back to Locked only after the impairment and a run of consistent samples.
    let relock = s
        .transitions
        .iter()
        .find(|t| t.to == "locked" && t.t > hold.t)
        .unwrap_or_else(|| panic!("{kind}: no re-lock in {:?}", s.transitions));
    assert_eq!(relock.reason, "consistent_samples");
    assert!(
        // At least the short run (8 consistent samples) after the impairment.
        relock.t >= 900.0 + 8.0,
        "{kind}: re-locked at {}",
        relock.t
    );
    assert!(relock.t < 960.0, "{kind}: re-locked late at {}", relock.t);
    // Holdover is honest: |TE| stays under the bound through the event.
    for r in &out.rows[600..960] {
        assert!(
            r.te_ns.abs() <= r.bound_ns,
            "{kind}: t {} te {} bound {}",
            r.t_s,
            r.te_ns,
            r.bound_ns
        );
    }
}

#[test]
fn pps_missing_enters_holdover() {
    assert_holdover_cause("outage", "", "pps_missing");
}

#[test]
fn invalid_time_enters_holdover() {
    assert_holdover_cause("invalid-time", "", "no_valid_time");
}

#[test]
fn too_few_satellites_enters_holdover() {
    assert_holdover_cause("few-satellites", "satellites = 2", "too_few_satellites");
}

#[test]
fn antenna_short_and_open_enter_holdover() {
    assert_holdover_cause("antenna-short", "", "antenna_short");
    assert_holdover_cause("antenna-open", "", "antenna_open");
}

#[test]
fn spoofing_and_jamming_enter_holdover() {
    assert_holdover_cause("spoofing", "", "spoofing");
    assert_holdover_cause("jamming", "", "jamming");
}

#[test]
fn time_jump_is_not_followed() {
    for jump_ns in [1_000_000_000i64, 50_000] {
        let extra = format!(
            "[[events]]\nkind = \"time-jump\"\nat-s = 600\nto-s = 900\njump-ns = {jump_ns}\n"
        );
        let sc = scenario(1e-10, 1500, &extra);
        let (s, out) = run(&sc);
        let hold = s
            .transitions
            .iter()
            .find(|t| t.to == "holdover")
            .unwrap_or_else(|| panic!("jump {jump_ns}: {:?}", s.transitions));
        assert_eq!(hold.reason, "time_jump");
        assert!(hold.t < 610.0, "detected at {}", hold.t);
        // The clock kept its time: during the jump |TE| stays far below the jump.
        for r in &out.rows[600..900] {
            assert!(
                r.te_ns.abs() < 5_000.0,
                "jump {jump_ns}: t {} te {}",
                r.t_s,
                r.te_ns
            );
        }
        // The jump went away: consistent samples again, re-lock.
        assert!(s
            .transitions
            .iter()
            .any(|t| t.to == "locked" && t.t > 900.0 && t.reason == "consistent_samples"));
    }
}

#[test]
fn unsynchronized_when_bound_passes_limit() {
    // 1e-9 wander: the bound passes the 1 ms default limit within ~2 h.
    let sc = scenario(1e-9, 4 * 3600, &event("outage", 600, 4 * 3600, ""));
    let (s, out) = run(&sc);
    let un = s
        .transitions
        .iter()
        .find(|t| t.to == "unsynchronized")
        .unwrap_or_else(|| panic!("{:?}", s.transitions));
    assert_eq!(un.from, "holdover");
    assert_eq!(un.reason, "bound_exceeded");
    let k = un.t as usize;
    assert!(out.rows[k - 5].bound_ns <= 1_000_000.0);
    assert!(out.rows[k + 5].bound_ns > 1_000_000.0);
}

#[test]
fn warm_start_locks_no_later_than_cold_and_holds_frequency() {
    // Pi GPIO-class PPS (1 µs): from cold the frequency needs more samples.
    let b = "[pps]\nwhite-rms-ns = 1000.0\n";
    let cold = scenario_pps(1e-9, 300, b, "");
    let warm = scenario_pps(
        1e-9,
        300,
        b,
        "[warm-start]\nfrequency-error-ppm = 0.005\nfrequency-sigma-ppm = 0.01\n",
    );
    let (c, _) = run(&cold);
    let (w, _) = run(&warm);
    let tc = c.time_to_lock_s.expect("cold locks");
    let tw = w.time_to_lock_s.expect("warm locks");
    assert!(tc < 40.0, "cold {tc}");
    assert!(tw + 5.0 <= tc, "warm {tw} cold {tc}");
}

fn leap_scenario(name: &str) -> Scenario {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name);
    Scenario::load(&p).unwrap()
}

#[test]
fn kernel_leap_insert_and_delete_through_sim_clock() {
    use gnss_timeserver::clock::{ClockCommand, LeapFlag};
    use gnss_timeserver::status::LeapIndicator;
    for (file, insert) in [("leap-insert.toml", true), ("leap-delete.toml", false)] {
        let sc = leap_scenario(file);
        let (s, out) = simulate(&sc, 3);
        assert_eq!(out.leaps_done, if insert { 1 } else { -1 }, "{file}");
        // Armed after lock, before the leap (at 7200 s), then cleared.
        let flag = if insert {
            LeapFlag::Insert
        } else {
            LeapFlag::Delete
        };
        let armed = out
            .leap_commands
            .iter()
            .find(|(_, c)| *c == ClockCommand::SetLeap { flag })
            .unwrap_or_else(|| panic!("{file}: {:?}", out.leap_commands));
        assert!(armed.0 < 7200, "{file}: armed at {}", armed.0);
        // TAI − UTC set (37 before the leap).
        assert!(out
            .leap_commands
            .iter()
            .any(|(_, c)| *c == ClockCommand::SetTaiOffset { seconds: 37 }));
        // The disciplined clock follows UTC across the leap: no second lost or
        // gained, no lock lost, no servo disturbance.
        assert!(
            s.transitions.iter().all(|t| t.to == "locked"),
            "{file}: {:?}",
            s.transitions
        );
        for r in &out.rows[7210..7300] {
            assert!(r.te_ns.abs() < 200.0, "{file}: t {} te {}", r.t_s, r.te_ns);
        }
        assert!(s.te_max_ns.unwrap() < 200.0);
        // Leap indicator: announced while serving before the leap, gone after.
        let want = if insert {
            LeapIndicator::InsertSecond
        } else {
            LeapIndicator::DeleteSecond
        };
        assert_eq!(out.rows[3600].leap, want, "{file}");
        assert_eq!(out.rows[7190].leap, want, "{file}");
        assert_eq!(out.rows[7300].leap, LeapIndicator::NoWarning, "{file}");
        // Before lock the server advertises "unsynchronized".
        assert_eq!(out.rows[5].leap, LeapIndicator::Unsynchronized, "{file}");
    }
}
