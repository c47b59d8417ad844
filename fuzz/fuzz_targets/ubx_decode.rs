//! libFuzzer entry of `ubx_decode` (body in `src/lib.rs`).
//! Run: `cd fuzz && cargo +nightly fuzz run ubx_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gnss_timeserver_fuzz::ubx_decode(data));
