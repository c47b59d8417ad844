//! The `decode` line format: exactly the documented keys, values as documented.

use gnss_timeserver::gnss::decode::decode_stream;
use gnss_timeserver::gnss::ubx::{frame, PayloadWriter};
use serde_json::Value;

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

#[test]
fn epoch_line_has_exactly_the_documented_keys() {
    let pvt = PayloadWriter::new()
        .u32(237_887_000)
        .u16(2021)
        .u8(2)
        .u8(23)
        .u8(18)
        .u8(4)
        .u8(29)
        .u8(0x07)
        .u32(20)
        .i32(0)
        .u8(3)
        .u8(0x01)
        .u8(0)
        .u8(7)
        .zeros(92 - 24)
        .finish();
    let sat = PayloadWriter::new()
        .u32(237_887_000)
        .u8(1)
        .u8(1)
        .zeros(2)
        .u8(0)
        .u8(4)
        .u8(25)
        .i8(48)
        .i16(216)
        .i16(0)
        .u32(0x08)
        .finish();
    let hw = PayloadWriter::new()
        .zeros(20)
        .u8(2)
        .u8(1)
        .zeros(23)
        .u8(12)
        .zeros(14)
        .finish();
    let ls = PayloadWriter::new()
        .u32(237_887_000)
        .zeros(4)
        .u8(2)
        .i8(18)
        .u8(2)
        .i8(0)
        .i32(0)
        .zeros(7)
        .u8(0x03)
        .finish();
    // UTC time base: week 2146, next pulse 18:04:30 UTC on Tuesday.
    let tp = PayloadWriter::new()
        .u32(237_870_000)
        .u32(0)
        .i32(-1234)
        .u16(2146)
        .u8(0x03)
        .u8(0)
        .finish();
    let mut bytes = Vec::new();
    for (c, i, p) in [
        (0x0D, 0x01, &tp),
        (0x01, 0x07, &pvt),
        (0x01, 0x35, &sat),
        (0x01, 0x26, &ls),
        (0x0A, 0x09, &hw),
    ] {
        bytes.extend(frame(c, i, p));
    }
    bytes.extend(frame(0x01, 0x61, &237_887_000u32.to_le_bytes()));
    let mut out = Vec::new();
    decode_stream(&bytes[..], &mut out).expect("decode");
    let text = String::from_utf8(out).expect("utf-8");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    let e = &lines[0];
    assert_eq!(
        keys(e),
        ["antenna", "fix", "leap", "satellites", "time", "time_pulse"]
    );
    assert_eq!(e["time"], "2021-02-23T18:04:29Z");
    assert_eq!(e["fix"], "3d");
    let s = &e["satellites"][0];
    assert_eq!(keys(s), ["az", "cn0", "el", "gnss", "svid", "used"]);
    assert_eq!(
        (&s["gnss"], &s["svid"], &s["az"], &s["el"], &s["cn0"], &s["used"]),
        (
            &Value::from("GPS"),
            &Value::from(4),
            &Value::from(216.0),
            &Value::from(48.0),
            &Value::from(25.0),
            &Value::from(true)
        )
    );
    assert_eq!(keys(&e["antenna"]), ["jamming", "power", "status"]);
    assert_eq!(
        (
            &e["antenna"]["status"],
            &e["antenna"]["power"],
            &e["antenna"]["jamming"]
        ),
        (&Value::from("ok"), &Value::from("on"), &Value::from(12))
    );
    assert_eq!(keys(&e["leap"]), ["change", "current", "valid"]);
    assert_eq!(
        (
            &e["leap"]["current"],
            &e["leap"]["change"],
            &e["leap"]["valid"]
        ),
        (&Value::from(18), &Value::from(0), &Value::from(true))
    );
    assert_eq!(keys(&e["time_pulse"]), ["qerr_ps", "utc"]);
    assert_eq!(e["time_pulse"]["utc"], "2021-02-23T18:04:30Z");
    assert_eq!(e["time_pulse"]["qerr_ps"], -1234);
    let summary = &lines[1]["summary"];
    assert_eq!(summary["frames"]["ubx"], 6);
    assert_eq!(summary["garbage_bytes"], 0);
    assert_eq!(summary["epochs"], 1);
}
