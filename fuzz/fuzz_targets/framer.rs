//! Framer: arbitrary bytes, split at a point taken from the input, must give
//! the same frames and stats as one push, and never panic.
#![no_main]

use gnss_timeserver::gnss::framer::{Frame, Framer};
use libfuzzer_sys::fuzz_target;

fn run(parts: &[&[u8]]) -> (Vec<Vec<u8>>, String) {
    let mut f = Framer::new();
    let mut out = Vec::new();
    let mut take = |f: &mut Framer| {
        while let Some(fr) = f.next_frame() {
            out.push(match fr {
                Frame::Ubx(u) => u.payload.to_vec(),
                Frame::Nmea(s) => s.as_bytes().to_vec(),
                Frame::Rtcm3(b) => b.to_vec(),
            });
        }
    };
    for p in parts {
        f.push(p);
        take(&mut f);
    }
    f.finish();
    take(&mut f);
    (out, format!("{:?}", f.stats()))
}

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    let (a, b) = data.split_at(cut);
    assert_eq!(run(&[data]), run(&[a, b]));
});
