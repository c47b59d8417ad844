//! Receiver bytes that once made the framer go ~1000× slower than random
//! data (repeated RTCM3 / UBX headers declaring the longest frame), through
//! the whole `decode` path, timed against random bytes in the same run.
//! Prints MB/s per input and the ratio to random; the aim is a ratio near 1.
//! `cargo bench --bench framer_hostile` (SIZE_MB=10 by default).

use gnss_timeserver::gnss::decode::decode_stream;
use std::time::Instant;

fn random(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn repeat(pattern: &[u8], len: usize) -> Vec<u8> {
    pattern.iter().copied().cycle().take(len).collect()
}

/// Best of `rounds` decode times, seconds.
fn time_decode(data: &[u8], rounds: usize) -> f64 {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            decode_stream(std::hint::black_box(data), &mut std::io::sink())
                .expect("decode to a sink");
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mb: usize = std::env::var("SIZE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let len = mb * 1_000_000;
    let inputs = [
        ("random bytes", random(len)),
        ("RTCM3 headers D3 03 FF", repeat(&[0xD3, 0x03, 0xFF], len)),
        (
            "UBX headers, length 4096",
            repeat(&[0xB5, 0x62, 0x01, 0x07, 0x00, 0x10], len),
        ),
        (
            "mixed sync bytes",
            repeat(&[0xD3, 0x01, 0xB5, 0x62, 0x00, 0x00, 0x00, 0x10], len),
        ),
    ];
    let base = time_decode(&inputs[0].1, 3);
    println!(
        "{:<28} {:>10} {:>10} {:>8}",
        "input", "seconds", "MB/s", "ratio"
    );
    for (name, data) in &inputs {
        let s = time_decode(data, 3);
        println!(
            "{name:<28} {s:>10.3} {:>10.1} {:>8.2}",
            data.len() as f64 / s / 1e6,
            s / base
        );
    }
}
