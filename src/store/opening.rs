//! Opening the database: creating the data folder, the schema migrations, the check of an
//! existing file, and setting a damaged file aside with the ticket floor that keeps its numbers
//! from being issued again.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use tracing::{error, info, warn};

use super::{
    BUSY_TIMEOUT_MS, DB_FILE, FLOOR_FILE, OpenOutcome, SET_ASIDE_MARK, Store, StoreError,
    UNREADABLE_FLOOR_STEP,
};

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
    r#"
-- What lets only the resident read the office's answer: the QR code's random tracking code
-- and the receipt's check code. NULL for concerns filed before kiosks gave them out.
ALTER TABLE concerns ADD COLUMN tracking_code TEXT;
ALTER TABLE concerns ADD COLUMN check_code TEXT;
CREATE UNIQUE INDEX concerns_by_tracking_code ON concerns (tracking_code);
-- Where each case of the community stands, as the office last said (GET /v1/updates): one row
-- per concern, from any kiosk, replaced only by an update with a larger cursor. The cursor to
-- ask from next and when status last arrived are kept in `meta`, written in the same
-- transaction as the rows.
CREATE TABLE case_status (
    concern_id      TEXT PRIMARY KEY,
    ticket          TEXT NOT NULL,
    cursor          INTEGER NOT NULL,
    category_zh     TEXT NOT NULL,
    category_en     TEXT NOT NULL,
    state           TEXT NOT NULL,
    colour          TEXT NOT NULL,
    promised_by     TEXT NOT NULL,      -- YYYY-MM-DD, the receipt's date
    due_date        TEXT,               -- the office's deadline now; NULL: nothing due
    reply           TEXT,
    rating          TEXT,
    answered_at     TEXT,               -- UTC: the resident's first answer
    changed_at      TEXT NOT NULL,      -- UTC, RFC 3339
    check_code      TEXT,
    tracking_digest TEXT,               -- SHA-256 hex of the tracking code
    received_at     TEXT NOT NULL       -- UTC: when this kiosk heard it
);
CREATE INDEX case_status_by_ticket ON case_status (ticket);
CREATE INDEX case_status_by_digest ON case_status (tracking_digest);
-- Residents' ratings given here (one per concern), waiting for and then carried by a batch.
CREATE TABLE ratings (
    concern_id  TEXT PRIMARY KEY,
    ticket      TEXT NOT NULL,
    rating      TEXT NOT NULL,
    rated_at    TEXT NOT NULL,      -- RFC 3339 with the kiosk's offset
    batch_id    TEXT,               -- the batch carrying it; NULL: waiting
    uploaded_at TEXT                -- UTC, when the office acknowledged that batch
);
CREATE INDEX ratings_by_batch ON ratings (batch_id);
-- A batch may carry ratings, also without concerns.
ALTER TABLE upload_batches ADD COLUMN rating_count INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- A status slip (Check my concern, then Print this): which case, in the resident's language,
-- and whether they had proved the receipt, so the slip carries the reply only when the screen
-- showed it. What the case says is read from case_status when it prints.
ALTER TABLE print_jobs ADD COLUMN slip_ticket TEXT;
ALTER TABLE print_jobs ADD COLUMN slip_lang TEXT;
ALTER TABLE print_jobs ADD COLUMN slip_with_reply INTEGER;
"#,
];

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

pub(super) fn pragma_rows(conn: &Connection, sql: &str) -> Result<Vec<String>, rusqlite::Error> {
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
pub(super) fn set_aside(
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

pub(super) fn set_meta(tx: &Transaction, key: &str, value: &str) -> Result<(), rusqlite::Error> {
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
