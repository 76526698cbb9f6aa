//! The office's SQL, spoken once for both engines: a transaction on either SQLite or
//! PostgreSQL ([`Tx`]), its parameters ([`Param`]) and its rows ([`SqlRow`]). Every query the
//! office runs is written here in the dialect both engines share, with `$1`-style parameters;
//! where the engines must differ (row locks, the status feed's cursors) [`Tx`] says how.

use chrono::{DateTime, SecondsFormat, Utc};
use tokio_postgres::types::{ToSql, Type};

use super::storage_error::StorageError;
use crate::protocol::concern_row::TextColumns;

/// One parameter of a query: text or a 64-bit integer, either of which may be NULL. Every
/// column the office stores is one of the two, on both engines.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

pub fn text(value: &str) -> Param<'_> {
    Param::Text(Some(value))
}

pub fn opt_text(value: Option<&str>) -> Param<'_> {
    Param::Text(value)
}

pub fn int(value: i64) -> Param<'static> {
    Param::Int(Some(value))
}

/// A count or index as the databases hold it (signed 64-bit). Everything the office counts
/// is bounded far below it, so the fallback is never reached.
pub fn count(n: usize) -> Param<'static> {
    int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A value read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// A row read back, its columns in the order of the `SELECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlRow(Vec<Value>);

impl SqlRow {
    fn column(&self, index: usize) -> Result<&Value, StorageError> {
        self.0.get(index).ok_or(StorageError::Column {
            index,
            want: "a column",
        })
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>, StorageError> {
        match self.column(index)? {
            Value::Null => Ok(None),
            Value::Text(text) => Ok(Some(text.clone())),
            Value::Int(_) => Err(StorageError::Column {
                index,
                want: "text",
            }),
        }
    }

    pub fn text(&self, index: usize) -> Result<String, StorageError> {
        self.opt_text(index)?.ok_or(StorageError::Column {
            index,
            want: "text, not NULL",
        })
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, StorageError> {
        match self.column(index)? {
            Value::Null => Ok(None),
            Value::Int(n) => Ok(Some(*n)),
            Value::Text(_) => Err(StorageError::Column {
                index,
                want: "an integer",
            }),
        }
    }

    pub fn int(&self, index: usize) -> Result<i64, StorageError> {
        self.opt_int(index)?.ok_or(StorageError::Column {
            index,
            want: "an integer, not NULL",
        })
    }

    /// Every column, for copying a row from one engine to the other.
    pub fn values(&self) -> &[Value] {
        &self.0
    }

    fn from_sqlite(row: &rusqlite::Row<'_>, width: usize) -> rusqlite::Result<SqlRow> {
        use rusqlite::types::ValueRef;
        let mut values = Vec::with_capacity(width);
        for index in 0..width {
            values.push(match row.get_ref(index)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Text(bytes) => Value::Text(String::from_utf8_lossy(bytes).into_owned()),
                ValueRef::Real(_) | ValueRef::Blob(_) => {
                    return Err(rusqlite::Error::InvalidColumnType(
                        index,
                        "a real or blob where text or an integer belongs".into(),
                        row.get_ref(index)?.data_type(),
                    ));
                }
            });
        }
        Ok(SqlRow(values))
    }

    fn from_postgres(row: &tokio_postgres::Row) -> Result<SqlRow, StorageError> {
        let mut values = Vec::with_capacity(row.len());
        for (index, column) in row.columns().iter().enumerate() {
            let ty = column.type_();
            let value = if *ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(index)?.map(Value::Int)
            } else if *ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(index)?
                    .map(|n| Value::Int(i64::from(n)))
            } else if *ty == Type::INT2 {
                row.try_get::<_, Option<i16>>(index)?
                    .map(|n| Value::Int(i64::from(n)))
            } else if *ty == Type::BOOL {
                row.try_get::<_, Option<bool>>(index)?
                    .map(|b| Value::Int(i64::from(b)))
            } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                row.try_get::<_, Option<String>>(index)?.map(Value::Text)
            } else {
                return Err(StorageError::Column {
                    index,
                    want: "text, an integer or a boolean",
                });
            };
            values.push(value.unwrap_or(Value::Null));
        }
        Ok(SqlRow(values))
    }
}

impl TextColumns for SqlRow {
    type Error = StorageError;

    fn text(&self, index: usize) -> Result<String, StorageError> {
        SqlRow::text(self, index)
    }

    fn opt_text(&self, index: usize) -> Result<Option<String>, StorageError> {
        SqlRow::opt_text(self, index)
    }
}

/// Which engine a transaction runs on.
enum Connection<'a> {
    /// Inside `BEGIN IMMEDIATE`: the one writer of the file, so nothing else needs locking.
    /// Held `&mut` so that the transaction can move between threads (a connection is `Send`,
    /// not `Sync`).
    Sqlite(&'a mut rusqlite::Connection),
    Postgres(&'a deadpool_postgres::Transaction<'a>),
}

/// One transaction of the office. The changes residents can see are gathered as they are
/// made and given their status-feed cursors last, just before the commit (see
/// [`Tx::finish`]).
pub struct Tx<'a> {
    connection: Connection<'a>,
    changes: Vec<(String, DateTime<Utc>)>,
}

impl<'a> Tx<'a> {
    pub(super) fn sqlite(connection: &'a mut rusqlite::Connection) -> Tx<'a> {
        Tx {
            connection: Connection::Sqlite(connection),
            changes: Vec::new(),
        }
    }

    pub(super) fn postgres(transaction: &'a deadpool_postgres::Transaction<'a>) -> Tx<'a> {
        Tx {
            connection: Connection::Postgres(transaction),
            changes: Vec::new(),
        }
    }

    /// Whether this transaction runs on PostgreSQL (for the few statements the engines spell
    /// differently).
    pub fn is_postgres(&self) -> bool {
        matches!(self.connection, Connection::Postgres(_))
    }

    /// Every row of `sql`.
    pub async fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<SqlRow>, StorageError> {
        match &mut self.connection {
            Connection::Sqlite(connection) => {
                let mut statement = connection.prepare_cached(&sqlite_dialect(sql))?;
                let width = statement.column_count();
                let mut rows =
                    statement.query(rusqlite::params_from_iter(sqlite_params(params)))?;
                let mut read = Vec::new();
                while let Some(row) = rows.next()? {
                    read.push(SqlRow::from_sqlite(row, width)?);
                }
                Ok(read)
            }
            Connection::Postgres(transaction) => {
                let statement = transaction.prepare_cached(sql).await?;
                let rows = transaction
                    .query(&statement, &postgres_params(params))
                    .await?;
                rows.iter().map(SqlRow::from_postgres).collect()
            }
        }
    }

    /// The first row of `sql`, if there is one.
    pub async fn query_opt(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Option<SqlRow>, StorageError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// The first row of `sql`, read so that no other transaction can change the rows it reads
    /// until this one ends: `FOR UPDATE` on PostgreSQL, where several office processes write
    /// at once; on SQLite the transaction is already the only writer.
    pub async fn query_locking(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Option<SqlRow>, StorageError> {
        if self.is_postgres() {
            self.query_opt(&format!("{sql} FOR UPDATE"), params).await
        } else {
            self.query_opt(sql, params).await
        }
    }

    /// Runs `sql`; returns how many rows it changed.
    pub async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StorageError> {
        match &mut self.connection {
            Connection::Sqlite(connection) => {
                let mut statement = connection.prepare_cached(&sqlite_dialect(sql))?;
                let changed =
                    statement.execute(rusqlite::params_from_iter(sqlite_params(params)))?;
                Ok(u64::try_from(changed).unwrap_or(u64::MAX))
            }
            Connection::Postgres(transaction) => {
                let statement = transaction.prepare_cached(sql).await?;
                Ok(transaction
                    .execute(&statement, &postgres_params(params))
                    .await?)
            }
        }
    }

    /// Notes a change of concern `id` made `at` for the status feed: it gets its row, and its
    /// cursor, when the transaction finishes, so a kiosk never sees one without the other.
    pub fn note_change(&mut self, id: &str, at: DateTime<Utc>) {
        self.changes.push((id.to_string(), at));
    }

    /// Writes the status feed's rows for the changes noted, in the order they were made; to be
    /// called last before the commit. On PostgreSQL the cursors come from a one-row counter
    /// whose lock is held until the commit: a transaction that takes cursors after another
    /// waits for it to commit first, so cursors become visible in the order they were handed
    /// out and a kiosk reading after cursor N never later finds a change below N. Taking the
    /// counter last keeps that wait to the commit itself.
    pub(super) async fn finish(&mut self) -> Result<(), StorageError> {
        let changes = std::mem::take(&mut self.changes);
        if changes.is_empty() {
            return Ok(());
        }
        let mut next = if self.is_postgres() {
            let row = self
                .query_opt(
                    "UPDATE status_feed_counter SET last = last + $1 RETURNING last",
                    &[count(changes.len())],
                )
                .await?
                .ok_or(StorageError::Column {
                    index: 0,
                    want: "the status feed's counter row",
                })?;
            let last = row.int(0)?;
            Some(last - i64::try_from(changes.len()).unwrap_or(i64::MAX) + 1)
        } else {
            None
        };
        for (id, at) in &changes {
            let at = at.to_rfc3339_opts(SecondsFormat::Secs, true);
            match next.as_mut() {
                Some(cursor) => {
                    self.execute(
                        "INSERT INTO status_feed (cursor, concern_id, at) VALUES ($1, $2, $3)",
                        &[int(*cursor), text(id), text(&at)],
                    )
                    .await?;
                    *cursor += 1;
                }
                // AUTOINCREMENT, under the file's one writer.
                None => {
                    self.execute(
                        "INSERT INTO status_feed (concern_id, at) VALUES ($1, $2)",
                        &[text(id), text(&at)],
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// `$1` becomes `?1`: SQLite numbers a `$name` parameter by where it first appears, not by
/// its digits, so the two spellings only agree when `?N` is used.
fn sqlite_dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn sqlite_params<'p>(params: &'p [Param<'_>]) -> impl Iterator<Item = &'p dyn rusqlite::ToSql> {
    params.iter().map(|param| -> &dyn rusqlite::ToSql {
        match param {
            Param::Text(value) => value,
            Param::Int(value) => value,
        }
    })
}

fn postgres_params<'p>(params: &'p [Param<'_>]) -> Vec<&'p (dyn ToSql + Sync)> {
    params
        .iter()
        .map(|param| -> &(dyn ToSql + Sync) {
            match param {
                Param::Text(value) => value,
                Param::Int(value) => value,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_the_way_sqlite_reads_them() {
        assert_eq!(
            sqlite_dialect("SELECT $2, $10 WHERE a = $1 AND b = '$x'"),
            "SELECT ?2, ?10 WHERE a = ?1 AND b = '$x'"
        );
    }

    #[test]
    fn a_row_says_which_column_is_not_what_was_asked() {
        let row = SqlRow(vec![Value::Text("x".into()), Value::Null]);
        assert_eq!(row.text(0).unwrap(), "x");
        assert_eq!(row.opt_int(1).unwrap(), None);
        assert!(matches!(
            row.int(0),
            Err(StorageError::Column { index: 0, .. })
        ));
        assert!(matches!(
            row.text(5),
            Err(StorageError::Column { index: 5, .. })
        ));
    }
}
