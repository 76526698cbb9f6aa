//! `concern-office migrate --from FILE --to URL`: moves an office's whole database — every
//! concern, batch arrival, case event, account, session, audit line and status-feed row, with
//! their ids and cursors — from its SQLite file to PostgreSQL (or another empty database), in
//! one transaction that commits only when each table's row count and SHA-256 read back from
//! the new database match the old.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use futures::FutureExt;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::cli::on_runtime;
use super::database::{Database, DbLocation};
use super::sql::{Param, SqlRow, Tx, Value, text};
use super::storage_error::{StorageError, TransactionError};

/// One table as it is copied: its columns (the integer ones named apart, since PostgreSQL
/// types a NULL too) and the order its rows are read in, the same on both sides.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    integers: &'static [&'static str],
    order: &'static str,
}

/// In the order rows must arrive: a row only refers to rows of tables above it.
const TABLES: &[Table] = &[
    Table {
        name: "accounts",
        columns: &[
            "name",
            "role",
            "password_hash",
            "created_at",
            "failed_logins",
            "locked_until",
        ],
        integers: &["failed_logins"],
        order: "name",
    },
    Table {
        name: "concerns",
        columns: &[
            "id",
            "kiosk_id",
            "batch_id",
            "received_at",
            "ticket",
            "created_at",
            "created_at_epoch_ms",
            "category",
            "category_zh",
            "category_en",
            "list",
            "colour",
            "due_date",
            "lang",
            "phrases",
            "text",
            "location",
            "phone",
            "tracking_code",
            "check_code",
        ],
        integers: &["created_at_epoch_ms"],
        order: "id",
    },
    Table {
        name: "batches",
        columns: &[
            "arrival",
            "batch_id",
            "kiosk_id",
            "received_at",
            "concern_count",
            "accepted",
            "duplicates",
            "body_sha256",
        ],
        integers: &["arrival", "concern_count", "accepted", "duplicates"],
        order: "arrival",
    },
    Table {
        name: "case_events",
        columns: &[
            "seq",
            "concern_id",
            "at",
            "actor",
            "action",
            "from_state",
            "to_state",
            "note",
        ],
        integers: &["seq"],
        order: "seq",
    },
    Table {
        name: "sessions",
        columns: &["token_sha256", "account", "csrf_token", "expires_at"],
        integers: &[],
        order: "token_sha256",
    },
    Table {
        name: "office_audit",
        columns: &["seq", "at", "account", "what", "detail"],
        integers: &["seq"],
        order: "seq",
    },
    Table {
        name: "status_feed",
        columns: &["cursor", "concern_id", "at"],
        integers: &["cursor"],
        order: "cursor",
    },
];

/// Why nothing was moved.
#[derive(Debug, Error)]
pub enum MigrateError {
    #[error("{0} does not exist: give the office's SQLite file as --from")]
    NoSource(String),
    #[error(
        "{target} already holds {rows} row(s) in `{table}`: the database moved to must be empty, so that nothing is mixed or lost. Nothing was changed"
    )]
    TargetNotEmpty {
        target: String,
        table: &'static str,
        rows: i64,
    },
    #[error(
        "`{table}` read back from {target} is not what was copied ({copied} rows, SHA-256 {expected}; read back {found} rows, SHA-256 {actual}). Nothing was committed"
    )]
    Mismatch {
        target: String,
        table: &'static str,
        copied: usize,
        found: usize,
        expected: String,
        actual: String,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl TransactionError for MigrateError {
    fn storage(&self) -> Option<&StorageError> {
        match self {
            MigrateError::Storage(e) => Some(e),
            _ => None,
        }
    }
}

/// What was moved: each table's rows and their SHA-256, the same on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub tables: Vec<(&'static str, usize, String)>,
}

impl Moved {
    /// One line per table, as `migrate` prints it.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for (table, rows, sha) in &self.tables {
            let _ = writeln!(out, "{table:<13} {rows:>9} rows  sha256 {sha}");
        }
        out
    }
}

/// Moves everything from the SQLite file `from` into the empty database `to`.
pub async fn migrate(from: &Path, to: &DbLocation) -> Result<Moved, MigrateError> {
    if !from.is_file() {
        return Err(MigrateError::NoSource(from.display().to_string()));
    }
    let source = Database::open(&DbLocation::Sqlite(from.to_path_buf())).await?;
    let target = Database::open(to).await?;
    let read: Arc<Vec<Vec<SqlRow>>> =
        Arc::new(source.transaction(|tx| read_tables(tx).boxed()).await?);
    let target_name = to.to_string();
    target
        .transaction(move |tx| async move { write_tables(tx, &read, &target_name).await }.boxed())
        .await
}

async fn read_tables(tx: &mut Tx<'_>) -> Result<Vec<Vec<SqlRow>>, StorageError> {
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        tables.push(read_table(tx, table).await?);
    }
    Ok(tables)
}

async fn read_table(tx: &mut Tx<'_>, table: &Table) -> Result<Vec<SqlRow>, StorageError> {
    tx.query(
        &format!(
            "SELECT {} FROM {} ORDER BY {}",
            table.columns.join(", "),
            table.name,
            table.order
        ),
        &[],
    )
    .await
}

async fn write_tables(
    tx: &mut Tx<'_>,
    read: &[Vec<SqlRow>],
    target: &str,
) -> Result<Moved, MigrateError> {
    for table in TABLES {
        let rows = tx
            .query_opt(&format!("SELECT COUNT(*) FROM {}", table.name), &[])
            .await?
            .map(|row| row.int(0))
            .transpose()?
            .unwrap_or_default();
        if rows > 0 {
            return Err(MigrateError::TargetNotEmpty {
                target: target.to_string(),
                table: table.name,
                rows,
            });
        }
    }
    let mut moved = Moved { tables: Vec::new() };
    for (table, rows) in TABLES.iter().zip(read) {
        let placeholders: Vec<String> =
            (1..=table.columns.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            table.name,
            table.columns.join(", "),
            placeholders.join(", ")
        );
        for row in rows {
            let params = params_of(table, row)?;
            tx.execute(&insert, &params).await?;
        }
        let expected = digest(rows);
        let back = read_table(tx, table).await?;
        let actual = digest(&back);
        if back.len() != rows.len() || actual != expected {
            return Err(MigrateError::Mismatch {
                target: target.to_string(),
                table: table.name,
                copied: rows.len(),
                found: back.len(),
                expected,
                actual,
            });
        }
        moved.tables.push((table.name, rows.len(), expected));
    }
    if tx.is_postgres() {
        // Rows came with their own ids: the server's counters go on after them.
        for (name, column) in [
            ("batches", "arrival"),
            ("case_events", "seq"),
            ("office_audit", "seq"),
        ] {
            tx.query(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{name}', '{column}'),
                         COALESCE((SELECT MAX({column}) FROM {name}), 0) + 1, false)"
                ),
                &[],
            )
            .await?;
        }
        tx.execute(
            "UPDATE status_feed_counter
             SET last = COALESCE((SELECT MAX(cursor) FROM status_feed), 0)",
            &[],
        )
        .await?;
    }
    Ok(moved)
}

fn params_of<'r>(table: &Table, row: &'r SqlRow) -> Result<Vec<Param<'r>>, StorageError> {
    table
        .columns
        .iter()
        .zip(row.values())
        .enumerate()
        .map(|(index, (column, value))| {
            let integer = table.integers.contains(column);
            match (value, integer) {
                (Value::Null, false) => Ok(Param::Text(None)),
                (Value::Null, true) => Ok(Param::Int(None)),
                (Value::Text(t), false) => Ok(text(t)),
                (Value::Int(n), true) => Ok(Param::Int(Some(*n))),
                _ => Err(StorageError::Column {
                    index,
                    want: if integer { "an integer" } else { "text" },
                }),
            }
        })
        .collect()
}

/// SHA-256 of the rows in order, each value tagged with its kind so that `1` and `"1"`, or a
/// NULL and an empty text, differ.
fn digest(rows: &[SqlRow]) -> String {
    let mut hash = Sha256::new();
    for row in rows {
        for value in row.values() {
            match value {
                Value::Null => hash.update(b"N"),
                Value::Int(n) => {
                    hash.update(b"I");
                    hash.update(n.to_le_bytes());
                }
                Value::Text(t) => {
                    hash.update(b"T");
                    hash.update(u64::try_from(t.len()).unwrap_or(u64::MAX).to_le_bytes());
                    hash.update(t.as_bytes());
                }
            }
        }
        hash.update(b"\n");
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The whole of `concern-office migrate`, for the binary: exit 0 with the report, 1 when
/// nothing could be moved.
pub fn run_migrate(from: &Path, to: &DbLocation) -> ExitCode {
    match on_runtime(migrate(from, to)) {
        Ok(Ok(moved)) => {
            print!("{}", moved.report());
            println!(
                "moved {} into {to}; counts and SHA-256 match",
                from.display()
            );
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("concern-office: {e}");
            ExitCode::from(1)
        }
        Err(code) => code,
    }
}
