//! The running office: the shared state (database and tokens), the router, and serving it on
//! a listener until told to stop.

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use super::EXPORT_PATH;
use super::intake::MAX_COMPRESSED_BODY_BYTES;
use super::routes;
use super::storage::{OfficeDb, StorageError, StoredConcern};
use super::tokens::TokenTable;
use crate::concern::ListKind;
use crate::upload::wire::{BATCHES_PATH, HEALTH_PATH};

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

/// The office's routes, ready to serve.
pub fn router(office: Office) -> Router {
    Router::new()
        .route(BATCHES_PATH, post(routes::receive_batch))
        .route(EXPORT_PATH, get(routes::export))
        .route(HEALTH_PATH, get(routes::health))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_COMPRESSED_BODY_BYTES))
        .with_state(office)
}

/// Serves the office on `listener` until the process ends. Tests bind `127.0.0.1:0`, read the
/// address, and `tokio::spawn(serve(listener, office))`.
pub async fn serve(listener: TcpListener, office: Office) -> std::io::Result<()> {
    serve_until(listener, office, std::future::pending()).await
}

/// Serves the office until `shutdown` completes, then finishes the requests in flight (a batch
/// being stored is committed and answered) and returns.
pub async fn serve_until<F>(
    listener: TcpListener,
    office: Office,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router(office))
        .with_graceful_shutdown(shutdown)
        .await
}
