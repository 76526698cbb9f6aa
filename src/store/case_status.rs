//! Where each case of the community stands as the office last told this kiosk
//! (`GET /v1/updates`), looked up by ticket or by a scanned tracking code; and the residents'
//! ratings given here. Updates and the cursor they bring commit together, so an answer lost on
//! the way is asked for again and an update seen twice or late changes nothing.

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::opening::set_meta;
use super::{Store, StoreError, utc_text};
use crate::concern::{
    Bilingual, CaseState, CheckCode, Colour, Rating, ResidentProgress, TrackingCode,
};
use crate::protocol::wire::UpdatesPage;

/// The `meta` key of the cursor the next `GET /v1/updates` asks after.
const CURSOR_KEY: &str = "updates_after";
/// The `meta` key of when status last arrived from the office (UTC), for `doctor`.
const ARRIVED_KEY: &str = "updates_arrived_at";
/// The `meta` keys of the pull's failures since its last success: how many attempts failed,
/// when the next may go (UTC), and what went wrong last. Kept in the store so a restart
/// neither forgets the backoff nor starts hammering an office that is down.
const PULL_ATTEMPTS_KEY: &str = "updates_failed_attempts";
const PULL_NEXT_KEY: &str = "updates_next_attempt_at";
const PULL_ERROR_KEY: &str = "updates_last_error";

/// Where pulling `GET /v1/updates` stands after failures; all empty once a page arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullState {
    /// Failed attempts since the last page that arrived.
    pub failed_attempts: u32,
    /// UTC text; `None`: at once.
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

/// A case as the resident is told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStatus {
    pub concern_id: Uuid,
    pub ticket: String,
    pub category_label: Bilingual,
    pub state: CaseState,
    pub colour: Colour,
    /// The date printed on the receipt.
    pub promised_by: NaiveDate,
    /// What the office holds the case to now; `None` when nothing is due.
    pub due_date: Option<NaiveDate>,
    pub reply: Option<String>,
    /// The resident's rating, as the office has it or as given here and not yet confirmed.
    pub rating: Option<Rating>,
    /// When the office first answered the resident.
    pub answered_at: Option<DateTime<Utc>>,
    /// When the office last changed the case; `None` while no news has come (filed here and
    /// not yet acted on, or not yet uploaded).
    pub changed_at: Option<DateTime<Utc>>,
    pub check_code: Option<CheckCode>,
}

impl CaseStatus {
    /// Overdue the day after the office's deadline, by the kiosk's calendar.
    pub fn progress(&self, today: NaiveDate) -> ResidentProgress {
        let overdue = self.due_date.is_some_and(|due| today > due);
        ResidentProgress::of(self.state, overdue)
    }

    /// Whether `given` is this receipt's check code: only then is the reply shown.
    pub fn opens_with(&self, given: &CheckCode) -> bool {
        self.check_code.as_ref() == Some(given)
    }

    /// The resident may rate once, an answered case, after proving it is theirs.
    pub fn may_be_rated(&self) -> bool {
        self.rating.is_none() && self.reply.is_some()
    }
}

/// What [`Store::rate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateOutcome {
    Recorded,
    /// The concern has its rating already (one per case); the new one is not kept.
    AlreadyRated,
}

impl Store {
    /// The cursor to ask `GET /v1/updates` after: 0 before anything arrived.
    pub fn updates_cursor(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta(CURSOR_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// When status last arrived from the office (UTC, RFC 3339), for `doctor`.
    pub fn status_last_arrived(&self) -> Result<Option<String>, StoreError> {
        self.meta(ARRIVED_KEY)
    }

    /// The pull's failures since its last success, and when it may ask again.
    pub fn pull_state(&self) -> Result<PullState, StoreError> {
        Ok(PullState {
            failed_attempts: self
                .meta(PULL_ATTEMPTS_KEY)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            next_attempt_at: self.meta(PULL_NEXT_KEY)?,
            last_error: self.meta(PULL_ERROR_KEY)?,
        })
    }

    /// An attempt to pull failed: count it and keep when the next may go, in one transaction.
    pub fn pull_failed(
        &mut self,
        error: &str,
        next_attempt_at: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let failed = u32::try_from(number_in(&tx, PULL_ATTEMPTS_KEY)?).unwrap_or(u32::MAX);
        for (key, value) in [
            (PULL_ATTEMPTS_KEY, failed.saturating_add(1).to_string()),
            (PULL_NEXT_KEY, utc_text(next_attempt_at)),
            (PULL_ERROR_KEY, error.to_string()),
        ] {
            set_meta(&tx, key, &value)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Keeps a page of updates and moves the cursor past it, in one transaction; returns how
    /// many cases changed here. An update older than what is held for its concern is ignored,
    /// and the cursor never moves back.
    pub fn apply_updates(
        &mut self,
        page: &UpdatesPage,
        now: DateTime<FixedOffset>,
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = 0;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO case_status (concern_id, ticket, cursor, category_zh, category_en,
                    state, colour, promised_by, due_date, reply, rating, answered_at, changed_at,
                    check_code, tracking_digest, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT (concern_id) DO UPDATE SET
                    ticket = excluded.ticket, cursor = excluded.cursor,
                    category_zh = excluded.category_zh, category_en = excluded.category_en,
                    state = excluded.state, colour = excluded.colour,
                    promised_by = excluded.promised_by, due_date = excluded.due_date,
                    reply = excluded.reply, rating = excluded.rating,
                    answered_at = excluded.answered_at, changed_at = excluded.changed_at, check_code = excluded.check_code,
                    tracking_digest = excluded.tracking_digest,
                    received_at = excluded.received_at
                 WHERE excluded.cursor > case_status.cursor",
            )?;
            for update in &page.updates {
                changed += upsert.execute(params![
                    update.concern_id.to_string(),
                    update.ticket,
                    i64::try_from(update.cursor).unwrap_or(i64::MAX),
                    update.category_label.zh,
                    update.category_label.en,
                    update.state.code(),
                    update.colour.code(),
                    update.promised_by.to_string(),
                    update.due_date.map(|d| d.to_string()),
                    update.reply,
                    update.rating.map(Rating::code),
                    update.answered_at.map(utc_seconds),
                    utc_seconds(update.changed_at),
                    update.check_code.as_ref().map(CheckCode::as_str),
                    update.tracking_digest,
                    utc_text(now),
                ])?;
            }
        }
        let held = number_in(&tx, CURSOR_KEY)?;
        let newest = page
            .updates
            .iter()
            .map(|u| u.cursor)
            .chain([page.next_after, held])
            .max()
            .unwrap_or(held);
        for (key, value) in [
            (CURSOR_KEY, newest.to_string()),
            (ARRIVED_KEY, utc_text(now)),
        ] {
            set_meta(&tx, key, &value)?;
        }
        // A page arrived: the office answers again, so the pull's backoff starts over.
        tx.execute(
            "DELETE FROM meta WHERE key IN (?1, ?2, ?3)",
            params![PULL_ATTEMPTS_KEY, PULL_NEXT_KEY, PULL_ERROR_KEY],
        )?;
        tx.commit()?;
        Ok(changed)
    }

    /// The case with this ticket number (as printed: case and spaces do not matter): what the
    /// office said, or, for a concern filed here that the office has not spoken of, received.
    pub fn case_status(&self, ticket: &str) -> Result<Option<CaseStatus>, StoreError> {
        let wanted: String = ticket
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        self.status_where("ticket = ?1", &wanted)
    }

    /// The case a scanned receipt's tracking code belongs to.
    pub fn case_status_by_code(
        &self,
        code: &TrackingCode,
    ) -> Result<Option<CaseStatus>, StoreError> {
        let own: Option<String> = self
            .conn
            .query_row(
                "SELECT ticket FROM concerns WHERE tracking_code = ?1",
                params![code.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        match own {
            Some(ticket) => self.status_where("ticket = ?1", &ticket),
            None => self.status_where("tracking_digest = ?1", &code.digest()),
        }
    }

    fn status_where(&self, condition: &str, value: &str) -> Result<Option<CaseStatus>, StoreError> {
        let reported = self
            .reported_where(
                &format!("{condition} ORDER BY cursor DESC LIMIT 1"),
                params![value],
            )?
            .pop();
        let mut status = match reported {
            Some(status) => Some(status),
            None if condition.starts_with("ticket") => self.filed_here(value)?,
            None => None,
        };
        if let Some(status) = status.as_mut()
            && status.rating.is_none()
        {
            status.rating = self.rating_given_here(status.concern_id)?;
        }
        Ok(status)
    }

    /// The cases the office reported that match `condition` (an SQL tail: a condition with
    /// its ordering), as the office last told them.
    fn reported_where(
        &self,
        condition: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<CaseStatus>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT concern_id, ticket, category_zh, category_en, state, colour, promised_by,
                due_date, reply, rating, answered_at, changed_at, check_code
             FROM case_status WHERE {condition}"
        ))?;
        let rows = statement.query_map(values, read_reported)?;
        rows.map(|row| row?.decode()).collect()
    }

    /// The cases the office first answered between two instants, by ticket.
    pub fn answered_between(
        &self,
        from: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<Vec<CaseStatus>, StoreError> {
        self.reported_where(
            "answered_at >= ?1 AND answered_at < ?2 ORDER BY ticket",
            params![utc_text(from), utc_text(until)],
        )
    }

    /// The cases the office holds to a date before `date` and has not answered, by their
    /// date: overdue by the office's own deadline.
    pub fn overdue_by_office(&self, date: NaiveDate) -> Result<Vec<CaseStatus>, StoreError> {
        let answered = sql_codes(
            CaseState::ALL
                .into_iter()
                .filter(|s| s.has_answer())
                .map(CaseState::code),
        );
        self.reported_where(
            &format!(
                "state NOT IN ({answered}) AND due_date IS NOT NULL AND due_date < ?1
                 ORDER BY due_date, ticket"
            ),
            params![date.to_string()],
        )
    }

    /// The unhappy ratings of a kiosk-local day, by ticket: given here that day, or reported
    /// by the office (given at another kiosk) with a change that day.
    pub fn unhappy_ratings_on(
        &self,
        date: NaiveDate,
        from: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<Vec<(String, Rating)>, StoreError> {
        let unhappy = sql_codes(
            Rating::ALL
                .into_iter()
                .filter(|r| r.is_unhappy())
                .map(Rating::code),
        );
        let mut statement = self.conn.prepare(&format!(
            "SELECT ticket, rating FROM ratings
             WHERE rating IN ({unhappy}) AND substr(rated_at, 1, 10) = ?1
             UNION
             SELECT ticket, rating FROM case_status
             WHERE rating IN ({unhappy}) AND changed_at >= ?2 AND changed_at < ?3
               AND concern_id NOT IN (SELECT concern_id FROM ratings)
             ORDER BY ticket"
        ))?;
        let rows = statement.query_map(
            params![date.to_string(), utc_text(from), utc_text(until)],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )?;
        rows.map(|row| {
            let (ticket, code) = row?;
            let rating = Rating::from_code(&code)
                .ok_or_else(|| StoreError::Damaged(format!("rating of {ticket}: `{code}`")))?;
            Ok((ticket, rating))
        })
        .collect()
    }

    /// A concern filed at this kiosk the office has said nothing of yet.
    fn filed_here(&self, ticket: &str) -> Result<Option<CaseStatus>, StoreError> {
        let Some(record) = self.concern_by_ticket(ticket)? else {
            return Ok(None);
        };
        let d = record.concern.details;
        Ok(Some(CaseStatus {
            concern_id: d.id,
            ticket: record.concern.ticket,
            category_label: d.category_label,
            state: CaseState::New,
            colour: d.colour,
            promised_by: d.due_date,
            due_date: Some(d.due_date),
            reply: None,
            rating: None,
            answered_at: None,
            changed_at: None,
            check_code: d.codes.map(|c| c.check),
        }))
    }

    fn rating_given_here(&self, concern_id: Uuid) -> Result<Option<Rating>, StoreError> {
        let code: Option<String> = self
            .conn
            .query_row(
                "SELECT rating FROM ratings WHERE concern_id = ?1",
                params![concern_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        code.map(|c| {
            Rating::from_code(&c).ok_or_else(|| StoreError::Damaged(format!("rating `{c}`")))
        })
        .transpose()
    }

    /// Keeps the resident's rating of a concern until a batch carries it to the office; one
    /// per concern.
    pub fn rate(
        &mut self,
        status: &CaseStatus,
        rating: Rating,
        now: DateTime<FixedOffset>,
    ) -> Result<RateOutcome, StoreError> {
        if status.rating.is_some() {
            return Ok(RateOutcome::AlreadyRated);
        }
        let inserted = self.conn.execute(
            "INSERT INTO ratings (concern_id, ticket, rating, rated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (concern_id) DO NOTHING",
            params![
                status.concern_id.to_string(),
                status.ticket,
                rating.code(),
                now.to_rfc3339()
            ],
        )?;
        Ok(if inserted == 1 {
            RateOutcome::Recorded
        } else {
            RateOutcome::AlreadyRated
        })
    }
}

/// Fixed codes (never outside input) as an SQL list: `'a', 'b'`.
fn sql_codes(codes: impl Iterator<Item = &'static str>) -> String {
    codes
        .map(|code| format!("'{code}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A number the store keeps in `meta`, read inside a transaction; 0 when absent.
fn number_in(tx: &rusqlite::Transaction, key: &str) -> rusqlite::Result<u64> {
    Ok(tx
        .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn utc_seconds(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A `case_status` row as stored.
struct ReportedRow {
    concern_id: String,
    ticket: String,
    category_zh: String,
    category_en: String,
    state: String,
    colour: String,
    promised_by: String,
    due_date: Option<String>,
    reply: Option<String>,
    rating: Option<String>,
    answered_at: Option<String>,
    changed_at: String,
    check_code: Option<String>,
}

fn read_reported(r: &Row<'_>) -> rusqlite::Result<ReportedRow> {
    Ok(ReportedRow {
        concern_id: r.get(0)?,
        ticket: r.get(1)?,
        category_zh: r.get(2)?,
        category_en: r.get(3)?,
        state: r.get(4)?,
        colour: r.get(5)?,
        promised_by: r.get(6)?,
        due_date: r.get(7)?,
        reply: r.get(8)?,
        rating: r.get(9)?,
        answered_at: r.get(10)?,
        changed_at: r.get(11)?,
        check_code: r.get(12)?,
    })
}

impl ReportedRow {
    fn decode(self) -> Result<CaseStatus, StoreError> {
        let damaged = |what: &str, value: &str| {
            StoreError::Damaged(format!("status of {}: {what} `{value}`", self.ticket))
        };
        let instant = |what: &str, value: &str| {
            DateTime::parse_from_rfc3339(value)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| damaged(what, value))
        };
        let date =
            |what: &str, value: &str| value.parse::<NaiveDate>().map_err(|_| damaged(what, value));
        Ok(CaseStatus {
            concern_id: self
                .concern_id
                .parse()
                .map_err(|_| damaged("concern id", &self.concern_id))?,
            category_label: Bilingual {
                zh: self.category_zh.clone(),
                en: self.category_en.clone(),
            },
            state: CaseState::from_code(&self.state)
                .ok_or_else(|| damaged("state", &self.state))?,
            colour: Colour::from_code(&self.colour)
                .ok_or_else(|| damaged("colour", &self.colour))?,
            promised_by: date("promised_by", &self.promised_by)?,
            due_date: self
                .due_date
                .as_deref()
                .map(|d| date("due_date", d))
                .transpose()?,
            reply: self.reply.clone(),
            rating: self
                .rating
                .as_deref()
                .map(|r| Rating::from_code(r).ok_or_else(|| damaged("rating", r)))
                .transpose()?,
            answered_at: self
                .answered_at
                .as_deref()
                .map(|t| instant("answered_at", t))
                .transpose()?,
            changed_at: Some(instant("changed_at", &self.changed_at)?),
            check_code: self
                .check_code
                .as_deref()
                .map(|c| CheckCode::parse(c).ok_or_else(|| damaged("check_code", c)))
                .transpose()?,
            ticket: self.ticket,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::wire::StatusUpdate;
    use crate::store::test_fixtures::store_with_concerns;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn update(cursor: u64, ticket: &str, state: CaseState, reply: Option<&str>) -> StatusUpdate {
        StatusUpdate {
            cursor,
            concern_id: Uuid::from_u128(u128::from(ticket.len() as u64) << 64 | 7),
            ticket: ticket.into(),
            category_label: Bilingual {
                zh: "维修".into(),
                en: "Repairs".into(),
            },
            state,
            colour: Colour::Green,
            promised_by: "2026-12-08".parse().unwrap(),
            due_date: Some("2026-12-08".parse().unwrap()),
            reply: reply.map(str::to_string),
            rating: None,
            answered_at: None,
            changed_at: at("2026-12-02T10:00:00+08:00").with_timezone(&Utc),
            check_code: CheckCode::parse("4821"),
            tracking_digest: Some(TrackingCode::parse("0123456789ABCDEF").unwrap().digest()),
        }
    }

    fn page(updates: Vec<StatusUpdate>) -> UpdatesPage {
        let next_after = updates.iter().map(|u| u.cursor).max().unwrap_or(0);
        UpdatesPage {
            updates,
            next_after,
            more: false,
        }
    }

    #[test]
    fn a_ticket_never_filed_here_is_kept_for_lookups() {
        let (_dir, mut store) = store_with_concerns(0);
        let now = at("2026-12-02T10:05:00+08:00");
        let answered = update(7, "B1201-003", CaseState::Answered, Some("已修好"));
        assert_eq!(store.apply_updates(&page(vec![answered]), now).unwrap(), 1);
        let status = store.case_status("b1201-003").unwrap().unwrap();
        assert_eq!(status.reply.as_deref(), Some("已修好"));
        assert!(status.opens_with(&CheckCode::parse("4821").unwrap()));
        assert!(!status.opens_with(&CheckCode::parse("4822").unwrap()));
        let scanned = TrackingCode::parse("0123456789abcdef").unwrap();
        assert_eq!(store.case_status_by_code(&scanned).unwrap(), Some(status));
        assert_eq!(store.updates_cursor().unwrap(), 7);
        assert!(store.status_last_arrived().unwrap().is_some());
    }

    #[test]
    fn an_update_seen_twice_or_late_changes_nothing() {
        let (_dir, mut store) = store_with_concerns(0);
        let now = at("2026-12-02T10:05:00+08:00");
        let newer = update(9, "B1201-003", CaseState::Answered, Some("已修好"));
        let older = update(4, "B1201-003", CaseState::Assigned, None);
        store
            .apply_updates(&page(vec![newer.clone()]), now)
            .unwrap();
        assert_eq!(store.apply_updates(&page(vec![newer]), now).unwrap(), 0);
        assert_eq!(store.apply_updates(&page(vec![older]), now).unwrap(), 0);
        let status = store.case_status("B1201-003").unwrap().unwrap();
        assert_eq!(status.state, CaseState::Answered);
        // The cursor never goes back either.
        assert_eq!(store.updates_cursor().unwrap(), 9);
    }

    #[test]
    fn a_concern_filed_here_is_received_until_the_office_speaks_and_is_rated_once() {
        let (_dir, mut store) = store_with_concerns(1);
        let record = store.concerns_between(None, None).unwrap().remove(0);
        let ticket = record.concern.ticket.clone();
        let status = store.case_status(&ticket).unwrap().unwrap();
        assert_eq!(status.state, CaseState::New);
        assert_eq!(status.changed_at, None);
        let today = status.promised_by;
        assert_eq!(status.progress(today), ResidentProgress::Received);
        assert_eq!(
            status.progress(today.succ_opt().unwrap()),
            ResidentProgress::Overdue
        );
        let now = at("2026-12-02T10:05:00+08:00");
        assert_eq!(
            store.rate(&status, Rating::Unsatisfied, now).unwrap(),
            RateOutcome::Recorded
        );
        let rated = store.case_status(&ticket).unwrap().unwrap();
        assert_eq!(rated.rating, Some(Rating::Unsatisfied));
        assert_eq!(
            store.rate(&status, Rating::Satisfied, now).unwrap(),
            RateOutcome::AlreadyRated
        );
        assert_eq!(
            store.rate(&rated, Rating::Satisfied, now).unwrap(),
            RateOutcome::AlreadyRated
        );
    }
}
