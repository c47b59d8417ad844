//! NMEA decoder entry point on any text (the framer only passes validated
//! sentences, but the decoder must not rely on it). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = gnss_timeserver::gnss::nmea::decode(s);
    }
});
