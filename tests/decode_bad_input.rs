//! Hostile input through the real `decode` binary: it must finish with exit 0
//! and a summary line whose counts add up, never panic or stall.

use std::io::Write;
use std::process::Command;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

fn decode(path: &std::path::Path) -> (Vec<Value>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_gnss-timeserver"))
        .arg("decode")
        .arg(path)
        .output()
        .expect("run gnss-timeserver decode");
    assert!(
        out.status.success(),
        "decode exited with {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("decode prints UTF-8");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let (last, epochs) = lines.split_last().expect("at least the summary line");
    let summary = last
        .get("summary")
        .cloned()
        .expect("last line is the summary");
    (epochs.to_vec(), summary)
}

#[test]
fn ten_megabytes_of_random_bytes() {
    const LEN: usize = 10 * 1024 * 1024;
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0001);
    let mut bytes = vec![0u8; LEN];
    rng.fill_bytes(&mut bytes);
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&bytes).expect("write");
    file.flush().expect("flush");

    let (_epochs, summary) = decode(file.path());
    let garbage = summary["garbage_bytes"].as_u64().expect("garbage_bytes");
    // Random data is almost all garbage; every byte is accounted for.
    assert!(garbage > (LEN as u64) * 99 / 100, "garbage {garbage}");
    assert!(garbage <= LEN as u64);
    let failures: u64 = ["ubx", "nmea", "rtcm3"]
        .iter()
        .map(|k| summary["checksum_failures"][k].as_u64().expect("count"))
        .sum();
    // False syncs (0xB5 0x62, '$', 0xD3) are frequent in 10 MB and are counted.
    assert!(failures > 0, "no checksum failures counted: {summary}");
    assert!(summary["decode_errors"].as_u64().is_some());
}

#[test]
fn truncated_and_corrupted_frames_between_good_ones() {
    use gnss_timeserver::gnss::nmea::sentence;
    use gnss_timeserver::gnss::ubx::frame;
    let mut s = Vec::new();
    s.extend_from_slice(b"# comment line\n{\"class\":\"DEVICES\"}\n");
    s.extend_from_slice(
        sentence("GPRMC,120000.00,A,4807.038,N,01131.000,E,0.0,0.0,230394,,,A").as_bytes(),
    );
    // A NAV-PVT that is too short for its layout: a decode error, not a crash.
    s.extend(frame(0x01, 0x07, &[1, 2, 3]));
    // A UBX frame cut in half, then a good sentence.
    let cut = frame(0x01, 0x35, &[0u8; 40]);
    s.extend_from_slice(&cut[..20]);
    s.extend_from_slice(
        sentence("GPRMC,120001.00,A,4807.038,N,01131.000,E,0.0,0.0,230394,,,A").as_bytes(),
    );
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&s).expect("write");
    let (epochs, summary) = decode(file.path());
    let times: Vec<&str> = epochs.iter().filter_map(|e| e["time"].as_str()).collect();
    assert_eq!(times, ["1994-03-23T12:00:00Z", "1994-03-23T12:00:01Z"]);
    assert_eq!(summary["decode_errors"].as_u64(), Some(1));
    assert_eq!(summary["frames"]["nmea"].as_u64(), Some(2));
    assert_eq!(summary["frames"]["ubx"].as_u64(), Some(1));
}
