//! libFuzzer entry of `receiver` (body in `src/lib.rs`).
//! Run: `cd fuzz && cargo +nightly fuzz run receiver`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gnss_timeserver_fuzz::receiver(data));
