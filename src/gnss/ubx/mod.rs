//! UBX protocol: encoding helpers and decoding of validated frames into
//! [`crate::gnss::message::Message`].

mod encode;

pub use encode::{frame, PayloadWriter};

/// Message classes.
pub mod class {
    pub const NAV: u8 = 0x01;
    pub const RXM: u8 = 0x02;
    pub const INF: u8 = 0x04;
    pub const ACK: u8 = 0x05;
    pub const CFG: u8 = 0x06;
    pub const UPD: u8 = 0x09;
    pub const MON: u8 = 0x0A;
    pub const AID: u8 = 0x0B;
    pub const TIM: u8 = 0x0D;
    pub const ESF: u8 = 0x10;
    pub const MGA: u8 = 0x13;
    pub const LOG: u8 = 0x21;
    pub const SEC: u8 = 0x27;
    pub const HNR: u8 = 0x28;
    pub const NAV2: u8 = 0x29;
}

/// Message ids (class, id).
pub mod id {
    pub const NAV_POSECEF: (u8, u8) = (0x01, 0x01);
    pub const NAV_POSLLH: (u8, u8) = (0x01, 0x02);
    pub const NAV_STATUS: (u8, u8) = (0x01, 0x03);
    pub const NAV_DOP: (u8, u8) = (0x01, 0x04);
    pub const NAV_SOL: (u8, u8) = (0x01, 0x06);
    pub const NAV_PVT: (u8, u8) = (0x01, 0x07);
    pub const NAV_VELNED: (u8, u8) = (0x01, 0x12);
    pub const NAV_TIMEGPS: (u8, u8) = (0x01, 0x20);
    pub const NAV_TIMEUTC: (u8, u8) = (0x01, 0x21);
    pub const NAV_CLOCK: (u8, u8) = (0x01, 0x22);
    pub const NAV_TIMELS: (u8, u8) = (0x01, 0x26);
    pub const NAV_SVINFO: (u8, u8) = (0x01, 0x30);
    pub const NAV_SAT: (u8, u8) = (0x01, 0x35);
    pub const NAV_SIG: (u8, u8) = (0x01, 0x43);
    pub const NAV_EOE: (u8, u8) = (0x01, 0x61);
    pub const ACK_NAK: (u8, u8) = (0x05, 0x00);
    pub const ACK_ACK: (u8, u8) = (0x05, 0x01);
    pub const CFG_PRT: (u8, u8) = (0x06, 0x00);
    pub const CFG_MSG: (u8, u8) = (0x06, 0x01);
    pub const CFG_RATE: (u8, u8) = (0x06, 0x08);
    pub const CFG_CFG: (u8, u8) = (0x06, 0x09);
    pub const CFG_TP5: (u8, u8) = (0x06, 0x31);
    pub const CFG_TMODE2: (u8, u8) = (0x06, 0x3D);
    pub const CFG_TMODE3: (u8, u8) = (0x06, 0x71);
    pub const CFG_VALSET: (u8, u8) = (0x06, 0x8A);
    pub const CFG_VALGET: (u8, u8) = (0x06, 0x8B);
    pub const MON_VER: (u8, u8) = (0x0A, 0x04);
    pub const MON_HW: (u8, u8) = (0x0A, 0x09);
    pub const MON_RF: (u8, u8) = (0x0A, 0x38);
    pub const TIM_TP: (u8, u8) = (0x0D, 0x01);
    pub const TIM_SVIN: (u8, u8) = (0x0D, 0x04);
    pub const SEC_SIG: (u8, u8) = (0x27, 0x09);
}

mod decode;

pub use decode::{decode, svinfo_svid};
