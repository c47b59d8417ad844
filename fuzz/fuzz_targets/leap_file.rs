//! Fuzz the leap-seconds.list parser: arbitrary bytes must never panic, and
//! an accepted list must be internally consistent.
#![no_main]

use gnss_timeserver::discipline::leap::file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(list) = file::parse(text) {
        assert!(!list.entries.is_empty());
        for w in list.entries.windows(2) {
            assert!(w[0].start_utc_ns < w[1].start_utc_ns);
            assert_eq!((w[1].tai_utc - w[0].tai_utc).abs(), 1);
        }
        let first = list.entries[0];
        assert_eq!(list.tai_utc_at(first.start_utc_ns), Some(first.tai_utc));
        let _ = list.next_leap_after(first.start_utc_ns);
    }
});
