//! Receiver identification from MON-VER.

use serde::Serialize;

/// Which configuration interface the receiver speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverClass {
    /// Protocol < 24 (M8 and older): CFG-MSG, CFG-PRT, CFG-TP5, CFG-TMODE3.
    M8,
    /// Protocol ≥ 27 (F9, M9, X20): CFG-VALSET keys.
    F9,
}

/// What MON-VER said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    pub software: String,
    pub hardware: String,
    pub extensions: Vec<String>,
    /// e.g. (22, 0) for "PROTVER=22.00".
    pub protocol: Option<(u16, u16)>,
    /// e.g. "NEO-M8T-0", "ZED-F9T".
    pub module: Option<String>,
    pub class: ReceiverClass,
}

fn field(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim().to_string()
}

/// Parse a MON-VER payload (30-byte software, 10-byte hardware, 30-byte extensions).
pub fn parse_mon_ver(p: &[u8]) -> Option<Identity> {
    let software = field(p.get(..30)?);
    let hardware = field(p.get(30..40)?);
    let extensions: Vec<String> = p
        .get(40..)
        .unwrap_or(&[])
        .chunks(30)
        .map(field)
        .filter(|s| !s.is_empty())
        .collect();
    let value = |name: &str| {
        extensions.iter().find_map(|e| {
            let rest = e.strip_prefix(name)?;
            Some(rest.trim_start_matches(['=', ' ']).trim().to_string())
        })
    };
    let protocol = value("PROTVER").and_then(|v| {
        let (a, b) = v.split_once('.').unwrap_or((v.as_str(), "0"));
        Some((a.trim().parse().ok()?, b.trim().parse().unwrap_or(0)))
    });
    let module = value("MOD");
    let class = match protocol {
        Some((major, _)) if major >= 24 => ReceiverClass::F9,
        Some(_) => ReceiverClass::M8,
        // No PROTVER (old firmware): hardware generation 0019/0020+ is F9-class.
        None => match hardware
            .get(..4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
        {
            Some(gen) if gen >= 0x19 => ReceiverClass::F9,
            _ => ReceiverClass::M8,
        },
    };
    Some(Identity {
        software,
        hardware,
        extensions,
        protocol,
        module,
        class,
    })
}
