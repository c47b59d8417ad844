//! PPS sources without hardware: GPIO timestamp conversion (with real,
//! read-only clock readings), the /dev/pps error path, and the real-time
//! simulated source.

use gnss_timeserver::liveness::Heartbeat;
use gnss_timeserver::pps::gpio::{best_offset, to_realtime, ClockBracket, TimestampScale};
use gnss_timeserver::pps::kpps::{self, Capture, KppsError};
use gnss_timeserver::pps::sim::{spawn_realtime, PpsNoise};
use gnss_timeserver::pps::PpsEvent;
use gnss_timeserver::time::{monotonic_ns, system_realtime_ns, NS_PER_SEC};

#[test]
fn gpio_scale_detection_with_real_clocks() {
    let mono = monotonic_ns();
    let rt = system_realtime_ns();
    // An event stamped 3 ms ago on either clock is attributed to that clock.
    assert_eq!(
        TimestampScale::detect(mono - 3_000_000, mono, rt),
        TimestampScale::Monotonic
    );
    assert_eq!(
        TimestampScale::detect(rt - 3_000_000, mono, rt),
        TimestampScale::Realtime
    );
}

#[test]
fn gpio_offset_uses_the_narrowest_bracket_midpoint() {
    let rt = 1_700_000_000 * NS_PER_SEC;
    let mono = 5_000 * NS_PER_SEC;
    let brackets = [
        // Interrupted: wide and skewed.
        ClockBracket {
            realtime_before: rt,
            monotonic: mono + 100,
            realtime_after: rt + 40_000,
        },
        // Clean: 200 ns wide, monotonic read in the middle.
        ClockBracket {
            realtime_before: rt + 50_000,
            monotonic: mono + 50_100,
            realtime_after: rt + 50_200,
        },
        // Reversed (clock stepped between reads): ignored.
        ClockBracket {
            realtime_before: rt + 60_000,
            monotonic: mono + 60_000,
            realtime_after: rt + 59_000,
        },
    ];
    let (off, unc) = best_offset(&brackets).expect("offset");
    assert_eq!(off, rt - mono);
    assert_eq!(unc, 100);
    // A monotonic event 1 s before maps 1 s before on realtime.
    let ev = mono + 50_100 - NS_PER_SEC;
    assert_eq!(
        to_realtime(ev, TimestampScale::Monotonic, off),
        rt + 50_100 - NS_PER_SEC
    );
}

#[test]
fn gpio_conversion_against_the_live_clocks() {
    // Read the real clocks (read-only) and check the converted "now" on the
    // monotonic scale lands within the bracket on the realtime scale.
    let a = system_realtime_ns();
    let m = monotonic_ns();
    let b = system_realtime_ns();
    let (off, unc) = best_offset(&[ClockBracket {
        realtime_before: a,
        monotonic: m,
        realtime_after: b,
    }])
    .expect("offset");
    let converted = to_realtime(m, TimestampScale::Monotonic, off);
    assert!(
        converted >= a && converted <= b,
        "{a} <= {converted} <= {b}"
    );
    assert!(unc <= (b - a) / 2 + 1);
}

#[test]
fn missing_pps_device_is_reported_clearly() {
    let (tx, _rx) = tokio::sync::mpsc::channel(4);
    let err = kpps::spawn(
        std::path::Path::new("/dev/pps-missing-for-test"),
        Capture::Assert,
        tx,
        Heartbeat::default(),
    )
    .err()
    .expect("no such device");
    assert!(matches!(err, KppsError::Missing { .. }));
    let msg = err.to_string();
    assert!(msg.contains("/dev/pps-missing-for-test"), "{msg}");
}

#[test]
fn realtime_simulated_source_emits_on_whole_seconds() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    // The "local clock" runs 12 345 ns ahead of the system clock.
    let h = spawn_realtime(|t: i64| t + 12_345, PpsNoise::default(), 1, tx).expect("spawn");
    let mut got = Vec::new();
    while got.len() < 2 {
        match rx.blocking_recv() {
            Some(PpsEvent::Assert(e)) => got.push(e),
            Some(other) => panic!("unexpected {other:?}"),
            None => panic!("source stopped"),
        }
    }
    h.stop();
    for e in &got {
        assert_eq!(e.local_ns.rem_euclid(NS_PER_SEC), 12_345);
    }
    assert_eq!(got[1].local_ns - got[0].local_ns, NS_PER_SEC);
    assert_eq!(got[1].sequence, got[0].sequence + 1);
}

#[test]
fn start_reports_missing_gpio_chip_and_pps_device() {
    use gnss_timeserver::pps::{start, PpsSourceKind, PpsSourceSpec, PpsStartError};
    let (tx, _rx) = tokio::sync::mpsc::channel(4);
    let gpio = PpsSourceSpec::Gpio {
        chip: "/dev/gpiochip-missing-for-test".into(),
        line: 18,
        polarity: Default::default(),
    };
    assert_eq!(gpio.kind(), PpsSourceKind::Gpio);
    assert_eq!(gpio.device(), "/dev/gpiochip-missing-for-test:18");
    let err = start(&gpio, tx.clone(), Heartbeat::default())
        .err()
        .expect("no chip");
    assert!(matches!(err, PpsStartError::Gpio(_)));
    assert!(
        err.to_string().contains("gpiochip-missing-for-test"),
        "{err}"
    );
    let kernel = PpsSourceSpec::Kernel {
        path: "/dev/pps-missing-for-test".into(),
        capture_clear: true,
    };
    assert!(matches!(
        start(&kernel, tx, Heartbeat::default())
            .err()
            .expect("no device"),
        PpsStartError::Kernel(KppsError::Missing { .. })
    ));
}
