//! leap-seconds.list parsing, hash verification and expiry.

use gnss_timeserver::discipline::leap::file::{self, NTP_UNIX_OFFSET_S};
use gnss_timeserver::discipline::leap::{FileExpiry, LeapConfig, LeapFileError, LeapSchedule};
use proptest::prelude::*;
use sha1::{Digest, Sha1};

const S: i64 = 1_000_000_000;

/// (NTP seconds, TAI−UTC) of every leap second 1972–2017, as published.
const TABLE: &[(i64, i32)] = &[
    (2272060800, 10),
    (2287785600, 11),
    (2303683200, 12),
    (2335219200, 13),
    (2366755200, 14),
    (2398291200, 15),
    (2429913600, 16),
    (2461449600, 17),
    (2492985600, 18),
    (2524521600, 19),
    (2571782400, 20),
    (2603318400, 21),
    (2634854400, 22),
    (2698012800, 23),
    (2776982400, 24),
    (2840140800, 25),
    (2871676800, 26),
    (2918937600, 27),
    (2950473600, 28),
    (2982009600, 29),
    (3029443200, 30),
    (3076704000, 31),
    (3124137600, 32),
    (3345062400, 33),
    (3439756800, 34),
    (3550089600, 35),
    (3644697600, 36),
    (3692217600, 37),
];

/// Update/expiry of a published list (IERS, 2025) and its published hash.
const UPDATED: i64 = 3960835200;
const EXPIRES: i64 = 3991593600;
const PUBLISHED_HASH: &str = "49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e";

/// The file body (without `#h`), laid out with our own comments and spacing:
/// the hash ignores both.
fn body(updated: i64, expires: i64, table: &[(i64, i32)]) -> String {
    let mut s = String::from("# test leap second list\n#\n");
    s.push_str(&format!("#$ {updated}\n#\n#@\t{expires}\n"));
    for (t, o) in table {
        s.push_str(&format!("{t}    {o}\t# entry\n"));
    }
    s.push_str("#\n");
    s
}

/// The format's hash computed independently of the crate: SHA-1 over the
/// `#$` and `#@` values and data fields, whitespace and comments removed.
fn independent_hash(updated: i64, expires: i64, table: &[(i64, i32)]) -> String {
    let mut h = Sha1::new();
    h.update(updated.to_string());
    h.update(expires.to_string());
    for (t, o) in table {
        h.update(format!("{t}{o}"));
    }
    let d = h.finalize();
    d.chunks(4)
        .map(|c| format!("{:x}", u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .collect::<Vec<_>>()
        .join(" ")
}

fn with_hash(body: &str, hash: &str) -> String {
    format!("{body}#h\t{hash}\n")
}

#[test]
fn published_list_verifies_against_its_published_hash() {
    assert_eq!(
        independent_hash(UPDATED, EXPIRES, TABLE),
        PUBLISHED_HASH,
        "the test's own reading of the format reproduces the published hash"
    );
    let text = with_hash(&body(UPDATED, EXPIRES, TABLE), PUBLISHED_HASH);
    let list = file::parse(&text).expect("published list parses");
    assert_eq!(list.entries.len(), 28);
    assert_eq!(list.expires_utc_ns, (EXPIRES - NTP_UNIX_OFFSET_S) * S);
    assert_eq!(list.updated_utc_ns, (UPDATED - NTP_UNIX_OFFSET_S) * S);
    let jan2017 = gnss_timeserver::time::utc_from_fields(2017, 1, 1, 0, 0, 0, 0).unwrap();
    assert_eq!(list.tai_utc_at(jan2017), Some(37));
    assert_eq!(list.tai_utc_at(jan2017 - 1), Some(36));
    assert_eq!(list.tai_utc_at(0), None, "before 1972");
    let next = list.next_leap_after(jan2017 - 10 * S).expect("2017 leap");
    assert_eq!(next.at_utc_ns, jan2017);
    assert!(next.insert);
    assert_eq!(list.next_leap_after(jan2017), None);
}

#[test]
fn hash_covers_data_but_not_comments_or_spacing() {
    let good = with_hash(
        &body(UPDATED, EXPIRES, TABLE),
        &independent_hash(UPDATED, EXPIRES, TABLE),
    );
    assert!(file::parse(&good).is_ok());
    // Comments and whitespace may change.
    let respaced = good
        .replace("    ", " \t ")
        .replace("# entry", "# something else");
    assert!(file::parse(&respaced).is_ok());
    // A changed offset must fail (37 → 35 is still a well-formed −1 step, so
    // only the hash can catch it).
    let tampered = good.replace("3692217600    37", "3692217600    35");
    assert_ne!(tampered, good);
    assert!(matches!(
        file::parse(&tampered),
        Err(LeapFileError::HashMismatch { .. })
    ));
    // So must a changed expiry (someone extending an old file by hand).
    let extended = good.replace(
        &format!("#@\t{EXPIRES}"),
        &format!("#@\t{}", EXPIRES + 86400),
    );
    assert!(matches!(
        file::parse(&extended),
        Err(LeapFileError::HashMismatch { .. })
    ));
}

#[test]
fn wrong_or_missing_hash_is_rejected() {
    let b = body(UPDATED, EXPIRES, TABLE);
    assert!(matches!(
        file::parse(&with_hash(&b, "0 0 0 0 0")),
        Err(LeapFileError::HashMismatch { .. })
    ));
    assert!(matches!(file::parse(&b), Err(LeapFileError::MissingHash)));
    assert!(matches!(
        file::parse(&with_hash(&b, "1 2 3")),
        Err(LeapFileError::BadLine { .. })
    ));
    let no_expiry = b.replace(&format!("#@\t{EXPIRES}\n"), "");
    assert!(matches!(
        file::parse(&with_hash(&no_expiry, PUBLISHED_HASH)),
        Err(LeapFileError::MissingExpiry)
    ));
}

#[test]
fn expiry_warning_and_expired_flag() {
    let list = file::parse(&with_hash(&body(UPDATED, EXPIRES, TABLE), PUBLISHED_HASH)).unwrap();
    let exp = list.expires_utc_ns;
    let mut sched = LeapSchedule::new(LeapConfig::default());
    sched.set_file(list);
    let day = 86_400 * S;
    assert_eq!(
        sched.state(exp - 31 * day).file_expiry_warning,
        FileExpiry::Valid
    );
    assert_eq!(
        sched.state(exp - 29 * day).file_expiry_warning,
        FileExpiry::ExpiresSoon
    );
    assert_eq!(
        sched.state(exp + 1).file_expiry_warning,
        FileExpiry::Expired
    );
    // The change is reported as an event once.
    sched.evaluate(exp - 31 * day);
    sched.drain_events();
    sched.evaluate(exp + 1);
    let ev = sched.drain_events();
    assert!(ev.iter().any(|e| e.kind == "leap.file_expiry"), "{ev:?}");
    sched.evaluate(exp + 2);
    assert!(sched
        .drain_events()
        .iter()
        .all(|e| e.kind != "leap.file_expiry"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn parser_never_panics(text in "(#[$@h]?[ \\t0-9a-f]{0,40}\\n|[0-9 \\t#]{0,30}\\n){0,20}") {
        let _ = file::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_any_utf8(text in ".{0,400}") {
        let _ = file::parse(&text);
    }
}

#[test]
fn load_reads_a_file_and_reports_missing_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("leap-seconds.list");
    std::fs::write(
        &path,
        with_hash(&body(UPDATED, EXPIRES, TABLE), PUBLISHED_HASH),
    )
    .unwrap();
    let list = file::load(&path).expect("loads");
    assert_eq!(list.entries.len(), TABLE.len());
    let missing = dir.path().join("nope.list");
    assert!(matches!(
        file::load(&missing),
        Err(gnss_timeserver::discipline::leap::LeapFileLoadError::Io { .. })
    ));
    let big = dir.path().join("big.list");
    std::fs::write(&big, "#".repeat(file::MAX_FILE_BYTES + 10)).unwrap();
    assert!(matches!(
        file::load(&big),
        Err(
            gnss_timeserver::discipline::leap::LeapFileLoadError::Parse {
                source: LeapFileError::TooLarge,
                ..
            }
        )
    ));
}
