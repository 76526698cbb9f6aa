//! Where the office keeps everything — an SQLite file (the default) or a PostgreSQL server —
//! and running one transaction of the office's SQL on it: on SQLite off the async threads
//! under the file's one writer, on PostgreSQL on a pooled connection, again when the server
//! broke it off to resolve a deadlock.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use deadpool_postgres::Pool;
use futures::future::BoxFuture;

use super::postgres::{self, DEFAULT_POOL_SIZE, MAX_ATTEMPTS, worth_retrying};
use super::sql::Tx;
use super::storage::OfficeDb;
use super::storage_error::{StorageError, TransactionError};

/// Where the office's data lives, as `--db` names it.
#[derive(Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// An SQLite file, created when missing.
    Sqlite(PathBuf),
    /// A PostgreSQL database: its connection string (which may hold a password).
    Postgres { url: String, pool_size: usize },
}

impl DbLocation {
    /// A `postgres://` or `postgresql://` URL names a server; anything else is a file.
    pub fn parse(text: &str) -> DbLocation {
        let lower = text.trim_start().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            DbLocation::Postgres {
                url: text.trim().to_string(),
                pool_size: DEFAULT_POOL_SIZE,
            }
        } else {
            DbLocation::Sqlite(PathBuf::from(text))
        }
    }

    /// The same server with `size` connections at most; a file is unchanged.
    pub fn with_pool_size(self, size: usize) -> DbLocation {
        match self {
            DbLocation::Postgres { url, .. } => DbLocation::Postgres {
                url,
                pool_size: size,
            },
            file => file,
        }
    }
}

/// Shown in logs and messages without the password a connection string may carry.
impl fmt::Display for DbLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbLocation::Sqlite(path) => write!(f, "{}", path.display()),
            DbLocation::Postgres { url, .. } => match url.parse::<tokio_postgres::Config>() {
                Ok(config) => {
                    let hosts: Vec<String> = config
                        .get_hosts()
                        .iter()
                        .map(|host| match host {
                            tokio_postgres::config::Host::Tcp(name) => name.clone(),
                            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                        })
                        .collect();
                    write!(
                        f,
                        "PostgreSQL database `{}` on {}",
                        config.get_dbname().unwrap_or("(default)"),
                        hosts.join(", ")
                    )
                }
                Err(_) => write!(f, "PostgreSQL (an unreadable connection string)"),
            },
        }
    }
}

impl fmt::Debug for DbLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbLocation({self})")
    }
}

/// One transaction's work: given the transaction, its future. Cloned for each attempt.
pub trait Work<T, E>:
    for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<T, E>> + Clone + Send + 'static
{
}

impl<T, E, F> Work<T, E> for F where
    F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<T, E>> + Clone + Send + 'static
{
}

/// The open database, shared by every request. Cheap to clone.
#[derive(Clone)]
pub enum Database {
    /// One connection behind a mutex: SQLite has one writer at a time anyway, and batches
    /// commit in milliseconds.
    Sqlite(Arc<Mutex<OfficeDb>>),
    Postgres(Pool),
}

impl Database {
    /// Opens (creating or migrating as needed) the database at `location`.
    pub async fn open(location: &DbLocation) -> Result<Database, StorageError> {
        match location {
            DbLocation::Sqlite(path) => {
                let path = path.clone();
                let db = tokio::task::spawn_blocking(move || OfficeDb::open(&path))
                    .await
                    .map_err(|e| StorageError::Task(e.to_string()))??;
                Ok(Database::Sqlite(Arc::new(Mutex::new(db))))
            }
            DbLocation::Postgres { url, pool_size } => {
                Ok(Database::Postgres(postgres::open(url, *pool_size).await?))
            }
        }
    }

    /// An SQLite database in memory with the current schema, for tests that store fast.
    #[cfg(test)]
    pub fn in_memory() -> Database {
        let db = OfficeDb::open_in_memory().expect("an in-memory database opens");
        Database::Sqlite(Arc::new(Mutex::new(db)))
    }

    /// The SQLite database itself, for tests that reach under the office's SQL.
    #[cfg(test)]
    pub fn sqlite(&self) -> std::sync::MutexGuard<'_, OfficeDb> {
        match self {
            Database::Sqlite(db) => db.lock().unwrap_or_else(PoisonError::into_inner),
            Database::Postgres(_) => panic!("not an SQLite database"),
        }
    }

    /// Runs `work` in one transaction and commits it when it succeeds. On PostgreSQL a
    /// transaction the server broke off is run again, at most [`MAX_ATTEMPTS`] times.
    pub async fn transaction<T, E>(&self, work: impl Work<T, E>) -> Result<T, E>
    where
        T: Send + 'static,
        E: TransactionError,
    {
        match self {
            Database::Sqlite(db) => {
                let db = db.clone();
                // A panic while the lock was held can only have happened inside a transaction,
                // which is rolled back before the next: the connection is still sound.
                let run = move || {
                    db.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .transaction(work)
                };
                // Off the async threads when there are some; the command line has none.
                if tokio::runtime::Handle::try_current().is_ok() {
                    tokio::task::spawn_blocking(run)
                        .await
                        .map_err(|e| E::from(StorageError::Task(e.to_string())))?
                } else {
                    run()
                }
            }
            Database::Postgres(pool) => {
                let mut attempt = 1;
                loop {
                    match run_on_postgres(pool, work.clone()).await {
                        Err(e)
                            if attempt < MAX_ATTEMPTS
                                && e.storage().is_some_and(worth_retrying) =>
                        {
                            attempt += 1;
                            tracing::debug!(attempt, "PostgreSQL broke a transaction off; again");
                        }
                        done => return done,
                    }
                }
            }
        }
    }
}

async fn run_on_postgres<T, E: TransactionError>(
    pool: &Pool,
    work: impl Work<T, E>,
) -> Result<T, E> {
    let mut client = pool
        .get()
        .await
        .map_err(|e| E::from(StorageError::Pool(e.to_string())))?;
    let transaction = client
        .transaction()
        .await
        .map_err(|e| E::from(StorageError::Postgres(e)))?;
    let done = {
        let mut tx = Tx::postgres(&transaction);
        match work(&mut tx).await {
            Ok(value) => tx.finish().await.map(|()| value).map_err(E::from),
            Err(e) => Err(e),
        }
    };
    match done {
        Ok(value) => {
            transaction
                .commit()
                .await
                .map_err(|e| E::from(StorageError::Postgres(e)))?;
            Ok(value)
        }
        // Dropping the transaction rolls it back.
        Err(e) => Err(e),
    }
}

impl OfficeDb {
    /// Runs `work` in one `BEGIN IMMEDIATE` transaction on this thread, and commits it when it
    /// succeeds. SQLite's part of a [`Tx`] never waits, so its future is done when first
    /// polled (rolled back as failed if it was not).
    pub fn transaction<T, E: TransactionError>(&mut self, work: impl Work<T, E>) -> Result<T, E> {
        let connection = self.connection_mut();
        let sqlite = |e| E::from(StorageError::Sqlite(e));
        // A transaction left open by a panic in the middle of one is given up first.
        if !connection.is_autocommit() {
            connection.execute_batch("ROLLBACK").map_err(sqlite)?;
        }
        connection
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(sqlite)?;
        let done = done_at_once(async {
            let mut tx = Tx::sqlite(connection);
            let value = work(&mut tx).await?;
            tx.finish().await.map_err(E::from)?;
            Ok(value)
        })
        .unwrap_or_else(|| {
            Err(E::from(StorageError::Task(
                "an SQLite transaction waited for something".into(),
            )))
        });
        let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
        connection.execute_batch(end).map_err(sqlite)?;
        done
    }
}

/// The value of a future that needs no waiting, polled once on this thread; `None` if it did
/// wait after all. (A thread-blocking executor could not be used here: the caller may already
/// be running inside one.)
fn done_at_once<T>(future: impl std::future::Future<Output = T>) -> Option<T> {
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).poll(&mut context) {
        std::task::Poll::Ready(value) => Some(value),
        std::task::Poll::Pending => None,
    }
}
