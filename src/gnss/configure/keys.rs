//! u-blox configuration keys (F9-class configuration interface) used here.

pub const UART1OUTPROT_UBX: u32 = 0x1074_0001;
pub const UART1OUTPROT_NMEA: u32 = 0x1074_0002;

pub const TP_PULSE_DEF: u32 = 0x2005_0023;
pub const TP_PULSE_LENGTH_DEF: u32 = 0x2005_0030;
pub const TP_PERIOD_TP1: u32 = 0x4005_0002;
pub const TP_PERIOD_LOCK_TP1: u32 = 0x4005_0003;
pub const TP_LEN_TP1: u32 = 0x4005_0004;
pub const TP_LEN_LOCK_TP1: u32 = 0x4005_0005;
pub const TP_TP1_ENA: u32 = 0x1005_0007;
pub const TP_SYNC_GNSS_TP1: u32 = 0x1005_0008;
pub const TP_USE_LOCKED_TP1: u32 = 0x1005_0009;
pub const TP_ALIGN_TO_TOW_TP1: u32 = 0x1005_000a;
pub const TP_POL_TP1: u32 = 0x1005_000b;
pub const TP_TIMEGRID_TP1: u32 = 0x2005_000c;

pub const TMODE_MODE: u32 = 0x2003_0001;
pub const TMODE_POS_TYPE: u32 = 0x2003_0002;
pub const TMODE_ECEF_X: u32 = 0x4003_0003;
pub const TMODE_ECEF_Y: u32 = 0x4003_0004;
pub const TMODE_ECEF_Z: u32 = 0x4003_0005;
pub const TMODE_FIXED_POS_ACC: u32 = 0x4003_000f;
pub const TMODE_SVIN_MIN_DUR: u32 = 0x4003_0010;
pub const TMODE_SVIN_ACC_LIMIT: u32 = 0x4003_0011;

/// CFG-MSGOUT-UBX_*_UART1 keys and the (class, id) they enable.
pub const MSGOUT_UART1: [(u32, (u8, u8)); 12] = [
    (0x2091_0007, (0x01, 0x07)), // NAV-PVT
    (0x2091_0016, (0x01, 0x35)), // NAV-SAT
    (0x2091_005c, (0x01, 0x21)), // NAV-TIMEUTC
    (0x2091_0061, (0x01, 0x26)), // NAV-TIMELS
    (0x2091_0066, (0x01, 0x22)), // NAV-CLOCK
    (0x2091_001b, (0x01, 0x03)), // NAV-STATUS
    (0x2091_017e, (0x0D, 0x01)), // TIM-TP
    (0x2091_0098, (0x0D, 0x04)), // TIM-SVIN
    (0x2091_035a, (0x0A, 0x38)), // MON-RF
    (0x2091_0635, (0x27, 0x09)), // SEC-SIG
    (0x2091_01b5, (0x0A, 0x09)), // MON-HW
    (0x2091_0160, (0x01, 0x61)), // NAV-EOE
];

const OTHER_KNOWN: [u32; 22] = [
    UART1OUTPROT_UBX,
    UART1OUTPROT_NMEA,
    TP_PULSE_DEF,
    TP_PULSE_LENGTH_DEF,
    TP_PERIOD_TP1,
    TP_PERIOD_LOCK_TP1,
    TP_LEN_TP1,
    TP_LEN_LOCK_TP1,
    TP_TP1_ENA,
    TP_SYNC_GNSS_TP1,
    TP_USE_LOCKED_TP1,
    TP_ALIGN_TO_TOW_TP1,
    TP_POL_TP1,
    TP_TIMEGRID_TP1,
    TMODE_MODE,
    TMODE_POS_TYPE,
    TMODE_ECEF_X,
    TMODE_ECEF_Y,
    TMODE_ECEF_Z,
    TMODE_FIXED_POS_ACC,
    TMODE_SVIN_MIN_DUR,
    TMODE_SVIN_ACC_LIMIT,
];

/// Value size in bytes, from the key's size field (bits 28..30).
pub fn value_size(key: u32) -> Option<usize> {
    match (key >> 28) & 0x7 {
        1 | 2 => Some(1),
        3 => Some(2),
        4 => Some(4),
        5 => Some(8),
        _ => None,
    }
}

pub fn msgout_message(key: u32) -> Option<(u8, u8)> {
    MSGOUT_UART1
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, id)| *id)
}

pub fn msgout_key(id: (u8, u8)) -> Option<u32> {
    MSGOUT_UART1.iter().find(|(_, m)| *m == id).map(|(k, _)| *k)
}

pub fn is_known(key: u32) -> bool {
    msgout_message(key).is_some() || OTHER_KNOWN.contains(&key)
}
