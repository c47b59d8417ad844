//! Framer → decoders → receiver model on arbitrary bytes. Must never panic.
#![no_main]

use gnss_timeserver::gnss::framer::Framer;
use gnss_timeserver::gnss::Receiver;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut framer = Framer::new();
    let mut rx = Receiver::new();
    framer.push(data);
    framer.finish();
    while let Some(frame) = framer.next_frame() {
        let _ = rx.handle_frame(&frame);
    }
    let _ = rx.flush();
    let _ = rx.status();
});
