//! Simulation: the fake u-blox receiver (speaks UBX + NMEA on a pty) and its
//! scenarios, plus the accelerated timing simulation behind `simulate`.

pub mod timing;
