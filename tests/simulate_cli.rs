//! `gnss-timeserver simulate` end to end: files, JSON keys, determinism.

use std::process::Command;

fn run(seed: u64, out: &std::path::Path) -> serde_json::Value {
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/profile-d.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_gnss-timeserver"))
        .args(["simulate", "--scenario"])
        .arg(&scenario)
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(out)
        .output()
        .expect("binary runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "exactly one JSON line: {stdout}");
    serde_json::from_str(&stdout).expect("JSON summary")
}

#[test]
fn simulate_writes_csv_and_summary_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let a = run(7, &dir.path().join("a"));
    let b = run(7, &dir.path().join("b"));
    let c = run(8, &dir.path().join("c"));
    assert_eq!(a, b, "same seed, same summary");
    assert_ne!(a, c, "another seed, another run");
    let csv_a = std::fs::read(dir.path().join("a/te.csv")).unwrap();
    let csv_b = std::fs::read(dir.path().join("b/te.csv")).unwrap();
    assert_eq!(csv_a, csv_b, "te.csv bit-for-bit identical");
    let text = String::from_utf8(csv_a).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,te_ns,state,bound_ns"));
    assert_eq!(lines.count(), 10_821);
    for key in [
        "time_to_lock_s",
        "te_rms_ns",
        "te_max_ns",
        "mtie_ns",
        "tdev_ns",
        "prtc_a_pass",
        "prtc_b_pass",
        "holdover_te_ns",
        "transitions",
        "bound_coverage",
    ] {
        assert!(a.get(key).is_some(), "missing {key}");
    }
    for k in ["1", "10", "100", "1000"] {
        assert!(a["mtie_ns"][k].is_number(), "mtie {k}");
        assert!(a["tdev_ns"][k].is_number(), "tdev {k}");
    }
    assert!(a["holdover_te_ns"]["600"].is_number());
    assert!(a["holdover_te_ns"]["3600"].is_number());
    assert!(a["holdover_te_ns"].get("14400").is_none(), "not reached");
    let tr = a["transitions"].as_array().unwrap();
    assert_eq!(tr[0]["to"], "locked");
    assert_eq!(tr[1]["to"], "holdover");
    assert_eq!(tr[1]["reason"], "pps_missing");
}

#[test]
fn simulate_rejects_unknown_scenario_keys_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(
        &p,
        "duration-s = 10\n[oscillator]\noffset-ppm = 1.0\nwander-sigma = 0.0\nwobble = 3\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gnss-timeserver"))
        .args(["simulate", "--scenario"])
        .arg(&p)
        .arg("--out")
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("wobble"), "{err}");
}
