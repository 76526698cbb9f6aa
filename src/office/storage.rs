//! The office's SQLite database: every concern stored once, forever, under its id; a log of
//! every batch arrival; and reading the concerns back for the export.
//!
//! Durability: WAL with `synchronous=FULL`, so a batch the office has answered 200 survives a
//! power cut — the kiosk forgets what it was told is stored. One `BEGIN IMMEDIATE` transaction
//! per batch: the answer is only sent after it commits.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use thiserror::Error;
use tracing::warn;
use uuid::Uuid;

use super::private_files::{make_companions_private, make_private};
use crate::concern::ListKind;
use crate::protocol::concern_row::{CONCERN_ROW_COLUMNS, CONCERN_ROW_WIDTH, ConcernRow};
use crate::protocol::wire::{Batch, BatchReply, WireConcern};

/// How long a writer waits for another connection (someone reading the file with `sqlite3`)
/// to let go. Storing a batch takes milliseconds; five seconds covers a slow disk.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Each migration brings the schema from version `index` to `index + 1`; never edit one that
/// has shipped, add a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE concerns (
    id                  TEXT PRIMARY KEY,   -- the kiosk's UUIDv7: stored once, forever
    kiosk_id            TEXT NOT NULL,      -- the kiosk of the first arrival
    batch_id            TEXT NOT NULL,      -- the batch of the first arrival
    received_at         TEXT NOT NULL,      -- office time of the first arrival, RFC 3339
    ticket              TEXT NOT NULL,
    created_at          TEXT NOT NULL,      -- RFC 3339 with the kiosk's offset, as sent
    created_at_epoch_ms INTEGER NOT NULL,   -- the same instant, for ordering across offsets
    category            TEXT NOT NULL,
    category_zh         TEXT NOT NULL,
    category_en         TEXT NOT NULL,
    list                TEXT NOT NULL CHECK (list IN ('demands', 'conflicts')),
    colour              TEXT NOT NULL CHECK (colour IN ('green', 'orange', 'red')),
    due_date            TEXT NOT NULL,      -- YYYY-MM-DD
    lang                TEXT NOT NULL,
    phrases             TEXT NOT NULL,      -- JSON array of {"zh", "en"}
    text                TEXT,
    location            TEXT,
    phone               TEXT
);
CREATE INDEX concerns_by_created ON concerns (created_at_epoch_ms, id);
-- One row per arrival: a retried batch shows up again with its duplicates, which is how the
-- office sees a kiosk that never got its answers.
CREATE TABLE batches (
    arrival       INTEGER PRIMARY KEY,
    batch_id      TEXT NOT NULL,
    kiosk_id      TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    concern_count INTEGER NOT NULL,
    accepted      INTEGER NOT NULL,
    duplicates    INTEGER NOT NULL
);
CREATE INDEX batches_by_id ON batches (batch_id);
"#,
    r#"
-- SHA-256 (hex) of each arrival's JSON as inflated: the same batch id with other contents is
-- not a retry. NULL for arrivals stored before the office kept it.
ALTER TABLE batches ADD COLUMN body_sha256 TEXT;
"#,
    r#"
-- Every change of a case, kept for ever: the case's state is what its events make.
CREATE TABLE case_events (
    seq         INTEGER PRIMARY KEY,   -- the order events happened in
    concern_id  TEXT NOT NULL REFERENCES concerns (id),
    at          TEXT NOT NULL,         -- RFC 3339, UTC
    actor       TEXT NOT NULL,         -- the account that acted
    action      TEXT NOT NULL,         -- JSON: {"action": "assign", "handler": …}
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX case_events_by_concern ON case_events (concern_id, seq);
"#,
    r#"
CREATE TABLE accounts (
    name           TEXT PRIMARY KEY,
    role           TEXT NOT NULL CHECK (role IN ('council', 'grid', 'handler', 'viewer')),
    password_hash  TEXT NOT NULL,      -- argon2id, PHC string
    created_at     TEXT NOT NULL,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TEXT                -- RFC 3339, UTC
);
-- A signed-in browser: the SHA-256 of its cookie's token (the token itself is never stored).
CREATE TABLE sessions (
    token_sha256   TEXT PRIMARY KEY,
    account        TEXT NOT NULL REFERENCES accounts (name),
    csrf_token     TEXT NOT NULL,
    expires_at     TEXT NOT NULL
);
-- Every sign-in, refusal and action, kept for ever.
CREATE TABLE office_audit (
    seq      INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    account  TEXT NOT NULL,
    what     TEXT NOT NULL,
    detail   TEXT NOT NULL
);
"#,
    r#"
-- The resident's codes as the kiosk gave them (NULL from kiosks before them): the status page
-- is found by the tracking code. Not unique: a kiosk's duplicate must never stop a batch.
ALTER TABLE concerns ADD COLUMN tracking_code TEXT;
ALTER TABLE concerns ADD COLUMN check_code TEXT;
CREATE INDEX concerns_by_tracking_code ON concerns (tracking_code);
"#,
    r#"
-- A row for each change a resident can see: a concern's arrival and each case event, written
-- in the transaction that makes the change. Kiosks ask for the changes after the last cursor
-- they hold; AUTOINCREMENT so that a cursor is never handed out twice, even when the newest
-- row is gone.
CREATE TABLE status_feed (
    cursor      INTEGER PRIMARY KEY AUTOINCREMENT,
    concern_id  TEXT NOT NULL REFERENCES concerns (id),
    at          TEXT NOT NULL          -- RFC 3339: when the change was made
);
CREATE INDEX status_feed_by_concern ON status_feed (concern_id, cursor);
-- What is already there, in the order it came: every arrival, then every event.
INSERT INTO status_feed (concern_id, at)
    SELECT id, received_at FROM concerns ORDER BY received_at, created_at_epoch_ms, id;
INSERT INTO status_feed (concern_id, at)
    SELECT concern_id, at FROM case_events ORDER BY seq;
"#,
];

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
    #[error("stored concern {id} cannot be read back: {problem}")]
    BadRow { id: String, problem: String },
}

/// Why a batch was not stored, although the database works.
#[derive(Debug, Error)]
pub enum StoreBatchError {
    /// A concern id already held from another kiosk: the whole batch is refused, so that
    /// neither kiosk's copy is silently lost.
    #[error(
        "concern {id} is already stored from kiosk `{holder}`; kiosk `{sender}` cannot send it too{more}: one id on two kiosks means a cloned SD card or a kiosk sending another's data. Nothing of this batch was stored; compare the two kiosks before sending it again"
    )]
    HeldByAnotherKiosk {
        id: Uuid,
        holder: String,
        sender: String,
        /// ` (nor 2 more ids of this batch)`, or empty.
        more: String,
    },
    /// The batch id of a stored batch, with other contents: not a retry, which is always the
    /// same bytes.
    #[error(
        "batch {batch_id} was already received with other contents: a kiosk sends a retried batch as the same bytes, so this is not a retry. Nothing of it was stored; a new batch needs a new batch_id"
    )]
    ChangedBatch { batch_id: Uuid },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for StoreBatchError {
    fn from(e: rusqlite::Error) -> StoreBatchError {
        StoreBatchError::Storage(StorageError::Sqlite(e))
    }
}

/// A concern as the office holds it: what the kiosk sent and where and when it first arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConcern {
    pub concern: WireConcern,
    pub kiosk_id: String,
    pub batch_id: Uuid,
    pub received_at: DateTime<FixedOffset>,
}

/// The open database. Not `Sync`: the server keeps it behind a mutex.
pub struct OfficeDb {
    connection: Connection,
}

impl OfficeDb {
    /// Opens (creating if needed) the database at `path`, checks it, and brings its schema up
    /// to date. The file and its WAL and shared-memory files are readable by the office's
    /// user alone (mode 0600): they hold residents' phone numbers.
    pub fn open(path: &Path) -> Result<OfficeDb, StorageError> {
        let open_error = |source| StorageError::Open {
            file: path.to_path_buf(),
            source,
        };
        let private_error = |file: &Path, source| StorageError::Private {
            file: file.to_path_buf(),
            source,
        };
        if make_private(path).map_err(|e| private_error(path, e))? {
            warn!(
                "{}: other users could read the office database; it is now private (mode 0600)",
                path.display()
            );
        }
        // SQLite creates the WAL and shared-memory files with the database file's mode; ones
        // left by an older office are made private before SQLite reads them.
        let changed = make_companions_private(path).map_err(|e| private_error(path, e))?;
        for companion in changed {
            warn!(
                "{}: other users could read this database file; it is now private (mode 0600)",
                companion.display()
            );
        }
        let connection = Connection::open(path).map_err(open_error)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        let mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            warn!(
                "{}: SQLite refused WAL mode (got `{mode}`); writes are still durable but slower",
                path.display()
            );
        }
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        let report: String = connection
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(open_error)?;
        if report != "ok" {
            return Err(StorageError::Corrupt {
                file: path.to_path_buf(),
                report,
            });
        }
        let mut db = OfficeDb { connection };
        db.migrate(path)?;
        Ok(db)
    }

    /// A database in memory with the current schema, for tests that store many batches fast.
    #[cfg(test)]
    pub fn open_in_memory() -> Result<OfficeDb, StorageError> {
        let connection = Connection::open_in_memory()?;
        let mut db = OfficeDb { connection };
        db.migrate(Path::new(":memory:"))?;
        Ok(db)
    }

    fn migrate(&mut self, path: &Path) -> Result<(), StorageError> {
        let version: i64 = self
            .connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let known = MIGRATIONS.len();
        let applied = usize::try_from(version).unwrap_or(usize::MAX);
        if applied > known {
            return Err(StorageError::NewerSchema {
                file: path.to_path_buf(),
                found: version,
                known,
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = self
                .connection
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub(super) fn connection(&self) -> &Connection {
        &self.connection
    }

    pub(super) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.connection
    }

    /// Every stored concern, or those of one list, oldest first (by the instant they were
    /// filed, whatever the kiosk's offset).
    pub fn concerns(&self, list: Option<ListKind>) -> Result<Vec<StoredConcern>, StorageError> {
        let mut statement = self.connection.prepare(&format!(
            "SELECT {CONCERN_ROW_COLUMNS}, kiosk_id, batch_id, received_at
             FROM concerns
             WHERE ?1 IS NULL OR list = ?1
             ORDER BY created_at_epoch_ms, id"
        ))?;
        let rows = statement.query_map(params![list.map(ListKind::code)], RawRow::read)?;
        let mut concerns = Vec::new();
        for row in rows {
            concerns.push(row?.decode()?);
        }
        Ok(concerns)
    }
}

/// What storing a batch's concerns did.
pub(super) struct StoredBatch {
    pub reply: BatchReply,
    /// The same batch arrived before: a retry, whose every other part was recorded then.
    pub retried: bool,
}

/// Stores a batch's concerns inside `tx`: each concern whose id is new is inserted
/// (`accepted`) with its first row of the status feed, each the office already holds from this
/// kiosk is left as it is (`duplicates`). An id repeated inside the batch is answered once.
/// Nothing is stored when an id is held from another kiosk, or when the batch id was stored
/// before with a JSON body whose SHA-256 differs from `json_sha256`.
pub(super) fn store_concerns(
    tx: &rusqlite::Transaction<'_>,
    batch: &Batch,
    json_sha256: &str,
    received_at: DateTime<FixedOffset>,
) -> Result<StoredBatch, StoreBatchError> {
    let received_text = received_at.to_rfc3339_opts(SecondsFormat::Secs, false);
    let batch_id = batch.batch_id.to_string();
    let retried: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM batches WHERE batch_id = ?1)",
        params![batch_id],
        |row| row.get(0),
    )?;
    let changed: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM batches
             WHERE batch_id = ?1 AND body_sha256 IS NOT NULL AND body_sha256 != ?2)",
        params![batch_id, json_sha256],
        |row| row.get(0),
    )?;
    if changed {
        return Err(StoreBatchError::ChangedBatch {
            batch_id: batch.batch_id,
        });
    }
    let mut seen = HashSet::new();
    let unique: Vec<&WireConcern> = batch
        .concerns
        .iter()
        .filter(|c| seen.insert(c.id))
        .collect();
    refuse_ids_of_other_kiosks(tx, &batch.kiosk_id, &unique)?;
    let mut reply = BatchReply::default();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO concerns (id, kiosk_id, batch_id, received_at, ticket, created_at,
                 created_at_epoch_ms, category, category_zh, category_en, list, colour,
                 due_date, lang, phrases, text, location, phone, tracking_code, check_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20)
             ON CONFLICT (id) DO NOTHING",
        )?;
        for concern in unique {
            let id = concern.id.to_string();
            let phrases =
                serde_json::to_string(&concern.phrases).map_err(|e| StorageError::BadRow {
                    id: id.clone(),
                    problem: format!("phrases cannot be written as JSON: {e}"),
                })?;
            let inserted = insert.execute(params![
                id,
                batch.kiosk_id,
                batch_id,
                received_text,
                concern.ticket,
                concern.created_at.to_rfc3339(),
                concern.created_at.timestamp_millis(),
                concern.category,
                concern.category_label.zh,
                concern.category_label.en,
                concern.list.code(),
                concern.colour.code(),
                concern.due_date.to_string(),
                concern.lang.tag(),
                phrases,
                concern.text,
                concern.location,
                concern.phone,
                concern.tracking_code.as_ref().map(|c| c.as_str()),
                concern.check_code.as_ref().map(|c| c.as_str()),
            ])?;
            if inserted == 1 {
                note_change(tx, &id, received_at.with_timezone(&Utc))?;
                reply.accepted.push(concern.id);
            } else {
                reply.duplicates.push(concern.id);
            }
        }
    }
    tx.execute(
        "INSERT INTO batches (batch_id, kiosk_id, received_at, concern_count, accepted,
             duplicates, body_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            batch_id,
            batch.kiosk_id,
            received_text,
            count(batch.concerns.len()),
            count(reply.accepted.len()),
            count(reply.duplicates.len()),
            json_sha256,
        ],
    )?;
    Ok(StoredBatch { reply, retried })
}

/// Adds a row to the status feed for a change of concern `id` made `at`: to be called in the
/// transaction that makes the change, so a kiosk never sees one without the other.
pub(super) fn note_change(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO status_feed (concern_id, at) VALUES (?1, ?2)")?
        .execute(params![id, at.to_rfc3339_opts(SecondsFormat::Secs, true)])?;
    Ok(())
}

/// The stored concern with this id, if there is one.
pub(super) fn concern_by_id(
    connection: &Connection,
    id: &str,
) -> Result<Option<StoredConcern>, StorageError> {
    let raw = connection
        .query_row(
            &format!(
                "SELECT {CONCERN_ROW_COLUMNS}, kiosk_id, batch_id, received_at
                 FROM concerns WHERE id = ?1"
            ),
            params![id],
            RawRow::read,
        )
        .optional()?;
    raw.map(RawRow::decode).transpose()
}

/// Refuses the batch when any of its concern ids is held from another kiosk, naming the first
/// and counting the rest.
fn refuse_ids_of_other_kiosks(
    tx: &rusqlite::Transaction<'_>,
    sender: &str,
    concerns: &[&WireConcern],
) -> Result<(), StoreBatchError> {
    let mut holder_of = tx.prepare_cached("SELECT kiosk_id FROM concerns WHERE id = ?1")?;
    let mut clashes = Vec::new();
    for concern in concerns {
        let holder: Option<String> = holder_of
            .query_row(params![concern.id.to_string()], |row| row.get(0))
            .optional()?;
        if let Some(holder) = holder.filter(|h| h != sender) {
            clashes.push((concern.id, holder));
        }
    }
    let Some((id, holder)) = clashes.first().cloned() else {
        return Ok(());
    };
    let more = match clashes.len() - 1 {
        0 => String::new(),
        n => format!(" (nor {n} more ids of this batch)"),
    };
    Err(StoreBatchError::HeldByAnotherKiosk {
        id,
        holder,
        sender: sender.to_owned(),
        more,
    })
}

/// SQLite integers are i64; a batch is at most 16 MiB, so its counts always fit.
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// One `concerns` row as text, before it is checked and turned back into a concern.
pub(super) struct RawRow {
    concern: ConcernRow,
    kiosk_id: String,
    batch_id: String,
    received_at: String,
}

impl RawRow {
    /// The columns [`RawRow::read_at`] expects, in order, for a `SELECT`.
    pub(super) const COLUMNS: &str = "kiosk_id, batch_id, received_at";
    /// How many columns a row is, [`CONCERN_ROW_COLUMNS`] and then [`RawRow::COLUMNS`].
    pub(super) const WIDTH: usize = CONCERN_ROW_WIDTH + 3;

    fn read(row: &Row<'_>) -> rusqlite::Result<RawRow> {
        RawRow::read_at(row, 0)
    }

    /// Reads a row's columns starting at column `first`.
    pub(super) fn read_at(row: &Row<'_>, first: usize) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            concern: ConcernRow::read(row, first)?,
            kiosk_id: row.get(first + CONCERN_ROW_WIDTH)?,
            batch_id: row.get(first + CONCERN_ROW_WIDTH + 1)?,
            received_at: row.get(first + CONCERN_ROW_WIDTH + 2)?,
        })
    }

    pub(super) fn decode(self) -> Result<StoredConcern, StorageError> {
        let id = self.concern.id().to_string();
        let concern = self
            .concern
            .decode()
            .map_err(|problem| StorageError::BadRow { id, problem })?;
        let bad = |problem: String| StorageError::BadRow {
            id: concern.id.to_string(),
            problem,
        };
        let batch_id = Uuid::parse_str(&self.batch_id)
            .map_err(|e| bad(format!("batch_id `{}`: {e}", self.batch_id)))?;
        let received_at = DateTime::parse_from_rfc3339(&self.received_at)
            .map_err(|e| bad(format!("received_at `{}`: {e}", self.received_at)))?;
        Ok(StoredConcern {
            concern,
            kiosk_id: self.kiosk_id,
            batch_id,
            received_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::office::cases::{Action, CaseState, DEFAULT_FOLLOW_UP_DAYS};
    use crate::office::fixtures::{filed, office_with};

    #[test]
    fn the_status_feed_is_filled_from_what_an_older_office_holds() {
        let (mut db, concerns) = office_with(2);
        let accepted_at = Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap();
        db.act(
            &concerns[0].id.to_string(),
            Action::Accept,
            "li",
            "",
            accepted_at,
        )
        .unwrap();
        // As an office of schema 5 left it: no feed at all.
        db.connection
            .execute_batch("DROP TABLE status_feed; PRAGMA user_version = 5;")
            .unwrap();
        db.migrate(Path::new(":memory:")).unwrap();
        let page = db.updates_after(0, DEFAULT_FOLLOW_UP_DAYS).unwrap();
        let seen: Vec<_> = page
            .updates
            .iter()
            .map(|u| (u.ticket.as_str(), u.state, u.changed_at))
            .collect();
        assert_eq!(
            seen,
            [
                ("A1201-002", CaseState::New, filed().with_timezone(&Utc)),
                ("A1201-001", CaseState::Accepted, accepted_at),
            ]
        );
        // The cursors go on from the backfill.
        assert_eq!(page.next_after, 3);
    }
}
