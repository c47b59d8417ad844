//! `check-config` through the real binary: exit codes and messages that name
//! the key and the line.

use std::path::Path;
use std::process::{Command, Output};

fn check_config(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gnss-timeserver"))
        .arg("check-config")
        .arg(path)
        .output()
        .expect("run gnss-timeserver")
}

fn check_text(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).unwrap();
    let out = check_config(&path);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn shipped_example_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("board/gnss-timeserver.toml");
    let out = check_config(&path);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK"));
}

#[test]
fn shipped_example_matches_defaults() {
    // The example documents the defaults: keep them in step.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("board/gnss-timeserver.toml");
    let cfg = gnss_timeserver::config::Config::load(&path).unwrap();
    assert_eq!(cfg, gnss_timeserver::config::Config::default());
}

#[test]
fn misspelled_key_exits_2_naming_key_and_line() {
    let (code, err) = check_text("[receiver]\ndevice = \"/dev/ttyS0\"\n\nbuad-rate = 9600\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("buad-rate"), "{err}");
    assert!(err.contains(":4:"), "line 4 expected: {err}");
}

#[test]
fn unknown_section_exits_2() {
    let (code, err) = check_text("[reciever]\nbaud = 9600\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("reciever"), "{err}");
    assert!(err.contains(":1:"), "line 1 expected: {err}");
}

#[test]
fn wrong_type_exits_2_naming_key_and_line() {
    let (code, err) = check_text("[pps]\nsource = \"kpps\"\ncable-delay-ns = \"long\"\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pps.cable-delay-ns"), "{err}");
    assert!(err.contains(":3:"), "line 3 expected: {err}");
}

#[test]
fn bad_enum_value_exits_2() {
    let (code, err) = check_text("[leap]\nmode = \"jump\"\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("leap.mode"), "{err}");
    assert!(err.contains(":2:"), "{err}");
}

#[test]
fn out_of_range_exits_2_naming_key_and_line() {
    let (code, err) = check_text("[store]\npath = \"/tmp/x.redb\"\ncommit-interval-s = 0\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("store.commit-interval-s"), "{err}");
    assert!(err.contains(":3:"), "line 3 expected: {err}");
    assert!(err.contains("out of range"), "{err}");
}

#[test]
fn missing_file_exits_2() {
    let out = check_config(Path::new("/nonexistent/gnss-timeserver.toml"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

/// Three `[[ntp.watch]]` entries; `second` and `third` replace the body of
/// the second and third. The error must name the entry's index and the line
/// inside that entry, not the first entry's.
fn three_watches(second: &str, third: &str) -> String {
    format!(
        "[ntp]\nworkers = 1\n\n\
         [[ntp.watch]]\nname = \"a\"\naddress = \"10.0.0.5\"\ninterval-s = 64\n\n\
         [[ntp.watch]]\n{second}\n\
         [[ntp.watch]]\n{third}\n"
    )
}

#[test]
fn bad_interval_in_third_watch_names_its_index_and_line() {
    let text = three_watches(
        "name = \"b\"\naddress = \"10.0.0.6\"\ninterval-s = 64",
        "name = \"c\"\naddress = \"10.0.0.7\"\ninterval-s = 0.5",
    );
    // Line 16: the third entry's `interval-s` (the first's is line 7).
    assert_eq!(text.lines().nth(15), Some("interval-s = 0.5"));
    let (code, err) = check_text(&text);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ntp.watch[2].interval-s"), "{err}");
    assert!(err.contains(":16:"), "line 16 expected: {err}");
    assert!(err.contains("out of range"), "{err}");
}

#[test]
fn bad_address_in_second_watch_names_its_index_and_line() {
    let text = three_watches(
        "name = \"b\"\naddress = \"10.0.0.300\"\ninterval-s = 64",
        "name = \"c\"\naddress = \"10.0.0.7\"\ninterval-s = 64",
    );
    // Line 11: the second entry's `address` (the first's is line 6).
    assert_eq!(text.lines().nth(10), Some("address = \"10.0.0.300\""));
    let (code, err) = check_text(&text);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ntp.watch[1].address"), "{err}");
    assert!(err.contains(":11:"), "line 11 expected: {err}");
}
