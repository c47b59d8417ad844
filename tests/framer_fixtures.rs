//! The framer on real captures: every chunking gives the one-shot result, and
//! no real frame fails its checksum.

use std::path::PathBuf;

use gnss_timeserver::gnss::framer::{Frame, Framer, FramerStats};

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("GNSS_FIXTURES_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/gnss"),
    }
}

fn frames(bytes: &[u8], chunk: usize) -> (Vec<(u8, Vec<u8>)>, FramerStats) {
    let mut f = Framer::new();
    let mut out = Vec::new();
    let mut take = |f: &mut Framer| {
        while let Some(fr) = f.next_frame() {
            out.push(match fr {
                Frame::Ubx(u) => (0, [&[u.class, u.id][..], u.payload].concat()),
                Frame::Nmea(s) => (1, s.as_bytes().to_vec()),
                Frame::Rtcm3(b) => (2, b.to_vec()),
            });
        }
    };
    for c in bytes.chunks(chunk.max(1)) {
        f.push(c);
        take(&mut f);
    }
    f.finish();
    take(&mut f);
    (out, *f.stats())
}

#[test]
fn fixtures_frame_identically_for_any_chunk_size() {
    let dir = fixtures_dir();
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "fixtures dir {}: {e} (set GNSS_FIXTURES_DIR)",
                dir.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    assert!(
        logs.len() >= 7,
        "expected the 7 captures in {}",
        dir.display()
    );
    for log in logs {
        let bytes = std::fs::read(&log).expect("read fixture");
        let (whole, st) = frames(&bytes, bytes.len());
        let total = st.frames.ubx + st.frames.nmea + st.frames.rtcm3;
        assert!(total > 0, "{}: no frames", log.display());
        assert_eq!(
            st.checksum_failures.ubx + st.checksum_failures.nmea + st.checksum_failures.rtcm3,
            0,
            "{}: {st:?}",
            log.display()
        );
        for chunk in [1, 2, 3, 7, 64, 1000] {
            assert_eq!(
                frames(&bytes, chunk),
                (whole.clone(), st),
                "{} chunk {chunk}",
                log.display()
            );
        }
        println!(
            "{}: {st:?}",
            log.file_name().unwrap_or_default().to_string_lossy()
        );
    }
}
