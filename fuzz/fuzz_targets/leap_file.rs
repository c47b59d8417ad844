//! libFuzzer entry of `leap_file` (body in `src/lib.rs`).
//! Run: `cd fuzz && cargo +nightly fuzz run leap_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gnss_timeserver_fuzz::leap_file(data));
