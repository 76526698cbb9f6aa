//! The reference office receiver behind `concern-office`: takes batches from the kiosks
//! (`POST /v1/batches`), stores each concern once, forever, exports them as CSV for the
//! council, tells the kiosks what became of every case (`GET /v1/updates`) and shows each
//! resident theirs (`GET /status/{code}`). The protocol is documented in `docs/upload-api.md` and `docs/openapi.yaml`.
//!
//! Kiosk tests run the real office in-process:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use concern_kiosk::office::{Office, TokenTable, serve};
//! let tokens = TokenTable::parse("wanjia-01 a-long-random-token-0123", "tokens")?;
//! let office = Office::open("/tmp/office.db", tokens)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(serve(listener, office));
//! # let _ = addr; Ok(()) }
//! ```

mod accounts;
pub mod board;
mod case_store;
pub mod cases;
mod cli;
mod database;
mod export_csv;
#[cfg(test)]
mod fixtures;
mod intake;
#[cfg(test)]
mod intake_properties;
mod limits;
mod migrate;
mod postgres;
mod private_files;
mod ratings;
mod records;
mod routes;
mod server;
mod sessions;
mod sql;
mod state;
mod status_feed;
mod status_page;
mod storage;
mod storage_error;
mod tokens;
mod user_cli;
mod validation;

/// `GET` this to see the office is up; no token needed (`doctor` calls it).
pub use crate::protocol::wire::HEALTH_PATH;
pub use accounts::{
    Account, AccountError, LOCKOUT, MAX_FAILED_LOGINS, MIN_PASSWORD_CHARS, Role, SignIn,
};
pub use case_store::{ActError, CaseRecord};
pub use cli::{OfficeCommandError, ServeOptions, run_serve, serve_command};
pub use database::{Database, DbLocation};
pub use export_csv::{OFFICE_COLUMNS, export_csv};
pub use intake::{MAX_COMPRESSED_BODY_BYTES, MAX_JSON_BYTES};
pub use limits::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_DECOMPRESSIONS, DEFAULT_SHUTDOWN_DEADLINE, LimitError, LimitFlags,
    MAX_CONNECTIONS_LIMIT, MAX_DECOMPRESSIONS_LIMIT, MAX_HEADER_READ_TIMEOUT,
    MAX_SHUTDOWN_DEADLINE, RESERVED_FILE_DESCRIPTORS, ServerLimits,
};
pub use migrate::{MigrateError, Moved, migrate, run_migrate};
pub use postgres::{DEFAULT_POOL_SIZE, MAX_POOL_SIZE, POSTGRES_VARIABLE, create_database};
pub use routes::{BODY_READ_TIMEOUT, BUSY_RETRY_AFTER, router};
pub use server::{serve, serve_until};
pub use state::{
    BoardSettings, DEFAULT_COMMUNITY, DEFAULT_HOTLINE, DEFAULT_RETENTION_DAYS, MAX_HOTLINE_CHARS,
    Office, parse_hotline,
};
pub use status_feed::{CursorError, MAX_CURSOR};
pub use storage::{StorageError, StoreBatchError, StoredConcern};
pub use tokens::{
    Caller, MAX_KIOSK_ID_CHARS, MAX_TOKENS_FILE_BYTES, MIN_TOKEN_CHARS, STAFF_KIOSK_ID,
    TokenFileError, TokenTable,
};
pub use user_cli::{UserCommandError, run_user_add};
pub use validation::{
    InvalidField, MAX_CATEGORY_CODE_CHARS, MAX_CONCERNS_PER_BATCH, MAX_ECHO_CHARS, MAX_LABEL_CHARS,
    MAX_RATINGS_PER_BATCH, MAX_TICKET_PREFIX_LETTERS, echo,
};

/// `GET` this for the CSV export (office-staff token).
pub const EXPORT_PATH: &str = "/v1/export.csv";
