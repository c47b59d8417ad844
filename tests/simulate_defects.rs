//! Stress scenarios from issue 12, each a defect that once broke the servo:
//! a temperature step (noise-estimate collapse, divergence read as a time
//! jump, bound violated while locked) and a relock after holdover (silent
//! quasi-step). Scenarios are inline so each test says what it stresses.

use gnss_timeserver::discipline::LockState;
use gnss_timeserver::sim::timing::{run, summarize, Scenario};

/// Profile A's oscillator and PPS, `extra` appended (keys or tables).
fn profile_a_with(duration_s: u64, oscillator_extra: &str, extra: &str) -> Scenario {
    let text = format!(
        r#"
name = "A + stress"
duration-s = {duration_s}
initial-offset-ns = 50000000
[oscillator]
offset-ppm = 20.0
wander-sigma = 1e-10
{oscillator_extra}
[pps]
white-rms-ns = 20.0
[receiver]
qerr-amplitude-ns = 4.0
latency-min-ms = 20.0
latency-max-ms = 400.0
satellites = 12
{extra}
"#
    );
    Scenario::from_toml(&text, "inline").expect("scenario")
}

/// D2, D3, D4: +10 °C within 60 s at 0.1 ppm/°C with healthy GNSS: the clock
/// stays locked, its bound covers, and |TE| stays within 200 ns.
#[test]
fn temperature_step_keeps_lock_and_bound() {
    let sc = profile_a_with(
        5_400,
        "tempco-ppm-per-c = 0.1\ntemperature = { kind = \"table\", points = [[0.0, 25.0], [3600.0, 25.0], [3660.0, 35.0]] }",
        "",
    );
    for seed in 1..=3 {
        let out = run(&sc, seed);
        let s = summarize(&sc, seed, &out);
        let left: Vec<_> = s
            .transitions
            .iter()
            .filter(|t| t.from == "locked")
            .collect();
        assert!(left.is_empty(), "seed {seed}: left lock {left:?}");
        let c = s.bound_coverage.expect("coverage");
        assert!(c >= 0.999, "seed {seed}: coverage {c}");
        let max = s.te_max_ns.expect("max");
        assert!(max <= 200.0, "seed {seed}: max |TE| {max}");
    }
}

/// D3: a frequency jump of the oscillator (3 ppm at once) throws the filter
/// off; with healthy GNSS it must come back to Locked by itself (no operator,
/// no step: it is not a receiver time jump), and the bound must cover |TE|.
#[test]
fn divergence_with_healthy_gnss_recovers_by_itself() {
    let sc = profile_a_with(
        5_400,
        "",
        "[[events]]\nkind = \"frequency-step\"\nat-s = 3600\nppm = 3.0",
    );
    for seed in 1..=3 {
        let out = run(&sc, seed);
        let last = out.rows.last().expect("rows");
        assert_eq!(last.state, LockState::Locked, "seed {seed}");
        assert_eq!(out.steps, 1, "seed {seed}: only the start-up step");
        let s = summarize(&sc, seed, &out);
        // The first 2-3 s of an unannounced jump cannot be covered: samples
        // are decided 1-2 s after their edge. Everything after is.
        let c = s.bound_coverage.expect("coverage");
        assert!(c >= 0.998, "seed {seed}: coverage {c}");
    }
}

/// D3 as the issue found it: +15 °C in 60 s at 0.3 ppm/°C once ended in
/// `time_jump` holdover, then Unsynchronized with |TE| up to 28 ms. If the
/// filter loses the oscillator now, it re-acquires by itself (reason
/// `divergence`, no step), and the bound covers |TE| throughout.
#[test]
fn steep_temperature_step_recovers_and_stays_covered() {
    let sc = profile_a_with(
        5_400,
        "tempco-ppm-per-c = 0.3\ntemperature = { kind = \"table\", points = [[0.0, 25.0], [3600.0, 25.0], [3660.0, 40.0]] }",
        "",
    );
    for seed in 1..=3 {
        let out = run(&sc, seed);
        assert_eq!(out.rows.last().map(|r| r.state), Some(LockState::Locked));
        assert_eq!(out.steps, 1, "seed {seed}: only the start-up step");
        let s = summarize(&sc, seed, &out);
        assert!(
            s.transitions.iter().all(|t| t.reason != "time_jump"),
            "seed {seed}: {:?}",
            s.transitions
        );
        // As for the frequency jump: the seconds before the first rejected
        // samples arrive cannot be covered (up to 11 s of 4800 measured).
        let c = s.bound_coverage.expect("coverage");
        assert!(c >= 0.997, "seed {seed}: coverage {c}");
        let max = s.te_max_ns.expect("max");
        assert!(max <= 5_000.0, "seed {seed}: max |TE| {max}");
    }
}

/// D5: after an hour without PPS the phase error found on return is steered
/// out: every correction larger than the bound is an event, and while it
/// runs the served dispersion (the bound) covers |TE| in every second.
#[test]
fn relock_after_holdover_is_not_a_silent_quasi_step() {
    let sc = profile_a_with(
        6_000,
        "",
        "[[events]]\nkind = \"outage\"\nfrom-s = 1800\nto-s = 5400",
    );
    for seed in 1..=3 {
        let out = run(&sc, seed);
        let after: Vec<_> = out.rows.iter().filter(|r| r.t_s >= 5_400).collect();
        for r in &after {
            if matches!(r.state, LockState::Locked | LockState::Holdover) {
                assert!(
                    r.te_ns.abs() <= r.bound_ns,
                    "seed {seed} t {}: |TE| {} > bound {}",
                    r.t_s,
                    r.te_ns,
                    r.bound_ns
                );
            }
        }
        let big = out
            .rows
            .iter()
            .filter(|r| r.t_s >= 5_400)
            .map(|r| r.te_ns.abs())
            .fold(0.0, f64::max);
        let events: Vec<_> = out
            .events
            .iter()
            .filter(|(t, k)| *t >= 5_400 && k == "clock.correction")
            .collect();
        if big > 1_000.0 {
            assert!(
                !events.is_empty(),
                "seed {seed}: |TE| {big} corrected silently"
            );
        }
        assert_eq!(out.rows.last().map(|r| r.state), Some(LockState::Locked));
    }
}
