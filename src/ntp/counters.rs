//! Request/response counters. Each worker owns one `Counters` and is its only
//! writer, so increments are a plain relaxed load + store (no locked
//! read-modify-write on the hot path) and the cache lines never bounce between
//! cores; `status()` sums them. Sharing one `Counters` between concurrent
//! writers would lose counts (never memory safety).

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        /// Live counters of one worker.
        #[derive(Debug, Default)]
        pub struct Counters {
            $(pub $name: AtomicU64,)*
            pub by_mode: [AtomicU64; 8],
            pub by_version: [AtomicU64; 8],
        }

        /// Summed counters, as shown in the status snapshot.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        pub struct NtpCounters {
            $(pub $name: u64,)*
            /// Requests by NTP mode 0..7 (index = mode).
            pub by_mode: [u64; 8],
            /// Requests by NTP version 0..7 (index = version).
            pub by_version: [u64; 8],
        }

        impl NtpCounters {
            pub fn add(&mut self, c: &Counters) {
                $(self.$name += c.$name.load(Relaxed);)*
                for i in 0..8 {
                    self.by_mode[i] += c.by_mode[i].load(Relaxed);
                    self.by_version[i] += c.by_version[i].load(Relaxed);
                }
            }
        }
    };
}

counters!(
    requests,
    responses,
    interleaved,
    kod_rate,
    kod_deny,
    crypto_nak,
    drop_truncated,
    drop_version,
    drop_mode,
    drop_malformed,
    drop_denied,
    drop_rate,
    drop_auth,
    auth_ok,
    auth_fail,
    auth_mssntp_unsigned,
    extension_fields,
    rx_errors,
    tx_errors,
    tx_timestamps,
    tx_timestamps_rejected,
    rx_kernel_timestamps,
    rx_daemon_timestamps,
    // Datagrams the kernel dropped because the socket's receive buffer was
    // full (SO_RXQ_OVFL): each worker stores its socket's running total.
    kernel_rx_drops,
);

impl Counters {
    pub fn inc(c: &AtomicU64) {
        Self::add(c, 1);
    }
    pub fn add(c: &AtomicU64, n: u64) {
        c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
    }
}
