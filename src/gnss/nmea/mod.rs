//! NMEA 0183: sentence encoding and decoding of validated sentences into
//! [`crate::gnss::message::Message`].

mod decode;
mod encode;

pub use decode::{decode, decode_with_path, nmea_svid, parse_time, NmeaPath};
pub use encode::sentence;
