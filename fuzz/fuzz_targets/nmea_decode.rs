//! libFuzzer entry of `nmea_decode` (body in `src/lib.rs`).
//! Run: `cd fuzz && cargo +nightly fuzz run nmea_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gnss_timeserver_fuzz::nmea_decode(data));
