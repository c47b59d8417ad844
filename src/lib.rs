//! gnss-timeserver: a GNSS-disciplined stratum-1 time server.
//!
//! Data flows one way (see docs/ARCHITECTURE.md):
//! serial bytes → `gnss` → `discipline` (with `pps` edges) → `clock` → `status::Snapshot`
//! → NTP server, panel, SNMP, metrics, store.
//!
//! Cores (framer, decoders, receiver model, pairing, servo, lock state, holdover,
//! leap, NTP request handling) are sans-IO: they take time as a value and never
//! touch a clock, socket or file. The shells around them are thin.

#![deny(unsafe_code)]

pub mod app;
pub mod backoff;
pub mod cidr;
pub mod clock;
pub mod config;
pub mod discipline;
pub mod events;
pub mod gnss;
pub mod liveness;
pub mod ntp;
pub mod plan;
pub mod pps;
pub mod server_fields;
pub mod sheds;
pub mod shutdown;
pub mod sim;
pub mod snmp;
pub mod status;
pub mod store;
pub mod time;
pub mod web;
