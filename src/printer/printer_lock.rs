//! The one-owner rule for the printer: only one process talks to the serial port. The running
//! kiosk holds an exclusive lock on `printer.lock` in the data folder; a command that prints
//! drains the queue itself only when it can take that lock (no kiosk is running).

use std::fs::{File, OpenOptions};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// The lock file inside the data folder.
pub const LOCK_FILE: &str = "printer.lock";

/// Held for as long as this process owns the printer; the kernel releases it when the process
/// dies, so a crashed kiosk never leaves the printer locked.
pub struct PrinterLock {
    _lock: Flock<File>,
}

impl PrinterLock {
    /// Takes the lock if nobody holds it; `Ok(None)` when another process owns the printer.
    pub fn try_acquire(data_dir: &Path) -> std::io::Result<Option<PrinterLock>> {
        std::fs::create_dir_all(data_dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(data_dir.join(LOCK_FILE))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Some(PrinterLock { _lock: lock })),
            Err((_, Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, errno)) => Err(errno.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_owner_at_a_time_and_the_lock_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = PrinterLock::try_acquire(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(PrinterLock::try_acquire(dir.path()).unwrap().is_none());
        drop(first);
        assert!(PrinterLock::try_acquire(dir.path()).unwrap().is_some());
    }
}
