//! `run` and `demo` built from one config differ only in the overrides
//! `Plan::apply_demo` lists (and the README names).

use super::*;

fn settings() -> DemoSettings {
    DemoSettings {
        data: PathBuf::from("/tmp/demo-data"),
        ntp: "127.0.0.1:1123".parse().unwrap(),
        http: "127.0.0.1:8080".parse().unwrap(),
        scenario: "healthy".to_string(),
        ntp_workers: 1,
        agentx: None,
        holdover_limit_ns: None,
    }
}

/// A config far from the defaults, so a demo that ignored the config (as it
/// once ignored `[ntp]` for its client table and alarm) shows up.
fn config() -> Config {
    Config::parse(
        "[discipline]\nmin-satellites = 6\nholdover-limit-ns = 2000000\n\
         [ntp]\nrefid = \"GNSS\"\nmonitor-size = 1234\nclient-offset-alarm-ms = 55.0\n\
         stale-after-s = 9\ninterleaved = false\n[leap]\nmode = \"smear\"\n\
         [store]\nmax-events = 777\n",
        "test.toml",
    )
    .unwrap()
}

#[test]
fn demo_and_run_build_the_same_plan_but_for_the_demo_overrides() {
    let cfg = config();
    let run = Plan::from_config(&cfg);
    let demo = Plan::demo(&cfg, &settings());
    assert_ne!(run, demo);
    // Undo exactly the documented overrides; nothing else may differ.
    let mut undone = demo.clone();
    undone.mode = run.mode.clone();
    undone.store_path = run.store_path.clone();
    undone.control_socket = run.control_socket.clone();
    undone.commit_interval = run.commit_interval;
    undone.receiver = run.receiver.clone();
    undone.gnss = run.gnss.clone();
    undone.clock = run.clock;
    undone.timing.pps = run.timing.pps.clone();
    undone.timing.thermal_zone = run.timing.thermal_zone.clone();
    undone.timing.leap_seconds_file = run.timing.leap_seconds_file.clone();
    undone.ntp.bind = run.ntp.bind.clone();
    undone.ntp.workers = run.ntp.workers;
    undone.ntp.rate_limit_interval_ms = run.ntp.rate_limit_interval_ms;
    undone.http = run.http;
    assert_eq!(undone, run);
    // What the config says reaches both.
    for p in [&run, &demo] {
        assert_eq!(p.ntp.client_table_size, 1234);
        assert_eq!(p.ntp.client_offset_alarm_ms, 55);
        assert_eq!(p.ntp.stale_after_ms, 9_000);
        assert!(!p.ntp.interleaved);
        assert_eq!(p.timing.engine.min_satellites, 6);
        assert_eq!(p.timing.engine.refid, "GNSS");
        assert_eq!(p.max_events, 777);
    }
}

#[test]
fn demo_overrides_what_the_readme_says() {
    let demo = Plan::demo(&Config::default(), &settings());
    assert_eq!(demo.mode, Mode::Demo);
    assert_eq!(demo.clock, ClockChoice::Virtual);
    assert_eq!(demo.ntp.rate_limit_interval_ms, 0);
    assert_eq!(demo.ntp.bind, vec![settings().ntp]);
    assert_eq!(demo.store_path, PathBuf::from("/tmp/demo-data/store.redb"));
    assert!(matches!(demo.timing.pps, PpsInput::Simulated { .. }));
    assert!(matches!(
        demo.receiver,
        ReceiverSource::FakeReceiver { ref scenario } if scenario == "healthy"
    ));
}
