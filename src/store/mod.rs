//! The SQLite store: filing a concern atomically with its ticket number, print job and upload
//! outbox row, reading concerns back, and the audit log. Opening, the migrations and what
//! happens to a corrupt database are in `opening`.
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
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use thiserror::Error;

mod backup;
mod case_status;
mod opening;
mod print_jobs;
mod states;
mod status_lookup;
#[cfg(test)]
pub(crate) mod test_fixtures;
mod upload_outbox;

use opening::pragma_rows;

pub use backup::{BACKUP_DIR, BackupReport};
pub use case_status::{CaseStatus, RateOutcome};
pub use print_jobs::{JobKind, PrintJob};
pub use states::{BatchState, JobState, OutboxState};
pub use upload_outbox::{RejectedBatch, StoredBatch, UploadStatus, utc_text};

use crate::concern::{Concern, NewConcern, format_ticket, ticket_day};
use crate::protocol::concern_row::{CONCERN_ROW_COLUMNS, CONCERN_ROW_WIDTH, ConcernRow};

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
    pub fn path(&self) -> &Path {
        &self.path
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
                category_en, list, colour, due_date, lang, phrases, text, location, phone,
                tracking_code, check_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
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
                new.codes.as_ref().map(|c| c.tracking.as_str()),
                new.codes.as_ref().map(|c| c.check.as_str()),
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
            columns = CONCERN_ROW_COLUMNS
                .split(", ")
                .map(|column| format!("c.{column}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let rows = statement.query_map(values, |r| {
            let after = CONCERN_ROW_WIDTH;
            Ok((
                ConcernRow::read(r, 0)?,
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

#[cfg(test)]
mod tests;
