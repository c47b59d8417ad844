//! NTP server: sans-IO request handling plus socket workers.
//!
//! - [`timestamp`]: wire time formats; the NTP era is resolved here only.
//! - [`packet`]: header, extension fields (RFC 7822), MAC trailer layout.
//! - [`auth`]: keys file, MD5/SHA1 legacy MACs, AES-128-CMAC (RFC 8573).
//! - [`access`]: CIDR allow/deny lists.
//! - [`clients`]: bounded per-client table (rate limit, interleaved mode, monitor).
//! - [`handler`]: the sans-IO request handler.
//! - [`mode6`]: read-only NTP control messages (ntpq, monitoring plugins).
//! - [`server`]: worker threads (`spawn`), the only part doing I/O, with `socket`.

pub mod access;
pub mod auth;
#[allow(unsafe_code)] // recvmmsg/sendmmsg buffers
mod batch;
pub mod clients;
pub mod counters;
pub mod handler;
pub mod mode6;
pub mod packet;
pub mod server;
#[allow(unsafe_code)] // setsockopt, error queue, cmsg parsing
mod socket;
pub mod timestamp;
pub mod watch;

#[cfg(test)]
mod handler_tests;

pub use counters::NtpCounters;
pub use server::{spawn, NtpServerConfig, NtpServerHandle};
pub use socket::RxTimestamping;

use serde::Serialize;

/// NTP view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NtpStatus {
    pub running: bool,
    /// Bound addresses.
    pub bind: Vec<String>,
    /// Worker threads per bound address.
    pub workers: usize,
    /// Receive timestamp source actually in use (worst over all sockets).
    pub rx_timestamping: Option<RxTimestamping>,
    /// Kernel transmit timestamps (for interleaved mode) in use.
    pub tx_timestamping: bool,
    /// Advertised precision (log2 s), measured at start-up.
    pub precision: i8,
    pub counters: NtpCounters,
    pub clients_tracked: usize,
    pub client_table_capacity: usize,
    pub client_evictions: u64,
    /// Clients with the most requests.
    pub top_clients: Vec<clients::ClientInfo>,
    /// Receive buffer per socket as the kernel granted it (smallest over the
    /// sockets); `counters.kernel_rx_drops` counts what overflowed it.
    pub receive_buffer_bytes: Option<usize>,
    /// Head-end watch: one row per watched or learned client (watched first).
    pub watch: Vec<watch::WatchRow>,
    /// EXE / WARN / FAIL counts over the expected clients.
    pub watch_summary: watch::WatchSummary,
    /// Observations the watch lost to a full hand-over channel.
    pub watch_dropped: u64,
}
