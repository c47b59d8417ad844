//! The panel in a real browser: headless Chromium driven over WebDriver
//! (Debian `chromium` + `chromium-driver`) against `demo`. Fails when
//! either is missing. Screenshots go to `target/test-artifacts/`.
//!
//! The WebDriver client is a few HTTP calls over this crate's own minimal
//! client (tests/web_support): no browser-automation crate needed.

mod web_support;

use serde_json::{json, Value};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use web_support::*;

const ADMIN_PW: &str = "browser test password";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    addr: SocketAddr,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = request(
            self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
            None,
            None,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn which(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Driver {
    fn start() -> Self {
        assert!(
            which("chromedriver") && which("chromium"),
            "chromium and chromedriver are needed: install the Debian packages `chromium` and `chromium-driver` (see .ci/run)"
        );
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_for("chromedriver", Duration::from_secs(20), || {
            std::net::TcpStream::connect(addr).is_ok()
        });
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                // A phone-sized window: the panel must work at 360 px.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=360,900", "--lang=en-US"],
                "prefs": {"intl.accept_languages": "en-US"}
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let r = request(
            addr,
            "POST",
            "/session",
            None,
            None,
            Some(&caps.to_string()),
        );
        assert_eq!(r.status, 200, "new session: {}", r.text());
        let session = r.json()["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        Driver {
            child,
            addr,
            session,
        }
    }

    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body
            .map(|b| b.to_string())
            .or_else(|| (method == "POST").then(|| "{}".to_string()));
        let r = request(
            self.addr,
            method,
            &format!("/session/{}{path}", self.session),
            None,
            None,
            body.as_deref(),
        );
        if r.status != 200 {
            return Err(format!("{method} {path}: {} {}", r.status, r.text()));
        }
        Ok(r.json()["value"].take())
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    fn find_all(&self, css: &str) -> Vec<String> {
        self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
        .collect()
    }

    fn find(&self, css: &str) -> Option<String> {
        self.find_all(css).into_iter().next()
    }

    fn text(&self, css: &str) -> String {
        // The views re-render on each snapshot: a stale element reads as "".
        self.find(css)
            .and_then(|e| {
                self.try_call("GET", &format!("/element/{e}/text"), None)
                    .ok()
            })
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    fn click(&self, css: &str) {
        let e = self.find(css).unwrap_or_else(|| panic!("no element {css}"));
        self.call("POST", &format!("/element/{e}/click"), None);
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).unwrap_or_else(|| panic!("no element {css}"));
        self.call("POST", &format!("/element/{e}/clear"), None);
        self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        );
    }

    fn script(&self, js: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
    }

    fn wait(&self, what: &str, timeout: Duration, mut f: impl FnMut(&Self) -> bool) -> Duration {
        let t0 = Instant::now();
        while t0.elapsed() < timeout {
            if f(self) {
                return t0.elapsed();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.screenshot(&format!("failed-{}", what.replace(' ', "-")));
        panic!("timed out after {timeout:?} waiting for {what}");
    }

    fn screenshot(&self, name: &str) {
        let b64 = self.call("GET", "/screenshot", None);
        let png = base64_decode(b64.as_str().unwrap_or(""));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Browser console entries since the last call (chromedriver's log endpoint).
    fn console(&self) -> Vec<Value> {
        self.call("POST", "/se/log", Some(json!({"type": "browser"})))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = s.bytes().filter_map(val).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n =
            chunk.iter().fold(0u32, |acc, &d| (acc << 6) | u32::from(d)) << (6 * (4 - chunk.len()));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

fn errors(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Satellites the API lists with a position (the ones a polar plot can draw).
fn api_sats_with_position(http: SocketAddr) -> usize {
    get(http, "/api/v1/satellites").json()["satellites"]
        .as_array()
        .map_or(0, |a| {
            a.iter()
                .filter(|s| !s["az_deg"].is_null() && !s["el_deg"].is_null())
                .count()
        })
}

/// A real NTP client on 127.0.0.1: a mode-3 request each second (with the
/// system time as its transmit timestamp) every 2 s until dropped.
struct Poller {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl Poller {
    fn start(server: SocketAddr) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        const PERIOD: Duration = Duration::from_secs(2);
        let thread = std::thread::spawn(move || {
            let mut replies = 0;
            let mut next = Instant::now();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let mut req = [0u8; 48];
                req[0] = 0x23; // LI 0, version 4, mode 3 (client)
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap();
                let secs = (now.as_secs() + 2_208_988_800) as u32;
                let frac = ((u64::from(now.subsec_nanos()) << 32) / 1_000_000_000) as u32;
                req[40..44].copy_from_slice(&secs.to_be_bytes());
                req[44..48].copy_from_slice(&frac.to_be_bytes());
                sock.send_to(&req, server).unwrap();
                let mut buf = [0u8; 128];
                if sock.recv_from(&mut buf).is_ok_and(|(n, _)| n >= 48) {
                    replies += 1;
                }
                // On a fixed schedule, so a slow reply does not skew the gaps.
                next += PERIOD;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            replies
        });
        Poller {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The state column, top to bottom, as the page shows it.
fn watch_states(d: &Driver) -> Vec<String> {
    d.script("return [...document.querySelectorAll('#watch tbody tr')].map((r) => r.dataset.state)")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Issue 14 on the panel: the watch table's FAIL and EXE rows, sorting by a
/// header, a row's chart from the history route, the CSV link.
fn clients_page(d: &Driver, base: &str, http: SocketAddr) {
    d.go(&format!("{base}/#/clients"));
    d.wait("FAIL and EXE watch rows", Duration::from_secs(30), |d| {
        let row = |a: &str| {
            d.script(&format!(
                "const r = document.querySelector('#watch tr[data-address=\"{a}\"]'); return r ? r.dataset.state : null"
            ))
        };
        row("192.0.2.77") == "FAIL" && row("127.0.0.1") == "EXE"
    });
    // Text, not only colour: the state cell says FAIL and the reason in words.
    let fail_text = d.text("#watch tr[data-address='192.0.2.77']");
    assert!(fail_text.contains("FAIL"), "{fail_text}");
    assert!(fail_text.contains("never seen"), "{fail_text}");
    assert!(fail_text.contains("plc-never"), "{fail_text}");
    let exe_text = d.text("#watch tr[data-address='127.0.0.1']");
    assert!(
        exe_text.contains("EXE") && exe_text.contains("meter-poller"),
        "{exe_text}"
    );
    // Default order: worst first; clicking the header reverses it.
    assert_eq!(watch_states(d), ["FAIL", "EXE"]);
    d.click("#watch th button[data-sort='state']");
    d.wait("state sorted ascending", Duration::from_secs(5), |d| {
        watch_states(d) == ["EXE", "FAIL"]
    });
    d.click("#watch th button[data-sort='name']");
    d.wait("sorted by name", Duration::from_secs(5), |d| {
        d.script("return [...document.querySelectorAll('#watch tbody tr')].map((r) => r.dataset.address)")
            == json!(["127.0.0.1", "192.0.2.77"])
    });
    d.click("#watch th button[data-sort='name']");
    d.wait("sorted by name, descending", Duration::from_secs(5), |d| {
        watch_states(d) == ["FAIL", "EXE"]
    });
    assert_eq!(
        d.script("return document.getElementById('watch-csv').getAttribute('href')"),
        "/api/v1/ntp/clients.csv"
    );
    // The history route over HTTP: points for the polling client, per-field
    // refusals for bad input, 404 for a client the table does not have.
    let mut h = Value::Null;
    d.wait("two history points", Duration::from_secs(10), |_| {
        h = get(http, "/api/v1/ntp/clients/history?address=127.0.0.1").json();
        h["clients"][0]["points"]
            .as_array()
            .is_some_and(|p| p.len() >= 2)
    });
    let pts = h["clients"][0]["points"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(pts.len() >= 2, "{h}");
    assert!(
        pts.iter()
            .any(|p| p["poll_gap_s"].as_f64().is_some_and(|g| g > 1.0 && g < 3.0)),
        "{h}"
    );
    let by_name = get(http, "/api/v1/ntp/clients/history?name=plc-never").json();
    assert_eq!(by_name["clients"][0]["address"], "192.0.2.77", "{by_name}");
    assert_eq!(by_name["clients"][0]["points"], json!([]), "{by_name}");
    let bad = get(http, "/api/v1/ntp/clients/history?address=300.1.1.1");
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["fields"]["address"].is_string(),
        "{}",
        bad.text()
    );
    let both = get(http, "/api/v1/ntp/clients/history?address=127.0.0.1&name=x");
    assert!(both.json()["fields"]["name"].is_string(), "{}", both.text());
    assert_eq!(
        get(http, "/api/v1/ntp/clients/history?address=10.9.9.9").status,
        404
    );
    assert_eq!(get(http, "/api/v1/ntp/clients/history?bogus=1").status, 400);
    // A row's chart: points from /api/v1/ntp/clients/history.
    d.click("#watch tr[data-address='127.0.0.1']");
    d.wait("poll-gap chart with points", Duration::from_secs(15), |d| {
        d.script("const s = document.getElementById('watch-poll'); return s ? Number(s.dataset.points) : 0")
            .as_u64()
            .is_some_and(|n| n >= 2)
    });
    let drawn = d.script(
        "return document.querySelectorAll('#watch-poll path.line, #watch-offset path.line').length",
    );
    assert!(drawn.as_u64().is_some_and(|n| n >= 1), "{drawn}");
    // No page wider than the phone: the table scrolls inside its card.
    assert_eq!(
        d.script("return document.documentElement.scrollWidth <= window.innerWidth"),
        true
    );
    d.script("window.scrollTo(0, 0)");
    d.screenshot("ntp-clients");
    // Dark theme: the same badges must stay readable (looked at by eye).
    d.click("#theme");
    d.wait("dark theme", Duration::from_secs(5), |d| {
        d.script("return document.documentElement.dataset.theme") == "dark"
    });
    d.screenshot("ntp-clients-dark");
    d.click("#theme");
    let log = d.console();
    assert!(
        errors(&log).is_empty(),
        "console errors: {:?}",
        errors(&log)
    );
}

#[test]
fn panel_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    set_password(dir.path(), "admin", "admin", ADMIN_PW);
    // Issue 14's head-end watch: one client that never comes (FAIL 3 s
    // after start), one this test polls every 2 s (EXE).
    std::fs::write(
        dir.path().join("config.toml"),
        "[[ntp.watch]]\nname = \"plc-never\"\naddress = \"192.0.2.77\"\ninterval-s = 2\n\
         [[ntp.watch]]\nname = \"meter-poller\"\naddress = \"127.0.0.1\"\ninterval-s = 2\n\
         tolerance-ms = 86400000\n",
    )
    .unwrap();
    let demo = start_demo(dir.path());
    let _poller = Poller::start(*demo.ntp.first().expect("demo NTP address in the banner"));
    let base = format!("http://{}", demo.http);
    let d = Driver::start();

    // Dashboard: the banner shows the lock state the API reports.
    d.go(&format!("{base}/#/"));
    d.wait("lock banner", Duration::from_secs(20), |d| {
        let shown = d
            .find("#lock-banner")
            .map(|_| d.script("return document.getElementById('lock-banner').dataset.state"))
            .unwrap_or(Value::Null);
        let api = get(demo.http, "/api/v1/status").json()["discipline"]["state"].clone();
        shown.is_string() && shown == api && !d.text("#lock-state").is_empty()
    });
    let mut state = String::new();
    d.wait("lock state text", Duration::from_secs(5), |d| {
        state = d.text("#lock-state");
        !state.is_empty()
    });
    assert!(
        ["ACQUIRING", "LOCKED", "HOLDOVER", "UNSYNCHRONIZED"].contains(&state.as_str()),
        "{state}"
    );
    d.wait("UTC clock", Duration::from_secs(5), |d| {
        d.text("#utc-time").len() >= 8
    });
    // Nothing wider than the 360 px phone screen.
    let overflow = d.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    assert!(
        overflow.as_i64().unwrap_or(99) <= 0,
        "horizontal overflow {overflow}"
    );
    // The frequency chart starts from the stored history: points older
    // than this page (the demo has been recording since it started).
    let loaded_ms = d.script("return performance.timeOrigin").as_f64().unwrap();
    d.wait("history in the chart", Duration::from_secs(20), |d| {
        d.script("const c = document.querySelector('#freq-card svg.chart'); return c ? Number(c.dataset.firstMs) : null")
            .as_f64()
            .is_some_and(|first| first < loaded_ms)
    });
    // Views redraw on every snapshot: click inside one script call.
    d.script("document.querySelector(\"#chart-span [data-span='24h']\").click()");
    d.wait("24 h span", Duration::from_secs(10), |d| {
        d.find("#chart-span button.on[data-span='24h']").is_some()
    });
    d.screenshot("dashboard");
    // For the report (not a pass/fail number): first contentful paint.
    let fcp = d.script("const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null");
    eprintln!("first contentful paint: {fcp} ms");

    // Sky: as many satellites drawn as the API lists with a position.
    d.go(&format!("{base}/#/sky"));
    d.wait("sky plot", Duration::from_secs(20), |d| {
        let api = api_sats_with_position(demo.http);
        d.find_all("#sky-plot circle.sat").len() == api
            && (api > 0 || d.find("#cn0-bars").is_some())
    });
    d.screenshot("sky");

    // Antenna: OK, then SHORT within 5 s of switching the fake receiver.
    d.script("document.querySelector(\"#track-span [data-span='1h']\").click()");
    d.wait("track span", Duration::from_secs(10), |d| {
        d.find("#track-span button.on[data-span='1h']").is_some()
    });

    d.go(&format!("{base}/#/antenna"));
    d.wait("antenna OK", Duration::from_secs(20), |d| {
        d.text("#antenna-status") == "OK"
    });
    // The 24 h obstruction map draws every cell the store has. The page
    // fetches the map once a minute, and the store may gain its first cells
    // after the page loaded: reload every 3 s until the two agree.
    let mut polls = 0u32;
    d.wait("obstruction map", Duration::from_secs(30), |d| {
        let api = get(demo.http, "/api/v1/sky/obstruction").json()["cells"]
            .as_array()
            .map_or(0, Vec::len);
        let drawn = d.find_all("#obstruction path.cell").len();
        let agree = api > 0 && drawn > 0 && drawn.abs_diff(api) <= 2;
        polls += 1;
        if !agree && polls % 30 == 0 {
            d.script("location.reload()");
        }
        agree
    });
    d.wait("antenna OK after reload", Duration::from_secs(20), |d| {
        d.text("#antenna-status") == "OK"
    });
    assert!(d.text("#survey-state").len() > 1, "survey state shown");
    d.screenshot("antenna");
    assert_eq!(
        d.script("return document.getElementById('conclusion').dataset.key"),
        "ant.k.ok"
    );
    let r =
        gnss_timeserver::status::client::request(&demo.socket, "scenario antenna-short").unwrap();
    assert_eq!(r["ok"], true, "{r}");
    let took = d.wait("antenna SHORT", Duration::from_secs(5), |d| {
        d.text("#antenna-status") == "SHORT"
    });
    assert_eq!(
        d.script("return document.getElementById('conclusion').dataset.key"),
        "ant.k.short"
    );
    eprintln!("antenna SHORT shown {took:?} after the switch");
    d.screenshot("antenna-short");
    let log = d.console();
    assert!(
        errors(&log).is_empty(),
        "console errors: {:?}",
        errors(&log)
    );

    clients_page(&d, &base, demo.http);

    // Login: a wrong password is refused, the right one lets the admin save a setting.
    d.go(&format!("{base}/#/settings"));
    d.wait("settings locked", Duration::from_secs(10), |d| {
        d.find("#settings-locked").is_some()
    });
    d.click("#who");
    d.type_into("#login-form input[name=user]", "admin");
    d.type_into("#login-form input[name=password]", "not the password");
    d.click("#login-submit");
    d.wait("login refused", Duration::from_secs(10), |d| {
        !d.text("#login-error").is_empty()
    });
    assert!(
        d.script("return document.getElementById('login-dialog').open")
            .as_bool()
            == Some(true)
    );
    // The refused login's 401 is the one console error this page may log.
    let log = d.console();
    let unexpected: Vec<_> = errors(&log)
        .into_iter()
        .filter(|m| !(m.contains("/api/v1/login") && m.contains("401")))
        .collect();
    assert!(unexpected.is_empty(), "console errors: {unexpected:?}");
    d.type_into("#login-form input[name=password]", ADMIN_PW);
    d.click("#login-submit");
    d.wait("settings form", Duration::from_secs(15), |d| {
        d.find("#settings-form").is_some()
    });
    d.type_into(
        "[data-key='http.time-zone']",
        "America/Argentina/Buenos_Aires",
    );
    d.click("#settings-save");
    d.wait("saved", Duration::from_secs(10), |d| {
        d.text("#settings-status").contains("Saved")
    });
    assert_eq!(
        get(demo.http, "/api/v1/config").json()["http"]["time-zone"],
        "America/Argentina/Buenos_Aires"
    );
    // A refused value shows its own message next to the field.
    d.type_into("[data-key='discipline.min-satellites']", "999");
    d.click("#settings-save");
    d.wait("field error", Duration::from_secs(10), |d| {
        d.find("[data-error-for='discipline.min-satellites']")
            .is_some()
    });
    d.screenshot("settings");
    // The deliberately refused value's 422 is the one expected error here.
    let log = d.console();
    let unexpected: Vec<_> = errors(&log)
        .into_iter()
        .filter(|m| !(m.contains("/api/v1/config") && m.contains("422")))
        .collect();
    assert!(unexpected.is_empty(), "console errors: {unexpected:?}");

    // Spanish: the switch changes the labels.
    d.go(&format!("{base}/#/"));
    d.wait("dashboard again", Duration::from_secs(10), |d| {
        d.find("#lock-state").is_some()
    });
    assert_eq!(d.text("#nav a[href='#/sky']"), "Sky");
    d.click("#lang");
    d.wait("Spanish labels", Duration::from_secs(5), |d| {
        d.text("#nav a[href='#/sky']") == "Cielo" && d.text("#nav a[href='#/antenna']") == "Antena"
    });
    d.wait("Spanish dashboard", Duration::from_secs(5), |d| {
        ["ADQUIRIENDO", "ENGANCHADO", "RETENCIÓN", "SIN SINCRONIZAR"]
            .contains(&d.text("#lock-state").as_str())
    });
    d.screenshot("dashboard-es");
    let log = d.console();
    assert!(
        errors(&log).is_empty(),
        "console errors: {:?}",
        errors(&log)
    );
}
