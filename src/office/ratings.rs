//! Storing a batch whole: its concerns and then the residents' ratings (好差评) it carries,
//! each recorded as a case event by the resident, in the one transaction that stores the
//! batch. A retried batch records no rating twice, and a rating that does not fit its case is
//! left out with a warning: it never costs the batch its concerns.

use chrono::{DateTime, FixedOffset, Utc};
use tracing::{debug, warn};

use super::case_store::{case_in, insert_event};
use super::cases::{Action, COMMUNITY_OFFSET, RESIDENT};
use super::sql::Tx;
use super::storage::{StorageError, StoreBatchError, store_concerns};
use crate::protocol::wire::{Batch, BatchReply, WireRating};

/// Stores a batch in one transaction: its concerns (see `store_concerns`), then each of its
/// ratings that fits its case. The answer names the concerns only; what became of each
/// rating is in the log.
pub async fn store_batch(
    tx: &mut Tx<'_>,
    batch: &Batch,
    json_sha256: &str,
    received_at: DateTime<FixedOffset>,
) -> Result<BatchReply, StoreBatchError> {
    let stored = store_concerns(tx, batch, json_sha256, received_at).await?;
    if stored.retried {
        if !batch.ratings.is_empty() {
            debug!(
                batch = %batch.batch_id,
                "a retried batch: its ratings were recorded when it first arrived"
            );
        }
    } else {
        record_ratings(tx, batch, received_at.with_timezone(&Utc)).await?;
    }
    Ok(stored.reply)
}

/// Records each rating of `batch` that fits its case, as the office receives it at `now`.
async fn record_ratings(
    tx: &mut Tx<'_>,
    batch: &Batch,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    for rating in &batch.ratings {
        let left_out = |reason: &str| {
            warn!(
                kiosk = %batch.kiosk_id,
                ticket = %rating.ticket,
                concern = %rating.concern_id,
                rating = rating.rating.code(),
                "a resident's rating is left out: {reason}"
            );
        };
        let id = rating.concern_id.to_string();
        let Some(record) = case_in(tx, &id, true).await? else {
            left_out("this office holds no such concern");
            continue;
        };
        if record.concern.concern.ticket != rating.ticket {
            left_out(&format!(
                "the concern's ticket is {}",
                record.concern.concern.ticket
            ));
            continue;
        }
        let action = Action::Rate {
            rating: rating.rating,
        };
        match record
            .case
            .decide(action, RESIDENT, &where_and_when(batch, rating), now)
        {
            Ok(event) => insert_event(tx, &id, &event).await?,
            Err(reason) => left_out(&reason.to_string()),
        }
    }
    Ok(())
}

/// The event's note: the kiosk the resident stood at and the time by its clock, since the
/// event itself is dated when the office received it.
fn where_and_when(batch: &Batch, rating: &WireRating) -> String {
    format!(
        "{} {}",
        batch.kiosk_id,
        rating
            .rated_at
            .with_timezone(&COMMUNITY_OFFSET)
            .format("%Y-%m-%d %H:%M")
    )
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone};

    use super::*;
    use crate::concern::Rating;
    use crate::office::cases::CaseState;
    use crate::office::database::Database;
    use crate::office::fixtures::{batch, concerns, filed};
    use crate::office::fixtures::{store, test_db, wait};
    use crate::protocol::wire::WireConcern;

    fn concern(number: u32) -> WireConcern {
        concerns(number, number).remove(0)
    }

    fn rating_of(concern: &WireConcern, rating: Rating) -> WireRating {
        WireRating {
            concern_id: concern.id,
            ticket: concern.ticket.clone(),
            rating,
            rated_at: DateTime::parse_from_rfc3339("2026-12-05T10:00:00+08:00").unwrap(),
        }
    }

    /// An office holding `concern`, answered.
    fn answered(concern: &WireConcern) -> Database {
        let db = test_db();
        store(&db, &batch(vec![concern.clone()], Vec::new()), "a", filed()).unwrap();
        let id = concern.id.to_string();
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap();
        for action in [
            Action::Accept,
            Action::Assign {
                handler: "wuye".into(),
            },
            Action::Answer {
                reply: "已修好".into(),
            },
        ] {
            wait(db.act(&id, action, "li", "", at)).unwrap();
        }
        db
    }

    fn received() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-05T17:30:00+08:00").unwrap()
    }

    #[test]
    fn a_rating_is_recorded_once_even_when_its_batch_comes_again() {
        let rated = concern(1);
        let db = answered(&rated);
        let with_rating = batch(Vec::new(), vec![rating_of(&rated, Rating::Unsatisfied)]);
        for _attempt in 0..2 {
            let reply = store(&db, &with_rating, "b", received()).unwrap();
            assert_eq!(reply, BatchReply::default());
        }
        let case = wait(db.case(&rated.id.to_string())).unwrap().unwrap().case;
        assert_eq!(case.rating, Some(Rating::Unsatisfied));
        assert_eq!(case.state, CaseState::Supervised);
        let rates: Vec<_> = case
            .events
            .iter()
            .filter(|e| e.action.code() == "rate")
            .collect();
        assert_eq!(rates.len(), 1);
        assert_eq!(
            (rates[0].actor.as_str(), rates[0].note.as_str()),
            (RESIDENT, "wanjia-01 2026-12-05 10:00")
        );
    }

    #[test]
    fn ratings_that_do_not_fit_are_left_out_and_the_concerns_are_kept() {
        let rated = concern(1);
        let db = answered(&rated);
        store(
            &db,
            &batch(Vec::new(), vec![rating_of(&rated, Rating::Satisfied)]),
            "b",
            received(),
        )
        .unwrap();
        let unanswered = concern(2);
        let unknown = concern(3);
        let mut wrong_ticket = rating_of(&concern(4), Rating::Fair);
        wrong_ticket.concern_id = unanswered.id;
        let arriving = concern(5);
        let mixed = batch(
            vec![unanswered.clone(), arriving.clone()],
            vec![
                // A second rating of the same case.
                rating_of(&rated, Rating::VeryUnsatisfied),
                // A rating before any answer, of a concern of this same batch.
                rating_of(&unanswered, Rating::Fair),
                rating_of(&unknown, Rating::Fair),
                wrong_ticket,
            ],
        );
        let reply = store(&db, &mixed, "c", received()).unwrap();
        assert_eq!(reply.accepted, [unanswered.id, arriving.id]);
        let case = |c: &WireConcern| wait(db.case(&c.id.to_string())).unwrap().unwrap().case;
        let first = case(&rated);
        assert_eq!(
            (first.rating, first.state),
            (Some(Rating::Satisfied), CaseState::Answered)
        );
        assert_eq!(case(&unanswered).rating, None);
        assert!(case(&arriving).events.is_empty());
    }
}
