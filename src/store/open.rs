//! Opening the database so that damage can never keep the daemon down.
//!
//! redb checks its commit checksums and repairs after an unclean shutdown,
//! but a file cut short or overwritten in the middle makes redb 2 *panic*
//! (`page_manager.rs`: "assertion failed: storage.raw_file_len()? >= …",
//! `bitmap.rs`: "range start index … out of range"). So every open runs
//! inside `catch_unwind`, followed by redb's integrity check; a file that
//! fails either is moved aside (`<path>.corrupt-<unix secs>`) and a fresh
//! database is created. An open that does not finish in time (a hung disk)
//! leaves the store unavailable — events wait in memory — and is retried.

use super::db::{Store, StoreError};
use redb::Database;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// How long start-up waits for the database before running without it.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// What a resilient open found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Why the old file was judged damaged.
    pub error: String,
    /// Where it was moved.
    pub moved_to: PathBuf,
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

fn corrupt(path: &Path, message: String) -> StoreError {
    StoreError::Corrupt {
        path: path.display().to_string(),
        message,
    }
}

/// Open (or create) and verify the file; panics inside redb become `Corrupt`.
pub(super) fn open_database(path: &Path) -> Result<Database, StoreError> {
    let res = catch_unwind(AssertUnwindSafe(|| -> Result<Database, StoreError> {
        let mut db = match Database::create(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::Storage(redb::StorageError::Corrupted(message))) => {
                return Err(corrupt(path, message))
            }
            // Not a redb file at all (bad magic number) or cut short.
            Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                return Err(corrupt(path, e.to_string()))
            }
            Err(e) => {
                return Err(StoreError::Db {
                    path: path.display().to_string(),
                    source: Box::new(e.into()),
                })
            }
        };
        // Checksums of every page: a page overwritten in the middle is found
        // now, not by a panic in the middle of a later commit.
        match db.check_integrity() {
            Ok(_) => Ok(db),
            Err(e) => Err(corrupt(path, format!("integrity check: {e}"))),
        }
    }));
    match res {
        Ok(r) => r,
        Err(p) => Err(corrupt(
            path,
            format!("redb panicked: {}", panic_message(p.as_ref())),
        )),
    }
}

/// Run `f` on the store, turning a panic inside redb into an error.
pub(super) fn guarded<R>(
    path: &Path,
    f: impl FnOnce() -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(corrupt(
            path,
            format!("redb panicked: {}", panic_message(p.as_ref())),
        )),
    }
}

/// Move a damaged file aside; returns where it went.
pub(super) fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let secs = crate::time::system_realtime_ns() / crate::time::NS_PER_SEC;
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".corrupt-{secs}"));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside).map_err(|source| StoreError::Dir {
        path: path.display().to_string(),
        source,
    })?;
    Ok(aside)
}

impl Store {
    /// Open the database; a damaged file (unreadable, failing its integrity
    /// check, or making redb panic) is moved aside and a fresh database
    /// created, so the appliance keeps serving time.
    pub fn open_or_recover(path: &Path) -> Result<(Self, Option<Recovery>), StoreError> {
        match Self::open(path) {
            Err(StoreError::Corrupt { message, .. }) => {
                let moved_to = move_aside(path)?;
                let store = Self::open(path)?;
                Ok((
                    store,
                    Some(Recovery {
                        error: message,
                        moved_to,
                    }),
                ))
            }
            other => other.map(|s| (s, None)),
        }
    }

    /// Never fails and never waits longer than `timeout`: a store that
    /// cannot be opened now (permissions, disk gone, open hanging) comes
    /// back unavailable and `retry_open` tries again later.
    pub fn open_resilient(path: &Path, timeout: Duration) -> (Self, Option<Recovery>) {
        let (tx, rx) = mpsc::channel();
        let p = path.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("store-open".into())
            .spawn(move || {
                let _ = tx.send(Self::open_or_recover(&p));
            });
        if let Err(e) = spawned {
            return (Self::unavailable(path, e.to_string()), None);
        }
        match rx.recv_timeout(timeout) {
            Ok(Ok((store, recovery))) => (store, recovery),
            Ok(Err(e)) => (Self::unavailable(path, e.to_string()), None),
            Err(_) => {
                let mut s = Self::unavailable(
                    path,
                    format!("open did not finish within {} s", timeout.as_secs()),
                );
                s.set_opening(rx);
                (s, None)
            }
        }
    }
}
