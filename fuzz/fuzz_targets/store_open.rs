//! libFuzzer entry of `store_open` (body in `src/lib.rs`).
//! Run: `cd fuzz && cargo +nightly fuzz run store_open`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys aborts on any panic, even a caught one; the open path
    // catches redb's panics by design, so let them unwind (one that escapes
    // still fails the run: libfuzzer-sys aborts on it). Set at the first
    // input, after libfuzzer-sys installed its own hook.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    gnss_timeserver_fuzz::store_open(data)
});
