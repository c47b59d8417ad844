use super::*;
use crate::gnss::nmea::sentence;
use crate::gnss::ubx::frame as ubx_frame;

#[derive(Debug, PartialEq)]
enum Owned {
    Ubx(u8, u8, Vec<u8>),
    Nmea(String),
    Rtcm3(Vec<u8>),
}

fn collect(chunks: &[&[u8]]) -> (Vec<Owned>, FramerStats) {
    let mut f = Framer::new();
    let mut out = Vec::new();
    let mut take = |f: &mut Framer| {
        while let Some(fr) = f.next_frame() {
            out.push(match fr {
                Frame::Ubx(u) => Owned::Ubx(u.class, u.id, u.payload.to_vec()),
                Frame::Nmea(s) => Owned::Nmea(s.to_string()),
                Frame::Rtcm3(b) => Owned::Rtcm3(b.to_vec()),
            });
        }
    };
    for c in chunks {
        f.push(c);
        take(&mut f);
    }
    f.finish();
    take(&mut f);
    (out, *f.stats())
}

#[test]
fn splits_mixed_stream() {
    let mut s = Vec::new();
    s.extend_from_slice(b"# comment\n");
    s.extend(ubx_frame(0x01, 0x07, &[1, 2, 3]));
    s.extend_from_slice(sentence("GPZDA,201530.00,04,07,2002,00,00").as_bytes());
    s.extend(rtcm3_frame(&[0x3E, 0xD0, 0x00]));
    s.extend_from_slice(b"$GPTXT,01,01,02,LF only*XX\n");
    s.extend_from_slice(b"$GPTXT,lf*");
    s.extend_from_slice(format!("{:02X}\n", nmea_checksum(b"GPTXT,lf")).as_bytes());
    let (frames, st) = collect(&[&s]);
    assert_eq!(
        frames,
        vec![
            Owned::Ubx(1, 7, vec![1, 2, 3]),
            Owned::Nmea("$GPZDA,201530.00,04,07,2002,00,00*60".into()),
            Owned::Rtcm3(rtcm3_frame(&[0x3E, 0xD0, 0x00])),
            Owned::Nmea("$GPTXT,lf*69".into()),
        ]
    );
    assert_eq!(st.frames.ubx, 1);
    assert_eq!(st.frames.nmea, 2);
    assert_eq!(st.frames.rtcm3, 1);
    assert_eq!(st.malformed.nmea, 1); // "*XX"
    assert_eq!(st.garbage_bytes, 10 + 27);
}

#[test]
fn every_split_point_gives_same_frames() {
    let mut s = Vec::new();
    s.extend_from_slice(&[0xB5, 0x62, 0x05]);
    s.extend(ubx_frame(0x0D, 0x01, &[9; 16]));
    s.extend_from_slice(b"$GP,x");
    s.extend_from_slice(sentence("GNRMC,1,2,3").as_bytes());
    s.extend_from_slice(&[0xD3, 0x00]);
    s.extend(rtcm3_frame(&[1, 2, 3, 4]));
    let (whole, st) = collect(&[&s]);
    assert_eq!(whole.len(), 3, "{whole:?}");
    for cut in 0..=s.len() {
        let (a, b) = s.split_at(cut);
        let (parts, st2) = collect(&[a, b]);
        assert_eq!(parts, whole, "cut at {cut}");
        assert_eq!(st2, st, "cut at {cut}");
    }
}

#[test]
fn false_ubx_sync_does_not_swallow_next_frame() {
    // A sync pair in garbage declares a length covering the real frame.
    let good = ubx_frame(0x01, 0x20, &[7; 16]);
    let mut s = vec![0xB5, 0x62, 0x01, 0x02, 0x10, 0x00];
    s.extend_from_slice(&good);
    s.extend_from_slice(&[0u8; 4]);
    let (frames, st) = collect(&[&s]);
    assert_eq!(frames, vec![Owned::Ubx(1, 0x20, vec![7; 16])]);
    assert_eq!(st.checksum_failures.ubx, 1);
    assert_eq!(st.garbage_bytes, 6 + 4);
}

#[test]
fn false_nmea_start_and_overlong() {
    let good = sentence("GPGGA,1");
    let mut s = b"$GPGGA,12".to_vec();
    s.extend_from_slice(good.as_bytes());
    let mut long = b"$GP".to_vec();
    long.extend(std::iter::repeat_n(b'A', MAX_NMEA_LEN + 10));
    long.extend_from_slice(b"*00\r\n");
    s.extend_from_slice(&long);
    s.extend_from_slice(good.as_bytes());
    let (frames, st) = collect(&[&s]);
    let g = good.trim_end().to_string();
    assert_eq!(frames, vec![Owned::Nmea(g.clone()), Owned::Nmea(g)]);
    assert_eq!(st.malformed.nmea, 1);
}

#[test]
fn bad_checksums_are_counted() {
    let mut u = ubx_frame(0x0A, 0x04, &[1, 2]);
    if let Some(last) = u.last_mut() {
        *last ^= 0xFF;
    }
    let mut r = rtcm3_frame(&[5, 6, 7]);
    if let Some(last) = r.last_mut() {
        *last ^= 0x01;
    }
    let mut s = u.clone();
    s.extend_from_slice(&r);
    s.extend_from_slice(b"$GPZDA,1*00\r\n");
    let (frames, st) = collect(&[&s]);
    assert!(frames.is_empty());
    assert_eq!(st.checksum_failures.ubx, 1);
    assert_eq!(st.checksum_failures.rtcm3, 1);
    assert_eq!(st.checksum_failures.nmea, 1);
    assert_eq!(st.garbage_bytes, s.len() as u64);
}

/// Push `data` in chunks of `chunk` bytes, draining after each.
fn work_for(data: &[u8], chunk: usize) -> (u64, FramerStats) {
    let mut f = Framer::new();
    for c in data.chunks(chunk) {
        f.push(c);
        while f.next_frame().is_some() {}
    }
    f.finish();
    while f.next_frame().is_some() {}
    (f.bytes_examined(), *f.stats())
}

fn repeat(pattern: &[u8], len: usize) -> Vec<u8> {
    pattern.iter().copied().cycle().take(len).collect()
}

/// Worst cases for a restart-after-false-sync framer: headers declaring the
/// longest frame, again and again, so every byte starts a long candidate.
#[test]
fn work_is_linear_in_pathological_input() {
    const N: usize = 200_000;
    let cases: [(&str, Vec<u8>); 4] = [
        ("rtcm3 headers", repeat(&[0xD3, 0x03, 0xFF], N)),
        // UBX sync, class, id, length 4096.
        (
            "ubx headers",
            repeat(&[0xB5, 0x62, 0x01, 0x07, 0x00, 0x10], N),
        ),
        // Sync bytes of every kind inside one long candidate.
        (
            "mixed",
            repeat(&[0xD3, 0x01, 0xB5, 0x62, 0x00, 0x00, 0x00, 0x10], N),
        ),
        // An NMEA start, then printable bytes without a line end.
        ("nmea line", {
            let mut v = repeat(b"$GPGGA,1,2,3,4,5,6,7,8,9", N);
            v.iter_mut()
                .skip(1)
                .filter(|b| **b == b'$')
                .for_each(|b| *b = b'x');
            v
        }),
    ];
    for (name, data) in &cases {
        for chunk in [1, 64, 4096, N] {
            let (work, st) = work_for(data, chunk);
            assert!(
                work <= 8 * N as u64,
                "{name}, chunks of {chunk}: {work} bytes examined for {N} pushed"
            );
            assert_eq!(st.frames, KindCounts::default(), "{name}");
        }
    }
}

#[test]
fn checksum_failures_still_counted_on_long_false_frames() {
    // A full-length RTCM3 candidate with a wrong CRC, then a good frame.
    let mut bad = rtcm3_frame(&[0x55; 1023]);
    let n = bad.len();
    bad[n - 1] ^= 0xFF;
    let good = rtcm3_frame(&[0x3E, 0xD0, 0x00]);
    let mut s = bad.clone();
    s.extend_from_slice(&good);
    let (frames, st) = collect(&[&s]);
    assert_eq!(frames, vec![Owned::Rtcm3(good)]);
    assert_eq!(st.checksum_failures.rtcm3, 1);
    assert_eq!(st.garbage_bytes, bad.len() as u64);
}
