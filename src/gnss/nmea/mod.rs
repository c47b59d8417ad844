//! NMEA 0183: sentence encoding and decoding of validated sentences into
//! [`crate::gnss::message::Message`].

mod encode;

pub use encode::sentence;
