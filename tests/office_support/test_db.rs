//! Where a test office keeps its data: a fresh SQLite file in the test's folder, or, when
//! `CONCERN_OFFICE_TEST_POSTGRES` names a PostgreSQL server (`.ci/run` starts a throwaway one
//! for the second run of the office's tests), a fresh database of its own on that server. The
//! tests read and write under the office through it in the SQL both engines speak.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use concern_kiosk::office::{DbLocation, POSTGRES_VARIABLE, create_database};

/// One test office's database.
#[derive(Debug, Clone)]
pub enum TestDb {
    Sqlite(PathBuf),
    Postgres(String),
}

impl TestDb {
    /// A fresh database: `office.db` in `dir`, or a new database on the server the
    /// environment names.
    pub fn new(dir: &Path) -> TestDb {
        match std::env::var(POSTGRES_VARIABLE) {
            Ok(url) if !url.trim().is_empty() => TestDb::Postgres(fresh_postgres_database(&url)),
            _ => TestDb::Sqlite(dir.join("office.db")),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres(_))
    }

    pub fn location(&self) -> DbLocation {
        match self {
            TestDb::Sqlite(path) => DbLocation::Sqlite(path.clone()),
            TestDb::Postgres(url) => DbLocation::parse(url),
        }
    }

    /// What `concern-office --db` takes.
    pub fn arg(&self) -> OsString {
        match self {
            TestDb::Sqlite(path) => path.clone().into_os_string(),
            TestDb::Postgres(url) => url.into(),
        }
    }

    /// The one integer `sql` selects.
    pub fn count(&self, sql: &str) -> i64 {
        let rows = self.query(&format!("SELECT CAST(({sql}) AS TEXT)"), &[]);
        rows[0][0]
            .as_deref()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("`{sql}` is a count"))
    }

    /// Every row of `sql`, each column as text (select text columns, or `CAST` them).
    /// Parameters are `$1`, `$2`…, given as text.
    pub fn query(&self, sql: &str, params: &[&str]) -> Vec<Vec<Option<String>>> {
        match self {
            TestDb::Sqlite(path) => {
                let db = rusqlite::Connection::open(path).expect("open the office database");
                let mut statement = db.prepare(&sqlite_dialect(sql)).expect("a query");
                let width = statement.column_count();
                statement
                    .query_map(rusqlite::params_from_iter(params), |row| {
                        (0..width).map(|i| row.get(i)).collect()
                    })
                    .expect("the query runs")
                    .collect::<Result<_, _>>()
                    .expect("text columns")
            }
            TestDb::Postgres(url) => {
                on_postgres(url, sql, params, |client, sql, params| async move {
                    let rows = client.query(&sql, &text_params(&params)).await?;
                    Ok(rows
                        .iter()
                        .map(|row| (0..row.len()).map(|i| row.get(i)).collect())
                        .collect())
                })
            }
        }
    }

    /// Runs `sql` (parameters as for [`TestDb::query`]); returns the rows it changed.
    pub fn execute(&self, sql: &str, params: &[&str]) -> u64 {
        match self {
            TestDb::Sqlite(path) => {
                let db = rusqlite::Connection::open(path).expect("open the office database");
                let changed = db
                    .execute(&sqlite_dialect(sql), rusqlite::params_from_iter(params))
                    .expect("the statement runs");
                u64::try_from(changed).expect("a count")
            }
            TestDb::Postgres(url) => {
                on_postgres(url, sql, params, |client, sql, params| async move {
                    client.execute(&sql, &text_params(&params)).await
                })
            }
        }
    }
}

/// `$1` becomes `?1`, which SQLite numbers by its digits.
fn sqlite_dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let numbered = c == '$' && chars.peek().is_some_and(char::is_ascii_digit);
        out.push(if numbered { '?' } else { c });
    }
    out
}

/// Runs `call` on a connection to `url`, on a thread of its own with its own runtime, so that
/// sync and async tests alike can use it.
fn on_postgres<T, F>(
    url: &str,
    sql: &str,
    params: &[&str],
    call: impl FnOnce(tokio_postgres::Client, String, Vec<String>) -> F + Send + 'static,
) -> T
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
{
    let (url, sql) = (url.to_owned(), sql.to_owned());
    let params: Vec<String> = params.iter().map(|p| (*p).to_owned()).collect();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connect to the test PostgreSQL server");
            tokio::spawn(connection);
            call(client, sql, params).await.expect("the statement runs")
        })
    })
    .join()
    .expect("the PostgreSQL thread")
}

/// Text parameters, which a statement casts where it needs another type.
fn text_params(params: &[String]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

/// Creates a database of its own for one test on the server of `admin_url`; returns its URL.
fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("office_test_{}", uuid::Uuid::now_v7().simple());
    let admin_url = admin_url.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(create_database(&admin_url, &name))
            .expect("a database of the test's own")
    })
    .join()
    .expect("the PostgreSQL thread")
}
