//! Real net-snmp for the SNMP tests: a private `snmpd` as AgentX master
//! (socket in a temp dir, SNMP on a free loopback UDP port, v2c community
//! and a v3 authPriv SHA-256/AES user), a private `snmptrapd` printing one
//! line per notification, and `snmpwalk`.
#![allow(dead_code)]

use crate::demo_support::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const COMMUNITY: &str = "gts-test";
pub const USER: &str = "gtsuser";
pub const AUTH: &str = "gts-auth-pass";
pub const PRIV: &str = "gts-priv-pass";
pub const GTS: &str = ".1.3.6.1.4.1.32473";
pub const NTPV4: &str = ".1.3.6.1.2.1.197";

pub struct Net {
    pub dir: PathBuf,
    pub snmp_port: u16,
    pub trap_port: u16,
    pub agentx: PathBuf,
}

pub fn start_snmpd(net: &Net) -> Proc {
    let conf = net.dir.join("snmpd.conf");
    std::fs::write(
        &conf,
        format!(
            "agentAddress udp:127.0.0.1:{port}\n\
             master agentx\n\
             agentXSocket {sock}\n\
             agentXPerms 0600 0700\n\
             rocommunity {COMMUNITY} 127.0.0.1\n\
             createUser {USER} SHA-256 \"{AUTH}\" AES \"{PRIV}\"\n\
             rouser {USER} authpriv\n\
             trap2sink 127.0.0.1:{trap} {COMMUNITY}\n",
            port = net.snmp_port,
            sock = net.agentx.display(),
            trap = net.trap_port,
        ),
    )
    .unwrap();
    let _ = std::fs::remove_file(&net.agentx);
    let p = Proc(
        Command::new(require_tool("snmpd"))
            .env("SNMP_PERSISTENT_DIR", net.dir.join("snmpd-state"))
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(&conf)
            .args(["-M", &mib_dirs(), "-m", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start snmpd"),
    );
    let end = Instant::now() + Duration::from_secs(30);
    while !net.agentx.exists() {
        assert!(Instant::now() < end, "snmpd never opened its AgentX socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    p
}

/// snmptrapd printing one line per notification: `TRAP <varbinds>`.
pub fn start_trapd(net: &Net) -> (Proc, mpsc::Receiver<Trap>) {
    let conf = net.dir.join("snmptrapd.conf");
    std::fs::write(&conf, "disableAuthorization yes\n").unwrap();
    let mut p = Proc(
        Command::new(require_tool("snmptrapd"))
            .env("SNMP_PERSISTENT_DIR", net.dir.join("trapd-state"))
            .args(["-f", "-Lo", "-C", "-c"])
            .arg(&conf)
            .args(["-M", &mib_dirs(), "-m", "ALL", "-On", "-F", "TRAP %v\n"])
            .arg(format!("udp:127.0.0.1:{}", net.trap_port))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start snmptrapd"),
    );
    let out = p.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(Trap {
                at: Instant::now(),
                unix_ns: unix_ns(),
                line,
            });
        }
    });
    (p, rx)
}

/// One notification as snmptrapd printed it, and when it did.
pub struct Trap {
    pub at: Instant,
    pub unix_ns: i64,
    pub line: String,
}

pub fn unix_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Wait for a notification whose snmpTrapOID is `trap`.
pub fn wait_trap(rx: &mpsc::Receiver<Trap>, trap: &str, limit: Duration) -> Trap {
    let end = Instant::now() + limit;
    let needle = format!(".1.3.6.1.6.3.1.1.4.1.0 = OID: {trap}\t");
    let needle_end = format!(".1.3.6.1.6.3.1.1.4.1.0 = OID: {trap}");
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let t = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no notification {trap} within {limit:?}"));
        if t.line.contains(&needle) || t.line.ends_with(&needle_end) {
            return t;
        }
    }
}

/// `snmpwalk` (numeric OIDs, numeric enums, quick print): OID → value.
pub fn walk(net: &Net, v3: bool, oid: &str) -> BTreeMap<String, String> {
    walk_with(net, v3, oid, &["-t", "5"])
}

pub fn walk_with(net: &Net, v3: bool, oid: &str, timing: &[&str]) -> BTreeMap<String, String> {
    let mut cmd = Command::new(require_tool("snmpwalk"));
    cmd.env("SNMP_PERSISTENT_DIR", net.dir.join("client-state"))
        .args([
            "-M",
            &mib_dirs(),
            "-m",
            "ALL",
            "-On",
            "-Oq",
            "-Oe",
            "-Ot",
            "-OU",
        ])
        .args(timing);
    if v3 {
        cmd.args([
            "-v3", "-l", "authPriv", "-u", USER, "-a", "SHA-256", "-A", AUTH,
        ])
        .args(["-x", "AES", "-X", PRIV]);
    } else {
        cmd.args(["-v2c", "-c", COMMUNITY]);
    }
    let out = cmd
        .arg(format!("127.0.0.1:{}", net.snmp_port))
        .arg(oid)
        .output()
        .expect("snmpwalk runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(oid))
        .filter_map(|l| l.split_once(' '))
        .map(|(o, v)| (o.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

/// Walk names (not -On): every OID we serve must have a name in our MIBs.
pub fn unnamed(net: &Net, oid: &str) -> Vec<String> {
    let out = Command::new(require_tool("snmpwalk"))
        .env("SNMP_PERSISTENT_DIR", net.dir.join("client-state"))
        .args(["-M", &mib_dirs(), "-m", "ALL", "-v2c", "-c", COMMUNITY])
        .arg(format!("127.0.0.1:{}", net.snmp_port))
        .arg(oid)
        .output()
        .expect("snmpwalk runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("GNSS-TIMESERVER-MIB::") && !l.starts_with("NTPv4-MIB::"))
        .map(str::to_string)
        .collect()
}

impl Net {
    /// Ports and paths for one test, under `dir`.
    pub fn new(dir: &std::path::Path) -> Self {
        Net {
            dir: dir.to_path_buf(),
            snmp_port: free_udp_port(),
            trap_port: free_udp_port(),
            agentx: dir.join("agentx.sock"),
        }
    }
}
