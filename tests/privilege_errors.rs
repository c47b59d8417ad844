//! Missing privileges fail at start with a message that says what to do:
//! `clock = "linux"` without CAP_SYS_TIME, and NTP on port 123 without
//! CAP_NET_BIND_SERVICE. The capabilities are really dropped (setpriv), and
//! the port test runs in a private network namespace (unshare) so the host's
//! port 123 and sysctls are never involved.

mod ntp_support;

use ntp_support::{is_root, require_tool, run};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gnss-timeserver");

/// `BIN args` with `caps` removed from the bounding and inheritable sets, so
/// the daemon runs without them even as root.
fn without_caps(caps: &[&str], args: &[&str]) -> Command {
    let setpriv = require_tool("setpriv");
    let drop: Vec<String> = caps.iter().map(|c| format!("-{c}")).collect();
    let drop = drop.join(",");
    let mut c = Command::new(setpriv);
    c.arg(format!("--bounding-set={drop}"))
        .arg(format!("--inh-caps={drop}"))
        .arg(BIN)
        .args(args);
    c
}

#[test]
fn linux_clock_without_cap_sys_time_refuses_to_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("gnss-timeserver.toml");
    std::fs::write(
        &cfg,
        format!(
            "[discipline]\nclock = \"linux\"\n[store]\npath = \"{}\"\n[status]\nsocket = \"{}\"\n[ntp]\nlisten = [\"127.0.0.1:0\"]\n",
            dir.path().join("store.redb").display(),
            dir.path().join("control.sock").display()
        ),
    )
    .expect("config");
    let cfg = cfg.to_string_lossy().into_owned();
    let (out, text) = run(&mut without_caps(&["sys_time"], &["run", "--config", &cfg]));
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("CAP_SYS_TIME") && text.contains("clock = \"virtual\""),
        "says what is missing and the alternatives: {text}"
    );
    assert!(
        !dir.path().join("store.redb").exists(),
        "refused before anything was opened"
    );
}

#[test]
fn port_123_without_privilege_says_what_to_do() {
    let unshare = require_tool("unshare");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data").to_string_lossy().into_owned();
    // A private network namespace (as a user: with a user namespace, where
    // we are root until setpriv drops the capability).
    let ns: &[&str] = if is_root() { &["-n"] } else { &["-rn"] };
    let inner = without_caps(
        &["net_bind_service"],
        &[
            "demo",
            "--data",
            &data,
            "--ntp",
            "0.0.0.0:123",
            "--http",
            "127.0.0.1:0",
        ],
    );
    let mut cmd = Command::new(unshare);
    cmd.args(ns).arg(inner.get_program()).args(inner.get_args());
    let (out, text) = run(&mut cmd);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("0.0.0.0:123") && text.contains("CAP_NET_BIND_SERVICE"),
        "names the address and the capability: {text}"
    );
    assert!(text.contains("1024"), "offers a high port: {text}");
}
