//! Files only the office's own user may read: the database and its WAL and shared-memory files
//! (they hold residents' phone numbers) are created and kept at mode 0600 whatever the umask,
//! and a secret file that others may read is found before it is used.

use std::path::{Path, PathBuf};

/// The mode of a private file: read and write for its owner, nothing for anyone else.
pub const PRIVATE_MODE: u32 = 0o600;
/// The permission bits that let the file's group or other users in.
const SHARED_BITS: u32 = 0o077;
/// What SQLite puts after the database's name for its write-ahead log and its shared memory.
const SQLITE_COMPANIONS: [&str; 2] = ["-wal", "-shm"];

/// Creates `path` at [`PRIVATE_MODE`] when it is missing, and makes it private when others may
/// read or write it; `Ok(true)` when an existing file was made private. Run it before SQLite
/// opens the file: SQLite gives its WAL and shared-memory files the database file's mode.
#[cfg(unix)]
pub fn make_private(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let created = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_MODE)
        .open(path)
    {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e),
    };
    let shared = std::fs::metadata(path)?.permissions().mode() & SHARED_BITS != 0;
    // A new file gets its mode set outright: the umask may have taken bits from what `open`
    // was given (0277 would leave it read-only).
    if created || shared {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_MODE))?;
    }
    Ok(!created && shared)
}

#[cfg(not(unix))]
pub fn make_private(_path: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// SQLite's WAL and shared-memory files of the database at `db`.
pub fn sqlite_companions(db: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    SQLITE_COMPANIONS.iter().map(move |suffix| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// Makes the existing WAL and shared-memory files of `db` private, as an older office may have
/// left them readable; gives the files it changed.
pub fn make_companions_private(db: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    for companion in sqlite_companions(db) {
        if companion.exists() && make_private(&companion)? {
            changed.push(companion);
        }
    }
    Ok(changed)
}

/// Whether the file's group or other users may read or write it (`None` when its mode cannot
/// be read, which the caller's own read will report).
#[cfg(unix)]
pub fn others_may_access(path: &Path) -> Option<bool> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    Some(mode & SHARED_BITS != 0)
}

#[cfg(not(unix))]
pub fn others_may_access(_path: &Path) -> Option<bool> {
    Some(false)
}
