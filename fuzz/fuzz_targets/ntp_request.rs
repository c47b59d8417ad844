//! libFuzzer entry of `ntp_request` (body in `src/lib.rs`).
//! Run: `cd fuzz && cargo +nightly fuzz run ntp_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gnss_timeserver_fuzz::ntp_request(data));
