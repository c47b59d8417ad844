//! Control socket round trip: the server from `status::control` and the
//! client behind `gnss-timeserver status`, over a real Unix socket.

use gnss_timeserver::events::{Event, EventKind};
use gnss_timeserver::status::client::{request, ClientError};
use gnss_timeserver::status::control::{bind_control_socket, serve_control, ControlContext};
use gnss_timeserver::store::StoreHandle;
use std::path::Path;
use std::sync::{Arc, Mutex};

async fn ask(path: &Path, line: &str) -> serde_json::Value {
    let path = path.to_path_buf();
    let line = line.to_string();
    tokio::task::spawn_blocking(move || request(&path, &line))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_events_and_scenario_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("control.sock");
    let store = StoreHandle::open(&dir.path().join("s.redb")).unwrap();
    for i in 0..5 {
        let reason = format!("e{i}");
        let kind = if i == 3 {
            EventKind::LockTransition {
                from: "acquiring".into(),
                to: "locked".into(),
                reason,
            }
        } else {
            EventKind::ServoRestart { reason }
        };
        store.append(Event::new(i, kind)).await.unwrap();
    }
    let (snap_tx, snap_rx) = gnss_timeserver::status::channel();
    snap_tx.send_modify(|s| s.serial.device = "first".into());
    snap_tx.compose();
    let switched = Arc::new(Mutex::new(Vec::<String>::new()));
    let sw = switched.clone();
    let ctx = ControlContext {
        snapshot: snap_rx,
        store: Some(store.clone()),
        scenario: Some(Arc::new(move |name: &str| {
            if name == "no-such" {
                return Err(format!("unknown scenario `{name}`"));
            }
            sw.lock().unwrap().push(name.to_string());
            Ok(format!("switched to {name}"))
        })),
        timing: None,
        snmp: None,
    };
    let listener = bind_control_socket(&sock).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(serve_control(listener, ctx, Default::default(), stop_rx));

    let st = ask(&sock, "status").await;
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(st["serial"]["device"], "first");
    assert_eq!(st["schema_version"], 1);
    assert!(st["generated_at_ns"].as_i64().is_some_and(|t| t > 0));
    assert!(st.get("receiver").is_some() && st.get("store").is_some());

    // A later publication is what the next request sees.
    snap_tx.send_modify(|s| s.serial.device = "second".into());
    snap_tx.compose();
    assert_eq!(ask(&sock, "status").await["serial"]["device"], "second");

    let ev = ask(&sock, "events 2").await;
    let details: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(details, vec!["e3", "e4"]);
    let ev = ask(&sock, "events 10 lock.transition").await;
    assert_eq!(ev["events"].as_array().unwrap().len(), 1);
    assert_eq!(ev["events"][0]["kind"], "lock.transition");

    // Pages: newest first, filtered, continued with the cursor.
    let p1 = ask(
        &sock,
        "events-page limit=2 kind=servo.restart severity=info",
    )
    .await;
    let reasons = |v: &serde_json::Value| -> Vec<String> {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["data"]["reason"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(reasons(&p1), vec!["e4", "e2"]);
    let before = p1["next_before_id"].as_u64().expect("a cursor");
    let p2 = ask(
        &sock,
        &format!("events-page limit=2 kind=servo.restart before={before}"),
    )
    .await;
    assert_eq!(reasons(&p2), vec!["e1", "e0"]);
    let notice = ask(&sock, "events-page severity=notice").await;
    assert_eq!(reasons(&notice), vec!["e3"], "{notice}");
    assert!(notice["next_before_id"].is_null());
    let bad = ask(&sock, "events-page severity=loud").await;
    assert!(bad["error"].as_str().unwrap().contains("severity"), "{bad}");

    let ok = ask(&sock, "scenario antenna-short").await;
    assert_eq!(ok["ok"], true);
    assert_eq!(*switched.lock().unwrap(), vec!["antenna-short".to_string()]);
    let bad = ask(&sock, "scenario no-such").await;
    assert!(bad["error"].as_str().unwrap().contains("unknown scenario"));

    let unknown = ask(&sock, "reboot now").await;
    assert!(unknown["error"]
        .as_str()
        .unwrap()
        .contains("unknown request"));
    let bad_n = ask(&sock, "events many").await;
    assert!(bad_n["error"].as_str().unwrap().contains("usage"));

    // A second daemon must not steal the socket of a live one.
    assert!(bind_control_socket(&sock).is_err());

    stop_tx.send(true).unwrap();
    server.await.unwrap().unwrap();
    assert!(!sock.exists(), "socket file removed on shutdown");
    let p = sock.clone();
    let err = tokio::task::spawn_blocking(move || request(&p, "status"))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ClientError::NoDaemon { .. }), "{err}");
}

#[tokio::test]
async fn stale_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("control.sock");
    // A socket file nobody listens on, as a kill -9'd daemon leaves it.
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());
    let listener = bind_control_socket(&sock).unwrap();
    drop(listener);
}

#[tokio::test]
async fn scenario_without_hook_is_an_error_not_a_crash() {
    let (_tx, rx) = gnss_timeserver::status::channel();
    let ctx = ControlContext {
        snapshot: rx,
        store: None,
        scenario: None,
        timing: None,
        snmp: None,
    };
    let r: serde_json::Value = serde_json::from_str(
        &gnss_timeserver::status::control::handle_request("scenario healthy", &ctx).await,
    )
    .unwrap();
    assert!(r["error"].as_str().unwrap().contains("demo"));
    let r: serde_json::Value = serde_json::from_str(
        &gnss_timeserver::status::control::handle_request("events 3", &ctx).await,
    )
    .unwrap();
    assert!(r["error"].is_string());
}

/// 300 connections that never send a line (far more than the socket's slots)
/// must not lock out an operator: each new connection sheds the longest-idle
/// one, so `status` is answered while they are all open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_answers_while_300_idle_connections_are_open() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("control.sock");
    let (_snap_tx, snap_rx) = gnss_timeserver::status::channel();
    let ctx = ControlContext {
        snapshot: snap_rx,
        store: None,
        scenario: None,
        timing: None,
        snmp: None,
    };
    let listener = bind_control_socket(&sock).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(serve_control(listener, ctx, Default::default(), stop_rx));

    let idle: Vec<std::os::unix::net::UnixStream> = (0..300)
        .map(|_| std::os::unix::net::UnixStream::connect(&sock).unwrap())
        .collect();
    // Let the server accept them all before asking.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for _ in 0..3 {
        let st = ask(&sock, "status").await;
        assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    }
    // The idle ones were closed oldest first: the first is gone (reads EOF).
    let mut first = &idle[0];
    first
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(std::io::Read::read(&mut first, &mut buf).unwrap(), 0);
    drop(idle);
    stop_tx.send(true).unwrap();
    server.await.unwrap().unwrap();
}
