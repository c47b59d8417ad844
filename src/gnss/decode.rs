//! `gnss-timeserver decode FILE`: raw capture in, one JSON object per epoch out,
//! then one `{"summary": ...}` line. Reads in chunks: memory stays bounded.

use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{json, Value};

use super::framer::{Framer, FramerStats};
use super::receiver::{Receiver, ReceiverCounters};
use super::GnssEpoch;
use crate::time::{format_rfc3339, format_rfc3339_millis, UnixNanos};

const CHUNK: usize = 64 * 1024;

pub fn run_cli(file: &Path) -> anyhow::Result<ExitCode> {
    let input =
        std::fs::File::open(file).with_context(|| format!("decode: open {}", file.display()))?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match decode_stream(input, &mut out) {
        Ok(()) => {}
        // A closed pipe (`decode f | head`) is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            return Ok(ExitCode::SUCCESS)
        }
        Err(e) => return Err(e),
    }
    Ok(ExitCode::SUCCESS)
}

/// Decode a whole stream, writing epoch lines and the summary line to `out`.
pub fn decode_stream(mut input: impl Read, out: &mut impl Write) -> anyhow::Result<()> {
    let mut framer = Framer::new();
    let mut rx = Receiver::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("decode: read"),
        };
        framer.push(buf.get(..n).unwrap_or(&[]));
        drain(&mut framer, &mut rx, out)?;
    }
    framer.finish();
    drain(&mut framer, &mut rx, out)?;
    if let Some(e) = rx.flush() {
        writeln!(out, "{}", epoch_json(&e))?;
    }
    writeln!(
        out,
        "{}",
        summary_json(framer.stats(), &rx.status().counters)
    )?;
    out.flush()?;
    Ok(())
}

fn drain(framer: &mut Framer, rx: &mut Receiver, out: &mut impl Write) -> anyhow::Result<()> {
    while let Some(frame) = framer.next_frame() {
        if let Some(e) = rx.handle_frame(&frame) {
            writeln!(out, "{}", epoch_json(&e))?;
        }
    }
    Ok(())
}

/// Whole seconds when the instant is on a second (to the ms), else milliseconds.
fn format_time(t: UnixNanos) -> String {
    let rounded = t
        .div_euclid(1_000_000)
        .saturating_add(i64::from(t.rem_euclid(1_000_000) >= 500_000))
        * 1_000_000;
    if rounded % 1_000_000_000 == 0 {
        format_rfc3339(rounded)
    } else {
        format_rfc3339_millis(rounded)
    }
}

/// The decode line for one epoch: exactly the documented keys, null when unknown.
pub fn epoch_json(e: &GnssEpoch) -> Value {
    let satellites: Vec<Value> = e
        .satellites
        .iter()
        .map(|s| {
            json!({
                "gnss": s.gnss,
                "svid": s.svid,
                "az": s.az_deg,
                "el": s.el_deg,
                "cn0": s.cn0_dbhz,
                "used": s.used,
            })
        })
        .collect();
    json!({
        "time": e.time.map(|t| format_time(t.utc_ns)),
        "fix": e.fix.mode,
        "satellites": satellites,
        "antenna": e.antenna.map(|a| json!({
            "status": a.status,
            "power": a.power,
            "jamming": a.jamming,
        })),
        "leap": e.leap.map(|l| json!({
            "current": l.current,
            "change": l.change,
            "valid": l.valid,
        })),
        "time_pulse": e.time_pulse.map(|p| json!({
            "utc": format_time(p.utc_ns),
            "qerr_ps": p.qerr_ps,
        })),
    })
}

fn summary_json(f: &FramerStats, c: &ReceiverCounters) -> Value {
    json!({ "summary": {
        "frames": f.frames,
        "checksum_failures": f.checksum_failures,
        "malformed": f.malformed,
        "garbage_bytes": f.garbage_bytes,
        "decode_errors": c.decode_errors,
        "messages": c.messages,
        "unknown_ubx": c.unknown_ubx,
        "epochs": c.epochs,
        "acks": c.acks,
        "naks": c.naks,
        "gsv_incomplete": c.gsv_incomplete,
    }})
}
