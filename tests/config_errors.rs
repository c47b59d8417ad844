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
