//! NTP load generator and bare UDP reflector.
fn main() {}
