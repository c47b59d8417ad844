//! A validated frame → [`Message`]: picks the decoder for the frame's
//! protocol. Kept apart from `message` so the message types depend on no
//! decoder and the decoders depend only on the message types.

use super::framer::Frame;
use super::message::Message;
use super::DecodeError;

/// Decode one validated frame. RTCM3 frames carry nothing the model uses: `None`.
pub fn decode_frame(frame: &Frame<'_>) -> Option<Result<Message, DecodeError>> {
    match frame {
        Frame::Ubx(u) => Some(super::ubx::decode(u.class, u.id, u.payload)),
        Frame::Nmea(s) => Some(super::nmea::decode(s)),
        Frame::Rtcm3(_) => None,
    }
}
