//! GNSS ingestion: framer, UBX and NMEA decoders, receiver model, receiver
//! configuration and the serial task.

pub mod configure;
pub mod decode;
pub mod dispatch;
mod error;
pub mod framer;
pub mod identity;
pub mod message;
pub mod nmea;
pub mod receiver;
pub mod serial;
pub mod signal;
mod types;
pub mod ubx;

pub use error::DecodeError;
pub use receiver::{Receiver, ReceiverStatus};
pub use types::*;

use serde::Serialize;

/// Serial link view in the status snapshot (published by `serial::SerialTask`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SerialStatus {
    pub device: String,
    pub baud: u32,
    pub connected: bool,
    /// Bytes read since start.
    pub bytes: u64,
    /// Successful opens, and those of them after an outage.
    pub opens: u64,
    pub reopens: u64,
    /// Outages (device missing at start, unplugged, read errors).
    pub outages: u64,
    pub open_failures: u64,
    pub last_error: Option<String>,
    /// Current reopen delay while the device is unavailable (grows to the cap).
    pub retry_in_ms: Option<u64>,
    /// Open, but no byte for `silence_timeout`.
    pub silent: bool,
    /// UTC ns: start of the current outage / connection, last byte received.
    pub outage_since_ns: Option<i64>,
    pub connected_since_ns: Option<i64>,
    pub last_data_ns: Option<i64>,
    /// Receiver identification and configuration outcome.
    pub configuration: Option<configure::ConfigureReport>,
}
