//! Receiver identity from MON-VER, in the one shape the status shows and
//! the configuration uses.

use serde::Serialize;

use super::message::MonVer;

/// Which configuration interface the receiver speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverClass {
    /// Protocol < 24 (M8 and older): CFG-MSG, CFG-PRT, CFG-TP5, CFG-TMODE3.
    M8,
    /// Protocol ≥ 24 (F9, M9, X20): CFG-VALSET keys.
    F9,
}

/// What MON-VER said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceiverIdentity {
    pub software: String,
    pub hardware: String,
    /// `MOD=` extension, e.g. "ZED-F9T", "NEO-M8T-0".
    pub model: Option<String>,
    /// `FWVER=` extension, e.g. "TIM 2.20".
    pub firmware: Option<String>,
    /// `PROTVER=` extension as sent, e.g. "29.20".
    pub protocol: Option<String>,
    pub class: ReceiverClass,
    pub extensions: Vec<String>,
}

impl ReceiverIdentity {
    pub fn from_mon_ver(v: &MonVer) -> Self {
        let value = |name: &str| {
            v.extensions.iter().find_map(|e| {
                let rest = e.strip_prefix(name)?;
                Some(rest.trim_start_matches(['=', ' ']).trim().to_string())
            })
        };
        let protocol = value("PROTVER");
        let class = match protocol.as_deref().and_then(parse_protocol) {
            Some((major, _)) if major >= 24 => ReceiverClass::F9,
            Some(_) => ReceiverClass::M8,
            // No PROTVER (old firmware): hardware generation 0019/0020+ is F9-class.
            None => match v
                .hw_version
                .get(..4)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
            {
                Some(gen) if gen >= 0x19 => ReceiverClass::F9,
                _ => ReceiverClass::M8,
            },
        };
        Self {
            software: v.sw_version.clone(),
            hardware: v.hw_version.clone(),
            model: value("MOD"),
            firmware: value("FWVER"),
            protocol,
            class,
            extensions: v.extensions.clone(),
        }
    }

    /// (major, minor) of `protocol`, e.g. (22, 0) for "22.00".
    pub fn protocol_version(&self) -> Option<(u16, u16)> {
        self.protocol.as_deref().and_then(parse_protocol)
    }
}

fn parse_protocol(v: &str) -> Option<(u16, u16)> {
    let (a, b) = v.split_once('.').unwrap_or((v, "0"));
    Some((a.trim().parse().ok()?, b.trim().parse().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ver(hw: &str, ext: &[&str]) -> MonVer {
        MonVer {
            sw_version: "ROM CORE 3.01 (107888)".into(),
            hw_version: hw.into(),
            extensions: ext.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn class_from_protocol_or_hardware() {
        let m8 = ReceiverIdentity::from_mon_ver(&ver(
            "00080000",
            &["FWVER=TIM 1.10", "PROTVER=22.00", "MOD=NEO-M8T-0"],
        ));
        assert_eq!(m8.class, ReceiverClass::M8);
        assert_eq!(m8.protocol.as_deref(), Some("22.00"));
        assert_eq!(m8.protocol_version(), Some((22, 0)));
        assert_eq!(m8.model.as_deref(), Some("NEO-M8T-0"));
        assert_eq!(m8.firmware.as_deref(), Some("TIM 1.10"));
        let f9 = ReceiverIdentity::from_mon_ver(&ver("00190000", &["PROTVER 29.20"]));
        assert_eq!(f9.class, ReceiverClass::F9);
        assert_eq!(f9.protocol_version(), Some((29, 20)));
        let old_f9 = ReceiverIdentity::from_mon_ver(&ver("00190000", &[]));
        assert_eq!((old_f9.class, old_f9.protocol), (ReceiverClass::F9, None));
        let old = ReceiverIdentity::from_mon_ver(&ver("00040007", &[]));
        assert_eq!(old.class, ReceiverClass::M8);
    }
}
