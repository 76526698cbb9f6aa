//! The office's shared state: its database, its kiosks' tokens and the gate that bounds how
//! many uploads are decoded at once, shared by every request.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, FixedOffset, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::accounts::{Account, AccountError, Role};
use super::cases::DEFAULT_FOLLOW_UP_DAYS;
use super::database::{Database, DbLocation};
use super::limits::DEFAULT_MAX_DECOMPRESSIONS;
use super::storage::{OfficeDb, StorageError};
use super::tokens::TokenTable;
use crate::clock::{Clock, SystemClock};
use crate::protocol::wire::UpdatesPage;

/// The office receiver: its database and its tokens. Cheap to clone; clones share both.
#[derive(Clone)]
pub struct Office {
    db: Database,
    tokens: Arc<TokenTable>,
    decodes: Arc<DecodeGate>,
    clock: Arc<dyn Clock>,
    board: Arc<BoardSettings>,
}

/// What the case board needs to know about the community it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardSettings {
    /// Printed at the top of the two lists.
    pub community: String,
    /// How often a red case is followed up (定期跟进).
    pub follow_up_days: u32,
    /// Days after a case is ticked off before its phone number and free text are erased.
    pub retention_days: u32,
    /// The number the resident's status page gives for questions.
    pub hotline: String,
}

impl Default for BoardSettings {
    fn default() -> Self {
        BoardSettings {
            community: DEFAULT_COMMUNITY.to_string(),
            follow_up_days: DEFAULT_FOLLOW_UP_DAYS,
            retention_days: DEFAULT_RETENTION_DAYS,
            hotline: DEFAULT_HOTLINE.to_string(),
        }
    }
}

/// The kiosk's own default for personal data after delivery: a month is enough to call a
/// resident back about an answer, and no longer than the data is needed.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// The city's citizen service hotline (市民服务热线): answered everywhere in China, so a
/// resident who calls it is never told a wrong number, even by an office that set none.
pub const DEFAULT_HOTLINE: &str = "12345";

/// The longest hotline the status page shows: a landline with its area code and an extension
/// is under 20 characters.
pub const MAX_HOTLINE_CHARS: usize = 24;

/// A hotline as `--hotline` takes it: digits, with spaces, hyphens and `+` as people write
/// them, at most [`MAX_HOTLINE_CHARS`].
pub fn parse_hotline(text: &str) -> Result<String, String> {
    let text = text.trim();
    let fits = text.chars().count() <= MAX_HOTLINE_CHARS
        && text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+'));
    fits.then(|| text.to_string()).ok_or_else(|| {
        format!(
            "a hotline is digits, spaces, hyphens and +, at most {MAX_HOTLINE_CHARS} characters, e.g. 0571-8888 1234"
        )
    })
}

/// The community of the reference installation (the seed article's 万家星城社区).
pub const DEFAULT_COMMUNITY: &str = "万家星城社区";

/// At most so many uploads decoded at once: each may hold tens of MiB while it inflates and
/// parses, so a crowd of them must wait (503) rather than fill the memory.
struct DecodeGate {
    permits: Arc<Semaphore>,
    /// How many permits the semaphore was given in all.
    limit: Mutex<usize>,
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// The right to decode one upload; gives it back when dropped.
pub(super) struct DecodePermit {
    _permit: OwnedSemaphorePermit,
    gate: Arc<DecodeGate>,
}

impl Drop for DecodePermit {
    fn drop(&mut self) {
        self.gate.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Office {
    /// Opens (creating if needed) the database at `db_path` and takes the kiosks' tokens.
    /// Decodes at most [`DEFAULT_MAX_DECOMPRESSIONS`] uploads at once until told otherwise
    /// ([`Office::set_max_decompressions`]).
    pub fn open(db_path: impl AsRef<Path>, tokens: TokenTable) -> Result<Office, StorageError> {
        let db = OfficeDb::open(db_path.as_ref())?;
        Ok(Office::on(
            Database::Sqlite(Arc::new(Mutex::new(db))),
            tokens,
        ))
    }

    /// Opens the database at `location`, an SQLite file or a PostgreSQL server, and takes
    /// the kiosks' tokens.
    pub async fn connect(
        location: &DbLocation,
        tokens: TokenTable,
    ) -> Result<Office, StorageError> {
        Ok(Office::on(Database::open(location).await?, tokens))
    }

    fn on(db: Database, tokens: TokenTable) -> Office {
        Office {
            db,
            tokens: Arc::new(tokens),
            decodes: DecodeGate::new(DEFAULT_MAX_DECOMPRESSIONS),
            clock: Arc::new(SystemClock),
            board: Arc::new(BoardSettings::default()),
        }
    }

    /// The same office on another clock: tests move time by hand.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Office {
        self.clock = clock;
        self
    }

    /// The same office for another community or follow-up interval.
    pub fn with_board_settings(mut self, settings: BoardSettings) -> Office {
        self.board = Arc::new(settings);
        self
    }

    /// Now, by the office's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().with_timezone(&Utc)
    }

    /// Now, by the office's clock, with the office machine's UTC offset: when a batch arrived.
    pub fn local_now(&self) -> DateTime<FixedOffset> {
        self.clock.now()
    }

    /// Adds a board account (see `concern-office user add`).
    pub async fn add_account(
        &self,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<Account, AccountError> {
        self.db.add_account(name, role, password, self.now()).await
    }

    /// Erases personal data of cases ticked off longer ago than the retention.
    pub async fn erase_personal_data(&self) -> Result<usize, StorageError> {
        let days = self.board.retention_days;
        self.db.erase_personal_data(days, self.now()).await
    }

    pub fn board_settings(&self) -> &BoardSettings {
        &self.board
    }

    /// Decodes at most `max` uploads at once (at least one), in this office and every clone
    /// of it. Meant for the start; lowered while uploads are decoding, it takes full effect
    /// as they finish.
    pub fn set_max_decompressions(&self, max: usize) {
        let gate = &self.decodes;
        let mut limit = gate.limit.lock().unwrap_or_else(PoisonError::into_inner);
        let wanted = max.max(1);
        if wanted > *limit {
            gate.permits.add_permits(wanted - *limit);
            *limit = wanted;
        } else {
            *limit -= gate.permits.forget_permits(*limit - wanted);
        }
    }

    /// The most uploads that were ever decoded at once: what to compare with
    /// `--max-decompressions` when tuning it.
    pub fn decompression_peak(&self) -> usize {
        self.decodes.peak.load(Ordering::SeqCst)
    }

    /// A permit to decode one upload, or `None` when the most allowed are already running.
    pub(super) fn try_begin_decode(&self) -> Option<DecodePermit> {
        let permit = self.decodes.permits.clone().try_acquire_owned().ok()?;
        let running = self.decodes.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.decodes.peak.fetch_max(running, Ordering::SeqCst);
        Some(DecodePermit {
            _permit: permit,
            gate: self.decodes.clone(),
        })
    }

    /// The cases changed after `after` for the kiosks (see `status_feed::updates_after`).
    pub async fn updates_after(&self, after: u64) -> Result<UpdatesPage, StorageError> {
        self.db
            .updates_after(after, self.board.follow_up_days)
            .await
    }

    pub fn tokens(&self) -> &TokenTable {
        &self.tokens
    }

    /// The database: every question and change of the office's records.
    pub fn db(&self) -> &Database {
        &self.db
    }
}

impl DecodeGate {
    fn new(max: usize) -> Arc<DecodeGate> {
        Arc::new(DecodeGate {
            permits: Arc::new(Semaphore::new(max.max(1))),
            limit: Mutex::new(max.max(1)),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }
}
