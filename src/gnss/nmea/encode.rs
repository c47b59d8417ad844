//! NMEA sentence encoding (for the fake receiver and tests).

use crate::gnss::framer::nmea_checksum;

/// `body` is the text between `$` and `*` (a leading `$` is tolerated).
/// Returns `$body*hh\r\n`.
pub fn sentence(body: &str) -> String {
    let body = body.strip_prefix('$').unwrap_or(body);
    format!("${body}*{:02X}\r\n", nmea_checksum(body.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_adds_checksum() {
        // Checksum worked by hand: XOR of "GPGLL,,,,,,V,N" is 0x64.
        assert_eq!(sentence("GPGLL,,,,,,V,N"), "$GPGLL,,,,,,V,N*64\r\n");
        assert_eq!(sentence("$GPGLL,,,,,,V,N"), "$GPGLL,,,,,,V,N*64\r\n");
    }
}
