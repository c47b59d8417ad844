//! libFuzzer entry of `agentx_decode` (body in `src/lib.rs`).
//! Run: `cd fuzz && cargo +nightly fuzz run agentx_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gnss_timeserver_fuzz::agentx_decode(data));
