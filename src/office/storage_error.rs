//! Why the office's database failed, on either engine, and which failures of a transaction
//! are worth running it again for.

use std::path::PathBuf;

use thiserror::Error;

/// Why the database could not be opened, written or read.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("cannot open the office database {file}: {source}")]
    Open {
        file: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the office database {file} has schema version {found}, newer than this concern-office understands ({known}); run the newer concern-office"
    )]
    NewerSchema {
        file: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("cannot make the office database file {file} private (mode 0600): {source}")]
    Private {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("the office database {file} failed its integrity check: {report}")]
    Corrupt { file: PathBuf, report: String },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("cannot reach the PostgreSQL server: {0}")]
    Pool(String),
    #[error("a database task stopped before it finished: {0}")]
    Task(String),
    #[error("the PostgreSQL connection string is not usable: {problem}")]
    Url { problem: String },
    #[error("a row read back has no column {index} as {want}")]
    Column { index: usize, want: &'static str },
    #[error("stored concern {id} cannot be read back: {problem}")]
    BadRow { id: String, problem: String },
}

/// An error of a transaction, which may be one PostgreSQL asks to retry.
pub trait TransactionError: From<StorageError> + Send + 'static {
    fn storage(&self) -> Option<&StorageError>;
}

impl TransactionError for StorageError {
    fn storage(&self) -> Option<&StorageError> {
        Some(self)
    }
}
