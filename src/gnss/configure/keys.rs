//! u-blox configuration keys (F9-class configuration interface) used here.

pub const UART1OUTPROT_UBX: u32 = 0x1074_0001;
pub const UART1OUTPROT_NMEA: u32 = 0x1074_0002;
pub const UART2OUTPROT_UBX: u32 = 0x1076_0001;
pub const UART2OUTPROT_NMEA: u32 = 0x1076_0002;
pub const USBOUTPROT_UBX: u32 = 0x1078_0001;
pub const USBOUTPROT_NMEA: u32 = 0x1078_0002;
pub const UART1_BAUDRATE: u32 = 0x4052_0001;
pub const UART2_BAUDRATE: u32 = 0x4053_0001;

/// The receiver port the host talks to: CFG-MSGOUT keys exist per port
/// (UART1 = base, UART2 = base + 1, USB = base + 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Port {
    #[default]
    Uart1,
    Uart2,
    Usb,
}

impl Port {
    fn msgout_offset(self) -> u32 {
        match self {
            Port::Uart1 => 0,
            Port::Uart2 => 1,
            Port::Usb => 2,
        }
    }
    /// (UBX, NMEA) output-protocol keys of the port.
    pub fn outprot_keys(self) -> (u32, u32) {
        match self {
            Port::Uart1 => (UART1OUTPROT_UBX, UART1OUTPROT_NMEA),
            Port::Uart2 => (UART2OUTPROT_UBX, UART2OUTPROT_NMEA),
            Port::Usb => (USBOUTPROT_UBX, USBOUTPROT_NMEA),
        }
    }
    /// A u-blox receiver on its own USB port shows up as a CDC-ACM device
    /// (`/dev/ttyACM*`, `/dev/serial/by-id/usb-u-blox*`); anything else
    /// (GPIO UART, USB-serial bridge) reaches the receiver's UART1.
    pub fn guess(device: &std::path::Path) -> Port {
        let resolved = std::fs::canonicalize(device).unwrap_or_else(|_| device.to_path_buf());
        let looks_usb = |p: &std::path::Path| {
            let s = p.to_string_lossy();
            s.contains("ttyACM") || s.contains("usb-u-blox")
        };
        if looks_usb(device) || looks_usb(&resolved) {
            Port::Usb
        } else {
            Port::Uart1
        }
    }
}

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
pub const MSGOUT_UART1: [(u32, (u8, u8)); 13] = [
    (0x2091_0007, (0x01, 0x07)), // NAV-PVT
    (0x2091_0016, (0x01, 0x35)), // NAV-SAT
    (0x2091_0346, (0x01, 0x43)), // NAV-SIG
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

const OTHER_KNOWN: [u32; 28] = [
    UART1_BAUDRATE,
    UART2_BAUDRATE,
    UART1OUTPROT_UBX,
    UART1OUTPROT_NMEA,
    UART2OUTPROT_UBX,
    UART2OUTPROT_NMEA,
    USBOUTPROT_UBX,
    USBOUTPROT_NMEA,
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

/// The message a CFG-MSGOUT key (of any of UART1, UART2, USB) controls.
pub fn msgout_message(key: u32) -> Option<(u8, u8)> {
    MSGOUT_UART1
        .iter()
        .find(|(k, _)| (0..=2).any(|off| key.checked_sub(off) == Some(*k)))
        .map(|(_, id)| *id)
}

/// The CFG-MSGOUT key of message `id` on `port`.
pub fn msgout_key(id: (u8, u8), port: Port) -> Option<u32> {
    MSGOUT_UART1
        .iter()
        .find(|(_, m)| *m == id)
        .map(|(k, _)| k + port.msgout_offset())
}

pub fn is_known(key: u32) -> bool {
    msgout_message(key).is_some() || OTHER_KNOWN.contains(&key)
}
