//! Decode errors: typed, counted by the caller, never fatal.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("{msg}: payload {len} bytes, need {need}")]
    TooShort {
        msg: &'static str,
        len: usize,
        need: usize,
    },
    #[error("{msg}: unsupported version {version}")]
    Version { msg: &'static str, version: u8 },
    #[error("ublox crate rejected UBX {class:#04x}/{id:#04x}: {reason}")]
    Crate { class: u8, id: u8, reason: String },
    #[error("ublox crate panicked on UBX {class:#04x}/{id:#04x}")]
    CratePanicked { class: u8, id: u8 },
    #[error("NMEA {kind}: bad field {field}")]
    NmeaField {
        kind: &'static str,
        field: &'static str,
    },
    #[error("NMEA: malformed sentence")]
    NmeaSyntax,
}
