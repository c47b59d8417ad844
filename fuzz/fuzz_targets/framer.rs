//! libFuzzer entry of `framer` (body in `src/lib.rs`).
//! Run: `cd fuzz && cargo +nightly fuzz run framer`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gnss_timeserver_fuzz::framer(data));
