//! Simulation: the fake u-blox receiver (speaks UBX + NMEA on a pty) and its
//! scenarios, plus the accelerated timing simulation behind `simulate`.

pub mod receiver;
pub mod scenario;
pub mod timing;
