//! One writer at a time. The writer holds an exclusive lock on a file beside the store
//! (`<store>-writer`) for as long as it is open; the system releases it when the process
//! ends, however it ends, so a killed writer never leaves the store locked. Readers take no
//! lock: SQLite's WAL lets them read the last committed state while a writer works.
//!
//! The lock is on a file of its own, not the store: SQLite's locks on the store are POSIX
//! record locks, which a process loses when it closes any descriptor of that file.

use crate::error::{Result, StoreError};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The writer's lock, released when dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// The lock file of the store at `path`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-writer");
    PathBuf::from(name)
}

impl WriterLock {
    /// Takes the lock of the store at `path`, waiting up to `wait` for another writer to let
    /// go (`Duration::ZERO`: not at all).
    pub fn take(path: &Path, wait: Duration) -> Result<WriterLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(path))?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(WriterLock { _file: file }),
                Err(TryLockError::WouldBlock) if start.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked {
                        path: path.to_owned(),
                    })
                }
                Err(TryLockError::Error(e)) => return Err(e.into()),
            }
        }
    }
}
