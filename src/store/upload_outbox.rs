//! The upload outbox: which concerns and residents' ratings the office has not acknowledged
//! yet, the batches they travel in, and retention of personal data after acknowledgement.
//!
//! A concern is `pending` until the office names it in `accepted` or `duplicates`; only then is
//! it `uploaded`. A batch is assembled once by the uploader (`upload::batch`); its bytes are
//! kept here as they are and resent byte for byte, so the office can recognise a retry by its
//! batch id and its concern ids.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::states::{BatchState, OutboxState};
use super::{ConcernRecord, Store, StoreError};
use crate::concern::Rating;
use crate::protocol::wire::{BatchReply, WireRating};

/// A batch as stored: what goes on the wire and where its retries stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBatch {
    pub batch_id: Uuid,
    /// gzip'd JSON, exactly as sent every time.
    pub body: Vec<u8>,
    pub concern_count: u32,
    pub rating_count: u32,
    pub attempts: u32,
    /// UTC text; `None`: at once.
    pub next_attempt_at: Option<String>,
    pub rejected: bool,
}

/// A batch the office refused for good, until staff act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedBatch {
    pub batch_id: Uuid,
    pub concern_count: u32,
    pub error: String,
    pub at: String,
}

/// Where uploading stands, for `doctor`, the staff menu and the daily summary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UploadStatus {
    /// Concerns the office has not acknowledged.
    pub pending_concerns: u32,
    /// Residents' ratings given here that the office has not acknowledged.
    pub waiting_ratings: u32,
    pub rejected: Vec<RejectedBatch>,
    /// When the office last acknowledged a batch (UTC text).
    pub last_success_at: Option<String>,
    /// The last error of a batch still waiting to be retried.
    pub last_retry_error: Option<String>,
}

/// Upload times are kept in UTC so that they compare as text.
pub fn utc_text(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Store {
    /// The oldest batch that is waiting: one already assembled (a retry keeps its id and bytes),
    /// including rejected ones when `include_rejected` (a person asked to send everything now).
    pub fn waiting_batch(&self, include_rejected: bool) -> Result<Option<StoredBatch>, StoreError> {
        // A person asking to send everything includes the rejected batches.
        let also = if include_rejected {
            BatchState::Rejected
        } else {
            BatchState::Pending
        };
        let row = self
            .conn
            .query_row(
                "SELECT batch_id, body, concern_count, attempts, next_attempt_at, state,
                    rating_count
                 FROM upload_batches WHERE state IN (?1, ?2)
                 ORDER BY created_at, batch_id LIMIT 1",
                params![BatchState::Pending, also],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, u32>(2)?,
                        r.get::<_, u32>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, BatchState>(5)?,
                        r.get::<_, u32>(6)?,
                    ))
                },
            )
            .optional()?;
        row.map(
            |(id, body, concern_count, attempts, next_attempt_at, state, rating_count)| {
                Ok(StoredBatch {
                    batch_id: id
                        .parse()
                        .map_err(|_| StoreError::Damaged(format!("batch id `{id}`")))?,
                    body,
                    concern_count,
                    rating_count,
                    attempts,
                    next_attempt_at,
                    rejected: state == BatchState::Rejected,
                })
            },
        )
        .transpose()
    }

    /// The oldest concerns that are in no batch yet, at most `max_concerns`, oldest first by
    /// the outbox's insertion order (through its index: the cost does not grow with the
    /// backlog).
    pub fn unbatched_concerns(&self, max_concerns: u32) -> Result<Vec<ConcernRecord>, StoreError> {
        self.records_where(
            "c.id IN (SELECT concern_id FROM upload_outbox
                      WHERE state = ?2 AND batch_id IS NULL ORDER BY rowid LIMIT ?1)",
            params![max_concerns, OutboxState::Pending],
        )
    }

    /// The oldest ratings given here that are in no batch yet, at most `max_ratings`.
    pub fn unbatched_ratings(&self, max_ratings: u32) -> Result<Vec<WireRating>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT concern_id, ticket, rating, rated_at FROM ratings
             WHERE batch_id IS NULL ORDER BY rowid LIMIT ?1",
        )?;
        let rows = statement.query_map([max_ratings], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (id, ticket, rating, rated_at) = row?;
            let damaged = |what: &str, value: &str| {
                StoreError::Damaged(format!("rating of {ticket}: {what} `{value}`"))
            };
            Ok(WireRating {
                concern_id: id.parse().map_err(|_| damaged("concern id", &id))?,
                rating: Rating::from_code(&rating).ok_or_else(|| damaged("rating", &rating))?,
                rated_at: DateTime::parse_from_rfc3339(&rated_at)
                    .map_err(|_| damaged("rated_at", &rated_at))?,
                ticket: ticket.clone(),
            })
        })
        .collect()
    }

    /// Keeps a new batch, `body` exactly as it will be sent every time, and puts `concerns`
    /// and `ratings` (by concern id) in it, in one transaction. `None` when another process
    /// batched one of them meanwhile: the next round tries again.
    pub fn save_batch(
        &mut self,
        batch_id: Uuid,
        body: Vec<u8>,
        concerns: &[Uuid],
        ratings: &[Uuid],
        now: DateTime<FixedOffset>,
    ) -> Result<Option<StoredBatch>, StoreError> {
        let concern_count = u32::try_from(concerns.len()).unwrap_or(u32::MAX);
        let rating_count = u32::try_from(ratings.len()).unwrap_or(u32::MAX);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO upload_batches (batch_id, created_at, body, concern_count, rating_count)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                batch_id.to_string(),
                utc_text(now),
                body,
                concern_count,
                rating_count
            ],
        )?;
        for concern in concerns {
            // Only a concern still unbatched joins: another process may have taken it meanwhile.
            let joined = tx.execute(
                "UPDATE upload_outbox SET batch_id = ?1
                 WHERE concern_id = ?2 AND state = ?3 AND batch_id IS NULL",
                params![
                    batch_id.to_string(),
                    concern.to_string(),
                    OutboxState::Pending
                ],
            )?;
            if joined == 0 {
                // Rare (two uploaders at once): the transaction rolls back; retry later.
                return Ok(None);
            }
        }
        for rated in ratings {
            let joined = tx.execute(
                "UPDATE ratings SET batch_id = ?1 WHERE concern_id = ?2 AND batch_id IS NULL",
                params![batch_id.to_string(), rated.to_string()],
            )?;
            if joined == 0 {
                return Ok(None);
            }
        }
        tx.commit()?;
        Ok(Some(StoredBatch {
            batch_id,
            body,
            concern_count,
            rating_count,
            attempts: 0,
            next_attempt_at: None,
            rejected: false,
        }))
    }

    /// The office stored the batch: every id it named becomes uploaded, and so does every
    /// rating in it (a 2xx answer is the office's receipt for the ratings: it keeps one per
    /// case), in one transaction; the batch's other concerns go back to the pool and travel in
    /// a later batch. Returns how many concerns were acknowledged and how many stay pending.
    pub fn batch_delivered(
        &mut self,
        batch_id: Uuid,
        reply: &BatchReply,
        now: DateTime<FixedOffset>,
    ) -> Result<(u32, u32), StoreError> {
        let batch = batch_id.to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut acknowledged = 0;
        for id in reply.accepted.iter().chain(&reply.duplicates) {
            acknowledged += tx.execute(
                "UPDATE upload_outbox SET state = ?4, uploaded_at = ?3
                 WHERE concern_id = ?1 AND batch_id = ?2 AND state = ?5",
                params![
                    id.to_string(),
                    batch,
                    utc_text(now),
                    OutboxState::Uploaded,
                    OutboxState::Pending
                ],
            )? as u32;
        }
        let left = tx.execute(
            "UPDATE upload_outbox SET batch_id = NULL WHERE batch_id = ?1 AND state = ?2",
            params![batch, OutboxState::Pending],
        )? as u32;
        tx.execute(
            "UPDATE ratings SET uploaded_at = ?2 WHERE batch_id = ?1 AND uploaded_at IS NULL",
            params![batch, utc_text(now)],
        )?;
        tx.execute(
            "UPDATE upload_batches SET state = ?3, attempts = attempts + 1,
                last_attempt_at = ?2, finished_at = ?2, last_error = NULL
             WHERE batch_id = ?1",
            params![batch, utc_text(now), BatchState::Sent],
        )?;
        tx.commit()?;
        Ok((acknowledged, left))
    }

    /// The attempt failed in a way worth retrying: try again at `next_attempt_at`.
    pub fn batch_retry_later(
        &self,
        batch_id: Uuid,
        error: &str,
        now: DateTime<FixedOffset>,
        next_attempt_at: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE upload_batches SET state = ?5, attempts = attempts + 1,
                last_attempt_at = ?2, next_attempt_at = ?3, last_error = ?4
             WHERE batch_id = ?1",
            params![
                batch_id.to_string(),
                utc_text(now),
                utc_text(next_attempt_at),
                error,
                BatchState::Pending
            ],
        )?;
        Ok(())
    }

    /// The office refused the batch for good: it waits, with every concern, until staff act.
    pub fn batch_rejected(
        &self,
        batch_id: Uuid,
        error: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE upload_batches SET state = ?4, attempts = attempts + 1,
                last_attempt_at = ?2, last_error = ?3
             WHERE batch_id = ?1",
            params![
                batch_id.to_string(),
                utc_text(now),
                error,
                BatchState::Rejected
            ],
        )?;
        Ok(())
    }

    pub fn upload_status(&self) -> Result<UploadStatus, StoreError> {
        let pending_concerns = self.conn.query_row(
            "SELECT count(*) FROM upload_outbox WHERE state = ?1",
            [OutboxState::Pending],
            |r| r.get(0),
        )?;
        let waiting_ratings = self.conn.query_row(
            "SELECT count(*) FROM ratings WHERE uploaded_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        let mut statement = self.conn.prepare(
            "SELECT batch_id, concern_count, coalesce(last_error, ''), coalesce(last_attempt_at, '')
             FROM upload_batches WHERE state = ?1 ORDER BY created_at",
        )?;
        let rejected = statement
            .query_map([BatchState::Rejected], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?
            .map(|row| {
                let (id, concern_count, error, at) = row?;
                Ok(RejectedBatch {
                    batch_id: id
                        .parse()
                        .map_err(|_| StoreError::Damaged(format!("batch id `{id}`")))?,
                    concern_count,
                    error,
                    at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let last_success_at = self.conn.query_row(
            "SELECT max(finished_at) FROM upload_batches WHERE state = ?1",
            [BatchState::Sent],
            |r| r.get(0),
        )?;
        let last_retry_error = self
            .conn
            .query_row(
                "SELECT last_error FROM upload_batches
                 WHERE state = ?1 AND last_error IS NOT NULL
                 ORDER BY last_attempt_at DESC LIMIT 1",
                [BatchState::Pending],
                |r| r.get(0),
            )
            .optional()?;
        Ok(UploadStatus {
            pending_concerns,
            waiting_ratings,
            rejected,
            last_success_at,
            last_retry_error,
        })
    }

    /// Erases the phone number and free text of concerns the office acknowledged at or before
    /// `cutoff`; ticket, category, colour and dates stay for the summaries. Returns how many.
    pub fn erase_personal_data(
        &self,
        cutoff: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE concerns SET phone = NULL, text = NULL, personal_erased_at = ?2
             WHERE personal_erased_at IS NULL
               AND id IN (SELECT concern_id FROM upload_outbox
                          WHERE state = ?3 AND uploaded_at <= ?1)",
            params![utc_text(cutoff), utc_text(now), OutboxState::Uploaded],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::store::test_fixtures::store_with_concerns;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    /// Batches the oldest `n` unbatched concerns as the uploader would, with a stand-in body:
    /// what the bytes are is the uploader's business.
    fn batch_of(store: &mut Store, n: u32, now: DateTime<FixedOffset>) -> StoredBatch {
        let ids: Vec<Uuid> = store
            .unbatched_concerns(n)
            .unwrap()
            .iter()
            .map(|r| r.concern.details.id)
            .collect();
        store
            .save_batch(
                Uuid::now_v7(),
                b"the batch's bytes".to_vec(),
                &ids,
                &[],
                now,
            )
            .unwrap()
            .unwrap()
    }

    fn personal(store: &Store) -> Vec<(Option<String>, Option<String>)> {
        store
            .concerns_between(None, None)
            .unwrap()
            .into_iter()
            .map(|r| (r.concern.details.phone, r.concern.details.text))
            .collect()
    }

    #[test]
    fn a_batch_is_assembled_once_and_its_concerns_wait_for_the_office() {
        let (_dir, mut store) = store_with_concerns(5);
        let now = at("2026-11-26T10:00:00+08:00");
        let batch = batch_of(&mut store, 3, now);
        assert_eq!(batch.concern_count, 3);
        assert_eq!(store.waiting_batch(false).unwrap(), Some(batch.clone()));
        // The same batch comes back until the office answers: a retry keeps id and bytes.
        store
            .batch_retry_later(batch.batch_id, "office down", now, now)
            .unwrap();
        let again = store.waiting_batch(false).unwrap().unwrap();
        assert_eq!((again.batch_id, &again.body), (batch.batch_id, &batch.body));
        assert_eq!(store.upload_status().unwrap().pending_concerns, 5);
    }

    #[test]
    fn ids_the_office_did_not_name_go_back_to_the_pool() {
        let (_dir, mut store) = store_with_concerns(3);
        let now = at("2026-11-26T10:00:00+08:00");
        let batch = batch_of(&mut store, 10, now);
        let ids: Vec<Uuid> = store
            .concerns_between(None, None)
            .unwrap()
            .iter()
            .map(|r| r.concern.details.id)
            .collect();
        let reply = BatchReply {
            accepted: vec![ids[0]],
            duplicates: vec![ids[1]],
        };
        assert_eq!(
            store.batch_delivered(batch.batch_id, &reply, now).unwrap(),
            (2, 1)
        );
        assert_eq!(store.upload_status().unwrap().pending_concerns, 1);
        assert_eq!(store.waiting_batch(false).unwrap(), None);
        let next = batch_of(&mut store, 10, now);
        assert_eq!(next.concern_count, 1);
    }

    #[test]
    fn personal_data_is_erased_only_after_acknowledgement_and_the_retention_days() {
        let (_dir, mut store) = store_with_concerns(2);
        let acknowledged_at = at("2026-11-27T10:00:00+08:00");
        let batch = batch_of(&mut store, 1, acknowledged_at);
        let first = store.concerns_between(None, None).unwrap()[0]
            .concern
            .details
            .id;
        let reply = BatchReply {
            accepted: vec![first],
            duplicates: vec![],
        };
        store
            .batch_delivered(batch.batch_id, &reply, acknowledged_at)
            .unwrap();

        let retention = TimeDelta::days(30);
        let day_29 = acknowledged_at + TimeDelta::days(29);
        assert_eq!(
            store
                .erase_personal_data(day_29 - retention, day_29)
                .unwrap(),
            0
        );
        assert!(
            personal(&store)
                .iter()
                .all(|(phone, text)| phone.is_some() && text.is_some())
        );

        let day_30 = acknowledged_at + TimeDelta::days(30);
        assert_eq!(
            store
                .erase_personal_data(day_30 - retention, day_30)
                .unwrap(),
            1
        );
        let after = personal(&store);
        assert_eq!(after[0], (None, None), "acknowledged 30 days ago: erased");
        assert!(
            after[1].0.is_some() && after[1].1.is_some(),
            "never acknowledged: kept"
        );

        // However long the office stays silent, an unacknowledged concern keeps everything.
        let much_later = acknowledged_at + TimeDelta::days(400);
        store
            .erase_personal_data(much_later - retention, much_later)
            .unwrap();
        assert!(personal(&store)[1].0.is_some());
        let kept = &store.concerns_between(None, None).unwrap()[0];
        assert_eq!(
            kept.concern.ticket, "A1126-001",
            "the ticket stays for the summaries"
        );
        assert!(kept.personal_erased_at.is_some());
    }
}
