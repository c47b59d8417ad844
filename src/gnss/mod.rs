//! GNSS ingestion: framer, UBX and NMEA decoders, receiver model, receiver
//! configuration and the serial task.

pub mod decode;
mod error;
pub mod framer;
pub mod message;
pub mod nmea;
pub mod receiver;
mod types;
pub mod ubx;

pub use error::DecodeError;
pub use receiver::{Receiver, ReceiverStatus};
pub use types::*;

use serde::Serialize;

/// Serial link view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SerialStatus {}
