//! Nothing stops silently: `run` with a PPS device that does not exist keeps
//! running, shows the error, retries with backoff and serves LI=3 /
//! stratum 16.

mod daemon_support;

use daemon_support::{free_udp_port, query, wait_status, KillOnDrop, BIN};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn run_with_missing_pps_device_reports_retries_and_serves_unsynchronized() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_udp_port();
    let sock = dir.path().join("control.sock");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[receiver]\ndevice = \"{d}/no-such-tty\"\n\
             [pps]\ndevice = \"{d}/no-such-pps\"\n\
             [discipline]\nclock = \"virtual\"\n\
             [leap]\nleap-seconds-file = \"{d}/no-leap-file\"\n\
             [ntp]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 1\n\
             [store]\npath = \"{d}/store.redb\"\n\
             [http]\n\
             [status]\nsocket = \"{s}\"\n",
            d = dir.path().display(),
            s = sock.display(),
        ),
    )
    .expect("config");
    let _run = KillOnDrop(
        Command::new(BIN)
            .args(["run", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn run"),
    );

    // The error is in the status, and it is retried: the backoff in the
    // message grows from one attempt to the next.
    let first = wait_status(&sock, "a PPS error", Duration::from_secs(60), |v| {
        v["pps"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("no-such-pps") && e.contains("reopening in 1000 ms"))
    });
    let pps_part = |v: &serde_json::Value| {
        v["parts"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["name"] == "pps").cloned())
            .expect("pps part")
    };
    let p = pps_part(&first);
    assert_eq!(p["state"], "restarting", "{p}");
    assert!(p["last_error"]
        .as_str()
        .is_some_and(|e| e.contains("no-such-pps")));
    let later = wait_status(&sock, "a PPS retry", Duration::from_secs(60), |v| {
        v["pps"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("reopening in 2000 ms"))
    });
    // The discipline loop runs on (it publishes, it answers), unsynchronized.
    assert_eq!(later["discipline"]["state"], "acquiring");
    assert!(later["discipline"]["time_error_bound_ns"].is_null());
    let disc = later["parts"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == "discipline").cloned())
        .expect("discipline part");
    assert_eq!(disc["state"], "running", "{disc}");
    assert_eq!(later["served"]["stratum"], 16);
    assert_eq!(later["served"]["leap_indicator"], 3);

    let ntp: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let r = query(ntp);
    assert_eq!((r.li, r.stratum), (3, 16));
}
