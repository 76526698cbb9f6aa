//! The upload outbox: which concerns the office has not acknowledged yet, the batches they
//! travel in, and retention of personal data after acknowledgement.
//!
//! A concern is `pending` until the office names it in `accepted` or `duplicates`; only then is
//! it `uploaded`. A batch is assembled once (its gzip'd JSON stored) and resent byte for byte,
//! so the office can recognise a retry by its batch id and its concern ids.

use std::io::Write;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{Store, StoreError};
use crate::upload::wire::{Batch, BatchReply, SCHEMA, WireConcern};

/// A batch as stored: what goes on the wire and where its retries stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBatch {
    pub batch_id: Uuid,
    /// gzip'd JSON, exactly as sent every time.
    pub body: Vec<u8>,
    pub concern_count: u32,
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
        let states = if include_rejected {
            "('pending', 'rejected')"
        } else {
            "('pending')"
        };
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT batch_id, body, concern_count, attempts, next_attempt_at, state
                     FROM upload_batches WHERE state IN {states}
                     ORDER BY created_at, batch_id LIMIT 1"
                ),
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, u32>(2)?,
                        r.get::<_, u32>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()?;
        row.map(
            |(id, body, concern_count, attempts, next_attempt_at, state)| {
                Ok(StoredBatch {
                    batch_id: id
                        .parse()
                        .map_err(|_| StoreError::Damaged(format!("batch id `{id}`")))?,
                    body,
                    concern_count,
                    attempts,
                    next_attempt_at,
                    rejected: state == "rejected",
                })
            },
        )
        .transpose()
    }

    /// Puts the oldest concerns not yet in a batch into a new one: at most `max_concerns`, and no
    /// more than fit in `max_json_bytes` of JSON. `None` when nothing is waiting (or another
    /// uploader took the same concerns meanwhile: the next round tries again).
    pub fn assemble_batch(
        &mut self,
        kiosk_id: &str,
        max_concerns: u32,
        max_json_bytes: usize,
        now: DateTime<FixedOffset>,
    ) -> Result<Option<StoredBatch>, StoreError> {
        // Oldest first by the outbox's insertion order, through its index: the cost of a batch
        // does not grow with the backlog.
        let records = self.records_where(
            "c.id IN (SELECT concern_id FROM upload_outbox
                      WHERE state = 'pending' AND batch_id IS NULL ORDER BY rowid LIMIT ?1)",
            params![max_concerns],
        )?;
        let mut concerns: Vec<WireConcern> = records
            .iter()
            .map(|r| WireConcern::from(&r.concern))
            .collect();
        if concerns.is_empty() {
            return Ok(None);
        }
        let mut batch = Batch {
            schema: SCHEMA.to_string(),
            kiosk_id: kiosk_id.to_string(),
            batch_id: Uuid::now_v7(),
            sent_at: now,
            concerns: Vec::new(),
        };
        // Whole concerns only: drop from the end until the JSON fits (a concern is ~2 KB at
        // most, far below the limit, so at least one always fits).
        let json = loop {
            batch.concerns = concerns.clone();
            let json = serde_json::to_vec(&batch)
                .map_err(|e| StoreError::Damaged(format!("batch JSON: {e}")))?;
            if json.len() <= max_json_bytes || concerns.len() == 1 {
                break json;
            }
            let keep = (concerns.len() * max_json_bytes / json.len()).clamp(1, concerns.len() - 1);
            concerns.truncate(keep);
        };
        let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
        gzip.write_all(&json)
            .map_err(|e| StoreError::Damaged(format!("gzip: {e}")))?;
        let body = gzip
            .finish()
            .map_err(|e| StoreError::Damaged(format!("gzip: {e}")))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO upload_batches (batch_id, created_at, body, concern_count)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                batch.batch_id.to_string(),
                utc_text(now),
                body,
                batch.concerns.len() as u32
            ],
        )?;
        for concern in &batch.concerns {
            // Only a concern still unbatched joins: another process may have taken it meanwhile.
            let joined = tx.execute(
                "UPDATE upload_outbox SET batch_id = ?1
                 WHERE concern_id = ?2 AND state = 'pending' AND batch_id IS NULL",
                params![batch.batch_id.to_string(), concern.id.to_string()],
            )?;
            if joined == 0 {
                // Rebuilding is rare (two uploaders at once); give up this batch and retry.
                return Ok(None);
            }
        }
        tx.commit()?;
        Ok(Some(StoredBatch {
            batch_id: batch.batch_id,
            body,
            concern_count: batch.concerns.len() as u32,
            attempts: 0,
            next_attempt_at: None,
            rejected: false,
        }))
    }

    /// The office stored the batch: every id it named becomes uploaded, in one transaction;
    /// the batch's other concerns go back to the pool and travel in a later batch. Returns how
    /// many concerns were acknowledged and how many stay pending.
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
                "UPDATE upload_outbox SET state = 'uploaded', uploaded_at = ?3
                 WHERE concern_id = ?1 AND batch_id = ?2 AND state = 'pending'",
                params![id.to_string(), batch, utc_text(now)],
            )? as u32;
        }
        let left = tx.execute(
            "UPDATE upload_outbox SET batch_id = NULL WHERE batch_id = ?1 AND state = 'pending'",
            params![batch],
        )? as u32;
        tx.execute(
            "UPDATE upload_batches SET state = 'sent', attempts = attempts + 1,
                last_attempt_at = ?2, finished_at = ?2, last_error = NULL
             WHERE batch_id = ?1",
            params![batch, utc_text(now)],
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
            "UPDATE upload_batches SET state = 'pending', attempts = attempts + 1,
                last_attempt_at = ?2, next_attempt_at = ?3, last_error = ?4
             WHERE batch_id = ?1",
            params![
                batch_id.to_string(),
                utc_text(now),
                utc_text(next_attempt_at),
                error
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
            "UPDATE upload_batches SET state = 'rejected', attempts = attempts + 1,
                last_attempt_at = ?2, last_error = ?3
             WHERE batch_id = ?1",
            params![batch_id.to_string(), utc_text(now), error],
        )?;
        Ok(())
    }

    pub fn upload_status(&self) -> Result<UploadStatus, StoreError> {
        let pending_concerns = self.conn.query_row(
            "SELECT count(*) FROM upload_outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        let mut statement = self.conn.prepare(
            "SELECT batch_id, concern_count, coalesce(last_error, ''), coalesce(last_attempt_at, '')
             FROM upload_batches WHERE state = 'rejected' ORDER BY created_at",
        )?;
        let rejected = statement
            .query_map([], |r| {
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
            "SELECT max(finished_at) FROM upload_batches WHERE state = 'sent'",
            [],
            |r| r.get(0),
        )?;
        let last_retry_error = self
            .conn
            .query_row(
                "SELECT last_error FROM upload_batches
                 WHERE state = 'pending' AND last_error IS NOT NULL
                 ORDER BY last_attempt_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(UploadStatus {
            pending_concerns,
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
                          WHERE state = 'uploaded' AND uploaded_at <= ?1)",
            params![utc_text(cutoff), utc_text(now)],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::concern::{Draft, Lang};
    use crate::config::Config;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn store_with_concerns(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::demo().unwrap();
        let (mut store, _) = Store::open(dir.path(), at("2026-11-26T09:00:00+08:00")).unwrap();
        for i in 0..n {
            let draft = Draft {
                category: "noise".into(),
                phrases: vec!["1".into()],
                text: Some(format!("楼上装修 {i}")),
                location: None,
                phone: Some("13812345678".into()),
                lang: Lang::ZhCn,
            };
            let filed = at("2026-11-26T09:00:00+08:00") + TimeDelta::minutes(i as i64);
            store
                .file_concern(draft.validate(&config, filed).unwrap(), "A")
                .unwrap();
        }
        (dir, store)
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
        let batch = store
            .assemble_batch("wanjia-01", 3, 1 << 20, now)
            .unwrap()
            .unwrap();
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
        let batch = store
            .assemble_batch("wanjia-01", 10, 1 << 20, now)
            .unwrap()
            .unwrap();
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
        let next = store
            .assemble_batch("wanjia-01", 10, 1 << 20, now)
            .unwrap()
            .unwrap();
        assert_eq!(next.concern_count, 1);
    }

    #[test]
    fn a_batch_never_exceeds_its_json_budget() {
        let (_dir, mut store) = store_with_concerns(20);
        let now = at("2026-11-26T10:00:00+08:00");
        let batch = store
            .assemble_batch("wanjia-01", 100, 4096, now)
            .unwrap()
            .unwrap();
        let mut json = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&batch.body[..]),
            &mut json,
        )
        .unwrap();
        assert!(json.len() <= 4096, "{} bytes", json.len());
        assert!(batch.concern_count >= 1 && batch.concern_count < 20);
    }

    #[test]
    fn personal_data_is_erased_only_after_acknowledgement_and_the_retention_days() {
        let (_dir, mut store) = store_with_concerns(2);
        let acknowledged_at = at("2026-11-27T10:00:00+08:00");
        let batch = store
            .assemble_batch("wanjia-01", 1, 1 << 20, acknowledged_at)
            .unwrap()
            .unwrap();
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
