//! The HTTP API of a running `demo`: every path of the OpenAPI document
//! answers as documented; hostile input gets a 4xx with a message, never a
//! 5xx; changes need an admin session and its CSRF token; first-visit setup
//! needs the one-time code; logins are logged as events.

mod web_support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use web_support::*;

const ADMIN_PW: &str = "correct horse battery staple";
const VIEWER_PW: &str = "viewer password 1";

fn start() -> (tempfile::TempDir, Demo) {
    let dir = tempfile::tempdir().unwrap();
    // Generous request rate for a test that fires requests back to back.
    std::fs::write(
        dir.path().join("config.toml"),
        "[http]\nrate-limit-per-s = 5000\n",
    )
    .unwrap();
    let demo = start_demo(dir.path());
    (dir, demo)
}

/// Status must be one the document lists for this operation.
fn documented(op: &Value, status: u16) -> bool {
    op["responses"].get(status.to_string()).is_some()
}

/// The head of a streaming reply and its first bytes of body.
fn stream_head(addr: SocketAddr, path: &str) -> (Reply, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Until the first complete SSE message (a blank line after data).
    while !String::from_utf8_lossy(&buf).contains("\n\n") || buf.len() < 200 {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let head_end = text.find("\r\n\r\n").expect("head");
    (
        parse(&buf[..head_end + 4]),
        text[head_end + 4..].to_string(),
    )
}

#[test]
fn api_contract_bad_input_and_auth() {
    let (dir, demo) = start();
    let a = demo.http;

    // --- first visit: the setup code is in a root-only file and the log.
    let code_file = dir.path().join("web/setup-code");
    let code = std::fs::read_to_string(&code_file).expect("setup code file");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&code_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let s = get(a, "/api/v1/session").json();
    assert_eq!(s["setup_required"], true);
    let wrong = request(
        a,
        "POST",
        "/api/v1/setup",
        None,
        None,
        Some(&json!({"code": "0000", "password": ADMIN_PW}).to_string()),
    );
    assert_eq!(wrong.status, 401, "{}", wrong.text());
    let ok = request(
        a,
        "POST",
        "/api/v1/setup",
        None,
        None,
        Some(&json!({"code": code.trim(), "password": ADMIN_PW}).to_string()),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(!code_file.exists(), "the code is single use");
    let again = request(
        a,
        "POST",
        "/api/v1/setup",
        None,
        None,
        Some(&json!({"code": code.trim(), "password": ADMIN_PW}).to_string()),
    );
    assert_eq!(again.status, 409);
    let cookie = ok.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    set_password(dir.path(), "viewer", "viewer", VIEWER_PW);

    // --- the contract: every documented path and method answers as documented.
    let doc = get(a, "/api/v1/openapi.json").json();
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let (admin_cookie, admin_csrf) = login(a, "admin", ADMIN_PW);
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 16, "{}", paths.len());
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let m = method.to_uppercase();
            if path == "/api/v1/stream" {
                let (head, body) = stream_head(a, path);
                assert_eq!(head.status, 200);
                assert_eq!(head.header("content-type"), Some("text/event-stream"));
                assert!(body.contains("event:snapshot"), "{body}");
                continue;
            }
            // Anonymous first: reads succeed (public-read), changes are refused.
            let r = if m == "GET" {
                get(a, path)
            } else {
                request(a, &m, path, None, None, Some("{}"))
            };
            assert!(
                documented(op, r.status),
                "{m} {path} anonymous: {} not documented ({})",
                r.status,
                r.text()
            );
            assert!(r.status < 500, "{m} {path}: {}", r.status);
            if m == "GET" {
                assert_eq!(r.status, 200, "{m} {path}: {}", r.text());
                let ct = r.header("content-type").unwrap_or("");
                let content = op["responses"]["200"]["content"].as_object().unwrap();
                let mime = content.keys().next().unwrap();
                assert!(ct.starts_with(mime.as_str()), "{path}: {ct} vs {mime}");
                if mime == "application/json" {
                    let v = r.json();
                    for key in op["responses"]["200"]["content"][mime]["schema"]["required"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        let key = key.as_str().unwrap();
                        assert!(v.get(key).is_some(), "{path}: `{key}` missing in {v}");
                    }
                }
            } else if !["/api/v1/login", "/api/v1/setup"].contains(&path.as_str()) {
                assert_eq!(r.status, 401, "{m} {path} without a session: {}", r.text());
                // An admin with the token: a documented answer, never a 5xx
                // (except 503 where the part is documented as unavailable).
                let body = if path == "/api/v1/logout" {
                    None
                } else {
                    Some("{}")
                };
                if path == "/api/v1/logout" {
                    continue; // would end the admin session used below
                }
                let r = request(a, &m, path, Some(&admin_cookie), Some(&admin_csrf), body);
                assert!(
                    documented(op, r.status),
                    "{m} {path} as admin: {} ({})",
                    r.status,
                    r.text()
                );
                assert!(r.status != 500, "{m} {path}: {}", r.text());
                if let Some(e) = r.json()["error"].as_str() {
                    assert!(!e.is_empty(), "{m} {path}: empty error message");
                }
            }
        }
    }

    // --- security headers on every answer, errors included.
    let r = get(a, "/no/such/thing");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));

    // --- hostile input: 4xx with a message, never 5xx.
    let bad: Vec<(Reply, u16)> = vec![
        (request(a, "POST", "/api/v1/login", None, None, Some("{\"user\": ")), 400),
        (request(a, "POST", "/api/v1/login", None, None, Some("[1,2,3]")), 400),
        (request(a, "PUT", "/api/v1/config", Some(&admin_cookie), Some(&admin_csrf), Some("{not json")), 400),
        (request(a, "PUT", "/api/v1/config", Some(&admin_cookie), Some(&admin_csrf),
            Some(&format!("{{\"x\": \"{}\"}}", "a".repeat(100_000)))), 413),
        (get(a, "/api/v1/events?severity=loud"), 400),
        (get(a, "/api/v1/events?limit=abc"), 400),
        (get(a, "/api/v1/events?limit=0"), 400),
        (get(a, "/api/v1/events?kind=%00%ff"), 400),
        (get(a, "/api/v1/events?nonsense=1"), 400),
        (get(a, "/api/v1/satellites?gnss=Mars"), 400),
        (get(a, "/api/v1/history?series=mars"), 400),
        (get(a, "/api/v1/history?from=yesterday"), 400),
        (get(a, "/api/v1/history?from=now&to=-1h"), 400),
        (get(a, "/api/v1/history?from=-400d"), 400),
        (get(a, "/api/v1/history?step=5x"), 400),
        (get(a, "/api/v1/history?step=0"), 400),
        (get(a, "/api/v1/history?series=agc&bogus=1"), 400),
        (get(a, "/api/v1/sky/obstruction?from=-2d"), 400),
        (get(a, "/api/v1/sky/obstruction?step=1m"), 400),
        (get(a, "/api/v1/sky/tracks?step=10s"), 400),
        (get(a, "/api/v1/sky/tracks?to=%00"), 400),
        (raw(a, b"GET /assets/../Cargo.toml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404),
        (raw(a, b"GET /assets/..%2f..%2fCargo.toml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404),
        (raw(a, b"GET /assets/%2e%2e%2fsrc%2fmain.rs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404),
        (raw(a, b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404),
        (request(a, "DELETE", "/api/v1/status", None, None, None), 405),
    ];
    for (i, (r, want)) in bad.iter().enumerate() {
        assert_eq!(r.status, *want, "case {i}: {}", r.text());
        let msg = r.json()["error"].as_str().unwrap_or("").to_string();
        assert!(!msg.is_empty(), "case {i}: no message");
        assert!(!r.text().contains("root:"), "case {i} leaked a file");
    }
    // Per-field refusals name the field.
    let r = get(a, "/api/v1/history?series=mars&step=5x");
    let fields = &r.json()["fields"];
    assert!(
        fields["series"].is_string() && fields["step"].is_string(),
        "{fields}"
    );

    // --- history, obstruction map and tracks hold what the demo recorded.
    wait_for("history points", Duration::from_secs(20), || {
        let h = get(a, "/api/v1/history?series=sats_visible&from=-10m").json();
        h["series"]["sats_visible"].as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["mean"].as_f64().is_some_and(|m| m > 0.0))
        })
    });
    let h = get(
        a,
        "/api/v1/history?series=sats_visible,agc&from=-10m&step=1m",
    )
    .json();
    assert_eq!(h["step_ns"], 60_000_000_000i64, "{h}");
    assert_eq!(h["series"]["agc"].as_array().map(Vec::len), Some(10), "{h}");
    assert!(
        h["series"].get("te_bound_ns").is_none(),
        "only what was asked"
    );
    let sky = get(a, "/api/v1/satellites").json();
    let sats = sky["satellites"].as_array().map_or(0, Vec::len);
    wait_for("obstruction cells", Duration::from_secs(20), || {
        get(a, "/api/v1/sky/obstruction").json()["cells"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    });
    let o = get(a, "/api/v1/sky/obstruction").json();
    for c in o["cells"].as_array().unwrap() {
        let (az, el) = (c["az_deg"].as_f64().unwrap(), c["el_deg"].as_f64().unwrap());
        assert!(
            (0.0..360.0).contains(&az) && (-90.0..=90.0).contains(&el),
            "{c}"
        );
        assert!(c["samples"].as_u64().unwrap() > 0 && c["cn0_mean_dbhz"].as_f64().unwrap() > 0.0);
    }
    assert!(sats > 0, "{sky}");

    // --- survey-in restart: the fake receiver starts a new survey.
    let survey = |a| get(a, "/api/v1/antenna").json()["survey"].clone();
    let mut before = 0;
    wait_for("survey progress", Duration::from_secs(30), || {
        before = survey(a)["progress"]["duration_s"].as_u64().unwrap_or(0);
        before >= 4
    });
    let r = request(
        a,
        "POST",
        "/api/v1/actions/restart-survey",
        Some(&admin_cookie),
        Some(&admin_csrf),
        Some("{}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    wait_for("survey restarted", Duration::from_secs(10), || {
        let s = survey(a);
        s["state"] == "in_progress"
            && s["progress"]["duration_s"]
                .as_u64()
                .is_some_and(|d| d < before)
    });
    wait_for("survey restart event", Duration::from_secs(10), || {
        let e = get(a, "/api/v1/events?kind=gnss.survey_restarted").json();
        e["events"][0]["data"]["by"] == "admin"
    });
    let no_fix = &get(a, "/api/v1/antenna").json()["longest_without_fix"];
    assert!(
        no_fix["window_from_ns"].is_i64() && no_fix["complete"].is_boolean(),
        "{no_fix}"
    );

    // A form post (what a cross-site page could send) is refused.
    let form = raw(a, b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 24\r\n\r\nuser=admin&password=xxxx");
    assert!((400..500).contains(&form.status), "{}", form.text());

    // --- changes need an admin and the CSRF token.
    let patch = json!({"http": {"time-zone": "Europe/Madrid"}}).to_string();
    let no_csrf = request(
        a,
        "PUT",
        "/api/v1/config",
        Some(&admin_cookie),
        None,
        Some(&patch),
    );
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.text());
    assert!(no_csrf.text().contains("CSRF"));
    let wrong_csrf = request(
        a,
        "PUT",
        "/api/v1/config",
        Some(&admin_cookie),
        Some("00"),
        Some(&patch),
    );
    assert_eq!(wrong_csrf.status, 403);
    let (viewer_cookie, viewer_csrf) = login(a, "viewer", VIEWER_PW);
    let as_viewer = request(
        a,
        "PUT",
        "/api/v1/config",
        Some(&viewer_cookie),
        Some(&viewer_csrf),
        Some(&patch),
    );
    assert_eq!(as_viewer.status, 403, "{}", as_viewer.text());
    let r = request(
        a,
        "POST",
        "/api/v1/actions/accept-time-jump",
        Some(&viewer_cookie),
        Some(&viewer_csrf),
        None,
    );
    assert_eq!(r.status, 403);

    // --- config write: one error per refused field, nothing saved; then a good one.
    let bad_patch = json!({"http": {"time-zone": "../etc"}, "discipline": {"min-satellites": 999}});
    let r = request(
        a,
        "PUT",
        "/api/v1/config",
        Some(&admin_cookie),
        Some(&admin_csrf),
        Some(&bad_patch.to_string()),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    let fields = &r.json()["fields"];
    assert!(
        fields["http.time-zone"].is_string() && fields["discipline.min-satellites"].is_string(),
        "{fields}"
    );
    assert_eq!(get(a, "/api/v1/config").json()["http"]["time-zone"], "UTC");
    let r = request(
        a,
        "PUT",
        "/api/v1/config",
        Some(&admin_cookie),
        Some(&admin_csrf),
        Some(&patch),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        get(a, "/api/v1/config").json()["http"]["time-zone"],
        "Europe/Madrid"
    );
    assert_eq!(get(a, "/api/v1/site").json()["time_zone"], "Europe/Madrid");
    let saved = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    gnss_timeserver::config::Config::parse(&saved, "saved").expect("saved file is valid");
    assert!(saved.contains("Europe/Madrid"));

    // --- logins are events; wrong ones too.
    let r = request(
        a,
        "POST",
        "/api/v1/login",
        None,
        None,
        Some(&json!({"user": "admin", "password": "wrong password"}).to_string()),
    );
    assert_eq!(r.status, 401);
    wait_for("auth events", Duration::from_secs(10), || {
        let ok = get(a, "/api/v1/events?kind=auth.login").json();
        let failed = get(a, "/api/v1/events?kind=auth.login_failed").json();
        ok["events"].as_array().is_some_and(|e| e.len() >= 2)
            && failed["events"].as_array().is_some_and(|e| e.len() >= 2)
    });
    let changed = get(a, "/api/v1/events?kind=config.changed").json();
    assert_eq!(
        changed["events"][0]["data"]["keys"],
        json!(["http.time-zone"]),
        "{changed}"
    );

    // --- logout ends the session.
    let r = request(
        a,
        "POST",
        "/api/v1/logout",
        Some(&viewer_cookie),
        Some(&viewer_csrf),
        Some("{}"),
    );
    assert_eq!(r.status, 200);
    let s = request(
        a,
        "GET",
        "/api/v1/session",
        Some(&viewer_cookie),
        None,
        None,
    )
    .json();
    assert_eq!(s["authenticated"], false);

    // --- the CLI's status over HTTP: the same snapshot as the API.
    let out = std::process::Command::new(BIN)
        .args(["status", "--http", &a.to_string(), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON snapshot");
    assert!(v["discipline"]["state"].is_string(), "{v}");
    let out = std::process::Command::new(BIN)
        .args(["status", "--http", &a.to_string(), "--summary"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());

    // --- repeated wrong passwords are throttled (last: it blocks this address).
    let mut throttled = None;
    for _ in 0..8 {
        let r = request(
            a,
            "POST",
            "/api/v1/login",
            None,
            None,
            Some(&json!({"user": "mallory", "password": "guess guess"}).to_string()),
        );
        if r.status == 429 {
            throttled = Some(r);
            break;
        }
        assert_eq!(r.status, 401);
    }
    let r = throttled.expect("login attempts were never throttled");
    assert!(r.header("retry-after").is_some());
}
