//! The SQLite store: schema and migrations, filing a concern atomically with its ticket number,
//! print job and upload outbox row, the audit log, and what happens to a corrupt database.
//!
//! Durability: WAL with `synchronous=FULL`, so a transaction that has committed survives a power
//! cut. Filing is one `BEGIN IMMEDIATE` transaction; nothing is printed or shown before it
//! commits.
//!
//! Ticket numbers are never issued twice:
//! - crash or power cut: the counter and the concern commit together, so a number is either
//!   issued and stored or was never shown to anyone;
//! - clock set back: the counter is keyed by the ticket's `MMDD` text, not by the date, so going
//!   back to a day (or the same day of an earlier or later year) continues after its last number;
//! - corrupt database set aside: the counters are salvaged from the old file when it can still
//!   be read; when it cannot, every day's numbering in the new file starts above a floor that
//!   grows by [`UNREADABLE_FLOOR_STEP`] per unreadable file, kept in the `ticket-floor` file beside
//!   the database so that it outlives the database itself.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use thiserror::Error;
use tracing::{error, info, warn};

mod backup;

mod print_jobs;
mod states;
#[cfg(test)]
pub(crate) mod test_fixtures;
mod upload_outbox;

pub use backup::{BACKUP_DIR, BackupReport};
pub use print_jobs::{JobKind, PrintJob};
pub use states::{BatchState, JobState, OutboxState};
pub use upload_outbox::{RejectedBatch, StoredBatch, UploadStatus, utc_text};

use crate::concern::{Concern, NewConcern, format_ticket, ticket_day};

/// The database file inside the data folder.
pub const DB_FILE: &str = "concerns.db";
/// The file that keeps the ticket floor across set-aside databases.
const FLOOR_FILE: &str = "ticket-floor";
/// How far numbering jumps after a database that could not be read at all was set aside. A
/// kiosk files a few dozen concerns a day; 500 keeps the new numbers clear of any the lost file
/// could have issued on the same day.
pub const UNREADABLE_FLOOR_STEP: u32 = 500;
/// How long a writer waits for another process (a `submit` beside the running kiosk) to commit.
/// Filing takes milliseconds; five seconds covers a slow SD card.
const BUSY_TIMEOUT_MS: u64 = 5_000;
/// The suffix of a database file that was set aside as corrupt.
pub const SET_ASIDE_MARK: &str = ".corrupt-";

/// Each migration brings the schema from version `index` to `index + 1`; never edit one that
/// has shipped, add a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE ticket_counters (
    ticket_day TEXT PRIMARY KEY,   -- MMDD, the part of the ticket number that repeats yearly
    last_seq   INTEGER NOT NULL
);
CREATE TABLE concerns (
    id             TEXT PRIMARY KEY,   -- UUIDv7
    ticket         TEXT NOT NULL UNIQUE,
    created_at     TEXT NOT NULL,      -- RFC 3339 with the kiosk's offset
    created_date   TEXT NOT NULL,      -- the kiosk's local date, YYYY-MM-DD
    category       TEXT NOT NULL,
    category_zh    TEXT NOT NULL,
    category_en    TEXT NOT NULL,
    list           TEXT NOT NULL CHECK (list IN ('demands', 'conflicts')),
    colour         TEXT NOT NULL CHECK (colour IN ('green', 'orange', 'red')),
    due_date       TEXT NOT NULL,
    lang           TEXT NOT NULL,
    phrases        TEXT NOT NULL,      -- JSON array of {"zh", "en"}
    text           TEXT,
    location       TEXT,
    phone          TEXT,
    personal_erased_at TEXT            -- set when retention erased phone and text
);
CREATE INDEX concerns_by_date ON concerns (created_date);
CREATE TABLE print_jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,          -- receipt | summary | test
    concern_id  TEXT REFERENCES concerns (id),
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'printing', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX print_jobs_by_state ON print_jobs (state, id);
CREATE TABLE upload_outbox (
    concern_id  TEXT PRIMARY KEY REFERENCES concerns (id),
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'uploaded')),
    batch_id    TEXT,
    uploaded_at TEXT
);
CREATE INDEX upload_outbox_by_state ON upload_outbox (state);
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,   -- staff | system | cli
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
"#,
    r#"
-- A batch is assembled once and sent byte for byte on every attempt, so a retry keeps its id
-- and its contents. Upload times are UTC (RFC 3339 with Z) so that they compare as text.
CREATE TABLE upload_batches (
    batch_id        TEXT PRIMARY KEY,
    created_at      TEXT NOT NULL,
    body            BLOB NOT NULL,       -- the gzip'd JSON
    concern_count   INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'rejected')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                -- UTC; NULL: at once
    last_attempt_at TEXT,
    last_error      TEXT,
    finished_at     TEXT
);
CREATE INDEX upload_batches_by_state ON upload_batches (state, created_at);
CREATE INDEX upload_outbox_by_batch ON upload_outbox (batch_id);
CREATE INDEX upload_outbox_waiting ON upload_outbox (state, batch_id);
-- A concern's receipt state is looked up for every listed concern.
CREATE INDEX print_jobs_by_concern ON print_jobs (concern_id);
"#,
    r#"
-- The staff daily summary: which day a summary job prints, and the days whose scheduled
-- summary was queued (so a restart at 17:31 does not print it twice).
ALTER TABLE print_jobs ADD COLUMN summary_date TEXT;
CREATE TABLE daily_summaries (
    summary_date TEXT PRIMARY KEY,
    queued_at    TEXT NOT NULL,
    print_job    INTEGER NOT NULL REFERENCES print_jobs (id)
);
CREATE INDEX concerns_by_due_date ON concerns (due_date);
"#,
];

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot use the data folder {path}: {source}")]
    DataFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database {path} is newer (schema {found}) than this program (schema {known})")]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("stored data is damaged: {0}")]
    Damaged(String),
    /// A concern's preset phrases could not be written as JSON for their column.
    #[error("cannot write the phrases as JSON: {0}")]
    PhrasesJson(serde_json::Error),
    /// SQLite itself says the file is damaged (or it is not a database at all).
    #[error("the database {path} is damaged ({reason}); the kiosk sets it aside at its next start")]
    Corrupt { path: PathBuf, reason: String },
    /// The file could not be used right now: locked by another program past the busy timeout,
    /// out of file handles, unreadable folder, I/O error. Nothing is wrong with its contents as
    /// far as anyone knows, so it is never set aside for this.
    #[error(
        "cannot use the database {path} now: {source}. It was left as it is; if another program holds it (sqlite3, a backup), close that and try again"
    )]
    Unavailable {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// What opening the store found, for the log and for `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    Healthy,
    Created,
    /// The file failed its check and was moved aside; a fresh database replaced it.
    SetAside {
        moved_to: PathBuf,
        reason: String,
        counters_salvaged: bool,
        /// Where numbering carries on: above every number the old file may have issued.
        floor: u32,
    },
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// A concern with its delivery state, as `list` and `export` show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConcernRecord {
    #[serde(flatten)]
    pub concern: Concern,
    /// The receipt's print state.
    pub receipt: Option<JobState>,
    /// The upload state.
    pub upload: OutboxState,
    pub uploaded_at: Option<String>,
    pub personal_erased_at: Option<String>,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    floor: u32,
}

impl Store {
    /// Opens (or creates) the database in `data_dir`, checking it first. A file SQLite says is
    /// damaged is moved aside with a timestamp and replaced, so the kiosk keeps working; the
    /// event is logged, kept in the audit log and reported by `doctor` for as long as the
    /// set-aside file is there. A file that is only busy or cannot be opened right now is left
    /// alone: [`StoreError::Unavailable`].
    pub fn open(
        data_dir: &Path,
        now: DateTime<FixedOffset>,
    ) -> Result<(Store, OpenOutcome), StoreError> {
        let path = create_data_folder(data_dir)?;
        let outcome = if !path.exists() {
            OpenOutcome::Created
        } else {
            match check_file(&path)? {
                FileCheck::Healthy => OpenOutcome::Healthy,
                FileCheck::Damaged(reason) => set_aside(&path, &reason, now)?,
            }
        };
        let mut store = Store::connect_at(path)?;
        if let OpenOutcome::SetAside {
            moved_to,
            reason,
            floor,
            ..
        } = &outcome
        {
            error!(moved_to = %moved_to.display(), %reason, "the database was corrupt: set aside, started a fresh one");
            store.note_set_aside(*floor)?;
            store.audit(
                now,
                "system",
                "database-set-aside",
                &format!("{reason}; moved to {}", moved_to.display()),
            )?;
        }
        store.floor = store.read_floor()?;
        Ok((store, outcome))
    }

    /// Opens the database for checking only (`doctor`): a damaged file is reported as
    /// [`StoreError::Corrupt`] and stays where it is, for the kiosk to set aside.
    pub fn open_without_repair(data_dir: &Path) -> Result<Store, StoreError> {
        let path = create_data_folder(data_dir)?;
        if path.exists()
            && let FileCheck::Damaged(reason) = check_file(&path)?
        {
            return Err(StoreError::Corrupt { path, reason });
        }
        let mut store = Store::connect_at(path)?;
        store.floor = store.read_floor()?;
        Ok(store)
    }

    fn connect_at(path: PathBuf) -> Result<Store, StoreError> {
        let conn = connect(&path).map_err(|source| unavailable(&path, source))?;
        let mut store = Store {
            conn,
            path,
            floor: 0,
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let known = MIGRATIONS.len() as u32;
        let found: u32 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version as u32 + 1)?;
            tx.commit()?;
            info!(version = version + 1, "database schema migrated");
        }
        Ok(())
    }

    /// Keeps the floor [`set_aside`] carried over in the fresh database too, beside the
    /// `ticket-floor` file that already holds it.
    fn note_set_aside(&mut self, floor: u32) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        set_meta(&tx, "ticket_floor", &floor.to_string())?;
        tx.commit()?;
        Ok(())
    }

    fn read_floor(&self) -> Result<u32, StoreError> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'ticket_floor'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let stored = stored.and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(stored.max(read_floor_file(&self.path.with_file_name(FLOOR_FILE))))
    }

    /// Files a concern: allocates its ticket number and writes the concern, its receipt print
    /// job and its upload outbox row in one durable transaction.
    pub fn file_concern(
        &mut self,
        new: NewConcern,
        ticket_prefix: &str,
    ) -> Result<Concern, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let day = ticket_day(new.created_at.date_naive());
        let seq: u32 = tx.query_row(
            "INSERT INTO ticket_counters (ticket_day, last_seq) VALUES (?1, ?2 + 1)
             ON CONFLICT (ticket_day) DO UPDATE SET last_seq = max(last_seq, ?2) + 1
             RETURNING last_seq",
            params![day, self.floor],
            |r| r.get(0),
        )?;
        let ticket = format_ticket(ticket_prefix, new.created_at.date_naive(), seq);
        let phrases = serde_json::to_string(&new.phrases).map_err(StoreError::PhrasesJson)?;
        let created_at = new.created_at.to_rfc3339();
        tx.execute(
            "INSERT INTO concerns (id, ticket, created_at, created_date, category, category_zh,
                category_en, list, colour, due_date, lang, phrases, text, location, phone)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                new.id.to_string(),
                ticket,
                created_at,
                new.created_at.date_naive().to_string(),
                new.category,
                new.category_label.zh,
                new.category_label.en,
                new.list.code(),
                new.colour.code(),
                new.due_date.to_string(),
                new.lang.tag(),
                phrases,
                new.text,
                new.location,
                new.phone,
            ],
        )?;
        tx.execute(
            "INSERT INTO print_jobs (kind, concern_id, created_at, updated_at)
             VALUES ('receipt', ?1, ?2, ?2)",
            params![new.id.to_string(), created_at],
        )?;
        tx.execute(
            "INSERT INTO upload_outbox (concern_id) VALUES (?1)",
            params![new.id.to_string()],
        )?;
        tx.commit()?;
        Ok(Concern {
            ticket,
            details: new,
        })
    }

    /// The concerns filed on the kiosk-local dates `from..=until`, oldest first.
    pub fn concerns_between(
        &self,
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
    ) -> Result<Vec<ConcernRecord>, StoreError> {
        let from = from.map_or_else(|| "0000-00-00".to_string(), |d| d.to_string());
        let until = until.map_or_else(|| "9999-99-99".to_string(), |d| d.to_string());
        self.records_where(
            "c.created_date >= ?1 AND c.created_date <= ?2",
            params![from, until],
        )
    }

    /// Concerns filed from `filed_from` up to the day before `before` whose due date is no later
    /// than `due_by` (red ones: all of them; their follow-ups repeat), oldest first.
    pub fn concerns_due_from_earlier_days(
        &self,
        filed_from: NaiveDate,
        before: NaiveDate,
        due_by: NaiveDate,
    ) -> Result<Vec<ConcernRecord>, StoreError> {
        self.records_where(
            "c.created_date >= ?1 AND c.created_date < ?2 AND (c.colour = 'red' OR c.due_date <= ?3)",
            params![filed_from.to_string(), before.to_string(), due_by.to_string()],
        )
    }

    /// How many concerns the office acknowledged between two instants.
    pub fn uploaded_between(
        &self,
        from: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<u32, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM upload_outbox
             WHERE state = ?3 AND uploaded_at >= ?1 AND uploaded_at < ?2",
            params![utc_text(from), utc_text(until), OutboxState::Uploaded],
            |r| r.get(0),
        )?)
    }

    /// The concern with this ticket number (as printed: case and spaces do not matter).
    pub fn concern_by_ticket(&self, ticket: &str) -> Result<Option<ConcernRecord>, StoreError> {
        let wanted: String = ticket
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        Ok(self.records_where("c.ticket = ?1", params![wanted])?.pop())
    }

    pub fn concern_by_id(&self, id: &str) -> Result<Option<ConcernRecord>, StoreError> {
        Ok(self.records_where("c.id = ?1", params![id])?.pop())
    }

    fn records_where(
        &self,
        condition: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ConcernRecord>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {columns},
                    (SELECT state FROM print_jobs p WHERE p.concern_id = c.id AND p.kind = 'receipt'
                        ORDER BY p.id DESC LIMIT 1),
                    o.state, o.uploaded_at, c.personal_erased_at
             FROM concerns c LEFT JOIN upload_outbox o ON o.concern_id = c.id
             WHERE {condition}
             ORDER BY c.created_at, c.ticket",
            columns = crate::protocol::concern_row::CONCERN_ROW_COLUMNS
                .split(", ")
                .map(|column| format!("c.{column}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let rows = statement.query_map(values, |r| {
            let after = crate::protocol::concern_row::CONCERN_ROW_WIDTH;
            Ok((
                crate::protocol::concern_row::ConcernRow::read(r, 0)?,
                r.get::<_, Option<JobState>>(after)?,
                r.get::<_, Option<OutboxState>>(after + 1)?,
                r.get::<_, Option<String>>(after + 2)?,
                r.get::<_, Option<String>>(after + 3)?,
            ))
        })?;
        let mut records = Vec::new();
        for row in rows {
            let (raw, receipt, upload, uploaded_at, personal_erased_at) = row?;
            records.push(ConcernRecord {
                concern: Concern::from(raw.decode().map_err(StoreError::Damaged)?),
                receipt,
                upload: upload.unwrap_or(OutboxState::Pending),
                uploaded_at,
                personal_erased_at,
            });
        }
        Ok(records)
    }

    /// The newest filing time in the store: the clock must not be behind it.
    pub fn latest_created_at(&self) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        let latest: Option<String> = self
            .conn
            .query_row(
                "SELECT created_at FROM concerns ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        latest
            .map(|t| {
                DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| StoreError::Damaged(format!("created_at `{t}`: {e}")))
            })
            .transpose()
    }

    /// `PRAGMA integrity_check`: `Ok(())` or the problems SQLite found.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let problems = pragma_rows(&self.conn, "PRAGMA integrity_check")?;
        if problems == ["ok"] {
            Ok(())
        } else {
            Err(StoreError::Damaged(problems.join("; ")))
        }
    }

    /// Records who did what; staff actions, start-up events and set-aside databases land here.
    pub fn audit(
        &self,
        at: DateTime<FixedOffset>,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO audit_log (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
            params![at.to_rfc3339(), actor, action, detail],
        )?;
        Ok(())
    }

    /// The newest audit entries first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?1")?;
        let rows = statement.query_map([limit], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                detail: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The database files that were set aside as corrupt and are still in the data folder.
    pub fn set_aside_files(&self) -> Result<Vec<PathBuf>, StoreError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let wanted = format!("{DB_FILE}{SET_ASIDE_MARK}");
        let entries = fs::read_dir(dir).map_err(|source| StoreError::DataFolder {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(&wanted) && !n.ends_with("-wal") && !n.ends_with("-shm")
                })
            })
            .collect();
        found.sort();
        Ok(found)
    }
}

fn connect(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    // WAL lets the uploader read while the UI files; FULL makes every commit survive power loss.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        warn!(%mode, "the database is not in WAL mode");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

fn pragma_rows(conn: &Connection, sql: &str) -> Result<Vec<String>, rusqlite::Error> {
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
    rows.collect()
}

/// What the check of an existing file found.
enum FileCheck {
    Healthy,
    /// SQLite says the file is damaged, with its words.
    Damaged(String),
}

fn create_data_folder(data_dir: &Path) -> Result<PathBuf, StoreError> {
    fs::create_dir_all(data_dir).map_err(|source| StoreError::DataFolder {
        path: data_dir.to_path_buf(),
        source,
    })?;
    Ok(data_dir.join(DB_FILE))
}

fn unavailable(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Unavailable {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether an error is SQLite's own word that the file is damaged, as opposed to it being
/// busy, locked, unopenable or unreadable right now.
fn says_damaged(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// `PRAGMA quick_check` on an existing file, waiting out another writer like every connection.
/// Only SQLite's "corrupt" or "not a database", or a check that is not `ok`, count as damage;
/// any other failure is [`StoreError::Unavailable`].
fn check_file(path: &Path) -> Result<FileCheck, StoreError> {
    let classify = |error: rusqlite::Error| {
        if says_damaged(&error) {
            Ok(FileCheck::Damaged(error.to_string()))
        } else {
            Err(unavailable(path, error))
        }
    };
    let conn = match Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE) {
        Ok(conn) => conn,
        Err(error) => return classify(error),
    };
    if let Err(error) = conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS)) {
        return classify(error);
    }
    match pragma_rows(&conn, "PRAGMA quick_check") {
        Ok(rows) if rows == ["ok"] => Ok(FileCheck::Healthy),
        Ok(rows) => Ok(FileCheck::Damaged(format!(
            "quick_check: {}",
            rows.join("; ")
        ))),
        Err(error) => classify(error),
    }
}

/// Moves the database and its WAL aside as `concerns.db.corrupt-YYYYMMDDTHHMMSS`. The ticket
/// floor that keeps every number the old file issued from coming out again is written durably
/// first, so a power cut at any point of the move cannot issue a number twice: above the
/// highest counter SQLite can still read from the old file, or [`UNREADABLE_FLOOR_STEP`] above
/// the previous floor when it can read none.
fn set_aside(
    path: &Path,
    reason: &str,
    now: DateTime<FixedOffset>,
) -> Result<OpenOutcome, StoreError> {
    let floor_file = path.with_file_name(FLOOR_FILE);
    let old_floor = read_floor_file(&floor_file);
    let salvaged = salvage_counters(path);
    let floor = match &salvaged {
        Some(rows) => rows.iter().map(|(_, seq)| *seq).fold(old_floor, u32::max),
        None => old_floor.saturating_add(UNREADABLE_FLOOR_STEP),
    };
    write_floor_file(&floor_file, floor).map_err(|source| StoreError::DataFolder {
        path: floor_file.clone(),
        source,
    })?;
    if salvaged.is_none() {
        warn!(
            floor,
            "the old database could not be read: ticket numbers now start above the floor"
        );
    }
    let stamp = now.format("%Y%m%dT%H%M%S");
    let mut moved_to = PathBuf::from(format!("{}{SET_ASIDE_MARK}{stamp}", path.display()));
    let mut n = 1;
    while moved_to.exists() {
        moved_to = PathBuf::from(format!("{}{SET_ASIDE_MARK}{stamp}-{n}", path.display()));
        n += 1;
    }
    let data_folder_error = |source| StoreError::DataFolder {
        path: path.to_path_buf(),
        source,
    };
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            fs::rename(&side, format!("{}{suffix}", moved_to.display()))
                .map_err(data_folder_error)?;
        }
    }
    fs::rename(path, &moved_to).map_err(data_folder_error)?;
    sync_dir(path.parent().unwrap_or(Path::new("."))).map_err(data_folder_error)?;
    Ok(OpenOutcome::SetAside {
        moved_to,
        reason: reason.to_string(),
        counters_salvaged: salvaged.is_some(),
        floor,
    })
}

/// The ticket counters of a damaged file, when SQLite can still read that table.
fn salvage_counters(path: &Path) -> Option<Vec<(String, u32)>> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let mut statement = conn
        .prepare("SELECT ticket_day, last_seq FROM ticket_counters")
        .ok()?;
    let rows = statement
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))
        .ok()?;
    rows.collect::<Result<Vec<_>, _>>().ok()
}

fn set_meta(tx: &Transaction, key: &str, value: &str) -> Result<(), rusqlite::Error> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = ?2",
        params![key, value],
    )?;
    Ok(())
}

fn read_floor_file(path: &Path) -> u32 {
    fs::read_to_string(path)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// Writes the floor durably: a temporary file, fsync, rename, fsync of the folder.
fn write_floor_file(path: &Path, floor: u32) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = fs::File::create(&temporary)?;
    writeln!(file, "{floor}")?;
    file.sync_all()?;
    fs::rename(&temporary, path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concern::{Draft, Lang};
    use crate::config::Config;

    fn at(rfc3339: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap()
    }

    fn file(store: &mut Store, config: &Config, when: &str) -> Concern {
        let draft = Draft {
            category: "repairs".into(),
            phrases: vec!["1".into()],
            text: Some("三楼灯坏了".into()),
            location: Some("3幢2单元".into()),
            phone: Some("13812345678".into()),
            lang: Lang::ZhCn,
        };
        let new = draft.validate(config, at(when)).unwrap();
        store
            .file_concern(new, &config.kiosk.ticket_prefix)
            .unwrap()
    }

    #[test]
    fn filing_writes_concern_print_job_and_outbox_row_together() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::demo().unwrap();
        let (mut store, outcome) =
            Store::open(dir.path(), at("2026-11-26T09:00:00+08:00")).unwrap();
        assert_eq!(outcome, OpenOutcome::Created);
        let concern = file(&mut store, &config, "2026-11-26T09:30:00+08:00");
        assert_eq!(concern.ticket, "A1126-001");
        let records = store.concerns_between(None, None).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].concern, concern);
        assert_eq!(records[0].receipt, Some(JobState::Pending));
        assert_eq!(records[0].upload, OutboxState::Pending);
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = store
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }

    #[test]
    fn tickets_count_per_day_and_never_repeat_when_the_clock_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::demo().unwrap();
        let (mut store, _) = Store::open(dir.path(), at("2026-11-26T09:00:00+08:00")).unwrap();
        let ticket = |store: &mut Store, when| file(store, &config, when).ticket;
        assert_eq!(ticket(&mut store, "2026-11-26T09:00:00+08:00"), "A1126-001");
        assert_eq!(ticket(&mut store, "2026-11-26T10:00:00+08:00"), "A1126-002");
        assert_eq!(ticket(&mut store, "2026-11-27T08:00:00+08:00"), "A1127-001");
        // The clock is set back a day, then back a year: the numbers carry on.
        assert_eq!(ticket(&mut store, "2026-11-26T18:00:00+08:00"), "A1126-003");
        assert_eq!(ticket(&mut store, "2025-11-26T18:00:00+08:00"), "A1126-004");
        // A restart does not reset anything.
        drop(store);
        let (mut store, outcome) =
            Store::open(dir.path(), at("2026-11-27T09:00:00+08:00")).unwrap();
        assert_eq!(outcome, OpenOutcome::Healthy);
        assert_eq!(ticket(&mut store, "2026-11-27T09:00:00+08:00"), "A1127-002");
    }

    #[test]
    fn an_unreadable_database_is_set_aside_and_numbering_starts_above_the_floor() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::demo().unwrap();
        let (mut store, _) = Store::open(dir.path(), at("2026-11-26T09:00:00+08:00")).unwrap();
        file(&mut store, &config, "2026-11-26T09:00:00+08:00");
        drop(store);
        fs::write(
            dir.path().join(DB_FILE),
            b"this is not a database at all, just junk bytes",
        )
        .unwrap();
        let (mut store, outcome) =
            Store::open(dir.path(), at("2026-11-26T11:00:00+08:00")).unwrap();
        assert!(matches!(
            outcome,
            OpenOutcome::SetAside {
                counters_salvaged: false,
                ..
            }
        ));
        assert_eq!(
            file(&mut store, &config, "2026-11-26T11:00:00+08:00").ticket,
            "A1126-501"
        );
        assert_eq!(store.set_aside_files().unwrap().len(), 1);
        let log = store.audit_log(10).unwrap();
        assert_eq!(log[0].action, "database-set-aside");
        // A second unreadable file raises the floor again.
        drop(store);
        fs::write(
            dir.path().join(DB_FILE),
            b"junk again, the SD card is dying",
        )
        .unwrap();
        let (mut store, _) = Store::open(dir.path(), at("2026-11-26T12:00:00+08:00")).unwrap();
        assert_eq!(
            file(&mut store, &config, "2026-11-26T12:00:00+08:00").ticket,
            "A1126-1001"
        );
    }

    /// A concern filed the ordinary way, for the tests that only need the file to hold one.
    fn one_concern_on_disk(dir: &Path) {
        let config = Config::demo().unwrap();
        let (mut store, _) = Store::open(dir, at("2026-12-01T09:00:00+08:00")).unwrap();
        file(&mut store, &config, "2026-12-01T09:00:00+08:00");
    }

    #[test]
    fn a_database_locked_by_another_program_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        one_concern_on_disk(dir.path());
        let holder = Connection::open(dir.path().join(DB_FILE)).unwrap();
        holder
            .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
            .unwrap();
        let failed = Store::open(dir.path(), at("2026-12-01T10:00:00+08:00"));
        let Err(error) = failed else {
            panic!("a locked database opened as if it were free");
        };
        assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
        assert!(error.to_string().contains("left as it is"), "{error}");
        drop(holder);
        let (store, outcome) = Store::open(dir.path(), at("2026-12-01T10:01:00+08:00")).unwrap();
        assert_eq!(outcome, OpenOutcome::Healthy);
        assert!(store.set_aside_files().unwrap().is_empty());
        assert_eq!(store.concerns_between(None, None).unwrap().len(), 1);
    }

    #[test]
    fn a_database_that_cannot_be_opened_is_not_taken_for_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        one_concern_on_disk(dir.path());
        // What SQLite reports when the process is out of file handles: it cannot open the
        // write-ahead log beside the file. A folder in its place gives the same error without
        // starving the test process of handles.
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        let _ = fs::remove_file(&wal);
        fs::create_dir(&wal).unwrap();
        let failed = Store::open(dir.path(), at("2026-12-01T10:00:00+08:00"));
        assert!(
            matches!(failed, Err(StoreError::Unavailable { .. })),
            "{:?}",
            failed.err()
        );
        fs::remove_dir(&wal).unwrap();
        let (store, outcome) = Store::open(dir.path(), at("2026-12-01T10:01:00+08:00")).unwrap();
        assert_eq!(outcome, OpenOutcome::Healthy);
        assert_eq!(store.concerns_between(None, None).unwrap().len(), 1);
    }

    #[test]
    fn the_ticket_floor_is_on_disk_before_the_damaged_file_is_moved() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::demo().unwrap();
        let (mut store, _) = Store::open(dir.path(), at("2026-12-01T09:00:00+08:00")).unwrap();
        for _ in 0..3 {
            file(&mut store, &config, "2026-12-01T09:00:00+08:00");
        }
        drop(store);
        let path = dir.path().join(DB_FILE);
        // Only the moving happens here; a power cut right after it leaves no new database
        // that remembers the old numbers: the next start must still not issue A1201-001.
        set_aside(&path, "quick_check: test", at("2026-12-01T10:00:00+08:00")).unwrap();
        assert!(!path.exists());
        let (mut store, outcome) =
            Store::open(dir.path(), at("2026-12-01T10:01:00+08:00")).unwrap();
        assert_eq!(outcome, OpenOutcome::Created);
        assert_eq!(
            file(&mut store, &config, "2026-12-01T10:01:00+08:00").ticket,
            "A1201-004"
        );
    }

    #[test]
    fn inspecting_a_damaged_database_reports_it_and_moves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        one_concern_on_disk(dir.path());
        let path = dir.path().join(DB_FILE);
        fs::write(&path, b"junk where the database was").unwrap();
        let inspected = Store::open_without_repair(dir.path());
        assert!(
            matches!(inspected, Err(StoreError::Corrupt { .. })),
            "{:?}",
            inspected.err()
        );
        assert!(path.exists());
        let folder: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !folder.iter().any(|name| name.contains(SET_ASIDE_MARK)),
            "{folder:?}"
        );
    }
}
