//! GNSS ingestion: framer, UBX and NMEA decoders, receiver model, receiver
//! configuration and the serial task.

pub mod configure;
pub mod decode;
mod error;
pub mod framer;
pub mod message;
pub mod nmea;
pub mod serial;
mod types;
pub mod ubx;

pub use error::DecodeError;
pub use types::*;

use serde::Serialize;

/// Receiver view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceiverStatus {}

/// Serial link view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SerialStatus {}
