//! The office's concerns: the SQLite file (opened durable and private, migrated), and, on
//! either engine, every concern stored once, forever, under its id, a log of every batch
//! arrival, and reading the concerns back.
//!
//! Durability: on SQLite, WAL with `synchronous=FULL`, so a batch the office has answered 200
//! survives a power cut — the kiosk forgets what it was told is stored. One transaction per
//! batch: the answer is only sent after it commits.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rusqlite::{Connection, TransactionBehavior};
use thiserror::Error;
use tracing::warn;
use uuid::Uuid;

use super::private_files::{make_companions_private, make_private};
use super::sql::{SqlRow, Tx, count, int, opt_text, text};
pub use super::storage_error::StorageError;
use super::storage_error::TransactionError;
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

impl TransactionError for StoreBatchError {
    fn storage(&self) -> Option<&StorageError> {
        match self {
            StoreBatchError::Storage(e) => Some(e),
            _ => None,
        }
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

/// The open SQLite database. Not `Sync`: the office keeps it behind a mutex.
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

    pub(super) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.connection
    }
}

/// Every stored concern, or those of one list, oldest first (by the instant they were filed,
/// whatever the kiosk's offset).
pub async fn concerns(
    tx: &mut Tx<'_>,
    list: Option<ListKind>,
) -> Result<Vec<StoredConcern>, StorageError> {
    let rows = tx
        .query(
            &format!(
                "SELECT {CONCERN_ROW_COLUMNS}, {}
                 FROM concerns
                 WHERE CAST($1 AS TEXT) IS NULL OR list = $1
                 ORDER BY created_at_epoch_ms, id",
                RawRow::COLUMNS
            ),
            &[opt_text(list.map(ListKind::code))],
        )
        .await?;
    rows.iter()
        .map(|row| RawRow::read_at(row, 0)?.decode())
        .collect()
}

/// What storing a batch's concerns did.
pub(super) struct StoredBatch {
    pub reply: BatchReply,
    /// The same batch arrived before: a retry, whose every other part was recorded then.
    pub retried: bool,
}

/// Stores a batch's concerns inside `tx`: each concern whose id is new is inserted
/// (`accepted`) with its first change for the status feed, each the office already holds from
/// this kiosk is left as it is (`duplicates`). An id repeated inside the batch is answered
/// once. Nothing is stored when an id is held from another kiosk, or when the batch id was
/// stored before with a JSON body whose SHA-256 differs from `json_sha256`.
///
/// Several office processes may store the same batch at once: the insert of an id another
/// transaction holds waits for it, and `ON CONFLICT DO NOTHING` then counts it a duplicate, so
/// each concern is stored once whichever office answers.
pub(super) async fn store_concerns(
    tx: &mut Tx<'_>,
    batch: &Batch,
    json_sha256: &str,
    received_at: DateTime<FixedOffset>,
) -> Result<StoredBatch, StoreBatchError> {
    let received_text = received_at.to_rfc3339_opts(SecondsFormat::Secs, false);
    let batch_id = batch.batch_id.to_string();
    let earlier = tx
        .query(
            "SELECT body_sha256 FROM batches WHERE batch_id = $1",
            &[text(&batch_id)],
        )
        .await?;
    let retried = !earlier.is_empty();
    for row in &earlier {
        if row.opt_text(0)?.is_some_and(|sha| sha != json_sha256) {
            return Err(StoreBatchError::ChangedBatch {
                batch_id: batch.batch_id,
            });
        }
    }
    let mut seen = HashSet::new();
    let unique: Vec<&WireConcern> = batch
        .concerns
        .iter()
        .filter(|c| seen.insert(c.id))
        .collect();
    refuse_ids_of_other_kiosks(tx, &batch.kiosk_id, &unique).await?;
    let mut reply = BatchReply::default();
    for concern in unique {
        let id = concern.id.to_string();
        let phrases =
            serde_json::to_string(&concern.phrases).map_err(|e| StorageError::BadRow {
                id: id.clone(),
                problem: format!("phrases cannot be written as JSON: {e}"),
            })?;
        let created_at = concern.created_at.to_rfc3339();
        let due_date = concern.due_date.to_string();
        let inserted = tx
            .execute(
                "INSERT INTO concerns (id, kiosk_id, batch_id, received_at, ticket, created_at,
                     created_at_epoch_ms, category, category_zh, category_en, list, colour,
                     due_date, lang, phrases, text, location, phone, tracking_code, check_code)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     $17, $18, $19, $20)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    text(&id),
                    text(&batch.kiosk_id),
                    text(&batch_id),
                    text(&received_text),
                    text(&concern.ticket),
                    text(&created_at),
                    int(concern.created_at.timestamp_millis()),
                    text(&concern.category),
                    text(&concern.category_label.zh),
                    text(&concern.category_label.en),
                    text(concern.list.code()),
                    text(concern.colour.code()),
                    text(&due_date),
                    text(concern.lang.tag()),
                    text(&phrases),
                    opt_text(concern.text.as_deref()),
                    opt_text(concern.location.as_deref()),
                    opt_text(concern.phone.as_deref()),
                    opt_text(concern.tracking_code.as_ref().map(|c| c.as_str())),
                    opt_text(concern.check_code.as_ref().map(|c| c.as_str())),
                ],
            )
            .await?;
        if inserted == 1 {
            tx.note_change(&id, received_at.with_timezone(&Utc));
            reply.accepted.push(concern.id);
        } else {
            // Stored meanwhile by another office process, perhaps from another kiosk.
            refuse_ids_of_other_kiosks(tx, &batch.kiosk_id, &[concern]).await?;
            reply.duplicates.push(concern.id);
        }
    }
    tx.execute(
        "INSERT INTO batches (batch_id, kiosk_id, received_at, concern_count, accepted,
             duplicates, body_sha256)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            text(&batch_id),
            text(&batch.kiosk_id),
            text(&received_text),
            count(batch.concerns.len()),
            count(reply.accepted.len()),
            count(reply.duplicates.len()),
            text(json_sha256),
        ],
    )
    .await?;
    Ok(StoredBatch { reply, retried })
}

/// The stored concern with this id, if there is one; with `lock`, no other office process can
/// change its case until `tx` ends.
pub(super) async fn concern_by_id(
    tx: &mut Tx<'_>,
    id: &str,
    lock: bool,
) -> Result<Option<StoredConcern>, StorageError> {
    let sql = format!(
        "SELECT {CONCERN_ROW_COLUMNS}, {} FROM concerns WHERE id = $1",
        RawRow::COLUMNS
    );
    let row = if lock {
        tx.query_locking(&sql, &[text(id)]).await?
    } else {
        tx.query_opt(&sql, &[text(id)]).await?
    };
    row.map(|row| RawRow::read_at(&row, 0)?.decode())
        .transpose()
}

/// Refuses the batch when any of its concern ids is held from another kiosk, naming the first
/// and counting the rest.
async fn refuse_ids_of_other_kiosks(
    tx: &mut Tx<'_>,
    sender: &str,
    concerns: &[&WireConcern],
) -> Result<(), StoreBatchError> {
    let mut clashes = Vec::new();
    for concern in concerns {
        let holder = tx
            .query_opt(
                "SELECT kiosk_id FROM concerns WHERE id = $1",
                &[text(&concern.id.to_string())],
            )
            .await?
            .map(|row| row.text(0))
            .transpose()?;
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

/// One `concerns` row as text, before it is checked and turned back into a concern.
pub(super) struct RawRow {
    concern: ConcernRow,
    kiosk_id: String,
    batch_id: String,
    received_at: String,
}

impl RawRow {
    /// The columns [`RawRow::read_at`] expects after [`CONCERN_ROW_COLUMNS`], for a `SELECT`.
    pub(super) const COLUMNS: &str = "kiosk_id, batch_id, received_at";
    /// How many columns a row is, [`CONCERN_ROW_COLUMNS`] and then [`RawRow::COLUMNS`].
    pub(super) const WIDTH: usize = CONCERN_ROW_WIDTH + 3;

    /// Reads a row's columns starting at column `first`.
    pub(super) fn read_at(row: &SqlRow, first: usize) -> Result<RawRow, StorageError> {
        Ok(RawRow {
            concern: ConcernRow::read(row, first)?,
            kiosk_id: row.text(first + CONCERN_ROW_WIDTH)?,
            batch_id: row.text(first + CONCERN_ROW_WIDTH + 1)?,
            received_at: row.text(first + CONCERN_ROW_WIDTH + 2)?,
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
    use crate::office::fixtures::wait;
    use crate::office::fixtures::{batch, concerns, filed, store};

    #[test]
    fn the_status_feed_is_filled_from_what_an_older_office_holds() {
        // The SQLite file's own migration: in memory, whichever engine the other tests use.
        let concerns = concerns(1, 2);
        let db = crate::office::database::Database::in_memory();
        store(&db, &batch(concerns.clone(), Vec::new()), "sha", filed()).unwrap();
        let accepted_at = Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap();
        wait(db.act(
            &concerns[0].id.to_string(),
            Action::Accept,
            "li",
            "",
            accepted_at,
        ))
        .unwrap();
        // As an office of schema 5 left it: no feed at all.
        {
            let mut sqlite = db.sqlite();
            sqlite
                .connection
                .execute_batch("DROP TABLE status_feed; PRAGMA user_version = 5;")
                .unwrap();
            sqlite.migrate(Path::new(":memory:")).unwrap();
        }
        let page = wait(db.updates_after(0, DEFAULT_FOLLOW_UP_DAYS)).unwrap();
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
