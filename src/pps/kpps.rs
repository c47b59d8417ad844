//! `/dev/ppsN` through the RFC 2783 ioctls (Linux `linux/pps.h`, 64-bit).
//!
//! The structs mirror the kernel layout exactly (checked by tests). Note the
//! kernel declares the ioctls with a *pointer* type (`struct pps_fdata *`), so
//! the size field in the ioctl numbers is the pointer size (8), not the
//! struct size; the numbers are built accordingly.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{PpsEdge, PpsEvent};
use crate::time::NS_PER_SEC;

pub const PPS_API_VERS_1: i32 = 1;
pub const PPS_CAPTUREASSERT: i32 = 0x01;
pub const PPS_CAPTURECLEAR: i32 = 0x02;
pub const PPS_CAPTUREBOTH: i32 = 0x03;
pub const PPS_OFFSETASSERT: i32 = 0x10;
pub const PPS_OFFSETCLEAR: i32 = 0x20;
pub const PPS_CANWAIT: i32 = 0x100;
pub const PPS_CANPOLL: i32 = 0x200;
pub const PPS_ECHOASSERT: i32 = 0x40;
pub const PPS_ECHOCLEAR: i32 = 0x80;
pub const PPS_TSFMT_TSPEC: i32 = 0x1000;
pub const PPS_TSFMT_NTPFP: i32 = 0x2000;
/// `pps_ktime.flags`: the time is invalid (as a timeout: wait forever).
pub const PPS_TIME_INVALID: u32 = 1 << 0;

/// `struct pps_ktime`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PpsKtime {
    pub sec: i64,
    pub nsec: i32,
    pub flags: u32,
}

/// `struct pps_kinfo`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PpsKinfo {
    pub assert_sequence: u32,
    pub clear_sequence: u32,
    pub assert_tu: PpsKtime,
    pub clear_tu: PpsKtime,
    pub current_mode: i32,
}

/// `struct pps_kparams`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PpsKparams {
    pub api_version: i32,
    pub mode: i32,
    pub assert_off_tu: PpsKtime,
    pub clear_off_tu: PpsKtime,
}

/// `struct pps_fdata`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PpsFdata {
    pub info: PpsKinfo,
    pub timeout: PpsKtime,
}

const PTR: usize = std::mem::size_of::<*mut u8>();
pub const PPS_GETPARAMS: libc::c_ulong = nix::request_code_read!(b'p', 0xa1, PTR) as libc::c_ulong;
pub const PPS_SETPARAMS: libc::c_ulong = nix::request_code_write!(b'p', 0xa2, PTR) as libc::c_ulong;
pub const PPS_GETCAP: libc::c_ulong = nix::request_code_read!(b'p', 0xa3, PTR) as libc::c_ulong;
pub const PPS_FETCH: libc::c_ulong = nix::request_code_readwrite!(b'p', 0xa4, PTR) as libc::c_ulong;

nix::ioctl_read_bad!(ioctl_getparams, PPS_GETPARAMS, PpsKparams);
nix::ioctl_write_ptr_bad!(ioctl_setparams, PPS_SETPARAMS, PpsKparams);
nix::ioctl_read_bad!(ioctl_getcap, PPS_GETCAP, libc::c_int);
nix::ioctl_readwrite_bad!(ioctl_fetch, PPS_FETCH, PpsFdata);

impl PpsKtime {
    pub fn to_ns(self) -> Option<i64> {
        if !(0..NS_PER_SEC as i32).contains(&self.nsec) {
            return None;
        }
        self.sec
            .checked_mul(NS_PER_SEC)?
            .checked_add(self.nsec as i64)
    }

    pub fn timeout(d: std::time::Duration) -> Self {
        Self {
            sec: d.as_secs().min(i64::MAX as u64) as i64,
            nsec: d.subsec_nanos() as i32,
            flags: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KppsError {
    #[error(
        "{path}: no such PPS device (is dtoverlay=pps-gpio set and the pps-gpio module loaded?)"
    )]
    Missing { path: PathBuf },
    #[error(
        "{path}: permission denied (run as root or add the user to the group owning the device)"
    )]
    Permission { path: PathBuf },
    #[error("{path}: {op}: {source}")]
    Os {
        path: PathBuf,
        op: &'static str,
        source: nix::errno::Errno,
    },
    #[error("{path}: cannot {what} (capabilities 0x{caps:x})")]
    Unsupported {
        path: PathBuf,
        what: &'static str,
        caps: i32,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Which edges to capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Capture {
    #[default]
    Assert,
    /// Assert and clear (for the pulse-width polarity check).
    Both,
}

/// An open, configured `/dev/ppsN`.
pub struct KernelPps {
    file: File,
    path: PathBuf,
    caps: i32,
    last: PpsKinfo,
}

impl KernelPps {
    /// Open, check capabilities and select assert (or both) capture with
    /// timespec timestamps. SETPARAMS needs write access; when it is refused
    /// but the device already captures the wanted edges, that is accepted.
    pub fn open(path: &Path, capture: Capture) -> Result<Self, KppsError> {
        let path_buf = path.to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    OpenOptions::new().read(true).open(path)
                } else {
                    Err(e)
                }
            })
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => KppsError::Missing {
                    path: path_buf.clone(),
                },
                std::io::ErrorKind::PermissionDenied => KppsError::Permission {
                    path: path_buf.clone(),
                },
                _ => KppsError::Io {
                    path: path_buf.clone(),
                    source: e,
                },
            })?;
        let fd = file.as_raw_fd();
        let os = |op, source| KppsError::Os {
            path: path_buf.clone(),
            op,
            source,
        };
        let mut caps: libc::c_int = 0;
        // SAFETY: fd is an open PPS device; caps is a valid c_int out pointer.
        unsafe { ioctl_getcap(fd, &mut caps) }.map_err(|e| os("PPS_GETCAP", e))?;
        let want = match capture {
            Capture::Assert => PPS_CAPTUREASSERT,
            Capture::Both => PPS_CAPTUREBOTH,
        };
        if caps & want != want {
            return Err(KppsError::Unsupported {
                path: path_buf,
                what: "capture the requested edges",
                caps,
            });
        }
        if caps & PPS_CANWAIT == 0 {
            return Err(KppsError::Unsupported {
                path: path_buf,
                what: "wait for edges (PPS_CANWAIT)",
                caps,
            });
        }
        let mut params = PpsKparams::default();
        // SAFETY: valid fd and out pointer to a struct with the kernel layout.
        unsafe { ioctl_getparams(fd, &mut params) }.map_err(|e| os("PPS_GETPARAMS", e))?;
        let mode = (params.mode & !PPS_CAPTUREBOTH) | want | PPS_TSFMT_TSPEC;
        if params.mode & want != want || params.mode & PPS_TSFMT_TSPEC == 0 {
            let new = PpsKparams {
                api_version: PPS_API_VERS_1,
                mode,
                ..params
            };
            // SAFETY: valid fd and pointer to an initialised kernel-layout struct.
            unsafe { ioctl_setparams(fd, &new) }.map_err(|e| os("PPS_SETPARAMS", e))?;
        }
        Ok(Self {
            file,
            path: path_buf,
            caps,
            last: PpsKinfo::default(),
        })
    }

    pub fn capabilities(&self) -> i32 {
        self.caps
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wait up to `timeout` for the next capture. Returns the new events
    /// (assert and/or clear) since the previous fetch; empty on timeout.
    pub fn fetch(&mut self, timeout: std::time::Duration) -> Result<Vec<PpsEvent>, KppsError> {
        let mut data = PpsFdata {
            timeout: PpsKtime::timeout(timeout),
            ..PpsFdata::default()
        };
        // SAFETY: valid fd and pointer to an initialised kernel-layout struct.
        match unsafe { ioctl_fetch(self.file.as_raw_fd(), &mut data) } {
            Ok(_) => {}
            Err(nix::errno::Errno::ETIMEDOUT) | Err(nix::errno::Errno::EINTR) => {
                return Ok(Vec::new())
            }
            Err(e) => {
                return Err(KppsError::Os {
                    path: self.path.clone(),
                    op: "PPS_FETCH",
                    source: e,
                })
            }
        }
        Ok(self.new_events(data.info))
    }

    /// The events in `info` not reported before (sans-IO part of `fetch`).
    fn new_events(&mut self, info: PpsKinfo) -> Vec<PpsEvent> {
        let events = new_events(&self.last, &info);
        self.last = info;
        events
    }
}

/// Compare two kernel snapshots: a changed sequence number is a new edge.
pub fn new_events(prev: &PpsKinfo, now: &PpsKinfo) -> Vec<PpsEvent> {
    let mut out = Vec::new();
    if now.assert_sequence != prev.assert_sequence {
        if let Some(t) = now.assert_tu.to_ns() {
            out.push(PpsEvent::Assert(PpsEdge {
                local_ns: t,
                sequence: now.assert_sequence as u64,
            }));
        }
    }
    if now.clear_sequence != prev.clear_sequence {
        if let Some(t) = now.clear_tu.to_ns() {
            out.push(PpsEvent::Clear(PpsEdge {
                local_ns: t,
                sequence: now.clear_sequence as u64,
            }));
        }
    }
    // Report in time order.
    out.sort_by_key(|e| match e {
        PpsEvent::Assert(e) | PpsEvent::Clear(e) => e.local_ns,
        PpsEvent::Error { .. } => i64::MAX,
    });
    out
}

/// A running reader thread; stops when dropped (within one fetch timeout).
pub struct KppsReader {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl KppsReader {
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for KppsReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Open `path` now (so a missing device is a clear error at start-up) and
/// read it on a blocking thread, sending edges on `tx`. Timestamps are
/// CLOCK_REALTIME as the kernel captured them.
pub fn spawn(
    path: &Path,
    capture: Capture,
    tx: tokio::sync::mpsc::Sender<PpsEvent>,
    hb: crate::liveness::Heartbeat,
) -> Result<KppsReader, KppsError> {
    let mut dev = KernelPps::open(path, capture)?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let path_buf = path.to_path_buf();
    let thread = std::thread::Builder::new()
        .name("pps-kernel".into())
        .spawn(move || {
            let mut failures = 0u32;
            while !stop2.load(Ordering::Relaxed) {
                hb.beat();
                match dev.fetch(std::time::Duration::from_millis(1500)) {
                    Ok(events) => {
                        failures = 0;
                        for ev in events {
                            if tx.blocking_send(ev).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        let fatal = failures >= 10;
                        let msg = PpsEvent::Error {
                            message: e.to_string(),
                            fatal,
                        };
                        if tx.blocking_send(msg).is_err() || fatal {
                            return;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(500));
                    }
                }
            }
        })
        .map_err(|e| KppsError::Io {
            path: path_buf,
            source: e,
        })?;
    Ok(KppsReader {
        stop,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    /// Values from linux/pps.h on a 64-bit build (x86_64 and aarch64 share
    /// the generic ioctl encoding).
    #[test]
    fn layout_matches_kernel_header() {
        assert_eq!(size_of::<PpsKtime>(), 16);
        assert_eq!(offset_of!(PpsKtime, nsec), 8);
        assert_eq!(offset_of!(PpsKtime, flags), 12);
        assert_eq!(size_of::<PpsKinfo>(), 48);
        assert_eq!(align_of::<PpsKinfo>(), 8);
        assert_eq!(offset_of!(PpsKinfo, assert_tu), 8);
        assert_eq!(offset_of!(PpsKinfo, clear_tu), 24);
        assert_eq!(offset_of!(PpsKinfo, current_mode), 40);
        assert_eq!(size_of::<PpsKparams>(), 40);
        assert_eq!(offset_of!(PpsKparams, assert_off_tu), 8);
        assert_eq!(offset_of!(PpsKparams, clear_off_tu), 24);
        assert_eq!(size_of::<PpsFdata>(), 64);
        assert_eq!(offset_of!(PpsFdata, timeout), 48);
    }

    #[test]
    fn ioctl_numbers_match_kernel() {
        assert_eq!(PPS_GETPARAMS, 0x8008_70a1);
        assert_eq!(PPS_SETPARAMS, 0x4008_70a2);
        assert_eq!(PPS_GETCAP, 0x8008_70a3);
        assert_eq!(PPS_FETCH, 0xc008_70a4);
    }

    #[test]
    fn missing_device_is_a_clear_error() {
        let err = KernelPps::open(Path::new("/dev/pps-does-not-exist-42"), Capture::Assert)
            .err()
            .expect("must fail");
        assert!(matches!(err, KppsError::Missing { .. }), "{err}");
        assert!(err.to_string().contains("pps-gpio"));
    }

    #[test]
    fn new_events_reports_changed_sequences_only() {
        let a = PpsKinfo {
            assert_sequence: 5,
            assert_tu: PpsKtime {
                sec: 100,
                nsec: 7,
                flags: 0,
            },
            ..PpsKinfo::default()
        };
        let ev = new_events(&PpsKinfo::default(), &a);
        assert_eq!(
            ev,
            vec![PpsEvent::Assert(PpsEdge {
                local_ns: 100 * NS_PER_SEC + 7,
                sequence: 5
            })]
        );
        assert!(new_events(&a, &a).is_empty());
        let bad = PpsKinfo {
            assert_sequence: 6,
            assert_tu: PpsKtime {
                sec: 1,
                nsec: -1,
                flags: 0,
            },
            ..a
        };
        assert!(new_events(&a, &bad).is_empty(), "invalid nsec is skipped");
    }
}
