//! What the kiosks pull back (`GET /v1/updates?after=CURSOR`): the cases of the community that
//! changed after a cursor of the status feed, each once, at its newest change, with where it
//! stands now, as the resident should see it. One query per page.

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::case_store::{CaseRecord, EventRow, replayed};
use super::sql::{Tx, int};
use super::storage::{RawRow, StorageError};
use super::validation::echo;
use crate::concern::TrackingCode;
use crate::protocol::concern_row::CONCERN_ROW_COLUMNS;
use crate::protocol::wire::{
    MAX_UPDATES_PAGE_BYTES, MAX_UPDATES_PER_PAGE, StatusUpdate, UpdatesPage,
};

/// The most JSON of updates one page carries: half of what a kiosk reads
/// ([`MAX_UPDATES_PAGE_BYTES`]), so that the envelope, and any field a later office adds,
/// always fit. A hundred updates with the longest replies the board takes stay well below it;
/// it only bites on replies written into the database by other means.
const PAGE_JSON_BUDGET: usize = MAX_UPDATES_PAGE_BYTES / 2;

/// The largest cursor: SQLite's integers and PostgreSQL's `BIGINT` are signed 64-bit.
pub const MAX_CURSOR: u64 = i64::MAX.unsigned_abs();

/// Why the `after` of `GET /v1/updates` is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CursorError {
    #[error("ask with `?after=CURSOR`: 0 the first time, then the `next_after` of the page before")]
    Missing,
    #[error("`after` is given twice; give it once")]
    Repeated,
    #[error(
        "`{0}` is not a cursor: a cursor is a whole number, the `next_after` of the page before"
    )]
    NotANumber(String),
    #[error("`{0}` is negative: cursors start at 0 and only grow")]
    Negative(String),
    #[error("`{0}` is larger than any cursor (at most {MAX_CURSOR})")]
    TooLarge(String),
}

/// The cursor asked for in the query string of `GET /v1/updates`.
pub fn parse_after(query: Option<&str>) -> Result<u64, CursorError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or_default()).map_err(|_| CursorError::Missing)?;
    let mut values = pairs.iter().filter(|(key, _)| key == "after");
    let (_, value) = values.next().ok_or(CursorError::Missing)?;
    if values.next().is_some() {
        return Err(CursorError::Repeated);
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(value) {
        return Err(match value.strip_prefix('-') {
            Some(rest) if digits(rest) => CursorError::Negative(echo(value)),
            _ => CursorError::NotANumber(echo(value)),
        });
    }
    value
        .parse::<u64>()
        .ok()
        .filter(|&cursor| cursor <= MAX_CURSOR)
        .ok_or_else(|| CursorError::TooLarge(echo(value)))
}

/// A case as it stands, at the newest change of it on the page.
struct Changed {
    cursor: u64,
    at: DateTime<Utc>,
    record: CaseRecord,
}

/// The cases that changed after `after`, oldest change first, each once at its newest change:
/// at most [`MAX_UPDATES_PER_PAGE`] of them and [`PAGE_JSON_BUDGET`] of JSON. Because a case
/// is placed by its newest change, a case that changes again while a kiosk pages moves to a
/// later page and is never skipped.
pub async fn updates_after(
    tx: &mut Tx<'_>,
    after: u64,
    follow_up_days: u32,
) -> Result<UpdatesPage, StorageError> {
    let asked = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(MAX_UPDATES_PER_PAGE + 1).unwrap_or(i64::MAX);
    let events: Vec<String> = EventRow::COLUMNS
        .split(", ")
        .map(|column| format!("e.{column}"))
        .collect();
    let rows = tx
        .query(
            &format!(
                // A case's newest change is the one no later change of it follows: the page
                // walks the cursors in order and stops when it is full, where grouping every
                // change after the cursor by case would read all of them (a kiosk starting
                // from 0 on a district's million cases).
                "WITH page AS (
                     SELECT newest.cursor AS newest, newest.at, newest.concern_id
                     FROM status_feed AS newest
                     WHERE newest.cursor > $1 AND NOT EXISTS (
                         SELECT 1 FROM status_feed AS later
                         WHERE later.concern_id = newest.concern_id
                           AND later.cursor > newest.cursor)
                     ORDER BY newest.cursor LIMIT $2)
                 SELECT page.newest, page.at, {CONCERN_ROW_COLUMNS}, {}, {}
                 FROM page
                 JOIN concerns ON concerns.id = page.concern_id
                 LEFT JOIN case_events AS e ON e.concern_id = page.concern_id
                 ORDER BY page.newest, e.seq",
                RawRow::COLUMNS,
                events.join(", ")
            ),
            &[int(asked), int(limit)],
        )
        .await?;
    let first_event_column = 2 + RawRow::WIDTH;
    let mut changed: Vec<(u64, String, RawRow, Vec<EventRow>)> = Vec::new();
    for row in &rows {
        let cursor = u64::try_from(row.int(0)?).unwrap_or_default();
        if changed.last().is_none_or(|(last, ..)| *last != cursor) {
            changed.push((cursor, row.text(1)?, RawRow::read_at(row, 2)?, Vec::new()));
        }
        let event = row.opt_text(first_event_column)?;
        if let (Some(_), Some((.., events))) = (event, changed.last_mut()) {
            events.push(EventRow::read_at(row, first_event_column)?);
        }
    }
    let more = changed.len() > MAX_UPDATES_PER_PAGE;
    let mut page = UpdatesPage {
        updates: Vec::new(),
        next_after: after,
        more,
    };
    let mut bytes = 0usize;
    for (cursor, at, raw, event_rows) in changed.into_iter().take(MAX_UPDATES_PER_PAGE) {
        let changed = decode(cursor, &at, raw, event_rows)?;
        let update = status_update(changed, follow_up_days);
        let size = serde_json::to_vec(&update).map_or(0, |json| json.len());
        // At least one update goes out, so a kiosk always moves on.
        if !page.updates.is_empty() && bytes.saturating_add(size) > PAGE_JSON_BUDGET {
            page.more = true;
            break;
        }
        bytes = bytes.saturating_add(size);
        page.next_after = cursor;
        page.updates.push(update);
    }
    Ok(page)
}

fn decode(
    cursor: u64,
    at: &str,
    raw: RawRow,
    event_rows: Vec<EventRow>,
) -> Result<Changed, StorageError> {
    let concern = raw.decode()?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|e| StorageError::BadRow {
            id: concern.concern.id.to_string(),
            problem: format!("status feed time `{at}`: {e}"),
        })?
        .with_timezone(&Utc);
    let mut events = Vec::with_capacity(event_rows.len());
    for row in event_rows {
        events.push(row.decode()?.1);
    }
    Ok(Changed {
        cursor,
        at,
        record: replayed(concern, events),
    })
}

/// Where the case stands now, in the words of the wire format.
fn status_update(changed: Changed, follow_up_days: u32) -> StatusUpdate {
    let Changed { cursor, at, record } = changed;
    let due_date = record.case.deadline(follow_up_days).date();
    let concern = record.concern.concern;
    let case = record.case;
    StatusUpdate {
        cursor,
        concern_id: concern.id,
        ticket: concern.ticket,
        category_label: concern.category_label,
        state: case.state,
        colour: case.colour,
        promised_by: concern.due_date,
        due_date,
        reply: case.answer,
        rating: case.rating,
        answered_at: case.first_answered_at,
        changed_at: at,
        check_code: concern.check_code,
        tracking_digest: concern.tracking_code.as_ref().map(TrackingCode::digest),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::concern::CaseState;
    use crate::office::cases::{Action, DEFAULT_FOLLOW_UP_DAYS};
    use crate::office::fixtures::office_with;
    use crate::office::fixtures::wait;

    fn tickets(page: &UpdatesPage) -> Vec<&str> {
        page.updates.iter().map(|u| u.ticket.as_str()).collect()
    }

    #[test]
    fn a_case_changed_while_a_kiosk_pages_comes_once_on_a_later_page() {
        let (db, concerns) = office_with(150);
        let first = concerns[0].id.to_string();
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap();
        let days = DEFAULT_FOLLOW_UP_DAYS;
        let page = wait(db.updates_after(0, days)).unwrap();
        assert_eq!(page.updates.len(), MAX_UPDATES_PER_PAGE);
        assert!(page.more);
        assert_eq!(tickets(&page)[0], "A1201-001");
        // Accepted and assigned between two pages: it leaves the first page for the end of
        // the second, once, as it stands after both.
        wait(db.act(&first, Action::Accept, "li", "", at)).unwrap();
        let assign = Action::Assign {
            handler: "wuye".into(),
        };
        wait(db.act(&first, assign, "li", "", at)).unwrap();
        let second = wait(db.updates_after(page.next_after, days)).unwrap();
        assert!(!second.more);
        assert_eq!(second.updates.len(), 51);
        assert_eq!(tickets(&second)[0], "A1201-101");
        let last = second.updates.last().unwrap();
        assert_eq!(
            (last.ticket.as_str(), last.state, last.changed_at),
            ("A1201-001", CaseState::Assigned, at)
        );
        let again = wait(db.updates_after(0, days)).unwrap();
        assert_eq!(tickets(&again)[0], "A1201-002");
        assert_eq!(
            again
                .updates
                .iter()
                .filter(|u| u.ticket == "A1201-001")
                .count(),
            0
        );
        // Past the newest change: nothing, and the cursor stays where it was asked.
        let end = wait(db.updates_after(second.next_after, days)).unwrap();
        assert_eq!(
            (end.updates.len(), end.next_after, end.more),
            (0, second.next_after, false)
        );
    }

    #[test]
    fn the_cursor_in_a_query_is_a_whole_number_within_range() {
        assert_eq!(parse_after(Some("after=0")), Ok(0));
        assert_eq!(parse_after(Some("after=42&x=1")), Ok(42));
        assert_eq!(
            parse_after(Some(&format!("after={MAX_CURSOR}"))),
            Ok(MAX_CURSOR)
        );
        assert_eq!(parse_after(None), Err(CursorError::Missing));
        assert_eq!(parse_after(Some("before=3")), Err(CursorError::Missing));
        assert_eq!(
            parse_after(Some("after=1&after=2")),
            Err(CursorError::Repeated)
        );
        assert_eq!(
            parse_after(Some("after=-1")),
            Err(CursorError::Negative("-1".into()))
        );
        for garbage in ["", "abc", "1.5", "+1", "0x10", "1%200"] {
            assert!(
                matches!(
                    parse_after(Some(&format!("after={garbage}"))),
                    Err(CursorError::NotANumber(_))
                ),
                "{garbage}"
            );
        }
        let huge = format!("{}", u128::from(u64::MAX) + 1);
        for too_large in [format!("{}", MAX_CURSOR + 1), huge] {
            assert!(matches!(
                parse_after(Some(&format!("after={too_large}"))),
                Err(CursorError::TooLarge(_))
            ));
        }
    }
}
