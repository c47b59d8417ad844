//! Framer properties: random UBX / NMEA / RTCM3 frames with random garbage
//! between them, pushed with random split points:
//! - every intact frame comes out, in order (none lost);
//! - split pushes give exactly the one-shot result (frames and stats);
//! - nothing panics, whatever the bytes.

use gnss_timeserver::gnss::framer::{rtcm3_frame, Frame, Framer, FramerStats};
use gnss_timeserver::gnss::nmea::sentence;
use gnss_timeserver::gnss::ubx::frame as ubx_frame;
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq)]
enum Owned {
    Ubx(u8, u8, Vec<u8>),
    Nmea(String),
    Rtcm3(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Item {
    bytes: Vec<u8>,
    expect: Owned,
}

fn ubx_item() -> impl Strategy<Value = Item> {
    (
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(c, i, p)| Item {
            bytes: ubx_frame(c, i, &p),
            expect: Owned::Ubx(c, i, p),
        })
}

fn nmea_item() -> impl Strategy<Value = Item> {
    // Printable body without the reserved characters; CRLF or LF endings.
    (
        "[A-Z]{2}[A-Z]{3}(,[A-Za-z0-9 .+-]{0,12}){0,20}",
        any::<bool>(),
    )
        .prop_map(|(body, lf)| {
            let mut s = sentence(&body);
            if lf {
                s = s.replace("\r\n", "\n");
            }
            let expect = Owned::Nmea(s.trim_end().to_string());
            Item {
                bytes: s.into_bytes(),
                expect,
            }
        })
}

fn rtcm_item() -> impl Strategy<Value = Item> {
    prop::collection::vec(any::<u8>(), 0..200).prop_map(|p| {
        let f = rtcm3_frame(&p);
        Item {
            expect: Owned::Rtcm3(f.clone()),
            bytes: f,
        }
    })
}

/// Garbage rich in sync bytes and line ends, so false starts are common.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<u8>(),
            1 => Just(0xB5u8),
            1 => Just(0x62u8),
            1 => Just(b'$'),
            1 => Just(0xD3u8),
            1 => Just(b'\n'),
        ],
        0..40,
    )
}

fn collect(chunks: &[&[u8]]) -> (Vec<Owned>, FramerStats) {
    let mut f = Framer::new();
    let mut out = Vec::new();
    let take = |f: &mut Framer, out: &mut Vec<Owned>| {
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
        take(&mut f, &mut out);
    }
    f.finish();
    take(&mut f, &mut out);
    (out, *f.stats())
}

/// `expected` appears in `got` as a subsequence (extra frames may come from
/// garbage that happens to form a valid frame, e.g. an empty RTCM3 frame).
fn is_subsequence(expected: &[Owned], got: &[Owned]) -> bool {
    let mut it = got.iter();
    expected.iter().all(|e| it.any(|g| g == e))
}

fn split_at_points(bytes: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
    cuts.iter_mut().for_each(|c| *c %= bytes.len() + 1);
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let mut last = 0;
    for c in cuts {
        parts.push(&bytes[last..c]);
        last = c;
    }
    parts.push(&bytes[last..]);
    parts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn intact_frames_survive_garbage_and_splits(
        items in prop::collection::vec(
            (prop_oneof![ubx_item(), nmea_item(), rtcm_item()], garbage()),
            1..12,
        ),
        lead in garbage(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut stream = lead.clone();
        let mut expected = Vec::new();
        for (item, junk) in &items {
            stream.extend_from_slice(&item.bytes);
            stream.extend_from_slice(junk);
            expected.push(item.expect.clone());
        }
        let (whole, whole_stats) = collect(&[&stream]);
        // Every intact frame comes out, in order. Extra frames are allowed:
        // garbage can form a valid frame by itself only through a checksum
        // collision (2^-16 for UBX, 2^-24 for RTCM3; NMEA candidates stop
        // at a second '$'), which is rare enough to tolerate but not zero.
        prop_assert!(
            is_subsequence(&expected, &whole),
            "lost a frame: expected {:?}\ngot {:?}", expected, whole
        );
        let parts = split_at_points(&stream, cuts);
        let (split, split_stats) = collect(&parts);
        prop_assert_eq!(&split, &whole);
        prop_assert_eq!(split_stats, whole_stats);
        // Every byte is either in a frame or counted as garbage.
        let framed: usize = whole.iter().map(|o| match o {
            Owned::Ubx(_, _, p) => p.len() + 8,
            Owned::Nmea(t) => t.len() + 1,
            Owned::Rtcm3(b) => b.len(),
        }).sum();
        prop_assert!(whole_stats.garbage_bytes as usize + framed <= stream.len());
    }

    #[test]
    fn random_bytes_never_panic_and_split_is_stable(
        bytes in prop::collection::vec(any::<u8>(), 0..4000),
        cuts in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        let (whole, ws) = collect(&[&bytes]);
        let parts = split_at_points(&bytes, cuts);
        let (split, ss) = collect(&parts);
        prop_assert_eq!(whole, split);
        prop_assert_eq!(ws, ss);
    }

    #[test]
    fn byte_by_byte_equals_one_shot(
        items in prop::collection::vec(
            (prop_oneof![ubx_item(), nmea_item(), rtcm_item()], garbage()),
            1..6,
        ),
    ) {
        let mut stream = Vec::new();
        for (item, junk) in &items {
            stream.extend_from_slice(&item.bytes);
            stream.extend_from_slice(junk);
        }
        let singles: Vec<&[u8]> = stream.chunks(1).collect();
        prop_assert_eq!(collect(&singles), collect(&[&stream]));
    }
}
