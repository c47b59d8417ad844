//! libFuzzer entry of `mode6_request` (body in `src/lib.rs`).
//! Run: `cd fuzz && cargo +nightly fuzz run mode6_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gnss_timeserver_fuzz::mode6_request(data));
