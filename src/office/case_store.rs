//! The cases in the office database: each case's events in the order they happened, read back
//! and replayed into [`Case`]s, and a new event written only after it is decided against the
//! case as the database holds it, inside the same transaction, so two people acting on one
//! case at once cannot both move it from the same state.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use thiserror::Error;
use tracing::warn;

use super::cases::{Action, Case, CaseError, CaseState, Event, Filing};
use super::sql::{SqlRow, Tx, text};
use super::storage::{StorageError, StoredConcern, concern_by_id, concerns};
use super::storage_error::TransactionError;
use crate::concern::TrackingCode;

/// A concern with the case it has become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub concern: StoredConcern,
    pub case: Case,
}

/// Why an action on a case was not recorded.
#[derive(Debug, Error)]
pub enum ActError {
    #[error("there is no case with ticket or id `{0}`")]
    NoSuchCase(String),
    #[error(transparent)]
    NotAllowed(#[from] CaseError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl TransactionError for ActError {
    fn storage(&self) -> Option<&StorageError> {
        match self {
            ActError::Storage(e) => Some(e),
            _ => None,
        }
    }
}

fn filing_of(concern: &StoredConcern) -> Filing {
    Filing {
        colour: concern.concern.colour,
        list: concern.concern.list,
        due_date: concern.concern.due_date,
        received_at: concern.received_at.with_timezone(&Utc),
    }
}

/// One `case_events` row as stored.
pub(super) struct EventRow {
    concern_id: String,
    at: String,
    actor: String,
    action: String,
    from_state: String,
    to_state: String,
    note: String,
}

impl EventRow {
    pub(super) const COLUMNS: &str = "concern_id, at, actor, action, from_state, to_state, note";

    /// Reads [`EventRow::COLUMNS`] starting at column `first`.
    pub(super) fn read_at(row: &SqlRow, first: usize) -> Result<EventRow, StorageError> {
        Ok(EventRow {
            concern_id: row.text(first)?,
            at: row.text(first + 1)?,
            actor: row.text(first + 2)?,
            action: row.text(first + 3)?,
            from_state: row.text(first + 4)?,
            to_state: row.text(first + 5)?,
            note: row.text(first + 6)?,
        })
    }

    pub(super) fn decode(self) -> Result<(String, Event), StorageError> {
        let bad = |problem: String| StorageError::BadRow {
            id: self.concern_id.clone(),
            problem,
        };
        let at = DateTime::parse_from_rfc3339(&self.at)
            .map_err(|e| bad(format!("event time `{}`: {e}", self.at)))?
            .with_timezone(&Utc);
        let action: Action = serde_json::from_str(&self.action)
            .map_err(|e| bad(format!("event action `{}`: {e}", self.action)))?;
        let state = |code: &str| {
            CaseState::from_code(code).ok_or_else(|| bad(format!("event state `{code}`")))
        };
        let event = Event {
            at,
            actor: self.actor.clone(),
            action,
            from: state(&self.from_state)?,
            to: state(&self.to_state)?,
            note: self.note.clone(),
        };
        Ok((self.concern_id, event))
    }
}

/// Every case, oldest concern first, each replayed from its events.
pub async fn cases(tx: &mut Tx<'_>) -> Result<Vec<CaseRecord>, StorageError> {
    let concerns = concerns(tx, None).await?;
    let rows = tx
        .query(
            &format!("SELECT {} FROM case_events ORDER BY seq", EventRow::COLUMNS),
            &[],
        )
        .await?;
    let mut events: HashMap<String, Vec<Event>> = HashMap::new();
    for row in &rows {
        let (id, event) = EventRow::read_at(row, 0)?.decode()?;
        events.entry(id).or_default().push(event);
    }
    Ok(concerns
        .into_iter()
        .map(|concern| {
            let own = events
                .remove(&concern.concern.id.to_string())
                .unwrap_or_default();
            replayed(concern, own)
        })
        .collect())
}

/// The case whose receipt carries this tracking code; `None` when no concern, or more than
/// one (a kiosk's fault), has it: a code must never show someone else's case.
pub async fn case_by_tracking_code(
    tx: &mut Tx<'_>,
    code: &TrackingCode,
) -> Result<Option<CaseRecord>, StorageError> {
    let rows = tx
        .query(
            "SELECT id FROM concerns WHERE tracking_code = $1 LIMIT 2",
            &[text(code.as_str())],
        )
        .await?;
    match rows.as_slice() {
        [row] => case_in(tx, &row.text(0)?, false).await,
        _ => Ok(None),
    }
}

/// Decides `action` on the case as the database holds it and records the event, in the
/// transaction `tx`; returns the case as it now stands.
pub async fn act(
    tx: &mut Tx<'_>,
    id: &str,
    action: Action,
    actor: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<CaseRecord, ActError> {
    // Read and locked inside the transaction: what is decided against is what is there now,
    // whichever office process acts on the case too.
    let mut record = case_in(tx, id, true)
        .await?
        .ok_or_else(|| ActError::NoSuchCase(id.to_string()))?;
    let event = record.case.decide(action, actor, note, now)?;
    insert_event(tx, &record.concern.concern.id.to_string(), &event).await?;
    record.case.record(event);
    Ok(record)
}

/// Erases the phone number and the free text of every case ticked off more than
/// `retention_days` ago (and not reopened since); returns how many concerns lost them. What
/// remains — ticket, category, phrases, place, history — is what the council's figures need.
pub async fn erase_personal_data(
    tx: &mut Tx<'_>,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let cutoff = now - chrono::TimeDelta::days(i64::from(retention_days));
    let due: Vec<String> = cases(tx)
        .await?
        .into_iter()
        .filter(|r| {
            r.case.ticked_off_at.is_some_and(|at| at <= cutoff)
                && (r.concern.concern.phone.is_some() || r.concern.concern.text.is_some())
        })
        .map(|r| r.concern.concern.id.to_string())
        .collect();
    for id in &due {
        tx.execute(
            "UPDATE concerns SET phone = NULL, text = NULL WHERE id = $1",
            &[text(id)],
        )
        .await?;
    }
    Ok(due.len())
}

/// Writes `event` of the case of concern `id`, and notes the change for the status feed,
/// inside `tx`.
pub(super) async fn insert_event(
    tx: &mut Tx<'_>,
    id: &str,
    event: &Event,
) -> Result<(), StorageError> {
    let action_json = serde_json::to_string(&event.action).map_err(|e| StorageError::BadRow {
        id: id.to_string(),
        problem: format!("cannot write the action: {e}"),
    })?;
    let at = event.at.to_rfc3339_opts(SecondsFormat::Secs, true);
    tx.execute(
        "INSERT INTO case_events (concern_id, at, actor, action, from_state, to_state, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            text(id),
            text(&at),
            text(&event.actor),
            text(&action_json),
            text(event.from.code()),
            text(event.to.code()),
            text(&event.note),
        ],
    )
    .await?;
    tx.note_change(id, event.at);
    Ok(())
}

/// The case of the concern with this id; with `lock`, no other office process can change it
/// until `tx` ends.
pub(super) async fn case_in(
    tx: &mut Tx<'_>,
    id: &str,
    lock: bool,
) -> Result<Option<CaseRecord>, StorageError> {
    let Some(concern) = concern_by_id(tx, id, lock).await? else {
        return Ok(None);
    };
    let rows = tx
        .query(
            &format!(
                "SELECT {} FROM case_events WHERE concern_id = $1 ORDER BY seq",
                EventRow::COLUMNS
            ),
            &[text(id)],
        )
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        events.push(EventRow::read_at(row, 0)?.decode()?.1);
    }
    Ok(Some(replayed(concern, events)))
}

pub(super) fn replayed(concern: StoredConcern, events: Vec<Event>) -> CaseRecord {
    let (case, skipped) = Case::replay(filing_of(&concern), events);
    for (event, reason) in skipped {
        warn!(
            ticket = %concern.concern.ticket,
            action = event.action.code(),
            %reason,
            "a stored case event no longer fits the case; it is left out"
        );
    }
    CaseRecord { concern, case }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::concern::Colour;
    use crate::office::database::Database;
    use crate::office::fixtures::{concerns as filed_concerns, office_holding, wait};

    /// An office holding one repairs concern, with a phone number; and the concern's id.
    fn office_with_one_concern() -> (Database, String) {
        let mut concerns = filed_concerns(1, 1);
        concerns[0].phone = Some("13812345678".into());
        (office_holding(&concerns), concerns[0].id.to_string())
    }

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, hour, 0, 0).unwrap()
    }

    #[test]
    fn events_are_kept_and_the_case_is_read_back_from_them() {
        let (db, id) = office_with_one_concern();
        assert_eq!(
            wait(db.case(&id)).unwrap().unwrap().case.state,
            CaseState::New
        );
        wait(db.act(&id, Action::Accept, "council-li", "", at(1))).unwrap();
        wait(db.act(
            &id,
            Action::Recolour { to: Colour::Red },
            "council-li",
            "两家争执",
            at(2),
        ))
        .unwrap();
        let assign = Action::Assign {
            handler: "wuye".into(),
        };
        let now = wait(db.act(&id, assign, "grid-wang", "", at(3))).unwrap();
        assert_eq!(now.case.state, CaseState::Assigned);
        // A fresh read from the database is the same case, history and all.
        let read = wait(db.case(&id)).unwrap().unwrap();
        assert_eq!(read, now);
        assert_eq!(read.case.events.len(), 3);
        assert_eq!(read.case.colour, Colour::Red);
        assert_eq!(read.case.events[1].note, "两家争执");
        assert_eq!(wait(db.cases()).unwrap(), [read]);
    }

    #[test]
    fn phone_and_text_are_erased_the_retention_days_after_tick_off() {
        let (db, id) = office_with_one_concern();
        for (action, actor) in [
            (Action::Accept, "li"),
            (
                Action::Assign {
                    handler: "wuye".into(),
                },
                "li",
            ),
            (
                Action::Answer {
                    reply: "已修好".into(),
                },
                "wuye",
            ),
            (Action::TickOff, "li"),
        ] {
            wait(db.act(&id, action, actor, "", at(1))).unwrap();
        }
        let day = chrono::TimeDelta::days(1);
        assert_eq!(
            wait(db.erase_personal_data(30, at(1) + day * 29)).unwrap(),
            0
        );
        assert_eq!(
            wait(db.erase_personal_data(30, at(1) + day * 30)).unwrap(),
            1
        );
        let kept = wait(db.case(&id)).unwrap().unwrap();
        assert_eq!(
            (kept.concern.concern.phone, kept.concern.concern.text),
            (None, None)
        );
        assert_eq!(kept.concern.concern.ticket, "A1201-001");
        assert_eq!(kept.case.state, CaseState::TickedOff);
    }

    #[test]
    fn an_action_out_of_turn_writes_nothing() {
        let (db, id) = office_with_one_concern();
        let refused = wait(db.act(&id, Action::TickOff, "council-li", "", at(1)));
        assert!(
            matches!(refused, Err(ActError::NotAllowed(_))),
            "{refused:?}"
        );
        assert!(wait(db.case(&id)).unwrap().unwrap().case.events.is_empty());
        let missing = wait(db.act("no-such-id", Action::Accept, "council-li", "", at(1)));
        assert!(matches!(missing, Err(ActError::NoSuchCase(_))));
    }
}
