//! Signal identifiers → band and signal names, one spelling for both
//! sources: u-blox sigId (NAV-SIG, per gnssId, from the u-blox interface
//! description's signal identifier table) and the NMEA 0183 4.10/4.11 GSV
//! signal id (per system). Unknown ids give `None`: shown as null, never guessed.

use super::Constellation;

/// (band, signal) for a u-blox gnssId/sigId pair.
pub fn ubx_signal(gnss: Constellation, sig_id: u8) -> Option<(&'static str, &'static str)> {
    use Constellation::*;
    Some(match (gnss, sig_id) {
        (Gps, 0) => ("L1", "L1C/A"),
        (Gps, 3) => ("L2", "L2CL"),
        (Gps, 4) => ("L2", "L2CM"),
        (Gps, 6) => ("L5", "L5I"),
        (Gps, 7) => ("L5", "L5Q"),
        (Sbas, 0) => ("L1", "L1C/A"),
        (Galileo, 0) => ("E1", "E1C"),
        (Galileo, 1) => ("E1", "E1B"),
        (Galileo, 3) => ("E5a", "E5aI"),
        (Galileo, 4) => ("E5a", "E5aQ"),
        (Galileo, 5) => ("E5b", "E5bI"),
        (Galileo, 6) => ("E5b", "E5bQ"),
        (BeiDou, 0) => ("B1I", "B1I D1"),
        (BeiDou, 1) => ("B1I", "B1I D2"),
        (BeiDou, 2) => ("B2I", "B2I D1"),
        (BeiDou, 3) => ("B2I", "B2I D2"),
        (BeiDou, 5) => ("B1C", "B1Cp"),
        (BeiDou, 6) => ("B1C", "B1Cd"),
        (BeiDou, 7) => ("B2a", "B2ap"),
        (BeiDou, 8) => ("B2a", "B2ad"),
        (Imes, 0) => ("L1", "L1"),
        (Qzss, 0) => ("L1", "L1C/A"),
        (Qzss, 1) => ("L1", "L1S"),
        (Qzss, 4) => ("L2", "L2CM"),
        (Qzss, 5) => ("L2", "L2CL"),
        (Qzss, 8) => ("L5", "L5I"),
        (Qzss, 9) => ("L5", "L5Q"),
        (Glonass, 0) => ("L1", "L1OF"),
        (Glonass, 2) => ("L2", "L2OF"),
        (NavIc, 0) => ("L5", "L5A"),
        _ => return None,
    })
}

/// (band, signal) for an NMEA GSV signal id of a satellite of `gnss`. SBAS
/// and IMES satellites come under the GPS system id in NMEA.
pub fn nmea_signal(gnss: Constellation, signal_id: u8) -> Option<(&'static str, &'static str)> {
    use Constellation::*;
    Some(match (gnss, signal_id) {
        (Gps | Sbas | Imes, 1) => ("L1", "L1C/A"),
        (Gps | Sbas | Imes, 2) => ("L1", "L1P"),
        (Gps | Sbas | Imes, 3) => ("L1", "L1M"),
        (Gps | Sbas | Imes, 4) => ("L2", "L2P"),
        (Gps | Sbas | Imes, 5) => ("L2", "L2CM"),
        (Gps | Sbas | Imes, 6) => ("L2", "L2CL"),
        (Gps | Sbas | Imes, 7) => ("L5", "L5I"),
        (Gps | Sbas | Imes, 8) => ("L5", "L5Q"),
        (Glonass, 1) => ("L1", "L1OF"),
        (Glonass, 2) => ("L1", "L1P"),
        (Glonass, 3) => ("L2", "L2OF"),
        (Glonass, 4) => ("L2", "L2P"),
        (Galileo, 1) => ("E5a", "E5a"),
        (Galileo, 2) => ("E5b", "E5b"),
        (Galileo, 3) => ("E5", "E5a+b"),
        (Galileo, 4) => ("E6", "E6A"),
        (Galileo, 5) => ("E6", "E6BC"),
        (Galileo, 6) => ("E1", "E1A"),
        (Galileo, 7) => ("E1", "E1BC"),
        (BeiDou, 1) => ("B1I", "B1I"),
        (BeiDou, 2) => ("B1I", "B1Q"),
        (BeiDou, 3) => ("B1C", "B1C"),
        (BeiDou, 4) => ("B1C", "B1A"),
        (BeiDou, 5) => ("B2a", "B2a"),
        (BeiDou, 6) => ("B2b", "B2b"),
        (BeiDou, 7) => ("B2", "B2a+b"),
        (BeiDou, 8) => ("B3I", "B3I"),
        (BeiDou, 9) => ("B3I", "B3Q"),
        (BeiDou, 10) => ("B3I", "B3A"),
        (BeiDou, 11) => ("B2I", "B2I"),
        (BeiDou, 12) => ("B2I", "B2Q"),
        (Qzss, 1) => ("L1", "L1C/A"),
        (Qzss, 2) => ("L1", "L1C(D)"),
        (Qzss, 3) => ("L1", "L1C(P)"),
        (Qzss, 4) => ("L1", "L1S"),
        (Qzss, 5) => ("L2", "L2CM"),
        (Qzss, 6) => ("L2", "L2CL"),
        (Qzss, 7) => ("L5", "L5I"),
        (Qzss, 8) => ("L5", "L5Q"),
        (Qzss, 9) => ("L6", "L6D"),
        (Qzss, 10) => ("L6", "L6E"),
        (NavIc, 1) => ("L5", "L5A"),
        (NavIc, 2) => ("S", "SA"),
        (NavIc, 3) => ("L5", "L5RS"),
        (NavIc, 4) => ("S", "SRS"),
        (NavIc, 5) => ("L1", "L1SPS"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Constellation::*;

    #[test]
    fn both_sources_spell_the_same_signal_alike() {
        // The primary and secondary signals of an F9 receiver, by either id.
        for (g, ubx, nmea) in [
            (Gps, 0, 1),
            (Gps, 3, 6),
            (Gps, 7, 8),
            (Glonass, 0, 1),
            (Glonass, 2, 3),
            (Qzss, 0, 1),
            (Qzss, 5, 6),
        ] {
            assert_eq!(ubx_signal(g, ubx), nmea_signal(g, nmea), "{g:?}");
        }
        assert_eq!(ubx_signal(Galileo, 5).map(|s| s.0), Some("E5b"));
        assert_eq!(nmea_signal(Galileo, 2).map(|s| s.0), Some("E5b"));
        assert_eq!(ubx_signal(BeiDou, 2).map(|s| s.0), Some("B2I"));
        assert_eq!(nmea_signal(BeiDou, 0xB).map(|s| s.0), Some("B2I"));
        assert_eq!(nmea_signal(Sbas, 1), Some(("L1", "L1C/A")));
    }

    #[test]
    fn unknown_ids_are_none() {
        assert_eq!(ubx_signal(Gps, 1), None);
        assert_eq!(ubx_signal(Glonass, 1), None);
        assert_eq!(nmea_signal(Gps, 0), None, "0 means all signals");
        assert_eq!(nmea_signal(Galileo, 8), None);
        assert_eq!(nmea_signal(NavIc, 0xF), None);
    }
}
