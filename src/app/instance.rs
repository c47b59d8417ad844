//! One daemon per data directory and per NTP address.
//!
//! - The data directory is claimed with `flock` on `gnss-timeserver.pid`,
//!   which names the holder's pid. The lock dies with the process, so a
//!   crashed daemon never blocks the next one; the pid file's content tells
//!   the next start that the previous run ended without a clean stop.
//! - An NTP address is claimed by binding a listening Unix socket in the
//!   abstract namespace named after it. The NTP workers bind with
//!   SO_REUSEPORT, which lets a second process of the same user join the
//!   port silently and take a share of the clients; the abstract name is per
//!   network namespace (exactly the scope of a UDP port), vanishes with the
//!   process, and a refused daemon learns the holder's pid from SO_PEERCRED.

// flock(2): a shell module, and the one unsafe call nix 0.29 only offers
// through a deprecated wrapper.
#![allow(unsafe_code)]

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// The lock file in the data directory.
pub const PID_FILE: &str = "gnss-timeserver.pid";

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("data directory {dir} is in use by another gnss-timeserver ({holder}); stop it first or give this one another data directory")]
    DataDirInUse { dir: PathBuf, holder: Holder },
    #[error("NTP address {addr} is already served by another gnss-timeserver ({holder}); stop it first or choose another address")]
    NtpAddressInUse { addr: SocketAddr, holder: Holder },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The process holding a claim, as far as it can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<i32>,
    /// Its command line from /proc (when readable).
    pub command: Option<String>,
}

impl Holder {
    fn of_pid(pid: Option<i32>) -> Self {
        let command = pid.and_then(|p| {
            let raw = std::fs::read(format!("/proc/{p}/cmdline")).ok()?;
            let words: Vec<String> = raw
                .split(|&b| b == 0)
                .filter(|w| !w.is_empty())
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect();
            (!words.is_empty()).then(|| words.join(" "))
        });
        Self { pid, command }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.pid, &self.command) {
            (Some(pid), Some(cmd)) => write!(f, "pid {pid}: {cmd}"),
            (Some(pid), None) => write!(f, "pid {pid}"),
            _ => write!(f, "process unknown"),
        }
    }
}

/// How the previous daemon on this data directory ended, when not cleanly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncleanRun {
    pub pid: Option<i32>,
    /// When it started (ns since the Unix epoch), if recorded.
    pub started_ns: Option<i64>,
}

/// Held for the life of the daemon: the data directory's lock.
#[derive(Debug)]
pub struct DataDirLock {
    file: File,
    path: PathBuf,
    /// Set when the pid file still named a process: it did not stop cleanly.
    pub previous_unclean: Option<UncleanRun>,
}

impl DataDirLock {
    /// Claim `dir` (created if missing) for this process.
    pub fn acquire(dir: &Path, now_ns: i64) -> Result<Self, InstanceError> {
        let path = dir.join(PID_FILE);
        let io = |what, source| InstanceError::Io {
            what,
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| io("creating the data directory for", e))?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("opening", e))?;
        // SAFETY: flock on a descriptor we own; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        let mut text = String::new();
        let read = file.read_to_string(&mut text);
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(io("locking", err));
            }
            let pid = read.ok().and_then(|_| parse_pid_file(&text).0);
            return Err(InstanceError::DataDirInUse {
                dir: dir.to_path_buf(),
                holder: Holder::of_pid(pid),
            });
        }
        let (pid, started_ns) = parse_pid_file(&text);
        let previous_unclean = (pid.is_some()).then_some(UncleanRun { pid, started_ns });
        let mine = format!("{}\n{now_ns}\n", std::process::id());
        file.set_len(0).map_err(|e| io("writing", e))?;
        file.rewind().map_err(|e| io("writing", e))?;
        file.write_all(mine.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io("writing", e))?;
        Ok(Self {
            file,
            path,
            previous_unclean,
        })
    }

    /// A clean stop: empty the pid file (the lock goes with the process), so
    /// the next start knows this run ended well.
    pub fn mark_clean_stop(&self) {
        if let Err(e) = self.file.set_len(0).and_then(|()| self.file.sync_all()) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not mark a clean stop");
        }
    }
}

/// `pid\nstarted_ns\n`; an empty file means the last run stopped cleanly.
fn parse_pid_file(text: &str) -> (Option<i32>, Option<i64>) {
    let mut lines = text.lines().map(str::trim);
    let pid = lines.next().and_then(|l| l.parse().ok()).filter(|&p| p > 0);
    let started = lines.next().and_then(|l| l.parse().ok());
    (pid, started)
}

/// Held for the life of the NTP server: the claim on its addresses.
#[derive(Debug)]
pub struct NtpAddressClaim {
    _guards: Vec<UnixListener>,
}

impl NtpAddressClaim {
    /// Claim every address; refused when another process holds one.
    pub fn acquire(addrs: &[SocketAddr]) -> Result<Self, InstanceError> {
        let mut guards = Vec::with_capacity(addrs.len());
        for &addr in addrs {
            let name = guard_name(addr);
            let io = |source| InstanceError::Io {
                what: "claiming the NTP address",
                path: addr.to_string(),
                source,
            };
            let unix = UnixAddr::from_abstract_name(name.as_bytes()).map_err(io)?;
            match UnixListener::bind_addr(&unix) {
                Ok(l) => guards.push(l),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    let pid = UnixStream::connect_addr(&unix).ok().and_then(|s| {
                        nix::sys::socket::getsockopt(&s, nix::sys::socket::sockopt::PeerCredentials)
                            .ok()
                            .map(|c| c.pid())
                    });
                    return Err(InstanceError::NtpAddressInUse {
                        addr,
                        holder: Holder::of_pid(pid),
                    });
                }
                Err(e) => return Err(io(e)),
            }
        }
        Ok(Self { _guards: guards })
    }
}

/// Abstract socket name for an NTP address; IPv6 scope included, so the
/// same port on two addresses are two claims.
fn guard_name(addr: SocketAddr) -> String {
    format!("gnss-timeserver/ntp/{addr}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_parsing() {
        assert_eq!(parse_pid_file(""), (None, None));
        assert_eq!(parse_pid_file("42\n17\n"), (Some(42), Some(17)));
        assert_eq!(parse_pid_file("junk\n"), (None, None));
        assert_eq!(parse_pid_file("-3\n"), (None, None));
    }

    #[test]
    fn data_dir_lock_refuses_a_second_claim_and_tells_unclean_runs() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path(), 5).unwrap();
        assert_eq!(first.previous_unclean, None);
        // flock locks belong to the open file description: a second open in
        // this process conflicts just as another process would.
        match DataDirLock::acquire(dir.path(), 6) {
            Err(InstanceError::DataDirInUse { holder, .. }) => {
                assert_eq!(holder.pid, Some(std::process::id() as i32));
                assert!(holder.command.is_some());
            }
            other => panic!("second claim: {other:?}"),
        }
        drop(first); // no clean stop: like a crash
        let second = DataDirLock::acquire(dir.path(), 7).unwrap();
        assert_eq!(
            second.previous_unclean,
            Some(UncleanRun {
                pid: Some(std::process::id() as i32),
                started_ns: Some(5)
            })
        );
        second.mark_clean_stop();
        drop(second);
        let third = DataDirLock::acquire(dir.path(), 8).unwrap();
        assert_eq!(third.previous_unclean, None);
    }

    #[test]
    fn ntp_address_claim_is_exclusive() {
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let other: SocketAddr = "127.0.0.2:1".parse().unwrap();
        let claim = NtpAddressClaim::acquire(&[addr]).unwrap();
        match NtpAddressClaim::acquire(&[other, addr]) {
            Err(InstanceError::NtpAddressInUse { addr: a, holder }) => {
                assert_eq!(a, addr);
                assert_eq!(holder.pid, Some(std::process::id() as i32));
            }
            other => panic!("second claim: {other:?}"),
        }
        drop(claim);
        NtpAddressClaim::acquire(&[addr]).unwrap();
    }
}
