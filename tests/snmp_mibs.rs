//! The MIB files are clean SMIv2 (`smilint -l 3`, Debian `smitools`) and
//! net-snmp loads them: `snmptranslate` resolves our names to the OIDs the
//! code serves.

mod demo_support;

use demo_support::*;
use std::process::Command;

fn translate(name: &str) -> String {
    let out = Command::new(require_tool("snmptranslate"))
        .env(
            "SNMP_PERSISTENT_DIR",
            std::env::temp_dir().join("gts-snmptranslate"),
        )
        .args([
            "-M",
            &mib_dirs(),
            "-m",
            "GNSS-TIMESERVER-MIB:NTPv4-MIB",
            "-On",
            name,
        ])
        .output()
        .expect("snmptranslate runs");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn mibs_are_clean_under_smilint_level_3() {
    let smilint = require_tool("smilint");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("board/mibs");
    for m in ["GNSS-TIMESERVER-MIB.txt", "NTPv4-MIB.txt"] {
        let out = Command::new(&smilint)
            .env(
                "SMIPATH",
                format!("{}:{}", dir.join("ietf").display(), dir.display()),
            )
            .args(["-l", "3"])
            .arg(dir.join(m))
            .output()
            .expect("smilint runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.trim().is_empty(),
            "{m}:\n{text}"
        );
    }
}

#[test]
fn snmptranslate_resolves_names_to_the_served_oids() {
    use gnss_timeserver::snmp::mib::{gnss_root, ntp_root};
    let g = format!(".{}", gnss_root());
    let n = format!(".{}", ntp_root());
    for (name, oid) in [
        (
            "GNSS-TIMESERVER-MIB::gtsLockState.0",
            format!("{g}.1.2.1.0"),
        ),
        (
            "GNSS-TIMESERVER-MIB::gtsTimeErrorBound.0",
            format!("{g}.1.2.4.0"),
        ),
        (
            "GNSS-TIMESERVER-MIB::gtsAntennaStatus.0",
            format!("{g}.1.4.4.0"),
        ),
        (
            "GNSS-TIMESERVER-MIB::gtsSatCn0.1.5",
            format!("{g}.1.6.1.5.1.5"),
        ),
        (
            "GNSS-TIMESERVER-MIB::gtsPartState.1",
            format!("{g}.1.9.1.3.1"),
        ),
        ("GNSS-TIMESERVER-MIB::gtsNotifText.0", format!("{g}.2.1.0")),
        ("GNSS-TIMESERVER-MIB::gtsAntennaFault", format!("{g}.0.9")),
        (
            "GNSS-TIMESERVER-MIB::gtsNotSynchronized",
            format!("{g}.0.1"),
        ),
        (
            "GNSS-TIMESERVER-MIB::gtsWatchState.1",
            format!("{g}.1.10.1.6.1"),
        ),
        (
            "GNSS-TIMESERVER-MIB::gtsWatchOffsetNs.1",
            format!("{g}.1.10.1.18.1"),
        ),
        (
            "GNSS-TIMESERVER-MIB::gtsNtpWatchFail.0",
            format!("{g}.1.8.8.0"),
        ),
        (
            "GNSS-TIMESERVER-MIB::gtsNotifWatchState.0",
            format!("{g}.2.6.0"),
        ),
        (
            "GNSS-TIMESERVER-MIB::gtsWatchStateChange",
            format!("{g}.0.20"),
        ),
        ("GNSS-TIMESERVER-MIB::gtsClientFarOff", format!("{g}.0.18")),
        (
            "GNSS-TIMESERVER-MIB::gtsTestNotification",
            format!("{g}.0.19"),
        ),
        ("NTPv4-MIB::ntpEntStatusStratum.0", format!("{n}.1.2.2.0")),
        ("NTPv4-MIB::ntpAssocOffset.1", format!("{n}.1.3.1.1.6.1")),
        ("NTPv4-MIB::ntpEntNotifModeChange", format!("{n}.0.1")),
    ] {
        assert_eq!(translate(name), oid, "{name}");
    }
}
