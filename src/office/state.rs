//! The office's shared state: its database and its kiosks' tokens, shared by every request.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::storage::{OfficeDb, StorageError, StoredConcern};
use super::tokens::TokenTable;
use crate::concern::ListKind;

/// The office receiver: its database and its tokens. Cheap to clone; clones share both.
///
/// One SQLite connection behind a mutex: batches are small and commit in milliseconds, so
/// serialising them costs little and rules out write contention between kiosks.
#[derive(Clone)]
pub struct Office {
    db: Arc<Mutex<OfficeDb>>,
    tokens: Arc<TokenTable>,
}

impl Office {
    /// Opens (creating if needed) the database at `db_path` and takes the kiosks' tokens.
    pub fn open(db_path: impl AsRef<Path>, tokens: TokenTable) -> Result<Office, StorageError> {
        let db = OfficeDb::open(db_path.as_ref())?;
        Ok(Office {
            db: Arc::new(Mutex::new(db)),
            tokens: Arc::new(tokens),
        })
    }

    /// Every stored concern (or one list's), oldest first. Blocks on the database: call it
    /// outside async code or through `spawn_blocking`.
    pub fn concerns(&self, list: Option<ListKind>) -> Result<Vec<StoredConcern>, StorageError> {
        self.lock_db().concerns(list)
    }

    pub fn tokens(&self) -> &TokenTable {
        &self.tokens
    }

    /// A panic while the lock was held can only have happened inside a transaction, which
    /// rolled back when it was dropped: the connection is still sound, so keep serving.
    pub(super) fn lock_db(&self) -> MutexGuard<'_, OfficeDb> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
