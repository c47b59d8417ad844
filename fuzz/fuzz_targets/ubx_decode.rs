//! UBX decoder entry point: class, id, then payload. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let [class, id, payload @ ..] = data {
        let _ = gnss_timeserver::gnss::ubx::decode(*class, *id, payload);
    }
});
