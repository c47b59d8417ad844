//! NTP server: sans-IO request handling plus socket workers.

use serde::Serialize;

/// NTP view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NtpStatus {}
